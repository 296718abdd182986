/*
 * fake.c: misbehaving stand-ins for nomaflow-worker, for the integration
 * harness (which points worker.path at them).  One source, one program per
 * misbehaviour, chosen at compile time (tests/local.mk):
 *
 *   NF_FAKE_GARBAGE            HELLO, then a frame whose payload is not
 *                              msgpack, then waits to be killed
 *   NF_FAKE_HUGE               HELLO, then a frame header claiming
 *                              0xFFFFFFF0 bytes, then waits to be killed
 *   NF_FAKE_NORESULT           HELLO, reads STEP_START, STEP_READY and one
 *                              log line, exits 0 without a RESULT
 *   NF_FAKE_CRASH_AFTER_RESULT HELLO, reads STEP_START, STEP_READY, a
 *                              successful RESULT, then dies of SIGSEGV
 *   NF_FAKE_SCRIPTED           HELLO, reads STEP_START, STEP_READY, then
 *                              does what the step's argv[0] names (the
 *                              worker fault matrix, tests/integration/
 *                              faults.sh): segv, abort, kill, sigsys,
 *                              oom (allocate under RLIMIT_AS until malloc
 *                              fails, then abort as an allocator does),
 *                              flood MB (MB megabytes of 1 KiB log lines,
 *                              then a successful RESULT), grandchild
 *                              (leave a /bin/sleep 61 in its process
 *                              group, answer, exit), escape SECONDS
 *                              (leave a setsid'd /bin/sleep SECONDS,
 *                              out of its process group, answer, exit:
 *                              what only the attempt's cgroup catches),
 *                              trap (install relay.policy as the real
 *                              worker does, with its SIGSYS handler,
 *                              then call ptrace, a deny rule: deny.sh)
 *   NF_FAKE_NOREAD             HELLO, then never reads its socket (the
 *                              supervisor's STEP_START stays buffered)
 *                              and waits to be killed
 *   NF_FAKE_SILENT             never says HELLO (a worker stuck before
 *                              it starts) and waits to be killed
 *
 * Each runs as the worker would (socketpair on fd 3, PR_SET_PDEATHSIG) so a
 * supervisor that fails to kill it does not leave it behind.  A failure of
 * the fake itself exits 3 with a message on stderr, which the daemon's
 * harness shows.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"
#include "val.h"
#if defined(NF_FAKE_SCRIPTED)
#include <sys/ptrace.h>

#include "policy.h"
#include "step.h"
#endif

static void __attribute__((noreturn))
fake_die(const char *what)
{
	fprintf(stderr, "fake worker: %s: %s\n", what, strerror(errno));
	_exit(3);
}

#if !defined(NF_FAKE_SILENT)
static void
fake_send(struct nf_val *m)
{
	if (nf_msg_send_fd(NF_WORKER_FD, m) == -1)
		fake_die("send");
	nf_val_free(m);
}
#endif

#if defined(NF_FAKE_GARBAGE) || defined(NF_FAKE_HUGE)
static void
fake_write(const void *p, size_t n)
{
	if (nf_write_all(NF_WORKER_FD, p, n) == -1)
		fake_die("write");
}
#endif

#if defined(NF_FAKE_GARBAGE) || defined(NF_FAKE_HUGE) || \
    defined(NF_FAKE_NOREAD) || defined(NF_FAKE_SILENT)

/* Block until the supervisor kills us (or dies: PDEATHSIG). */
static void __attribute__((noreturn))
fake_wait(void)
{
	for (;;)
		pause();
}
#endif

#if defined(NF_FAKE_NORESULT) || defined(NF_FAKE_CRASH_AFTER_RESULT) || \
    defined(NF_FAKE_SCRIPTED)
/*
 * Read the supervisor's HELLO and STEP_START, as a real worker does; keep
 * STEP_START when asked.
 */
static void
fake_read_start(struct nf_val **start)
{
	struct nf_msg_reader	 r;
	enum nf_msg_type	 type;
	struct nf_val		*m;
	char			 err[256];
	int			 i;

	nf_msg_reader_init(&r, NF_WORKER_FD, NF_DIR_TO_WORKER);
	for (i = 0; i < 2; i++) {
		if (nf_msg_read(&r, NF_RD_FOREVER, &type, &m, err,
		    sizeof(err)) != NF_RD_MSG) {
			fprintf(stderr, "fake worker: reading %s: %s\n",
			    i == 0 ? "hello" : "step_start", err);
			_exit(3);
		}
		if (i == 1 && start != NULL)
			*start = m;
		else
			nf_val_free(m);
	}
	nf_msg_reader_free(&r);
}
#endif

#if defined(NF_FAKE_SCRIPTED)
static void __attribute__((noreturn))
fake_signal(int sig)
{
	struct rlimit	 rl = { 0, 0 };

	/* A crash, not a core file in the daemon's directory. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(3);
}

static void
fake_result_ok(void)
{
	struct nf_val	*m;

	m = nf_msg_new(NF_MSG_STEP_RESULT);
	nf_val_map_set_bool(m, "ok", 1);
	fake_send(m);
}

static void __attribute__((noreturn))
fake_scripted(void)
{
	struct nf_val		*start = NULL, *m;
	const struct nf_val	*spec, *argv;
	const char		*mode, *arg = NULL;
	char			 line[1024];
	long			 mb, i, n;
	pid_t			 pid;

	fake_read_start(&start);
	if ((spec = nf_val_get(start, "spec")) == NULL ||
	    (argv = nf_val_get(spec, "argv")) == NULL ||
	    argv->type != NF_V_ARR || argv->u.a.n == 0 ||
	    argv->u.a.items[0]->type != NF_V_STR) {
		fprintf(stderr, "fake worker: spec.argv[0] names no mode\n");
		_exit(3);
	}
	mode = argv->u.a.items[0]->u.s.p;
	if (argv->u.a.n > 1 && argv->u.a.items[1]->type == NF_V_STR)
		arg = argv->u.a.items[1]->u.s.p;
	fake_send(nf_msg_new(NF_MSG_STEP_READY));

	if (strcmp(mode, "segv") == 0)
		fake_signal(SIGSEGV);
	if (strcmp(mode, "abort") == 0)
		fake_signal(SIGABRT);
	if (strcmp(mode, "kill") == 0)
		fake_signal(SIGKILL);
	if (strcmp(mode, "sigsys") == 0)
		fake_signal(SIGSYS);
	if (strcmp(mode, "trap") == 0) {
		struct nf_policy	*p;

		if (nf_sandbox_preload(line, sizeof(line)) == -1 ||
		    (p = nf_sandbox_load(nf_sandbox_policies_dir(), "relay",
		    line, sizeof(line))) == NULL ||
		    nf_sandbox_install(p, line, sizeof(line)) == -1) {
			fprintf(stderr, "fake worker: %s\n", line);
			_exit(3);
		}
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		_exit(4);	/* not reached: the handler dies of SIGSYS */
	}
	if (strcmp(mode, "oom") == 0) {
		struct rlimit	 rl = { 128u << 20, 128u << 20 };
		char		*p;

		if (setrlimit(RLIMIT_AS, &rl) == -1)
			fake_die("setrlimit RLIMIT_AS");
		/* Leak on purpose, touching every page, until refused. */
		while ((p = malloc(1u << 20)) != NULL)
			memset(p, 0x5a, 1u << 20);
		fake_signal(SIGABRT);
	}
	if (strcmp(mode, "flood") == 0) {
		mb = arg != NULL ? strtol(arg, NULL, 10) : 1;
		memset(line, 'x', sizeof(line) - 1);
		line[sizeof(line) - 1] = '\0';
		n = mb * 1024;
		for (i = 0; i < n; i++) {
			snprintf(line, 24, "%011ld ", i);
			line[strlen(line)] = 'x';
			m = nf_msg_new(NF_MSG_STEP_LOG);
			nf_val_map_set_str(m, "stream", "stdout");
			nf_val_map_set_str(m, "line", line);
			fake_send(m);
		}
		fake_result_ok();
		_exit(0);
	}
	if (strcmp(mode, "grandchild") == 0) {
		if ((pid = fork()) == -1)
			fake_die("fork");
		if (pid == 0) {
			/* Same process group; no PDEATHSIG after fork. */
			execl("/bin/sleep", "sleep", "61", (char *)NULL);
			_exit(127);
		}
		m = nf_msg_new(NF_MSG_STEP_LOG);
		nf_val_map_set_str(m, "stream", "worker");
		snprintf(line, sizeof(line), "grandchild %d left behind",
		    (int)pid);
		nf_val_map_set_str(m, "line", line);
		fake_send(m);
		fake_result_ok();
		_exit(0);
	}
	if (strcmp(mode, "escape") == 0 && arg != NULL) {
		int	go[2];
		char	c;

		/* EOF on go once the child has left the group and exec'd. */
		if (pipe2(go, O_CLOEXEC) == -1)
			fake_die("pipe2");
		if ((pid = fork()) == -1)
			fake_die("fork");
		if (pid == 0) {
			/* No sweep, and out of the group the daemon kills. */
			close(go[0]);
			(void)setsid();
			execl("/bin/sleep", "/bin/sleep", arg, (char *)NULL);
			_exit(127);
		}
		close(go[1]);
		while (read(go[0], &c, 1) == -1 && errno == EINTR)
			;
		close(go[0]);
		m = nf_msg_new(NF_MSG_STEP_LOG);
		nf_val_map_set_str(m, "stream", "worker");
		snprintf(line, sizeof(line), "escaped %d", (int)pid);
		nf_val_map_set_str(m, "line", line);
		fake_send(m);
		fake_result_ok();
		_exit(0);
	}
	fprintf(stderr, "fake worker: unknown mode %s\n", mode);
	_exit(3);
}
#endif

int
main(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fake_die("prctl");
#if defined(NF_FAKE_SILENT)
	/* Stuck before its hello: only the supervisor's timers end it. */
	fake_wait();
#else
	fake_send(nf_msg_hello(NF_PROTO_WORKER));
#endif

#if defined(NF_FAKE_GARBAGE)
	{
		uint8_t		frame[4 + 64];
		uint32_t	x = 0x2545f491;	/* fixed: runs repeat */
		size_t		i;

		frame[0] = frame[1] = frame[2] = 0;
		frame[3] = 64;
		/* 0xc1 is the one byte msgpack never uses: never decodes. */
		frame[4] = 0xc1;
		for (i = 5; i < sizeof(frame); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			frame[i] = (uint8_t)x;
		}
		fake_write(frame, sizeof(frame));
		fake_wait();
	}
#elif defined(NF_FAKE_HUGE)
	{
		static const uint8_t	hdr[4] = { 0xff, 0xff, 0xff, 0xf0 };

		fake_write(hdr, sizeof(hdr));
		fake_wait();
	}
#elif defined(NF_FAKE_NORESULT)
	{
		struct nf_val	*m;

		fake_read_start(NULL);
		fake_send(nf_msg_new(NF_MSG_STEP_READY));
		m = nf_msg_new(NF_MSG_STEP_LOG);
		nf_val_map_set_str(m, "stream", "worker");
		nf_val_map_set_str(m, "line",
		    "fake-noresult: exiting without a result");
		nf_val_map_set_str(m, "level", "info");
		fake_send(m);
		_exit(0);
	}
#elif defined(NF_FAKE_CRASH_AFTER_RESULT)
	{
		struct rlimit	 rl = { 0, 0 };
		struct nf_val	*m;

		fake_read_start(NULL);
		fake_send(nf_msg_new(NF_MSG_STEP_READY));
		m = nf_msg_new(NF_MSG_STEP_RESULT);
		nf_val_map_set_bool(m, "ok", 1);
		fake_send(m);
		/* A crash, not a core file in the daemon's directory. */
		(void)setrlimit(RLIMIT_CORE, &rl);
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		_exit(3);
	}
#elif defined(NF_FAKE_SCRIPTED)
	fake_scripted();
#elif defined(NF_FAKE_SILENT)
	/* Never reached: fake_wait() does not return. */
#elif defined(NF_FAKE_NOREAD)
	/* Never read: the supervisor's STEP_START stays in its buffers. */
	fake_wait();
#else
#error "define one NF_FAKE_* mode"
#endif
}
