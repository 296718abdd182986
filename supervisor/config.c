/*
 * config.c: loads nomaflow.toml (the daemon: store, control socket,
 * worker, pools, directories) and, through jobs.c, every *.toml of its
 * jobs directory into one struct nf_config; frees it.  The loader's
 * conversions are in load.c, the dump in dump.c.
 *
 * Runs in nomaflowd (start, -n, reload on HUP) and nfctl (validate).  It
 * reads files, the environment (${VAR}), the group database (control.group)
 * and the time zone database; it never opens a pool or a socket.
 *
 * Invariants:
 * - Every problem is reported, not just the first: each check appends
 *   "file:line:col: message" to the caller's nf_errs and loading goes on
 *   with the next key, job or file.  nf_config_load() returns NULL as soon
 *   as one error was added, so a half-valid config is never handed out
 *   (reload is all-or-nothing).
 * - A returned nf_config is complete: every default is filled in, every
 *   path is absolute (relative ones are resolved against the directory of
 *   nomaflow.toml, never the daemon's working directory, which may change),
 *   every schedule is parsed, every zone loaded, every sql_query step points
 *   at its pool.  Only worker_path may be NULL: the daemon then looks for
 *   the worker beside its own executable, then in NF_PKGLIBEXECDIR.
 * - The config is immutable once loaded; reload builds a new one.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "config.h"
#include "load.h"
#include "log.h"
#include "policy.h"
#include "steptypes.h"
#include "template.h"
#include "toml.h"
#include "util.h"
#include "val.h"

#ifndef NF_POLICYDIR
#error "NF_POLICYDIR must be defined by the build"
#endif

#define DEF_STATE_DIR		"."
#define DEF_STORE_FILE		"nomaflow.db"
#define DEF_SECRET_KEY_FILE	"secrets.key"
#define DEF_SOCKET_FILE		"nomaflowd.sock"
#define DEF_SOCKET_MODE		0660
#define DEF_JOBS_DIR		"jobs.d"
#define DEF_PYTHON		"/usr/bin/python3"
#define DEF_PLUGINS_DIR		"plugins"
#define DEF_MAX_WORKERS		8
#define DEF_GRACE		5
/* Steps run as this user by default when nomaflowd runs as root. */
#define DEF_RUN_AS		"nomaflow"
#define DEF_SHUTDOWN_GRACE	30
#define DEF_LOG_CAP		(10 * 1024 * 1024)
#define DEF_OUTPUT_MAX_ROWS	100

/* nomaflow.toml ------------------------------------------------------ */

static void
load_store(struct nf_load *ld, const struct nf_toml_value *t)
{
	static const char *const keys[] = { "path", "synchronous", NULL };
	const struct nf_toml_kv *kv;
	char		*s;
	size_t		 i;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "path") == 0)
			nf_load_set_path(ld, kv->val, "store.path",
			    &ld->cfg->store_path);
		else if (strcmp(kv->key, "synchronous") == 0) {
			if ((s = nf_load_str(ld, kv->val,
			    "store.synchronous")) == NULL)
				continue;
			if (strcmp(s, "normal") == 0)
				ld->cfg->store_sync_full = 0;
			else if (strcmp(s, "full") == 0)
				ld->cfg->store_sync_full = 1;
			else
				nf_load_err(ld, kv->val->line, kv->val->col,
				    "store.synchronous must be \"normal\" or "
				    "\"full\", not \"%s\"", s);
			free(s);
		} else
			nf_load_unknown_key(ld, kv, "[store]", keys);
	}
}

/* [secrets]: where the key of the secret store lives (secret.c). */
static void
load_secrets(struct nf_load *ld, const struct nf_toml_value *t)
{
	static const char *const keys[] = { "key_file", NULL };
	const struct nf_toml_kv *kv;
	size_t		 i;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "key_file") == 0)
			nf_load_set_path(ld, kv->val, "secrets.key_file",
			    &ld->cfg->secret_key_file);
		else
			nf_load_unknown_key(ld, kv, "[secrets]", keys);
	}
}

static struct nf_val *
secret_check_cb(void *arg, const char *name, char *err, size_t errlen)
{
	if (nf_load_secret_known != NULL && nf_load_secret_known(name) == 0) {
		snprintf(err, errlen, "${secret.%s}: no secret \"%s\" (set it "
		    "with nfctl secret set %s; nfctl secret list shows them)",
		    name, name, name);
		return NULL;
	}
	return nf_val_str("");
}

/* ${secret.NAME} in a pool's conninfo: well formed, and known. */
static void
check_secret_refs(struct nf_load *ld, const struct nf_toml_value *v,
    const char *s, const char *what)
{
	struct nf_tmpl_ctx	 c;
	char			 err[512], *r;

	memset(&c, 0, sizeof(c));
	c.secret = secret_check_cb;
	if ((r = nf_tmpl_render_secrets(s, &c, err, sizeof(err))) == NULL)
		nf_load_err(ld, v->line, v->col, "%s: %s", what, err);
	free(r);
}

static void
load_control(struct nf_load *ld, const struct nf_toml_value *t)
{
	static const char *const keys[] = { "socket", "mode", "group", NULL };
	const struct nf_toml_kv *kv;
	char		*s, *end;
	long		 mode;
	size_t		 i, n;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "socket") == 0)
			nf_load_set_path(ld, kv->val, "control.socket",
			    &ld->cfg->socket_path);
		else if (strcmp(kv->key, "mode") == 0) {
			/*
			 * A string: a TOML decimal 660 would silently be
			 * mode 01224.
			 */
			if ((s = nf_load_str(ld, kv->val, "control.mode")) ==
			    NULL)
				continue;
			n = strlen(s);
			errno = 0;
			mode = strtol(s, &end, 8);
			if (n < 3 || n > 4 || *end != '\0' || errno != 0 ||
			    s[strspn(s, "01234567")] != '\0' || mode > 0777)
				nf_load_err(ld, kv->val->line, kv->val->col,
				    "control.mode must be an octal permission "
				    "string such as \"0660\", not \"%s\"", s);
			else
				ld->cfg->socket_mode = (int)mode;
			free(s);
		} else if (strcmp(kv->key, "group") == 0) {
			if ((s = nf_load_str(ld, kv->val, "control.group")) ==
			    NULL)
				continue;
			errno = 0;
			if (getgrnam(s) == NULL) {
				if (errno != 0)
					nf_load_err(ld, kv->val->line,
					    kv->val->col, "control.group "
					    "\"%s\": cannot read the group "
					    "database: %s", s, strerror(errno));
				else
					nf_load_err(ld, kv->val->line,
					    kv->val->col, "control.group: no "
					    "group named \"%s\" on this system "
					    "(create it or fix the name)", s);
				free(s);
				continue;
			}
			free(ld->cfg->socket_group);
			ld->cfg->socket_group = s;
		} else
			nf_load_unknown_key(ld, kv, "[control]", keys);
	}
}

/*
 * [web] listen: "HOST:PORT" with a numeric IPv4 host or a bracketed IPv6
 * one.  Numeric only: a name would be resolved at every load, and what
 * the daemon listens on must not depend on DNS.
 */
static int
parse_listen(const char *s, char **host, int *port, char *err, size_t errlen)
{
	const char	*colon, *h, *he;
	unsigned char	 addr[sizeof(struct in6_addr)];
	char		*end, *hs;
	long		 p;
	int		 af;

	if (s[0] == '[') {
		h = s + 1;
		if ((he = strchr(h, ']')) == NULL || he[1] != ':') {
			snprintf(err, errlen, "an IPv6 address is written "
			    "\"[::1]:8080\"");
			return -1;
		}
		colon = he + 1;
		af = AF_INET6;
	} else {
		h = s;
		if ((colon = strrchr(s, ':')) == NULL) {
			snprintf(err, errlen, "missing \":PORT\"");
			return -1;
		}
		he = colon;
		af = AF_INET;
	}
	hs = nf_xstrndup(h, (size_t)(he - h));
	if (inet_pton(af, hs, addr) != 1) {
		snprintf(err, errlen, "\"%s\" is not a numeric %s address "
		    "(write 127.0.0.1, 0.0.0.0 or [::1])", hs,
		    af == AF_INET ? "IPv4" : "IPv6");
		free(hs);
		return -1;
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 1 ||
	    p > 65535) {
		snprintf(err, errlen, "the port must be 1..65535, not \"%s\"",
		    colon + 1);
		free(hs);
		return -1;
	}
	*host = hs;
	*port = (int)p;
	return 0;
}

static void
load_web(struct nf_load *ld, const struct nf_toml_value *t)
{
	static const char *const keys[] = { "listen", "tls_cert", "tls_key",
	    "session_ttl", "trusted_proxies", "user_header", NULL };
	const struct nf_toml_kv *kv, *ckv = NULL;
	const struct nf_toml_value *a;
	struct nf_web_cfg *w = &ld->cfg->web;
	unsigned char	 addr[sizeof(struct in6_addr)];
	char		 err[256], *s;
	size_t		 i, j;
	int		 line, col;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "listen") == 0) {
			if ((s = nf_load_str(ld, kv->val, "web.listen")) ==
			    NULL)
				continue;
			free(w->host);
			w->host = NULL;
			if (parse_listen(s, &w->host, &w->port, err,
			    sizeof(err)) == -1) {
				nf_load_err(ld, kv->val->line, kv->val->col,
				    "web.listen \"%s\": %s", s, err);
				free(s);
				continue;
			}
			free(w->listen);
			w->listen = s;
		} else if (strcmp(kv->key, "tls_cert") == 0 ||
		    strcmp(kv->key, "tls_key") == 0) {
			char **out = kv->key[4] == 'c' ? &w->tls_cert :
			    &w->tls_key;

			if ((s = nf_load_path(ld, kv->val, kv->key[4] == 'c' ?
			    "web.tls_cert" : "web.tls_key")) == NULL)
				continue;
			if (access(s, R_OK) == -1)
				nf_load_err(ld, kv->val->line, kv->val->col,
				    "web.%s %s: %s", kv->key, s,
				    strerror(errno));
			ckv = kv;
			free(*out);
			*out = s;
		} else if (strcmp(kv->key, "session_ttl") == 0)
			nf_load_set_int(ld, kv->val, "web.session_ttl", 60,
			    30 * 86400, &w->session_ttl);
		else if (strcmp(kv->key, "trusted_proxies") == 0) {
			a = kv->val;
			if (a->type != NF_TOML_ARRAY) {
				nf_load_err(ld, a->line, a->col,
				    "web.trusted_proxies must be an array of "
				    "addresses, not %s",
				    nf_load_toml_what(a->type));
				continue;
			}
			for (j = 0; j < a->u.arr.n; j++) {
				if ((s = nf_load_str(ld, a->u.arr.items[j],
				    "web.trusted_proxies[]")) == NULL)
					continue;
				if (inet_pton(AF_INET, s, addr) != 1 &&
				    inet_pton(AF_INET6, s, addr) != 1) {
					nf_load_err(ld, a->u.arr.items[j]->line,
					    a->u.arr.items[j]->col,
					    "web.trusted_proxies: \"%s\" is "
					    "not a numeric IP address", s);
					free(s);
					continue;
				}
				w->trusted_proxies = nf_xreallocarray(
				    w->trusted_proxies,
				    w->ntrusted_proxies + 1,
				    sizeof(*w->trusted_proxies));
				w->trusted_proxies[w->ntrusted_proxies++] = s;
			}
		} else if (strcmp(kv->key, "user_header") == 0) {
			if ((s = nf_load_str(ld, kv->val, "web.user_header"))
			    == NULL)
				continue;
			if (s[0] == '\0' || s[strspn(s, "abcdefghijklmnopqrstu"
			    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")] !=
			    '\0') {
				nf_load_err(ld, kv->val->line, kv->val->col,
				    "web.user_header must be a header name "
				    "(letters, digits, '-'), not \"%s\"", s);
				free(s);
				continue;
			}
			free(w->user_header);
			w->user_header = s;
		} else
			nf_load_unknown_key(ld, kv, "[web]", keys);
	}
	if ((w->tls_cert == NULL) != (w->tls_key == NULL)) {
		nf_load_tab_pos(t, &line, &col);
		if (ckv != NULL) {
			line = ckv->line;
			col = ckv->col;
		}
		nf_load_err(ld, line, col, "[web] needs both tls_cert and "
		    "tls_key for TLS, or neither");
	}
	if (w->listen == NULL && (w->tls_cert != NULL ||
	    w->ntrusted_proxies > 0)) {
		nf_load_tab_pos(t, &line, &col);
		nf_load_err(ld, line, col, "[web] has no listen address: set "
		    "listen = \"127.0.0.1:8080\" to turn the web UI on");
	}
}

/* Resolve name into out; 0, or -1 if there is no such user (errno 0). */
static int
runas_resolve(const char *name, struct nf_runas *out, char *err,
    size_t errlen)
{
	struct passwd	*pw;
	int		 n;

	memset(out, 0, sizeof(*out));
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno != 0)
			snprintf(err, errlen, "cannot look up user \"%s\": %s",
			    name, strerror(errno));
		else
			snprintf(err, errlen, "no user \"%s\" on this system "
			    "(getent passwd %s finds nothing); create it or "
			    "name another", name, name);
		return -1;
	}
	if (strlen(name) >= sizeof(out->name)) {
		snprintf(err, errlen, "user name \"%s\" is too long", name);
		return -1;
	}
	n = NF_RUNAS_GROUPS;
	if (getgrouplist(name, pw->pw_gid, out->groups, &n) == -1) {
		snprintf(err, errlen, "user \"%s\" is in more than %d groups; "
		    "nomaflow cannot switch to it", name, NF_RUNAS_GROUPS);
		return -1;
	}
	out->set = 1;
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	out->ngroups = n;
	return 0;
}

int
nf_load_runas(struct nf_load *ld, const struct nf_toml_value *v,
    const char *what, struct nf_runas *out)
{
	char	*s, err[512];
	int	 rc = 0;

	if ((s = nf_load_str(ld, v, what)) == NULL)
		return -1;
	if (*s == '\0' || runas_resolve(s, out, err, sizeof(err)) == -1) {
		nf_load_err(ld, v->line, v->col, "%s: %s", what, *s == '\0' ?
		    "empty user name" : err);
		memset(out, 0, sizeof(*out));
		rc = -1;
	}
	free(s);
	return rc;
}

/*
 * Who runs steps when nothing says: nomaflowd's own user, except that a
 * root nomaflowd hands them to the "nomaflow" user if there is one (when
 * there is none, steps run as root without capabilities and nomaflowd
 * warns at start).
 */
static void
runas_default(struct nf_config *cfg)
{
	char	err[512];

	if (cfg->run_as.set || geteuid() != 0)
		return;
	if (runas_resolve(DEF_RUN_AS, &cfg->run_as, err, sizeof(err)) == 0) {
		cfg->run_as.implicit = 1;
		return;
	}
	cfg->steps_as_root = 1;	/* nomaflowd warns at start */
}

static void
load_worker(struct nf_load *ld, const struct nf_toml_value *t)
{
	static const char *const keys[] = { "path", "max_concurrent",
	    "grace_seconds", "allow_unsandboxed", "output_max_rows", "run_as",
	    NULL };
	const struct nf_toml_kv *kv;
	struct nf_config *cfg = ld->cfg;
	size_t		 i;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "path") == 0)
			nf_load_set_path(ld, kv->val, "worker.path",
			    &cfg->worker_path);
		else if (strcmp(kv->key, "max_concurrent") == 0)
			nf_load_set_int(ld, kv->val, "worker.max_concurrent", 1,
			    1024, &cfg->max_workers);
		else if (strcmp(kv->key, "grace_seconds") == 0)
			nf_load_set_int(ld, kv->val, "worker.grace_seconds", 0,
			    3600, &cfg->grace_seconds);
		else if (strcmp(kv->key, "allow_unsandboxed") == 0)
			nf_load_set_bool(ld, kv->val,
			    "worker.allow_unsandboxed",
			    &cfg->allow_unsandboxed);
		else if (strcmp(kv->key, "output_max_rows") == 0)
			nf_load_set_int(ld, kv->val, "worker.output_max_rows",
			    0, 100000, &cfg->output_max_rows);
		else if (strcmp(kv->key, "run_as") == 0)
			(void)nf_load_runas(ld, kv->val, "worker.run_as",
			    &cfg->run_as);
		else
			nf_load_unknown_key(ld, kv, "[worker]", keys);
	}
}

static void
load_pool(struct nf_load *ld, const struct nf_toml_kv *pkv)
{
	static const char *const keys[] = { "driver", "path", "conninfo",
	    "max_concurrent", "queries", NULL };
	const struct nf_toml_value *t = pkv->val, *qt = NULL;
	const struct nf_toml_kv *kv, *qkv;
	struct nf_config *cfg = ld->cfg;
	struct nf_pool	*p;
	char		 what[256], where[256], *s;
	size_t		 i;
	int		 line, col, tmpl;

	snprintf(where, sizeof(where), "[pools.%s]", pkv->key);
	if (!nf_valid_ident(pkv->key)) {
		nf_load_err(ld, pkv->line, pkv->col, "pool name \"%s\" may "
		    "only contain letters, digits, \"_\" and \"-\"", pkv->key);
		return;
	}
	snprintf(what, sizeof(what), "pools.%s", pkv->key);
	if (!nf_load_is_table(ld, t, what))
		return;
	cfg->pools = nf_xreallocarray(cfg->pools, cfg->npools + 1,
	    sizeof(*cfg->pools));
	p = &cfg->pools[cfg->npools++];
	memset(p, 0, sizeof(*p));
	p->name = nf_xstrdup(pkv->key);
	p->queries = nf_val_map();
	p->file = nf_xstrdup(ld->file);
	p->line = pkv->line;
	p->col = pkv->col;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		snprintf(what, sizeof(what), "pools.%s.%s", p->name, kv->key);
		if (strcmp(kv->key, "driver") == 0) {
			if ((s = nf_load_str(ld, kv->val, what)) == NULL)
				continue;
			if (strcmp(s, "sqlite") != 0 &&
			    strcmp(s, "postgres") != 0) {
				nf_load_err(ld, kv->val->line, kv->val->col,
				    "%s must be \"sqlite\" or \"postgres\", "
				    "not \"%s\"", what, s);
				free(s);
				continue;
			}
			free(p->driver);
			p->driver = s;
		} else if (strcmp(kv->key, "path") == 0)
			nf_load_set_path(ld, kv->val, what, &p->path);
		else if (strcmp(kv->key, "conninfo") == 0) {
			/* ${secret.NAME} stays for spawn.c to fill in. */
			tmpl = ld->tmpl;
			ld->tmpl = 2;
			s = nf_load_str(ld, kv->val, what);
			ld->tmpl = tmpl;
			if (s != NULL) {
				check_secret_refs(ld, kv->val, s, what);
				free(p->conninfo);
				p->conninfo = s;
			}
		} else if (strcmp(kv->key, "max_concurrent") == 0)
			nf_load_set_int(ld, kv->val, what, 0, 1024,
			    &p->max_concurrent);
		else if (strcmp(kv->key, "queries") == 0) {
			if (nf_load_is_table(ld, kv->val, what))
				qt = kv->val;
		} else
			nf_load_unknown_key(ld, kv, where, keys);
	}

	for (i = 0; qt != NULL && i < qt->u.tab.n; i++) {
		qkv = &qt->u.tab.kv[i];
		if (!nf_load_key_ok(ld, qkv))
			continue;
		if (!nf_valid_ident(qkv->key)) {
			nf_load_err(ld, qkv->line, qkv->col, "query name "
			    "\"%s\" in [pools.%s.queries] may only contain "
			    "letters, digits, \"_\" and \"-\"", qkv->key,
			    p->name);
			continue;
		}
		snprintf(what, sizeof(what), "pools.%s.queries.%s", p->name,
		    qkv->key);
		if ((s = nf_load_str(ld, qkv->val, what)) != NULL) {
			nf_val_map_set_str(p->queries, qkv->key, s);
			free(s);
		}
	}

	nf_load_tab_pos(t, &line, &col);
	if (line == 0) {
		line = pkv->line;
		col = pkv->col;
	}
	if (p->driver == NULL) {
		/* A bad driver value was reported already. */
		if (nf_toml_get(t, "driver") == NULL)
			nf_load_err(ld, line, col, "pool \"%s\" has no driver "
			    "(add driver = \"sqlite\")", p->name);
		return;
	}
	if (strcmp(p->driver, "sqlite") == 0) {
		if (nf_toml_get(t, "path") == NULL)
			nf_load_err(ld, line, col, "sqlite pool \"%s\" needs a "
			    "path (the database file)", p->name);
		if ((kv = nf_toml_get_kv(t, "conninfo")) != NULL)
			nf_load_err(ld, kv->line, kv->col, "conninfo is for "
			    "postgres pools; sqlite pool \"%s\" takes a path",
			    p->name);
	} else {
		if (nf_toml_get(t, "conninfo") == NULL)
			nf_load_err(ld, line, col, "postgres pool \"%s\" needs "
			    "a conninfo (\"host=... dbname=...\")", p->name);
		if ((kv = nf_toml_get_kv(t, "path")) != NULL)
			nf_load_err(ld, kv->line, kv->col, "path is for sqlite "
			    "pools; postgres pool \"%s\" takes a conninfo",
			    p->name);
	}
}

/* Longest retention in days (100 years): past it, say "no limit" (0). */
#define MAX_RETENTION_DAYS	36500
#define MAX_RETENTION_RUNS	100000000

void
nf_load_retention(struct nf_load *ld, const struct nf_toml_value *t,
    const char *what, const char *where, struct nf_retention *r)
{
	static const char *const keys[] = { "runs", "days", "log_days",
	    NULL };
	const struct nf_toml_kv *kv, *dkv = NULL, *lkv = NULL;
	char		 kwhat[512];
	size_t		 i;

	if (!nf_load_is_table(ld, t, what))
		return;
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		snprintf(kwhat, sizeof(kwhat), "%s.%s", what, kv->key);
		if (strcmp(kv->key, "runs") == 0)
			nf_load_set_int(ld, kv->val, kwhat, 0,
			    MAX_RETENTION_RUNS, &r->runs);
		else if (strcmp(kv->key, "days") == 0) {
			nf_load_set_int(ld, kv->val, kwhat, 0,
			    MAX_RETENTION_DAYS, &r->days);
			dkv = kv;
		} else if (strcmp(kv->key, "log_days") == 0) {
			nf_load_set_int(ld, kv->val, kwhat, 0,
			    MAX_RETENTION_DAYS, &r->log_days);
			lkv = kv;
		} else
			nf_load_unknown_key(ld, kv, where, keys);
	}
	/* A log never outlives its run: a longer log_days means nothing. */
	if (dkv != NULL && lkv != NULL && r->days > 0 && r->log_days > 0 &&
	    r->log_days > r->days)
		nf_load_err(ld, lkv->val->line, lkv->val->col, "%s.log_days "
		    "(%d) is longer than %s.days (%d): log lines go with their "
		    "run; lower log_days, or leave it out to keep logs as long "
		    "as runs", what, r->log_days, what, r->days);
}

static void
load_daemon(struct nf_load *ld, const struct nf_toml_value *root)
{
	static const char *const keys[] = { "state_dir", "store", "secrets",
	    "control", "worker", "policies_dir", "jobs_dir", "python",
	    "plugins_dir",
	    "log_level", "shutdown_grace_seconds", "log_cap_bytes", "pools",
	    "retention", "role", "user", "group", "web", NULL };
	const struct nf_toml_kv *kv;
	const struct nf_toml_value *v;
	struct nf_config *cfg = ld->cfg;
	char		*s;
	int64_t		 i64;
	size_t		 i, j;
	int		 lvl;

	/* state_dir first: the defaults of other paths live in it. */
	cfg->state_dir = nf_load_resolve(ld->dir, DEF_STATE_DIR);
	if ((v = nf_toml_get(root, "state_dir")) != NULL)
		nf_load_set_path(ld, v, "state_dir", &cfg->state_dir);

	cfg->store_path = nf_xprintf("%s/%s", cfg->state_dir,
	    DEF_STORE_FILE);
	cfg->socket_path = nf_xprintf("%s/%s", cfg->state_dir,
	    DEF_SOCKET_FILE);
	cfg->secret_key_file = nf_xprintf("%s/%s", cfg->state_dir,
	    DEF_SECRET_KEY_FILE);
	cfg->socket_mode = DEF_SOCKET_MODE;
	cfg->policies_dir = nf_load_resolve(ld->dir, NF_POLICYDIR);
	cfg->jobs_dir = nf_load_resolve(ld->dir, DEF_JOBS_DIR);
	cfg->python_path = nf_xstrdup(DEF_PYTHON);
	cfg->plugins_dir = nf_load_resolve(ld->dir, DEF_PLUGINS_DIR);
	cfg->max_workers = DEF_MAX_WORKERS;
	cfg->log_level = NF_LOG_INFO;
	cfg->grace_seconds = DEF_GRACE;
	cfg->shutdown_grace_seconds = DEF_SHUTDOWN_GRACE;
	cfg->log_cap_bytes = DEF_LOG_CAP;
	cfg->output_max_rows = DEF_OUTPUT_MAX_ROWS;
	cfg->web.session_ttl = NF_WEB_DEF_SESSION_TTL;
	cfg->web.user_header = nf_xstrdup(NF_WEB_DEF_USER_HEADER);

	for (i = 0; i < root->u.tab.n; i++) {
		kv = &root->u.tab.kv[i];
		v = kv->val;
		if (!nf_load_key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "state_dir") == 0)
			continue;
		else if (strcmp(kv->key, "secrets") == 0) {
			if (nf_load_is_table(ld, v, "secrets"))
				load_secrets(ld, v);
		} else if (strcmp(kv->key, "store") == 0) {
			if (nf_load_is_table(ld, v, "store"))
				load_store(ld, v);
		} else if (strcmp(kv->key, "control") == 0) {
			if (nf_load_is_table(ld, v, "control"))
				load_control(ld, v);
		} else if (strcmp(kv->key, "worker") == 0) {
			if (nf_load_is_table(ld, v, "worker"))
				load_worker(ld, v);
		} else if (strcmp(kv->key, "web") == 0) {
			if (nf_load_is_table(ld, v, "web"))
				load_web(ld, v);
		} else if (strcmp(kv->key, "policies_dir") == 0)
			nf_load_set_path(ld, v, "policies_dir",
			    &cfg->policies_dir);
		else if (strcmp(kv->key, "jobs_dir") == 0)
			nf_load_set_path(ld, v, "jobs_dir", &cfg->jobs_dir);
		else if (strcmp(kv->key, "python") == 0) {
			if ((s = nf_load_str(ld, v, "python")) == NULL)
				continue;
			/*
			 * Never a PATH lookup: a shim on PATH costs ~90 ms
			 * per step and is not what the operator audited.
			 */
			if (s[0] != '/') {
				nf_load_err(ld, v->line, v->col, "python must "
				    "be an absolute path such as \"%s\", not "
				    "\"%s\"", DEF_PYTHON, s);
				free(s);
				continue;
			}
			free(cfg->python_path);
			cfg->python_path = s;
		} else if (strcmp(kv->key, "plugins_dir") == 0)
			nf_load_set_path(ld, v, "plugins_dir",
			    &cfg->plugins_dir);
		else if (strcmp(kv->key, "log_level") == 0) {
			if ((s = nf_load_str(ld, v, "log_level")) == NULL)
				continue;
			if ((lvl = nf_log_level_parse(s)) < 0)
				nf_load_err(ld, v->line, v->col, "log_level "
				    "must be one of \"error\", \"warn\", "
				    "\"info\", \"debug\", not \"%s\"", s);
			else
				cfg->log_level = lvl;
			free(s);
		} else if (strcmp(kv->key, "shutdown_grace_seconds") == 0)
			nf_load_set_int(ld, v, "shutdown_grace_seconds", 0,
			    86400, &cfg->shutdown_grace_seconds);
		else if (strcmp(kv->key, "log_cap_bytes") == 0) {
			if (nf_load_int(ld, v, "log_cap_bytes", 4096,
			    INT64_C(1) << 40, &i64) == 0)
				cfg->log_cap_bytes = i64;
		} else if (strcmp(kv->key, "retention") == 0)
			nf_load_retention(ld, v, "retention", "[retention]",
			    &cfg->retention);
		else if (strcmp(kv->key, "pools") == 0) {
			if (!nf_load_is_table(ld, v, "pools"))
				continue;
			for (j = 0; j < v->u.tab.n; j++)
				if (nf_load_key_ok(ld, &v->u.tab.kv[j]))
					load_pool(ld, &v->u.tab.kv[j]);
		} else if (!nf_acl_is_key(kv->key))	/* acl.c reads them */
			nf_load_unknown_key(ld, kv, "the top level of "
			    "nomaflow.toml", keys);
	}
	cfg->acl = nf_acl_load(root, ld->file, ld->errs);
}


static void
check_policies(struct nf_load *ld)
{
	const char	**names;
	const char	*p;
	size_t		 n = 0, i, j, k, cap;
	const struct nf_steptype *type;
	struct nf_policy *pol;

	cap = 2;
	for (i = 0; i < ld->cfg->njobs; i++)
		cap += ld->cfg->jobs[i].nsteps;
	names = nf_xcalloc(cap, sizeof(*names));
	/*
	 * base is what the step policies include and relay is the worker's
	 * own filter while it relays an exec'd child: both are compiled even
	 * if no step names them, so a broken one shows before a job needs
	 * it.
	 */
	names[n++] = "base";
	names[n++] = "relay";
	for (i = 0; i < ld->cfg->njobs; i++) {
		for (j = 0; j < ld->cfg->jobs[i].nsteps; j++) {
			if (ld->cfg->jobs[i].steps[j].type == NULL ||
			    (type = nf_steptype_find(
			    ld->cfg->jobs[i].steps[j].type)) == NULL)
				continue;
			if ((p = type->policy) == NULL)
				continue;	/* in_supervisor: no worker */
			for (k = 0; k < n; k++)
				if (strcmp(names[k], p) == 0)
					break;
			if (k == n)
				names[n++] = p;
		}
	}
	for (i = 0; i < n; i++)
		if ((pol = nf_policy_load(ld->cfg->policies_dir, names[i],
		    ld->errs)) != NULL)
			nf_policy_free(pol);
	free(names);
}

/*
 * The absolute, symlink-free directory of the config file: relative paths
 * in it must not depend on the daemon's working directory, which may
 * change.
 */
static char *
config_dir(const char *path)
{
	char	*dir, *slash, *real;

	dir = nf_xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = nf_xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	/* NULL only if the directory went away since the file was read. */
	real = realpath(dir, NULL);
	free(dir);
	return real;
}

struct nf_config *
nf_config_load(const char *path, int with_policies, struct nf_errs *errs)
{
	struct nf_load		 ld;
	struct nf_toml_value	*root;
	const struct nf_toml_kv	*jkv;
	char			 err[1024];

	memset(&ld, 0, sizeof(ld));
	ld.errs = errs;
	ld.nerrs0 = errs->n;
	ld.file = path;
	if ((root = nf_toml_parse_file(path, err, sizeof(err))) == NULL) {
		nf_errs_add(errs, NULL, 0, 0, "%s", err);
		return NULL;
	}
	if ((ld.dir = config_dir(path)) == NULL) {
		nf_errs_add(errs, path, 0, 0, "cannot resolve the directory of "
		    "the configuration: %s", strerror(errno));
		nf_toml_free(root);
		return NULL;
	}
	ld.cfg = nf_xcalloc(1, sizeof(*ld.cfg));
	ld.cfg->path = nf_xstrdup(path);

	load_daemon(&ld, root);
	if (!nf_load_failed(&ld))
		runas_default(ld.cfg);
	/*
	 * Jobs are checked even when nomaflow.toml had errors, so one
	 * nomaflowd -n lists everything.
	 */
	jkv = nf_toml_get_kv(root, "jobs_dir");
	nf_jobs_load(&ld, jkv ? jkv->val->line : 0, jkv ? jkv->val->col : 0);
	nf_jobs_check_links(&ld);
	ld.file = path;
	if (with_policies)
		check_policies(&ld);

	nf_toml_free(root);
	free(ld.dir);
	if (nf_load_failed(&ld)) {
		nf_config_free(ld.cfg);
		return NULL;
	}
	nf_jobs_index(ld.cfg);
	return ld.cfg;
}

void
nf_config_free(struct nf_config *cfg)
{
	struct nf_pool	*p;
	size_t		 i;

	if (cfg == NULL)
		return;
	nf_jobs_free(cfg);
	nf_acl_free(cfg->acl);
	for (i = 0; i < cfg->npools; i++) {
		p = &cfg->pools[i];
		free(p->name);
		free(p->driver);
		free(p->path);
		free(p->conninfo);
		nf_val_free(p->queries);
		free(p->file);
	}
	free(cfg->pools);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->store_path);
	free(cfg->secret_key_file);
	free(cfg->socket_path);
	free(cfg->socket_group);
	free(cfg->worker_path);
	free(cfg->policies_dir);
	free(cfg->jobs_dir);
	free(cfg->python_path);
	free(cfg->plugins_dir);
	free(cfg->web.listen);
	free(cfg->web.host);
	free(cfg->web.tls_cert);
	free(cfg->web.tls_key);
	for (i = 0; i < cfg->web.ntrusted_proxies; i++)
		free(cfg->web.trusted_proxies[i]);
	free(cfg->web.trusted_proxies);
	free(cfg->web.user_header);
	free(cfg);
}

const struct nf_pool *
nf_config_pool(const struct nf_config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->npools; i++)
		if (strcmp(cfg->pools[i].name, name) == 0)
			return &cfg->pools[i];
	return NULL;
}

