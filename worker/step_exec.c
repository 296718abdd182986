/*
 * step_exec.c: the "exec" step: run a program (no shell unless argv names
 * one) and relay its stdout/stderr lines as LOG frames.
 *
 * Runs in nomaflow-worker.  prepare (unsandboxed) validates the spec,
 * builds argv and the environment, loads the step's policy (step_start
 * "policy", normally "exec") and starts the command's process held on a
 * go pipe (worker/child.c: how, and why it shares the worker's memory
 * until execve); main installs the narrow "relay" policy on the worker;
 * run releases the command, relays its output and reports how it ended.
 *
 * Invariants: exactly one result per step; the command never inherits the
 * channel to nomaflowd (fd 3 is close-on-exec) nor any pipe but its own
 * stdout/stderr.
 */
#include "autoconf.h"

#include <sys/wait.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "proto.h"
#include "step.h"
#include "template.h"
#include "util.h"
#include "val.h"

extern char **environ;

struct exec_state {
	char			**argv;
	char			**envp;
	size_t			  envn;
	const char		 *cwd;
	struct nf_child		  child;
};

/* Set KEY=value in the environment list, replacing an earlier KEY. */
static void
exec_env_set(struct exec_state *st, const char *key, const char *value,
    int replace)
{
	size_t	i, klen = strlen(key);
	char	*e;

	e = nf_xprintf("%s=%s", key, value);
	for (i = 0; i < st->envn; i++) {
		if (strncmp(st->envp[i], key, klen) == 0 &&
		    st->envp[i][klen] == '=') {
			if (replace) {
				free(st->envp[i]);
				st->envp[i] = e;
			} else
				free(e);
			return;
		}
	}
	st->envp = nf_xreallocarray(st->envp, st->envn + 2, sizeof(char *));
	st->envp[st->envn++] = e;
	st->envp[st->envn] = NULL;
}

static int
exec_env_name_ok(const char *k)
{
	return *k != '\0' && strchr(k, '=') == NULL;
}

/*
 * The command's environment: the worker's own if inherit_env, the minimal
 * defaults for what is still unset, the NOMAFLOW_* identity and params of
 * the step, and finally spec.env, which wins over everything.
 */
static int
exec_env_build(struct nf_step_ctx *ctx, struct exec_state *st)
{
	const struct nf_val	*env, *v;
	const char		*home, *lang;
	char			 num[32], *name, *text, **e, *p;
	size_t			 i;
	int			 inherit = 0;

	st->envp = nf_xcalloc(1, sizeof(char *));
	v = nf_val_get(ctx->spec, "inherit_env");
	if (v != NULL && v->type != NF_V_BOOL)
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "spec.inherit_env must be true or false", ctx->job_id,
		    ctx->step);
	if (v != NULL)
		inherit = v->u.b;
	if (inherit) {
		for (e = environ; *e != NULL; e++) {
			if ((p = strchr(*e, '=')) == NULL)
				continue;
			name = nf_xstrndup(*e, (size_t)(p - *e));
			exec_env_set(st, name, p + 1, 1);
			free(name);
		}
	}
	home = getenv("HOME");
	lang = getenv("LANG");
	exec_env_set(st, "PATH", NF_CHILD_DEFAULT_PATH, 0);
	exec_env_set(st, "HOME", home != NULL ? home : "/", 0);
	exec_env_set(st, "LANG", lang != NULL ? lang : "C.UTF-8", 0);

	snprintf(num, sizeof(num), "%lld", (long long)ctx->run_id);
	exec_env_set(st, "NOMAFLOW_RUN_ID", num, 1);
	exec_env_set(st, "NOMAFLOW_JOB_ID", ctx->job_id, 1);
	exec_env_set(st, "NOMAFLOW_STEP", ctx->step, 1);
	snprintf(num, sizeof(num), "%lld", (long long)ctx->attempt);
	exec_env_set(st, "NOMAFLOW_ATTEMPT", num, 1);
	for (i = 0; i < ctx->params->u.m.n; i++) {
		/* NOMAFLOW_PARAM_<NAME>: upper case, other bytes as '_'. */
		name = nf_xprintf("NOMAFLOW_PARAM_%s",
		    ctx->params->u.m.kv[i].key);
		for (p = name + strlen("NOMAFLOW_PARAM_"); *p != '\0'; p++)
			*p = isalnum((unsigned char)*p) ?
			    (char)toupper((unsigned char)*p) : '_';
		/* As a template renders it: "" for null, JSON for tables. */
		text = nf_tmpl_text(ctx->params->u.m.kv[i].val);
		exec_env_set(st, name, text, 1);
		free(text);
		free(name);
	}

	env = nf_val_get(ctx->spec, "env");
	if (env == NULL)
		return 0;
	if (env->type != NF_V_MAP)
		return nf_step_fail(ctx, "error", "job %s step %s: spec.env "
		    "must be a table of strings", ctx->job_id, ctx->step);
	for (i = 0; i < env->u.m.n; i++) {
		v = env->u.m.kv[i].val;
		if (!exec_env_name_ok(env->u.m.kv[i].key))
			return nf_step_fail(ctx, "error", "job %s step %s: "
			    "spec.env: \"%s\" is not a valid variable name "
			    "(empty or contains '=')", ctx->job_id, ctx->step,
			    env->u.m.kv[i].key);
		if (v->type != NF_V_STR)
			return nf_step_fail(ctx, "error", "job %s step %s: "
			    "spec.env.%s must be a string, not %s",
			    ctx->job_id, ctx->step, env->u.m.kv[i].key,
			    nf_val_type_name(v->type));
		exec_env_set(st, env->u.m.kv[i].key, v->u.s.p, 1);
	}
	return 0;
}

static int
exec_argv_build(struct nf_step_ctx *ctx, struct exec_state *st)
{
	const struct nf_val	*a, *v;
	size_t			 i;

	a = nf_val_get(ctx->spec, "argv");
	if (a == NULL || a->type != NF_V_ARR || a->u.a.n == 0)
		return nf_step_fail(ctx, "error", "job %s step %s: spec.argv "
		    "must be a non-empty array of strings", ctx->job_id,
		    ctx->step);
	st->argv = nf_xcalloc(a->u.a.n + 1, sizeof(char *));
	for (i = 0; i < a->u.a.n; i++) {
		v = a->u.a.items[i];
		if (v->type != NF_V_STR)
			return nf_step_fail(ctx, "error", "job %s step %s: "
			    "spec.argv[%zu] must be a string, not %s",
			    ctx->job_id, ctx->step, i,
			    nf_val_type_name(v->type));
		st->argv[i] = v->u.s.p;
	}
	if (st->argv[0][0] == '\0')
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "spec.argv[0] is empty; name the program to run",
		    ctx->job_id, ctx->step);
	v = nf_val_get(ctx->spec, "cwd");
	if (v != NULL && v->type != NF_V_STR)
		return nf_step_fail(ctx, "error", "job %s step %s: spec.cwd "
		    "must be a string", ctx->job_id, ctx->step);
	st->cwd = v != NULL ? v->u.s.p : NULL;
	return 0;
}

static int
exec_prepare(struct nf_step_ctx *ctx)
{
	struct exec_state	*st;

	st = nf_xcalloc(1, sizeof(*st));
	ctx->data = st;
	nf_child_init(&st->child, "the command");
	if (exec_argv_build(ctx, st) == -1 || exec_env_build(ctx, st) == -1)
		return -1;
	st->child.argv = st->argv;
	st->child.envp = st->envp;
	st->child.cwd = st->cwd;
	if (nf_child_stream(ctx, &st->child, "stdout", STDOUT_FILENO, 0) ==
	    -1 || nf_child_stream(ctx, &st->child, "stderr", STDERR_FILENO,
	    0) == -1)
		return -1;
	return nf_child_start(ctx, &st->child);
}

/* The result for the command's wait status, or why it never ran. */
static void
exec_report(struct nf_step_ctx *ctx, struct exec_state *st, int status)
{
	struct nf_val	*res;
	char		 name[32];
	int		 code, sig, err = st->child.err;

	switch (st->child.stage) {
	case NF_CHILD_OK:
		break;
	case NF_CHILD_POLICY:
		res = nf_step_result_new(0, "sandbox", "job %s step %s: cannot "
		    "install seccomp policy %s: %s", ctx->job_id, ctx->step,
		    ctx->policy, strerror(err));
		goto never_ran;
	case NF_CHILD_USER:
		res = nf_step_result_new(0, "error", "job %s step %s: cannot "
		    "run the command as uid %ld gid %ld without capabilities: "
		    "%s (run_as needs nomaflowd to run as root)", ctx->job_id,
		    ctx->step, (long)ctx->uid, (long)ctx->gid, strerror(err));
		goto never_ran;
	case NF_CHILD_ISOLATE:
		res = nf_step_result_new(0, "error", "job %s step %s: cannot "
		    "isolate the command: %s (see the log)", ctx->job_id,
		    ctx->step, strerror(err));
		goto never_ran;
	case NF_CHILD_CHDIR:
		res = nf_step_result_new(0, "error", "job %s step %s: cannot "
		    "change directory to %s: %s (check spec.cwd)",
		    ctx->job_id, ctx->step, st->cwd, strerror(err));
		goto never_ran;
	case NF_CHILD_EXEC:
		if (strchr(st->argv[0], '/') != NULL)
			res = nf_step_result_new(0, "error", "job %s step %s: "
			    "cannot execute %s: %s", ctx->job_id, ctx->step,
			    st->argv[0], strerror(err));
		else
			res = nf_step_result_new(0, "error", "job %s step %s: "
			    "cannot execute %s: %s (searched PATH=%s; give an "
			    "absolute path or set spec.env.PATH)", ctx->job_id,
			    ctx->step, st->argv[0], strerror(err),
			    nf_child_env_path(st->envp));
		goto never_ran;
	default:
		res = nf_step_result_new(0, "error", "job %s step %s: cannot "
		    "set up the command: %s", ctx->job_id, ctx->step,
		    strerror(err));
		goto never_ran;
	}
	if (st->child.denied) {
		/* Killed for it: its exit status says nothing more. */
		res = nf_child_deny_result(ctx, &st->child);
		if (WIFSIGNALED(status))
			nf_val_map_set_int(res, "signal", WTERMSIG(status));
	} else if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		if (code == 0)
			res = nf_step_result_new(1, NULL, NULL);
		else
			res = nf_step_result_new(0, "error", "command exited "
			    "with status %d", code);
		nf_val_map_set_int(res, "exit_code", code);
	} else if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		if (sig == SIGSYS && ctx->sandbox)
			res = nf_step_result_new(0, "sandbox", "killed by "
			    "SIGSYS: a syscall was blocked by policy %s",
			    ctx->policy);
		else
			res = nf_step_result_new(0, "crash", "command killed "
			    "by %s", nf_child_signame(sig, name, sizeof(name)));
		nf_val_map_set_int(res, "signal", sig);
	} else
		nf_panic("waitpid: status %#x is neither exit nor signal",
		    status);
	nf_step_result(ctx, res);
	return;
never_ran:
	nf_val_map_set_int(res, "exit_code", 127);
	nf_step_result(ctx, res);
}

static int
exec_run(struct nf_step_ctx *ctx)
{
	struct exec_state	*st = ctx->data;

	exec_report(ctx, st, nf_child_run(ctx, &st->child));
	return 0;
}

const struct nf_step_impl nf_step_exec = {
	"exec", "relay", exec_prepare, exec_run
};
