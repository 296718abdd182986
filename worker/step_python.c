/*
 * step_python.c: the "python" step: call "package.module:function" from the
 * plugins directory in /usr/bin/python3 (the configured interpreter) under
 * the shipped runner module (python/nomaflow_runner.py), and relay what it
 * says as LOG, OUTPUT and RESULT frames.
 *
 * Runs in nomaflow-worker.  prepare (unsandboxed) checks the spec, writes
 * the step's description as JSON into a memfd (the interpreter's stdin, so
 * no write can block on a child that is not reading), loads the step's
 * policy (normally "exec") and forks the child, which waits on a "go" pipe.
 * main installs the narrow "relay" policy on the worker; run releases the
 * child, which installs its own policy and execs
 *
 *     PYTHON -I -B RUNNER       (absolute paths, no PATH search)
 *
 * -B: a step never writes bytecode into the plugins directory (compiled
 * files already there are used; "python3 -m compileall" makes them).
 *
 * with fd 0 the memfd, fd 1/2 the stdout/stderr pipes and fd 3 the channel
 * pipe.  The runner sends everything Python-level code prints or logs as
 * JSON lines on the channel, one writer and one pipe, so print(),
 * sys.stderr and logging keep their order; fd 1/2 carry only what C code
 * and subprocesses write at the descriptor level (relayed as exec does, in
 * order within each pipe).  The last record is {"t":"result"} or
 * {"t":"error"}.
 *
 * Killability: the interpreter stays in the worker's process group, so the
 * supervisor's killpg on timeout or cancel reaches it; the worker also
 * forwards SIGTERM (which only sets the flag ctx.is_cancelled() reads),
 * SIGKILLs the interpreter after a short grace, and dies of SIGTERM itself
 * without a result, as exec does.
 *
 * Environment variables read (set by nomaflowd, see spawn.c):
 *   NOMAFLOW_PYTHON        the interpreter (nomaflow.toml "python")
 *   NOMAFLOW_PLUGINS_DIR   put first on sys.path ("plugins_dir")
 *   NOMAFLOW_PYTHON_RUNNER the runner file; default the installed
 *                          NF_PYTHONDIR/nomaflow_runner.py
 *
 * Invariants: exactly one result per step; the interpreter never inherits
 * the channel to nomaflowd; a channel record is bounded (PY_MAX_RECORD)
 * and every LOG line is valid UTF-8 of at most NF_MAX_LOG_LINE bytes.
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
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

#ifndef NF_PYTHONDIR
#error "NF_PYTHONDIR must be defined by the build"
#endif

#define PY_DEFAULT_PYTHON	"/usr/bin/python3"
#define PY_RUNNER_FILE		"nomaflow_runner.py"
#define PY_DEFAULT_PATH		"/usr/local/bin:/usr/bin:/bin"
#define PY_READ_CHUNK		(64u << 10)
/* A record beyond this could not go out as an OUTPUT frame anyway. */
#define PY_MAX_RECORD		(3u << 20)
/* How long a SIGTERM'd interpreter may keep writing before SIGKILL. */
#define PY_TERM_GRACE_MS	500

enum py_stage {
	PY_STAGE_SETUP = 1,
	PY_STAGE_POLICY,
	PY_STAGE_EXEC,
};

struct py_status {
	int	stage;
	int	err;
};

/* A pipe from the interpreter, read into buf a line at a time. */
struct py_stream {
	const char	*name;	/* "stdout" | "stderr" | "channel" */
	int		 fd;	/* -1 once closed */
	struct nf_buf	 buf;
};

struct py_state {
	const char	 *callable;
	const char	 *python;
	const char	 *runner;
	char		 *argv[5];
	char		**envp;
	size_t		  envn;
	int		  in_fd;	/* memfd: the step as JSON */
	pid_t		  pid;
	pid_t		  self;
	int		  go_w;
	int		  st_r;
	int		  sig_r;
	struct py_stream  out, err, chan;
	int64_t		  started_ms;
	/* What the runner reported last. */
	int		  have_result;
	struct nf_val	 *value;	/* result value (owned) */
	char		 *error;	/* error record text (owned) */
	int		  overflow;	/* a record exceeded PY_MAX_RECORD */
	int		  bad_records;
};

static volatile sig_atomic_t	py_got_term;
static int			py_sig_w = -1;

static void
py_on_signal(int sig)
{
	int	saved = errno;
	char	c = 0;

	if (sig == SIGTERM)
		py_got_term = 1;
	(void)write(py_sig_w, &c, 1);
	errno = saved;
}

static void
py_env_add(struct py_state *st, char *kv)
{
	st->envp = nf_xreallocarray(st->envp, st->envn + 2, sizeof(char *));
	st->envp[st->envn++] = kv;
	st->envp[st->envn] = NULL;
}

/*
 * The interpreter's environment: minimal and fixed.  -I makes Python
 * ignore PYTHON* variables anyway; the NOMAFLOW_* identity is for code
 * that does not take ctx.
 */
static void
py_env_build(struct nf_step_ctx *ctx, struct py_state *st)
{
	const char	*home = getenv("HOME"), *lang = getenv("LANG");

	py_env_add(st, nf_xprintf("PATH=%s", PY_DEFAULT_PATH));
	py_env_add(st, nf_xprintf("HOME=%s", home != NULL ? home : "/"));
	py_env_add(st, nf_xprintf("LANG=%s", lang != NULL ? lang :
	    "C.UTF-8"));
	py_env_add(st, nf_xprintf("NOMAFLOW_RUN_ID=%lld",
	    (long long)ctx->run_id));
	py_env_add(st, nf_xprintf("NOMAFLOW_JOB_ID=%s", ctx->job_id));
	py_env_add(st, nf_xprintf("NOMAFLOW_STEP=%s", ctx->step));
	py_env_add(st, nf_xprintf("NOMAFLOW_ATTEMPT=%lld",
	    (long long)ctx->attempt));
}

/* A map field of step_start, or an empty map. */
static struct nf_val *
py_msg_map(struct nf_step_ctx *ctx, const char *key)
{
	const struct nf_val	*v;

	v = nf_val_get(ctx->msg, key);
	return v != NULL && v->type == NF_V_MAP ? nf_val_dup(v) :
	    nf_val_map();
}

/* The step as the runner reads it on stdin, written to a memfd. */
static int
py_input(struct nf_step_ctx *ctx, struct py_state *st, const char *plugins)
{
	struct nf_val	*in;
	const struct nf_val *kw;
	char		*json;
	int		 fd;

	in = nf_val_map();
	nf_val_map_set_str(in, "callable", st->callable);
	kw = nf_val_get(ctx->spec, "kwargs");
	nf_val_map_set(in, "kwargs", kw != NULL ? nf_val_dup(kw) :
	    nf_val_map());
	nf_val_map_set(in, "params", nf_val_dup(ctx->params));
	nf_val_map_set(in, "run_params", py_msg_map(ctx, "run_params"));
	nf_val_map_set(in, "outputs", py_msg_map(ctx, "outputs"));
	nf_val_map_set(in, "pools", py_msg_map(ctx, "pools"));
	nf_val_map_set_int(in, "run_id", ctx->run_id);
	nf_val_map_set_str(in, "job_id", ctx->job_id);
	nf_val_map_set_str(in, "step", ctx->step);
	nf_val_map_set_int(in, "attempt", ctx->attempt);
	nf_val_map_set_str(in, "plugins_dir", plugins != NULL ? plugins : "");
	json = nf_val_to_json_str(in, -1);
	nf_val_free(in);

	fd = memfd_create("nomaflow-step", MFD_CLOEXEC);
	if (fd == -1 || nf_write_all(fd, json, strlen(json)) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		free(json);
		return nf_step_fail(ctx, "error", "job %s step %s: cannot "
		    "hand the step to the interpreter: memfd: %s",
		    ctx->job_id, ctx->step, strerror(errno));
	}
	free(json);
	st->in_fd = fd;
	return 0;
}

static int
py_spec(struct nf_step_ctx *ctx, struct py_state *st, const char **plugins)
{
	const struct nf_val	*v;
	const char		*e;

	v = nf_val_get(ctx->spec, "callable");
	if (v == NULL || v->type != NF_V_STR || strchr(v->u.s.p, ':') == NULL)
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "spec.callable must be \"package.module:function\"",
		    ctx->job_id, ctx->step);
	st->callable = v->u.s.p;
	v = nf_val_get(ctx->spec, "kwargs");
	if (v != NULL && v->type != NF_V_MAP)
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "spec.kwargs must be a table", ctx->job_id, ctx->step);

	e = getenv("NOMAFLOW_PYTHON");
	st->python = e != NULL && *e != '\0' ? e : PY_DEFAULT_PYTHON;
	if (st->python[0] != '/')
		return nf_step_fail(ctx, "error", "job %s step %s: the python "
		    "interpreter \"%s\" is not an absolute path (set python "
		    "in nomaflow.toml)", ctx->job_id, ctx->step, st->python);
	if (access(st->python, X_OK) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: cannot "
		    "run the python interpreter %s: %s (install python3 or "
		    "set python in nomaflow.toml)", ctx->job_id, ctx->step,
		    st->python, strerror(errno));
	e = getenv("NOMAFLOW_PYTHON_RUNNER");
	st->runner = e != NULL && *e != '\0' ? e :
	    NF_PYTHONDIR "/" PY_RUNNER_FILE;
	if (access(st->runner, R_OK) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: cannot "
		    "read the python runner %s: %s (reinstall nomaflow, or "
		    "point NOMAFLOW_PYTHON_RUNNER at python/%s of the source "
		    "tree)", ctx->job_id, ctx->step, st->runner,
		    strerror(errno), PY_RUNNER_FILE);
	e = getenv("NOMAFLOW_PLUGINS_DIR");
	*plugins = e != NULL && *e != '\0' ? e : NULL;
	return 0;
}

static void __attribute__((noreturn))
py_child_fail(int st_w, int stage, int err, const char *what)
{
	struct py_status	s;
	char			line[PATH_MAX + 256];
	int			n;

	s.stage = stage;
	s.err = err;
	(void)!write(st_w, &s, sizeof(s));
	n = snprintf(line, sizeof(line), "nomaflow-worker: %s: %s\n", what,
	    strerror(err));
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
		    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	_exit(127);
}

static void __attribute__((noreturn))
py_child(struct nf_step_ctx *ctx, struct py_state *st,
    const struct nf_policy *policy, int go_r, int out_w, int err_w,
    int chan_w, int st_w)
{
	struct rlimit	rl;
	char		c, what[PATH_MAX + 64], err[512];
	ssize_t		n;
	int		e;

	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != st->self)
		_exit(127);
	close(st->go_w);
	close(st->out.fd);
	close(st->err.fd);
	close(st->chan.fd);
	close(st->st_r);
	close(st->sig_r);
	close(py_sig_w);

	do
		n = read(go_r, &c, 1);
	while (n == -1 && errno == EINTR);
	if (n != 1)
		_exit(127);
	close(go_r);

	/*
	 * Every source descriptor is >= 4 (0-2 are taken and 3 is the
	 * channel to nomaflowd), so these dup2s cannot clobber each other;
	 * the last one replaces the supervisor's socket in this process.
	 */
	if (dup2(st->in_fd, STDIN_FILENO) == -1 ||
	    dup2(out_w, STDOUT_FILENO) == -1 ||
	    dup2(err_w, STDERR_FILENO) == -1 ||
	    dup2(chan_w, NF_WORKER_FD) == -1)
		py_child_fail(st_w, PY_STAGE_SETUP, errno,
		    "cannot set up the interpreter's descriptors");
	close(st->in_fd);
	close(out_w);
	close(err_w);
	close(chan_w);
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		py_child_fail(st_w, PY_STAGE_SETUP, errno,
		    "setrlimit RLIMIT_CORE");
	if (policy != NULL && nf_sandbox_install(policy, err,
	    sizeof(err)) == -1) {
		e = errno;
		snprintf(what, sizeof(what), "cannot install seccomp policy %s",
		    ctx->policy);
		py_child_fail(st_w, PY_STAGE_POLICY, e, what);
	}
	execve(st->python, st->argv, st->envp);
	e = errno;
	snprintf(what, sizeof(what), "cannot execute %s", st->python);
	py_child_fail(st_w, PY_STAGE_EXEC, e, what);
}

static int
py_pipe(struct nf_step_ctx *ctx, int fds[2], int flags)
{
	if (pipe2(fds, O_CLOEXEC | flags) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: pipe: %s",
		    ctx->job_id, ctx->step, strerror(errno));
	return 0;
}

static int
py_prepare(struct nf_step_ctx *ctx)
{
	struct py_state		*st;
	struct nf_policy	*policy = NULL;
	struct sigaction	 sa;
	const char		*plugins = NULL;
	int			 go[2], out[2], err[2], chan[2], stp[2], sig[2];
	char			 msg[1024];
	pid_t			 pid;

	st = nf_xcalloc(1, sizeof(*st));
	ctx->data = st;
	st->in_fd = -1;
	st->out.name = "stdout";
	st->err.name = "stderr";
	st->chan.name = "channel";
	nf_buf_init(&st->out.buf);
	nf_buf_init(&st->err.buf);
	nf_buf_init(&st->chan.buf);
	if (py_spec(ctx, st, &plugins) == -1 ||
	    py_input(ctx, st, plugins) == -1)
		return -1;
	py_env_build(ctx, st);
	st->argv[0] = (char *)st->python;
	st->argv[1] = "-I";
	st->argv[2] = "-B";
	st->argv[3] = (char *)st->runner;
	st->argv[4] = NULL;
	if (ctx->sandbox) {
		policy = nf_sandbox_load(ctx->policies_dir, ctx->policy, msg,
		    sizeof(msg));
		if (policy == NULL)
			return nf_step_fail(ctx, "sandbox", "job %s step %s: "
			    "%s", ctx->job_id, ctx->step, msg);
	}
	if (py_pipe(ctx, go, 0) == -1 || py_pipe(ctx, out, 0) == -1 ||
	    py_pipe(ctx, err, 0) == -1 || py_pipe(ctx, chan, 0) == -1 ||
	    py_pipe(ctx, stp, 0) == -1 || py_pipe(ctx, sig, O_NONBLOCK) == -1)
		return -1;
	py_sig_w = sig[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = py_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		return nf_step_fail(ctx, "error", "sigaction SIGCHLD: %s",
		    strerror(errno));
	sa.sa_flags = SA_RESETHAND;
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		return nf_step_fail(ctx, "error", "sigaction SIGTERM: %s",
		    strerror(errno));

	st->self = getpid();
	st->go_w = go[1];
	st->out.fd = out[0];
	st->err.fd = err[0];
	st->chan.fd = chan[0];
	st->st_r = stp[0];
	st->sig_r = sig[0];
	if (nf_set_nonblock(st->out.fd) == -1 ||
	    nf_set_nonblock(st->err.fd) == -1 ||
	    nf_set_nonblock(st->chan.fd) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "O_NONBLOCK: %s", ctx->job_id, ctx->step,
		    strerror(errno));
	pid = fork();
	if (pid == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: fork: %s",
		    ctx->job_id, ctx->step, strerror(errno));
	if (pid == 0)
		py_child(ctx, st, policy, go[0], out[1], err[1], chan[1],
		    stp[1]);
	st->pid = pid;
	close(go[0]);
	close(out[1]);
	close(err[1]);
	close(chan[1]);
	close(stp[1]);
	close(st->in_fd);
	st->in_fd = -1;
	nf_policy_free(policy);
	return 0;
}

/* Send text as LOG lines, one per '\n'-separated piece. */
static void
py_log_text(struct nf_step_ctx *ctx, const char *stream, int level,
    const char *p, size_t len)
{
	const char	*nl;

	while ((nl = memchr(p, '\n', len)) != NULL) {
		nf_step_log_line(ctx, stream, level, p, (size_t)(nl - p));
		len -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	nf_step_log_line(ctx, stream, level, p, len);
}

static int
py_level(const char *s)
{
	int	l;

	if (s == NULL || (l = nf_log_level_parse(s)) < 0)
		return NF_LOG_INFO;
	return l;
}

/* One JSON record from the runner. */
static void
py_record(struct nf_step_ctx *ctx, struct py_state *st, const char *p,
    size_t len)
{
	struct nf_val	*rec;
	const struct nf_val *v;
	const char	*t, *s;
	char		 err[256];
	size_t		 i;

	if ((rec = nf_val_from_json(p, len, err, sizeof(err))) == NULL ||
	    rec->type != NF_V_MAP ||
	    (t = nf_val_get_str(rec, "t")) == NULL) {
		/* Not the runner: plugin code wrote to fd 3 itself. */
		if (st->bad_records++ == 0)
			nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step "
			    "%s: the python runner's channel carried a line "
			    "that is not one of its records (%s); relayed as "
			    "stdout", ctx->job_id, ctx->step, rec == NULL ?
			    err : "no record type");
		nf_step_log_line(ctx, "stdout", -1, p, len);
		nf_val_free(rec);
		return;
	}
	if (strcmp(t, "line") == 0) {
		/* print() and sys.stdout, or sys.stderr: no level. */
		s = nf_val_get_str(rec, "s");
		v = nf_val_get(rec, "l");
		if (v != NULL && v->type == NF_V_STR)
			py_log_text(ctx, s != NULL && strcmp(s, "stderr") ==
			    0 ? "stderr" : "stdout", -1, v->u.s.p, v->u.s.len);
	} else if (strcmp(t, "log") == 0) {
		/*
		 * A logging record: stdout with its level (the level, not
		 * the stream, says how bad it is; stderr is for what the
		 * code wrote there itself).
		 */
		v = nf_val_get(rec, "l");
		if (v != NULL && v->type == NF_V_STR)
			py_log_text(ctx, "stdout", py_level(nf_val_get_str(rec,
			    "v")), v->u.s.p, v->u.s.len);
	} else if (strcmp(t, "ready") == 0)
		nf_step_log(ctx, "worker", NF_LOG_DEBUG, "python: interpreter "
		    "started and %s imported in %lld ms", st->callable,
		    (long long)(nf_mono_ms() - st->started_ms));
	else if (strcmp(t, "result") == 0 && !st->have_result) {
		st->have_result = 1;
		for (i = 0; i < rec->u.m.n; i++)
			if (strcmp(rec->u.m.kv[i].key, "value") == 0) {
				st->value = rec->u.m.kv[i].val;
				rec->u.m.kv[i].val = nf_val_nil();
			}
	} else if (strcmp(t, "error") == 0 && !st->have_result) {
		st->have_result = 1;
		s = nf_val_get_str(rec, "error");
		st->error = nf_xstrdup(s != NULL ? s : "the callable failed");
	}
	nf_val_free(rec);
}

/*
 * Handle the complete lines held for s (at EOF the partial one too).
 * stdout/stderr lines go out as they are; channel lines are records.
 */
static void
py_lines(struct nf_step_ctx *ctx, struct py_state *st, struct py_stream *s,
    int final)
{
	const char	*q, *nl;
	size_t		 start = 0, len = s->buf.len, l, next;
	int		 is_chan = s == &st->chan;

	while (start < len) {
		q = s->buf.data + start;
		nl = memchr(q, '\n', len - start);
		if (nl != NULL) {
			l = (size_t)(nl - q);
			next = start + l + 1;
		} else if (!is_chan && len - start > NF_MAX_LOG_LINE) {
			l = NF_MAX_LOG_LINE;
			next = start + l;
		} else if (final) {
			l = len - start;
			next = len;
		} else
			break;
		if (is_chan)
			py_record(ctx, st, q, l);
		else {
			if (l > 0 && q[l - 1] == '\r')
				l--;
			nf_step_log_line(ctx, s->name, -1, q, l);
		}
		start = next;
	}
	nf_buf_consume(&s->buf, start);
}

static void
py_stream_close(struct nf_step_ctx *ctx, struct py_state *st,
    struct py_stream *s)
{
	py_lines(ctx, st, s, 1);
	close(s->fd);
	s->fd = -1;
}

/* 1 after data, 0 when none is available now, -1 once closed. */
static int
py_stream_read(struct nf_step_ctx *ctx, struct py_state *st,
    struct py_stream *s)
{
	static char	chunk[PY_READ_CHUNK];
	ssize_t		n;

	if (s->fd == -1)
		return -1;
	for (;;) {
		n = read(s->fd, chunk, sizeof(chunk));
		if (n > 0) {
			nf_buf_add(&s->buf, chunk, (size_t)n);
			nf_step_batch(ctx, 1);
			py_lines(ctx, st, s, 0);
			nf_step_batch(ctx, 0);
			if (s == &st->chan && s->buf.len > PY_MAX_RECORD) {
				/* An output too big for a frame: stop it. */
				st->overflow = 1;
				(void)kill(st->pid, SIGKILL);
				nf_buf_reset(&s->buf);
				break;
			}
			return 1;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step %s: "
		    "reading the interpreter's %s: %s; the rest is lost",
		    ctx->job_id, ctx->step, s->name, strerror(errno));
		break;
	}
	py_stream_close(ctx, st, s);
	return -1;
}

static void
py_status_read(struct py_state *st, struct py_status *ps, int *have)
{
	ssize_t	n;

	do
		n = read(st->st_r, ps, sizeof(*ps));
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof(*ps))
		*have = 1;
	if (n != -1 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(st->st_r);
		st->st_r = -1;
	}
}

static void
py_report(struct nf_step_ctx *ctx, struct py_state *st, int status,
    const struct py_status *ps)
{
	struct nf_val	*res;
	const char	*abbrev;
	char		 name[32];
	int		 sig;

	if (ps != NULL) {
		if (ps->stage == PY_STAGE_POLICY)
			res = nf_step_result_new(0, "sandbox", "job %s step "
			    "%s: cannot install seccomp policy %s: %s",
			    ctx->job_id, ctx->step, ctx->policy,
			    strerror(ps->err));
		else
			res = nf_step_result_new(0, "error", "job %s step %s: "
			    "cannot start %s: %s", ctx->job_id, ctx->step,
			    st->python, strerror(ps->err));
	} else if (st->overflow)
		res = nf_step_result_new(0, "error", "job %s step %s: %s "
		    "sent a record of more than %u MiB (an output that large "
		    "belongs in a file or a table; return a summary)",
		    ctx->job_id, ctx->step, st->callable,
		    PY_MAX_RECORD >> 20);
	else if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		if ((abbrev = sigabbrev_np(sig)) != NULL)
			snprintf(name, sizeof(name), "SIG%s", abbrev);
		else
			snprintf(name, sizeof(name), "signal %d", sig);
		if (sig == SIGSYS && ctx->sandbox)
			res = nf_step_result_new(0, "sandbox", "python "
			    "killed by SIGSYS: a syscall was blocked by policy "
			    "%s (%s)", ctx->policy, st->callable);
		else
			res = nf_step_result_new(0, "crash", "python killed "
			    "by %s in %s", name, st->callable);
		nf_val_map_set_int(res, "signal", sig);
	} else if (st->error != NULL)
		res = nf_step_result_new(0, "error", "%s", st->error);
	else if (!st->have_result)
		res = nf_step_result_new(0, "error", "job %s step %s: python "
		    "exited with status %d before reporting a result (see the "
		    "log)", ctx->job_id, ctx->step, WEXITSTATUS(status));
	else if (WEXITSTATUS(status) != 0)
		res = nf_step_result_new(0, "error", "job %s step %s: python "
		    "exited with status %d after its result", ctx->job_id,
		    ctx->step, WEXITSTATUS(status));
	else {
		res = nf_step_result_new(1, NULL, NULL);
		if (st->value != NULL && st->value->type == NF_V_INT)
			nf_val_map_set_int(res, "rows_affected",
			    st->value->u.i);
		else if (st->value != NULL && st->value->type == NF_V_MAP) {
			nf_step_output(ctx, st->value);
			st->value = NULL;
		}
	}
	if (ps == NULL && WIFEXITED(status))
		nf_val_map_set_int(res, "exit_code", WEXITSTATUS(status));
	nf_step_result(ctx, res);
}

static int
py_run(struct nf_step_ctx *ctx)
{
	struct py_state		*st = ctx->data;
	struct py_status	 ps;
	struct py_stream	*streams[3];
	struct pollfd		 pfd[5];
	int64_t			 deadline = 0, now;
	char			 c = 1, drain[64];
	pid_t			 r;
	int			 status = 0, terminating = 0, killed = 0;
	int			 have_ps = 0, n, i, timeout;

	/* The channel first: records lead, and are read first each round. */
	streams[0] = &st->chan;
	streams[1] = &st->out;
	streams[2] = &st->err;
	st->started_ms = nf_mono_ms();
	if (!py_got_term && write(st->go_w, &c, 1) == -1 && errno != EPIPE)
		nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step %s: "
		    "cannot start python: write: %s", ctx->job_id, ctx->step,
		    strerror(errno));
	close(st->go_w);

	for (;;) {
		if (py_got_term && !terminating) {
			terminating = 1;
			(void)kill(st->pid, SIGTERM);
			deadline = nf_mono_ms() + PY_TERM_GRACE_MS;
		}
		r = waitpid(st->pid, &status, WNOHANG);
		if (r == st->pid)
			break;
		if (r == -1 && errno != EINTR)
			nf_panic("waitpid %ld: %s", (long)st->pid,
			    strerror(errno));
		timeout = -1;
		if (terminating && !killed) {
			now = nf_mono_ms();
			if (now >= deadline) {
				(void)kill(st->pid, SIGKILL);
				killed = 1;
			} else
				timeout = (int)(deadline - now);
		}
		pfd[0].fd = st->sig_r;
		pfd[0].events = POLLIN;
		pfd[1].fd = st->st_r;
		pfd[1].events = POLLIN;
		for (i = 0; i < 3; i++) {
			pfd[2 + i].fd = streams[i]->fd;
			pfd[2 + i].events = POLLIN;
		}
		n = poll(pfd, 5, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			nf_panic("poll: %s", strerror(errno));
		}
		if (pfd[0].revents != 0)
			while (read(st->sig_r, drain, sizeof(drain)) > 0)
				;
		if (pfd[1].revents != 0)
			py_status_read(st, &ps, &have_ps);
		for (i = 0; i < 3; i++)
			if (pfd[2 + i].revents != 0)
				(void)py_stream_read(ctx, st, streams[i]);
	}

	while (st->st_r != -1)
		py_status_read(st, &ps, &have_ps);
	for (i = 0; i < 3; i++) {
		while ((n = py_stream_read(ctx, st, streams[i])) == 1)
			;
		if (n == 0) {
			nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step "
			    "%s: python exited but a process it started still "
			    "holds its %s; later output is discarded",
			    ctx->job_id, ctx->step, streams[i]->name);
			py_stream_close(ctx, st, streams[i]);
		}
	}
	if (terminating) {
		(void)kill(st->self, SIGTERM);
		_exit(128 + SIGTERM);
	}
	py_report(ctx, st, status, have_ps ? &ps : NULL);
	return 0;
}

const struct nf_step_impl nf_step_python = {
	"python", "relay", py_prepare, py_run
};
