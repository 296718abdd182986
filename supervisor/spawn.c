/*
 * spawn.c: spawning, talking to and reaping nomaflow-worker processes.
 * Runs in nomaflowd.  The only module that creates or reaps children.
 *
 * A worker is started with posix_spawn (never fork(): its cost grows with
 * the parent's size), in its own process group, with one end of a
 * socketpair on fd 3, stdin on /dev/null, stdout/stderr inherited and
 * every other descriptor closed.  Its frames arrive in exactly one function
 * (worker_dispatch).  Children are reaped only by libev (ev_child), and the
 * exit status is classified in exactly one function (worker_classify).
 *
 * Each worker carries a generation number; timers and callbacks check it so
 * an event for a worker that is already gone is ignored.  The sender
 * decides the reaction: a bad frame from a worker kills the worker and
 * fails the step with reason "protocol".
 *
 * A step's worker is moved into the attempt's cgroup (cgroup.c) right
 * after posix_spawn, before HELLO; the cgroup is killed and released when
 * the worker is reaped.
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "config.h"
#include "log.h"
#include "nomaflowd.h"
#include "proto.h"
#include "run.h"
#include "secret.h"
#include "spawn.h"
#include "policy.h"
#include "steptypes.h"
#include "template.h"

extern char **environ;

/*
 * A worker must say HELLO within this long, or it is killed as a protocol
 * error.  The step's own timeout runs from spawn, so a shorter step
 * timeout ends a silent worker first, as a timeout.
 */
#define HELLO_TIMEOUT	10.0

enum worker_state {
	W_HELLO = 0,	/* spawned, waiting for its HELLO */
	W_STARTED,	/* STEP_START sent */
	W_READY,	/* STEP_READY received: sandboxed, step running */
	W_RESULT,	/* RESULT received */
	W_DEAD,		/* protocol error: killed, waiting to reap */
};

struct nf_worker {
	uint64_t		 gen;
	pid_t			 pid;
	int			 fd;
	enum worker_state	 state;
	struct nf_run		*run;
	struct nf_probe		*probe;	/* a pool test: no run */
	struct nf_cgroup	*cgroup;	/* the attempt's, or NULL */
	char			*policy;	/* the step's policy */
	char			*self_policy;	/* the worker's own policy */
	int			 step_timeout;
	ev_tstamp		 spawned;	/* ev_now at spawn */
	ev_io			 rio, wio;
	ev_child		 child;
	ev_timer		 timer;		/* hello/step timeout */
	ev_timer		 kill_timer;	/* SIGTERM -> SIGKILL grace */
	struct nf_msg_reader	 rd;
	struct nf_buf		 out;
	enum nf_reason		 stop_reason;	/* why we stopped it */
	char			*proto_err;
	char			*start_err;	/* step refused before it ran */
	/* from RESULT */
	int			 res_ok;
	enum nf_reason		 res_reason;
	char			*res_error;
	int			 res_exit;
	int			 res_signal;
	int64_t			 res_rows;
	/* A "deny" call the worker's SIGSYS handler reported (sandbox.c). */
	int			 res_trapped;
	int64_t			 res_syscall;
	uint64_t		 res_args[6];
	struct nf_val		*output;
};

/*
 * Compiled policies, per configuration: each policy a step type needs is
 * compiled once (at the first spawn that needs it, from the policies that
 * the configuration's load checked) and kept as a sealed memfd that every
 * worker inherits, so a worker installs its filter with one system call
 * instead of parsing and compiling the policy text again.
 */
struct nf_bpf_entry {
	char	*name;
	int	 fd;
};
struct nf_bpf_cache {
	struct nf_bpf_entry	*e;
	size_t			 n;
};

/*
 * A pool test (nfctl pool test): one sql_query worker that runs a trivial
 * statement on the pool, outside any run; its outcome goes to done().
 */
struct nf_probe {
	struct nf_pool	*pool;		/* copy of the pool's definition */
	void		(*done)(void *, struct nf_step_outcome *);
	void		*arg;
};

static void	worker_send_probe_start(struct nf_worker *);
static void	worker_trap_args(struct nf_worker *, const struct nf_val *);
static void	probe_free(struct nf_probe *);
static void	worker_read_cb(struct ev_loop *, ev_io *, int);
static void	start_run_as(struct nf_val *, const struct nf_runas *);
static void	worker_write_cb(struct ev_loop *, ev_io *, int);
static void	worker_child_cb(struct ev_loop *, ev_child *, int);
static void	worker_timer_cb(struct ev_loop *, ev_timer *, int);
static void	worker_kill_cb(struct ev_loop *, ev_timer *, int);

const char *
nf_signal_name(int sig)
{
	static char	buf[32];
	const char	*n;

	if ((n = sigabbrev_np(sig)) != NULL) {
		snprintf(buf, sizeof(buf), "SIG%s", n);
		return buf;
	}
	snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

void
nf_spawn_cache_free(struct nf_cfgref *ref)
{
	size_t	i;

	if (ref->bpf == NULL)
		return;
	for (i = 0; i < ref->bpf->n; i++) {
		close(ref->bpf->e[i].fd);
		free(ref->bpf->e[i].name);
	}
	free(ref->bpf->e);
	free(ref->bpf);
	ref->bpf = NULL;
}

/* The sealed memfd holding policy `name` compiled, or -1 and err. */
static int
policy_fd(struct nf_cfgref *ref, const char *name, char *err, size_t errlen)
{
	struct nf_policy	*p;
	struct nf_errs		 errs;
	const void		*prog;
	size_t			 i, len;
	int			 fd;

	if (ref->bpf == NULL)
		ref->bpf = nf_xcalloc(1, sizeof(*ref->bpf));
	for (i = 0; i < ref->bpf->n; i++)
		if (strcmp(ref->bpf->e[i].name, name) == 0)
			return ref->bpf->e[i].fd;
	nf_errs_init(&errs);
	p = nf_policy_load(ref->cfg->policies_dir, name, &errs);
	if (p == NULL) {
		snprintf(err, errlen, "cannot compile policy %s: %s", name,
		    errs.n > 0 ? errs.msgs[0] : "unknown error");
		nf_errs_free(&errs);
		return -1;
	}
	nf_errs_free(&errs);
	fd = -1;
	if (nf_policy_export(p, &prog, &len) == -1 ||
	    (fd = memfd_create("nomaflow-policy", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1 || nf_write_all(fd, prog, len) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		snprintf(err, errlen, "cannot export policy %s: %s", name,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		nf_policy_free(p);
		return -1;
	}
	nf_policy_free(p);
	ref->bpf->e = nf_xreallocarray(ref->bpf->e, ref->bpf->n + 1,
	    sizeof(*ref->bpf->e));
	ref->bpf->e[ref->bpf->n].name = nf_xstrdup(name);
	ref->bpf->e[ref->bpf->n].fd = fd;
	ref->bpf->n++;
	return fd;
}

static void
worker_send(struct nf_worker *w, struct nf_val *msg)
{
	nf_msg_encode(msg, &w->out);
	nf_val_free(msg);
	if (w->fd != -1 && !ev_is_active(&w->wio))
		ev_io_start(nfd.loop, &w->wio);
}

/* Kill the whole process group now. */
static void
worker_sigkill(struct nf_worker *w)
{
	if (w->pid > 0 && killpg(w->pid, SIGKILL) == -1 && errno != ESRCH)
		nf_warn("killpg %d", (int)w->pid);
}

static void
worker_close_fd(struct nf_worker *w)
{
	if (w->fd == -1)
		return;
	ev_io_stop(nfd.loop, &w->rio);
	ev_io_stop(nfd.loop, &w->wio);
	close(w->fd);
	w->fd = -1;
}

static void
worker_protocol_error(struct nf_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
worker_protocol_error(struct nf_worker *w, const char *fmt, ...)
{
	va_list	ap;
	char	buf[512];

	if (w->proto_err != NULL || w->state == W_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	w->proto_err = nf_xstrdup(buf);
	w->state = W_DEAD;
	nf_warnx("worker %d (run %lld): protocol error: %s; killing it",
	    (int)w->pid, w->run != NULL ? (long long)w->run->id : 0LL, buf);
	worker_close_fd(w);
	worker_sigkill(w);
}

/* A pool test has no run: its ${secret.NAME} are opened without one. */
static struct nf_val *
probe_secret_cb(void *arg, const char *name, char *err, size_t errlen)
{
	struct nf_val	*v;
	char		*value;
	int		 rc;

	if ((rc = nf_secret_get(name, &value, err, errlen)) == -1)
		return NULL;
	if (rc == 0) {
		snprintf(err, errlen, "no secret \"%s\" (set it with nfctl "
		    "secret set %s)", name, name);
		return NULL;
	}
	v = nf_val_str(value);
	nf_secret_wipe(value);
	return v;
}

/*
 * Open the ${secret.NAME} of a pool's conninfo (pm is a pool map from
 * nf_steptype_pool_map()) for this worker only; with a run, the values
 * join its redaction list.  On failure perr (if still empty) says why and
 * the conninfo is left out: the caller refuses to start the step.
 */
static void
pool_open_secrets(struct nf_val *pm, struct nf_run *r, char *perr,
    size_t perrlen)
{
	struct nf_tmpl_ctx	 c;
	const char		*conninfo, *name;
	char			*ci, err[512];

	if (pm == NULL || pm->type != NF_V_MAP ||
	    (conninfo = nf_val_get_str(pm, "conninfo")) == NULL ||
	    strstr(conninfo, "${secret.") == NULL)
		return;
	name = nf_val_get_str(pm, "name");
	memset(&c, 0, sizeof(c));
	c.secret = probe_secret_cb;
	ci = r != NULL ? nf_run_render_secrets(r, conninfo, err,
	    sizeof(err)) : nf_tmpl_render_secrets(conninfo, &c, err,
	    sizeof(err));
	if (ci == NULL) {
		if (perr[0] == '\0')
			snprintf(perr, perrlen, "pool %s: conninfo: %s",
			    name != NULL ? name : "?", err);
		return;
	}
	nf_val_map_set_str(pm, "conninfo", ci);
	nf_secret_wipe(ci);
}

/* Every pool a STEP_START carries: "pool", and each of "pools". */
static void
start_open_secrets(struct nf_val *m, struct nf_run *r, char *perr,
    size_t perrlen)
{
	struct nf_val	*v;
	size_t		 i, j;

	for (i = 0; i < m->u.m.n; i++) {
		v = m->u.m.kv[i].val;
		if (strcmp(m->u.m.kv[i].key, "pool") == 0)
			pool_open_secrets(v, r, perr, perrlen);
		else if (strcmp(m->u.m.kv[i].key, "pools") == 0 &&
		    v->type == NF_V_MAP)
			for (j = 0; j < v->u.m.n; j++)
				pool_open_secrets(v->u.m.kv[j].val, r, perr,
				    perrlen);
	}
}

static void
worker_send_start(struct nf_worker *w)
{
	struct nf_run		*r = w->run;
	const struct nf_step	*st = &r->job->steps[r->step];
	const struct nf_config	*cfg = r->cfgref->cfg;
	const struct nf_steptype *type;
	struct nf_step_start	 ss;
	struct nf_val		*m;
	size_t			 before, len;
	char			 perr[1024] = "";

	/* nf_spawn_step() found it: the config of a run never changes. */
	if ((type = nf_steptype_find(st->type)) == NULL)
		nf_panic("run %lld: step %s of unknown type %s",
		    (long long)r->id, st->name, st->type);
	m = nf_msg_new(NF_MSG_STEP_START);
	nf_val_map_set_int(m, "run_id", r->id);
	nf_val_map_set_int(m, "attempt_id", r->attempt_id);
	nf_val_map_set_int(m, "attempt", r->attempt);
	nf_val_map_set_str(m, "job_id", r->job_id);
	nf_val_map_set_str(m, "step", st->name);
	nf_val_map_set_str(m, "type", st->type);
	nf_val_map_set_str(m, "policy", w->policy);
	/* The spec as rendered for this attempt (templates filled in). */
	nf_val_map_set(m, "spec", r->spec != NULL ? nf_val_dup(r->spec) :
	    st->spec != NULL ? nf_val_dup(st->spec) : nf_val_map());
	/* Earlier outputs, for the types that read them at run time. */
	if (type->reads_outputs) {
		if (r->outputs != NULL)
			nf_val_map_set(m, "outputs", nf_val_dup(r->outputs));
		if (r->prev != NULL)
			nf_val_map_set(m, "prev", nf_val_dup(r->prev));
	}
	nf_val_map_set(m, "params", nf_val_dup(r->params));
	nf_val_map_set_int(m, "timeout_ms",
	    (int64_t)st->timeout_seconds * 1000);
	nf_val_map_set_bool(m, "sandbox", nf_daemon_sandboxed());
	nf_val_map_set_int(m, "max_rows", cfg->output_max_rows);
	start_run_as(m, r->job->run_as.set ? &r->job->run_as : &cfg->run_as);
	if (r->job->isolation != 0) {
		struct nf_val	*iso = nf_val_arr();
		int		 k;

		for (k = 0; nf_isolation_names[k] != NULL; k++)
			if (r->job->isolation & (1 << k))
				nf_val_arr_push(iso,
				    nf_val_str(nf_isolation_names[k]));
		nf_val_map_set(m, "isolation", iso);
	}
	/* What only this type needs: its pools, the trigger's params. */
	if (type->start_fields != NULL) {
		ss.cfg = cfg;
		ss.step = st;
		ss.run_params = r->run_params;
		type->start_fields(m, &ss);
	}
	start_open_secrets(m, r, perr, sizeof(perr));
	/* A pool's secret could not be opened: the step does not start. */
	if (perr[0] != '\0') {
		nf_val_free(m);
		w->start_err = nf_xprintf("job %s step %s: %s", r->job_id,
		    st->name, perr);
		nf_warnx("run %lld: %s", (long long)r->id, w->start_err);
		w->state = W_DEAD;
		worker_close_fd(w);
		worker_sigkill(w);
		return;
	}
	/*
	 * The worker would reject a frame over its limit as a protocol
	 * error; say what is too big instead, and do not send it.
	 */
	before = w->out.len;
	nf_msg_encode(m, &w->out);
	nf_val_free(m);
	len = w->out.len - before;
	if (len > NF_MAX_TO_WORKER + 4u) {
		w->out.len = before;
		w->start_err = nf_xprintf("job %s step %s: the step's input "
		    "(rendered spec, params%s) is %zu bytes encoded, over the "
		    "%u MiB a worker accepts; put large data in a file or a "
		    "table and pass its name", r->job_id, st->name,
		    type->reads_outputs ? " and the outputs of earlier "
		    "steps" : "", len, NF_MAX_TO_WORKER >> 20);
		nf_warnx("run %lld: %s", (long long)r->id, w->start_err);
		w->state = W_DEAD;
		worker_close_fd(w);
		worker_sigkill(w);
		return;
	}
	if (w->fd != -1 && !ev_is_active(&w->wio))
		ev_io_start(nfd.loop, &w->wio);
	w->state = W_STARTED;
}

static enum nf_reason
reason_from_str(const char *s)
{
	int	r;

	if (s == NULL || (r = nf_reason_parse(s)) == -1 ||
	    r == NF_REASON_NONE || r == NF_REASON_OVERLAP)
		return NF_REASON_ERROR;
	return (enum nf_reason)r;
}

/* Every frame from a worker arrives here. */
static void
worker_dispatch(struct nf_worker *w, enum nf_msg_type type,
    struct nf_val *msg)
{
	struct nf_run	*r = w->run;
	const char	*s;
	char		 err[256];
	ev_tstamp	 left;
	int64_t		 i;
	int		 b;

	if (w->state == W_HELLO) {
		if (type != NF_MSG_HELLO) {
			worker_protocol_error(w, "first frame is \"%s\", "
			    "expected \"hello\"", nf_msg_type_name(type));
			return;
		}
		if (nf_msg_hello_check(msg, NF_PROTO_WORKER, err,
		    sizeof(err)) == -1) {
			worker_protocol_error(w, "%s", err);
			return;
		}
		ev_timer_stop(nfd.loop, &w->timer);
		if (w->step_timeout > 0) {
			/* The step's timeout counts from spawn. */
			left = w->spawned + w->step_timeout -
			    ev_now(nfd.loop);
			ev_timer_set(&w->timer, left > 0.001 ? left : 0.001,
			    0.);
			ev_timer_start(nfd.loop, &w->timer);
		}
		if (w->probe != NULL)
			worker_send_probe_start(w);
		else
			worker_send_start(w);
		return;
	}
	switch (type) {
	case NF_MSG_STEP_READY:
		if (w->state != W_STARTED) {
			worker_protocol_error(w, "unexpected step_ready");
			return;
		}
		w->state = W_READY;
		break;
	case NF_MSG_STEP_LOG:
		if (w->state != W_READY && w->state != W_STARTED) {
			worker_protocol_error(w, "log after result");
			return;
		}
		if (r == NULL)
			return;
		s = nf_val_get_str(msg, "level");
		nf_run_log(r, nf_val_get_str(msg, "stream"),
		    s != NULL ? s : "info", nf_val_get_str(msg, "line"));
		break;
	case NF_MSG_STEP_PROGRESS:
		if (w->state != W_READY) {
			worker_protocol_error(w, "progress before step_ready "
			    "or after result");
			return;
		}
		if (r != NULL)
			nf_run_progress(r, nf_val_get(msg, "data"));
		break;
	case NF_MSG_STEP_OUTPUT:
		if (w->state != W_READY) {
			worker_protocol_error(w, "output before step_ready "
			    "or after result");
			return;
		}
		nf_val_free(w->output);
		w->output = nf_val_map_take(msg, "data");
		break;
	case NF_MSG_STEP_RESULT:
		if (w->state != W_READY && w->state != W_STARTED) {
			worker_protocol_error(w, "second result");
			return;
		}
		w->state = W_RESULT;
		nf_val_get_bool(msg, "ok", &b);
		w->res_ok = b;
		w->res_reason = reason_from_str(nf_val_get_str(msg, "reason"));
		if ((s = nf_val_get_str(msg, "error")) != NULL)
			w->res_error = nf_xstrdup(s);
		w->res_exit = nf_val_get_int(msg, "exit_code", &i) ? (int)i : -1;
		w->res_signal = nf_val_get_int(msg, "signal", &i) ? (int)i : 0;
		w->res_rows = nf_val_get_int(msg, "rows_affected", &i) ? i : -1;
		if (nf_val_get_int(msg, "syscall", &i)) {
			w->res_trapped = 1;
			w->res_syscall = i;
			worker_trap_args(w, nf_val_get(msg, "syscall_args"));
		}
		break;
	default:
		worker_protocol_error(w, "unexpected \"%s\" frame",
		    nf_msg_type_name(type));
		break;
	}
}

/*
 * Read what is there and dispatch whole frames: one read per wake-up keeps
 * a flooding worker from starving the others (level-triggered io brings us
 * back); drain reads everything, for a worker that has exited.
 */
static void
worker_read(struct nf_worker *w, int drain)
{
	enum nf_msg_type type;
	struct nf_val	*msg;
	char		 err[256];

	while (w->fd != -1) {
		switch (nf_msg_read(&w->rd, drain ? NF_RD_DRAIN :
		    NF_RD_NOWAIT, &type, &msg, err, sizeof(err))) {
		case NF_RD_MSG:
			worker_dispatch(w, type, msg);
			nf_val_free(msg);
			if (w->state == W_DEAD)
				return;
			continue;
		case NF_RD_AGAIN:
			return;
		case NF_RD_EOF:
			worker_close_fd(w);
			return;
		case NF_RD_TRUNC:
			worker_protocol_error(w, "connection closed inside a "
			    "frame");
			worker_close_fd(w);
			return;
		case NF_RD_IOERR:
			if (errno != ECONNRESET)
				nf_warn("worker %d: read", (int)w->pid);
			worker_close_fd(w);
			return;
		case NF_RD_TOOBIG:
			worker_protocol_error(w, "%s", err);
			return;
		case NF_RD_BAD:
			worker_protocol_error(w, "bad frame: %s", err);
			return;
		}
	}
}

static void
worker_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	worker_read(io->data, 0);
}

static void
worker_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct nf_worker	*w = io->data;
	ssize_t			 n;

	while (w->out.len > 0) {
		n = send(w->fd, w->out.data, w->out.len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* The worker went away; its exit tells the story. */
			nf_buf_reset(&w->out);
			break;
		}
		nf_buf_consume(&w->out, (size_t)n);
	}
	ev_io_stop(loop, &w->wio);
}

static void
worker_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct nf_worker	*w = t->data;

	if (w->state == W_HELLO) {
		/*
		 * The timer ran min(hello deadline, step timeout): a step
		 * timeout no longer than the hello deadline is what fired.
		 * The worker never started the step: nothing to wind down.
		 */
		if (w->step_timeout > 0 && w->step_timeout <= HELLO_TIMEOUT) {
			if (w->run != NULL)
				nf_run_logf(w->run, "error", "step timed out "
				    "after %d s: worker %d never started (no "
				    "hello); killing it", w->step_timeout,
				    (int)w->pid);
			/* A late hello must not start the step. */
			worker_close_fd(w);
			nf_spawn_kill(w, NF_REASON_TIMEOUT);
			return;
		}
		worker_protocol_error(w, "no hello within %.0f s", HELLO_TIMEOUT);
		return;
	}
	if (w->run != NULL)
		nf_run_logf(w->run, "error", "step timed out after %d s; "
		    "stopping the worker", w->step_timeout);
	nf_spawn_stop(w, NF_REASON_TIMEOUT);
}

static void
worker_kill_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct nf_worker	*w = t->data;

	if (w->run != NULL)
		nf_run_logf(w->run, "warn", "worker %d still running %d s "
		    "after SIGTERM; sending SIGKILL", (int)w->pid,
		    w->run->cfgref->cfg->grace_seconds);
	worker_sigkill(w);
}

void
nf_spawn_stop(struct nf_worker *w, enum nf_reason reason)
{
	int	grace;

	if (w->stop_reason == NF_REASON_NONE)
		w->stop_reason = reason;
	if (ev_is_active(&w->kill_timer))
		return;
	if (killpg(w->pid, SIGTERM) == -1 && errno != ESRCH)
		nf_warn("killpg %d", (int)w->pid);
	grace = w->run != NULL ? w->run->cfgref->cfg->grace_seconds : 5;
	ev_timer_set(&w->kill_timer, grace, 0.);
	ev_timer_start(nfd.loop, &w->kill_timer);
}

void
nf_spawn_kill(struct nf_worker *w, enum nf_reason reason)
{
	if (w->stop_reason == NF_REASON_NONE)
		w->stop_reason = reason;
	worker_sigkill(w);
}

void
nf_spawn_detach(struct nf_worker *w)
{
	w->run = NULL;
}

/* The arguments of a trapped call: up to 6 ints, the rest stay 0. */
static void
worker_trap_args(struct nf_worker *w, const struct nf_val *a)
{
	size_t	i;

	memset(w->res_args, 0, sizeof(w->res_args));
	if (a == NULL || a->type != NF_V_ARR)
		return;
	for (i = 0; i < a->u.a.n && i < NF_NELEM(w->res_args); i++)
		if (a->u.a.items[i]->type == NF_V_INT)
			w->res_args[i] = (uint64_t)a->u.a.items[i]->u.i;
}

/* The one place where an exit status becomes an outcome. */
static void
worker_classify(struct nf_worker *w, int status, struct nf_step_outcome *o)
{
	char	what[128];
	int	sig;

	memset(o, 0, sizeof(*o));
	o->exit_code = -1;
	o->rows_affected = -1;
	o->state = NF_ATT_FAILED;
	if (w->stop_reason != NF_REASON_NONE) {
		o->reason = w->stop_reason;
		switch (w->stop_reason) {
		case NF_REASON_CANCELED:
			o->state = NF_ATT_CANCELED;
			o->error = nf_xstrdup("canceled");
			break;
		case NF_REASON_TIMEOUT:
			o->error = nf_xprintf("step timed out after %d s%s",
			    w->step_timeout > 0 ? w->step_timeout :
			    w->run != NULL ? w->run->job->timeout_seconds : 0,
			    w->state == W_HELLO ? ": the worker never started "
			    "(no hello from it since spawn)" : "");
			break;
		default:
			o->error = nf_xstrdup("interrupted: nomaflowd is "
			    "shutting down");
			break;
		}
		if (WIFSIGNALED(status))
			o->signal = WTERMSIG(status);
	} else if (w->start_err != NULL) {
		o->reason = NF_REASON_ERROR;
		o->error = nf_xstrdup(w->start_err);
	} else if (w->proto_err != NULL) {
		o->reason = NF_REASON_PROTOCOL;
		o->error = nf_xprintf("worker protocol error: %s",
		    w->proto_err);
	} else if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		o->signal = sig;
		if (sig == SIGSYS && w->state == W_RESULT && w->res_trapped &&
		    w->res_syscall >= 0 && w->res_syscall <= INT_MAX) {
			o->reason = NF_REASON_SANDBOX;
			nf_policy_describe((int)w->res_syscall, w->res_args,
			    what, sizeof(what));
			o->error = nf_xprintf("sandbox: the %s worker called %s, "
			    "denied by %s.policy, and was killed by SIGSYS; if "
			    "the step needs this call, run it under a policy "
			    "that grants it (nomaflow-policy(5))",
			    w->self_policy, what, w->self_policy);
		} else if (sig == SIGSYS) {
			o->reason = NF_REASON_SANDBOX;
			o->error = nf_xprintf("worker killed by SIGSYS: a "
			    "system call was blocked by policy %s",
			    w->state == W_READY || w->state == W_RESULT ?
			    w->self_policy : w->policy);
		} else {
			o->reason = NF_REASON_CRASH;
			o->error = nf_xprintf("worker killed by %s%s",
			    nf_signal_name(sig), w->state == W_RESULT ?
			    " after sending its result" : "");
		}
	} else if (w->state != W_RESULT) {
		o->reason = NF_REASON_PROTOCOL;
		o->error = nf_xprintf("worker exited with status %d without "
		    "sending a result", WEXITSTATUS(status));
	} else if (WEXITSTATUS(status) != 0) {
		o->reason = NF_REASON_PROTOCOL;
		o->error = nf_xprintf("worker exited with status %d after "
		    "sending its result", WEXITSTATUS(status));
	} else if (w->res_ok) {
		o->state = NF_ATT_SUCCEEDED;
		o->reason = NF_REASON_NONE;
		o->rows_affected = w->res_rows;
		o->exit_code = w->res_exit;
	} else {
		o->reason = w->res_reason;
		o->error = w->res_error != NULL ? nf_xstrdup(w->res_error) :
		    nf_xstrdup("step failed");
		o->exit_code = w->res_exit;
		o->signal = w->res_signal;
		if (o->reason == NF_REASON_SANDBOX && w->res_error == NULL) {
			free(o->error);
			o->error = nf_xprintf("blocked by policy %s",
			    w->policy);
		}
	}
	o->output = w->output;
	w->output = NULL;
}

/* Who the step's program runs as: the job's run_as, else the global. */
static void
start_run_as(struct nf_val *m, const struct nf_runas *ra)
{
	struct nf_val	*g;
	int		 i;

	if (!ra->set)
		return;
	nf_val_map_set_int(m, "uid", (int64_t)ra->uid);
	nf_val_map_set_int(m, "gid", (int64_t)ra->gid);
	g = nf_val_arr();
	for (i = 0; i < ra->ngroups; i++)
		nf_val_arr_push(g, nf_val_int((int64_t)ra->groups[i]));
	nf_val_map_set(m, "groups", g);
}

static void
worker_free(struct nf_worker *w)
{
	worker_close_fd(w);
	ev_timer_stop(nfd.loop, &w->timer);
	ev_timer_stop(nfd.loop, &w->kill_timer);
	ev_child_stop(nfd.loop, &w->child);
	nf_msg_reader_free(&w->rd);
	nf_buf_free(&w->out);
	nf_val_free(w->output);
	free(w->proto_err);
	free(w->start_err);
	free(w->res_error);
	free(w->policy);
	free(w->self_policy);
	free(w);
}

static void
worker_child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
	struct nf_worker	*w = c->data;
	struct nf_step_outcome	 o;
	struct nf_run		*r;
	struct nf_probe		*pr;
	char			*red;
	int			 status = c->rstatus;

	ev_child_stop(loop, c);
	/* Nothing of the worker's group may outlive it. */
	worker_sigkill(w);
	/*
	 * Nor anything the step started, setsid'd or not, even when the
	 * worker was SIGKILLed before its sweep: its cgroup goes too.
	 */
	nf_cgroup_release(w->cgroup);
	w->cgroup = NULL;
	/* Everything the worker wrote is in the socket now: read it all. */
	if (w->fd != -1 && w->state != W_DEAD)
		worker_read(w, 1);
	nfd.nworkers--;
	worker_classify(w, status, &o);
	r = w->run;
	/* The run's secret params never reach the daemon's log either. */
	red = r != NULL && o.error != NULL ?
	    nf_secrets_redact(&r->secrets, o.error) : NULL;
	nf_debug("worker %d exited (status 0x%x): %s", (int)w->pid, status,
	    red != NULL ? red : o.error != NULL ? o.error : "ok");
	free(red);
	pr = w->probe;
	w->probe = NULL;
	worker_free(w);
	if (pr != NULL) {
		pr->done(pr->arg, &o);
		probe_free(pr);
		free(o.error);
		nf_val_free(o.output);
		nf_run_kick();
	} else if (r != NULL)
		nf_run_worker_done(r, &o);
	else {
		free(o.error);
		nf_val_free(o.output);
		nf_run_kick();
	}
	nf_daemon_maybe_exit();
}

/*
 * Create the worker process of a step type: socketpair, compiled policies,
 * environment, posix_spawn, watchers.  The caller says what it is for
 * (w->run or w->probe) and sends HELLO.
 */
static struct nf_worker *
worker_spawn(struct nf_cfgref *ref, const struct nf_steptype *type,
    const char *variant, int step_timeout, char *err, size_t errlen)
{
	const struct nf_config		*cfg = ref->cfg;
	struct nf_worker		*w;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, dflt;
	char				*argv[2], **envp;
	const char			*self_name;
	char				*path;
	size_t				 nenv, first, i;
	int				 sv[2], rc, pfd[2];
	pid_t				 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return NULL;
	}
	if (nf_set_nonblock(sv[0]) == -1) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}

	/* Compiled policies: the step's on fd 4, the worker's own on 5. */
	self_name = type->worker_policy != NULL ? type->worker_policy :
	    type->policy;
	pfd[0] = pfd[1] = -1;
	if (nf_daemon_sandboxed() &&
	    ((pfd[0] = policy_fd(ref, type->policy, err, errlen)) ==
	    -1 || (pfd[1] = policy_fd(ref, self_name, err,
	    errlen)) == -1)) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}

	/*
	 * The environment: the daemon's plus where the policies are (and
	 * which descriptors hold them compiled) and the python interpreter
	 * and plugins directory of python steps.
	 */
	for (nenv = 0; environ[nenv] != NULL; nenv++)
		;
	envp = nf_xcalloc(nenv + 5, sizeof(*envp));
	for (i = 0, nenv = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "NOMAFLOW_POLICIES_DIR=", 22) != 0 &&
		    strncmp(environ[i], "NOMAFLOW_POLICY_FDS=", 20) != 0 &&
		    strncmp(environ[i], "NOMAFLOW_PYTHON=", 16) != 0 &&
		    strncmp(environ[i], "NOMAFLOW_PLUGINS_DIR=", 21) != 0)
			envp[nenv++] = environ[i];
	first = nenv;
	envp[nenv++] = nf_xprintf("NOMAFLOW_POLICIES_DIR=%s",
	    cfg->policies_dir);
	envp[nenv++] = nf_xprintf("NOMAFLOW_PYTHON=%s", cfg->python_path);
	envp[nenv++] = nf_xprintf("NOMAFLOW_PLUGINS_DIR=%s",
	    cfg->plugins_dir);
	if (pfd[0] != -1)
		envp[nenv++] = nf_xprintf("NOMAFLOW_POLICY_FDS=%s:%d,%s:%d",
		    type->policy, NF_WORKER_FD + 1, self_name,
		    NF_WORKER_FD + 2);
	envp[nenv] = NULL;

	/* nomaflow-worker, or its -sql / -http sibling for those types. */
	path = variant != NULL ? nf_xprintf("%s-%s", nfd.worker_path,
	    variant) : nf_xstrdup(nfd.worker_path);
	argv[0] = path;
	argv[1] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], NF_WORKER_FD);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	if (pfd[0] != -1) {
		posix_spawn_file_actions_adddup2(&fa, pfd[0], NF_WORKER_FD + 1);
		posix_spawn_file_actions_adddup2(&fa, pfd[1], NF_WORKER_FD + 2);
		posix_spawn_file_actions_addclosefrom_np(&fa,
		    NF_WORKER_FD + 3);
	} else
		posix_spawn_file_actions_addclosefrom_np(&fa,
		    NF_WORKER_FD + 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	/*
	 * Every signal to its default, not only the ones we handle or
	 * ignore: glibc's child then sets each once instead of first asking
	 * the kernel about each (64 system calls fewer per spawn).
	 */
	sigfillset(&dflt);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	for (i = first; i < nenv; i++)
		free(envp[i]);
	free(envp);
	close(sv[1]);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start worker %s: %s",
		    path, strerror(rc));
		free(path);
		close(sv[0]);
		return NULL;
	}
	free(path);

	w = nf_xcalloc(1, sizeof(*w));
	w->gen = ++nfd.gen;
	w->pid = pid;
	w->fd = sv[0];
	w->state = W_HELLO;
	w->policy = nf_xstrdup(type->policy);
	w->self_policy = nf_xstrdup(type->worker_policy != NULL ?
	    type->worker_policy : type->policy);
	w->step_timeout = step_timeout;
	nf_msg_reader_init(&w->rd, w->fd, NF_DIR_FROM_WORKER);
	nf_buf_init(&w->out);
	ev_io_init(&w->rio, worker_read_cb, w->fd, EV_READ);
	w->rio.data = w;
	ev_io_init(&w->wio, worker_write_cb, w->fd, EV_WRITE);
	w->wio.data = w;
	ev_child_init(&w->child, worker_child_cb, pid, 0);
	w->child.data = w;
	w->spawned = ev_now(nfd.loop);
	ev_timer_init(&w->timer, worker_timer_cb, step_timeout > 0 &&
	    step_timeout < HELLO_TIMEOUT ? (ev_tstamp)step_timeout :
	    HELLO_TIMEOUT, 0.);
	w->timer.data = w;
	ev_timer_init(&w->kill_timer, worker_kill_cb, 0., 0.);
	w->kill_timer.data = w;
	ev_child_start(nfd.loop, &w->child);
	ev_io_start(nfd.loop, &w->rio);
	ev_timer_start(nfd.loop, &w->timer);
	nfd.nworkers++;
	return w;
}

int
nf_spawn_step(struct nf_run *r, const struct nf_step *st, char *err,
    size_t errlen)
{
	const struct nf_steptype	*type;
	struct nf_worker		*w;
	char				 cgname[96];

	if ((type = nf_steptype_find(st->type)) == NULL) {
		snprintf(err, errlen, "step type %s is not available",
		    st->type);
		return -1;
	}
	if ((w = worker_spawn(r->cfgref, type, nf_steptype_worker(type,
	    r->cfgref->cfg, st), st->timeout_seconds, err, errlen)) == NULL)
		return -1;
	w->run = r;
	r->worker = w;
	/*
	 * Into the attempt's cgroup before HELLO: the worker starts the
	 * step's process only on STEP_START, which it gets after its HELLO,
	 * so everything the step forks is born inside.
	 */
	if (nf_cgroup_enabled()) {
		snprintf(cgname, sizeof(cgname), "run-%lld-s-%zu-a-%d",
		    (long long)r->id, r->step, r->attempt);
		if ((w->cgroup = nf_cgroup_create(cgname)) != NULL &&
		    nf_cgroup_enter(w->cgroup, w->pid) == -1) {
			nf_cgroup_release(w->cgroup);
			w->cgroup = NULL;
		}
	}
	worker_send(w, nf_msg_hello(NF_PROTO_WORKER));
	nf_debug("run %lld step %s attempt %d: worker %d (gen %llu)",
	    (long long)r->id, st->name, r->attempt, (int)w->pid,
	    (unsigned long long)w->gen);
	return 0;
}

/* The trivial statement a pool test runs. */
#define PROBE_SQL	"SELECT 1"
/* A pool test gives up after this long (connect timeouts included). */
#define PROBE_TIMEOUT	15

int
nf_spawn_probe(const struct nf_pool *pool,
    void (*done)(void *, struct nf_step_outcome *), void *arg, char *err,
    size_t errlen)
{
	const struct nf_steptype	*type;
	struct nf_worker		*w;
	struct nf_probe			*pr;
	struct nf_cfgref		*ref;
	struct nf_step			 probe;

	if ((type = nf_steptype_find("sql_query")) == NULL) {
		snprintf(err, errlen, "step type sql_query is not available");
		return -1;
	}
	/* The worker a sql_query step on this pool would run in. */
	memset(&probe, 0, sizeof(probe));
	probe.pool = pool;
	ref = nf_cfgref_get();
	w = worker_spawn(ref, type, nf_steptype_worker(type, ref->cfg,
	    &probe), PROBE_TIMEOUT, err, errlen);
	nf_cfgref_put(ref);
	if (w == NULL)
		return -1;
	pr = nf_xcalloc(1, sizeof(*pr));
	pr->pool = nf_xcalloc(1, sizeof(*pr->pool));
	pr->pool->name = nf_xstrdup(pool->name);
	pr->pool->driver = nf_xstrdup(pool->driver);
	pr->pool->path = pool->path != NULL ? nf_xstrdup(pool->path) : NULL;
	pr->pool->conninfo = pool->conninfo != NULL ?
	    nf_xstrdup(pool->conninfo) : NULL;
	pr->done = done;
	pr->arg = arg;
	w->probe = pr;
	worker_send(w, nf_msg_hello(NF_PROTO_WORKER));
	nf_debug("pool %s test: worker %d (gen %llu)", pool->name,
	    (int)w->pid, (unsigned long long)w->gen);
	return 0;
}

static void
probe_free(struct nf_probe *pr)
{
	free(pr->pool->name);
	free(pr->pool->driver);
	free(pr->pool->path);
	free(pr->pool->conninfo);
	free(pr->pool);
	free(pr);
}

/* STEP_START of a pool test: sql_query of PROBE_SQL, no run. */
static void
worker_send_probe_start(struct nf_worker *w)
{
	struct nf_val	*m, *spec, *pm;
	char		 perr[1024] = "";

	m = nf_msg_new(NF_MSG_STEP_START);
	nf_val_map_set_int(m, "run_id", 0);
	nf_val_map_set_int(m, "attempt_id", 0);
	nf_val_map_set_int(m, "attempt", 1);
	nf_val_map_set_str(m, "job_id", "pool-test");
	nf_val_map_set_str(m, "step", w->probe->pool->name);
	nf_val_map_set_str(m, "type", "sql_query");
	nf_val_map_set_str(m, "policy", w->policy);
	spec = nf_val_map();
	nf_val_map_set_str(spec, "pool", w->probe->pool->name);
	nf_val_map_set_str(spec, "sql", PROBE_SQL);
	nf_val_map_set(m, "spec", spec);
	nf_val_map_set(m, "params", nf_val_map());
	nf_val_map_set_int(m, "timeout_ms", PROBE_TIMEOUT * 1000);
	nf_val_map_set_bool(m, "sandbox", nf_daemon_sandboxed());
	pm = nf_steptype_pool_map(w->probe->pool);
	pool_open_secrets(pm, NULL, perr, sizeof(perr));
	if (perr[0] != '\0') {
		nf_val_free(pm);
		nf_val_free(m);
		w->start_err = nf_xstrdup(perr);
		w->state = W_DEAD;
		worker_close_fd(w);
		worker_sigkill(w);
		return;
	}
	nf_val_map_set(m, "pool", pm);
	nf_val_map_set_int(m, "max_rows", 1);
	worker_send(w, m);
	w->state = W_STARTED;
}
