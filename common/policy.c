/*
 * policy.c: seccomp policies.  Owns the policy language of
 * nomaflow-policy(5) (parser, built-in syscall groups, include resolution)
 * and its compilation with libseccomp; the only module that includes
 * seccomp.h.
 *
 * Runs in nomaflowd (every policy is compiled at load, so a bad policy is a
 * config error) and in nomaflow-worker (the same files are parsed and
 * compiled again, then installed; BPF never crosses a socket).
 *
 * Invariants:
 * - a struct nf_policy exists only if its text parsed without error AND
 *   libseccomp accepted every rule: nf_policy_install() cannot fail on a
 *   rule, only on the kernel.
 * - every syscall has at most one action; contradictions are errors, never
 *   "last rule wins", so reading a policy top to bottom tells the truth.
 * - the kill action is always SCMP_ACT_KILL_PROCESS: the worker may be
 *   multi-threaded (libcurl's resolver), and killing one thread would leave
 *   a half-dead process behind.
 * - syscalls of other architectures (and x32 on x86_64) are killed.
 * - "deny" is SECCOMP_RET_USER_NOTIF only where someone listens
 *   (nf_policy_install_listen); nf_policy_install turns it into
 *   SECCOMP_RET_TRAP, whose SIGSYS the worker's handler turns into a report
 *   naming the call before it dies (worker/sandbox.c), so a deny rule never
 *   degrades to a silent ENOSYS.  "kill" stays KILL_PROCESS: a handler the
 *   process installs itself could swallow a trap, never a kill.
 * - rules with arguments run before libseccomp's program (prefix_build)
 *   and compare low 32 bits: an int argument's high bits cannot dodge them.
 */
#include "autoconf.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "util.h"

#define POLICY_MAX_DEPTH	8		/* include nesting */
#define POLICY_MAX_SIZE		(1024 * 1024)	/* bytes per file */
#define POLICY_GROUP_DEPTH	16		/* built-in group nesting */

enum pact {
	PA_ALLOW,
	PA_ERRNO,
	PA_KILL,
	PA_TRAP,
	PA_LOG,
	PA_DENY,	/* USER_NOTIF: the worker names it and ends the step */
};

/* Arguments of a rule with conditions ("socket(AF_PACKET)"). */
#define POLICY_MAX_ARGS		6
/* Conditional rules per policy (they run before the libseccomp tree). */
#define POLICY_MAX_CRULES	64

/*
 * Built-in groups.  Members are syscall names or other built-in groups.
 * A name that is not a syscall of the native architecture (mmap2 or
 * _llseek on x86_64, poll or open on aarch64) is skipped, so one group
 * covers every architecture libseccomp knows.
 */
static const struct {
	const char	*name;
	const char	*members;
} builtin_groups[] = {
	{ "@basic-io", "read write readv writev pread64 pwrite64 preadv "
	    "pwritev preadv2 pwritev2 lseek _llseek close close_range dup dup2 "
	    "dup3" },
	{ "@memory", "mmap mmap2 munmap mprotect brk madvise mremap" },
	{ "@memory-misc", "msync mincore membarrier get_mempolicy "
	    "set_mempolicy mbind" },
	{ "@memlock", "mlock mlock2 munlock mlockall munlockall" },
	{ "@pkey", "pkey_alloc pkey_free pkey_mprotect" },
	{ "@signal", "rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending "
	    "rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 sigaltstack "
	    "sigaction sigprocmask sigreturn sigpending sigsuspend signal "
	    "signalfd signalfd4 restart_syscall pause" },
	{ "@signal-send", "kill tkill tgkill rt_sigqueueinfo "
	    "rt_tgsigqueueinfo pidfd_send_signal" },
	{ "@process-exit", "exit exit_group" },
	{ "@time", "clock_gettime clock_gettime64 gettimeofday time "
	    "clock_getres clock_getres_time64 clock_nanosleep "
	    "clock_nanosleep_time64 nanosleep" },
	{ "@timer", "alarm getitimer setitimer timer_create timer_delete "
	    "timer_gettime timer_gettime64 timer_getoverrun timer_settime "
	    "timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 "
	    "timerfd_settime timerfd_settime64" },
	{ "@poll", "poll ppoll ppoll_time64 select _newselect pselect6 "
	    "pselect6_time64 epoll_create epoll_create1 epoll_ctl epoll_wait "
	    "epoll_pwait epoll_pwait2" },
	{ "@file-read", "open openat openat2 stat lstat fstat newfstatat statx "
	    "stat64 lstat64 fstat64 fstatat64 access faccessat faccessat2 "
	    "readlink readlinkat getdents getdents64 getcwd chdir fchdir "
	    "statfs fstatfs statfs64 fstatfs64 getxattr lgetxattr fgetxattr "
	    "listxattr llistxattr flistxattr fadvise64 fadvise64_64 readahead "
	    "inotify_init inotify_init1 inotify_add_watch inotify_rm_watch" },
	{ "@file-write", "creat mkdir mkdirat rmdir unlink unlinkat rename "
	    "renameat renameat2 link linkat symlink symlinkat mknod mknodat "
	    "truncate ftruncate truncate64 ftruncate64 fallocate chmod fchmod "
	    "fchmodat fchmodat2 chown fchown lchown fchownat chown32 fchown32 "
	    "lchown32 umask utime utimes utimensat utimensat_time64 futimesat "
	    "setxattr lsetxattr fsetxattr removexattr lremovexattr "
	    "fremovexattr flock fsync fdatasync sync syncfs sync_file_range "
	    "sendfile sendfile64 copy_file_range splice tee vmsplice" },
	{ "@network-client", "socket socketcall connect sendto recvfrom sendmsg "
	    "recvmsg sendmmsg recvmmsg recvmmsg_time64 getsockopt setsockopt "
	    "getsockname getpeername shutdown socketpair send recv" },
	{ "@network-server", "bind listen accept accept4" },
	{ "@dns", "socket socketcall connect sendto sendmmsg recvfrom recvmsg "
	    "getsockname setsockopt close poll ppoll ppoll_time64" },
	{ "@threads", "clone clone3 futex futex_time64 futex_waitv futex_wake "
	    "futex_wait futex_requeue set_robust_list get_robust_list "
	    "set_tid_address set_thread_area get_thread_area rseq gettid "
	    "tgkill sched_yield sched_getaffinity" },
	{ "@process", "fork vfork clone clone3 execve execveat wait4 waitpid "
	    "waitid @signal-send pidfd_open setpgid getpgid getpgrp setsid "
	    "getsid getpid getppid gettid" },
	{ "@ids", "getuid geteuid getgid getegid getresuid getresgid getgroups "
	    "getuid32 geteuid32 getgid32 getegid32 getresuid32 getresgid32 "
	    "getgroups32 capget" },
	{ "@resources", "getrlimit ugetrlimit setrlimit prlimit64 getrusage "
	    "times sysinfo uname getpriority setpriority sched_getparam "
	    "sched_getscheduler sched_getattr sched_get_priority_max "
	    "sched_get_priority_min sched_rr_get_interval "
	    "sched_rr_get_interval_time64 sched_getaffinity sched_setaffinity "
	    "sched_yield getcpu ioprio_get" },
	{ "@ipc", "pipe pipe2 eventfd eventfd2 memfd_create shmget shmat shmdt "
	    "shmctl semget semop semtimedop semtimedop_time64 semctl msgget "
	    "msgsnd msgrcv msgctl mq_open mq_unlink mq_timedsend "
	    "mq_timedsend_time64 mq_timedreceive mq_timedreceive_time64 "
	    "mq_notify mq_getsetattr ipc" },
	{ "@aio", "io_setup io_destroy io_submit io_cancel io_getevents "
	    "io_pgetevents io_pgetevents_time64" },
	{ "@sandbox", "seccomp landlock_create_ruleset landlock_add_rule "
	    "landlock_restrict_self" },
	/* Hard-deny groups: what a step never needs and an attacker wants. */
	{ "@ptrace", "ptrace process_vm_readv process_vm_writev pidfd_getfd "
	    "kcmp" },
	{ "@mount", "mount umount umount2 pivot_root chroot open_tree "
	    "move_mount fsopen fsconfig fsmount fspick mount_setattr" },
	{ "@bpf", "bpf" },
	{ "@kexec", "kexec_load kexec_file_load" },
	{ "@module", "init_module finit_module delete_module create_module "
	    "query_module get_kernel_syms" },
	{ "@namespace", "unshare setns" },
	{ "@reboot", "reboot" },
	{ "@swap", "swapon swapoff" },
	{ "@keyring", "add_key request_key keyctl" },
	{ "@clock-set", "settimeofday clock_settime clock_settime64 adjtimex "
	    "clock_adjtime clock_adjtime64 stime" },
	{ "@raw-io", "iopl ioperm pciconfig_read pciconfig_write "
	    "pciconfig_iobase s390_pci_mmio_read s390_pci_mmio_write" },
	{ "@perf", "perf_event_open" },
	{ "@io-uring", "io_uring_setup io_uring_enter io_uring_register" },
	{ "@userfaultfd", "userfaultfd" },
	/* Administration a step never does; open_by_handle_at escapes. */
	{ "@admin", "acct quotactl quotactl_fd vhangup lookup_dcookie "
	    "nfsservctl fanotify_init open_by_handle_at" },
	{ "@obsolete", "_sysctl afs_syscall bdflush break ftime getpmsg gtty "
	    "idle lock mpx prof profil putpmsg security sgetmask ssetmask stty "
	    "sysfs tuxcall ulimit uselib ustat vserver" },
};

static const struct {
	const char	*name;
	int		 val;
} errno_names[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH },
	{ "EINTR", EINTR }, { "EIO", EIO }, { "ENXIO", ENXIO },
	{ "E2BIG", E2BIG }, { "ENOEXEC", ENOEXEC }, { "EBADF", EBADF },
	{ "ECHILD", ECHILD }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
	{ "EACCES", EACCES }, { "EFAULT", EFAULT }, { "EBUSY", EBUSY },
	{ "EEXIST", EEXIST }, { "EXDEV", EXDEV }, { "ENODEV", ENODEV },
	{ "ENOTDIR", ENOTDIR }, { "EISDIR", EISDIR }, { "EINVAL", EINVAL },
	{ "ENFILE", ENFILE }, { "EMFILE", EMFILE }, { "ENOTTY", ENOTTY },
	{ "ETXTBSY", ETXTBSY }, { "EFBIG", EFBIG }, { "ENOSPC", ENOSPC },
	{ "ESPIPE", ESPIPE }, { "EROFS", EROFS }, { "EMLINK", EMLINK },
	{ "EPIPE", EPIPE }, { "ERANGE", ERANGE }, { "ENOSYS", ENOSYS },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENOTSUP", ENOTSUP },
	{ "EAFNOSUPPORT", EAFNOSUPPORT },
	{ "EPROTONOSUPPORT", EPROTONOSUPPORT }, { "ENOTSOCK", ENOTSOCK },
	{ "EADDRINUSE", EADDRINUSE }, { "EADDRNOTAVAIL", EADDRNOTAVAIL },
	{ "ENETUNREACH", ENETUNREACH }, { "ECONNREFUSED", ECONNREFUSED },
	{ "ETIMEDOUT", ETIMEDOUT },
};

/*
 * Names a rule's argument may use.  Arguments are compared on their low 32
 * bits (the kernel truncates an int argument, so a high word must not let a
 * value slip past); a socket type ignores SOCK_NONBLOCK and SOCK_CLOEXEC.
 */
#define CMASK_INT	0xffffffffu
#define CMASK_SOCKTYPE	0xfu
static const struct {
	const char	*name;
	uint32_t	 val;
	uint32_t	 mask;
} const_names[] = {
	{ "AF_UNIX", AF_UNIX, CMASK_INT }, { "AF_INET", AF_INET, CMASK_INT },
	{ "AF_INET6", AF_INET6, CMASK_INT },
	{ "AF_NETLINK", AF_NETLINK, CMASK_INT },
	{ "AF_PACKET", AF_PACKET, CMASK_INT }, { "AF_KEY", AF_KEY, CMASK_INT },
	{ "AF_ALG", AF_ALG, CMASK_INT }, { "AF_VSOCK", AF_VSOCK, CMASK_INT },
	{ "AF_BLUETOOTH", AF_BLUETOOTH, CMASK_INT },
	{ "AF_CAN", AF_CAN, CMASK_INT }, { "AF_TIPC", AF_TIPC, CMASK_INT },
	{ "AF_RDS", AF_RDS, CMASK_INT }, { "AF_XDP", AF_XDP, CMASK_INT },
	{ "AF_PPPOX", AF_PPPOX, CMASK_INT }, { "AF_LLC", AF_LLC, CMASK_INT },
	{ "AF_X25", AF_X25, CMASK_INT }, { "AF_AX25", AF_AX25, CMASK_INT },
	{ "AF_ATMPVC", AF_ATMPVC, CMASK_INT },
	{ "AF_ATMSVC", AF_ATMSVC, CMASK_INT },
	{ "AF_APPLETALK", AF_APPLETALK, CMASK_INT },
	{ "AF_IPX", AF_IPX, CMASK_INT }, { "AF_SMC", AF_SMC, CMASK_INT },
	{ "AF_MCTP", 45, CMASK_INT },
	{ "SOCK_STREAM", SOCK_STREAM, CMASK_SOCKTYPE },
	{ "SOCK_DGRAM", SOCK_DGRAM, CMASK_SOCKTYPE },
	{ "SOCK_RAW", SOCK_RAW, CMASK_SOCKTYPE },
	{ "SOCK_RDM", SOCK_RDM, CMASK_SOCKTYPE },
	{ "SOCK_SEQPACKET", SOCK_SEQPACKET, CMASK_SOCKTYPE },
	{ "SOCK_PACKET", SOCK_PACKET, CMASK_SOCKTYPE },
	{ "NETLINK_ROUTE", NETLINK_ROUTE, CMASK_INT },
	{ "NETLINK_SOCK_DIAG", NETLINK_SOCK_DIAG, CMASK_INT },
	{ "NETLINK_XFRM", NETLINK_XFRM, CMASK_INT },
	{ "NETLINK_AUDIT", NETLINK_AUDIT, CMASK_INT },
	{ "NETLINK_NETFILTER", NETLINK_NETFILTER, CMASK_INT },
	{ "NETLINK_KOBJECT_UEVENT", NETLINK_KOBJECT_UEVENT, CMASK_INT },
	{ "NETLINK_GENERIC", NETLINK_GENERIC, CMASK_INT },
	{ "NETLINK_CRYPTO", NETLINK_CRYPTO, CMASK_INT },
	{ "NETLINK_RDMA", NETLINK_RDMA, CMASK_INT },
	{ "SECCOMP_IOCTL_NOTIF_RECV", (uint32_t)SECCOMP_IOCTL_NOTIF_RECV,
	    CMASK_INT },
};

struct pcond {
	int		 arg;		/* 0..5 */
	uint32_t	 mask;
	uint32_t	 val;
};

/* A rule with argument conditions: matches when every condition holds. */
struct pcrule {
	int		 nr;
	enum pact	 act;
	int		 err;
	int		 ncond;
	int		 nargs;		/* as written, for the dump */
	struct pcond	 cond[POLICY_MAX_ARGS];
	const char	*file;
	int		 line;
	int		 col;
};

/* A set of syscall numbers, sorted, without duplicates. */
struct sysset {
	int	*v;
	size_t	 n;
	size_t	 cap;
};

struct prule {
	int		 nr;
	enum pact	 act;
	int		 err;		/* PA_ERRNO only */
	const char	*file;		/* interned in the parse state */
	int		 line;
	int		 col;
};

struct pdef {
	char		*name;
	const char	*origin;	/* file that defined it (interned) */
	int		 line;
	int		 col;
	struct sysset	 set;
};

/* The default action of one file, its own or inherited from includes. */
struct pdefault {
	int		 set;
	enum pact	 act;
	int		 err;
	const char	*from;		/* file that declared it (interned) */
};

/* One file being parsed. */
struct pfile {
	const char	*path;		/* interned */
	struct pdef	*defs;
	size_t		 ndefs;
	struct pdefault	 own;		/* its own default line */
	int		 own_line;
	int		 own_bad;	/* a default line with an error */
	struct pdefault	 inc;		/* agreed default of its includes */
	int		 inc_conflict;
	struct pdefault	 inc_other;	/* the first one disagreeing */
};

struct pstate {
	struct nf_errs	*errs;
	size_t		 nerr0;		/* errs->n on entry */
	const char	*dir;
	const char	*stack[POLICY_MAX_DEPTH + 1];	/* policy names */
	int		 depth;
	struct prule	*rules;		/* sorted by nr */
	size_t		 nrules;
	size_t		 caprules;
	/* Rules with arguments, in file order. */
	struct pcrule	 crules[POLICY_MAX_CRULES];
	size_t		 ncrules;
	char		**files;	/* interned file names */
	size_t		 nfiles;
	struct sysset	 builtin[NF_NELEM(builtin_groups)];
	int		 builtin_done[NF_NELEM(builtin_groups)];
	/* tokens of the current line */
	struct ptok {
		const char	*s;
		size_t		 len;
		int		 col;
	}		*tok;
	size_t		 ntok;
	size_t		 captok;
};

struct nf_rule {
	int		 nr;
	enum pact	 act;
	int		 err;
};

struct nf_policy {
	char		*name;
	enum pact	 def_act;
	int		 def_err;
	struct nf_rule	*rules;
	size_t		 nrules;
	struct pcrule	*crules;	/* checked before the rules */
	size_t		 ncrules;
	scmp_filter_ctx	 ctx;
	/*
	 * The BPF program, once exported (nf_policy_export), or the program
	 * a policy was made from (nf_policy_from_bpf, ctx NULL).  Installing
	 * it is one system call: no allocation, which matters between fork()
	 * and execve().
	 */
	struct sock_filter *bpf;
	size_t		 nbpf;
	/*
	 * The same program with every deny (USER_NOTIF) return turned into
	 * TRAP: what a process that installs the policy on itself gets,
	 * since nobody listens for it; its SIGSYS handler reports the call
	 * and dies.  NULL when there is no deny.
	 */
	struct sock_filter *bpf_self;
};

static void	parse_file(struct pstate *, struct pfile *, const char *,
		    size_t);
static int	export(struct nf_policy *, const char *, struct nf_errs *);
static void	perr(struct pstate *, const char *, int, int, const char *,
		    ...) __attribute__((format(printf, 5, 6)));

static void
sysset_add(struct sysset *s, int nr)
{
	size_t	lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->v[mid] == nr)
			return;
		if (s->v[mid] < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->v = nf_xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof(*s->v));
	s->v[lo] = nr;
	s->n++;
}

static void
sysset_merge(struct sysset *dst, const struct sysset *src)
{
	size_t	i;

	for (i = 0; i < src->n; i++)
		sysset_add(dst, src->v[i]);
}

static void
sysset_free(struct sysset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static const char *
intern(struct pstate *st, const char *s)
{
	st->files = nf_xreallocarray(st->files, st->nfiles + 1,
	    sizeof(*st->files));
	st->files[st->nfiles] = nf_xstrdup(s);
	return st->files[st->nfiles++];
}

static void
perr(struct pstate *st, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	nf_errs_vadd(st->errs, file, line, col, fmt, ap);
	va_end(ap);
}

static const char *
act_name(enum pact a)
{
	switch (a) {
	case PA_ALLOW:
		return "allow";
	case PA_ERRNO:
		return "errno";
	case PA_KILL:
		return "kill";
	case PA_TRAP:
		return "trap";
	case PA_LOG:
		return "log";
	case PA_DENY:
		return "deny";
	}
	nf_panic("policy: action %d", (int)a);
}

static int
errno_lookup(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(errno_names); i++)
		if (strlen(errno_names[i].name) == len &&
		    memcmp(errno_names[i].name, s, len) == 0)
			return errno_names[i].val;
	return -1;
}

static const char *
errno_name(int val)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(errno_names); i++)
		if (errno_names[i].val == val)
			return errno_names[i].name;
	nf_panic("policy: errno %d has no name", val);
}

/* "errno EPERM" or "kill", for messages and the dump. */
static const char *
act_text(enum pact a, int err, char *buf, size_t len)
{
	if (a == PA_ERRNO)
		snprintf(buf, len, "errno %s", errno_name(err));
	else
		snprintf(buf, len, "%s", act_name(a));
	return buf;
}

static uint32_t
act_scmp(enum pact a, int err)
{
	switch (a) {
	case PA_ALLOW:
		return SCMP_ACT_ALLOW;
	case PA_ERRNO:
		return SCMP_ACT_ERRNO((uint32_t)err);
	case PA_KILL:
		return SCMP_ACT_KILL_PROCESS;
	case PA_TRAP:
		return SCMP_ACT_TRAP;
	case PA_LOG:
		return SCMP_ACT_LOG;
	case PA_DENY:
		return SCMP_ACT_NOTIFY;
	}
	nf_panic("policy: action %d", (int)a);
}

static char *
syscall_name(int nr)
{
	char	*n;

	if ((n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr)) ==
	    NULL)
		nf_panic("policy: syscall %d has no name", nr);
	return n;
}

static const char *
native_arch_name(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		return "x86_64";
	case SCMP_ARCH_X86:
		return "x86";
	case SCMP_ARCH_AARCH64:
		return "aarch64";
	case SCMP_ARCH_ARM:
		return "arm";
	case SCMP_ARCH_RISCV64:
		return "riscv64";
	case SCMP_ARCH_PPC64LE:
		return "ppc64le";
	case SCMP_ARCH_S390X:
		return "s390x";
	default:
		return "native";
	}
}

/*
 * Resolve one syscall name.  Returns the number, -1 if libseccomp does not
 * know the name on any architecture, or -2 if it is a syscall of another
 * architecture only (skipped silently: the policy stays portable).
 */
static int
resolve_syscall(const char *s, size_t len)
{
	char	 buf[64];
	int	 nr;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	nr = seccomp_syscall_resolve_name(buf);
	if (nr == __NR_SCMP_ERROR)
		return -1;
	if (nr < 0)
		return -2;
	return nr;
}

static int
builtin_index(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(builtin_groups); i++)
		if (strlen(builtin_groups[i].name) == len &&
		    memcmp(builtin_groups[i].name, s, len) == 0)
			return (int)i;
	return -1;
}

/* Expand built-in group i (cached per parse); members are trusted text. */
static const struct sysset *
builtin_expand(struct pstate *st, int i, int depth)
{
	const char	*p, *e;
	size_t		 len;
	int		 nr, j;

	if (st->builtin_done[i])
		return &st->builtin[i];
	if (depth > POLICY_GROUP_DEPTH)
		nf_panic("policy: built-in group %s nests too deep",
		    builtin_groups[i].name);
	for (p = builtin_groups[i].members; *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		if ((len = (size_t)(e - p)) == 0)
			continue;
		if (*p == '@') {
			if ((j = builtin_index(p, len)) == -1)
				nf_panic("policy: built-in group %s names "
				    "unknown group %.*s",
				    builtin_groups[i].name, (int)len, p);
			sysset_merge(&st->builtin[i],
			    builtin_expand(st, j, depth + 1));
			continue;
		}
		nr = resolve_syscall(p, len);
		if (nr == -1)
			nf_panic("policy: built-in group %s names unknown "
			    "syscall %.*s", builtin_groups[i].name, (int)len, p);
		if (nr >= 0)
			sysset_add(&st->builtin[i], nr);
	}
	st->builtin_done[i] = 1;
	return &st->builtin[i];
}

static struct pdef *
def_find(struct pfile *pf, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < pf->ndefs; i++)
		if (strlen(pf->defs[i].name) == len &&
		    memcmp(pf->defs[i].name, s, len) == 0)
			return &pf->defs[i];
	return NULL;
}

/*
 * Add the syscalls that token t names to set.  Returns 0, or -1 after
 * reporting an error at the token.
 */
static int
expand_item(struct pstate *st, struct pfile *pf, const struct ptok *t,
    int line, struct sysset *set)
{
	struct pdef	*d;
	int		 i, nr;

	if (memchr(t->s, '(', t->len) != NULL) {
		perr(st, pf->path, line, t->col, "\"%.*s\": a syscall with "
		    "arguments is a rule of its own (allow, errno, kill or "
		    "deny), not a member of a group", (int)t->len, t->s);
		return -1;
	}
	if (t->s[0] == '@') {
		if ((i = builtin_index(t->s, t->len)) != -1) {
			sysset_merge(set, builtin_expand(st, i, 0));
			return 0;
		}
		if ((d = def_find(pf, t->s, t->len)) != NULL) {
			sysset_merge(set, &d->set);
			return 0;
		}
		perr(st, pf->path, line, t->col, "unknown group \"%.*s\"; "
		    "use a built-in group (see nomaflow-policy(5)) or define "
		    "it above with \"define %.*s ...\"", (int)t->len, t->s,
		    (int)t->len, t->s);
		return -1;
	}
	if ((nr = resolve_syscall(t->s, t->len)) == -1) {
		perr(st, pf->path, line, t->col, "unknown syscall \"%.*s\"; "
		    "check the spelling against syscalls(2)", (int)t->len,
		    t->s);
		return -1;
	}
	if (nr >= 0)
		sysset_add(set, nr);
	return 0;
}

static struct prule *
rule_find(struct pstate *st, int nr, size_t *pos)
{
	size_t	lo = 0, hi = st->nrules, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (st->rules[mid].nr == nr)
			return &st->rules[mid];
		if (st->rules[mid].nr < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return NULL;
}

/*
 * Give every syscall of set the action (a, err).  A syscall that already
 * has another action is an error at the token that brought it here; one
 * error per (line, token), listing the first few syscalls, keeps the
 * output readable when a whole group clashes.
 */
static void
rules_add(struct pstate *st, struct pfile *pf, const struct sysset *set,
    enum pact a, int err, int line, const struct ptok *t)
{
	struct prule	*r;
	struct nf_buf	 clash;
	char		 b1[32], b2[32], *name;
	size_t		 i, pos, nclash = 0;

	nf_buf_init(&clash);
	for (i = 0; i < set->n; i++) {
		if ((r = rule_find(st, set->v[i], &pos)) != NULL) {
			if (r->act == a && (a != PA_ERRNO || r->err == err))
				continue;
			if (nclash++ < 3) {
				name = syscall_name(r->nr);
				nf_buf_printf(&clash, "%s\"%s\" is already %s at "
				    "%s:%d:%d", nclash > 1 ? ", " : "", name,
				    act_text(r->act, r->err, b1, sizeof(b1)),
				    r->file, r->line, r->col);
				free(name);
			}
			continue;
		}
		if (st->nrules == st->caprules) {
			st->caprules = st->caprules ? st->caprules * 2 : 64;
			st->rules = nf_xreallocarray(st->rules, st->caprules,
			    sizeof(*st->rules));
		}
		memmove(&st->rules[pos + 1], &st->rules[pos],
		    (st->nrules - pos) * sizeof(*st->rules));
		r = &st->rules[pos];
		r->nr = set->v[i];
		r->act = a;
		r->err = err;
		r->file = pf->path;
		r->line = line;
		r->col = t->col;
		st->nrules++;
	}
	if (nclash > 0)
		perr(st, pf->path, line, t->col, "cannot %s \"%.*s\": %s%s; "
		    "a syscall gets exactly one action, remove one of the "
		    "rules", act_text(a, err, b2, sizeof(b2)), (int)t->len,
		    t->s, clash.data, nclash > 3 ? " (and more)" : "");
	nf_buf_free(&clash);
}

/* Split one line into tokens; a '#' starting a token ends the line. */
static int
tokenize(struct pstate *st, struct pfile *pf, const char *s, size_t len,
    int line)
{
	size_t		i = 0, start;
	unsigned char	c;

	st->ntok = 0;
	while (i < len) {
		c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\v' ||
		    c == '\f') {
			i++;
			continue;
		}
		if (c == '#')
			break;
		start = i;
		while (i < len) {
			c = (unsigned char)s[i];
			if (c == ' ' || c == '\t' || c == '\r' || c == '\v' ||
			    c == '\f')
				break;
			if (c < 0x21 || c > 0x7e) {
				perr(st, pf->path, line, (int)i + 1,
				    "unexpected byte 0x%02x; policies are "
				    "plain ASCII", c);
				return -1;
			}
			i++;
		}
		if (st->ntok == st->captok) {
			st->captok = st->captok ? st->captok * 2 : 16;
			st->tok = nf_xreallocarray(st->tok, st->captok,
			    sizeof(*st->tok));
		}
		st->tok[st->ntok].s = s + start;
		st->tok[st->ntok].len = i - start;
		st->tok[st->ntok].col = (int)start + 1;
		st->ntok++;
	}
	return 0;
}

static int
tok_is(const struct ptok *t, const char *word)
{
	return strlen(word) == t->len && memcmp(word, t->s, t->len) == 0;
}

static int
valid_policy_name(const struct ptok *t)
{
	size_t	i;
	char	c;

	if (t->len == 0 || t->len > 64)
		return 0;
	for (i = 0; i < t->len; i++) {
		c = t->s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int
valid_group_name(const struct ptok *t)
{
	size_t	i;
	char	c;

	if (t->len < 2 || t->len > 64 || t->s[0] != '@')
		return 0;
	for (i = 1; i < t->len; i++) {
		c = t->s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Read a whole policy file; NULL with errno set. */
static char *
read_file(const char *path, size_t *lenp)
{
	struct stat	 sb;
	struct nf_buf	 b;
	char		 chunk[8192];
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	nf_buf_init(&b);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			nf_buf_free(&b);
			errno = saved;
			goto fail;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > POLICY_MAX_SIZE) {
			nf_buf_free(&b);
			errno = EFBIG;
			goto fail;
		}
		nf_buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	*lenp = b.len;
	return nf_buf_steal(&b);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

static void
pfile_free(struct pfile *pf)
{
	size_t	i;

	for (i = 0; i < pf->ndefs; i++) {
		free(pf->defs[i].name);
		sysset_free(&pf->defs[i].set);
	}
	free(pf->defs);
}

static void
def_add(struct pfile *pf, const char *name, size_t len, const char *origin,
    int line, int col, const struct sysset *set)
{
	struct pdef	*d;

	pf->defs = nf_xreallocarray(pf->defs, pf->ndefs + 1,
	    sizeof(*pf->defs));
	d = &pf->defs[pf->ndefs++];
	memset(d, 0, sizeof(*d));
	d->name = nf_xstrndup(name, len);
	d->origin = origin;
	d->line = line;
	d->col = col;
	sysset_merge(&d->set, set);
}

/* "include NAME": parse NAME.policy in the same directory. */
static void
do_include(struct pstate *st, struct pfile *pf, const struct ptok *t,
    int line)
{
	struct pfile	 sub;
	struct nf_buf	 chain;
	struct pdef	*d, *have;
	char		*path, *text, *name;
	size_t		 len, i;
	int		 k, col = t->col;

	/*
	 * t points into the token array, which the included file's lines
	 * reuse: only name and col are used once it has been parsed.
	 */
	if (!valid_policy_name(t)) {
		perr(st, pf->path, line, col, "bad policy name \"%.*s\"; "
		    "write the file name without directory and without "
		    ".policy ([A-Za-z0-9_-]+)", (int)t->len, t->s);
		return;
	}
	name = nf_xstrndup(t->s, t->len);
	if (st->dir == NULL) {
		perr(st, pf->path, line, col, "cannot include \"%s\": this "
		    "policy was not read from a directory", name);
		goto out;
	}
	for (k = 0; k <= st->depth; k++) {
		if (strcmp(st->stack[k], name) != 0)
			continue;
		nf_buf_init(&chain);
		for (; k <= st->depth; k++)
			nf_buf_printf(&chain, "%s -> ", st->stack[k]);
		nf_buf_adds(&chain, name);
		perr(st, pf->path, line, col, "include cycle: %s; remove "
		    "one of these includes", chain.data);
		nf_buf_free(&chain);
		goto out;
	}
	if (st->depth >= POLICY_MAX_DEPTH) {
		perr(st, pf->path, line, col, "includes nested deeper than "
		    "%d; flatten the policy", POLICY_MAX_DEPTH);
		goto out;
	}
	nf_xasprintf(&path, "%s/%s.policy", st->dir, name);
	if ((text = read_file(path, &len)) == NULL) {
		perr(st, pf->path, line, col, "cannot include \"%s\": %s: "
		    "%s", name, path, strerror(errno));
		free(path);
		goto out;
	}
	memset(&sub, 0, sizeof(sub));
	sub.path = intern(st, path);
	free(path);
	st->stack[++st->depth] = name;
	parse_file(st, &sub, text, len);
	st->depth--;
	free(text);

	/* The included file's groups become visible here. */
	for (i = 0; i < sub.ndefs; i++) {
		d = &sub.defs[i];
		if ((have = def_find(pf, d->name, strlen(d->name))) != NULL) {
			/* The same definition reached twice (diamond). */
			if (have->origin == d->origin ||
			    strcmp(have->origin, d->origin) == 0)
				continue;
			perr(st, pf->path, line, col, "group \"%s\" from "
			    "%s:%d:%d is already defined at %s:%d:%d; rename "
			    "one", d->name, d->origin, d->line, d->col,
			    have->origin, have->line, have->col);
			continue;
		}
		def_add(pf, d->name, strlen(d->name), d->origin, d->line,
		    d->col, &d->set);
	}
	/* Its effective default, for the includer that declares none. */
	if (sub.own.set || sub.inc.set) {
		struct pdefault	*eff = sub.own.set ? &sub.own : &sub.inc;

		if (!pf->inc.set)
			pf->inc = *eff;
		else if (!pf->inc_conflict && (pf->inc.act != eff->act ||
		    (eff->act == PA_ERRNO && pf->inc.err != eff->err))) {
			pf->inc_conflict = 1;
			pf->inc_other = *eff;
		}
	}
	pfile_free(&sub);
out:
	free(name);
}

/* "default ACTION": at most one per file; 0, or -1 after an error. */
static int
parse_default(struct pstate *st, struct pfile *pf, int line)
{
	const struct ptok	*t;
	int			 e;

	pf->own_bad = 1;	/* until it parses */
	if (st->ntok < 2) {
		perr(st, pf->path, line, st->tok[0].col, "\"default\" needs "
		    "an action: kill, errno ERRNAME, trap or log");
		return -1;
	}
	t = &st->tok[1];
	if (pf->own.set) {
		perr(st, pf->path, line, st->tok[0].col, "second \"default\" "
		    "line; the first is at line %d: keep one", pf->own_line);
		return -1;
	}
	if (tok_is(t, "kill") || tok_is(t, "trap") || tok_is(t, "log")) {
		if (st->ntok != 2) {
			perr(st, pf->path, line, st->tok[2].col, "unexpected "
			    "\"%.*s\" after \"default %.*s\"",
			    (int)st->tok[2].len, st->tok[2].s, (int)t->len,
			    t->s);
			return -1;
		}
		pf->own.act = tok_is(t, "kill") ? PA_KILL :
		    tok_is(t, "trap") ? PA_TRAP : PA_LOG;
	} else if (tok_is(t, "errno")) {
		if (st->ntok != 3) {
			perr(st, pf->path, line, t->col, "\"default errno\" "
			    "takes exactly one errno name, e.g. \"default "
			    "errno EPERM\"");
			return -1;
		}
		if ((e = errno_lookup(st->tok[2].s, st->tok[2].len)) == -1) {
			perr(st, pf->path, line, st->tok[2].col, "unknown "
			    "errno name \"%.*s\"; use a name like EPERM, "
			    "EACCES or ENOSYS", (int)st->tok[2].len,
			    st->tok[2].s);
			return -1;
		}
		pf->own.act = PA_ERRNO;
		pf->own.err = e;
	} else {
		perr(st, pf->path, line, t->col, "bad default \"%.*s\"; "
		    "expected kill, errno ERRNAME, trap or log", (int)t->len,
		    t->s);
		return -1;
	}
	pf->own.set = 1;
	pf->own_bad = 0;
	pf->own.from = pf->path;
	pf->own_line = line;
	return 0;
}

static int
const_lookup(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(const_names); i++)
		if (strlen(const_names[i].name) == len &&
		    memcmp(const_names[i].name, s, len) == 0)
			return (int)i;
	return -1;
}

/* One argument: a name of const_names or a number (decimal or 0x). */
static int
parse_cond_arg(const char *s, size_t len, struct pcond *c)
{
	unsigned long long	v = 0;
	size_t			i = 0;
	int			k, base = 10, d;

	if ((k = const_lookup(s, len)) != -1) {
		c->val = const_names[k].val;
		c->mask = const_names[k].mask;
		return 0;
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -1;
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		v = v * (unsigned)base + (unsigned)d;
		if (v > 0xffffffffULL)
			return -1;
	}
	c->val = (uint32_t)v;
	c->mask = CMASK_INT;
	return 0;
}

static int
crule_same_conds(const struct pcrule *a, const struct pcrule *b)
{
	int	i;

	if (a->ncond != b->ncond)
		return 0;
	for (i = 0; i < a->ncond; i++)
		if (a->cond[i].arg != b->cond[i].arg ||
		    a->cond[i].mask != b->cond[i].mask ||
		    a->cond[i].val != b->cond[i].val)
			return 0;
	return 1;
}

/*
 * "name(ARG,ARG,...)": a rule that applies when every argument that is not
 * "*" has that value.  Rules with arguments are checked before the plain
 * ones, so they carve an exception out of whatever the syscall otherwise
 * gets; every such rule of one syscall must share one action, or which one
 * wins would depend on their order.
 */
static void
parse_cond_item(struct pstate *st, struct pfile *pf, const struct ptok *t,
    int line, enum pact a, int err)
{
	struct pcrule	 r;
	const char	*open, *p, *e, *end = t->s + t->len;
	char		 b1[32], b2[32], *name;
	size_t		 i;
	int		 nr, narg = 0;

	memset(&r, 0, sizeof(r));
	open = memchr(t->s, '(', t->len);
	if (open == t->s || end[-1] != ')') {
		perr(st, pf->path, line, t->col, "bad rule \"%.*s\"; write "
		    "name(ARG,...) without spaces, e.g. socket(AF_PACKET) or "
		    "socket(*,SOCK_RAW)", (int)t->len, t->s);
		return;
	}
	if ((nr = resolve_syscall(t->s, (size_t)(open - t->s))) == -1) {
		perr(st, pf->path, line, t->col, "unknown syscall \"%.*s\"; "
		    "check the spelling against syscalls(2)",
		    (int)(open - t->s), t->s);
		return;
	}
	for (p = open + 1; p < end; p = e + 1) {
		e = p;
		while (e < end - 1 && *e != ',')
			e++;
		if (narg == POLICY_MAX_ARGS) {
			perr(st, pf->path, line, t->col + (int)(p - t->s),
			    "a syscall has at most %d arguments",
			    POLICY_MAX_ARGS);
			return;
		}
		if (e - p == 1 && *p == '*') {
			narg++;
			continue;
		}
		r.cond[r.ncond].arg = narg;
		if (e == p || parse_cond_arg(p, (size_t)(e - p),
		    &r.cond[r.ncond]) == -1) {
			perr(st, pf->path, line, t->col + (int)(p - t->s),
			    "bad argument \"%.*s\"; write *, a number below "
			    "2^32 or a name such as AF_PACKET, SOCK_RAW or "
			    "NETLINK_XFRM (see nomaflow-policy(5))",
			    (int)(e - p), p);
			return;
		}
		r.ncond++;
		narg++;
	}
	if (r.ncond == 0) {
		perr(st, pf->path, line, t->col, "\"%.*s\" has no argument "
		    "to compare; write the syscall without parentheses",
		    (int)t->len, t->s);
		return;
	}
	if (nr == -2)
		return;		/* another architecture's syscall */
	r.nr = nr;
	r.act = a;
	r.err = err;
	r.nargs = narg;
	r.file = pf->path;
	r.line = line;
	r.col = t->col;
	for (i = 0; i < st->ncrules; i++) {
		if (st->crules[i].nr != nr)
			continue;
		if (st->crules[i].act != a || (a == PA_ERRNO &&
		    st->crules[i].err != err)) {
			name = syscall_name(nr);
			perr(st, pf->path, line, t->col, "cannot %s \"%.*s\": "
			    "%s with arguments is already %s at %s:%d:%d; "
			    "the rules with arguments of one syscall share "
			    "one action", act_text(a, err, b1, sizeof(b1)),
			    (int)t->len, t->s, name, act_text(st->crules[i].act,
			    st->crules[i].err, b2, sizeof(b2)),
			    st->crules[i].file, st->crules[i].line,
			    st->crules[i].col);
			free(name);
			return;
		}
		if (crule_same_conds(&st->crules[i], &r))
			return;		/* the same rule again */
	}
	if (st->ncrules == POLICY_MAX_CRULES) {
		perr(st, pf->path, line, t->col, "more than %d rules with "
		    "arguments; merge some", POLICY_MAX_CRULES);
		return;
	}
	st->crules[st->ncrules++] = r;
}

/* allow / errno ERRNAME / kill / deny followed by items. */
static void
parse_rule(struct pstate *st, struct pfile *pf, int line, enum pact a)
{
	struct sysset	 set;
	size_t		 first = 1, i;
	int		 err = 0;

	if (a == PA_ERRNO) {
		if (st->ntok < 2) {
			perr(st, pf->path, line, st->tok[0].col, "\"errno\" "
			    "needs an errno name and syscalls, e.g. \"errno "
			    "EPERM acct\"");
			return;
		}
		if ((err = errno_lookup(st->tok[1].s, st->tok[1].len)) == -1) {
			perr(st, pf->path, line, st->tok[1].col, "unknown "
			    "errno name \"%.*s\"; use a name like EPERM, "
			    "EACCES or ENOSYS", (int)st->tok[1].len,
			    st->tok[1].s);
			return;
		}
		first = 2;
	}
	if (st->ntok <= first) {
		perr(st, pf->path, line, st->tok[0].col, "\"%s\" needs at "
		    "least one syscall or @group", act_name(a));
		return;
	}
	for (i = first; i < st->ntok; i++) {
		if (memchr(st->tok[i].s, '(', st->tok[i].len) != NULL) {
			parse_cond_item(st, pf, &st->tok[i], line, a, err);
			continue;
		}
		memset(&set, 0, sizeof(set));
		if (expand_item(st, pf, &st->tok[i], line, &set) == 0)
			rules_add(st, pf, &set, a, err, line, &st->tok[i]);
		sysset_free(&set);
	}
}

static void
parse_define(struct pstate *st, struct pfile *pf, int line)
{
	const struct ptok	*t;
	struct sysset		 set;
	struct pdef		*d;
	size_t			 i;
	int			 bad = 0;

	if (st->ntok < 3) {
		perr(st, pf->path, line, st->tok[0].col, "\"define\" needs a "
		    "@name and at least one syscall or @group");
		return;
	}
	t = &st->tok[1];
	if (!valid_group_name(t)) {
		perr(st, pf->path, line, t->col, "bad group name \"%.*s\"; "
		    "write @ then [a-z0-9_-]", (int)t->len, t->s);
		return;
	}
	if (builtin_index(t->s, t->len) != -1) {
		perr(st, pf->path, line, t->col, "\"%.*s\" is a built-in "
		    "group; choose another name", (int)t->len, t->s);
		return;
	}
	if ((d = def_find(pf, t->s, t->len)) != NULL) {
		perr(st, pf->path, line, t->col, "group \"%.*s\" is already "
		    "defined at %s:%d:%d; choose another name", (int)t->len,
		    t->s, d->origin, d->line, d->col);
		return;
	}
	memset(&set, 0, sizeof(set));
	for (i = 2; i < st->ntok; i++)
		if (expand_item(st, pf, &st->tok[i], line, &set) == -1)
			bad = 1;
	if (!bad)
		def_add(pf, t->s, t->len, pf->path, line, t->col, &set);
	sysset_free(&set);
}

static void
parse_file(struct pstate *st, struct pfile *pf, const char *text,
    size_t len)
{
	const struct ptok	*d;
	const char		*p, *e, *end = text + len;
	int			 line = 0;

	for (p = text; p < end; p = e + 1) {
		line++;
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		if (tokenize(st, pf, p, (size_t)(e - p), line) == -1 ||
		    st->ntok == 0)
			continue;
		d = &st->tok[0];
		if (tok_is(d, "include")) {
			if (st->ntok != 2)
				perr(st, pf->path, line, d->col, "\"include\" "
				    "takes exactly one policy name");
			else
				do_include(st, pf, &st->tok[1], line);
		} else if (tok_is(d, "default"))
			parse_default(st, pf, line);
		else if (tok_is(d, "allow"))
			parse_rule(st, pf, line, PA_ALLOW);
		else if (tok_is(d, "errno"))
			parse_rule(st, pf, line, PA_ERRNO);
		else if (tok_is(d, "kill"))
			parse_rule(st, pf, line, PA_KILL);
		else if (tok_is(d, "deny"))
			parse_rule(st, pf, line, PA_DENY);
		else if (tok_is(d, "define"))
			parse_define(st, pf, line);
		else
			perr(st, pf->path, line, d->col, "unknown directive "
			    "\"%.*s\"; expected include, default, allow, "
			    "errno, kill, deny or define", (int)d->len, d->s);
	}
	if (!pf->own.set && pf->inc_conflict) {
		char	b1[32], b2[32];

		perr(st, pf->path, 0, 0, "included policies have different "
		    "default actions (%s from %s, %s from %s); add a "
		    "\"default\" line to this file",
		    act_text(pf->inc.act, pf->inc.err, b1, sizeof(b1)),
		    pf->inc.from, act_text(pf->inc_other.act,
		    pf->inc_other.err, b2, sizeof(b2)), pf->inc_other.from);
	}
}

static void
pstate_free(struct pstate *st)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(builtin_groups); i++)
		sysset_free(&st->builtin[i]);
	for (i = 0; i < st->nfiles; i++)
		free(st->files[i]);
	free(st->files);
	free(st->rules);
	free(st->tok);
}

/* Build the libseccomp context; 0, or -1 after reporting to errs. */
static int
compile(struct nf_policy *p, const char *path, struct nf_errs *errs)
{
	char	 b[32];
	size_t	 i;
	int	 rc;

	if ((p->ctx = seccomp_init(act_scmp(p->def_act, p->def_err))) ==
	    NULL) {
		nf_errs_add(errs, path, 0, 0, "libseccomp refused default "
		    "\"%s\" (does this kernel support it? see "
		    "/proc/sys/kernel/seccomp/actions_avail)",
		    act_text(p->def_act, p->def_err, b, sizeof(b)));
		return -1;
	}
	/* Other architectures (and x32 on x86_64) die. */
	if ((rc = seccomp_attr_set(p->ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (rc = seccomp_attr_set(p->ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0 ||
	    /* Long allow-lists: a binary tree keeps every syscall cheap. */
	    (rc = seccomp_attr_set(p->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		nf_errs_add(errs, path, 0, 0, "libseccomp: cannot set filter "
		    "attributes: %s", strerror(-rc));
		return -1;
	}
	for (i = 0; i < p->nrules; i++) {
		/* libseccomp rejects rules that repeat the default. */
		if (p->rules[i].act == p->def_act &&
		    (p->def_act != PA_ERRNO || p->rules[i].err == p->def_err))
			continue;
		rc = seccomp_rule_add(p->ctx, act_scmp(p->rules[i].act,
		    p->rules[i].err), p->rules[i].nr, 0);
		if (rc < 0) {
			char	*n = syscall_name(p->rules[i].nr);

			nf_errs_add(errs, path, 0, 0, "libseccomp rejected "
			    "the rule for \"%s\": %s", n, strerror(-rc));
			free(n);
			return -1;
		}
	}
	return 0;
}

static char *
name_from_filename(const char *filename)
{
	const char	*b, *dot;

	b = strrchr(filename, '/');
	b = b != NULL ? b + 1 : filename;
	dot = strrchr(b, '.');
	if (dot != NULL && strcmp(dot, ".policy") == 0 && dot != b)
		return nf_xstrndup(b, (size_t)(dot - b));
	return nf_xstrdup(b);
}

struct nf_policy *
nf_policy_parse(const char *text, size_t len, const char *filename,
    const char *dir, struct nf_errs *errs)
{
	struct pstate		 st;
	struct pfile		 top;
	struct pdefault		*eff;
	struct nf_policy	*p = NULL;
	char			*name;
	size_t			 i;

	memset(&st, 0, sizeof(st));
	memset(&top, 0, sizeof(top));
	st.errs = errs;
	st.nerr0 = errs->n;
	st.dir = dir;
	name = name_from_filename(filename);
	st.stack[0] = name;
	top.path = intern(&st, filename);
	parse_file(&st, &top, text, len);

	eff = top.own.set ? &top.own : top.inc.set && !top.inc_conflict ?
	    &top.inc : NULL;
	if (eff == NULL && !top.inc_conflict && !top.own_bad)
		perr(&st, top.path, 0, 0, "no \"default\" line; add one, "
		    "e.g. \"default kill\" (library steps) or \"default "
		    "errno EPERM\" (exec'd programs)");
	if (errs->n > st.nerr0)
		goto out;

	p = nf_xcalloc(1, sizeof(*p));
	p->name = name;
	name = NULL;
	p->def_act = eff->act;
	p->def_err = eff->err;
	p->nrules = st.nrules;
	p->rules = nf_xcalloc(st.nrules ? st.nrules : 1, sizeof(*p->rules));
	for (i = 0; i < st.nrules; i++) {
		p->rules[i].nr = st.rules[i].nr;
		p->rules[i].act = st.rules[i].act;
		p->rules[i].err = st.rules[i].err;
	}
	p->ncrules = st.ncrules;
	p->crules = nf_xcalloc(st.ncrules ? st.ncrules : 1,
	    sizeof(*p->crules));
	memcpy(p->crules, st.crules, st.ncrules * sizeof(*p->crules));
	if (compile(p, filename, errs) == -1 || export(p, filename,
	    errs) == -1) {
		nf_policy_free(p);
		p = NULL;
	}
out:
	pfile_free(&top);
	pstate_free(&st);
	free(name);
	return p;
}

struct nf_policy *
nf_policy_load(const char *dir, const char *name, struct nf_errs *errs)
{
	struct nf_policy	*p;
	struct ptok		 t;
	char			*path, *text;
	size_t			 len;

	t.s = name;
	t.len = strlen(name);
	t.col = 0;
	if (!valid_policy_name(&t)) {
		nf_errs_add(errs, NULL, 0, 0, "bad policy name \"%s\"; "
		    "expected [A-Za-z0-9_-]+", name);
		return NULL;
	}
	nf_xasprintf(&path, "%s/%s.policy", dir, name);
	if ((text = read_file(path, &len)) == NULL) {
		nf_errs_add(errs, path, 0, 0, "cannot read policy: %s; check "
		    "the policies directory setting", strerror(errno));
		free(path);
		return NULL;
	}
	p = nf_policy_parse(text, len, path, dir, errs);
	free(text);
	free(path);
	return p;
}

void
nf_policy_free(struct nf_policy *p)
{
	if (p == NULL)
		return;
	if (p->ctx != NULL)
		seccomp_release(p->ctx);
	free(p->bpf);
	free(p->bpf_self);
	free(p->rules);
	free(p->crules);
	free(p->name);
	free(p);
}

const char *
nf_policy_name(const struct nf_policy *p)
{
	return p->name;
}

/* The native architecture's AUDIT_ARCH value, as seccomp_data.arch. */
static uint32_t
native_audit_arch(void)
{
	return seccomp_arch_native();
}

/*
 * The rules with arguments, as BPF run before libseccomp's program: a rule
 * that matches returns its action; anything else (another architecture
 * too, which libseccomp's program then kills) falls through.  One block
 * per syscall, so any other syscall pays a compare per such syscall, not
 * per rule.  Arguments are compared on their low 32 bits (const_names).
 * f has room for PREFIX_MAX instructions.
 */
#define PREFIX_MAX	(3 + POLICY_MAX_CRULES * (4 + 3 * POLICY_MAX_ARGS))

static size_t
prefix_build(const struct nf_policy *p, struct sock_filter *f)
{
	const struct pcrule	*r;
	size_t			 n = 0, i, j, to_end, to_next, rule_start;
	size_t			 len;
	int			 c, off, nr, prev = -1, done;

	if (p->ncrules == 0)
		return 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	off = 0;
#else
	off = 4;
#endif
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    native_audit_arch(), 1, 0);
	to_end = n++;
	/* Syscalls in ascending order, each with its rules in file order. */
	for (done = 0; !done;) {
		nr = -1;
		for (i = 0; i < p->ncrules; i++)
			if (p->crules[i].nr > prev && (nr == -1 ||
			    p->crules[i].nr < nr))
				nr = p->crules[i].nr;
		if (nr == -1) {
			done = 1;
			continue;
		}
		prev = nr;
		f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr));
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)nr, 1, 0);
		to_next = n++;
		for (j = 0; j < p->ncrules; j++) {
			r = &p->crules[j];
			if (r->nr != nr)
				continue;
			rule_start = n;
			len = 3 * (size_t)r->ncond + 1;
			for (c = 0; c < r->ncond; c++) {
				f[n++] = (struct sock_filter)BPF_STMT(BPF_LD |
				    BPF_W | BPF_ABS, (uint32_t)(offsetof(
				    struct seccomp_data, args) +
				    8 * (size_t)r->cond[c].arg + (size_t)off));
				f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU |
				    BPF_AND | BPF_K, r->cond[c].mask);
				f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP |
				    BPF_JEQ | BPF_K, r->cond[c].val, 0,
				    (uint8_t)(rule_start + len - n - 1));
				n++;
			}
			f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			    act_scmp(r->act, r->err));
		}
		f[to_next] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA,
		    (uint32_t)(n - to_next - 1));
	}
	f[to_end] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA,
	    (uint32_t)(n - to_end - 1));
	if (n > PREFIX_MAX)
		nf_panic("policy: prefix of %zu instructions", n);
	return n;
}

/* Does insn return USER_NOTIF? */
static int
insn_is_notify(const struct sock_filter *f)
{
	return f->code == (BPF_RET | BPF_K) &&
	    (f->k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF;
}

/* The trap variant of p->bpf (see struct nf_policy), if it has a deny. */
static void
bpf_self_make(struct nf_policy *p)
{
	size_t	i;

	free(p->bpf_self);
	p->bpf_self = NULL;
	for (i = 0; i < p->nbpf; i++) {
		if (!insn_is_notify(&p->bpf[i]))
			continue;
		if (p->bpf_self == NULL) {
			p->bpf_self = nf_xreallocarray(NULL, p->nbpf,
			    sizeof(*p->bpf));
			memcpy(p->bpf_self, p->bpf, p->nbpf * sizeof(*p->bpf));
		}
		p->bpf_self[i].k = SECCOMP_RET_TRAP | NF_POLICY_TRAP_DENY;
	}
}

/*
 * The whole program: the rules with arguments, then libseccomp's tree.
 * 0, or -1 after reporting to errs.
 */
static int
export(struct nf_policy *p, const char *path, struct nf_errs *errs)
{
	struct sock_filter	 pre[PREFIX_MAX];
	struct stat		 sb;
	size_t			 npre, nlib;
	ssize_t			 n;
	int			 fd, rc;

	npre = prefix_build(p, pre);
	/* libseccomp 2.5 exports to a descriptor only. */
	if ((fd = memfd_create("nomaflow-bpf", MFD_CLOEXEC)) == -1) {
		nf_errs_add(errs, path, 0, 0, "memfd_create: %s",
		    strerror(errno));
		return -1;
	}
	if ((rc = seccomp_export_bpf(p->ctx, fd)) < 0) {
		close(fd);
		nf_errs_add(errs, path, 0, 0, "libseccomp: cannot export "
		    "the filter: %s", strerror(-rc));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || sb.st_size <= 0 ||
	    sb.st_size % sizeof(struct sock_filter) != 0 ||
	    (size_t)sb.st_size / sizeof(struct sock_filter) + npre >
	    BPF_MAXINSNS) {
		close(fd);
		nf_errs_add(errs, path, 0, 0, "the compiled filter is "
		    "empty or longer than %d instructions; shorten the "
		    "policy", BPF_MAXINSNS);
		return -1;
	}
	nlib = (size_t)sb.st_size / sizeof(struct sock_filter);
	p->bpf = nf_xreallocarray(NULL, npre + nlib, sizeof(*p->bpf));
	memcpy(p->bpf, pre, npre * sizeof(*pre));
	n = pread(fd, p->bpf + npre, (size_t)sb.st_size, 0);
	close(fd);
	if (n != sb.st_size) {
		nf_errs_add(errs, path, 0, 0, "reading the compiled filter: "
		    "short read");
		return -1;
	}
	p->nbpf = npre + nlib;
	bpf_self_make(p);
	return 0;
}

int
nf_policy_export(struct nf_policy *p, const void **prog, size_t *len)
{
	if (p->bpf == NULL) {
		errno = EINVAL;
		return -1;
	}
	*prog = p->bpf;
	*len = p->nbpf * sizeof(struct sock_filter);
	return 0;
}

int
nf_policy_has_deny(const struct nf_policy *p)
{
	return p->bpf_self != NULL;
}

struct nf_policy *
nf_policy_from_bpf(const char *name, const void *prog, size_t len,
    char *err, size_t errlen)
{
	struct nf_policy	*p;

	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		snprintf(err, errlen, "compiled policy %s: %zu bytes is not a "
		    "BPF program", name, len);
		return NULL;
	}
	p = nf_xcalloc(1, sizeof(*p));
	p->name = nf_xstrdup(name);
	p->bpf = nf_xmalloc(len);
	memcpy(p->bpf, prog, len);
	p->nbpf = len / sizeof(struct sock_filter);
	bpf_self_make(p);
	return p;
}

static int
install(const struct sock_filter *f, size_t n, unsigned int flags)
{
	struct sock_fprog	prog;
	long			rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	prog.len = (unsigned short)n;
	prog.filter = (struct sock_filter *)(uintptr_t)f;
	if ((rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags,
	    &prog)) < 0) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	return (int)rc;
}

int
nf_policy_install(const struct nf_policy *p)
{
	/* TSYNC: every thread, or one started earlier escapes. */
	if (install(p->bpf_self != NULL ? p->bpf_self : p->bpf, p->nbpf,
	    SECCOMP_FILTER_FLAG_TSYNC) == -1)
		return -1;
	return 0;
}

int
nf_policy_install_listen(const struct nf_policy *p, int *listener)
{
	int	fd;

	*listener = -1;
	if (p->bpf_self == NULL)
		return install(p->bpf, p->nbpf, 0) == -1 ? -1 : 0;
	if ((fd = install(p->bpf, p->nbpf,
	    SECCOMP_FILTER_FLAG_NEW_LISTENER)) == -1)
		return -1;
	*listener = fd;
	return 0;
}

/* A name of const_names for (val, mask), or NULL. */
static const char *
const_name(uint32_t val, uint32_t mask, const char *prefix)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(const_names); i++)
		if (const_names[i].val == val && const_names[i].mask == mask &&
		    (prefix == NULL || strncmp(const_names[i].name, prefix,
		    strlen(prefix)) == 0))
			return const_names[i].name;
	return NULL;
}

void
nf_policy_describe(int nr, const uint64_t args[6], char *buf, size_t len)
{
	const char	*fam, *type;
	char		*name;

	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (name == NULL) {
		snprintf(buf, len, "syscall %d", nr);
		return;
	}
#ifdef __NR_socket
	if (nr == __NR_socket) {
		fam = const_name((uint32_t)args[0], CMASK_INT, "AF_");
		type = const_name((uint32_t)args[1] & CMASK_SOCKTYPE,
		    CMASK_SOCKTYPE, "SOCK_");
		if (fam != NULL && type != NULL)
			snprintf(buf, len, "%s(%s, %s)", name, fam, type);
		else if (fam != NULL)
			snprintf(buf, len, "%s(%s, %u)", name, fam,
			    (unsigned)args[1]);
		else
			snprintf(buf, len, "%s(%u, %u)", name,
			    (unsigned)args[0], (unsigned)args[1]);
		free(name);
		return;
	}
#endif
	snprintf(buf, len, "%s", name);
	free(name);
}

struct dump_line {
	char		*name;
	enum pact	 act;
	int		 err;
};

/*
 * The dump is itself a policy (without includes or groups) that compiles to
 * the same filter: name and architecture as comments, the default, then
 * allow, errno (by errno name), kill lines, each sorted by syscall name.
 */
static int
act_order(enum pact a)
{
	switch (a) {
	case PA_ALLOW:
		return 0;
	case PA_ERRNO:
		return 1;
	case PA_KILL:
		return 2;
	case PA_TRAP:
		return 3;
	case PA_LOG:
		return 4;
	case PA_DENY:
		return 5;
	}
	nf_panic("policy: action %d", (int)a);
}

static int
dump_cmp(const void *a, const void *b)
{
	const struct dump_line	*x = a, *y = b;
	int			 c;

	if (x->act != y->act)
		return act_order(x->act) < act_order(y->act) ? -1 : 1;
	if (x->act == PA_ERRNO && x->err != y->err &&
	    (c = strcmp(errno_name(x->err), errno_name(y->err))) != 0)
		return c;
	return strcmp(x->name, y->name);
}

/* "socket(AF_PACKET,*,NETLINK_XFRM)": a rule with arguments as written. */
static char *
crule_text(const struct pcrule *r)
{
	static const char *const sockhint[] = { "AF_", "SOCK_", "NETLINK_" };
	struct nf_buf	 b;
	const char	*n, *hint;
	char		*name;
	int		 a, c;

	name = syscall_name(r->nr);
	nf_buf_init(&b);
	nf_buf_printf(&b, "%s(", name);
	for (a = 0; a < r->nargs; a++) {
		if (a > 0)
			nf_buf_adds(&b, ",");
		for (c = 0; c < r->ncond && r->cond[c].arg != a; c++)
			;
		if (c == r->ncond) {
			nf_buf_adds(&b, "*");
			continue;
		}
		hint = NULL;
#ifdef __NR_socket
		if (r->nr == __NR_socket && a < 3)
			hint = sockhint[a];
#endif
		/* socket's own names where they apply, else a number. */
		n = hint != NULL ? const_name(r->cond[c].val,
		    r->cond[c].mask, hint) : NULL;
		if (n == NULL && (hint == NULL ||
		    r->cond[c].mask != CMASK_INT))
			n = const_name(r->cond[c].val, r->cond[c].mask, NULL);
		if (n == NULL && r->cond[c].mask != CMASK_INT)
			nf_panic("policy: condition without a name");
		if (n != NULL)
			nf_buf_adds(&b, n);
		else
			nf_buf_printf(&b, "%u", r->cond[c].val);
	}
	nf_buf_adds(&b, ")");
	free(name);
	return nf_buf_steal(&b);
}

void
nf_policy_dump(const struct nf_policy *p, FILE *fp)
{
	struct dump_line	*l;
	char			 b[32];
	size_t			 i;

	fprintf(fp, "# policy %s\n", p->name);
	if (p->ctx == NULL) {
		fprintf(fp, "# precompiled: %zu BPF instructions\n", p->nbpf);
		return;
	}
	fprintf(fp, "# arch %s (any other architecture, and x32: kill)\n",
	    native_arch_name());
	fprintf(fp, "default %s\n", act_text(p->def_act, p->def_err, b,
	    sizeof(b)));
	l = nf_xcalloc(p->nrules ? p->nrules : 1, sizeof(*l));
	for (i = 0; i < p->nrules; i++) {
		l[i].name = syscall_name(p->rules[i].nr);
		l[i].act = p->rules[i].act;
		l[i].err = p->rules[i].err;
	}
	qsort(l, p->nrules, sizeof(*l), dump_cmp);
	for (i = 0; i < p->nrules; i++) {
		fprintf(fp, "%s %s\n", act_text(l[i].act, l[i].err, b,
		    sizeof(b)), l[i].name);
		free(l[i].name);
	}
	free(l);
	/* Then the rules with arguments, in the same order. */
	l = nf_xcalloc(p->ncrules ? p->ncrules : 1, sizeof(*l));
	for (i = 0; i < p->ncrules; i++) {
		l[i].name = crule_text(&p->crules[i]);
		l[i].act = p->crules[i].act;
		l[i].err = p->crules[i].err;
	}
	qsort(l, p->ncrules, sizeof(*l), dump_cmp);
	for (i = 0; i < p->ncrules; i++) {
		fprintf(fp, "%s %s\n", act_text(l[i].act, l[i].err, b,
		    sizeof(b)), l[i].name);
		free(l[i].name);
	}
	free(l);
}
