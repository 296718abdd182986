/* supervisor/webui.h */
struct nf_webui_req {             /* filled by web.c */
        const char *path;         /* "/jobs", "/runs", "/runs/42", "/jobs/x/schedule", "/login" */
        const char *query;        /* raw query string or NULL */
        const char *user;         /* NULL: not logged in */
        const char *csrf;         /* the session's token, for forms */
        unsigned    verbs;        /* unused by web; webui asks through the fetch callback */
        /* Runs a control command as this caller (same checks/audit) and returns the reply
         * data (caller frees with nf_val_free) or NULL with *code/err set. */
        struct nf_val *(*fetch)(void *arg, const char *cmd, struct nf_val *args,
                                int *code, char *err, size_t errlen);
        void *arg;
};
/* 0: page rendered into out (HTML, status 200); 404 unknown page; other: HTTP status. */
int nf_webui_page(const struct nf_webui_req *, struct nf_buf *out);
/* Embedded asset by name ("app.js"): bytes, length, content type; NULL if none. */
const unsigned char *nf_webui_asset(const char *name, size_t *len, const char **type);
