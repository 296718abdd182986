/*
 * step_python.c: the "python" step: call "package.module:function" from the
 * plugins directory in /usr/bin/python3 (the configured interpreter) under
 * the shipped runner module (python/nomaflow_runner.py), and relay what it
 * says as LOG, OUTPUT and RESULT frames.
 *
 * Runs in nomaflow-worker.  prepare (unsandboxed) checks the spec, writes
 * the step's description as JSON into a memfd (the interpreter's stdin, so
 * no write can block on a child that is not reading), loads the step's
 * policy (normally "exec") and starts the interpreter's process held on a
 * go pipe (worker/child.c, shared with exec steps).  main installs the
 * narrow "relay" policy on the worker; run releases the child, which
 * installs its own policy and execs
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
 * without a result (worker/child.c).
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
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "json.h"
#include "log.h"
#include "proto.h"
#include "step.h"
#include "util.h"
#include "val.h"

#ifndef NF_PYTHONDIR
#error "NF_PYTHONDIR must be defined by the build"
#endif

#define PY_DEFAULT_PYTHON	"/usr/bin/python3"
#define PY_RUNNER_FILE		"nomaflow_runner.py"
/* A record beyond this could not go out as an OUTPUT frame anyway. */
#define PY_MAX_RECORD		(3u << 20)

struct py_state {
	const char	 *callable;
	const char	 *python;
	const char	 *runner;
	char		 *argv[5];
	char		**envp;
	size_t		  envn;
	struct nf_child	  child;
	int64_t		  started_ms;
	/* What the runner reported last. */
	int		  have_result;
	struct nf_val	 *value;	/* result value (owned) */
	char		 *error;	/* error record text (owned) */
	int		  bad_records;
};

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

	py_env_add(st, nf_xprintf("PATH=%s", NF_CHILD_DEFAULT_PATH));
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
	json = nf_json_text(in, -1);
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
	st->child.in_fd = fd;
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
py_record(struct nf_step_ctx *ctx, void *arg, const char *p, size_t len)
{
	struct py_state	*st = arg;
	struct nf_val	*rec;
	const struct nf_val *v;
	const char	*t, *s;
	char		 err[256];
	size_t		 i;

	if ((rec = nf_json_read(p, len, err, sizeof(err))) == NULL ||
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

static int
py_prepare(struct nf_step_ctx *ctx)
{
	struct py_state		*st;
	const char		*plugins = NULL;

	st = nf_xcalloc(1, sizeof(*st));
	ctx->data = st;
	nf_json_init();		/* records are read under the sandbox */
	nf_child_init(&st->child, "python");
	if (py_spec(ctx, st, &plugins) == -1 ||
	    py_input(ctx, st, plugins) == -1)
		return -1;
	py_env_build(ctx, st);
	st->argv[0] = (char *)st->python;
	st->argv[1] = "-I";
	st->argv[2] = "-B";
	st->argv[3] = (char *)st->runner;
	st->argv[4] = NULL;
	st->child.argv = st->argv;
	st->child.envp = st->envp;
	st->child.path = st->python;
	st->child.record = py_record;
	st->child.arg = st;
	st->child.max_record = PY_MAX_RECORD;
	/* The channel first: records lead, and are read first each round. */
	if (nf_child_stream(ctx, &st->child, "channel", NF_WORKER_FD, 1) ==
	    -1 || nf_child_stream(ctx, &st->child, "stdout", STDOUT_FILENO,
	    0) == -1 || nf_child_stream(ctx, &st->child, "stderr",
	    STDERR_FILENO, 0) == -1)
		return -1;
	return nf_child_start(ctx, &st->child);
}

static void
py_report(struct nf_step_ctx *ctx, struct py_state *st, int status)
{
	struct nf_val	*res;
	char		 name[32];
	int		 sig, never_ran = st->child.stage != NF_CHILD_OK;

	if (never_ran) {
		if (st->child.stage == NF_CHILD_POLICY)
			res = nf_step_result_new(0, "sandbox", "job %s step "
			    "%s: cannot install seccomp policy %s: %s",
			    ctx->job_id, ctx->step, ctx->policy,
			    strerror(st->child.err));
		else if (st->child.stage == NF_CHILD_ISOLATE)
			res = nf_step_result_new(0, "error", "job %s step %s: "
			    "cannot isolate python: %s (see the log)",
			    ctx->job_id, ctx->step, strerror(st->child.err));
		else if (st->child.stage == NF_CHILD_USER)
			res = nf_step_result_new(0, "error", "job %s step %s: "
			    "cannot run python as uid %ld gid %ld without "
			    "capabilities: %s (run_as needs nomaflowd to run "
			    "as root)", ctx->job_id, ctx->step, (long)ctx->uid,
			    (long)ctx->gid, strerror(st->child.err));
		else
			res = nf_step_result_new(0, "error", "job %s step %s: "
			    "cannot start %s: %s", ctx->job_id, ctx->step,
			    st->python, strerror(st->child.err));
	} else if (st->child.denied) {
		res = nf_child_deny_result(ctx, &st->child);
		if (WIFSIGNALED(status))
			nf_val_map_set_int(res, "signal", WTERMSIG(status));
	} else if (st->child.overflow)
		res = nf_step_result_new(0, "error", "job %s step %s: %s "
		    "sent a record of more than %u MiB (an output that large "
		    "belongs in a file or a table; return a summary)",
		    ctx->job_id, ctx->step, st->callable,
		    PY_MAX_RECORD >> 20);
	else if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		nf_child_signame(sig, name, sizeof(name));
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
	if (!never_ran && WIFEXITED(status))
		nf_val_map_set_int(res, "exit_code", WEXITSTATUS(status));
	nf_step_result(ctx, res);
}

static int
py_run(struct nf_step_ctx *ctx)
{
	struct py_state	*st = ctx->data;
	int		 status;

	st->started_ms = nf_mono_ms();
	status = nf_child_run(ctx, &st->child);
	py_report(ctx, st, status);
	return 0;
}

const struct nf_step_impl nf_step_python = {
	"python", "relay", py_prepare, py_run
};
