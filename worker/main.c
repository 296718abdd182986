/*
 * main.c: nomaflow-worker, one process per step attempt.
 *
 * Started by nomaflowd (never by hand) with:
 *   fd 0   /dev/null
 *   fd 1,2 the daemon's stderr: only for fatal diagnostics of the worker
 *          itself; everything about the step goes over the socket as LOG
 *          frames with stream "worker"
 *   fd 3   its end of a SOCK_STREAM socketpair (NF_WORKER_FD)
 *   argv   no arguments are used
 *   env    NOMAFLOW_POLICIES_DIR: directory of the *.policy files (the
 *          daemon's configured policies directory); when unset, the
 *          compiled-in NF_POLICYDIR.  NOMAFLOW_PYTHON and
 *          NOMAFLOW_PLUGINS_DIR: python steps' interpreter and plugins
 *          directory; NOMAFLOW_PYTHON_RUNNER: the runner module when not
 *          the installed one (source-tree runs).  Every other variable is
 *          only passed on to exec steps that set inherit_env.
 *
 * Sequence: PR_SET_PDEATHSIG (and exit if the parent is already gone);
 * close inherited strays >= 4; HELLO both ways; read one STEP_START; find
 * the step implementation; load the worker's own policy; prepare; rlimits,
 * no_new_privs, seccomp (failure: RESULT {ok:false, reason:"sandbox"} and
 * the step does not run); STEP_READY; run (LOG/OUTPUT frames and exactly
 * one RESULT); _exit(0).
 *
 * Descriptors: strays are closed before prepare rather than after, because
 * after prepare the only descriptors are the ones the step opened, some of
 * them by libraries that do not say which (SQLite's journal and WAL).
 *
 * Exit status: 0 after a RESULT was sent (whatever the step's outcome);
 * 2 when the channel to nomaflowd fails (bad frame, EOF, write error), with
 * a message on stderr.  The worker leaves with _exit(): under seccomp there
 * is no atexit work (LeakSanitizer, stdio) worth a blocked syscall.
 */
#include "autoconf.h"

#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "proto.h"
#include "step.h"
#include "util.h"
#include "val.h"

/*
 * One source, three binaries (worker/local.mk): each links only the
 * libraries of its step types, since every spawn pays for loading them.
 */
static const struct nf_step_impl *const step_registry[] = {
#if defined(NF_WORKER_SQL)
	&nf_step_sql_query,
	&nf_step_sql_copy,
#elif defined(NF_WORKER_HTTP)
	&nf_step_http,
#else
	&nf_step_exec,
	&nf_step_python,
#endif
	NULL,
};

static void worker_die(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* The channel to nomaflowd failed: nothing can be reported over it. */
static void
worker_die(const char *fmt, ...)
{
	va_list	ap;

	fputs("nomaflow-worker: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(2);
}

const struct nf_step_impl *
nf_step_find(const char *type)
{
	size_t	i;

	for (i = 0; step_registry[i] != NULL; i++)
		if (strcmp(step_registry[i]->name, type) == 0)
			return step_registry[i];
	return NULL;
}

/*
 * Encoded frames not yet written.  Frames go out with write(2) on the
 * blocking fd 3 (SIGPIPE is ignored, so a vanished peer is EPIPE): the
 * base policy needs nothing socket-specific.  Batching lets a burst of
 * output lines leave in one write instead of one per line.
 */
static struct nf_buf	worker_out;
static int		worker_batching;

#define WORKER_BATCH_MAX	(64u << 10)

static void
worker_flush(struct nf_step_ctx *ctx)
{
	if (worker_out.len == 0)
		return;
	if (nf_write_all(ctx->fd, worker_out.data, worker_out.len) == -1) {
		if (ctx->job_id == NULL)
			worker_die("cannot send a frame to nomaflowd on fd "
			    "%d: %s", ctx->fd, strerror(errno));
		worker_die("job %s step %s run %lld: cannot send a frame to "
		    "nomaflowd on fd %d: %s", ctx->job_id, ctx->step,
		    (long long)ctx->run_id, ctx->fd, strerror(errno));
	}
	nf_buf_reset(&worker_out);
}

static void
worker_send(struct nf_step_ctx *ctx, struct nf_val *msg)
{
	nf_msg_encode(msg, &worker_out);
	nf_val_free(msg);
	if (!worker_batching || worker_out.len >= WORKER_BATCH_MAX)
		worker_flush(ctx);
}

void
nf_step_batch(struct nf_step_ctx *ctx, int on)
{
	worker_batching = on;
	if (!on)
		worker_flush(ctx);
}

void
nf_step_utf8_sanitize(struct nf_buf *b, const char *s, size_t n)
{
	static const char	 repl[] = "\xef\xbf\xbd";	/* U+FFFD */
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, len, run;

	while (i < n) {
		/* Copy runs of plain ASCII in one go. */
		run = 0;
		while (i + run < n && p[i + run] > 0 && p[i + run] < 0x80)
			run++;
		if (run > 0) {
			nf_buf_add(b, p + i, run);
			i += run;
			continue;
		}
		if (p[i] != 0 && (len = nf_utf8_decode(s + i, n - i, NULL)) > 0) {
			nf_buf_add(b, p + i, len);
			i += len;
			continue;
		}
		/* NUL or a bad byte: replace it, resynchronise on the next. */
		nf_buf_add(b, repl, 3);
		i++;
	}
}

void
nf_step_log_line(struct nf_step_ctx *ctx, const char *stream, int level,
    const char *line, size_t len)
{
	struct nf_buf	 b;
	struct nf_val	*m;
	const char	*p;
	size_t		 left, cut;

	nf_buf_init(&b);
	nf_step_utf8_sanitize(&b, line, len);
	p = b.data != NULL ? b.data : "";
	left = b.len;
	do {
		cut = left;
		if (cut > NF_MAX_LOG_LINE) {
			/* Split on a character boundary. */
			cut = NF_MAX_LOG_LINE;
			while (cut > 0 && ((unsigned char)p[cut] & 0xc0) ==
			    0x80)
				cut--;
		}
		m = nf_msg_new(NF_MSG_STEP_LOG);
		nf_val_map_set_str(m, "stream", stream);
		nf_val_map_set(m, "line", nf_val_strn(p, cut));
		if (level >= 0)
			nf_val_map_set_str(m, "level",
			    nf_log_level_name((enum nf_log_level)level));
		worker_send(ctx, m);
		p += cut;
		left -= cut;
	} while (left > 0);
	nf_buf_free(&b);
}

void
nf_step_log(struct nf_step_ctx *ctx, const char *stream, int level,
    const char *fmt, ...)
{
	struct nf_buf	b;
	va_list		ap;

	nf_buf_init(&b);
	va_start(ap, fmt);
	nf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	nf_step_log_line(ctx, stream, level, b.data != NULL ? b.data : "",
	    b.len);
	nf_buf_free(&b);
}

void
nf_step_output(struct nf_step_ctx *ctx, struct nf_val *data)
{
	struct nf_val	*m;

	m = nf_msg_new(NF_MSG_STEP_OUTPUT);
	nf_val_map_set(m, "data", data);
	worker_send(ctx, m);
}

void
nf_step_progress(struct nf_step_ctx *ctx, struct nf_val *data)
{
	struct nf_val	*m;

	m = nf_msg_new(NF_MSG_STEP_PROGRESS);
	nf_val_map_set(m, "data", data);
	worker_send(ctx, m);
}

struct nf_val *
nf_step_result_new(int ok, const char *reason, const char *fmt, ...)
{
	struct nf_val	*m;
	struct nf_buf	 b, clean;
	va_list		 ap;

	m = nf_msg_new(NF_MSG_STEP_RESULT);
	nf_val_map_set_bool(m, "ok", ok);
	if (reason != NULL)
		nf_val_map_set_str(m, "reason", reason);
	if (fmt != NULL) {
		nf_buf_init(&b);
		va_start(ap, fmt);
		nf_buf_vprintf(&b, fmt, ap);
		va_end(ap);
		/* Error text may quote SQL or paths: keep the frame valid. */
		nf_buf_init(&clean);
		nf_step_utf8_sanitize(&clean, b.data != NULL ? b.data : "",
		    b.len);
		nf_val_map_set(m, "error", nf_val_strn(clean.data != NULL ?
		    clean.data : "", clean.len));
		nf_buf_free(&clean);
		nf_buf_free(&b);
	}
	return m;
}

void
nf_step_result(struct nf_step_ctx *ctx, struct nf_val *result)
{
	if (ctx->result_sent)
		nf_panic("job %s step %s: a second result", ctx->job_id,
		    ctx->step);
	ctx->result_sent = 1;
	nf_sandbox_trap_quiet();
	worker_send(ctx, result);
}

int
nf_step_fail(struct nf_step_ctx *ctx, const char *reason, const char *fmt,
    ...)
{
	struct nf_val	*m;
	struct nf_buf	 b;
	va_list		 ap;

	nf_buf_init(&b);
	va_start(ap, fmt);
	nf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	m = nf_step_result_new(0, reason, "%s", b.data != NULL ? b.data : "");
	nf_buf_free(&b);
	nf_step_result(ctx, m);
	return -1;
}

/* Read one message; anything but a well-formed one of type want is fatal. */
static struct nf_val *
worker_recv(struct nf_msg_reader *r, enum nf_msg_type want)
{
	enum nf_msg_type	 type;
	struct nf_val		*msg;
	char			 err[512];

	switch (nf_msg_read(r, NF_RD_FOREVER, &type, &msg, err,
	    sizeof(err))) {
	case NF_RD_MSG:
		break;
	case NF_RD_EOF:
		worker_die("nomaflowd closed the channel before sending %s",
		    nf_msg_type_name(want));
	default:
		worker_die("bad frame from nomaflowd while waiting for %s: %s",
		    nf_msg_type_name(want), err);
	}
	if (type != want)
		worker_die("nomaflowd sent %s where %s was expected",
		    nf_msg_type_name(type), nf_msg_type_name(want));
	return msg;
}

/* uid, gid and groups of step_start (all or none), checked. */
static void
worker_run_as(struct nf_step_ctx *ctx, const struct nf_val *msg)
{
	const struct nf_val	*g, *e;
	int64_t			 uid, gid;
	size_t			 i;

	g = nf_val_get(msg, "groups");
	if (!nf_val_get_int(msg, "uid", &uid)) {
		if (nf_val_get(msg, "gid") != NULL || g != NULL)
			worker_die("step_start: gid or groups without uid");
		return;
	}
	if (!nf_val_get_int(msg, "gid", &gid) || g == NULL ||
	    g->type != NF_V_ARR)
		worker_die("step_start: uid without gid and groups");
	if (uid < 0 || uid > UINT32_MAX - 1 || gid < 0 ||
	    gid > UINT32_MAX - 1 || g->u.a.n > NF_STEP_GROUPS)
		worker_die("step_start: uid, gid or groups out of range");
	for (i = 0; i < g->u.a.n; i++) {
		e = g->u.a.items[i];
		if (e->type != NF_V_INT || e->u.i < 0 ||
		    e->u.i > UINT32_MAX - 1)
			worker_die("step_start: groups[%zu] is not a group id",
			    i);
		ctx->groups[i] = (gid_t)e->u.i;
	}
	ctx->run_as = 1;
	ctx->uid = (uid_t)uid;
	ctx->gid = (gid_t)gid;
	ctx->ngroups = (int)g->u.a.n;
}

/* step_start "isolation": names among net, mount, pid, once each. */
static void
worker_isolation(struct nf_step_ctx *ctx, const struct nf_val *msg)
{
	static const struct {
		const char	*name;
		int		 flag;
	} names[] = { { "net", NF_STEP_ISO_NET },
	    { "mount", NF_STEP_ISO_MOUNT }, { "pid", NF_STEP_ISO_PID } };
	const struct nf_val	*a, *e;
	size_t			 i, k;

	if ((a = nf_val_get(msg, "isolation")) == NULL)
		return;
	for (i = 0; i < a->u.a.n; i++) {
		e = a->u.a.items[i];
		for (k = 0; k < NF_NELEM(names); k++)
			if (e->type == NF_V_STR &&
			    strcmp(e->u.s.p, names[k].name) == 0)
				break;
		if (k == NF_NELEM(names) || (ctx->isolation & names[k].flag))
			worker_die("step_start: isolation[%zu] is not a "
			    "namespace name, or a repeated one", i);
		ctx->isolation |= names[k].flag;
	}
}

/* Fill ctx from a decoded step_start (the decoder checked the schema). */
static void
worker_ctx_init(struct nf_step_ctx *ctx, struct nf_val *msg)
{
	const struct nf_val	*v;
	int64_t			 i;
	int			 b;

	ctx->msg = msg;
	if (!nf_val_get_int(msg, "run_id", &ctx->run_id) ||
	    !nf_val_get_int(msg, "attempt_id", &ctx->attempt_id) ||
	    !nf_val_get_int(msg, "attempt", &ctx->attempt) ||
	    (ctx->job_id = nf_val_get_str(msg, "job_id")) == NULL ||
	    (ctx->step = nf_val_get_str(msg, "step")) == NULL ||
	    (ctx->type = nf_val_get_str(msg, "type")) == NULL ||
	    (ctx->policy = nf_val_get_str(msg, "policy")) == NULL ||
	    !nf_val_get_bool(msg, "sandbox", &b) ||
	    !nf_val_get_int(msg, "timeout_ms", &ctx->timeout_ms))
		worker_die("step_start lacks a required field");
	ctx->sandbox = b;
	v = nf_val_get(msg, "spec");
	if (v == NULL || v->type != NF_V_MAP)
		worker_die("step_start: spec is not a map");
	ctx->spec = v;
	v = nf_val_get(msg, "params");
	if (v == NULL || v->type != NF_V_MAP)
		worker_die("step_start: params is not a map");
	ctx->params = v;
	v = nf_val_get(msg, "pool");
	ctx->pool = v != NULL && v->type == NF_V_MAP ? v : NULL;
	ctx->max_rows = nf_val_get_int(msg, "max_rows", &i) ? i : -1;
	worker_run_as(ctx, msg);
	worker_isolation(ctx, msg);
}

/*
 * Lock the worker down before run.  self is the worker's own policy (NULL
 * when the step runs unsandboxed).  0, or -1 after a "sandbox" result.
 */
static int
worker_lockdown(struct nf_step_ctx *ctx, struct nf_policy *self)
{
	char	err[512];

	if (nf_sandbox_rlimits(ctx->sandbox, err, sizeof(err)) == -1)
		return nf_step_fail(ctx, "sandbox", "job %s step %s: cannot "
		    "set resource limits: %s", ctx->job_id, ctx->step, err);
	if (self == NULL) {
		nf_step_log(ctx, "worker", NF_LOG_WARN, "sandbox disabled: "
		    "job %s step %s runs without seccomp policy %s "
		    "(nomaflowd allows unsandboxed workers; never in "
		    "production)", ctx->job_id, ctx->step, ctx->policy);
		return 0;
	}
	if (nf_sandbox_install(self, err, sizeof(err)) == -1)
		return nf_step_fail(ctx, "sandbox", "%s", err);
	return 0;
}

int
main(void)
{
	struct nf_step_ctx	 ctx;
	struct nf_msg_reader	 r;
	struct nf_policy	*self = NULL;
	struct nf_val		*msg;
	const char		*pname;
	char			 err[1024];
	pid_t			 ppid;
	int			 fl;

	nf_log_init("nomaflow-worker", 0);

	/* Never outlive nomaflowd, not even if it died before prctl. */
	ppid = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		worker_die("prctl PR_SET_PDEATHSIG: %s", strerror(errno));
	if (getppid() != ppid)
		_exit(2);

	/*
	 * fds 0-2 must be taken, so that no pipe or database lands there
	 * and gets mistaken for stdio (exec's dup2 relies on it).
	 */
	for (fl = 0; fl <= 2; fl++)
		if (fcntl(fl, F_GETFD) == -1 &&
		    open("/dev/null", O_RDWR) == -1)
			_exit(2);
	if (fcntl(NF_WORKER_FD, F_GETFD) == -1)
		worker_die("fd %d is not open: nomaflow-worker is started by "
		    "nomaflowd, not by hand", NF_WORKER_FD);
	/* Commands run by exec steps must never see the channel. */
	if (nf_set_cloexec(NF_WORKER_FD) == -1)
		worker_die("cannot set close-on-exec on fd %d: %s",
		    NF_WORKER_FD, strerror(errno));
	/* Compiled policies handed over by nomaflowd, before closing strays. */
	if (nf_sandbox_preload(err, sizeof(err)) == -1)
		worker_die("%s", err);
	if (nf_sandbox_close_from(NF_WORKER_FD + 1, err, sizeof(err)) == -1)
		worker_die("%s", err);
	/* Blocking writes: the supervisor's end may be non-blocking. */
	if ((fl = fcntl(NF_WORKER_FD, F_GETFL)) == -1 ||
	    fcntl(NF_WORKER_FD, F_SETFL, fl & ~O_NONBLOCK) == -1)
		worker_die("fcntl on fd %d: %s", NF_WORKER_FD,
		    strerror(errno));
	/* A vanished peer must give EPIPE, not kill us mid-report. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		worker_die("signal SIGPIPE: %s", strerror(errno));

	memset(&ctx, 0, sizeof(ctx));
	nf_buf_init(&worker_out);
	ctx.fd = NF_WORKER_FD;
	ctx.policies_dir = nf_sandbox_policies_dir();

	msg = nf_msg_hello(NF_PROTO_WORKER);
	worker_send(&ctx, msg);
	nf_msg_reader_init(&r, ctx.fd, NF_DIR_TO_WORKER);
	msg = worker_recv(&r, NF_MSG_HELLO);
	if (nf_msg_hello_check(msg, NF_PROTO_WORKER, err, sizeof(err)) == -1)
		worker_die("bad hello from nomaflowd: %s", err);
	nf_val_free(msg);
	msg = worker_recv(&r, NF_MSG_STEP_START);
	nf_msg_reader_free(&r);
	worker_ctx_init(&ctx, msg);

	ctx.impl = nf_step_find(ctx.type);
	if (ctx.impl == NULL) {
		nf_step_fail(&ctx, "error", "job %s step %s: this worker has "
		    "no step type \"%s\" (nomaflowd and nomaflow-worker are "
		    "from different builds?)", ctx.job_id, ctx.step,
		    ctx.type);
		_exit(0);
	}

#ifndef NF_SANDBOX
	if (ctx.sandbox) {
		nf_step_fail(&ctx, "sandbox", "job %s step %s: this "
		    "nomaflow-worker was built with --disable-sandbox and "
		    "cannot install seccomp policy %s; use a sandboxed build "
		    "or set allow_unsandboxed = true", ctx.job_id, ctx.step,
		    ctx.policy);
		_exit(0);
	}
#endif
	if (ctx.sandbox) {
		/* Load before prepare: a broken policy starts nothing. */
		pname = ctx.impl->self_policy != NULL ?
		    ctx.impl->self_policy : ctx.policy;
		self = nf_sandbox_load(ctx.policies_dir, pname, err,
		    sizeof(err));
		if (self == NULL) {
			nf_step_fail(&ctx, "sandbox", "job %s step %s: %s",
			    ctx.job_id, ctx.step, err);
			_exit(0);
		}
	}

	if (ctx.impl->prepare != NULL && ctx.impl->prepare(&ctx) == -1) {
		if (!ctx.result_sent)
			nf_step_fail(&ctx, "error", "job %s step %s: "
			    "preparing the %s step failed", ctx.job_id,
			    ctx.step, ctx.type);
		_exit(0);
	}
	if (worker_lockdown(&ctx, self) == -1)
		_exit(0);
	worker_send(&ctx, nf_msg_new(NF_MSG_STEP_READY));

	if (ctx.impl->run(&ctx) == -1 || !ctx.result_sent) {
		if (!ctx.result_sent)
			nf_step_fail(&ctx, "error", "job %s step %s: the %s "
			    "step ended without a result", ctx.job_id,
			    ctx.step, ctx.type);
	}
	_exit(0);
}
