/*
 * main.c: nfctl, the operator's control client: the command line and the
 * commands.  Runs as its own short-lived process, never inside nomaflowd.
 *
 * It owns the command line and what each command asks the daemon and
 * shows; the connection is conn.c and the rendering fmt.c.  It holds no
 * state of its own: every fact comes from the daemon in a response, so
 * nfctl, the daemon's log and any later web front end agree.
 *
 * Invariants:
 *  - Exit codes are the enum nf_exit values of proto.h and nothing else
 *    (documented in nfctl(1)); a failed response exits with its "code".
 *  - No mutable state outside main()'s stack: the options live in struct
 *    opts and are passed down with the connection in struct ctx.
 */
#include "autoconf.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "proto.h"
#include "util.h"
#include "val.h"

enum opt_id {
	OPT_JSON = 0,
	OPT_SOCKET,
	OPT_HELP,
	OPT_VERSION,
	OPT_TAG,
	OPT_SEARCH,
	OPT_PARAM,
	OPT_FOLLOW,
	OPT_FORCE,
	OPT_JOB,
	OPT_STATE,
	OPT_SINCE,
	OPT_LIMIT,
	OPT_COUNT,
	OPT_PRESET,
	OPT_TZ,
	OPT_FROM,
	OPT_USER,
	OPT_DRY_RUN,
	OPT_BEFORE,
	OPT_MAX
};
#define OPTB(o)		(1u << (o))
#define OPTS_GLOBAL	(OPTB(OPT_JSON) | OPTB(OPT_SOCKET) | OPTB(OPT_HELP) | \
			    OPTB(OPT_VERSION))

struct optdef {
	enum opt_id	 id;
	const char	*lng;
	int		 shrt;
	int		 arg;
};

/*
 * One table for every command: no two commands give the same letter a
 * different meaning, so options may appear anywhere on the line (before or
 * after the command) and are checked against the command afterwards.
 */
static const struct optdef optdefs[] = {
	{ OPT_JSON,	"json",		0,	0 },
	{ OPT_SOCKET,	"socket",	's',	1 },
	{ OPT_HELP,	"help",		'h',	0 },
	{ OPT_VERSION,	"version",	0,	0 },
	{ OPT_TAG,	"tag",		0,	1 },
	{ OPT_SEARCH,	"search",	0,	1 },
	{ OPT_PARAM,	"param",	'p',	1 },
	{ OPT_FOLLOW,	"follow",	'f',	0 },
	{ OPT_FORCE,	"force",	0,	0 },
	{ OPT_JOB,	"job",		0,	1 },
	{ OPT_STATE,	"state",	0,	1 },
	{ OPT_SINCE,	"since",	0,	1 },
	{ OPT_LIMIT,	"limit",	0,	1 },
	{ OPT_COUNT,	"count",	'n',	1 },
	{ OPT_PRESET,	"preset",	0,	1 },
	{ OPT_TZ,	"tz",		0,	1 },
	{ OPT_FROM,	"from",		0,	1 },
	{ OPT_USER,	"user",		0,	1 },
	{ OPT_DRY_RUN,	"dry-run",	0,	0 },
	{ OPT_BEFORE,	"before",	0,	1 },
};

struct cmd {
	const char	*name;
	const char	*synopsis;
	const char	*what;
	int		 nargs;
	unsigned	 opts;
	int		(*fn)(struct ctx *);
};

static int	cmd_status(struct ctx *);
static int	cmd_jobs(struct ctx *);
static int	cmd_job_show(struct ctx *);
static int	cmd_job_enable(struct ctx *);
static int	cmd_job_disable(struct ctx *);
static int	cmd_run(struct ctx *);
static int	cmd_runs(struct ctx *);
static int	cmd_run_show(struct ctx *);
static int	cmd_logs(struct ctx *);
static int	cmd_cancel(struct ctx *);
static int	cmd_next(struct ctx *);
static int	cmd_cron(struct ctx *);
static int	cmd_reload(struct ctx *);
static int	cmd_validate(struct ctx *);
static int	cmd_pool_test(struct ctx *);
static int	cmd_audit(struct ctx *);
static int	cmd_metrics(struct ctx *);
static int	cmd_secret_set(struct ctx *);
static int	cmd_secret_list(struct ctx *);
static int	cmd_secret_rm(struct ctx *);
static int	cmd_secret_rotate(struct ctx *);
static int	cmd_user_passwd(struct ctx *);
static int	cmd_user_list(struct ctx *);
static int	cmd_user_rm(struct ctx *);
static int	cmd_prune(struct ctx *);

static const struct cmd cmds[] = {
	{ "status", "status", "daemon, store and configuration health",
	    0, 0, cmd_status },
	{ "jobs", "jobs [--tag TAG] [--search TEXT]", "list jobs",
	    0, OPTB(OPT_TAG) | OPTB(OPT_SEARCH), cmd_jobs },
	{ "job show", "job show JOB", "one job: schedule, retry, steps, "
	    "next fires", 1, 0, cmd_job_show },
	{ "job enable", "job enable JOB", "let schedules, catch-up and "
	    "dependencies fire the job again (persisted)", 1, 0,
	    cmd_job_enable },
	{ "job disable", "job disable JOB", "stop scheduled fires of the "
	    "job; manual runs still work (persisted)", 1, 0,
	    cmd_job_disable },
	{ "run", "run JOB [-p KEY=VALUE]... [--preset NAME] [-f] [--force]",
	    "trigger a run (-f: follow its log to the end)",
	    1, OPTB(OPT_PARAM) | OPTB(OPT_FOLLOW) | OPTB(OPT_FORCE) |
	    OPTB(OPT_PRESET), cmd_run },
	{ "runs", "runs [--job JOB] [--state STATE] [--since TIME] "
	    "[--limit N] [--before RUN]", "list runs, newest first "
	    "(--before: the page after the one whose last run was RUN)",
	    0, OPTB(OPT_JOB) | OPTB(OPT_STATE) | OPTB(OPT_SINCE) |
	    OPTB(OPT_LIMIT) | OPTB(OPT_BEFORE), cmd_runs },
	{ "run show", "run show RUN", "one run: steps, attempts, reasons, "
	    "outputs", 1, 0, cmd_run_show },
	{ "logs", "logs RUN [-f]", "print a run's log (-f: follow it live "
	    "until the run ends)", 1, OPTB(OPT_FOLLOW), cmd_logs },
	{ "cancel", "cancel RUN", "cancel a queued or running run",
	    1, 0, cmd_cancel },
	{ "next", "next JOB [-n N]", "the next N fire times of a job "
	    "(default 5)", 1, OPTB(OPT_COUNT), cmd_next },
	{ "cron", "cron EXPR [--tz ZONE] [-n N] [--from TIME]", "the next N "
	    "fire times of a cron expression or @every interval (default 5)",
	    1, OPTB(OPT_COUNT) | OPTB(OPT_TZ) | OPTB(OPT_FROM), cmd_cron },
	{ "reload", "reload", "reload the configuration (all or nothing)",
	    0, 0, cmd_reload },
	{ "validate", "validate", "check the configuration on disk without "
	    "applying it", 0, 0, cmd_validate },
	{ "prune", "prune [--dry-run]", "apply the retention limits now "
	    "(--dry-run: only count what would go)", 0, OPTB(OPT_DRY_RUN),
	    cmd_prune },
	{ "pool test", "pool test POOL", "connect to a pool and run a trivial "
	    "query in a worker", 1, 0, cmd_pool_test },
	{ "audit", "audit [--since TIME] [--user USER] [--job JOB] "
	    "[--limit N]", "the audit trail of control actions, newest first",
	    0, OPTB(OPT_SINCE) | OPTB(OPT_USER) | OPTB(OPT_JOB) |
	    OPTB(OPT_LIMIT), cmd_audit },
	{ "metrics", "metrics", "the daemon's metrics in the Prometheus text "
	    "format (what GET /metrics serves)", 0, 0, cmd_metrics },
	{ "secret set", "secret set NAME", "store a secret, its value read "
	    "from stdin (or asked twice on a terminal), never from arguments",
	    1, 0, cmd_secret_set },
	{ "secret list", "secret list", "names and dates of the stored "
	    "secrets (never their values)", 0, 0, cmd_secret_list },
	{ "secret rm", "secret rm NAME", "remove a secret", 1, 0,
	    cmd_secret_rm },
	{ "secret rotate-key", "secret rotate-key", "new key, every secret "
	    "re-sealed under it (crash-safe)", 0, 0, cmd_secret_rotate },
	{ "user passwd", "user passwd NAME", "set the password of a web UI "
	    "account, read from stdin (or asked twice on a terminal), never "
	    "from arguments", 1, 0, cmd_user_passwd },
	{ "user list", "user list", "the web UI accounts and when their "
	    "passwords changed", 0, 0, cmd_user_list },
	{ "user rm", "user rm NAME", "remove a web UI account (its sessions "
	    "end)", 1, 0, cmd_user_rm },
};

static const char *const run_states[] = {
	"queued", "running", "succeeded", "failed", "canceled", "skipped",
};

static void
usage_all(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: nfctl [-s SOCKET] [--json] COMMAND [ARGS]\n\n"
	    "commands:\n");
	for (i = 0; i < NF_NELEM(cmds); i++)
		fprintf(f, "  %s\n      %s\n", cmds[i].synopsis, cmds[i].what);
	fprintf(f, "  help [COMMAND]\n      this text\n\n"
	    "The socket is -s SOCKET, else $%s, else %s/%s.\n"
	    "See nfctl(1) for output formats and exit codes.\n",
	    NFCTL_SOCKET_ENV, NF_RUNSTATEDIR, NFCTL_SOCKET_NAME);
}

static int
usage_cmd(const struct cmd *cmd)
{
	fprintf(stderr, "usage: nfctl [-s SOCKET] [--json] %s\n",
	    cmd->synopsis);
	return NF_EXIT_USAGE;
}

/* Command line. */

static const struct optdef *
opt_find_long(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(optdefs); i++)
		if (strlen(optdefs[i].lng) == len &&
		    strncmp(optdefs[i].lng, name, len) == 0)
			return &optdefs[i];
	return NULL;
}

static const struct optdef *
opt_find_short(int c)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(optdefs); i++)
		if (optdefs[i].shrt == c)
			return &optdefs[i];
	return NULL;
}

static const char *
opt_name(enum opt_id id, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(optdefs); i++)
		if (optdefs[i].id == id) {
			if (optdefs[i].shrt != 0)
				snprintf(buf, len, "-%c/--%s", optdefs[i].shrt,
				    optdefs[i].lng);
			else
				snprintf(buf, len, "--%s", optdefs[i].lng);
			return buf;
		}
	return "?";
}

static int
opt_param(struct opts *o, const char *kv)
{
	const char	*eq;
	char		*key;

	eq = strchr(kv, '=');
	if (eq == NULL || eq == kv) {
		errmsg("-p %s: expected KEY=VALUE (for example -p "
		    "date=2026-11-28)", kv);
		return -1;
	}
	key = nf_xstrndup(kv, eq - kv);
	if (o->params == NULL)
		o->params = nf_val_map();
	if (nf_val_get(o->params, key) != NULL) {
		errmsg("-p %s: parameter \"%s\" given twice", kv, key);
		free(key);
		return -1;
	}
	nf_val_map_set_str(o->params, key, eq + 1);
	free(key);
	return 0;
}

static int
opt_set(struct opts *o, const struct optdef *d, const char *arg)
{
	o->seen |= OPTB(d->id);
	switch (d->id) {
	case OPT_JSON:
		o->json = 1;
		break;
	case OPT_SOCKET:
		if (*arg == '\0') {
			errmsg("-s: empty socket path");
			return -1;
		}
		o->socket = arg;
		break;
	case OPT_HELP:
		o->help = 1;
		break;
	case OPT_VERSION:
		o->version = 1;
		break;
	case OPT_TAG:
		o->tag = arg;
		break;
	case OPT_SEARCH:
		o->search = arg;
		break;
	case OPT_PARAM:
		return opt_param(o, arg);
	case OPT_FOLLOW:
		o->follow = 1;
		break;
	case OPT_FORCE:
		o->force = 1;
		break;
	case OPT_DRY_RUN:
		o->dry_run = 1;
		break;
	case OPT_PRESET:
		o->preset = arg;
		break;
	case OPT_TZ:
		o->tz = arg;
		break;
	case OPT_FROM:
		o->from = arg;
		break;
	case OPT_USER:
		o->user = arg;
		break;
	case OPT_JOB:
		o->job = arg;
		break;
	case OPT_STATE:
		o->state = arg;
		break;
	case OPT_SINCE:
		o->since = arg;
		break;
	case OPT_LIMIT:
		o->limit = arg;
		break;
	case OPT_BEFORE:
		o->before = arg;
		break;
	case OPT_COUNT:
		o->count = arg;
		break;
	case OPT_MAX:
		nf_panic("opt_set: OPT_MAX");
	}
	return 0;
}

/*
 * Options and positionals in any order ("nfctl run demo -p a=1 --json"),
 * "--" ends options, an option's argument is taken verbatim even when it
 * starts with '-' ("--since -2h").  Returns 0 or -1 after a message.
 */
static int
parse_args(struct opts *o, int argc, char **argv)
{
	const struct optdef	*d;
	const char		*a, *eq, *val;
	int			 i, j, dashdash = 0;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (o->npos == NFCTL_MAXPOS) {
				errmsg("too many arguments (\"%s\")", a);
				return -1;
			}
			o->pos[o->npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			d = opt_find_long(a + 2,
			    eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2));
			if (d == NULL) {
				errmsg("unknown option %s (nfctl help lists "
				    "them)", a);
				return -1;
			}
			val = NULL;
			if (d->arg) {
				if (eq != NULL)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else {
					errmsg("option --%s needs a value",
					    d->lng);
					return -1;
				}
			} else if (eq != NULL) {
				errmsg("option --%s takes no value", d->lng);
				return -1;
			}
			if (opt_set(o, d, val) == -1)
				return -1;
			continue;
		}
		/* Bundled short options: "-fn3" is -f -n 3. */
		for (j = 1; a[j] != '\0'; j++) {
			d = opt_find_short((unsigned char)a[j]);
			if (d == NULL) {
				errmsg("unknown option -%c (nfctl help lists "
				    "them)", a[j]);
				return -1;
			}
			val = NULL;
			if (d->arg) {
				if (a[j + 1] != '\0')
					val = a + j + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else {
					errmsg("option -%c needs a value",
					    d->shrt);
					return -1;
				}
			}
			if (opt_set(o, d, val) == -1)
				return -1;
			if (val != NULL)
				break;
		}
	}
	return 0;
}

/* Which command do the positionals name?  *nwords: words it used. */
static const struct cmd *
find_cmd(const struct opts *o, int *nwords)
{
	const char	*name;
	size_t		 i;
	char		 two[64];

	if (o->npos == 0)
		return NULL;
	name = o->pos[0];
	*nwords = 1;
	/*
	 * "run show RUN" has three words; "run show" alone runs the job
	 * named "show", which is a valid job id.
	 */
	if ((strcmp(name, "job") == 0 && o->npos >= 2 &&
	    (strcmp(o->pos[1], "enable") == 0 ||
	    strcmp(o->pos[1], "disable") == 0)) ||
	    (strcmp(name, "pool") == 0 && o->npos >= 2 &&
	    strcmp(o->pos[1], "test") == 0) ||
	    (strcmp(name, "secret") == 0 && o->npos >= 2) ||
	    (strcmp(name, "user") == 0 && o->npos >= 2)) {
		snprintf(two, sizeof(two), "%s %s", o->pos[0], o->pos[1]);
		name = two;
		*nwords = 2;
	} else if ((strcmp(name, "job") == 0 && o->npos >= 2 &&
	    strcmp(o->pos[1], "show") == 0) ||
	    (strcmp(name, "run") == 0 && o->npos == 3 &&
	    strcmp(o->pos[1], "show") == 0)) {
		snprintf(two, sizeof(two), "%s show", name);
		name = two;
		*nwords = 2;
	}
	for (i = 0; i < NF_NELEM(cmds); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static int
check_job_id(const char *id)
{
	if (!nf_valid_ident(id)) {
		errmsg("\"%s\" is not a job id (letters, digits, '_' and '-')",
		    id);
		return -1;
	}
	return 0;
}

static int
parse_run_id(const char *s, int64_t *id)
{
	long long	v;

	if (*s == '#')
		s++;
	if (nf_parse_int(s, 1, INT64_MAX, &v) == -1) {
		errmsg("\"%s\" is not a run number (see nfctl runs)", s);
		return -1;
	}
	*id = v;
	return 0;
}

/* Commands. */

static int
cmd_status(struct ctx *x)
{
	const struct nf_val	*store, *rl, *errs;
	struct nf_val		*d;
	char			 t[64], up[32], *s;
	int64_t			 v, started, at, pid;
	int			 rc, ok;
	size_t			 i;

	if ((rc = request(x, "status", NULL, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_MAP, "status")) != 0) {
		nf_val_free(d);
		return rc;
	}
	s = val_text(nf_val_get(d, "version"));
	printf("nomaflowd %s", s);
	free(s);
	if (vint(d, "pid", &pid))
		printf(", pid %" PRId64, pid);
	if (vint(d, "started_at", &started)) {
		fmt_time(started, t, sizeof(t));
		nf_fmt_duration(nf_now_ms() - started, up, sizeof(up));
		printf(", up %s (since %s)", up, t);
	}
	printf("\n");
	s = val_text(nf_val_get(d, "config"));
	field("config:", "%s", s);
	free(s);
	store = vget(d, "store", NF_V_MAP);
	if (store != NULL) {
		s = val_text(nf_val_get(store, "path"));
		if (nf_val_get_bool(store, "ok", &ok) && ok)
			field("store:", "%s (ok)", s);
		else
			field("store:", "%s: FAILING: %s", s,
			    vstr(store, "error", "no reason given"));
		free(s);
	}
	rl = vget(d, "last_reload", NF_V_MAP);
	if (rl != NULL && vint(rl, "at", &at)) {
		fmt_time(at, t, sizeof(t));
		if (nf_val_get_bool(rl, "ok", &ok) && ok)
			field("last reload:", "%s, ok", t);
		else {
			field("last reload:", "%s, REJECTED (the previous "
			    "configuration is still running):", t);
			errs = vget(rl, "errors", NF_V_ARR);
			for (i = 0; errs != NULL && i < errs->u.a.n; i++) {
				s = val_text(errs->u.a.items[i]);
				printf("    %s\n", s);
				free(s);
			}
		}
	} else
		field("last reload:", "never");
	if (vint(d, "jobs", &v))
		field("jobs:", "%" PRId64, v);
	if (vint(d, "runs_running", &v)) {
		int64_t q = 0;

		(void)vint(d, "queued", &q);
		field("runs:", "%" PRId64 " running, %" PRId64 " queued", v,
		    q);
	}
	if (vint(d, "workers", &v))
		field("workers:", "%" PRId64, v);
	if ((store = vget(d, "you", NF_V_MAP)) != NULL)
		field("you:", "%s; roles: %s", vstr(store, "identity", "?"),
		    *vstr(store, "roles", "") != '\0' ? vstr(store, "roles",
		    "") : "none");
	nf_val_free(d);
	return 0;
}

static char *
schedule_text(const struct nf_val *job)
{
	const struct nf_val	*s;

	s = nf_val_get(job, "schedule");
	if (s == NULL || s->type == NF_V_NIL ||
	    (s->type == NF_V_ARR && s->u.a.n == 0))
		return nf_xstrdup("manual");
	if (s->type == NF_V_ARR)
		return list_text(s);
	return val_text(s);
}

/* "#17 succeeded" from a last_run map, or "-". */
static char *
last_run_text(const struct nf_val *job)
{
	const struct nf_val	*lr;
	int64_t			 id;

	lr = vget(job, "last_run", NF_V_MAP);
	if (lr == NULL || !vint(lr, "id", &id))
		return nf_xstrdup("-");
	return nf_xprintf("#%" PRId64 " %s", id, vstr(lr, "state", "?"));
}

static int
cmd_jobs(struct ctx *x)
{
	static const char	*head[] = { "ID", "SCHEDULE", "TZ", "NEXT",
				    "LAST RUN", "TAGS", "DESCRIPTION" };
	struct table		 t;
	struct nf_val		*args, *d;
	const struct nf_val	*j;
	char			*row[7], buf[64];
	int64_t			 next;
	int			 rc, en;
	size_t			 i;

	args = nf_val_map();
	if (x->o->tag != NULL)
		nf_val_map_set_str(args, "tag", x->o->tag);
	if (x->o->search != NULL)
		nf_val_map_set_str(args, "search", x->o->search);
	if ((rc = request(x, "jobs", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_ARR, "jobs")) != 0) {
		nf_val_free(d);
		return rc;
	}
	if (d->u.a.n == 0) {
		printf(x->o->tag != NULL || x->o->search != NULL ?
		    "no job matches\n" : "no jobs configured\n");
		nf_val_free(d);
		return 0;
	}
	table_init(&t, head, 7, "lllllll", 6);
	for (i = 0; i < d->u.a.n; i++) {
		j = d->u.a.items[i];
		if (j->type != NF_V_MAP)
			continue;
		row[0] = val_text(nf_val_get(j, "id"));
		row[1] = schedule_text(j);
		row[2] = val_text(nf_val_get(j, "timezone"));
		if (nf_val_get_bool(j, "enabled", &en) && !en)
			row[3] = nf_xstrdup("disabled");
		else if (vint(j, "next_fire", &next)) {
			fmt_time(next, buf, sizeof(buf));
			row[3] = nf_xstrdup(buf);
		} else
			row[3] = nf_xstrdup("-");
		row[4] = last_run_text(j);
		row[5] = list_text(vget(j, "tags", NF_V_ARR));
		row[6] = val_text(nf_val_get(j, "description"));
		table_row(&t, row);
	}
	table_print(&t, x, "");
	table_free(&t);
	nf_val_free(d);
	return 0;
}

static int
cmd_job_show(struct ctx *x)
{
	static const char	*head[] = { "#", "STEP", "TYPE", "ENABLED",
				    "TIMEOUT", "SPEC" };
	struct table		 t;
	struct nf_val		*args, *d;
	const struct nf_val	*retry, *steps, *st, *fires, *params, *lr;
	const char		*s2;
	char			*row[6], *s, *ds, buf[64], b2[32];
	int64_t			 v, a, base, max;
	int			 rc, en;
	size_t			 i;

	if (check_job_id(x->args[0]) == -1)
		return NF_EXIT_USAGE;
	args = nf_val_map();
	nf_val_map_set_str(args, "id", x->args[0]);
	if ((rc = request(x, "job.show", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_MAP, "job.show")) != 0) {
		nf_val_free(d);
		return rc;
	}
	s = val_text(nf_val_get(d, "id"));
	printf("job %s", s);
	free(s);
	if (vstr(d, "description", NULL) != NULL) {
		s = val_text(nf_val_get(d, "description"));
		printf(": %s", s);
		free(s);
	}
	printf("\n");
	s = schedule_text(d);
	field("schedule:", "%s (%s)", s, vstr(d, "timezone", "local time"));
	free(s);
	field("enabled:", "%s", nf_val_get_bool(d, "enabled", &en) && !en ?
	    "no (cron does not fire it; manual runs still work)" : "yes");
	s = list_text(vget(d, "tags", NF_V_ARR));
	field("tags:", "%s", s);
	free(s);
	params = vget(d, "params", NF_V_MAP);
	if (params != NULL && params->u.m.n > 0) {
		for (i = 0; i < params->u.m.n; i++) {
			s = val_text(params->u.m.kv[i].val);
			field(i == 0 ? "params:" : "", "%s = %s",
			    params->u.m.kv[i].key, s);
			free(s);
		}
	} else
		field("params:", "-");
	retry = vget(d, "retry", NF_V_MAP);
	if (retry != NULL && vint(retry, "attempts", &a) && a > 1) {
		struct nf_buf	rb;

		nf_buf_init(&rb);
		nf_buf_printf(&rb, "%" PRId64 " attempts", a);
		if (vstr(retry, "backoff", NULL) != NULL)
			nf_buf_printf(&rb, ", %s backoff",
			    vstr(retry, "backoff", ""));
		if (vint(retry, "base_seconds", &base)) {
			fmt_seconds(base, buf, sizeof(buf));
			nf_buf_printf(&rb, " from %s", buf);
		}
		if (vint(retry, "max_seconds", &max) && max > 0) {
			fmt_seconds(max, buf, sizeof(buf));
			nf_buf_printf(&rb, " up to %s", buf);
		}
		s = text_clean(rb.data, CLEAN_ONELINE);
		field("retry:", "%s", s);
		free(s);
		nf_buf_free(&rb);
	} else
		field("retry:", "none (1 attempt)");
	if (vint(d, "timeout_seconds", &v) && v > 0) {
		fmt_seconds(v, buf, sizeof(buf));
		field("timeout:", "%s", buf);
	} else
		field("timeout:", "none");
	if ((s2 = vstr(d, "overlap", NULL)) != NULL)
		field("overlap:", "%s", s2);
	if ((s2 = vstr(d, "catchup", NULL)) != NULL) {
		fmt_seconds(vint(d, "catchup_window", &v) ? v : 0, buf,
		    sizeof(buf));
		field("catchup:", "%s within %s", s2, buf);
	}
	if (vint(d, "jitter", &v) && v > 0) {
		fmt_seconds(v, buf, sizeof(buf));
		field("jitter:", "up to %s", buf);
	}
	lr = vget(d, "after", NF_V_ARR);
	if (lr != NULL && lr->u.a.n > 0) {
		s = list_text(lr);
		field("after:", "%s (on %s)", s, vstr(d, "after_on",
		    "success"));
		free(s);
	}
	lr = vget(d, "presets", NF_V_ARR);
	for (i = 0; lr != NULL && i < lr->u.a.n; i++) {
		st = lr->u.a.items[i];
		if (st->type != NF_V_MAP)
			continue;
		s = val_text(nf_val_get(st, "name"));
		ds = text_clean(vstr(st, "description", ""), CLEAN_ONELINE);
		field(i == 0 ? "presets:" : "", "%s: %s%s%s", s,
		    vstr(st, "schedule", "manual"), *ds != '\0' ? " - " : "",
		    ds);
		free(ds);
		free(s);
	}
	s = val_text(nf_val_get(d, "file"));
	field("file:", "%s", s);
	free(s);
	lr = vget(d, "last_run", NF_V_MAP);
	if (lr != NULL && vint(lr, "id", &v)) {
		s = time_text(lr, "finished_at", 0);
		field("last run:", "#%" PRId64 " %s%s%s", v,
		    vstr(lr, "state", "?"), strcmp(s, "-") != 0 ? " at " : "",
		    strcmp(s, "-") != 0 ? s : "");
		free(s);
	} else
		field("last run:", "never");
	fires = vget(d, "next_fires", NF_V_ARR);
	if (fires == NULL || fires->u.a.n == 0)
		field("next fires:", "none");
	for (i = 0; fires != NULL && i < fires->u.a.n; i++) {
		if (fires->u.a.items[i]->type != NF_V_INT)
			continue;
		fmt_time(fires->u.a.items[i]->u.i, buf, sizeof(buf));
		field(i == 0 ? "next fires:" : "", "%s", buf);
	}

	steps = vget(d, "steps", NF_V_ARR);
	if (steps != NULL && steps->u.a.n > 0) {
		printf("\n");
		table_init(&t, head, 6, "rlllll", 5);
		for (i = 0; i < steps->u.a.n; i++) {
			st = steps->u.a.items[i];
			if (st->type != NF_V_MAP)
				continue;
			row[0] = nf_xprintf("%zu", i + 1);
			row[1] = val_text(nf_val_get(st, "name"));
			row[2] = val_text(nf_val_get(st, "type"));
			row[3] = nf_xstrdup(nf_val_get_bool(st, "enabled",
			    &en) && !en ? "no" : "yes");
			if (vint(st, "timeout_seconds", &v) && v > 0) {
				fmt_seconds(v, b2, sizeof(b2));
				row[4] = nf_xstrdup(b2);
			} else
				row[4] = nf_xstrdup("-");
			row[5] = val_text(nf_val_get(st, "spec"));
			if (nf_val_get_str(st, "when") != NULL) {
				s = row[5];
				row[5] = nf_xprintf("when %s; %s",
				    nf_val_get_str(st, "when"), s);
				free(s);
			}
			table_row(&t, row);
		}
		table_print(&t, x, "");
		table_free(&t);
	}
	nf_val_free(d);
	return 0;
}

static int
cmd_run(struct ctx *x)
{
	struct nf_val	*args, *d;
	const char	*job = x->args[0];
	int64_t		 run_id;
	int		 rc;

	if (check_job_id(job) == -1)
		return NF_EXIT_USAGE;
	args = nf_val_map();
	nf_val_map_set_str(args, "job", job);
	if (x->o->params != NULL) {
		nf_val_map_set(args, "params", x->o->params);
		x->o->params = NULL;
	}
	if (x->o->force)
		nf_val_map_set_bool(args, "force", 1);
	if (x->o->preset != NULL)
		nf_val_map_set_str(args, "preset", x->o->preset);
	if ((rc = request(x, "run", args, &d, NULL)) != 0)
		return rc;
	if (!vint(d, "run_id", &run_id)) {
		rc = expect(NULL, NF_V_MAP, "run");
		nf_val_free(d);
		return rc;
	}
	if (x->o->json) {
		print_json(d, x->o->follow ? -1 : 2);
		nf_val_free(d);
		if (!x->o->follow)
			return 0;
	} else {
		nf_val_free(d);
		if (!x->o->follow) {
			printf("run #%" PRId64 " of %s triggered\n", run_id,
			    job);
			if (x->tty)
				printf("follow it: nfctl logs -f %" PRId64
				    "\n", run_id);
			return 0;
		}
		fprintf(stderr, "run #%" PRId64 " of %s triggered, following "
		    "its log (Ctrl-C stops following, not the run)\n",
		    run_id, job);
	}
	return follow(x, run_id);
}

static char *
state_text(const struct nf_val *rv)
{
	const char	*state, *reason;
	char		*r, *s;

	state = vstr(rv, "state", "?");
	reason = vstr(rv, "reason", NULL);
	if (reason != NULL && strcmp(reason, state) != 0)
		r = nf_xprintf("%s (%s)", state, reason);
	else
		r = nf_xstrdup(state);
	s = text_clean(r, CLEAN_ONELINE);
	free(r);
	return s;
}

static int
cmd_runs(struct ctx *x)
{
	static const char	*head[] = { "RUN", "JOB", "STATE", "TRIGGER",
				    "PRESET", "BY", "CREATED", "DURATION",
				    "ROWS", "ERROR" };
	struct table		 t;
	struct nf_val		*args, *d;
	const struct nf_val	*r;
	char			*row[10];
	int64_t			 since, v;
	long long		 limit, before;
	int			 rc;
	size_t			 i;

	args = nf_val_map();
	if (x->o->job != NULL) {
		if (check_job_id(x->o->job) == -1) {
			nf_val_free(args);
			return NF_EXIT_USAGE;
		}
		nf_val_map_set_str(args, "job", x->o->job);
	}
	if (x->o->state != NULL) {
		for (i = 0; i < NF_NELEM(run_states); i++)
			if (strcmp(run_states[i], x->o->state) == 0)
				break;
		if (i == NF_NELEM(run_states)) {
			errmsg("--state %s: not a run state (queued, running, "
			    "succeeded, failed, canceled, skipped)",
			    x->o->state);
			nf_val_free(args);
			return NF_EXIT_USAGE;
		}
		nf_val_map_set_str(args, "state", x->o->state);
	}
	if (x->o->since != NULL) {
		if (nf_parse_time(x->o->since, &since) == -1) {
			errmsg("--since %s: not a time (use 2026-11-29, "
			    "\"2026-11-29 04:19\", 2026-11-29T04:19:48Z, "
			    "epoch seconds, or -30m, -2h, -7d)", x->o->since);
			nf_val_free(args);
			return NF_EXIT_USAGE;
		}
		nf_val_map_set_int(args, "since", since);
	}
	if (x->o->limit != NULL) {
		if (nf_parse_int(x->o->limit, 1, 100000, &limit) == -1) {
			errmsg("--limit %s: expected a number from 1 to "
			    "100000", x->o->limit);
			nf_val_free(args);
			return NF_EXIT_USAGE;
		}
		nf_val_map_set_int(args, "limit", limit);
	}
	/* Keyset paging: the smallest run number of the previous page. */
	if (x->o->before != NULL) {
		if (nf_parse_int(x->o->before, 1, LLONG_MAX, &before) == -1) {
			errmsg("--before %s: expected a run number (the last "
			    "one of the previous page)", x->o->before);
			nf_val_free(args);
			return NF_EXIT_USAGE;
		}
		nf_val_map_set_int(args, "before", before);
	}
	if ((rc = request(x, "runs", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_ARR, "runs")) != 0) {
		nf_val_free(d);
		return rc;
	}
	if (d->u.a.n == 0) {
		printf("no runs match\n");
		nf_val_free(d);
		return 0;
	}
	table_init(&t, head, 10, "rlllllllrl", 9);
	for (i = 0; i < d->u.a.n; i++) {
		r = d->u.a.items[i];
		if (r->type != NF_V_MAP)
			continue;
		row[0] = val_text(nf_val_get(r, "id"));
		row[1] = val_text(nf_val_get(r, "job_id"));
		row[2] = state_text(r);
		row[3] = val_text(nf_val_get(r, "trigger"));
		row[4] = vstr(r, "preset", NULL) != NULL ?
		    val_text(nf_val_get(r, "preset")) : nf_xstrdup("-");
		row[5] = val_text(nf_val_get(r, "triggered_by"));
		row[6] = time_text(r, "created_at", 0);
		row[7] = span_text(r, "started_at", "finished_at");
		row[8] = vint(r, "rows_affected", &v) && v >= 0 ?
		    nf_xprintf("%" PRId64, v) : nf_xstrdup("-");
		row[9] = vstr(r, "error", NULL) != NULL ?
		    val_text(nf_val_get(r, "error")) : nf_xstrdup("");
		table_row(&t, row);
	}
	table_print(&t, x, "");
	table_free(&t);
	nf_val_free(d);
	return 0;
}

static int
cmd_run_show(struct ctx *x)
{
	static const char	*head[] = { "STEP", "TYPE", "TRY", "STATE",
				    "EXIT", "STARTED", "DURATION", "ROWS",
				    "ERROR" };
	struct table		 t;
	struct nf_val		*args, *d;
	const struct nf_val	*att, *a, *params;
	char			*row[9], *s, *s2, buf[64];
	const char		*sn;
	int64_t			 run_id, v, st;
	int			 rc;
	size_t			 i;

	if (parse_run_id(x->args[0], &run_id) == -1)
		return NF_EXIT_USAGE;
	args = nf_val_map();
	nf_val_map_set_int(args, "run_id", run_id);
	if ((rc = request(x, "run.show", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_MAP, "run.show")) != 0) {
		nf_val_free(d);
		return rc;
	}
	s = val_text(nf_val_get(d, "job_id"));
	s2 = state_text(d);
	printf("run #%" PRId64 " of job %s: %s\n", run_id, s, s2);
	free(s);
	free(s2);
	s = val_text(nf_val_get(d, "trigger"));
	s2 = val_text(nf_val_get(d, "triggered_by"));
	field("trigger:", "%s by %s", s, s2);
	free(s);
	free(s2);
	if (vstr(d, "preset", NULL) != NULL) {
		s = val_text(nf_val_get(d, "preset"));
		field("preset:", "%s", s);
		free(s);
	}
	if (vint(d, "scheduled_for", &v)) {
		fmt_time(v * 1000, buf, sizeof(buf));
		field("scheduled:", "%s", buf);
	}
	s = time_text(d, "created_at", 0);
	field("created:", "%s", s);
	free(s);
	s = time_text(d, "started_at", 0);
	field("started:", "%s", s);
	free(s);
	if (vint(d, "finished_at", &v)) {
		s = time_text(d, "finished_at", 0);
		s2 = span_text(d, "started_at", "finished_at");
		field("finished:", "%s (took %s)", s, s2);
		free(s);
		free(s2);
	} else if (vint(d, "started_at", &st)) {
		nf_fmt_duration(nf_now_ms() - st, buf, sizeof(buf));
		field("finished:", "not yet (running for %s)", buf);
	}
	/* The running step's last progress (sql_copy). */
	if (vint(vget(d, "progress", NF_V_MAP), "rows", &v)) {
		st = 0;
		(void)vint(vget(d, "progress", NF_V_MAP), "rate", &st);
		field("progress:", "%" PRId64 " rows, %" PRId64 " rows/s", v,
		    st);
	}
	if (vint(d, "rows_affected", &v) && v >= 0)
		field("rows:", "%" PRId64, v);
	params = vget(d, "params", NF_V_MAP);
	for (i = 0; params != NULL && i < params->u.m.n; i++) {
		s = val_text(params->u.m.kv[i].val);
		field(i == 0 ? "params:" : "", "%s = %s",
		    params->u.m.kv[i].key, s);
		free(s);
	}
	if (vstr(d, "error", NULL) != NULL) {
		s = text_clean(vstr(d, "error", ""), CLEAN_ONELINE);
		field("error:", "%s", s);
		free(s);
	}

	att = vget(d, "attempts", NF_V_ARR);
	if (att == NULL || att->u.a.n == 0) {
		printf("\nno step has started\n");
		nf_val_free(d);
		return 0;
	}
	printf("\n");
	table_init(&t, head, 9, "llrllllrl", 8);
	for (i = 0; i < att->u.a.n; i++) {
		a = att->u.a.items[i];
		if (a->type != NF_V_MAP)
			continue;
		row[0] = val_text(nf_val_get(a, "step"));
		row[1] = val_text(nf_val_get(a, "type"));
		row[2] = val_text(nf_val_get(a, "attempt"));
		row[3] = state_text(a);
		if (vint(a, "signal", &v) && v > 0)
			row[4] = (sn = signame(v)) != NULL ? nf_xstrdup(sn) :
			    nf_xprintf("signal %" PRId64, v);
		else if (vint(a, "exit_code", &v))
			row[4] = nf_xprintf("%" PRId64, v);
		else
			row[4] = nf_xstrdup("-");
		if (vint(a, "started_at", &v)) {
			fmt_clock(v, buf, sizeof(buf));
			row[5] = nf_xstrdup(buf);
		} else
			row[5] = nf_xstrdup("-");
		row[6] = span_text(a, "started_at", "finished_at");
		row[7] = vint(a, "rows_affected", &v) && v >= 0 ?
		    nf_xprintf("%" PRId64, v) : nf_xstrdup("-");
		row[8] = vstr(a, "error", NULL) != NULL ?
		    val_text(nf_val_get(a, "error")) : nf_xstrdup("");
		table_row(&t, row);
	}
	table_print(&t, x, "");
	table_free(&t);

	for (i = 0; i < att->u.a.n; i++) {
		const struct nf_val *out;

		a = att->u.a.items[i];
		if (a->type != NF_V_MAP)
			continue;
		out = nf_val_get(a, "output");
		if (out == NULL || out->type == NF_V_NIL)
			continue;
		s = val_text(nf_val_get(a, "step"));
		s2 = val_text(nf_val_get(a, "attempt"));
		printf("\noutput of %s (attempt %s):\n", s, s2);
		free(s);
		free(s2);
		print_output(x, out);
	}
	nf_val_free(d);
	return 0;
}

static int
cmd_logs(struct ctx *x)
{
	struct nf_val		*args, *d;
	const struct nf_val	*lines;
	const char		*state;
	char			 when[64];
	int64_t			 run_id, pruned;
	int			 rc;
	size_t			 i;

	if (parse_run_id(x->args[0], &run_id) == -1)
		return NF_EXIT_USAGE;
	if (x->o->follow)
		return follow(x, run_id);
	args = nf_val_map();
	nf_val_map_set_int(args, "run_id", run_id);
	if ((rc = request(x, "logs", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_MAP, "logs")) != 0) {
		nf_val_free(d);
		return rc;
	}
	lines = vget(d, "lines", NF_V_ARR);
	for (i = 0; lines != NULL && i < lines->u.a.n; i++)
		print_log_line(x, lines->u.a.items[i]);
	/* An empty output would read as a run that logged nothing. */
	if (vint(d, "log_pruned_at", &pruned)) {
		fmt_time(pruned, when, sizeof(when));
		printf("log pruned by retention on %s (the run is kept: nfctl "
		    "run show %" PRId64 ")\n", when, run_id);
	}
	state = vstr(d, "state", NULL);
	if (state != NULL && isatty(STDERR_FILENO) &&
	    (strcmp(state, "running") == 0 || strcmp(state, "queued") == 0)) {
		fflush(stdout);
		fprintf(stderr, "run #%" PRId64 " is %s; nfctl logs -f %"
		    PRId64 " follows it\n", run_id, state, run_id);
	}
	nf_val_free(d);
	return 0;
}

static int
cmd_cancel(struct ctx *x)
{
	struct nf_val	*args, *d;
	int64_t		 run_id;
	int		 rc;

	if (parse_run_id(x->args[0], &run_id) == -1)
		return NF_EXIT_USAGE;
	args = nf_val_map();
	nf_val_map_set_int(args, "run_id", run_id);
	if ((rc = request(x, "cancel", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json)
		print_json(d, 2);
	else
		printf("run #%" PRId64 ": cancel requested (nfctl run show %"
		    PRId64 " shows its final state)\n", run_id, run_id);
	nf_val_free(d);
	return 0;
}

static int
job_toggle(struct ctx *x, const char *cmd, const char *what)
{
	struct nf_val	*args, *d;
	int		 rc;

	if (check_job_id(x->args[0]) == -1)
		return NF_EXIT_USAGE;
	args = nf_val_map();
	nf_val_map_set_str(args, "id", x->args[0]);
	if ((rc = request(x, cmd, args, &d, NULL)) != 0)
		return rc;
	if (x->o->json)
		print_json(d, 2);
	else
		printf("job %s %s\n", x->args[0], what);
	nf_val_free(d);
	return 0;
}

static int
cmd_pool_test(struct ctx *x)
{
	struct nf_val	*args, *d = NULL;
	int64_t		 ms = 0;
	int		 rc;

	args = nf_val_map();
	nf_val_map_set_str(args, "name", x->args[0]);
	if ((rc = request(x, "pool.test", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json)
		print_json(d, 2);
	else {
		vint(d, "elapsed_ms", &ms);
		printf("pool %s (%s): ok, connected and ran a query in "
		    "%" PRId64 " ms\n", x->args[0], vstr(d, "driver", "?"),
		    ms);
	}
	nf_val_free(d);
	return 0;
}

/*
 * prune [--dry-run]: one line per job that lost (or would lose) runs or
 * log lines, then the total.  The daemon answers when its pass ends.
 */
static int
cmd_prune(struct ctx *x)
{
	static const char	*head[] = { "JOB", "RUNS", "LOGS", "LINES" };
	static const char	*dhead[] = { "JOB", "RUNS", "LOGS" };
	const struct nf_val	*jobs, *j;
	struct nf_val		*args, *d = NULL;
	struct table		 t;
	char			*cells[4];
	int64_t			 runs = 0, logs = 0, lines = 0, v;
	int			 dry = x->o->dry_run, rc;
	size_t			 i;

	args = nf_val_map();
	if (dry)
		nf_val_map_set_bool(args, "dry_run", 1);
	if ((rc = request(x, "prune", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_MAP, "prune")) != 0) {
		nf_val_free(d);
		return rc;
	}
	jobs = vget(d, "jobs", NF_V_ARR);
	vint(d, "runs", &runs);
	vint(d, "logs", &logs);
	vint(d, "lines", &lines);
	if (jobs != NULL && jobs->u.a.n > 0) {
		table_init(&t, dry ? dhead : head, dry ? 3 : 4, "lrrr", -1);
		for (i = 0; i < jobs->u.a.n; i++) {
			j = jobs->u.a.items[i];
			cells[0] = nf_xstrdup(vstr(j, "job", "?"));
			v = 0;
			vint(j, "runs", &v);
			cells[1] = nf_xprintf("%" PRId64, v);
			v = 0;
			vint(j, "logs", &v);
			cells[2] = nf_xprintf("%" PRId64, v);
			v = 0;
			vint(j, "lines", &v);
			cells[3] = dry ? NULL : nf_xprintf("%" PRId64, v);
			table_row(&t, cells);
		}
		table_print(&t, x, "");
		table_free(&t);
	}
	if (dry)
		printf("would prune %" PRId64 " run%s and the log lines of %"
		    PRId64 " more\n", runs, runs == 1 ? "" : "s", logs);
	else
		printf("pruned %" PRId64 " run%s and the log lines of %" PRId64
		    " more (%" PRId64 " log line%s)\n", runs,
		    runs == 1 ? "" : "s", logs, lines, lines == 1 ? "" : "s");
	nf_val_free(d);
	return 0;
}

static int
cmd_job_enable(struct ctx *x)
{
	return job_toggle(x, "job.enable", "enabled: schedules fire it "
	    "(missed slots follow its catchup policy)");
}

static int
cmd_job_disable(struct ctx *x)
{
	return job_toggle(x, "job.disable", "disabled: no scheduled fires "
	    "until nfctl job enable; manual runs still work");
}

/*
 * Fire times from next and cron: local time in the schedule's zone, its
 * abbreviation and offset, UTC, and a note on fires DST moved or repeated,
 * explained once below the table.
 */
static void
print_fires(struct ctx *x, const struct nf_val *d)
{
	static const char	*head[] = { "LOCAL", "ZONE", "UTC", "NOTE",
				    "SCHEDULE" };
	struct table		 t;
	const struct nf_val	*f, *fl;
	char			*row[5];
	const char		*s;
	size_t			 i, k, ncol = 4;
	int			 gap = 0, rep = 0;
	struct nf_buf		 b;

	for (i = 0; i < d->u.a.n; i++)
		if (d->u.a.items[i]->type == NF_V_MAP &&
		    nf_val_get(d->u.a.items[i], "schedule") != NULL)
			ncol = 5;
	table_init(&t, head, ncol, "lllll", ncol == 5 ? 4 : 3);
	for (i = 0; i < d->u.a.n; i++) {
		f = d->u.a.items[i];
		if (f->type != NF_V_MAP)
			continue;
		row[0] = val_text(nf_val_get(f, "local"));
		nf_buf_init(&b);
		if ((s = nf_val_get_str(f, "zone")) != NULL)
			nf_buf_printf(&b, "%s ", s);
		if ((s = nf_val_get_str(f, "offset")) != NULL)
			nf_buf_adds(&b, s);
		row[1] = nf_buf_steal(&b);
		row[2] = val_text(nf_val_get(f, "utc"));
		nf_buf_init(&b);
		nf_buf_adds(&b, "");
		fl = vget(f, "flags", NF_V_ARR);
		for (k = 0; fl != NULL && k < fl->u.a.n; k++) {
			if (fl->u.a.items[k]->type != NF_V_STR)
				continue;
			s = fl->u.a.items[k]->u.s.p;
			if (strcmp(s, "dst-gap") == 0) {
				gap = 1;
				s = "DST gap: moved";
			} else if (strcmp(s, "dst-repeat") == 0) {
				rep = 1;
				s = "DST repeated hour";
			}
			nf_buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", s);
		}
		row[3] = nf_buf_steal(&b);
		if (ncol == 5)
			row[4] = nf_val_get(f, "schedule") != NULL ?
			    val_text(nf_val_get(f, "schedule")) :
			    nf_xstrdup("");
		table_row(&t, row);
	}
	table_print(&t, x, "");
	table_free(&t);
	if (gap)
		printf("DST gap: the wall time does not exist that day (clocks "
		    "go forward); a fixed-time entry fires once, at the first "
		    "instant after the gap.\n");
	if (rep)
		printf("DST repeated hour: the wall time occurs twice (clocks "
		    "go back); a fixed-time entry fires at the first, other "
		    "entries at each.\n");
}

static int
cmd_next(struct ctx *x)
{
	struct nf_val		*args, *d;
	long long		 n = 5;
	int			 rc;

	if (check_job_id(x->args[0]) == -1)
		return NF_EXIT_USAGE;
	if (x->o->count != NULL &&
	    nf_parse_int(x->o->count, 1, 1000, &n) == -1) {
		errmsg("-n %s: expected a number from 1 to 1000", x->o->count);
		return NF_EXIT_USAGE;
	}
	args = nf_val_map();
	nf_val_map_set_str(args, "id", x->args[0]);
	nf_val_map_set_int(args, "n", n);
	if ((rc = request(x, "next", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_ARR, "next")) != 0) {
		nf_val_free(d);
		return rc;
	}
	if (d->u.a.n == 0)
		printf("%s has no upcoming fire (manual only, disabled, or "
		    "its schedule never matches)\n", x->args[0]);
	else
		print_fires(x, d);
	nf_val_free(d);
	return 0;
}

/* The daemon parses and computes: the same code as the scheduler. */
static int
cmd_cron(struct ctx *x)
{
	struct nf_val		*args, *d;
	long long		 n = 5;
	int			 rc;

	if (x->o->count != NULL &&
	    nf_parse_int(x->o->count, 1, 1000, &n) == -1) {
		errmsg("-n %s: expected a number from 1 to 1000", x->o->count);
		return NF_EXIT_USAGE;
	}
	args = nf_val_map();
	nf_val_map_set_str(args, "expr", x->args[0]);
	nf_val_map_set_int(args, "n", n);
	if (x->o->tz != NULL)
		nf_val_map_set_str(args, "tz", x->o->tz);
	if (x->o->from != NULL)
		nf_val_map_set_str(args, "from", x->o->from);
	if ((rc = request(x, "cron", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_ARR, "cron")) != 0) {
		nf_val_free(d);
		return rc;
	}
	if (d->u.a.n == 0)
		printf("\"%s\" never fires (no matching date within five "
		    "years)\n", x->args[0]);
	else
		print_fires(x, d);
	nf_val_free(d);
	return 0;
}

/* reload and validate: data {ok, errors[]}; not ok exits 1. */
static int
config_check(struct ctx *x, const char *cmd, const char *okmsg,
    const char *badmsg)
{
	struct nf_val		*d;
	const struct nf_val	*errs;
	char			*s;
	int			 rc, ok;
	size_t			 i;

	if ((rc = request(x, cmd, NULL, &d, NULL)) != 0)
		return rc;
	if ((rc = expect(d, NF_V_MAP, cmd)) != 0) {
		nf_val_free(d);
		return rc;
	}
	if (!nf_val_get_bool(d, "ok", &ok))
		ok = 0;
	if (x->o->json)
		print_json(d, 2);
	else if (ok)
		printf("%s\n", okmsg);
	else {
		errs = vget(d, "errors", NF_V_ARR);
		fflush(stdout);
		for (i = 0; errs != NULL && i < errs->u.a.n; i++) {
			s = val_text(errs->u.a.items[i]);
			fprintf(stderr, "%s\n", s);
			free(s);
		}
		errmsg("%s (%zu error%s)", badmsg, errs != NULL ?
		    errs->u.a.n : 0, errs != NULL && errs->u.a.n == 1 ? "" :
		    "s");
	}
	nf_val_free(d);
	return ok ? NF_EXIT_OK : NF_EXIT_FAILED;
}

static int
cmd_reload(struct ctx *x)
{
	return config_check(x, "reload", "configuration reloaded",
	    "reload rejected; the previous configuration keeps running");
}

static int
cmd_validate(struct ctx *x)
{
	return config_check(x, "validate", "configuration is valid",
	    "configuration is not valid; fix the errors above, then nfctl "
	    "reload");
}

static int
cmd_audit(struct ctx *x)
{
	static const char	*head[] = { "ID", "TIME", "USER", "ACTION",
				    "TARGET", "RESULT", "DETAIL" };
	struct table		 t;
	struct nf_val		*args, *d;
	const struct nf_val	*r;
	char			*row[7];
	int64_t			 since;
	long long		 limit;
	int			 rc;
	size_t			 i;

	args = nf_val_map();
	if (x->o->job != NULL)
		nf_val_map_set_str(args, "job", x->o->job);
	if (x->o->user != NULL)
		nf_val_map_set_str(args, "user", x->o->user);
	if (x->o->since != NULL) {
		if (nf_parse_time(x->o->since, &since) == -1) {
			errmsg("--since %s: not a time (use 2026-11-29, "
			    "\"2026-11-29 04:19\", 2026-11-29T04:19:48Z, "
			    "epoch seconds, or -30m, -2h, -7d)", x->o->since);
			nf_val_free(args);
			return NF_EXIT_USAGE;
		}
		nf_val_map_set_int(args, "since", since);
	}
	if (x->o->limit != NULL) {
		if (nf_parse_int(x->o->limit, 1, 10000, &limit) == -1) {
			errmsg("--limit %s: expected a number from 1 to "
			    "10000", x->o->limit);
			nf_val_free(args);
			return NF_EXIT_USAGE;
		}
		nf_val_map_set_int(args, "limit", limit);
	}
	if ((rc = request(x, "audit", args, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_ARR, "audit")) != 0) {
		nf_val_free(d);
		return rc;
	}
	if (d->u.a.n == 0) {
		printf("no audit entries match\n");
		nf_val_free(d);
		return 0;
	}
	table_init(&t, head, 7, "rllllll", 6);
	for (i = 0; i < d->u.a.n; i++) {
		r = d->u.a.items[i];
		if (r->type != NF_V_MAP)
			continue;
		row[0] = val_text(nf_val_get(r, "id"));
		row[1] = time_text(r, "ts", 1);
		row[2] = val_text(nf_val_get(r, "user"));
		row[3] = val_text(nf_val_get(r, "action"));
		row[4] = val_text(nf_val_get(r, "target"));
		row[5] = val_text(nf_val_get(r, "result"));
		row[6] = val_text(nf_val_get(r, "detail"));
		table_row(&t, row);
	}
	table_print(&t, x, "");
	table_free(&t);
	nf_val_free(d);
	return 0;
}

/* The text as the daemon renders it: a scraper or grep reads it as is. */
static int
cmd_metrics(struct ctx *x)
{
	struct nf_val	*d;
	int		 rc;

	if ((rc = request(x, "metrics", NULL, &d, NULL)) != 0)
		return rc;
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if ((rc = expect(d, NF_V_STR, "metrics")) != 0) {
		nf_val_free(d);
		return rc;
	}
	fwrite(d->u.s.p, 1, d->u.s.len, stdout);
	nf_val_free(d);
	return 0;
}

/*
 * Secrets and passwords.  A value never travels in argv (ps and shell
 * history see it): it is read from stdin, or asked twice with echo off on
 * a terminal.  cmd ("secret set", "user passwd") and name make the
 * messages, prompt the first question.
 */
#define NFCTL_SECRET_MAX	32768

static char *
secret_prompt(const char *cmd, const char *prompt, const char *name)
{
	struct termios	 t, off;
	char		*a = NULL, *b = NULL, *line;
	size_t		 cap;
	ssize_t		 n;
	int		 i;

	if (tcgetattr(STDIN_FILENO, &t) == -1) {
		errmsg("cannot read the terminal's settings: %s",
		    strerror(errno));
		return NULL;
	}
	off = t;
	off.c_lflag &= ~(tcflag_t)ECHO;
	off.c_lflag |= ECHONL;
	for (i = 0; i < 2; i++) {
		if (i == 0)
			fprintf(stderr, "%s %s: ", prompt, name);
		else
			fprintf(stderr, "again: ");
		fflush(stderr);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &off);
		line = NULL;
		cap = 0;
		n = getline(&line, &cap, stdin);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		if (n <= 0) {
			free(line);
			free(a);
			errmsg("%s %s: no value given", cmd, name);
			return NULL;
		}
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (i == 0)
			a = line;
		else
			b = line;
	}
	if (strcmp(a, b) != 0) {
		explicit_bzero(a, strlen(a));
		explicit_bzero(b, strlen(b));
		free(a);
		free(b);
		errmsg("%s %s: the two values differ; nothing was "
		    "stored", cmd, name);
		return NULL;
	}
	explicit_bzero(b, strlen(b));
	free(b);
	return a;
}

/* All of stdin (one trailing newline dropped, as `echo` adds one). */
static char *
secret_stdin(const char *cmd, const char *name)
{
	struct nf_buf	 b;
	char		 chunk[4096];
	ssize_t		 n;

	nf_buf_init(&b);
	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			errmsg("%s %s: reading stdin: %s", cmd, name,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		nf_buf_add(&b, chunk, (size_t)n);
		if (b.len > NFCTL_SECRET_MAX + 2) {
			errmsg("%s %s: the value is longer than %d "
			    "bytes", cmd, name, NFCTL_SECRET_MAX);
			goto fail;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.len--;
	if (b.len > 0 && b.data[b.len - 1] == '\r')
		b.len--;
	if (b.len == 0) {
		errmsg("%s %s: stdin was empty; give the value on "
		    "stdin (printf %%s VALUE | nfctl %s %s)", cmd, name, cmd,
		    name);
		goto fail;
	}
	b.data[b.len] = '\0';
	return nf_buf_steal(&b);
fail:
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	nf_buf_free(&b);
	return NULL;
}

static void
secret_done(struct ctx *x, const char *name, const char *what)
{
	struct nf_val	*d;

	if (!x->o->json) {
		printf("secret %s %s\n", name, what);
		return;
	}
	d = nf_val_map();
	nf_val_map_set_str(d, "name", name);
	nf_val_map_set_bool(d, "ok", 1);
	print_json(d, 2);
	nf_val_free(d);
}

static int
cmd_secret_set(struct ctx *x)
{
	struct nf_val	*args, *d = NULL;
	const char	*name = x->args[0];
	char		*v;
	int		 rc;

	if (!nf_valid_ident(name)) {
		errmsg("secret name \"%s\" may only contain letters, digits, "
		    "\"_\" and \"-\"", name);
		return NF_EXIT_USAGE;
	}
	v = isatty(STDIN_FILENO) ? secret_prompt("secret set",
	    "value of secret", name) : secret_stdin("secret set", name);
	if (v == NULL)
		return NF_EXIT_USAGE;
	args = nf_val_map();
	nf_val_map_set_str(args, "name", name);
	nf_val_map_set_str(args, "value", v);
	explicit_bzero(v, strlen(v));
	free(v);
	/* request() frees args (and with it the copy of the value). */
	if ((rc = request(x, "secret.set", args, &d, NULL)) != 0)
		return rc;
	nf_val_free(d);
	secret_done(x, name, "stored");
	return 0;
}

/*
 * The listing of a store of named things (secret list, user list): NAME,
 * UPDATED, CREATED and one column of the command's own (last(), given an
 * entry, returns its text, allocated).
 */
static int
list_named(struct ctx *x, const char *cmd, const char *last_head,
    char *(*last)(const struct nf_val *), const char *empty)
{
	const char	*head[] = { "NAME", "UPDATED", "CREATED", last_head };
	struct table	 t;
	const struct nf_val *e;
	struct nf_val	*d = NULL;
	char		*row[4], buf[64];
	int64_t		 ms;
	size_t		 i;
	int		 rc;

	if ((rc = request(x, cmd, NULL, &d, NULL)) != 0)
		return rc;
	if ((rc = expect(d, NF_V_ARR, cmd)) != 0) {
		nf_val_free(d);
		return rc;
	}
	if (x->o->json) {
		print_json(d, 2);
		nf_val_free(d);
		return 0;
	}
	if (d->u.a.n == 0) {
		printf("%s\n", empty);
		nf_val_free(d);
		return 0;
	}
	table_init(&t, head, 4, "llll", -1);
	for (i = 0; i < d->u.a.n; i++) {
		e = d->u.a.items[i];
		if (e->type != NF_V_MAP)
			continue;
		row[0] = val_text(nf_val_get(e, "name"));
		ms = 0;
		vint(e, "updated_at", &ms);
		fmt_time(ms, buf, sizeof(buf));
		row[1] = nf_xstrdup(buf);
		ms = 0;
		vint(e, "created_at", &ms);
		fmt_time(ms, buf, sizeof(buf));
		row[2] = nf_xstrdup(buf);
		row[3] = last(e);
		table_row(&t, row);
	}
	table_print(&t, x, "");
	table_free(&t);
	nf_val_free(d);
	return 0;
}

static char *
secret_key_id(const struct nf_val *e)
{
	return val_text(nf_val_get(e, "key_id"));
}

static int
cmd_secret_list(struct ctx *x)
{
	return list_named(x, "secret.list", "KEY", secret_key_id,
	    "no secrets stored");
}

static int
cmd_secret_rm(struct ctx *x)
{
	struct nf_val	*args, *d = NULL;
	int		 rc;

	args = nf_val_map();
	nf_val_map_set_str(args, "name", x->args[0]);
	if ((rc = request(x, "secret.rm", args, &d, NULL)) != 0)
		return rc;
	nf_val_free(d);
	secret_done(x, x->args[0], "removed");
	return 0;
}

static int
cmd_secret_rotate(struct ctx *x)
{
	struct nf_val	*d = NULL;
	int64_t		 n = 0;
	int		 rc;

	if ((rc = request(x, "secret.rotate_key", NULL, &d, NULL)) != 0)
		return rc;
	if (x->o->json)
		print_json(d, 2);
	else {
		vint(d, "secrets", &n);
		printf("key rotated: %" PRId64 " secret%s re-sealed under key "
		    "%s\n", n, n == 1 ? "" : "s", vstr(d, "key_id", "?"));
	}
	nf_val_free(d);
	return 0;
}

/*
 * Web UI accounts.  The daemon checks the name and the password (length,
 * UTF-8) and says what is wrong; nfctl only reads the password safely.
 */
static int
cmd_user_passwd(struct ctx *x)
{
	struct nf_val	*args, *d = NULL;
	const char	*name = x->args[0];
	char		*v;
	int		 rc, ui = 1;

	v = isatty(STDIN_FILENO) ? secret_prompt("user passwd",
	    "new password of", name) : secret_stdin("user passwd", name);
	if (v == NULL)
		return NF_EXIT_USAGE;
	args = nf_val_map();
	nf_val_map_set_str(args, "name", name);
	nf_val_map_set_str(args, "password", v);
	explicit_bzero(v, strlen(v));
	free(v);
	/* request() frees args (and with it the copy of the password). */
	if ((rc = request(x, "user.passwd", args, &d, NULL)) != 0)
		return rc;
	if (d != NULL && d->type == NF_V_MAP &&
	    nf_val_get(d, "ui") != NULL && nf_val_get(d, "ui")->type ==
	    NF_V_BOOL)
		ui = nf_val_get(d, "ui")->u.b;
	if (x->o->json)
		print_json(d, 2);
	else
		printf("password of %s set\n", name);
	if (!ui)
		errmsg("warning: no [[user]] entry of the role model names "
		    "%s, so it cannot log in to the web UI until one does "
		    "(nomaflow.toml(5))", name);
	nf_val_free(d);
	return 0;
}

static char *
user_ui(const struct nf_val *e)
{
	const struct nf_val	*b = nf_val_get(e, "ui");

	return nf_xstrdup(b != NULL && b->type == NF_V_BOOL && b->u.b ?
	    "yes" : "no: no [[user]] entry");
}

static int
cmd_user_list(struct ctx *x)
{
	return list_named(x, "user.list", "UI", user_ui,
	    "no UI accounts (nfctl user passwd NAME creates one)");
}

static int
cmd_user_rm(struct ctx *x)
{
	struct nf_val	*args, *d = NULL;
	int		 rc;

	args = nf_val_map();
	nf_val_map_set_str(args, "name", x->args[0]);
	if ((rc = request(x, "user.rm", args, &d, NULL)) != 0)
		return rc;
	nf_val_free(d);
	if (x->o->json) {
		d = nf_val_map();
		nf_val_map_set_str(d, "name", x->args[0]);
		nf_val_map_set_bool(d, "ok", 1);
		print_json(d, 2);
		nf_val_free(d);
	} else
		printf("account %s removed\n", x->args[0]);
	return 0;
}

/* Main. */

static int
help(const struct opts *o)
{
	size_t	i, found = 0;

	if (o->npos >= 2) {
		for (i = 0; i < NF_NELEM(cmds); i++)
			if (strncmp(cmds[i].name, o->pos[1],
			    strlen(o->pos[1])) == 0 &&
			    (cmds[i].name[strlen(o->pos[1])] == '\0' ||
			    cmds[i].name[strlen(o->pos[1])] == ' ')) {
				printf("usage: nfctl [-s SOCKET] [--json] %s\n"
				    "    %s\n", cmds[i].synopsis,
				    cmds[i].what);
				found++;
			}
		if (found == 0) {
			errmsg("unknown command \"%s\" (nfctl help lists "
			    "them)", o->pos[1]);
			return NF_EXIT_USAGE;
		}
		return NF_EXIT_OK;
	}
	usage_all(stdout);
	return NF_EXIT_OK;
}

/* Exit, reporting a failed write of stdout (a full disk, a closed pipe). */
static int
finish(int rc)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		/* A reader that went away (| head) is not worth a message. */
		if (errno != EPIPE)
			errmsg("write to standard output: %s",
			    strerror(errno));
		if (rc == NF_EXIT_OK)
			rc = NF_EXIT_FAILED;
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	struct opts		 o;
	struct conn		 c;
	struct ctx		 x;
	struct winsize		 ws;
	const struct cmd	*cmd;
	const char		*path;
	char			*defpath = NULL, oname[64];
	int			 nwords = 0, rc, i;

	nf_log_init("nfctl", 0);
	/* A closed pipe or socket must be an error return, not a death. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		errmsg("signal(SIGPIPE): %s", strerror(errno));
		return NF_EXIT_FAILED;
	}
	memset(&o, 0, sizeof(o));
	if (parse_args(&o, argc, argv) == -1) {
		fprintf(stderr, "usage: nfctl [-s SOCKET] [--json] COMMAND "
		    "[ARGS] (nfctl help lists commands)\n");
		nf_val_free(o.params);
		return NF_EXIT_USAGE;
	}
	if (o.version) {
		printf("nfctl %s (protocol %d)\n", PACKAGE_VERSION,
		    NF_PROTO_VERSION);
		return finish(NF_EXIT_OK);
	}
	if (o.npos == 0 && o.help)
		return finish(help(&o));
	if (o.npos == 0) {
		usage_all(stderr);
		return NF_EXIT_USAGE;
	}
	if (strcmp(o.pos[0], "help") == 0) {
		nf_val_free(o.params);
		return finish(help(&o));
	}
	cmd = find_cmd(&o, &nwords);
	if (cmd == NULL) {
		if (strcmp(o.pos[0], "job") == 0)
			errmsg("job needs a subcommand: nfctl job show|enable|"
			    "disable JOB");
		else
			errmsg("unknown command \"%s\" (nfctl help lists "
			    "them)", o.pos[0]);
		nf_val_free(o.params);
		return NF_EXIT_USAGE;
	}
	if (o.help) {
		printf("usage: nfctl [-s SOCKET] [--json] %s\n    %s\n",
		    cmd->synopsis, cmd->what);
		nf_val_free(o.params);
		return finish(NF_EXIT_OK);
	}
	for (i = 0; i < OPT_MAX; i++)
		if ((o.seen & OPTB(i)) &&
		    !((cmd->opts | OPTS_GLOBAL) & OPTB(i))) {
			errmsg("option %s does not apply to %s",
			    opt_name(i, oname, sizeof(oname)), cmd->name);
			nf_val_free(o.params);
			return usage_cmd(cmd);
		}
	if (o.npos - nwords != cmd->nargs) {
		errmsg("%s: %s", cmd->name, o.npos - nwords < cmd->nargs ?
		    "missing argument" : "too many arguments");
		nf_val_free(o.params);
		return usage_cmd(cmd);
	}

	path = o.socket;
	if (path == NULL && (path = getenv(NFCTL_SOCKET_ENV)) != NULL &&
	    *path == '\0')
		path = NULL;
	if (path == NULL)
		path = defpath = nf_xprintf("%s/%s", NF_RUNSTATEDIR,
		    NFCTL_SOCKET_NAME);

	memset(&x, 0, sizeof(x));
	x.o = &o;
	x.c = &c;
	x.args = o.pos + nwords;
	x.tty = isatty(STDOUT_FILENO);
	if (x.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		x.cols = ws.ws_col;

	conn_init(&c, path);
	rc = cmd->fn(&x);
	conn_close(&c);
	nf_val_free(o.params);
	free(defpath);
	return finish(rc);
}
