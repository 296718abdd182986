/*
 * step_exec.c: the "exec" step: run a program (no shell unless argv names
 * one) and relay its stdout/stderr lines as LOG frames.
 *
 * Runs in nomaflow-worker.  prepare (unsandboxed) validates the spec,
 * builds argv and the environment, loads the step's policy (step_start
 * "policy", normally "exec") and starts the child, which then waits on a
 * "go" pipe.  main installs the narrow "relay" policy on the worker; run
 * releases the child, which installs its own policy, changes directory and
 * execs.  The child is created before the worker's filter so that it
 * carries only its own policy: filters stack, and the relay policy would
 * forbid execve.
 *
 * The child shares the worker's memory (clone CLONE_VM, on a stack of its
 * own) instead of being fork()ed: copying the worker's page tables and
 * then taking copy-on-write faults cost more than the rest of the worker
 * on the VMs we measured (bench/RESULTS.md).  Sharing memory is safe
 * because the two never run at the same time while it matters: the child
 * only blocks on the go pipe until the worker, locked down, releases it,
 * and from then until the child's execve (or its _exit after a failure)
 * the worker is blocked reading the child's status pipe.  The child calls
 * nothing that takes a lock the worker could hold, writes nothing the
 * worker reads except its status record, and leaves with _exit.
 *
 * Process group: the child stays in the worker's group (no setpgid), so the
 * supervisor's killpg on timeout or cancel reaches the command and whatever
 * it spawned.  On SIGTERM the worker forwards SIGTERM to the child, keeps
 * relaying output for a short grace, SIGKILLs a child that is still there,
 * and then dies of SIGTERM itself without a result: the supervisor, which
 * sent the signal, knows why the step ended.
 *
 * Invariants: exactly one result per step; the command never inherits the
 * channel to nomaflowd (fd 3 is close-on-exec) nor any pipe but its own
 * stdout/stderr; every LOG line is valid UTF-8 of at most NF_MAX_LOG_LINE
 * bytes.
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
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

extern char **environ;

#define EXEC_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
#define EXEC_READ_CHUNK		(64u << 10)
/* How long a SIGTERM'd command may keep writing before SIGKILL. */
#define EXEC_TERM_GRACE_MS	500
/* The child's stack until execve: two PATH_MAX buffers and stdio. */
#define EXEC_CHILD_STACK	(256u << 10)

/* What the child reports on its status pipe when it cannot exec. */
enum exec_stage {
	EXEC_STAGE_SETUP = 1,	/* dup2, rlimit */
	EXEC_STAGE_CHDIR,
	EXEC_STAGE_POLICY,
	EXEC_STAGE_EXEC,
};

struct exec_status {
	int	stage;
	int	err;
};

struct exec_stream {
	const char	*name;	/* "stdout" | "stderr" */
	int		 fd;	/* -1 once closed */
	struct nf_buf	 buf;	/* bytes of an incomplete line */
};

struct exec_state {
	char			**argv;
	char			**envp;
	size_t			  envn;
	const char		 *cwd;
	pid_t			  pid;
	pid_t			  self;
	int			  go_w;	/* releases the child */
	int			  st_r;	/* child's exec failure, -1 once closed */
	int			  sig_r;	/* self-pipe */
	struct exec_stream	  out, err;
	void			 *stack;	/* the child's, until it execs */
	/* What the child starts from (it runs on the worker's memory). */
	struct nf_step_ctx	 *ctx;
	const struct nf_policy	 *policy;
	sigset_t		  mask;	/* the worker's, for the command */
	int			  go_r, out_w, err_w, st_w;
};

/* Self-pipe: the handlers only note the signal and wake poll. */
static volatile sig_atomic_t	exec_got_term;
static volatile sig_atomic_t	exec_got_chld;
static int			exec_sig_w = -1;

static void
exec_on_signal(int sig)
{
	int	saved = errno;
	char	c = 0;

	if (sig == SIGTERM)
		exec_got_term = 1;
	else
		exec_got_chld = 1;
	(void)write(exec_sig_w, &c, 1);	/* a full pipe already wakes poll */
	errno = saved;
}

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

/* A param value as environment text; the caller frees. */
static char *
exec_param_text(const struct nf_val *v)
{
	switch (v->type) {
	case NF_V_NIL:
		return nf_xstrdup("");
	case NF_V_BOOL:
		return nf_xstrdup(v->u.b ? "true" : "false");
	case NF_V_INT:
		return nf_xprintf("%lld", (long long)v->u.i);
	case NF_V_FLOAT:
		return nf_xprintf("%.17g", v->u.f);
	case NF_V_STR:
		return nf_xstrndup(v->u.s.p, v->u.s.len);
	default:
		return nf_val_to_json_str(v, -1);
	}
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
	exec_env_set(st, "PATH", EXEC_DEFAULT_PATH, 0);
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
		text = exec_param_text(ctx->params->u.m.kv[i].val);
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

/* PATH of the built environment (the command's, not the worker's). */
static const char *
exec_env_path(char **envp)
{
	for (; *envp != NULL; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return EXEC_DEFAULT_PATH;
}

/*
 * execve argv[0], searching PATH when it has no '/'.  Returns only on
 * failure, with the most telling errno: EACCES from any candidate beats the
 * ENOENT of the others, as in execvp(3), but there is no /bin/sh fallback.
 */
static int
exec_search(char **argv, char **envp)
{
	const char	*path, *p, *end;
	char		 cand[PATH_MAX];
	size_t		 dlen, flen;
	int		 best = ENOENT;

	if (strchr(argv[0], '/') != NULL) {
		execve(argv[0], argv, envp);
		return errno;
	}
	path = exec_env_path(envp);
	flen = strlen(argv[0]);
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		dlen = (size_t)(end - p);
		/* Empty entries would mean the cwd: never search it. */
		if (dlen > 0 && dlen + 1 + flen < sizeof(cand)) {
			memcpy(cand, p, dlen);
			cand[dlen] = '/';
			memcpy(cand + dlen + 1, argv[0], flen + 1);
			execve(cand, argv, envp);
			switch (errno) {
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ELOOP:
			case ENAMETOOLONG:
				break;
			case EACCES:
				best = EACCES;
				break;
			default:
				return errno;
			}
		}
		if (*end == '\0')
			break;
	}
	return best;
}

/*
 * In the child: report why it cannot exec, then leave.  The status record
 * goes last: it releases the worker, which must not run while the child
 * still uses the memory they share.
 */
static void __attribute__((noreturn))
exec_child_fail(int st_w, int stage, int err, const char *what)
{
	struct exec_status	 s;
	char			 line[PATH_MAX + 256];
	int			 n;

	n = snprintf(line, sizeof(line), "nomaflow-worker: %s: %s\n", what,
	    strerror(err));
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
		    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	s.stage = stage;
	s.err = err;
	(void)!write(st_w, &s, sizeof(s));
	_exit(127);
}

/* Make fd become target in the child (dup2 clears close-on-exec). */
static int
exec_child_dup(int fd, int target)
{
	int	fl;

	if (fd != target)
		return dup2(fd, target) == -1 ? -1 : 0;
	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

/*
 * The child, started by clone(CLONE_VM) with every signal blocked; it has
 * its own descriptor table and signal dispositions, the worker's memory.
 */
static int
exec_child(void *arg)
{
	struct exec_state	*st = arg;
	struct nf_step_ctx	*ctx = st->ctx;
	struct sigaction	 sa;
	struct rlimit		 rl;
	char			 c, what[PATH_MAX + 64], err[512];
	ssize_t			 n;
	int			 e;

	/* The worker's handlers and SIGPIPE_IGN are not the command's. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigprocmask(SIG_SETMASK, &st->mask, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != st->self)
		_exit(127);
	/* Our copies of the worker's ends would keep its pipes open. */
	close(st->go_w);
	close(st->out.fd);
	close(st->err.fd);
	close(st->st_r);
	close(st->sig_r);
	close(exec_sig_w);

	/* Wait for run: EOF means the worker gave up (sandbox failure). */
	do
		n = read(st->go_r, &c, 1);
	while (n == -1 && errno == EINTR);
	if (n != 1)
		_exit(127);
	close(st->go_r);

	if (exec_child_dup(st->out_w, STDOUT_FILENO) == -1 ||
	    exec_child_dup(st->err_w, STDERR_FILENO) == -1)
		exec_child_fail(st->st_w, EXEC_STAGE_SETUP, errno,
		    "cannot set up stdout/stderr pipes");
	if (st->out_w != STDOUT_FILENO && st->out_w != STDERR_FILENO)
		close(st->out_w);
	if (st->err_w != STDOUT_FILENO && st->err_w != STDERR_FILENO)
		close(st->err_w);
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		exec_child_fail(st->st_w, EXEC_STAGE_SETUP, errno,
		    "setrlimit RLIMIT_CORE");
	if (st->cwd != NULL && chdir(st->cwd) == -1) {
		e = errno;
		snprintf(what, sizeof(what), "cannot change directory to %s",
		    st->cwd);
		exec_child_fail(st->st_w, EXEC_STAGE_CHDIR, e, what);
	}
	if (st->policy != NULL && nf_sandbox_install(st->policy, err,
	    sizeof(err)) == -1) {
		e = errno;
		snprintf(what, sizeof(what), "cannot install seccomp policy %s",
		    ctx->policy);
		exec_child_fail(st->st_w, EXEC_STAGE_POLICY, e, what);
	}
	e = exec_search(st->argv, st->envp);
	snprintf(what, sizeof(what), "cannot execute %s", st->argv[0]);
	exec_child_fail(st->st_w, EXEC_STAGE_EXEC, e, what);
}

static int
exec_pipe(struct nf_step_ctx *ctx, int fds[2], int flags)
{
	if (pipe2(fds, O_CLOEXEC | flags) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: pipe: %s",
		    ctx->job_id, ctx->step, strerror(errno));
	return 0;
}

static int
exec_prepare(struct nf_step_ctx *ctx)
{
	struct exec_state	*st;
	struct nf_policy	*policy = NULL;
	struct sigaction	 sa;
	sigset_t		 all;
	int			 go[2], out[2], err[2], stp[2], sig[2], e;
	char			 msg[1024];
	pid_t			 pid;

	st = nf_xcalloc(1, sizeof(*st));
	ctx->data = st;
	st->out.name = "stdout";
	st->err.name = "stderr";
	nf_buf_init(&st->out.buf);
	nf_buf_init(&st->err.buf);
	if (exec_argv_build(ctx, st) == -1 || exec_env_build(ctx, st) == -1)
		return -1;
	if (ctx->sandbox) {
		policy = nf_sandbox_load(ctx->policies_dir, ctx->policy, msg,
		    sizeof(msg));
		if (policy == NULL)
			return nf_step_fail(ctx, "sandbox", "job %s step %s: "
			    "%s", ctx->job_id, ctx->step, msg);
	}
	if (exec_pipe(ctx, go, 0) == -1 || exec_pipe(ctx, out, 0) == -1 ||
	    exec_pipe(ctx, err, 0) == -1 || exec_pipe(ctx, stp, 0) == -1 ||
	    exec_pipe(ctx, sig, O_NONBLOCK) == -1)
		return -1;
	exec_sig_w = sig[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = exec_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		return nf_step_fail(ctx, "error", "sigaction SIGCHLD: %s",
		    strerror(errno));
	/* One-shot: a second SIGTERM kills the worker outright. */
	sa.sa_flags = SA_RESETHAND;
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		return nf_step_fail(ctx, "error", "sigaction SIGTERM: %s",
		    strerror(errno));

	st->self = getpid();
	st->go_w = go[1];
	st->out.fd = out[0];
	st->err.fd = err[0];
	st->st_r = stp[0];
	st->sig_r = sig[0];
	if (nf_set_nonblock(st->out.fd) == -1 ||
	    nf_set_nonblock(st->err.fd) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "O_NONBLOCK: %s", ctx->job_id, ctx->step,
		    strerror(errno));
	/*
	 * Every signal blocked across clone: a handler of the worker must
	 * never run in the child, on the worker's memory.
	 */
	st->ctx = ctx;
	st->policy = policy;
	st->go_r = go[0];
	st->out_w = out[1];
	st->err_w = err[1];
	st->st_w = stp[1];
	st->stack = mmap(NULL, EXEC_CHILD_STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (st->stack == MAP_FAILED)
		return nf_step_fail(ctx, "error", "job %s step %s: mmap of the "
		    "child's stack: %s", ctx->job_id, ctx->step,
		    strerror(errno));
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &st->mask) == -1)
		return nf_step_fail(ctx, "error", "sigprocmask: %s",
		    strerror(errno));
	pid = clone(exec_child, (char *)st->stack + EXEC_CHILD_STACK,
	    CLONE_VM | SIGCHLD, st);
	e = errno;
	if (sigprocmask(SIG_SETMASK, &st->mask, NULL) == -1)
		nf_panic("sigprocmask: %s", strerror(errno));
	if (pid == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: clone: %s",
		    ctx->job_id, ctx->step, strerror(e));
	st->pid = pid;
	close(go[0]);
	close(out[1]);
	close(err[1]);
	close(stp[1]);
	/* policy stays: the child reads it until it has exec'd. */
	return 0;
}

/* Length of at most max bytes of p that does not end inside a character. */
static size_t
exec_cut(const char *p, size_t max)
{
	size_t	cut = max;

	while (cut > max - 3 && ((unsigned char)p[cut] & 0xc0) == 0x80)
		cut--;
	return ((unsigned char)p[cut] & 0xc0) == 0x80 ? max : cut;
}

/*
 * Send the complete lines held for s; at EOF (final) the partial line too.
 * A line that grows past NF_MAX_LOG_LINE without a newline goes out in
 * pieces, so the buffer stays bounded whatever the command writes.
 */
static void
exec_lines(struct nf_step_ctx *ctx, struct exec_stream *s, int final)
{
	const char	*q, *nl;
	size_t		 start = 0, next, len = s->buf.len, l;

	while (start < len) {
		q = s->buf.data + start;
		nl = memchr(q, '\n', len - start);
		if (nl != NULL) {
			l = (size_t)(nl - q);
			next = start + l + 1;
			/* CRLF output reads as lines too. */
			if (l > 0 && q[l - 1] == '\r')
				l--;
		} else if (len - start > NF_MAX_LOG_LINE) {
			l = exec_cut(q, NF_MAX_LOG_LINE);
			next = start + l;
		} else if (final) {
			l = len - start;
			next = len;
		} else
			break;
		nf_step_log_line(ctx, s->name, -1, q, l);
		start = next;
	}
	nf_buf_consume(&s->buf, start);
}

static void
exec_stream_close(struct nf_step_ctx *ctx, struct exec_stream *s)
{
	exec_lines(ctx, s, 1);
	close(s->fd);
	s->fd = -1;
}

/*
 * Read what s has now.  Returns 1 after data, 0 when nothing is available
 * (EAGAIN), -1 once the stream is closed (EOF or error).
 */
static int
exec_stream_read(struct nf_step_ctx *ctx, struct exec_stream *s)
{
	static char	chunk[EXEC_READ_CHUNK];
	ssize_t		n;

	if (s->fd == -1)
		return -1;
	for (;;) {
		n = read(s->fd, chunk, sizeof(chunk));
		if (n > 0) {
			nf_buf_add(&s->buf, chunk, (size_t)n);
			nf_step_batch(ctx, 1);
			exec_lines(ctx, s, 0);
			nf_step_batch(ctx, 0);
			return 1;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step %s: "
		    "reading the command's %s: %s; the rest of it is lost",
		    ctx->job_id, ctx->step, s->name, strerror(errno));
		break;
	}
	exec_stream_close(ctx, s);
	return -1;
}

static void
exec_status_read(struct exec_state *st, struct exec_status *es, int *have)
{
	ssize_t	n;

	do
		n = read(st->st_r, es, sizeof(*es));
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof(*es))
		*have = 1;
	if (n != -1 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(st->st_r);
		st->st_r = -1;
	}
}

static const char *
exec_signame(int sig, char *buf, size_t len)
{
	const char	*abbrev;

	abbrev = sigabbrev_np(sig);
	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* The result for a reaped child (es: its report if it never exec'd). */
static void
exec_report(struct nf_step_ctx *ctx, struct exec_state *st, int status,
    const struct exec_status *es)
{
	struct nf_val	*res;
	char		 name[32];
	int		 code, sig;

	if (es != NULL) {
		switch (es->stage) {
		case EXEC_STAGE_POLICY:
			res = nf_step_result_new(0, "sandbox", "job %s step "
			    "%s: cannot install seccomp policy %s: %s",
			    ctx->job_id, ctx->step, ctx->policy,
			    strerror(es->err));
			break;
		case EXEC_STAGE_CHDIR:
			res = nf_step_result_new(0, "error", "job %s step "
			    "%s: cannot change directory to %s: %s (check "
			    "spec.cwd)", ctx->job_id, ctx->step, st->cwd,
			    strerror(es->err));
			break;
		case EXEC_STAGE_EXEC:
			if (strchr(st->argv[0], '/') != NULL)
				res = nf_step_result_new(0, "error", "job %s "
				    "step %s: cannot execute %s: %s",
				    ctx->job_id, ctx->step, st->argv[0],
				    strerror(es->err));
			else
				res = nf_step_result_new(0, "error", "job %s "
				    "step %s: cannot execute %s: %s (searched "
				    "PATH=%s; give an absolute path or set "
				    "spec.env.PATH)", ctx->job_id, ctx->step,
				    st->argv[0], strerror(es->err),
				    exec_env_path(st->envp));
			break;
		default:
			res = nf_step_result_new(0, "error", "job %s step %s: "
			    "cannot set up the command: %s", ctx->job_id,
			    ctx->step, strerror(es->err));
			break;
		}
		nf_val_map_set_int(res, "exit_code", 127);
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
			    "by %s", exec_signame(sig, name, sizeof(name)));
		nf_val_map_set_int(res, "signal", sig);
	} else
		nf_panic("waitpid: status %#x is neither exit nor signal",
		    status);
	nf_step_result(ctx, res);
}

/* The child's stack, once it has exec'd or been reaped. */
static void
exec_stack_free(struct exec_state *st)
{
	if (st->stack != NULL && munmap(st->stack, EXEC_CHILD_STACK) == -1)
		nf_panic("munmap: %s", strerror(errno));
	st->stack = NULL;
}

static int
exec_run(struct nf_step_ctx *ctx)
{
	struct exec_state	*st = ctx->data;
	struct exec_status	 es;
	struct exec_stream	*streams[2];
	struct pollfd		 pfd[4];
	int64_t			 deadline = 0, now;
	char			 c = 1, drain[64];
	pid_t			 r;
	int			 status = 0, terminating = 0;
	int			 killed = 0, have_es = 0, n, i, npfd, timeout;

	streams[0] = &st->out;
	streams[1] = &st->err;
	/* Release the child unless we are already being stopped. */
	if (!exec_got_term && write(st->go_w, &c, 1) == -1 && errno != EPIPE)
		nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step %s: "
		    "cannot start the command: write: %s", ctx->job_id,
		    ctx->step, strerror(errno));
	close(st->go_w);
	/*
	 * Until the child has exec'd (its status pipe closes) or reported a
	 * failure, it runs on our memory: wait, touching nothing.
	 */
	while (st->st_r != -1 && !have_es)
		exec_status_read(st, &es, &have_es);
	/* After a failure record the child still returns into _exit. */
	if (!have_es)
		exec_stack_free(st);

	for (;;) {
		if (exec_got_term && !terminating) {
			terminating = 1;
			(void)kill(st->pid, SIGTERM);
			deadline = nf_mono_ms() + EXEC_TERM_GRACE_MS;
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

		npfd = 0;
		pfd[npfd].fd = st->sig_r;
		pfd[npfd++].events = POLLIN;
		pfd[npfd].fd = st->st_r;
		pfd[npfd++].events = POLLIN;
		for (i = 0; i < 2; i++) {
			pfd[npfd].fd = streams[i]->fd;	/* -1: ignored */
			pfd[npfd++].events = POLLIN;
		}
		n = poll(pfd, (nfds_t)npfd, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			nf_panic("poll: %s", strerror(errno));
		}
		if (pfd[0].revents != 0)
			while (read(st->sig_r, drain, sizeof(drain)) > 0)
				;
		if (pfd[1].revents != 0)
			exec_status_read(st, &es, &have_es);
		for (i = 0; i < 2; i++)
			if (pfd[2 + i].revents != 0)
				(void)exec_stream_read(ctx, streams[i]);
	}

	/*
	 * The child is gone: what it wrote is in the pipes.  A pipe still
	 * open after that is held by something it left running.
	 */
	while (st->st_r != -1)
		exec_status_read(st, &es, &have_es);
	for (i = 0; i < 2; i++) {
		while ((n = exec_stream_read(ctx, streams[i])) == 1)
			;
		if (n == 0) {
			nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step "
			    "%s: the command exited but a process it started "
			    "still holds its %s; later output is discarded",
			    ctx->job_id, ctx->step, streams[i]->name);
			exec_stream_close(ctx, streams[i]);
		}
	}
	exec_stack_free(st);
	if (terminating) {
		/* SA_RESETHAND restored the default action: die of it. */
		(void)kill(st->self, SIGTERM);
		_exit(128 + SIGTERM);
	}
	exec_report(ctx, st, status, have_es ? &es : NULL);
	return 0;
}

const struct nf_step_impl nf_step_exec = {
	"exec", "relay", exec_prepare, exec_run
};
