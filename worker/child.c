/*
 * child.c: the program a worker step runs (exec steps: the command; python
 * steps: the interpreter), in nomaflow-worker.
 *
 * Sequence.  nf_child_start (in the step's prepare, unsandboxed) makes the
 * pipes and starts the child, which waits on a "go" pipe.  main then
 * installs the narrow "relay" policy on the worker; nf_child_run releases
 * the child, which installs its own policy (normally "exec"), changes
 * directory and execs.  The child is created before the worker's filter
 * because filters stack: under "relay" it could not execve.
 *
 * The child shares the worker's memory (clone CLONE_VM, on a stack of its
 * own) instead of being fork()ed: copying the worker's page tables and
 * then taking copy-on-write faults cost more than the rest of the worker
 * on the VMs we measured (bench/RESULTS.md).  Sharing is safe because the
 * two never run at the same time while it matters: the child only blocks
 * on the go pipe until the worker, locked down, releases it, and from then
 * until the child's execve (or its _exit after a failure) the worker is
 * blocked reading the child's status pipe.  Every signal is blocked across
 * clone and the child resets the worker's handlers before unblocking, so
 * no handler of the worker runs in the child.  The child calls nothing
 * that takes a lock the worker could hold and writes nothing the worker
 * reads except its status record, which goes last.
 *
 * Process group: the child stays in the worker's group, so the
 * supervisor's killpg on timeout or cancel reaches it and whatever it
 * spawned.  On SIGTERM the worker forwards SIGTERM, keeps relaying for a
 * short grace, SIGKILLs a child still there and then dies of SIGTERM
 * itself without a result: the supervisor, which sent it, knows why.
 *
 * No process outlives its step: the worker is a child subreaper
 * (PR_SET_CHILD_SUBREAPER, set before the child exists), so whatever the
 * step double-forks, setsid()s or daemonises is reparented to the worker
 * instead of init.  Once the child is reaped, on every path (normal end,
 * SIGTERM, failure), child_sweep SIGKILLs and reaps every descendant left
 * before the pipes are drained and the result is sent.
 *
 * Denied calls: the child installs its policy with a seccomp listener and
 * sends it to the worker on the status socketpair (SCM_RIGHTS) before it
 * execs, keeping no copy.  A "deny" rule then stops the call in whichever
 * process of the step makes it and notifies the worker, which notes the
 * call (nf_child_deny_result names it), SIGKILLs the program and sweeps.
 *
 * Invariants: the child never inherits the channel to nomaflowd (fd 3 is
 * close-on-exec; python's fd 3 is its own channel pipe) nor any pipe but
 * its own; every LOG line is valid UTF-8 of at most NF_MAX_LOG_LINE bytes
 * (nf_step_log_line); buffers stay bounded whatever the child writes.
 */
#include "autoconf.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <net/if.h>

#include <linux/capability.h>
#include <linux/seccomp.h>

#include <dirent.h>
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

#include "child.h"
#include "log.h"
#include "policy.h"
#include "proto.h"
#include "step.h"
#include "util.h"
#include "val.h"

#define CHILD_READ_CHUNK	(64u << 10)
/* How long a SIGTERM'd child may keep writing before SIGKILL. */
#define CHILD_TERM_GRACE_MS	500
/* The child's stack until execve: two PATH_MAX buffers and stdio. */
#define CHILD_STACK		(256u << 10)
/* How long the worker keeps killing what the step left before it gives up. */
#define CHILD_SWEEP_MS		5000

struct child_status {
	int	stage;
	int	err;
};

/* Self-pipe: the handlers only note the signal and wake poll. */
static volatile sig_atomic_t	child_got_term;
static int			child_sig_r = -1, child_sig_w = -1;

static void
child_on_signal(int sig)
{
	int	saved = errno;
	char	c = 0;

	if (sig == SIGTERM)
		child_got_term = 1;
	(void)write(child_sig_w, &c, 1);	/* a full pipe wakes poll */
	errno = saved;
}

void
nf_child_init(struct nf_child *c, const char *what)
{
	memset(c, 0, sizeof(*c));
	c->what = what;
	c->in_fd = -1;
	c->go_r = c->go_w = c->st_r = c->st_w = -1;
	c->notify_fd = -1;
}

static int
child_pipe(struct nf_step_ctx *ctx, int fds[2], int flags)
{
	if (pipe2(fds, O_CLOEXEC | flags) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: pipe: %s",
		    ctx->job_id, ctx->step, strerror(errno));
	return 0;
}

int
nf_child_stream(struct nf_step_ctx *ctx, struct nf_child *c,
    const char *name, int target, int records)
{
	struct nf_child_stream	*s;
	int			 fds[2];

	if (c->nstreams == NF_CHILD_STREAMS)
		nf_panic("nf_child_stream: more than %d streams",
		    NF_CHILD_STREAMS);
	if (child_pipe(ctx, fds, 0) == -1)
		return -1;
	if (nf_set_nonblock(fds[0]) == -1) {
		close(fds[0]);
		close(fds[1]);
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "O_NONBLOCK: %s", ctx->job_id, ctx->step,
		    strerror(errno));
	}
	s = &c->streams[c->nstreams++];
	s->name = name;
	s->fd = fds[0];
	s->wfd = fds[1];
	s->target = target;
	s->records = records;
	nf_buf_init(&s->buf);
	return 0;
}

const char *
nf_child_env_path(char **envp)
{
	for (; *envp != NULL; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return NF_CHILD_DEFAULT_PATH;
}

/*
 * execve file, searching PATH when it has no '/'.  Returns only on
 * failure, with the most telling errno: EACCES from any candidate beats the
 * ENOENT of the others, as in execvp(3), but there is no /bin/sh fallback.
 */
static int
child_exec(const char *file, char **argv, char **envp)
{
	const char	*path, *p, *end;
	char		 cand[PATH_MAX];
	size_t		 dlen, flen;
	int		 best = ENOENT;

	if (strchr(file, '/') != NULL) {
		execve(file, argv, envp);
		return errno;
	}
	path = nf_child_env_path(envp);
	flen = strlen(file);
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		dlen = (size_t)(end - p);
		/* Empty entries would mean the cwd: never search it. */
		if (dlen > 0 && dlen + 1 + flen < sizeof(cand)) {
			memcpy(cand, p, dlen);
			cand[dlen] = '/';
			memcpy(cand + dlen + 1, file, flen + 1);
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
 * In the child: say why it cannot exec, then leave.  The status record
 * goes last: it releases the worker, which must not run while the child
 * still uses the memory they share.
 */
static void __attribute__((noreturn))
child_fail(struct nf_child *c, int stage, int err, const char *what)
{
	struct child_status	 s;
	char			 line[PATH_MAX + 256];
	int			 n;

	n = snprintf(line, sizeof(line), "nomaflow-worker: %s: %s\n", what,
	    strerror(err));
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
		    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	s.stage = stage;
	s.err = err;
	(void)!write(c->kid.st_w, &s, sizeof(s));
	_exit(127);
}

/*
 * In the child: become run_as (when set) with no capability at all and
 * no_new_privs, so neither root's powers nor a setuid program are within
 * the step's reach.  Raw system calls: glibc's setresuid would signal
 * every thread it knows, and this child shares the worker's memory, so it
 * would take the worker's threads for its own.  The bounding set goes
 * first (that needs CAP_SETPCAP, which the uid change takes away); a
 * worker that is not root has none to drop (EPERM).  0, or -1 with errno.
 */
static int
child_drop(struct nf_child *c)
{
	struct nf_step_ctx		*ctx = c->ctx;
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	int				 cap;

	for (cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			if (errno == EINVAL || errno == EPERM)
				break;	/* past the last cap; not root */
			return -1;
		}
	/*
	 * A worker that is not root can only stay who it is: setgroups
	 * would fail even for the same groups; setresuid tells the rest.
	 */
	if (ctx->run_as && (geteuid() == 0 || ctx->uid != geteuid() ||
	    ctx->gid != getegid())) {
		if (syscall(SYS_setgroups, (size_t)ctx->ngroups,
		    ctx->groups) == -1 ||
		    syscall(SYS_setresgid, ctx->gid, ctx->gid, ctx->gid) ==
		    -1 ||
		    syscall(SYS_setresuid, ctx->uid, ctx->uid, ctx->uid) == -1)
			return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return -1;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) == -1)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/*
 * In the child, which clone() put in the namespaces isolation asks for:
 * mounts of its own that do not propagate back, a fresh tmpfs on /tmp, a
 * /proc that shows its own pids, and lo up in its own network (a new one
 * has lo, down, and nothing else).  0, or -1 with errno and *what.
 */
static int
child_isolate(struct nf_child *c, const char **what)
{
	struct ifreq	ifr;
	int		iso = c->ctx->isolation, s;

	if (iso & NF_STEP_ISO_MOUNT) {
		*what = "make the mounts private";
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
			return -1;
		*what = "mount a private /tmp";
		if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
		    "mode=1777") == -1)
			return -1;
		*what = "mount /proc for its pids";
		if ((iso & NF_STEP_ISO_PID) && mount("proc", "/proc", "proc",
		    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
			return -1;
	}
	if (iso & NF_STEP_ISO_NET) {
		*what = "bring up lo";
		if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, "lo", 3);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
			close(s);
			return -1;
		}
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1) {
			close(s);
			return -1;
		}
		close(s);
	}
	return 0;
}

/* In the child: the listener to the worker, with a LISTENER record. */
static int
child_send_listener(struct nf_child *c, int lfd)
{
	struct child_status	 s;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	}			 u;
	ssize_t			 n;

	s.stage = NF_CHILD_LISTENER;
	s.err = 0;
	memset(&msg, 0, sizeof(msg));
	memset(&u, 0, sizeof(u));
	iov.iov_base = &s;
	iov.iov_len = sizeof(s);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &lfd, sizeof(int));
	do
		n = sendmsg(c->kid.st_w, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n != (ssize_t)sizeof(s)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Make fd become target (dup2 clears close-on-exec; so must we). */
static int
child_dup(int fd, int target)
{
	int	fl;

	if (fd != target)
		return dup2(fd, target) == -1 ? -1 : 0;
	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

/* Is fd one of the descriptors the child ends up with? */
static int
child_is_target(const struct nf_child *c, int fd)
{
	size_t	i;

	if (c->kid.in_fd != -1 && fd == STDIN_FILENO)
		return 1;
	for (i = 0; i < c->nstreams; i++)
		if (c->streams[i].target == fd)
			return 1;
	return 0;
}

/*
 * The child, started by clone(CLONE_VM) with every signal blocked: its
 * own descriptor table and signal dispositions, the worker's memory.
 */
static int
child_main(void *arg)
{
	struct nf_child		*c = arg;
	struct nf_step_ctx	*ctx = c->ctx;
	struct sigaction	 sa;
	struct rlimit		 rl;
	const char		*iso_what = NULL;
	char			 ch, what[PATH_MAX + 64];
	ssize_t			 n;
	size_t			 i;
	int			 e, lfd = -1;

	/* The worker's handlers and SIGPIPE_IGN are not the program's. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigprocmask(SIG_SETMASK, &c->mask, NULL);
	/* Pid 1 of its own namespace sees no parent: getppid() is 0. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != ((ctx->isolation & NF_STEP_ISO_PID) ? 0 : c->self))
		_exit(127);
	/* Our copies of the worker's ends would keep its pipes open. */
	close(c->kid.go_w);
	close(c->kid.st_r);
	close(c->kid.sig_r);
	close(c->kid.sig_w);
	for (i = 0; i < c->nstreams; i++)
		close(c->kid.rfd[i]);

	/* Wait for run: EOF means the worker gave up (sandbox failure). */
	do
		n = read(c->kid.go_r, &ch, 1);
	while (n == -1 && errno == EINTR);
	if (n != 1)
		_exit(127);
	close(c->kid.go_r);

	/* Every source is >= 4 (0-3 are taken): no dup2 clobbers another. */
	if (c->kid.in_fd != -1 && child_dup(c->kid.in_fd, STDIN_FILENO) == -1)
		child_fail(c, NF_CHILD_SETUP, errno, "cannot set up stdin");
	for (i = 0; i < c->nstreams; i++)
		if (child_dup(c->kid.wfd[i], c->streams[i].target) == -1) {
			e = errno;
			snprintf(what, sizeof(what), "cannot set up %s",
			    c->streams[i].name);
			child_fail(c, NF_CHILD_SETUP, e, what);
		}
	if (c->kid.in_fd != -1 && !child_is_target(c, c->kid.in_fd))
		close(c->kid.in_fd);
	for (i = 0; i < c->nstreams; i++)
		if (!child_is_target(c, c->kid.wfd[i]))
			close(c->kid.wfd[i]);
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		child_fail(c, NF_CHILD_SETUP, errno, "setrlimit RLIMIT_CORE");
	if (ctx->isolation != 0 && child_isolate(c, &iso_what) == -1) {
		e = errno;
		snprintf(what, sizeof(what), "cannot %s", iso_what);
		child_fail(c, NF_CHILD_ISOLATE, e, what);
	}
	/* Before chdir: the directory is entered as the step's user. */
	if (child_drop(c) == -1) {
		e = errno;
		if (ctx->run_as)
			snprintf(what, sizeof(what), "cannot run as uid %ld "
			    "gid %ld without capabilities", (long)ctx->uid,
			    (long)ctx->gid);
		else
			snprintf(what, sizeof(what), "cannot drop "
			    "capabilities");
		child_fail(c, NF_CHILD_USER, e, what);
	}
	if (c->cwd != NULL && chdir(c->cwd) == -1) {
		e = errno;
		snprintf(what, sizeof(what), "cannot change directory to %s",
		    c->cwd);
		child_fail(c, NF_CHILD_CHDIR, e, what);
	}
	if (c->policy != NULL && nf_policy_install_listen(c->policy,
	    &lfd) == -1) {
		e = errno;
		snprintf(what, sizeof(what), "cannot install seccomp policy %s",
		    ctx->policy);
		child_fail(c, NF_CHILD_POLICY, e, what);
	}
	/*
	 * The policy's deny rules notify whoever holds the listener: the
	 * worker, never the program (which could answer for itself).
	 */
	if (lfd != -1) {
		if (child_send_listener(c, lfd) == -1) {
			e = errno;
			snprintf(what, sizeof(what), "cannot hand the seccomp "
			    "listener of policy %s to the worker", ctx->policy);
			child_fail(c, NF_CHILD_POLICY, e, what);
		}
		close(lfd);
	}
	e = child_exec(c->path != NULL ? c->path : c->argv[0], c->argv,
	    c->envp);
	snprintf(what, sizeof(what), "cannot execute %s",
	    c->path != NULL ? c->path : c->argv[0]);
	child_fail(c, NF_CHILD_EXEC, e, what);
}

int
nf_child_start(struct nf_step_ctx *ctx, struct nf_child *c)
{
	struct sigaction	 sa;
	sigset_t		 all;
	char			 msg[1024];
	int			 go[2], st[2], sig[2], e, flags;
	size_t			 i;
	pid_t			 pid;

	/* The step's policy (normally "exec"), which the child installs. */
	if (ctx->sandbox) {
		c->policy = nf_sandbox_load(ctx->policies_dir, ctx->policy,
		    msg, sizeof(msg));
		if (c->policy == NULL)
			return nf_step_fail(ctx, "sandbox", "job %s step %s: "
			    "%s", ctx->job_id, ctx->step, msg);
	}
	/* Orphans of the step become ours, not init's: see child_sweep. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: prctl "
		    "PR_SET_CHILD_SUBREAPER: %s", ctx->job_id, ctx->step,
		    strerror(errno));
	if (child_pipe(ctx, go, 0) == -1 || child_pipe(ctx, sig, O_NONBLOCK) ==
	    -1)
		return -1;
	/* A socket, not a pipe: it carries the seccomp listener. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st) == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "socketpair: %s", ctx->job_id, ctx->step, strerror(errno));
	child_sig_r = sig[0];
	child_sig_w = sig[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = child_on_signal;
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

	c->ctx = ctx;
	c->self = getpid();
	c->go_r = go[0];
	c->go_w = go[1];
	c->st_r = st[0];
	c->st_w = st[1];
	c->kid.go_r = c->go_r;
	c->kid.go_w = c->go_w;
	c->kid.st_r = c->st_r;
	c->kid.st_w = c->st_w;
	c->kid.sig_r = child_sig_r;
	c->kid.sig_w = child_sig_w;
	c->kid.in_fd = c->in_fd;
	for (i = 0; i < c->nstreams; i++) {
		c->kid.rfd[i] = c->streams[i].fd;
		c->kid.wfd[i] = c->streams[i].wfd;
	}
	c->stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (c->stack == MAP_FAILED) {
		c->stack = NULL;
		return nf_step_fail(ctx, "error", "job %s step %s: mmap of the "
		    "child's stack: %s", ctx->job_id, ctx->step,
		    strerror(errno));
	}
	/* No handler of the worker may run in the child, on our memory. */
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &c->mask) == -1)
		return nf_step_fail(ctx, "error", "sigprocmask: %s",
		    strerror(errno));
	/* The namespaces of isolation: the child is born in them. */
	flags = CLONE_VM | SIGCHLD;
	if (ctx->isolation & NF_STEP_ISO_NET)
		flags |= CLONE_NEWNET;
	if (ctx->isolation & NF_STEP_ISO_MOUNT)
		flags |= CLONE_NEWNS;
	if (ctx->isolation & NF_STEP_ISO_PID)
		flags |= CLONE_NEWPID;
	pid = clone(child_main, (char *)c->stack + CHILD_STACK, flags, c);
	e = errno;
	if (sigprocmask(SIG_SETMASK, &c->mask, NULL) == -1)
		nf_panic("sigprocmask: %s", strerror(errno));
	if (pid == -1)
		return nf_step_fail(ctx, "error", "job %s step %s: cannot "
		    "start %s: clone: %s%s", ctx->job_id, ctx->step, c->what,
		    strerror(e), ctx->isolation != 0 && e == EPERM ?
		    " (isolation needs nomaflowd to run as root)" : "");
	c->pid = pid;
	close(c->go_r);
	close(c->st_w);
	c->go_r = c->st_w = -1;
	for (i = 0; i < c->nstreams; i++) {
		close(c->streams[i].wfd);
		c->streams[i].wfd = -1;
	}
	if (c->in_fd != -1) {
		close(c->in_fd);
		c->in_fd = -1;
	}
	/* argv, envp, policy and the stack stay: the child reads them. */
	return 0;
}

/*
 * One status record (and the descriptor it carries, if any) into s; 1, or
 * 0 at EOF (the child exec'd or died) or on a short record.
 */
static int
child_status_recv(struct nf_child *c, struct child_status *s, int *fd)
{
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	}			 u;
	size_t			 got = 0;
	ssize_t			 n;

	*fd = -1;
	while (got < sizeof(*s)) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (char *)s + got;
		iov.iov_len = sizeof(*s) - got;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		n = recvmsg(c->st_r, &msg, MSG_CMSG_CLOEXEC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
				if (*fd != -1)
					close(*fd);
				memcpy(fd, CMSG_DATA(cm), sizeof(int));
			}
		got += (size_t)n;
	}
	return 1;
}

/*
 * The child's status records until EOF (it exec'd or died): the seccomp
 * listener, then a failure record if it could not exec.
 */
static void
child_status_read(struct nf_child *c)
{
	struct child_status	s;
	int			fd;

	while (child_status_recv(c, &s, &fd) == 1) {
		if (s.stage == NF_CHILD_LISTENER && fd != -1 &&
		    c->notify_fd == -1) {
			c->notify_fd = fd;
			continue;
		}
		if (fd != -1)
			close(fd);
		if (s.stage != NF_CHILD_LISTENER) {
			c->stage = (enum nf_child_stage)s.stage;
			c->err = s.err;
			break;
		}
	}
	close(c->st_r);
	c->st_r = -1;
}

/*
 * A deny rule stopped a syscall of the step: note the first one and kill
 * the program; child_sweep takes what it started.  The stopped process
 * stays blocked in the call until the SIGKILL (a reply would let it go on).
 */
static void
child_notify_read(struct nf_child *c)
{
	struct seccomp_notif	n;

	memset(&n, 0, sizeof(n));
	if (ioctl(c->notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &n) == -1)
		return;		/* ENOENT: it died meanwhile */
	if (!c->denied) {
		c->denied = 1;
		c->deny_nr = n.data.nr;
		memcpy(c->deny_args, n.data.args, sizeof(c->deny_args));
		c->deny_pid = (pid_t)n.pid;
	}
	(void)kill(c->pid, SIGKILL);
	(void)kill((pid_t)n.pid, SIGKILL);
}

struct nf_val *
nf_child_deny_result(struct nf_step_ctx *ctx, struct nf_child *c)
{
	char	call[128];

	nf_policy_describe(c->deny_nr, c->deny_args, call, sizeof(call));
	return nf_step_result_new(0, "sandbox", "job %s step %s: sandbox: %s "
	    "denied by %s.policy: %s (pid %ld) was blocked by policy %s and "
	    "the step's processes were killed; if the step needs this call, "
	    "run it under a policy that grants it (nomaflow-policy(5))",
	    ctx->job_id, ctx->step, call, ctx->policy, c->what,
	    (long)c->deny_pid, ctx->policy);
}

/* The child's stack, once it has exec'd or been reaped. */
static void
child_stack_free(struct nf_child *c)
{
	if (c->stack != NULL && munmap(c->stack, CHILD_STACK) == -1)
		nf_panic("munmap: %s", strerror(errno));
	c->stack = NULL;
}

/* Length of at most max bytes of p that does not end inside a character. */
static size_t
child_cut(const char *p, size_t max)
{
	size_t	cut = max;

	while (cut > max - 3 && ((unsigned char)p[cut] & 0xc0) == 0x80)
		cut--;
	return ((unsigned char)p[cut] & 0xc0) == 0x80 ? max : cut;
}

/*
 * Pass on the complete lines held for s; at EOF (final) the partial one
 * too.  An output line that grows past NF_MAX_LOG_LINE without a newline
 * goes out in pieces, so the buffer stays bounded whatever the child
 * writes; a record waits for its newline (its bound is max_record).
 */
static void
child_lines(struct nf_step_ctx *ctx, struct nf_child *c,
    struct nf_child_stream *s, int final)
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
			if (!s->records && l > 0 && q[l - 1] == '\r')
				l--;
		} else if (!s->records && len - start > NF_MAX_LOG_LINE) {
			l = child_cut(q, NF_MAX_LOG_LINE);
			next = start + l;
		} else if (final) {
			l = len - start;
			next = len;
		} else
			break;
		if (s->records)
			c->record(ctx, c->arg, q, l);
		else
			nf_step_log_line(ctx, s->name, -1, q, l);
		start = next;
	}
	nf_buf_consume(&s->buf, start);
}

static void
child_stream_close(struct nf_step_ctx *ctx, struct nf_child *c,
    struct nf_child_stream *s)
{
	child_lines(ctx, c, s, 1);
	close(s->fd);
	s->fd = -1;
}

/*
 * Read what s has now.  1 after data, 0 when nothing is available
 * (EAGAIN), -1 once the stream is closed (EOF, error, oversized record).
 */
static int
child_stream_read(struct nf_step_ctx *ctx, struct nf_child *c,
    struct nf_child_stream *s)
{
	static char	chunk[CHILD_READ_CHUNK];
	ssize_t		n;

	if (s->fd == -1)
		return -1;
	for (;;) {
		n = read(s->fd, chunk, sizeof(chunk));
		if (n > 0) {
			nf_buf_add(&s->buf, chunk, (size_t)n);
			nf_step_batch(ctx, 1);
			child_lines(ctx, c, s, 0);
			nf_step_batch(ctx, 0);
			if (s->records && c->max_record > 0 &&
			    s->buf.len > c->max_record) {
				/* A record no frame could carry: stop it. */
				c->overflow = 1;
				(void)kill(c->pid, SIGKILL);
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
		    "reading %s's %s: %s; the rest of it is lost",
		    ctx->job_id, ctx->step, c->what, s->name, strerror(errno));
		break;
	}
	child_stream_close(ctx, c, s);
	return -1;
}

static void
child_push(pid_t **v, size_t *n, size_t *cap, long pid)
{
	if (*n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 64;
		*v = nf_xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = (pid_t)pid;
}

/* Append the children of every thread of pid to *v. */
static void
child_list_children(pid_t pid, pid_t **v, size_t *n, size_t *cap)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[320], buf[4096];
	ssize_t		 r, j;
	long		 kid;
	int		 fd;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return;		/* gone already, or no /proc */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%s/children",
		    (long)pid, de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		/* "pid pid ... ", in as many reads as it takes. */
		kid = -1;
		for (;;) {
			r = read(fd, buf, sizeof(buf));
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			for (j = 0; j < r; j++) {
				if (buf[j] >= '0' && buf[j] <= '9')
					kid = (kid == -1 ? 0 : kid * 10) +
					    (buf[j] - '0');
				else if (kid != -1) {
					child_push(v, n, cap, kid);
					kid = -1;
				}
			}
		}
		if (kid != -1)
			child_push(v, n, cap, kid);
		close(fd);
	}
	closedir(d);
}

/*
 * Kill and reap every process the step left behind, setsid()ed or not.
 * An orphan is ours (we are a subreaper); a descendant whose parent still
 * lives is found by walking /proc/<pid>/task/<tid>/children down from us.
 * Each round SIGKILLs, parents first, all it finds and reaps what died; a
 * process forked between the walk and the kill is found by the next round.
 * The count goes to the step's log, so a step that leaves daemons behind
 * says so.
 */
static void
child_sweep(struct nf_step_ctx *ctx, struct nf_child *c)
{
	pid_t		*v = NULL;
	size_t		 n, cap = 0, i, killed = 0;
	int64_t		 deadline;
	int		 status, round;

	deadline = nf_mono_ms() + CHILD_SWEEP_MS;
	for (round = 0;; round++) {
		/* Exited ones are not to kill (nor to count). */
		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		/*
		 * Breadth first from us: v[i]'s children follow it.  Kill
		 * before listing: a killed parent no longer reaps, so the
		 * pids listed under it cannot be reused by an unrelated
		 * process before we signal them.  Children a dying parent
		 * already handed to us are found by the next round.
		 */
		n = 0;
		child_list_children(c->self, &v, &n, &cap);
		for (i = 0; i < n; i++) {
			(void)kill(v[i], SIGKILL);
			child_list_children(v[i], &v, &n, &cap);
		}
		/* Later rounds mostly find the same ones, still dying. */
		if (round == 0)
			killed = n;
		if (n == 0)
			break;
		if (nf_mono_ms() >= deadline) {
			nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step "
			    "%s: %zu process(es) started by %s still alive %d "
			    "ms after SIGKILL (stuck in the kernel?); leaving "
			    "them", ctx->job_id, ctx->step, n, c->what,
			    CHILD_SWEEP_MS);
			break;
		}
		/* Let the killed ones die (poll: no sleep in relay). */
		(void)poll(NULL, 0, 1);
	}
	free(v);
	if (killed > 0)
		nf_step_log(ctx, "worker", NF_LOG_INFO, "job %s step %s: "
		    "killed %zu process(es) that %s left running", ctx->job_id,
		    ctx->step, killed, c->what);
}

int
nf_child_run(struct nf_step_ctx *ctx, struct nf_child *c)
{
	struct pollfd		 pfd[2 + NF_CHILD_STREAMS];
	int64_t			 deadline = 0, now;
	char			 ch = 1, drain[64];
	pid_t			 r;
	size_t			 i;
	int			 status = 0, terminating = 0, killed = 0;
	int			 n, timeout, ws;

	/* Release the child unless we are already being stopped. */
	if (!child_got_term && write(c->go_w, &ch, 1) == -1 && errno != EPIPE)
		nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step %s: "
		    "cannot start %s: write: %s", ctx->job_id, ctx->step,
		    c->what, strerror(errno));
	close(c->go_w);
	c->go_w = -1;
	/*
	 * Until the child has exec'd (its status pipe closes) or reported a
	 * failure, it runs on our memory: wait, touching nothing.
	 */
	child_status_read(c);
	/* After a failure record the child still returns into _exit. */
	if (c->stage == NF_CHILD_OK)
		child_stack_free(c);

	for (;;) {
		if (child_got_term && !terminating) {
			terminating = 1;
			(void)kill(c->pid, SIGTERM);
			deadline = nf_mono_ms() + CHILD_TERM_GRACE_MS;
		}
		/*
		 * Orphans of the step are ours (subreaper): reap them as
		 * they die, so a long step that keeps daemonising short
		 * jobs does not pile up zombies until its end.
		 */
		while ((r = waitpid(-1, &ws, WNOHANG)) > 0 && r != c->pid)
			;
		if (r == c->pid) {
			status = ws;
			break;
		}
		if (r == -1 && errno != EINTR)
			nf_panic("waitpid %ld: %s", (long)c->pid,
			    strerror(errno));
		timeout = -1;
		if (terminating && !killed) {
			now = nf_mono_ms();
			if (now >= deadline) {
				(void)kill(c->pid, SIGKILL);
				killed = 1;
			} else
				timeout = (int)(deadline - now);
		}
		pfd[0].fd = child_sig_r;
		pfd[0].events = POLLIN;
		for (i = 0; i < c->nstreams; i++) {
			pfd[1 + i].fd = c->streams[i].fd;	/* -1: ignored */
			pfd[1 + i].events = POLLIN;
		}
		pfd[1 + c->nstreams].fd = c->notify_fd;
		pfd[1 + c->nstreams].events = POLLIN;
		pfd[1 + c->nstreams].revents = 0;
		n = poll(pfd, (nfds_t)(2 + c->nstreams), timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			nf_panic("poll: %s", strerror(errno));
		}
		if (pfd[0].revents != 0)
			while (read(child_sig_r, drain, sizeof(drain)) > 0)
				;
		for (i = 0; i < c->nstreams; i++)
			if (pfd[1 + i].revents != 0)
				(void)child_stream_read(ctx, c,
				    &c->streams[i]);
		if (pfd[1 + c->nstreams].revents & POLLIN)
			child_notify_read(c);
		else if (pfd[1 + c->nstreams].revents != 0) {
			/* POLLHUP: no process of the step is left under it. */
			close(c->notify_fd);
			c->notify_fd = -1;
		}
	}
	child_stack_free(c);
	child_sweep(ctx, c);
	if (c->notify_fd != -1) {
		close(c->notify_fd);
		c->notify_fd = -1;
	}

	/*
	 * The child and what it left are gone: what they wrote is in the
	 * pipes.  A pipe still open after that is held by a survivor of
	 * child_sweep.
	 */
	for (i = 0; i < c->nstreams; i++) {
		while ((n = child_stream_read(ctx, c, &c->streams[i])) == 1)
			;
		if (n == 0) {
			nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step "
			    "%s: %s exited but a process it started still "
			    "holds its %s; later output is discarded",
			    ctx->job_id, ctx->step, c->what,
			    c->streams[i].name);
			child_stream_close(ctx, c, &c->streams[i]);
		}
	}
	if (terminating) {
		/* SA_RESETHAND restored the default action: die of it. */
		(void)kill(c->self, SIGTERM);
		_exit(128 + SIGTERM);
	}
	return status;
}

const char *
nf_child_signame(int sig, char *buf, size_t len)
{
	const char	*abbrev;

	abbrev = sigabbrev_np(sig);
	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}
