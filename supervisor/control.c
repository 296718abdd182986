/*
 * control.c: the control socket of nomaflowd and the command handlers.
 * Runs in nomaflowd.
 *
 * Owns the listening unix socket and every client connection.  Client
 * frames arrive in exactly one function (client_dispatch).  A bad frame from
 * a client drops that client; nothing a client sends can hurt the daemon.
 * Every client is identified with SO_PEERCRED; the user becomes
 * "user:<name>" in triggered_by and in the audit table.  Its name and
 * groups are resolved once, at accept, and every request is checked
 * against the roles of the current configuration (acl.c) in
 * caller_dispatch, before the command runs; a denial is answered with
 * NF_EXIT_PERM and audited.  Listing commands (jobs, runs) filter instead
 * of refusing.
 *
 * The handlers see a caller (identity, reply sink, follow sink), not a
 * connection: a socket client is one kind, a request of the web server
 * (nf_control_exec, "web:<account>") another, so both get the same checks
 * and the same audit.
 *
 * Follow streams (nfctl logs -f, run --follow) are this module's
 * subscription to the run engine's events (events.h): the run engine knows
 * no client.
 *
 * Invariant: a caller that goes away is unregistered from every run it
 * followed and taken off the callers list, so no follower or pool test
 * ever writes to freed memory.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "config.h"
#include "control.h"
#include "cron.h"
#include "events.h"
#include "expr.h"
#include "log.h"
#include "metrics.h"
#include "nomaflowd.h"
#include "params.h"
#include "proto.h"
#include "retention.h"
#include "run.h"
#include "spawn.h"
#include "scheduler.h"
#include "secret.h"
#include "steptype.h"
#include "store.h"
#include "webauth.h"

/* A client that does not read its events is dropped past this backlog. */
#define CLIENT_MAX_BACKLOG	(64u << 20)
#define MAX_CLIENTS		256

/*
 * Who sends a command, and where its answers go.  A command handler knows
 * only this: the socket's clients (struct nf_client) and the web server's
 * requests (nf_control_exec) are both callers.  Every live caller is on
 * the callers list; a follow stream or a pool test in flight keeps a
 * caller pointer with its generation and checks caller_alive() before
 * using it, so a caller that went away is never written to.
 */
struct nf_caller;
struct nf_caller_ops {
	/* The reply sink: a CTL_RESP message, ours to free. */
	void	(*reply)(struct nf_caller *, struct nf_val *msg);
	/* The follow sink: a CTL_EVENT of a follow stream, ours to free. */
	void	(*event)(struct nf_caller *, struct nf_val *msg);
};

struct nf_caller {
	uint64_t		 gen;
	char			*user;		/* "user:alice", "web:alice" */
	char			*name;		/* "alice"; NULL: no passwd */
	long long		 uid;		/* -1: not a unix identity */
	char			**groups;	/* unix group names */
	size_t			 ngroups;
	int			 builtin_admin;	/* root, the daemon's user */
	int			 closing;	/* answers no more requests */
	const struct nf_caller_ops *ops;
	LIST_ENTRY(nf_caller)	 entry;
};

/* A control socket client: a caller with a connection. */
struct nf_client {
	struct nf_caller	 caller;	/* first: the handlers' view */
	int			 fd;
	gid_t			 gid;
	pid_t			 pid;
	int			 hello;
	ev_io			 rio, wio;
	struct nf_msg_reader	 rd;
	struct nf_buf		 out;
	LIST_ENTRY(nf_client)	 entry;
};

static LIST_HEAD(, nf_caller) callers = LIST_HEAD_INITIALIZER(callers);
static LIST_HEAD(, nf_client) clients = LIST_HEAD_INITIALIZER(clients);
static int		 listen_fd = -1;
static ev_io		 listen_io;
static char		*sock_path;
static gid_t		 sock_gid = (gid_t)-1;
static uint64_t		 caller_gen;
static int		 nclients;

/* A caller following a run (run_id) on its request req_id. */
struct follow {
	int64_t			 run_id;
	struct nf_caller	*client;	/* NULL: dropped meanwhile */
	uint64_t		 gen;
	int64_t			 req_id;
	LIST_ENTRY(follow)	 entry;
};
static LIST_HEAD(, follow) follows = LIST_HEAD_INITIALIZER(follows);
static int		 events_sub;
static int		 forwarding;	/* inside follow_event() */

static void	client_free(struct nf_client *);
static void	follow_drop_caller(struct nf_caller *);

static void
caller_begin(struct nf_caller *c, const struct nf_caller_ops *ops)
{
	c->gen = ++caller_gen;
	c->ops = ops;
	LIST_INSERT_HEAD(&callers, c, entry);
}

/* c is going away: nothing may reach it any more. */
static void
caller_end(struct nf_caller *c)
{
	size_t	i;

	follow_drop_caller(c);
	LIST_REMOVE(c, entry);
	free(c->user);
	free(c->name);
	for (i = 0; i < c->ngroups; i++)
		free(c->groups[i]);
	free(c->groups);
}

/* Still there, and still answering? */
static int
caller_alive(struct nf_caller *c, uint64_t gen)
{
	struct nf_caller	*x;

	LIST_FOREACH(x, &callers, entry)
		if (x == c && x->gen == gen)
			return !c->closing;
	return 0;
}

/* Still connected (it may be closing). */
static int
client_exists(struct nf_client *c, uint64_t gen)
{
	struct nf_client	*x;

	LIST_FOREACH(x, &clients, entry)
		if (x == c && x->caller.gen == gen)
			return 1;
	return 0;
}

static void
client_send(struct nf_client *c, struct nf_val *msg)
{
	if (c->caller.closing && c->fd == -1) {
		nf_val_free(msg);
		return;
	}
	nf_msg_encode(msg, &c->out);
	nf_val_free(msg);
	if (c->out.len > CLIENT_MAX_BACKLOG) {
		nf_warnx("control client %s (pid %d) is not reading; "
		    "dropping it", c->caller.user, (int)c->pid);
		client_free(c);
		return;
	}
	ev_io_start(nfd.loop, &c->wio);
}

/* The socket's sinks: both are frames on the connection. */
static void
client_sink(struct nf_caller *caller, struct nf_val *msg)
{
	client_send((struct nf_client *)caller, msg);
}

static const struct nf_caller_ops client_ops = { client_sink, client_sink };

static void
caller_event(struct nf_caller *c, uint64_t gen, int64_t req_id,
    const char *kind, struct nf_val *data)
{
	struct nf_val	*m;

	if (!caller_alive(c, gen)) {
		nf_val_free(data);
		return;
	}
	m = nf_msg_new(NF_MSG_CTL_EVENT);
	nf_val_map_set_int(m, "id", req_id);
	nf_val_map_set_str(m, "kind", kind);
	nf_val_map_set(m, "data", data);
	c->ops->event(c, m);
}

/* Followers. */

static void
follow_add(int64_t run_id, struct nf_caller *c, int64_t req_id)
{
	struct follow	*f;

	f = nf_xcalloc(1, sizeof(*f));
	f->run_id = run_id;
	f->client = c;
	f->gen = c->gen;
	f->req_id = req_id;
	LIST_INSERT_HEAD(&follows, f, entry);
}

static void
follow_sweep(void)
{
	struct follow	*f, *tmp;

	LIST_FOREACH_SAFE(f, &follows, entry, tmp)
		if (f->client == NULL) {
			LIST_REMOVE(f, entry);
			free(f);
		}
}

/* c is going away: forget what it followed (later, if forwarding). */
static void
follow_drop_caller(struct nf_caller *c)
{
	struct follow	*f;

	LIST_FOREACH(f, &follows, entry)
		if (f->client == c)
			f->client = NULL;
	if (!forwarding)
		follow_sweep();
}

static int
follow_want(int64_t run_id, void *arg)
{
	struct follow	*f;

	LIST_FOREACH(f, &follows, entry)
		if (f->run_id == run_id && f->client != NULL)
			return 1;
	return 0;
}

/* An event of the run engine: to each client following that run. */
static void
follow_event(const struct nf_event *ev, void *arg)
{
	struct follow	*f;

	/* Sending may drop a slow client: follow_drop_client() only marks. */
	forwarding = 1;
	LIST_FOREACH(f, &follows, entry) {
		if (f->run_id != ev->run_id || f->client == NULL)
			continue;
		caller_event(f->client, f->gen, f->req_id,
		    nf_event_name(ev->kind), nf_val_dup(ev->data));
		/* The run's last event ends the stream. */
		if (ev->kind == NF_EVENT_END)
			f->client = NULL;
	}
	forwarding = 0;
	follow_sweep();
}

static void
reply_ok(struct nf_caller *c, int64_t id, struct nf_val *data)
{
	struct nf_val	*m;

	m = nf_msg_new(NF_MSG_CTL_RESP);
	nf_val_map_set_int(m, "id", id);
	nf_val_map_set_bool(m, "ok", 1);
	if (data != NULL)
		nf_val_map_set(m, "data", data);
	c->ops->reply(c, m);
}

static void
reply_err(struct nf_caller *c, int64_t id, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
reply_err(struct nf_caller *c, int64_t id, int code, const char *fmt, ...)
{
	struct nf_val	*m;
	va_list		 ap;
	char		 buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	m = nf_msg_new(NF_MSG_CTL_RESP);
	nf_val_map_set_int(m, "id", id);
	nf_val_map_set_bool(m, "ok", 0);
	nf_val_map_set_int(m, "code", code);
	nf_val_map_set_str(m, "error", buf);
	c->ops->reply(c, m);
}

static void
audit(struct nf_caller *c, const char *action, const char *target,
    const char *result, const struct nf_val *detail)
{
	struct nf_audit_rec	a;

	memset(&a, 0, sizeof(a));
	a.ts = nf_now_ms();
	a.user = c->user;
	a.uid = c->uid;
	a.action = action;
	a.target = target;
	a.result = result;
	a.detail = detail;
	nf_store_audit(&a);
}

static void
caller_ident(const struct nf_caller *c, struct nf_acl_ident *who)
{
	memset(who, 0, sizeof(*who));
	who->user = c->name;
	who->uid = (long long)c->uid;
	who->groups = (const char *const *)c->groups;
	who->ngroups = c->ngroups;
	who->builtin_admin = c->builtin_admin;
}

/* May the client do verb on job (NULL for a daemon verb)? */
static int
may(const struct nf_caller *c, enum nf_acl_verb verb, const char *job_id)
{
	const struct nf_job	*j = NULL;
	struct nf_acl_ident	 who;

	caller_ident(c, &who);
	if (job_id != NULL)
		j = nf_config_job(nfd.cur->cfg, job_id);
	return nf_acl_allowed(nfd.cur->cfg->acl, &who, verb, job_id,
	    j != NULL ? j->tags : NULL, j != NULL ? j->ntags : 0);
}

/* Filter of the run list: runs of jobs the client may view. */
static int
may_view_job(void *arg, const char *job_id)
{
	return may(arg, NF_ACL_VIEW, job_id);
}

/*
 * "may" of jobs, job.show and run.show: the verbs beyond view the client
 * holds on a job, so a front end shows only the buttons that will work
 * (the command itself still checks).
 */
static struct nf_val *
may_list(const struct nf_caller *c, const char *job_id)
{
	static const enum nf_acl_verb verbs[] = { NF_ACL_RUN, NF_ACL_CANCEL,
	    NF_ACL_REPLAY, NF_ACL_ENABLE };
	struct nf_val	*a = nf_val_arr();
	size_t		 i;

	for (i = 0; i < NF_NELEM(verbs); i++)
		if (job_id != NULL && may(c, verbs[i], job_id))
			nf_val_arr_push(a, nf_val_str(nf_acl_verb_name(
			    verbs[i])));
	return a;
}

/*
 * What a denied request is audited with: its arguments, with the values
 * of the job's secret params and any argument carrying a secret value
 * replaced by "***"; job names the job of a run (permit() adds the verb
 * that was missing).
 */
static struct nf_val *
denied_detail(const struct nf_val *args, const char *job_id)
{
	static const char *const secret_args[] = { "value", "secret",
	    "password" };
	const struct nf_job	*j;
	struct nf_val		*d, *p;
	size_t			 i;

	d = args != NULL && args->type == NF_V_MAP ? nf_val_dup(args) :
	    nf_val_map();
	for (i = 0; i < NF_NELEM(secret_args); i++)
		if (nf_val_get(d, secret_args[i]) != NULL)
			nf_val_map_set_str(d, secret_args[i], "***");
	j = job_id != NULL ? nf_config_job(nfd.cur->cfg, job_id) : NULL;
	p = (struct nf_val *)nf_val_get(d, "params");
	for (i = 0; j != NULL && p != NULL && p->type == NF_V_MAP &&
	    i < j->nsecret_params; i++)
		if (nf_val_get(p, j->secret_params[i]) != NULL)
			nf_val_map_set_str(p, j->secret_params[i], "***");
	if (job_id != NULL && nf_val_get(d, "job") == NULL)
		nf_val_map_set_str(d, "job", job_id);
	return d;
}

/*
 * The permission check of one request.  Returns 1 if allowed; otherwise
 * answers NF_EXIT_PERM naming the identity, the verb, the target and the
 * grant that would allow it, audits the denial, and returns 0.
 */
static int
permit(struct nf_caller *c, int64_t id, const char *cmd,
    enum nf_acl_verb verb, const char *job_id, int64_t run_id,
    const struct nf_val *args)
{
	struct nf_acl_ident	 who;
	struct nf_val		*detail;
	const char		*vn = nf_acl_verb_name(verb);
	char			 idt[160], what[256], target[32];

	if (may(c, verb, job_id))
		return 1;
	caller_ident(c, &who);
	nf_acl_ident_text(&who, idt, sizeof(idt));
	if (run_id > 0)
		snprintf(what, sizeof(what), "%s run %lld of job %s", vn,
		    (long long)run_id, job_id);
	else if (job_id != NULL)
		snprintf(what, sizeof(what), "%s job %s", vn, job_id);
	else
		snprintf(what, sizeof(what), "%s", verb == NF_ACL_ADMIN ?
		    cmd : vn);
	nf_warnx("control: permission denied: %s may not %s", idt, what);
	detail = denied_detail(args, job_id);
	nf_val_map_set_str(detail, "verb", vn);
	if (run_id > 0)
		snprintf(target, sizeof(target), "%lld", (long long)run_id);
	audit(c, cmd, run_id > 0 ? target : job_id, "denied", detail);
	nf_val_free(detail);
	if (job_id != NULL)
		reply_err(c, id, NF_EXIT_PERM, "permission denied: %s may not "
		    "%s; ask an admin for a role with '%s job:%s'", idt, what,
		    vn, job_id);
	else
		reply_err(c, id, NF_EXIT_PERM, "permission denied: %s may not "
		    "%s; ask an admin for a role with '%s'", idt, what, vn);
	return 0;
}

/* Argument checking: every key known, of the right type. */
struct argspec {
	const char	*key;
	enum nf_val_type type;
	int		 required;
};

static int
check_args(struct nf_caller *c, int64_t id, const char *cmd,
    const struct nf_val *args, const struct argspec *spec)
{
	const struct argspec	*a;
	const struct nf_val	*v;
	size_t			 i;

	if (args != NULL)
		for (i = 0; i < args->u.m.n; i++) {
			for (a = spec; a->key != NULL; a++)
				if (strcmp(a->key, args->u.m.kv[i].key) == 0)
					break;
			if (a->key == NULL) {
				reply_err(c, id, NF_EXIT_USAGE, "%s: unknown "
				    "argument \"%s\"", cmd,
				    args->u.m.kv[i].key);
				return -1;
			}
			v = args->u.m.kv[i].val;
			if (v->type != a->type && !(v->type == NF_V_NIL &&
			    !a->required)) {
				reply_err(c, id, NF_EXIT_USAGE, "%s: argument "
				    "\"%s\" must be %s, not %s", cmd, a->key,
				    nf_val_type_name(a->type),
				    nf_val_type_name(v->type));
				return -1;
			}
		}
	for (a = spec; a->key != NULL; a++)
		if (a->required && nf_val_get(args, a->key) == NULL) {
			reply_err(c, id, NF_EXIT_USAGE, "%s: missing argument "
			    "\"%s\"", cmd, a->key);
			return -1;
		}
	return 0;
}

static const struct nf_job *
find_job(struct nf_caller *c, int64_t id, const char *job_id)
{
	const struct nf_job	*job;

	if ((job = nf_config_job(nfd.cur->cfg, job_id)) == NULL)
		reply_err(c, id, NF_EXIT_NOTFOUND, "no job \"%s\" (nfctl "
		    "jobs lists them)", job_id);
	return job;
}

static struct nf_val *
str_array(char **v, size_t n)
{
	struct nf_val	*a = nf_val_arr();
	size_t		 i;

	for (i = 0; i < n; i++)
		nf_val_arr_push(a, nf_val_str(v[i]));
	return a;
}

static struct nf_val *
last_run_brief(const char *job_id)
{
	struct nf_val	*r, *b;

	if ((r = nf_store_job_last_run(job_id)) == NULL)
		return nf_val_nil();
	b = nf_val_map();
	nf_val_map_set(b, "id", nf_val_dup(nf_val_get(r, "id")));
	nf_val_map_set(b, "state", nf_val_dup(nf_val_get(r, "state")));
	nf_val_map_set(b, "finished_at",
	    nf_val_dup(nf_val_get(r, "finished_at")));
	nf_val_free(r);
	return b;
}

/* status.you: who the daemon thinks the client is, and its roles. */
static struct nf_val *
caller_you(const struct nf_caller *c)
{
	struct nf_acl_ident	 who;
	struct nf_val		*m;
	struct nf_buf		 b;
	char			 idt[160];

	caller_ident(c, &who);
	nf_acl_ident_text(&who, idt, sizeof(idt));
	nf_buf_init(&b);
	nf_acl_roles(nfd.cur->cfg->acl, &who, &b);
	m = nf_val_map();
	nf_val_map_set_str(m, "identity", idt);
	nf_val_map_set_str(m, "roles", b.len > 0 ? b.data : "");
	nf_buf_free(&b);
	return m;
}

static void
cmd_status(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = { { NULL, 0, 0 } };
	struct nf_val	*d, *st, *rl;

	if (check_args(c, id, "status", args, spec) == -1)
		return;
	d = nf_val_map();
	nf_val_map_set_str(d, "version", PACKAGE_VERSION);
	nf_val_map_set_int(d, "pid", getpid());
	nf_val_map_set_int(d, "started_at", nfd.started_at);
	nf_val_map_set_int(d, "jobs", (int64_t)nfd.cur->cfg->njobs);
	nf_val_map_set_int(d, "runs_running", nf_run_active_count());
	nf_val_map_set_int(d, "workers", nfd.nworkers);
	nf_val_map_set_int(d, "max_workers", nfd.cur->cfg->max_workers);
	nf_val_map_set_int(d, "queued", nfd.nqueued);
	nf_val_map_set_bool(d, "sandboxed", nf_daemon_sandboxed());
	nf_val_map_set_bool(d, "stopping", nfd.stopping);
	st = nf_val_map();
	nf_val_map_set_str(st, "path", nfd.cur->cfg->store_path);
	nf_val_map_set_bool(st, "ok", nfd.store_ok);
	if (!nfd.store_ok && nfd.store_err != NULL)
		nf_val_map_set_str(st, "error", nfd.store_err);
	nf_val_map_set(d, "store", st);
	nf_val_map_set_str(d, "config", nfd.config_path);
	rl = nf_val_map();
	if (nfd.reload_at > 0)
		nf_val_map_set_int(rl, "at", nfd.reload_at);
	else
		nf_val_map_set(rl, "at", nf_val_nil());
	nf_val_map_set_bool(rl, "ok", nfd.reload_ok);
	nf_val_map_set(rl, "errors", nfd.reload_errors != NULL ?
	    nf_val_dup(nfd.reload_errors) : nf_val_arr());
	nf_val_map_set(d, "last_reload", rl);
	nf_val_map_set(d, "you", caller_you(c));
	reply_ok(c, id, d);
}

static int
job_matches(const struct nf_job *j, const char *tag, const char *search)
{
	size_t	i;
	int	ok;

	if (tag != NULL) {
		for (ok = 0, i = 0; i < j->ntags; i++)
			if (strcmp(j->tags[i], tag) == 0)
				ok = 1;
		if (!ok)
			return 0;
	}
	if (search != NULL && strcasestr(j->id, search) == NULL &&
	    (j->description == NULL ||
	    strcasestr(j->description, search) == NULL))
		return 0;
	return 1;
}

static struct nf_val *
job_brief(const struct nf_job *j)
{
	struct nf_val	*m;
	int64_t		 next;
	int		 en;

	m = nf_val_map();
	nf_val_map_set_str(m, "id", j->id);
	nf_val_map_set_str(m, "description", j->description);
	nf_val_map_set_str(m, "schedule", j->schedule);
	nf_val_map_set_str(m, "timezone", j->timezone != NULL ? j->timezone :
	    "UTC");
	/* The runtime toggle (nfctl job enable/disable) wins. */
	en = nf_sched_job_enabled(j);
	nf_val_map_set_bool(m, "enabled", en);
	nf_val_map_set(m, "tags", str_array(j->tags, j->ntags));
	next = en ? nf_sched_next(j, time(NULL), NULL) : -1;
	if (next > 0)
		nf_val_map_set_int(m, "next_fire", next * 1000);
	else
		nf_val_map_set(m, "next_fire", nf_val_nil());
	nf_val_map_set(m, "last_run", last_run_brief(j->id));
	nf_val_map_set_bool(m, "running", nf_run_find_job(j->id) != NULL);
	return m;
}

static void
cmd_jobs(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "tag", NF_V_STR, 0 }, { "search", NF_V_STR, 0 },
		{ NULL, 0, 0 }
	};
	const struct nf_config	*cfg = nfd.cur->cfg;
	struct nf_val		*a, *b;
	size_t			 i;

	if (check_args(c, id, "jobs", args, spec) == -1)
		return;
	a = nf_val_arr();
	for (i = 0; i < cfg->njobs; i++)
		if (job_matches(&cfg->jobs[i], nf_val_get_str(args, "tag"),
		    nf_val_get_str(args, "search")) &&
		    may(c, NF_ACL_VIEW, cfg->jobs[i].id)) {
			b = job_brief(&cfg->jobs[i]);
			nf_val_map_set(b, "may", may_list(c, cfg->jobs[i].id));
			nf_val_arr_push(a, b);
		}
	reply_ok(c, id, a);
}

/* overlap, catchup, jitter, after and presets of job.show. */
static void
job_policies(struct nf_val *m, const struct nf_job *j)
{
	static const char *const overlap[] = { "skip", "queue", "allow",
	    "cancel_previous" };
	static const char *const catchup[] = { "latest", "none", "all" };
	const struct nf_preset	*p;
	struct nf_val		*a, *pm;
	size_t			 i;

	nf_val_map_set_str(m, "overlap", overlap[j->overlap]);
	nf_val_map_set_str(m, "catchup", catchup[j->catchup]);
	nf_val_map_set_int(m, "catchup_window", j->catchup_window);
	nf_val_map_set_int(m, "jitter", j->jitter);
	a = nf_val_arr();
	for (i = 0; i < j->nafter; i++)
		nf_val_arr_push(a, nf_val_str(j->after[i].job));
	nf_val_map_set(m, "after", a);
	nf_val_map_set_str(m, "after_on", j->after_always ? "always" :
	    "success");
	a = nf_val_arr();
	for (i = 0; i < j->npresets; i++) {
		p = &j->presets[i];
		pm = nf_val_map();
		nf_val_map_set_str(pm, "name", p->name);
		nf_val_map_set_str(pm, "description", p->description);
		nf_val_map_set_str(pm, "schedule", p->schedule);
		nf_val_map_set_str(pm, "timezone", p->timezone != NULL ?
		    p->timezone : j->timezone != NULL ? j->timezone : "UTC");
		nf_val_map_set(pm, "params", nf_val_dup(p->params));
		nf_val_map_set(pm, "steps", nf_val_dup(p->steps));
		nf_val_arr_push(a, pm);
	}
	nf_val_map_set(m, "presets", a);
}

static void
cmd_job_show(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "id", NF_V_STR, 1 }, { NULL, 0, 0 }
	};
	const struct nf_job	*j;
	const struct nf_step	*st;
	struct nf_val		*m, *rt, *steps, *s, *nexts;
	int64_t			 t;
	size_t			 i;

	if (check_args(c, id, "job.show", args, spec) == -1 ||
	    (j = find_job(c, id, nf_val_get_str(args, "id"))) == NULL)
		return;
	m = job_brief(j);
	nf_val_map_set(m, "may", may_list(c, j->id));
	nf_val_map_set(m, "params", nf_val_dup(j->params));
	nf_val_map_set(m, "required_params", str_array(j->required_params,
	    j->nrequired_params));
	nf_val_map_set(m, "secret_params", str_array(j->secret_params,
	    j->nsecret_params));
	rt = nf_val_map();
	nf_val_map_set_int(rt, "attempts", j->retry.attempts);
	nf_val_map_set_str(rt, "backoff", j->retry.backoff ==
	    NF_BACKOFF_EXPONENTIAL ? "exponential" : "fixed");
	nf_val_map_set(rt, "base_seconds", nf_val_float(j->retry.base_seconds));
	nf_val_map_set(rt, "max_seconds", nf_val_float(j->retry.max_seconds));
	nf_val_map_set(m, "retry", rt);
	nf_val_map_set_int(m, "timeout_seconds", j->timeout_seconds);
	job_policies(m, j);
	nf_val_map_set_str(m, "file", j->file);
	steps = nf_val_arr();
	for (i = 0; i < j->nsteps; i++) {
		st = &j->steps[i];
		s = nf_val_map();
		nf_val_map_set_str(s, "name", st->name);
		nf_val_map_set_str(s, "type", st->type);
		nf_val_map_set_bool(s, "enabled", st->enabled);
		nf_val_map_set_int(s, "timeout_seconds", st->timeout_seconds);
		if (st->when != NULL)
			nf_val_map_set_str(s, "when", nf_expr_text(st->when));
		/* Credentials stay in the configuration files. */
		nf_val_map_set(s, "spec", nf_steptype_spec_public(st->type,
		    st->spec));
		nf_val_arr_push(steps, s);
	}
	nf_val_map_set(m, "steps", steps);
	nexts = nf_val_arr();
	for (t = time(NULL), i = 0; j->cron != NULL && i < 5; i++) {
		if ((t = nf_sched_next(j, t, NULL)) <= 0)
			break;
		nf_val_arr_push(nexts, nf_val_int(t * 1000));
	}
	nf_val_map_set(m, "next_fires", nexts);
	reply_ok(c, id, m);
}

static void
cmd_run(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "job", NF_V_STR, 1 }, { "params", NF_V_MAP, 0 },
		{ "force", NF_V_BOOL, 0 }, { "preset", NF_V_STR, 0 },
		{ NULL, 0, 0 }
	};
	const struct nf_job	*j;
	const struct nf_preset	*preset = NULL;
	const struct nf_val	*params;
	struct nf_params_decl	 decl;
	struct nf_params	 p;
	struct nf_trigger	 t;
	struct nf_val		*d, *shown;
	char			 err[512];
	int64_t			 run_id;
	int			 force = 0, conflict;

	if (check_args(c, id, "run", args, spec) == -1 ||
	    (j = find_job(c, id, nf_val_get_str(args, "job"))) == NULL)
		return;
	nf_val_get_bool(args, "force", &force);
	params = nf_val_get(args, "params");
	memset(&t, 0, sizeof(t));
	t.trigger = "manual";
	t.triggered_by = c->user;
	t.params = params != NULL && params->type == NF_V_MAP ? params : NULL;
	t.preset = nf_val_get_str(args, "preset");
	t.force = force;
	if (t.preset != NULL && (preset = nf_config_preset(j, t.preset)) ==
	    NULL) {
		audit(c, "run", j->id, "no such preset", args);
		reply_err(c, id, NF_EXIT_NOTFOUND, "job %s has no preset "
		    "\"%s\" (nfctl job show %s lists its presets)", j->id,
		    t.preset, j->id);
		return;
	}
	/*
	 * Params are typed and checked here, so a bad value is the caller's
	 * usage error and creates no run; the audit trail shows secret
	 * params as "***".
	 */
	nf_params_decl_job(preset != NULL ? preset->job : j, &decl);
	if (nf_params_resolve(&decl, t.params, &p, err, sizeof(err)) == -1) {
		shown = nf_params_shown(&decl, t.params);
		audit(c, "run", j->id, err, shown);
		nf_val_free(shown);
		reply_err(c, id, NF_EXIT_USAGE, "%s", err);
		return;
	}
	shown = nf_params_shown(&decl, t.params != NULL ? p.given : NULL);
	t.resolved = &p;
	run_id = nf_run_trigger_ex(j, &t, &conflict, err, sizeof(err));
	nf_params_clear(&p);	/* left empty if the run took it */
	audit(c, "run", j->id, run_id <= 0 ? err : "ok", shown);
	nf_val_free(shown);
	if (run_id <= 0) {
		reply_err(c, id, conflict ? NF_EXIT_CONFLICT : NF_EXIT_FAILED,
		    "%s", err);
		return;
	}
	d = nf_val_map();
	nf_val_map_set_int(d, "run_id", run_id);
	reply_ok(c, id, d);
}

static void
cmd_runs(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "job", NF_V_STR, 0 }, { "state", NF_V_STR, 0 },
		{ "since", NF_V_INT, 0 }, { "limit", NF_V_INT, 0 },
		{ "trigger", NF_V_STR, 0 }, { "until", NF_V_INT, 0 },
		{ "before", NF_V_INT, 0 }, { NULL, 0, 0 }
	};
	struct nf_store_filter	 f;
	struct nf_val		*a;
	const char		*s;
	int64_t			 v;

	if (check_args(c, id, "runs", args, spec) == -1)
		return;
	memset(&f, 0, sizeof(f));
	f.job_id = nf_val_get_str(args, "job");
	f.state = -1;
	f.visible = may_view_job;
	f.visible_arg = c;
	if ((s = nf_val_get_str(args, "state")) != NULL &&
	    (f.state = nf_run_state_parse(s)) == -1) {
		reply_err(c, id, NF_EXIT_USAGE, "runs: unknown state \"%s\" "
		    "(queued, running, succeeded, failed, canceled, skipped)",
		    s);
		return;
	}
	if (nf_val_get_int(args, "since", &v))
		f.since = v;
	f.trigger = nf_val_get_str(args, "trigger");
	if (nf_val_get_int(args, "until", &v))
		f.until = v;
	if (nf_val_get_int(args, "before", &v))
		f.before = v;
	if (nf_val_get_int(args, "limit", &v)) {
		if (v < 1 || v > 10000) {
			reply_err(c, id, NF_EXIT_USAGE, "runs: limit must be "
			    "1..10000");
			return;
		}
		f.limit = (int)v;
	}
	if ((a = nf_store_runs_list(&f)) == NULL) {
		reply_err(c, id, NF_EXIT_FAILED, "cannot read the run "
		    "history: %s", nf_store_error());
		return;
	}
	reply_ok(c, id, a);
}

static int
get_run_id(struct nf_caller *c, int64_t id, const char *cmd,
    const struct nf_val *args, int64_t *run_id)
{
	if (!nf_val_get_int(args, "run_id", run_id) || *run_id <= 0) {
		reply_err(c, id, NF_EXIT_USAGE, "%s: run_id must be a "
		    "positive integer", cmd);
		return -1;
	}
	return 0;
}

static void
cmd_run_show(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "run_id", NF_V_INT, 1 }, { NULL, 0, 0 }
	};
	struct nf_val	*r;
	struct nf_run	*active;
	int64_t		 run_id;

	if (check_args(c, id, "run.show", args, spec) == -1 ||
	    get_run_id(c, id, "run.show", args, &run_id) == -1)
		return;
	if ((r = nf_store_run_get(run_id)) == NULL) {
		reply_err(c, id, NF_EXIT_NOTFOUND, "no run %lld",
		    (long long)run_id);
		return;
	}
	nf_val_map_set(r, "may", may_list(c, nf_val_get_str(r, "job_id")));
	/* A running step's last progress (sql_copy: rows, rate). */
	if ((active = nf_run_find(run_id)) != NULL &&
	    active->last_progress != NULL)
		nf_val_map_set(r, "progress",
		    nf_val_dup(active->last_progress));
	reply_ok(c, id, r);
}

static void
cmd_logs(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "run_id", NF_V_INT, 1 }, { "follow", NF_V_BOOL, 0 },
		{ "after", NF_V_INT, 0 }, { NULL, 0, 0 }
	};
	struct nf_val	*r, *lines, *d, *end;
	struct nf_run	*active;
	int64_t		 run_id, after = 0, pruned;
	int		 follow = 0;
	size_t		 i;

	if (check_args(c, id, "logs", args, spec) == -1 ||
	    get_run_id(c, id, "logs", args, &run_id) == -1)
		return;
	nf_val_get_bool(args, "follow", &follow);
	nf_val_get_int(args, "after", &after);
	if ((r = nf_store_run_get(run_id)) == NULL) {
		reply_err(c, id, NF_EXIT_NOTFOUND, "no run %lld",
		    (long long)run_id);
		return;
	}
	if ((lines = nf_store_logs_get(run_id, after, 0)) == NULL) {
		nf_val_free(r);
		reply_err(c, id, NF_EXIT_FAILED, "cannot read the log: %s",
		    nf_store_error());
		return;
	}
	d = nf_val_map();
	nf_val_map_set(d, "state", nf_val_dup(nf_val_get(r, "state")));
	/* Retention deleted its lines, the run stays (nfctl says when). */
	if ((pruned = nf_store_log_pruned_at(run_id)) > 0)
		nf_val_map_set_int(d, "log_pruned_at", pruned);
	if (!follow) {
		nf_val_map_set(d, "lines", lines);
		nf_val_free(r);
		reply_ok(c, id, d);
		return;
	}
	reply_ok(c, id, d);
	for (i = 0; i < lines->u.a.n; i++) {
		caller_event(c, c->gen, id, "log", lines->u.a.items[i]);
		lines->u.a.items[i] = NULL;
	}
	lines->u.a.n = 0;
	nf_val_free(lines);
	if ((active = nf_run_find(run_id)) != NULL)
		follow_add(active->id, c, id);
	else {
		end = nf_val_map();
		nf_val_map_set_int(end, "run_id", run_id);
		nf_val_map_set(end, "state", nf_val_dup(nf_val_get(r,
		    "state")));
		if (nf_val_get(r, "reason") != NULL)
			nf_val_map_set(end, "reason",
			    nf_val_dup(nf_val_get(r, "reason")));
		if (nf_val_get(r, "error") != NULL)
			nf_val_map_set(end, "error",
			    nf_val_dup(nf_val_get(r, "error")));
		caller_event(c, c->gen, id, "end", end);
	}
	nf_val_free(r);
}

/* {job}: the audit detail of a command on a run (nfctl audit --job). */
static struct nf_val *
job_detail(const char *job_id)
{
	struct nf_val	*d = nf_val_map();

	nf_val_map_set_str(d, "job", job_id);
	return d;
}

static void
cmd_cancel(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "run_id", NF_V_INT, 1 }, { NULL, 0, 0 }
	};
	struct nf_run	*r;
	struct nf_val	*st, *d;
	int64_t		 run_id;
	char		 target[32];

	if (check_args(c, id, "cancel", args, spec) == -1 ||
	    get_run_id(c, id, "cancel", args, &run_id) == -1)
		return;
	snprintf(target, sizeof(target), "%lld", (long long)run_id);
	if ((r = nf_run_find(run_id)) == NULL) {
		if ((st = nf_store_run_get(run_id)) == NULL) {
			reply_err(c, id, NF_EXIT_NOTFOUND, "no run %lld",
			    (long long)run_id);
			return;
		}
		audit(c, "cancel", target, "refused: already finished",
		    (d = job_detail(nf_val_get_str(st, "job_id"))));
		nf_val_free(d);
		reply_err(c, id, NF_EXIT_FAILED, "run %lld already finished "
		    "(%s)", (long long)run_id, nf_val_get_str(st, "state"));
		nf_val_free(st);
		return;
	}
	audit(c, "cancel", target, "ok", (d = job_detail(r->job_id)));
	nf_val_free(d);
	nf_run_cancel(r, c->user);
	reply_ok(c, id, NULL);
}

/*
 * replay: a new run of a finished run's job with the preset and params it
 * had (secret params excepted: their values were never stored), trigger
 * "replay", triggered by the caller.
 */
static void
cmd_replay(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "run_id", NF_V_INT, 1 }, { "force", NF_V_BOOL, 0 },
		{ NULL, 0, 0 }
	};
	const struct nf_job	*j;
	const struct nf_preset	*preset = NULL;
	struct nf_params_decl	 decl;
	struct nf_params	 p;
	struct nf_trigger	 t;
	struct nf_val		*st, *params, *d, *shown;
	char			 err[512], target[32];
	int64_t			 run_id, nid;
	int			 force = 0, conflict;

	if (check_args(c, id, "replay", args, spec) == -1 ||
	    get_run_id(c, id, "replay", args, &run_id) == -1)
		return;
	nf_val_get_bool(args, "force", &force);
	if ((st = nf_store_run_get(run_id)) == NULL) {
		reply_err(c, id, NF_EXIT_NOTFOUND, "no run %lld",
		    (long long)run_id);
		return;
	}
	snprintf(target, sizeof(target), "%lld", (long long)run_id);
	if ((j = nf_config_job(nfd.cur->cfg, nf_val_get_str(st, "job_id"))) ==
	    NULL) {
		reply_err(c, id, NF_EXIT_NOTFOUND, "run %lld: its job %s is "
		    "no longer configured", (long long)run_id,
		    nf_val_get_str(st, "job_id"));
		nf_val_free(st);
		return;
	}
	memset(&t, 0, sizeof(t));
	t.trigger = "replay";
	t.triggered_by = c->user;
	t.force = force;
	t.preset = nf_val_get_str(st, "preset");
	if (t.preset != NULL && (preset = nf_config_preset(j, t.preset)) ==
	    NULL)
		t.preset = NULL;
	nf_params_decl_job(preset != NULL ? preset->job : j, &decl);
	params = nf_params_replay(preset != NULL ? preset->job : j,
	    nf_val_get(st, "params"));
	t.params = params;
	if (nf_params_resolve(&decl, t.params, &p, err, sizeof(err)) == -1) {
		audit(c, "replay", j->id, err, (d = job_detail(j->id)));
		nf_val_free(d);
		reply_err(c, id, NF_EXIT_USAGE, "cannot replay run %lld: %s",
		    (long long)run_id, err);
		nf_val_free(params);
		nf_val_free(st);
		return;
	}
	if ((shown = nf_params_shown(&decl, p.given)) == NULL ||
	    shown->type != NF_V_MAP) {
		nf_val_free(shown);
		shown = nf_val_map();
	}
	nf_val_map_set_str(shown, "replay_of", target);
	t.resolved = &p;
	nid = nf_run_trigger_ex(j, &t, &conflict, err, sizeof(err));
	nf_params_clear(&p);
	audit(c, "replay", j->id, nid <= 0 ? err : "ok", shown);
	nf_val_free(shown);
	nf_val_free(params);
	nf_val_free(st);
	if (nid <= 0) {
		reply_err(c, id, conflict ? NF_EXIT_CONFLICT : NF_EXIT_FAILED,
		    "%s", err);
		return;
	}
	d = nf_val_map();
	nf_val_map_set_int(d, "run_id", nid);
	nf_val_map_set_int(d, "replay_of", run_id);
	reply_ok(c, id, d);
}

static void
fmt_offset(int off, char *buf, size_t len)
{
	int	a = off < 0 ? -off : off;

	snprintf(buf, len, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600,
	    (a % 3600) / 60);
}

/*
 * One fire of a preview: {at, utc, local, offset, zone, timezone, flags}
 * (flags: "dst-gap" moved out of a spring-forward gap, "dst-repeat" in a
 * repeated hour), plus schedule when the job has several.
 */
static struct nf_val *
fire_entry(int64_t t, int flags, const struct nf_tz *tz, const char *sched)
{
	struct nf_val	*m, *fl;
	struct tm	 tm;
	const char	*abbr;
	char		 buf[64], off[16];

	m = nf_val_map();
	nf_val_map_set_int(m, "at", t);
	nf_val_map_set_str(m, "utc", nf_fmt_time_utc(t * 1000, buf,
	    sizeof(buf)));
	nf_tz_localtime(tz, t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	nf_val_map_set_str(m, "local", buf);
	fmt_offset(nf_tz_offset(tz, t, &abbr), off, sizeof(off));
	nf_val_map_set_str(m, "offset", off);
	nf_val_map_set_str(m, "zone", abbr != NULL ? abbr : "");
	nf_val_map_set_str(m, "timezone", tz != NULL ? nf_tz_name(tz) : "UTC");
	fl = nf_val_arr();
	if (flags & NF_CRON_DST_GAP)
		nf_val_arr_push(fl, nf_val_str("dst-gap"));
	if (flags & NF_CRON_DST_REPEAT)
		nf_val_arr_push(fl, nf_val_str("dst-repeat"));
	nf_val_map_set(m, "flags", fl);
	if (sched != NULL)
		nf_val_map_set_str(m, "schedule", sched);
	return m;
}

static void
cmd_next(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "id", NF_V_STR, 1 }, { "n", NF_V_INT, 0 }, { NULL, 0, 0 }
	};
	const struct nf_job	*j;
	const struct nf_schedule *sc, *best;
	struct nf_val		*a;
	int64_t			 n = 5, t, i, bt, st;
	size_t			 k;
	int			 flags, f;

	if (check_args(c, id, "next", args, spec) == -1 ||
	    (j = find_job(c, id, nf_val_get_str(args, "id"))) == NULL)
		return;
	if (nf_val_get_int(args, "n", &n) && (n < 1 || n > 1000)) {
		reply_err(c, id, NF_EXIT_USAGE, "next: n must be 1..1000");
		return;
	}
	if (j->nschedules == 0) {
		reply_err(c, id, NF_EXIT_FAILED, "job %s has no schedule "
		    "(manual runs only)", j->id);
		return;
	}
	/*
	 * The earliest over the job's schedules, as the scheduler arms them
	 * (nf_sched_next); the local time is in the zone of the schedule
	 * that fires (the first one, when several fire at that instant).
	 */
	a = nf_val_arr();
	for (t = time(NULL), i = 0; i < n; i++) {
		best = NULL;
		bt = -1;
		flags = 0;
		for (k = 0; k < j->nschedules; k++) {
			sc = &j->schedules[k];
			if ((st = nf_cron_next(sc->cron, sc->tz, t, &f)) <= 0)
				continue;
			if (best == NULL || st < bt) {
				best = sc;
				bt = st;
				flags = f;
			} else if (st == bt)
				flags |= f;
		}
		if (best == NULL)
			break;
		t = bt;
		nf_val_arr_push(a, fire_entry(t, flags, best->tz,
		    j->nschedules > 1 ? best->expr : NULL));
	}
	reply_ok(c, id, a);
}

/* Preview an expression not in any job: nfctl cron. */
static void
cmd_cron(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "expr", NF_V_STR, 1 }, { "tz", NF_V_STR, 0 },
		{ "n", NF_V_INT, 0 }, { "from", NF_V_STR, 0 }, { NULL, 0, 0 }
	};
	struct nf_cron	*cr;
	struct nf_tz	*tz = NULL;
	struct nf_val	*a;
	const char	*expr, *zone, *from;
	char		 err[512];
	int64_t		 n = 5, t, i;
	int		 col, flags;

	if (check_args(c, id, "cron", args, spec) == -1)
		return;
	expr = nf_val_get_str(args, "expr");
	zone = nf_val_get_str(args, "tz");
	from = nf_val_get_str(args, "from");
	if (nf_val_get_int(args, "n", &n) && (n < 1 || n > 1000)) {
		reply_err(c, id, NF_EXIT_USAGE, "cron: n must be 1..1000");
		return;
	}
	if ((cr = nf_cron_parse(expr, err, sizeof(err), &col)) == NULL) {
		if (col > 0)
			reply_err(c, id, NF_EXIT_USAGE, "\"%s\", column %d: %s",
			    expr, col, err);
		else
			reply_err(c, id, NF_EXIT_USAGE, "\"%s\": %s", expr,
			    err);
		return;
	}
	if (zone != NULL && strcmp(zone, "UTC") != 0 &&
	    (tz = nf_tz_load(zone, err, sizeof(err))) == NULL) {
		reply_err(c, id, NF_EXIT_USAGE, "--tz: %s", err);
		nf_cron_free(cr);
		return;
	}
	t = time(NULL);
	if (from != NULL && nf_tz_parse_time(tz, from, &t) == -1) {
		reply_err(c, id, NF_EXIT_USAGE, "--from \"%s\" is not a time "
		    "(write 2026-03-29, 2026-03-29 02:30[:00] in the zone, "
		    "add Z or +01:00 for another offset, or @EPOCH)", from);
		nf_cron_free(cr);
		nf_tz_free(tz);
		return;
	}
	/* Fires strictly after `from`: include an exact match of it. */
	if (from != NULL)
		t--;
	a = nf_val_arr();
	for (i = 0; i < n; i++) {
		if ((t = nf_cron_next(cr, tz, t, &flags)) <= 0)
			break;
		nf_val_arr_push(a, fire_entry(t, flags, tz, NULL));
	}
	nf_cron_free(cr);
	nf_tz_free(tz);
	reply_ok(c, id, a);
}

static void
job_toggle(struct nf_caller *c, int64_t id, const struct nf_val *args,
    const char *cmd, int enabled)
{
	static const struct argspec spec[] = {
		{ "id", NF_V_STR, 1 }, { NULL, 0, 0 }
	};
	const struct nf_job	*j;
	struct nf_val		*d;
	char			 err[512];

	if (check_args(c, id, cmd, args, spec) == -1 ||
	    (j = find_job(c, id, nf_val_get_str(args, "id"))) == NULL)
		return;
	if (nf_sched_set_enabled(j, enabled, err, sizeof(err)) == -1) {
		audit(c, cmd, j->id, err, NULL);
		reply_err(c, id, NF_EXIT_FAILED, "%s", err);
		return;
	}
	audit(c, cmd, j->id, "ok", NULL);
	d = nf_val_map();
	nf_val_map_set_str(d, "id", j->id);
	nf_val_map_set_bool(d, "enabled", enabled);
	reply_ok(c, id, d);
}

static void
cmd_job_enable(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	job_toggle(c, id, args, "job.enable", 1);
}

static void
cmd_job_disable(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	job_toggle(c, id, args, "job.disable", 0);
}

static void
cmd_reload(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = { { NULL, 0, 0 } };
	struct nf_val	*errors = NULL, *d;
	int		 ok;

	if (check_args(c, id, "reload", args, spec) == -1)
		return;
	nf_daemon_reload(&errors);
	ok = errors == NULL || errors->u.a.n == 0;
	audit(c, "reload", NULL, ok ? "ok" : "rejected", errors);
	d = nf_val_map();
	nf_val_map_set_bool(d, "ok", ok);
	nf_val_map_set(d, "errors", errors != NULL ? errors : nf_val_arr());
	reply_ok(c, id, d);
}

static void
cmd_validate(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = { { NULL, 0, 0 } };
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	struct nf_val		*d, *a;
	size_t			 i;

	if (check_args(c, id, "validate", args, spec) == -1)
		return;
	nf_errs_init(&errs);
	cfg = nf_config_load(nfd.config_path, 1, &errs);
	nf_config_free(cfg);
	a = nf_val_arr();
	for (i = 0; i < errs.n; i++)
		nf_val_arr_push(a, nf_val_str(errs.msgs[i]));
	d = nf_val_map();
	nf_val_map_set_bool(d, "ok", errs.n == 0);
	nf_val_map_set(d, "errors", a);
	nf_errs_free(&errs);
	reply_ok(c, id, d);
}

/*
 * Secrets (the `secrets` grant, checked by the dispatch).  A value arrives
 * only in secret.set's args and is never echoed, logged or audited: the
 * audit names the secret.
 */
static void
cmd_secret_set(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "name", NF_V_STR, 1 }, { "value", NF_V_STR, 1 },
		{ NULL, 0, 0 }
	};
	const struct nf_val	*v;
	const char		*name;
	char			 err[512];

	if (check_args(c, id, "secret.set", args, spec) == -1)
		return;
	name = nf_val_get_str(args, "name");
	v = nf_val_get(args, "value");
	if (nf_secret_set(name, v->u.s.p, v->u.s.len, err,
	    sizeof(err)) == -1) {
		audit(c, "secret.set", name, err, NULL);
		reply_err(c, id, NF_EXIT_FAILED, "%s", err);
		return;
	}
	audit(c, "secret.set", name, "ok", NULL);
	reply_ok(c, id, NULL);
}

static void
cmd_secret_list(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = { { NULL, 0, 0 } };
	struct nf_val	*l;
	char		 err[512];

	if (check_args(c, id, "secret.list", args, spec) == -1)
		return;
	if ((l = nf_secret_list(err, sizeof(err))) == NULL) {
		reply_err(c, id, NF_EXIT_FAILED, "%s", err);
		return;
	}
	reply_ok(c, id, l);
}

static void
cmd_secret_rm(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "name", NF_V_STR, 1 }, { NULL, 0, 0 }
	};
	const char	*name;
	char		 err[512];
	int		 rc;

	if (check_args(c, id, "secret.rm", args, spec) == -1)
		return;
	name = nf_val_get_str(args, "name");
	if ((rc = nf_secret_rm(name, err, sizeof(err))) == -1) {
		audit(c, "secret.rm", name, err, NULL);
		reply_err(c, id, NF_EXIT_FAILED, "%s", err);
		return;
	}
	if (rc == 0) {
		reply_err(c, id, NF_EXIT_NOTFOUND, "no secret \"%s\" (nfctl "
		    "secret list shows them)", name);
		return;
	}
	audit(c, "secret.rm", name, "ok", NULL);
	reply_ok(c, id, NULL);
}

static void
cmd_secret_rotate_key(struct nf_caller *c, int64_t id,
    const struct nf_val *args)
{
	static const struct argspec spec[] = { { NULL, 0, 0 } };
	struct nf_val	*d;
	size_t		 n;
	char		 err[1024];

	if (check_args(c, id, "secret.rotate_key", args, spec) == -1)
		return;
	if (nf_secret_rotate(&n, err, sizeof(err)) == -1) {
		audit(c, "secret.rotate_key", NULL, err, NULL);
		reply_err(c, id, NF_EXIT_FAILED, "%s", err);
		return;
	}
	audit(c, "secret.rotate_key", nf_secret_key_id(), "ok", NULL);
	d = nf_val_map();
	nf_val_map_set_int(d, "secrets", (int64_t)n);
	nf_val_map_set_str(d, "key_id", nf_secret_key_id());
	reply_ok(c, id, d);
}

/*
 * UI accounts (admin).  A password arrives only in user.passwd's args and
 * is never echoed, logged or audited: the audit names the account.
 */

/* A password being hashed (webauth's thread): where its answer goes. */
struct user_passwd {
	struct nf_caller	*client;
	uint64_t		 gen;
	int64_t			 req_id;
	int64_t			 uid;		/* the caller, for the audit */
	char			 name[NF_WEBAUTH_NAME_MAX + 1];
	char			 user[];	/* the caller, for the audit */
};

static void
user_passwd_done(int rc, const char *err, void *arg)
{
	struct user_passwd	*u = arg;
	struct nf_audit_rec	 a;
	struct nf_val		*d;

	/* Audited even when the client went away: the change is made. */
	memset(&a, 0, sizeof(a));
	a.ts = nf_now_ms();
	a.user = u->user;
	a.uid = u->uid;
	a.action = "user.passwd";
	a.target = u->name;
	a.result = rc == 0 ? "ok" : err;
	nf_store_audit(&a);
	if (caller_alive(u->client, u->gen)) {
		if (rc == 0) {
			d = nf_val_map();
			nf_val_map_set_str(d, "name", u->name);
			nf_val_map_set_bool(d, "ui", nf_webauth_bound(u->name));
			reply_ok(u->client, u->req_id, d);
		} else
			reply_err(u->client, u->req_id, NF_EXIT_FAILED, "%s",
			    err);
	}
	free(u);
}

/*
 * The answer comes when the hash is made (about 170 ms, off the loop):
 * other clients are served meanwhile.  u is one allocation because a
 * shutdown with the hash in flight frees it without the callback.
 */
static void
cmd_user_passwd(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "name", NF_V_STR, 1 }, { "password", NF_V_STR, 1 },
		{ NULL, 0, 0 }
	};
	const struct nf_val	*v;
	struct user_passwd	*u;
	const char		*name;
	char			 err[512];
	int			 rc;

	if (check_args(c, id, "user.passwd", args, spec) == -1)
		return;
	name = nf_val_get_str(args, "name");
	v = nf_val_get(args, "password");
	rc = nf_webauth_name_check(name, err, sizeof(err));
	if (rc == 0 && memchr(v->u.s.p, '\0', v->u.s.len) != NULL) {
		snprintf(err, sizeof(err), "password of %s: it must not "
		    "contain NUL characters", name);
		rc = -1;
	}
	if (rc == 0)
		rc = nf_webauth_password_check(name, v->u.s.p, err,
		    sizeof(err));
	if (rc == -1) {
		explicit_bzero((char *)(uintptr_t)v->u.s.p, v->u.s.len);
		audit(c, "user.passwd", name, err, NULL);
		reply_err(c, id, NF_EXIT_USAGE, "%s", err);
		return;
	}
	u = nf_xcalloc(1, sizeof(*u) + strlen(c->user) + 1);
	u->client = c;
	u->gen = c->gen;
	u->req_id = id;
	snprintf(u->name, sizeof(u->name), "%s", name);
	memcpy(u->user, c->user, strlen(c->user) + 1);
	u->uid = c->uid;
	rc = nf_webauth_set_password_start(name, v->u.s.p, user_passwd_done,
	    u, err, sizeof(err));
	/* webauth has its own copy; the request is freed after dispatch. */
	explicit_bzero((char *)(uintptr_t)v->u.s.p, v->u.s.len);
	if (rc == -1) {
		free(u);
		audit(c, "user.passwd", name, err, NULL);
		reply_err(c, id, NF_EXIT_FAILED, "%s", err);
	}
}

static void
cmd_user_list(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = { { NULL, 0, 0 } };
	struct nf_val	*l;
	char		 err[512];

	if (check_args(c, id, "user.list", args, spec) == -1)
		return;
	if ((l = nf_webauth_list(err, sizeof(err))) == NULL) {
		reply_err(c, id, NF_EXIT_FAILED, "%s", err);
		return;
	}
	reply_ok(c, id, l);
}

static void
cmd_user_rm(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "name", NF_V_STR, 1 }, { NULL, 0, 0 }
	};
	const char	*name;
	char		 err[512];
	int		 rc;

	if (check_args(c, id, "user.rm", args, spec) == -1)
		return;
	name = nf_val_get_str(args, "name");
	if ((rc = nf_webauth_remove(name, err, sizeof(err))) == -1) {
		audit(c, "user.rm", name, err, NULL);
		reply_err(c, id, NF_EXIT_FAILED, "%s", err);
		return;
	}
	if (rc == 0) {
		reply_err(c, id, NF_EXIT_NOTFOUND, "no UI account \"%s\" "
		    "(nfctl user list shows them)", name);
		return;
	}
	audit(c, "user.rm", name, "ok", NULL);
	reply_ok(c, id, NULL);
}

/* A pool test in flight: where its answer goes. */
struct pool_test {
	struct nf_caller	*client;
	uint64_t		 gen;
	int64_t			 req_id;
	char			*pool;
	char			*driver;
	int64_t			 started;	/* monotonic ms */
};

static void
pool_test_done(void *arg, struct nf_step_outcome *o)
{
	struct pool_test	*t = arg;
	struct nf_val		*d;
	int64_t			 ms = nf_mono_ms() - t->started;

	if (caller_alive(t->client, t->gen)) {
		if (o->state == NF_ATT_SUCCEEDED) {
			d = nf_val_map();
			nf_val_map_set_str(d, "pool", t->pool);
			nf_val_map_set_str(d, "driver", t->driver);
			nf_val_map_set_bool(d, "ok", 1);
			nf_val_map_set_int(d, "elapsed_ms", ms);
			reply_ok(t->client, t->req_id, d);
		} else
			reply_err(t->client, t->req_id, NF_EXIT_FAILED,
			    "pool %s (%s): %s: %s", t->pool, t->driver,
			    nf_reason_name(o->reason),
			    o->error != NULL ? o->error : "failed");
	}
	nf_info("pool %s test: %s (%lld ms)", t->pool,
	    o->state == NF_ATT_SUCCEEDED ? "ok" : o->error != NULL ?
	    o->error : "failed", (long long)ms);
	free(t->pool);
	free(t->driver);
	free(t);
}

static void
cmd_pool_test(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "name", NF_V_STR, 1 }, { NULL, 0, 0 }
	};
	const struct nf_pool	*pool;
	struct pool_test	*t;
	const char		*name;
	char			 err[512];

	if (check_args(c, id, "pool.test", args, spec) == -1)
		return;
	name = nf_val_get_str(args, "name");
	if ((pool = nf_config_pool(nfd.cur->cfg, name)) == NULL) {
		reply_err(c, id, NF_EXIT_NOTFOUND, "no pool \"%s\" (pools are "
		    "[pools.NAME] tables in %s)", name, nfd.config_path);
		return;
	}
	t = nf_xcalloc(1, sizeof(*t));
	t->client = c;
	t->gen = c->gen;
	t->req_id = id;
	t->pool = nf_xstrdup(pool->name);
	t->driver = nf_xstrdup(pool->driver);
	t->started = nf_mono_ms();
	audit(c, "pool.test", pool->name, "started", NULL);
	if (nf_spawn_probe(pool, pool_test_done, t, err, sizeof(err)) == -1) {
		reply_err(c, id, NF_EXIT_FAILED, "pool %s: %s", pool->name,
		    err);
		free(t->pool);
		free(t->driver);
		free(t);
	}
}

/* The metrics text, the same GET /metrics serves (metrics.c). */
static void
cmd_metrics(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = { { NULL, 0, 0 } };
	struct nf_buf	b;

	if (check_args(c, id, "metrics", args, spec) == -1)
		return;
	nf_buf_init(&b);
	nf_metrics_render(&b);
	reply_ok(c, id, nf_val_strn(b.data, b.len));
	nf_buf_free(&b);
}

static void
cmd_audit(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "since", NF_V_INT, 0 }, { "user", NF_V_STR, 0 },
		{ "job", NF_V_STR, 0 }, { "limit", NF_V_INT, 0 },
		{ NULL, 0, 0 }
	};
	struct nf_audit_filter	 f;
	struct nf_val		*a;
	int64_t			 v;

	if (check_args(c, id, "audit", args, spec) == -1)
		return;
	memset(&f, 0, sizeof(f));
	f.user = nf_val_get_str(args, "user");
	f.job = nf_val_get_str(args, "job");
	if (nf_val_get_int(args, "since", &v))
		f.since = v;
	if (nf_val_get_int(args, "limit", &v)) {
		if (v < 1 || v > 10000) {
			reply_err(c, id, NF_EXIT_USAGE, "audit: limit must be "
			    "1..10000");
			return;
		}
		f.limit = (int)v;
	}
	if ((a = nf_store_audit_list(&f)) == NULL) {
		reply_err(c, id, NF_EXIT_FAILED, "cannot read the audit "
		    "trail: %s", nf_store_error());
		return;
	}
	reply_ok(c, id, a);
}

/* A prune in progress: where its answer goes (like a pool test). */
struct prune_req {
	struct nf_caller	*client;
	uint64_t		 gen;
	int64_t			 req_id;
};

static void
prune_done(void *arg, struct nf_val *report, const char *error)
{
	struct prune_req	*p = arg;

	if (caller_alive(p->client, p->gen)) {
		if (report != NULL) {
			reply_ok(p->client, p->req_id, report);
			report = NULL;
		} else
			reply_err(p->client, p->req_id, NF_EXIT_FAILED, "%s",
			    error != NULL ? error : "retention failed");
	}
	nf_val_free(report);
	free(p);
}

/*
 * prune {dry_run}: a retention pass now.  The answer comes when the pass
 * ends (it prunes in batches between other work); a dry run counts at
 * once.
 */
static void
cmd_prune(struct nf_caller *c, int64_t id, const struct nf_val *args)
{
	static const struct argspec spec[] = {
		{ "dry_run", NF_V_BOOL, 0 }, { NULL, 0, 0 }
	};
	struct prune_req	*p;
	int			 dry = 0;

	if (check_args(c, id, "prune", args, spec) == -1)
		return;
	nf_val_get_bool(args, "dry_run", &dry);
	if (!dry)
		audit(c, "prune", NULL, "started", NULL);
	p = nf_xcalloc(1, sizeof(*p));
	p->client = c;
	p->gen = c->gen;
	p->req_id = id;
	nf_retention_prune(dry, prune_done, p);
}

/* What a command needs to be allowed: see client_dispatch. */
enum cmd_target {
	CT_CONNECT = 0,	/* a connection is enough */
	CT_DAEMON,	/* the verb on the daemon */
	CT_JOB_ID,	/* the verb on the job of argument "id" */
	CT_JOB_ARG,	/* the verb on the job of argument "job" */
	CT_RUN,		/* the verb on the job of the run "run_id" */
	CT_LIST,	/* filters by view; "job", when given, must be viewable */
};

static const struct {
	const char	*name;
	void		(*fn)(struct nf_caller *, int64_t,
			    const struct nf_val *);
	enum cmd_target	 target;
	enum nf_acl_verb verb;
} commands[] = {
	{ "pool.test", cmd_pool_test, CT_DAEMON, NF_ACL_ADMIN },
	{ "status", cmd_status, CT_CONNECT, 0 },
	{ "jobs", cmd_jobs, CT_LIST, NF_ACL_VIEW },
	{ "job.show", cmd_job_show, CT_JOB_ID, NF_ACL_VIEW },
	{ "job.enable", cmd_job_enable, CT_JOB_ID, NF_ACL_ENABLE },
	{ "job.disable", cmd_job_disable, CT_JOB_ID, NF_ACL_ENABLE },
	{ "run", cmd_run, CT_JOB_ARG, NF_ACL_RUN },
	{ "runs", cmd_runs, CT_LIST, NF_ACL_VIEW },
	{ "run.show", cmd_run_show, CT_RUN, NF_ACL_VIEW },
	{ "logs", cmd_logs, CT_RUN, NF_ACL_VIEW },
	{ "cancel", cmd_cancel, CT_RUN, NF_ACL_CANCEL },
	{ "replay", cmd_replay, CT_RUN, NF_ACL_REPLAY },
	{ "next", cmd_next, CT_JOB_ID, NF_ACL_VIEW },
	{ "cron", cmd_cron, CT_CONNECT, 0 },
	{ "reload", cmd_reload, CT_DAEMON, NF_ACL_RELOAD },
	{ "validate", cmd_validate, CT_DAEMON, NF_ACL_RELOAD },
	{ "prune", cmd_prune, CT_DAEMON, NF_ACL_ADMIN },
	{ "audit", cmd_audit, CT_DAEMON, NF_ACL_AUDIT },
	{ "metrics", cmd_metrics, CT_DAEMON, NF_ACL_AUDIT },
	{ "secret.set", cmd_secret_set, CT_DAEMON, NF_ACL_SECRETS },
	{ "secret.list", cmd_secret_list, CT_DAEMON, NF_ACL_SECRETS },
	{ "secret.rm", cmd_secret_rm, CT_DAEMON, NF_ACL_SECRETS },
	{ "secret.rotate_key", cmd_secret_rotate_key, CT_DAEMON,
	    NF_ACL_SECRETS },
	{ "user.passwd", cmd_user_passwd, CT_DAEMON, NF_ACL_ADMIN },
	{ "user.list", cmd_user_list, CT_DAEMON, NF_ACL_ADMIN },
	{ "user.rm", cmd_user_rm, CT_DAEMON, NF_ACL_ADMIN },
};

/*
 * The permission check of command i, before it does anything.  The
 * target's argument is read here with the type the command's own
 * check_args() demands; when it is missing or of another type the command
 * runs and refuses the arguments itself (it does nothing else then).
 */
static int
dispatch_permit(struct nf_caller *c, int64_t id, size_t i,
    const struct nf_val *args)
{
	const char	*cmd = commands[i].name, *job;
	enum nf_acl_verb verb = commands[i].verb;
	struct nf_run	*r;
	struct nf_val	*st;
	int64_t		 run_id;
	int		 ok;

	switch (commands[i].target) {
	case CT_CONNECT:
		return 1;
	case CT_DAEMON:
		return permit(c, id, cmd, verb, NULL, 0, args);
	case CT_JOB_ID:
	case CT_JOB_ARG:
		job = nf_val_get_str(args, commands[i].target == CT_JOB_ID ?
		    "id" : "job");
		return job == NULL || permit(c, id, cmd, verb, job, 0, args);
	case CT_LIST:
		job = nf_val_get_str(args, "job");
		return job == NULL || permit(c, id, cmd, verb, job, 0, args);
	case CT_RUN:
		if (!nf_val_get_int(args, "run_id", &run_id) || run_id <= 0)
			return 1;
		if ((r = nf_run_find(run_id)) != NULL)
			return permit(c, id, cmd, verb, r->job_id, run_id,
			    args);
		/* No such run: the command says so. */
		if ((st = nf_store_run_get(run_id)) == NULL)
			return 1;
		ok = permit(c, id, cmd, verb, nf_val_get_str(st, "job_id"),
		    run_id, args);
		nf_val_free(st);
		return ok;
	}
	nf_panic("dispatch_permit: target %d", (int)commands[i].target);
}

/*
 * Every command, whoever sends it, runs here: the permission check, then
 * the handler.  Its answer goes to the caller's reply sink.
 */
static void
caller_dispatch(struct nf_caller *c, int64_t id, const char *cmd,
    const struct nf_val *args)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(commands); i++)
		if (strcmp(commands[i].name, cmd) == 0) {
			nf_debug("control: %s: %s", c->user, cmd);
			if (dispatch_permit(c, id, i, args))
				commands[i].fn(c, id, args);
			return;
		}
	reply_err(c, id, NF_EXIT_USAGE, "unknown command \"%s\"", cmd);
}

/*
 * A web request as a caller: an account of the UI ("web:alice"), matched
 * against [[user]] name = "alice" of the roles (uid -1, no groups, never
 * the builtin admin).  Its reply sink keeps the one answer; it follows
 * nothing (the web server subscribes to the events itself), so its follow
 * sink drops what arrives.
 */
struct exec_caller {
	struct nf_caller	 caller;
	struct nf_val		*reply;		/* the CTL_RESP, or NULL */
};

static void
exec_reply(struct nf_caller *caller, struct nf_val *msg)
{
	struct exec_caller	*x = (struct exec_caller *)caller;

	if (x->reply != NULL)
		nf_panic("control: two replies to one web request");
	x->reply = msg;
}

static void
exec_event(struct nf_caller *caller, struct nf_val *msg)
{
	nf_val_free(msg);
}

static const struct nf_caller_ops exec_ops = { exec_reply, exec_event };

static void
exec_caller_init(struct exec_caller *x, const char *account)
{
	memset(x, 0, sizeof(*x));
	x->caller.user = nf_xprintf("web:%s", account);
	x->caller.name = nf_xstrdup(account);
	x->caller.uid = -1;
	caller_begin(&x->caller, &exec_ops);
}

struct nf_val *
nf_control_exec(const char *account, const char *cmd,
    const struct nf_val *args, int *code, char *err, size_t errlen)
{
	struct exec_caller	 x;
	struct nf_val		*data = NULL;
	const char		*e;
	int64_t			 c;
	int			 ok = 0;

	exec_caller_init(&x, account);
	caller_dispatch(&x.caller, 1, cmd, args);
	/* Whatever answers later (pool.test) finds the caller gone. */
	caller_end(&x.caller);
	if (x.reply == NULL) {
		*code = NF_EXIT_FAILED;
		snprintf(err, errlen, "%s answers asynchronously; use nfctl",
		    cmd);
		return NULL;
	}
	nf_val_get_bool(x.reply, "ok", &ok);
	if (ok) {
		data = nf_val_map_take(x.reply, "data");
		if (data == NULL)
			data = nf_val_nil();
	} else {
		*code = nf_val_get_int(x.reply, "code", &c) ? (int)c :
		    NF_EXIT_FAILED;
		e = nf_val_get_str(x.reply, "error");
		snprintf(err, errlen, "%s", e != NULL ? e : "failed");
	}
	nf_val_free(x.reply);
	return data;
}

int
nf_control_may(const char *account, enum nf_acl_verb verb,
    const char *job_id)
{
	struct nf_caller	 c;

	memset(&c, 0, sizeof(c));
	c.name = (char *)account;
	c.uid = -1;
	return may(&c, verb, job_id);
}

/* Every client frame arrives here. */
static void
client_dispatch(struct nf_client *cl, enum nf_msg_type type,
    struct nf_val *msg)
{
	struct nf_caller	*c = &cl->caller;
	char			 err[256];
	int64_t			 id = 0;

	if (!cl->hello) {
		if (type != NF_MSG_HELLO || nf_msg_hello_check(msg,
		    NF_PROTO_CONTROL, err, sizeof(err)) == -1) {
			if (type != NF_MSG_HELLO)
				snprintf(err, sizeof(err), "expected hello "
				    "first, got \"%s\"",
				    nf_msg_type_name(type));
			reply_err(c, 0, NF_EXIT_USAGE, "%s", err);
			c->closing = 1;
			return;
		}
		cl->hello = 1;
		client_send(cl, nf_msg_hello(NF_PROTO_CONTROL));
		return;
	}
	if (type != NF_MSG_CTL_REQ) {
		reply_err(c, 0, NF_EXIT_USAGE, "unexpected \"%s\" frame",
		    nf_msg_type_name(type));
		c->closing = 1;
		return;
	}
	nf_val_get_int(msg, "id", &id);
	caller_dispatch(c, id, nf_val_get_str(msg, "cmd"),
	    nf_val_get(msg, "args"));
}

static void
client_free(struct nf_client *c)
{
	caller_end(&c->caller);
	LIST_REMOVE(c, entry);
	nclients--;
	ev_io_stop(nfd.loop, &c->rio);
	ev_io_stop(nfd.loop, &c->wio);
	close(c->fd);
	nf_msg_reader_free(&c->rd);
	nf_buf_free(&c->out);
	free(c);
}

static void
client_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct nf_client	*c = io->data;
	enum nf_msg_type	 type;
	struct nf_val		*msg;
	uint64_t		 gen = c->caller.gen;
	char			 err[256];

	for (;;) {
		switch (nf_msg_read(&c->rd, NF_RD_NOWAIT, &type, &msg, err,
		    sizeof(err))) {
		case NF_RD_MSG:
			break;
		case NF_RD_AGAIN:
			return;
		case NF_RD_TOOBIG:
		case NF_RD_BAD:
			nf_warnx("control client %s (pid %d): %s; dropping "
			    "it", c->caller.user, (int)c->pid, err);
			reply_err(&c->caller, 0, NF_EXIT_USAGE, "bad frame: "
			    "%s", err);
			c->caller.closing = 1;
			ev_io_stop(loop, &c->rio);
			return;
		default:
			/* gone, or gone in the middle of a frame */
			client_free(c);
			return;
		}
		client_dispatch(c, type, msg);
		nf_val_free(msg);
		if (!client_exists(c, gen))
			return;		/* dropped while answering */
		if (c->caller.closing) {
			ev_io_stop(loop, &c->rio);
			return;
		}
	}
}

static void
client_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct nf_client	*c = io->data;
	ssize_t			 n;

	while (c->out.len > 0) {
		n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_free(c);
			return;
		}
		nf_buf_consume(&c->out, (size_t)n);
	}
	ev_io_stop(loop, &c->wio);
	if (c->caller.closing)
		client_free(c);
}

/*
 * Who may talk to the daemon at all: root, its own user, members of the
 * socket's group, and anyone a [[user]] or [[group]] entry names (the
 * roles decide the rest; the socket's mode still decides who can
 * connect(2)).
 */
static int
peer_allowed(const struct nf_client *c, uid_t uid, gid_t gid,
    const char *name)
{
	struct nf_acl_ident	 who;
	gid_t			 groups[64];
	int			 n = NF_NELEM(groups), i;

	if (uid == 0 || uid == geteuid())
		return 1;
	caller_ident(&c->caller, &who);
	if (nf_acl_bound(nfd.cur->cfg->acl, &who))
		return 1;
	if (sock_gid == (gid_t)-1)
		return 0;
	if (gid == sock_gid)
		return 1;
	if (name != NULL && getgrouplist(name, gid, groups, &n) != -1)
		for (i = 0; i < n; i++)
			if (groups[i] == sock_gid)
				return 1;
	return 0;
}

/*
 * The names of the client's groups: its primary group and, when the
 * passwd database knows the user, its supplementary groups as the group
 * database lists them (getgrouplist), which is what [[group]] bindings
 * match.  Resolved once per connection.
 */
static void
client_groups(struct nf_client *c)
{
	struct group	*gr;
	gid_t		*gids;
	int		 n = 32, want, i;

	gids = nf_xcalloc((size_t)n, sizeof(*gids));
	if (c->caller.name != NULL && getgrouplist(c->caller.name, c->gid,
	    gids, &n) ==
	    -1) {
		/* Too small: n now says how many there are. */
		want = n > 32 ? n : 32;
		gids = nf_xreallocarray(gids, (size_t)want, sizeof(*gids));
		n = want;
		if (getgrouplist(c->caller.name, c->gid, gids, &n) == -1)
			n = 0;
	}
	if (c->caller.name == NULL || n <= 0) {
		gids[0] = c->gid;
		n = 1;
	}
	c->caller.groups = nf_xcalloc((size_t)n, sizeof(*c->caller.groups));
	for (i = 0; i < n; i++)
		if ((gr = getgrgid(gids[i])) != NULL)
			c->caller.groups[c->caller.ngroups++] =
			    nf_xstrdup(gr->gr_name);
	free(gids);
}

int
nf_control_adopt(int fd)
{
	struct nf_client	*c;
	struct ucred		 cred;
	struct passwd		*pw;
	socklen_t		 len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		nf_warn("control: SO_PEERCRED");
		close(fd);
		return -1;
	}
	c = nf_xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->caller.uid = (long long)cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	pw = getpwuid(cred.uid);
	c->caller.user = pw != NULL ? nf_xprintf("user:%s", pw->pw_name) :
	    nf_xprintf("user:%u", (unsigned)cred.uid);
	c->caller.name = pw != NULL ? nf_xstrdup(pw->pw_name) : NULL;
	c->caller.builtin_admin = cred.uid == 0 || cred.uid == geteuid();
	caller_begin(&c->caller, &client_ops);
	nf_msg_reader_init(&c->rd, fd, NF_DIR_CTL_REQUEST);
	nf_buf_init(&c->out);
	ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
	c->rio.data = c;
	ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
	c->wio.data = c;
	LIST_INSERT_HEAD(&clients, c, entry);
	nclients++;
	if (nclients > MAX_CLIENTS) {
		nf_warnx("control: too many clients (%d); refusing %s",
		    nclients, c->caller.user);
		reply_err(&c->caller, 0, NF_EXIT_UNREACHABLE,
		    "too many clients");
		c->caller.closing = 1;
		return 0;
	}
	client_groups(c);
	if (!peer_allowed(c, cred.uid, cred.gid, c->caller.name)) {
		nf_warnx("control: %s (pid %d) is not allowed",
		    c->caller.user, (int)c->pid);
		reply_err(&c->caller, 0, NF_EXIT_PERM, "permission denied: "
		    "%s may not control nomaflowd (needs root, the daemon's "
		    "user, the socket's group, or a [[user]] or [[group]] "
		    "entry in %s)", c->caller.user, nfd.config_path);
		c->caller.closing = 1;
		return 0;
	}
	ev_io_start(nfd.loop, &c->rio);
	return 0;
}

static void
listen_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	int	fd;

	fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			nf_warn("control: accept");
		return;
	}
	(void)nf_control_adopt(fd);
}

int
nf_control_open(const struct nf_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct group		*gr;
	struct stat		 sb;
	int			 fd, probe;
	mode_t			 old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->socket_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path %s is too long "
		    "(max %zu bytes)", cfg->socket_path,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	strcpy(sun.sun_path, cfg->socket_path);
	/* A live daemon on the socket: refuse; a stale socket: remove. */
	if (lstat(cfg->socket_path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket; "
			    "remove it or set control.socket",
			    cfg->socket_path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe != -1 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "another nomaflowd is listening "
			    "on %s", cfg->socket_path);
			return -1;
		}
		if (probe != -1)
			close(probe);
		unlink(cfg->socket_path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(err, errlen, "bind %s: %s", cfg->socket_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	sock_gid = (gid_t)-1;
	if (cfg->socket_group != NULL) {
		if ((gr = getgrnam(cfg->socket_group)) == NULL) {
			snprintf(err, errlen, "control.group: no group %s",
			    cfg->socket_group);
			close(fd);
			unlink(cfg->socket_path);
			return -1;
		}
		sock_gid = gr->gr_gid;
		if (chown(cfg->socket_path, (uid_t)-1, sock_gid) == -1) {
			snprintf(err, errlen, "chown %s: %s", cfg->socket_path,
			    strerror(errno));
			close(fd);
			unlink(cfg->socket_path);
			return -1;
		}
	}
	if (chmod(cfg->socket_path, (mode_t)cfg->socket_mode) == -1 ||
	    listen(fd, 64) == -1) {
		snprintf(err, errlen, "%s: %s", cfg->socket_path,
		    strerror(errno));
		close(fd);
		unlink(cfg->socket_path);
		return -1;
	}
	listen_fd = fd;
	sock_path = nf_xstrdup(cfg->socket_path);
	ev_io_init(&listen_io, listen_cb, fd, EV_READ);
	ev_io_start(nfd.loop, &listen_io);
	events_sub = nf_events_subscribe(NF_EVENT_ALL, follow_event,
	    follow_want, NULL);
	return 0;
}

void
nf_control_close(void)
{
	struct nf_client	*c;

	while ((c = LIST_FIRST(&clients)) != NULL)
		client_free(c);
	if (events_sub != 0) {
		nf_events_unsubscribe(events_sub);
		events_sub = 0;
	}
	if (listen_fd != -1) {
		ev_io_stop(nfd.loop, &listen_io);
		close(listen_fd);
		listen_fd = -1;
		unlink(sock_path);
	}
	free(sock_path);
	sock_path = NULL;
}
