/*
 * sandbox.c: the worker's lock-down: resource limits, stray descriptors,
 * no_new_privs and the seccomp policy of the step.
 *
 * Runs in nomaflow-worker only, between a step's prepare and run phases
 * (and, for the pieces an exec child needs, in that child before execve).
 * Policies are always compiled here from the text files (common/policy.c);
 * BPF never comes over the socket.
 *
 * A policy's "deny" rules trap in a worker that installs it on itself
 * (nobody listens for a user notification): the SIGSYS handler installed
 * here just before the filter writes one preformatted STEP_RESULT frame
 * naming the call (number and arguments: nomaflowd resolves the name, as
 * libseccomp's resolver is not async-signal-safe) and dies by SIGSYS, so
 * the reason stays "sandbox".  The handler uses only write, getpid, gettid,
 * tgkill and rt_sigreturn, which base.policy allows.
 *
 * Invariant: every function either fully succeeds or returns -1 with a
 * message in err; the caller then must not run the step.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "proto.h"
#include "step.h"
#include "util.h"

/* Enough for fds 0-3, a database with its journal/WAL/shm, and pipes. */
#define NF_WORKER_NOFILE	256
/* Address space cap of a sandboxed worker (not of exec'd commands). */
#define NF_WORKER_AS		(4ULL << 30)

const char *
nf_sandbox_policies_dir(void)
{
	const char	*d;

	d = getenv("NOMAFLOW_POLICIES_DIR");
	if (d != NULL && *d != '\0')
		return d;
	return NF_POLICYDIR;
}

/* Compiled policies from nomaflowd (nf_sandbox_preload). */
struct preloaded {
	char	*name;
	void	*prog;
	size_t	 len;
};
static struct preloaded	preloaded[4];
static size_t		npreloaded;

int
nf_sandbox_preload(char *err, size_t errlen)
{
	const char	*env;
	char		*list, *item, *save, *colon;
	struct stat	 sb;
	long long	 fd;
	ssize_t		 n;
	void		*prog;

	if ((env = getenv("NOMAFLOW_POLICY_FDS")) == NULL || *env == '\0')
		return 0;
	list = nf_xstrdup(env);
	for (item = strtok_r(list, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((colon = strchr(item, ':')) == NULL ||
		    nf_parse_int(colon + 1, 4, 64, &fd) == -1 ||
		    npreloaded == NF_NELEM(preloaded)) {
			snprintf(err, errlen, "NOMAFLOW_POLICY_FDS: bad entry "
			    "\"%s\"", item);
			free(list);
			return -1;
		}
		*colon = '\0';
		if (fstat((int)fd, &sb) == -1 || sb.st_size <= 0 ||
		    sb.st_size > 1 << 20) {
			snprintf(err, errlen, "compiled policy %s on fd %lld: "
			    "%s", item, fd, sb.st_size <= 0 ? "empty" :
			    strerror(errno));
			free(list);
			return -1;
		}
		prog = nf_xmalloc((size_t)sb.st_size);
		if ((n = pread((int)fd, prog, (size_t)sb.st_size, 0)) !=
		    sb.st_size) {
			snprintf(err, errlen, "compiled policy %s on fd %lld: "
			    "short read", item, fd);
			free(prog);
			free(list);
			return -1;
		}
		preloaded[npreloaded].name = nf_xstrdup(item);
		preloaded[npreloaded].prog = prog;
		preloaded[npreloaded].len = (size_t)n;
		npreloaded++;
	}
	free(list);
	return 0;
}

struct nf_policy *
nf_sandbox_load(const char *dir, const char *name, char *err, size_t errlen)
{
	struct nf_errs		 errs;
	struct nf_policy	*p;
	struct nf_buf		 b;
	size_t			 i;

	for (i = 0; i < npreloaded; i++)
		if (strcmp(preloaded[i].name, name) == 0)
			return nf_policy_from_bpf(name, preloaded[i].prog,
			    preloaded[i].len, err, errlen);
	nf_errs_init(&errs);
	p = nf_policy_load(dir, name, &errs);
	if (p == NULL) {
		nf_buf_init(&b);
		nf_buf_printf(&b, "cannot load seccomp policy %s from %s: ",
		    name, dir);
		for (i = 0; i < errs.n; i++)
			nf_buf_printf(&b, "%s%s", i > 0 ? "; " : "",
			    errs.msgs[i]);
		if (errs.n == 0)
			nf_buf_adds(&b, "unknown error");
		snprintf(err, errlen, "%s", b.data);
		nf_buf_free(&b);
	}
	nf_errs_free(&errs);
	return p;
}

/* Lower (never raise) both limits of res to v. */
static int
sandbox_cap(int res, const char *name, rlim_t v, char *err, size_t errlen)
{
	struct rlimit	rl;

	if (getrlimit(res, &rl) == -1) {
		snprintf(err, errlen, "getrlimit %s: %s", name,
		    strerror(errno));
		return -1;
	}
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v)
		v = rl.rlim_max;
	rl.rlim_cur = v;
	rl.rlim_max = v;
	if (setrlimit(res, &rl) == -1) {
		snprintf(err, errlen, "setrlimit %s to %llu: %s", name,
		    (unsigned long long)v, strerror(errno));
		return -1;
	}
	return 0;
}

int
nf_sandbox_rlimits(int sandboxed, char *err, size_t errlen)
{
	if (sandbox_cap(RLIMIT_CORE, "RLIMIT_CORE", 0, err, errlen) == -1)
		return -1;
	/*
	 * Unsandboxed runs are for valgrind and ASan: valgrind refuses a
	 * lower RLIMIT_NOFILE, ASan reserves terabytes of address space.
	 */
	if (!sandboxed)
		return 0;
	if (sandbox_cap(RLIMIT_NOFILE, "RLIMIT_NOFILE", NF_WORKER_NOFILE,
	    err, errlen) == -1)
		return -1;
	return sandbox_cap(RLIMIT_AS, "RLIMIT_AS", NF_WORKER_AS, err, errlen);
}

int
nf_sandbox_close_from(int lowfd, char *err, size_t errlen)
{
	struct rlimit	rl;
	rlim_t		fd, max;

	if (close_range((unsigned int)lowfd, UINT_MAX, 0) == 0)
		return 0;
	if (errno != ENOSYS) {
		snprintf(err, errlen, "close_range from fd %d: %s", lowfd,
		    strerror(errno));
		return -1;
	}
	/* Kernels before 5.9: close up to the descriptor limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		snprintf(err, errlen, "getrlimit RLIMIT_NOFILE: %s",
		    strerror(errno));
		return -1;
	}
	max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536 ?
	    65536 : rl.rlim_cur;
	for (fd = (rlim_t)lowfd; fd < max; fd++)
		(void)close((int)fd);	/* EBADF for the unused ones */
	return 0;
}

#ifndef SYS_SECCOMP
#define SYS_SECCOMP	1	/* si_code of a seccomp SIGSYS (linux/signal.h) */
#endif

/* Where the trap handler writes its frame; -1 once a result was sent. */
static volatile sig_atomic_t	trap_fd = -1;

void
nf_sandbox_trap_quiet(void)
{
	trap_fd = -1;
}

/* msgpack: a fixstr (len < 32). */
static size_t
trap_str(unsigned char *b, const char *s)
{
	size_t	n;

	n = strlen(s);	/* async-signal-safe in practice: a pure function */
	b[0] = 0xa0 | (unsigned char)n;
	memcpy(b + 1, s, n);
	return n + 1;
}

/* msgpack: an int64, big-endian. */
static size_t
trap_int(unsigned char *b, int64_t v)
{
	uint64_t	u;
	int		i;

	u = (uint64_t)v;
	b[0] = 0xd3;
	for (i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)(u >> (56 - 8 * i));
	return 9;
}

/*
 * SIGSYS: report a trapped "deny" call as the step's result and die by the
 * same signal.  Async-signal-safe: a frame built on the stack, one write.
 * Installed with SA_RESETHAND, so the re-raised SIGSYS (pending while the
 * handler runs) takes the default action at sigreturn.
 */
static void
trap_handler(int sig, siginfo_t *si, void *uctx)
{
	unsigned char	 b[256], *p;
	uint64_t	 args[6] = { 0 };
	size_t		 n, i;
	int		 fd, saved;

	saved = errno;
	fd = trap_fd;
	if (si != NULL && si->si_code == SYS_SECCOMP &&
	    si->si_errno == NF_POLICY_TRAP_DENY && fd >= 0) {
#if defined(__x86_64__)
		const greg_t	*g = ((ucontext_t *)uctx)->uc_mcontext.gregs;

		args[0] = (uint64_t)g[REG_RDI];
		args[1] = (uint64_t)g[REG_RSI];
		args[2] = (uint64_t)g[REG_RDX];
		args[3] = (uint64_t)g[REG_R10];
		args[4] = (uint64_t)g[REG_R8];
		args[5] = (uint64_t)g[REG_R9];
#elif defined(__aarch64__)
		for (i = 0; i < 6; i++)
			args[i] = ((ucontext_t *)uctx)->uc_mcontext.regs[i];
#else
		(void)uctx;
#endif
		p = b + 4;
		*p++ = 0x85;	/* map of 5 */
		p += trap_str(p, "t");
		p += trap_str(p, "result");
		p += trap_str(p, "ok");
		*p++ = 0xc2;	/* false */
		p += trap_str(p, "reason");
		p += trap_str(p, "sandbox");
		p += trap_str(p, "syscall");
		p += trap_int(p, si->si_syscall);
		p += trap_str(p, "syscall_args");
		*p++ = 0x96;	/* array of 6 */
		for (i = 0; i < 6; i++)
			p += trap_int(p, (int64_t)args[i]);
		n = (size_t)(p - b - 4);
		b[0] = (unsigned char)(n >> 24);
		b[1] = (unsigned char)(n >> 16);
		b[2] = (unsigned char)(n >> 8);
		b[3] = (unsigned char)n;
		(void)write(fd, b, n + 4);
	}
	(void)syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
	errno = saved;
}

int
nf_sandbox_trap_init(int fd, char *err, size_t errlen)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = trap_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1) {
		snprintf(err, errlen, "cannot install the SIGSYS handler: %s",
		    strerror(errno));
		return -1;
	}
	trap_fd = fd;
	return 0;
}

int
nf_sandbox_install(const struct nf_policy *p, char *err, size_t errlen)
{
	int	saved;

	if (nf_policy_has_deny(p) &&
	    nf_sandbox_trap_init(NF_WORKER_FD, err, errlen) == -1)
		return -1;

	/* errno survives for callers that report it themselves. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot set no_new_privs: %s",
		    strerror(saved));
		errno = saved;
		return -1;
	}
	if (nf_policy_install(p) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot install seccomp policy %s: %s",
		    nf_policy_name(p), strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}
