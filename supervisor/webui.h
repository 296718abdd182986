/*
 * webui.h: the pages of the web UI (webui.c).  web.c owns HTTP and calls
 * nf_webui_page() for every page route and nf_webui_asset() for /static/.
 */
#ifndef NF_WEBUI_H
#define NF_WEBUI_H

#include <stddef.h>

#include "util.h"
#include "val.h"

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
/*
 * fetch: args is borrowed (the caller frees it), NULL for none; *code is
 * the reply's NF_EXIT_* code.  A command that succeeds without data
 * returns an NF_V_NIL value, never NULL.
 */

/* 0: page rendered into out (HTML, status 200); 404 unknown page; other: HTTP status. */
int nf_webui_page(const struct nf_webui_req *, struct nf_buf *out);
/* Embedded asset by name ("app.js"): bytes, length, content type; NULL if none. */
const unsigned char *nf_webui_asset(const char *name, size_t *len, const char **type);

/*
 * On any status but 0, out holds an HTML error page for that status
 * (saying what went wrong), which web.c may send as the body.  The pages
 * link the assets as /static/NAME?v=VERSION (the version changes with
 * their bytes), so /static/ can be served with immutable cache headers.
 */

/*
 * A cron expression (or "@every 15m") in words: "every day at 02:00",
 * "every 15 minutes"; the expression itself when it has no short wording.
 */
void	nf_webui_cron_words(const char *expr, char *buf, size_t len);

/* The embedded files (web/embed.sh generates the table, NULL-terminated). */
struct nf_webui_file {
	const char		*name;
	const char		*type;
	const unsigned char	*data;
	size_t			 len;
};
extern const struct nf_webui_file nf_webui_files[];

#endif
