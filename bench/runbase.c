/*
 * runbase.c: the run baseline of bench/contain.sh.  Runs as its own
 * short-lived process, never installed.
 *
 * Per run it does the process and store work of a one-step exec run
 * without nomaflowd: spawn the static sandboxed stub (runbase-stub), which
 * reads the compiled "exec" policy from fd 3, installs it with a listener,
 * hands the listener back over a socketpair and execs /bin/true; wait for
 * it; receive and close the listener; write one row into a SQLite database
 * in WAL mode with synchronous = NORMAL (the store's settings), one
 * transaction per row.  The policy is compiled once from the policies
 * directory, as nomaflowd compiles it once per configuration.  W runs are
 * kept in flight.  It prints the key=value line of bench/loadgen, so the
 * two can be put side by side.
 *
 * Invariants: a run counts only if the stub exited 0 and its row was
 * written; latency is from the spawn to the row's commit.
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "policy.h"
#include "util.h"

extern char **environ;

#define MAX_WINDOW	200

struct slot {
	pid_t	pid;
	int	sock;		/* our end of the listener socketpair */
	int64_t	t0_us;
};

static void
usage(void)
{
	fprintf(stderr, "usage: runbase -p policies_dir -s stub -d db "
	    "[-n runs] [-w window] [-P policy]\n");
	exit(2);
}

static void
sql(sqlite3 *db, const char *q)
{
	char	*err = NULL;

	if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "runbase: %s: %s\n", q, err);
		exit(1);
	}
}

static int
cmp_dbl(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The receiving end of the stub's listener: take it and close it. */
static void
take_listener(int s)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	}		 u;
	char		 c;
	int		 fd;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	if (recvmsg(s, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
		return;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS) {
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			close(fd);
		}
}

static void
slot_start(struct slot *sl, const char *stub, int polfd)
{
	posix_spawn_file_actions_t	 fa;
	char				*argv[3];
	int				 sv[2], e;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == -1)
		nf_fatal("socketpair");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, polfd, 3);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 4);
	argv[0] = (char *)"runbase-stub";
	argv[1] = (char *)"/bin/true";
	argv[2] = NULL;
	sl->t0_us = nf_mono_us();
	if ((e = posix_spawn(&sl->pid, stub, &fa, NULL, argv, environ)) != 0) {
		errno = e;
		nf_fatal("posix_spawn %s", stub);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	sl->sock = sv[0];
}

int
main(int argc, char *argv[])
{
	struct nf_errs	 errs;
	struct nf_policy *pol;
	struct rusage	 ru;
	struct slot	*slots;
	sqlite3		*db;
	sqlite3_stmt	*ins;
	const char	*dir = NULL, *stub = NULL, *dbpath = NULL;
	const char	*polname = "exec";
	const void	*prog;
	double		*lat, secs, cpu;
	size_t		 plen;
	int64_t		 begin, now;
	long		 total = 1000, started = 0, done = 0, failed = 0, nlat = 0;
	int		 window = 1, ch, polfd, i, st;
	pid_t		 pid;

	while ((ch = getopt(argc, argv, "d:n:p:P:s:w:")) != -1) {
		switch (ch) {
		case 'd':
			dbpath = optarg;
			break;
		case 'n':
			total = atol(optarg);
			break;
		case 'p':
			dir = optarg;
			break;
		case 'P':
			polname = optarg;
			break;
		case 's':
			stub = optarg;
			break;
		case 'w':
			window = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (dir == NULL || stub == NULL || dbpath == NULL || total < 1 ||
	    window < 1 || window > MAX_WINDOW)
		usage();
	if (window > total)
		window = (int)total;

	/* Compiled once, kept in a memfd every stub reads (as nomaflowd). */
	nf_errs_init(&errs);
	if ((pol = nf_policy_load(dir, polname, &errs)) == NULL) {
		nf_errs_print(&errs, stderr);
		return 1;
	}
	if (nf_policy_export(pol, &prog, &plen) == -1)
		nf_fatal("policy %s: export", polname);
	if ((polfd = memfd_create("runbase-policy", MFD_CLOEXEC)) == -1 ||
	    write(polfd, prog, plen) != (ssize_t)plen)
		nf_fatal("memfd");

	if (sqlite3_open(dbpath, &db) != SQLITE_OK) {
		fprintf(stderr, "runbase: %s: %s\n", dbpath,
		    sqlite3_errmsg(db));
		return 1;
	}
	sql(db, "PRAGMA journal_mode = WAL");
	sql(db, "PRAGMA synchronous = NORMAL");
	sql(db, "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, "
	    "job TEXT NOT NULL, state TEXT NOT NULL, started_at INTEGER, "
	    "ended_at INTEGER, exit_code INTEGER)");
	if (sqlite3_prepare_v2(db, "INSERT INTO runs (job, state, started_at, "
	    "ended_at, exit_code) VALUES ('bench', ?, ?, ?, ?)", -1, &ins,
	    NULL) != SQLITE_OK)
		nf_fatal("prepare: %s", sqlite3_errmsg(db));

	slots = nf_xcalloc((size_t)window, sizeof(*slots));
	lat = nf_xcalloc((size_t)total, sizeof(*lat));
	begin = nf_mono_us();
	for (i = 0; i < window; i++, started++)
		slot_start(&slots[i], stub, polfd);
	while (done < total) {
		if ((pid = waitpid(-1, &st, 0)) == -1) {
			if (errno == EINTR)
				continue;
			nf_fatal("waitpid");
		}
		for (i = 0; i < window; i++)
			if (slots[i].pid == pid)
				break;
		if (i == window)
			continue;
		take_listener(slots[i].sock);
		close(slots[i].sock);
		slots[i].pid = 0;
		sqlite3_bind_text(ins, 1, WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0 ? "succeeded" : "failed", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, slots[i].t0_us / 1000);
		sqlite3_bind_int64(ins, 3, nf_now_ms());
		sqlite3_bind_int(ins, 4, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		if (sqlite3_step(ins) != SQLITE_DONE)
			nf_fatal("insert: %s", sqlite3_errmsg(db));
		sqlite3_reset(ins);
		now = nf_mono_us();
		done++;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			lat[nlat++] = (double)(now - slots[i].t0_us) / 1000.0;
		else
			failed++;
		if (started < total) {
			slot_start(&slots[i], stub, polfd);
			started++;
		}
	}
	secs = (double)(nf_mono_us() - begin) / 1e6;
	getrusage(RUSAGE_CHILDREN, &ru);
	cpu = (double)ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
	getrusage(RUSAGE_SELF, &ru);
	cpu += (double)ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_dbl);
	printf("runs=%ld seconds=%.3f runs_per_s=%.1f p50_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f failed=%ld cpu_ms_per_run=%.3f\n",
	    nlat, secs, nlat / secs, nlat ? lat[(nlat - 1) / 2] : 0.0,
	    nlat ? lat[(size_t)((nlat - 1) * 0.99)] : 0.0,
	    nlat ? lat[nlat - 1] : 0.0, failed, cpu / (double)total);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	close(polfd);
	nf_policy_free(pol);
	nf_errs_free(&errs);
	free(slots);
	free(lat);
	return failed > 0;
}
