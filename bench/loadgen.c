/*
 * loadgen.c: benchmark client of the nomaflowd control socket.  Runs as its
 * own short-lived process (bench/run.sh starts it); it is never installed.
 *
 * Load mode keeps a window of W manual runs in flight over a pool of
 * control connections.  Each in-flight run owns a slot; a slot sends
 * "run" {job, force:true}, and once the answer names the run it sends
 * "logs" {run_id, follow:true} on the same connection and waits for the
 * stream's "end" event.  The latency of one run is the time from writing
 * its "run" request to reading its "end" event, so it covers the trigger,
 * the store, the worker spawn, the step and the final commit.  A slot whose
 * run ended starts the next one at once, so the daemon always sees W runs.
 *
 * Baseline mode (--spawn-baseline N) spawns /bin/true N times with
 * posix_spawn + waitpid, optionally W at a time, and prints the same keys,
 * so the two lines can be put side by side in one run on the same machine.
 *
 * Invariants: a request id names exactly one slot (ids are never reused);
 * "runs" counts the runs that ended succeeded and "failed" every other
 * (refused, or ended in another state), so runs_per_s is successful runs
 * only; a run that never ends makes the program stop with an error after
 * the stall timeout, never hang.
 */
#include "autoconf.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "util.h"
#include "val.h"

extern char **environ;

#define DEFAULT_SOCKET	"nomaflow.sock"
#define MAX_WINDOW	200	/* the daemon accepts 256 clients at most */
#define STALL_MS	30000	/* no event for this long: the daemon is stuck */

enum slot_state {
	SLOT_IDLE = 0,
	SLOT_WAIT_RUN,		/* "run" sent, waiting for its resp */
	SLOT_WAIT_LOGS,		/* "logs" sent, waiting for its resp */
	SLOT_WAIT_END,		/* following, waiting for "end" */
};

struct slot {
	enum slot_state	 state;
	int		 conn;
	int64_t		 req_id;	/* id of the request we wait on */
	int64_t		 run_id;
	int64_t		 t0_us;		/* when "run" was written */
};

struct conn {
	int			 fd;
	struct nf_msg_reader	 rd;
};

struct load {
	const char	*job;
	long		 total;		/* runs to start */
	long		 started;
	long		 done;		/* ended or failed */
	long		 failed;
	long		 errors_shown;
	int64_t		 next_id;
	struct slot	*slots;
	int		 nslots;
	struct conn	*conns;
	int		 nconns;
	double		*lat_ms;	/* one per finished run */
	long		 nlat;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen [-s socket] [-n runs] [-w window] [-c conns] "
	    "[-j job] [-L file]\n"
	    "       loadgen --spawn-baseline N [-w window]\n"
	    "  -s socket  control socket of nomaflowd (default %s)\n"
	    "  -n runs    total runs to trigger (default 2000)\n"
	    "  -L file    append each run's latency in ms to file, one a "
	    "line\n"
	    "  -w window  runs (or spawns) in flight at once (default 8; "
	    "baseline: 1)\n"
	    "  -c conns   control connections shared by the window "
	    "(default: one per slot)\n"
	    "  -j job     job to run (default \"bench\"); runs are forced\n"
	    "Prints one line: runs= seconds= runs_per_s= p50_ms= p99_ms= "
	    "max_ms= failed=\n(baseline also cpu_ms_per_run=: user+system "
	    "CPU of the children)\n", DEFAULT_SOCKET);
	exit(NF_EXIT_USAGE);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double
percentile(const double *v, long n, double p)
{
	long	rank;

	if (n == 0)
		return 0;
	rank = (long)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/*
 * cpu_ms < 0: not known here (load mode: the CPU is spent in nomaflowd and
 * its workers, which run.sh reads from /proc).
 */
static void
report(long runs, double seconds, double *lat, long nlat, long failed,
    double cpu_ms)
{
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp_double);
	printf("runs=%ld seconds=%.3f runs_per_s=%.1f p50_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f failed=%ld", runs, seconds,
	    seconds > 0 ? (double)runs / seconds : 0.0,
	    percentile(lat, nlat, 50), percentile(lat, nlat, 99),
	    nlat > 0 ? lat[nlat - 1] : 0.0, failed);
	if (cpu_ms >= 0)
		printf(" cpu_ms_per_run=%.3f", runs > 0 ? cpu_ms /
		    (double)runs : 0.0);
	printf("\n");
	if (fflush(stdout) == EOF)
		nf_fatal("stdout");
}

static double
tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1000.0 + (double)tv->tv_usec / 1000.0;
}

/*
 * Baseline: what it costs to start and reap /bin/true with nothing in
 * between, W children at a time (W = 1: a plain loop).
 */
static int
spawn_baseline(long n, int window)
{
	char		*argv[] = { "true", NULL };
	struct rusage	 ru;
	int64_t		*t0;
	pid_t		*pids, pid;
	double		*lat;
	long		 started = 0, done = 0, failed = 0;
	int64_t		 begin, end;
	int		 status, i, running = 0, rc;

	pids = nf_xcalloc((size_t)window, sizeof(*pids));
	t0 = nf_xcalloc((size_t)window, sizeof(*t0));
	lat = nf_xcalloc((size_t)n, sizeof(*lat));
	begin = nf_mono_us();
	while (done < n) {
		for (i = 0; i < window && started < n; i++) {
			if (pids[i] != 0)
				continue;
			t0[i] = nf_mono_us();
			rc = posix_spawn(&pids[i], "/bin/true", NULL, NULL,
			    argv, environ);
			if (rc != 0) {
				errno = rc;
				nf_fatal("posix_spawn /bin/true");
			}
			started++;
			running++;
		}
		if ((pid = waitpid(-1, &status, 0)) == -1) {
			if (errno == EINTR)
				continue;
			nf_fatal("waitpid");
		}
		for (i = 0; i < window; i++)
			if (pids[i] == pid)
				break;
		if (i == window)
			nf_fatalx("waitpid returned pid %d that we did not "
			    "spawn", (int)pid);
		lat[done++] = (double)(nf_mono_us() - t0[i]) / 1000.0;
		pids[i] = 0;
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	end = nf_mono_us();
	/* Only the children: the loop itself is not part of a spawn. */
	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		nf_fatal("getrusage");
	report(n - failed, (double)(end - begin) / 1e6, lat, done, failed,
	    tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime));
	free(pids);
	free(t0);
	free(lat);
	return failed == 0 ? 0 : 1;
}

/* Connect and exchange HELLO (blocking), then switch to non-blocking. */
static void
conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un	 sun;
	struct nf_val		*m;
	enum nf_msg_type	 type;
	char			 err[256];
	int			 rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		nf_fatalx("%s: socket path too long (at most %zu bytes)",
		    path, sizeof(sun.sun_path) - 1);
	strcpy(sun.sun_path, path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		nf_fatal("socket");
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		nf_fatal("%s: cannot connect; is nomaflowd running with this "
		    "control socket?", path);
	nf_msg_reader_init(&c->rd, c->fd, NF_DIR_CTL_RESPONSE);
	m = nf_msg_hello(NF_PROTO_CONTROL);
	if (nf_msg_send_fd(c->fd, m) == -1)
		nf_fatal("%s: sending hello", path);
	nf_val_free(m);
	rc = nf_msg_read(&c->rd, NF_RD_FOREVER, &type, &m, err, sizeof(err));
	if (rc == NF_RD_EOF)
		nf_fatalx("%s: daemon closed the connection during hello",
		    path);
	if (rc != NF_RD_MSG)
		nf_fatalx("%s: hello: %s", path, err);
	if (type != NF_MSG_HELLO || nf_msg_hello_check(m, NF_PROTO_CONTROL,
	    err, sizeof(err)) == -1)
		nf_fatalx("%s: bad hello from the daemon: %s", path,
		    type != NF_MSG_HELLO ? nf_msg_type_name(type) : err);
	nf_val_free(m);
	if (nf_set_nonblock(c->fd) == -1)
		nf_fatal("%s: O_NONBLOCK", path);
}

static void
send_req(struct load *l, struct slot *s, const char *cmd,
    struct nf_val *args)
{
	struct nf_val	*m;

	s->req_id = ++l->next_id;
	m = nf_msg_new(NF_MSG_CTL_REQ);
	nf_val_map_set_int(m, "id", s->req_id);
	nf_val_map_set_str(m, "cmd", cmd);
	nf_val_map_set(m, "args", args);
	if (nf_msg_send_fd(l->conns[s->conn].fd, m) == -1)
		nf_fatal("sending \"%s\" to the daemon", cmd);
	nf_val_free(m);
}

static void
slot_start(struct load *l, struct slot *s)
{
	struct nf_val	*args;

	if (l->started >= l->total) {
		s->state = SLOT_IDLE;
		return;
	}
	l->started++;
	args = nf_val_map();
	nf_val_map_set_str(args, "job", l->job);
	nf_val_map_set_bool(args, "force", 1);
	s->t0_us = nf_mono_us();
	s->run_id = 0;
	s->state = SLOT_WAIT_RUN;
	send_req(l, s, "run", args);
}

static void
slot_fail(struct load *l, struct slot *s, const char *what, const char *err)
{
	l->failed++;
	l->done++;
	/* Show the first few causes: one is a bug report, 2000 are noise. */
	if (l->errors_shown < 5) {
		l->errors_shown++;
		if (err == NULL)
			err = "no error text";
		if (s->run_id == 0)
			fprintf(stderr, "loadgen: job %s: %s refused: %s\n",
			    l->job, what, err);
		else
			fprintf(stderr, "loadgen: run %lld: %s: %s\n",
			    (long long)s->run_id, what, err);
	}
	slot_start(l, s);
}

static struct slot *
slot_by_req(struct load *l, int64_t id)
{
	int	i;

	for (i = 0; i < l->nslots; i++)
		if (l->slots[i].state != SLOT_IDLE &&
		    l->slots[i].req_id == id)
			return &l->slots[i];
	return NULL;
}

/* One message from the daemon; returns -1 on a protocol surprise. */
static int
handle_msg(struct load *l, enum nf_msg_type type, const struct nf_val *m)
{
	struct slot		*s;
	struct nf_val		*args;
	const struct nf_val	*data;
	const char		*kind, *state;
	int64_t			 id, run_id;
	int			 ok;

	if (!nf_val_get_int(m, "id", &id))
		return -1;
	if (id == 0 && type == NF_MSG_CTL_RESP) {
		fprintf(stderr, "loadgen: the daemon refused the connection: "
		    "%s\n", nf_val_get_str(m, "error"));
		return -1;
	}
	if ((s = slot_by_req(l, id)) == NULL) {
		fprintf(stderr, "loadgen: message for unknown request %lld\n",
		    (long long)id);
		return -1;
	}
	if (type == NF_MSG_CTL_RESP) {
		nf_val_get_bool(m, "ok", &ok);
		if (!ok) {
			slot_fail(l, s, s->state == SLOT_WAIT_RUN ? "run" :
			    "logs", nf_val_get_str(m, "error"));
			return 0;
		}
		if (s->state == SLOT_WAIT_RUN) {
			data = nf_val_get(m, "data");
			if (data == NULL || !nf_val_get_int(data, "run_id",
			    &run_id)) {
				fprintf(stderr, "loadgen: \"run\" answer "
				    "without data.run_id\n");
				return -1;
			}
			s->run_id = run_id;
			args = nf_val_map();
			nf_val_map_set_int(args, "run_id", run_id);
			nf_val_map_set_bool(args, "follow", 1);
			s->state = SLOT_WAIT_LOGS;
			send_req(l, s, "logs", args);
		} else if (s->state == SLOT_WAIT_LOGS)
			s->state = SLOT_WAIT_END;
		else {
			fprintf(stderr, "loadgen: second answer to request "
			    "%lld\n", (long long)id);
			return -1;
		}
		return 0;
	}
	if (type != NF_MSG_CTL_EVENT)
		return -1;
	if (s->state != SLOT_WAIT_END) {
		fprintf(stderr, "loadgen: event before the answer to "
		    "request %lld\n", (long long)id);
		return -1;
	}
	kind = nf_val_get_str(m, "kind");
	if (kind == NULL || strcmp(kind, "end") != 0)
		return 0;	/* log lines and state changes */
	data = nf_val_get(m, "data");
	state = data != NULL ? nf_val_get_str(data, "state") : NULL;
	if (state == NULL || strcmp(state, "succeeded") != 0) {
		slot_fail(l, s, "ended", state != NULL ? state :
		    "end event without a state");
		return 0;
	}
	l->lat_ms[l->nlat++] = (double)(nf_mono_us() - s->t0_us) / 1000.0;
	l->done++;
	slot_start(l, s);
	return 0;
}

static int
conn_read(struct load *l, struct conn *c)
{
	enum nf_msg_type	 type;
	struct nf_val		*m;
	char			 err[256];
	int			 rc;

	for (;;) {
		switch (nf_msg_read(&c->rd, NF_RD_NOWAIT, &type, &m, err,
		    sizeof(err))) {
		case NF_RD_MSG:
			break;
		case NF_RD_AGAIN:
			return 0;
		case NF_RD_IOERR:
			nf_warn("reading from the daemon");
			return -1;
		case NF_RD_EOF:
		case NF_RD_TRUNC:
			fprintf(stderr, "loadgen: the daemon closed a control "
			    "connection\n");
			return -1;
		case NF_RD_BAD:
			fprintf(stderr, "loadgen: bad frame from the daemon: "
			    "%s\n", err);
			return -1;
		case NF_RD_TOOBIG:
			fprintf(stderr, "loadgen: %s\n", err);
			return -1;
		}
		rc = handle_msg(l, type, m);
		nf_val_free(m);
		if (rc == -1)
			return -1;
	}
}

static int
load(const char *path, const char *job, long total, int window, int nconns,
    const char *latfile)
{
	FILE		*lf;
	long		 k;
	struct load	 l;
	struct pollfd	*pfd;
	int64_t		 begin, end, last;
	int		 i, n, rc = 0;

	memset(&l, 0, sizeof(l));
	l.job = job;
	l.total = total;
	l.nslots = window;
	l.nconns = nconns;
	l.slots = nf_xcalloc((size_t)window, sizeof(*l.slots));
	l.conns = nf_xcalloc((size_t)nconns, sizeof(*l.conns));
	l.lat_ms = nf_xcalloc((size_t)total, sizeof(*l.lat_ms));
	pfd = nf_xcalloc((size_t)nconns, sizeof(*pfd));
	for (i = 0; i < nconns; i++) {
		conn_open(&l.conns[i], path);
		pfd[i].fd = l.conns[i].fd;
		pfd[i].events = POLLIN;
	}
	begin = last = nf_mono_us();
	for (i = 0; i < window; i++) {
		l.slots[i].conn = i % nconns;
		slot_start(&l, &l.slots[i]);
	}
	while (l.done < l.total) {
		n = poll(pfd, (nfds_t)nconns, 1000);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			nf_fatal("poll");
		}
		if (n == 0) {
			if (nf_mono_us() - last > (int64_t)STALL_MS * 1000) {
				fprintf(stderr, "loadgen: stalled: no answer "
				    "from the daemon for %d s with %ld of %ld "
				    "runs done; runs in flight:",
				    STALL_MS / 1000, l.done, l.total);
				for (i = 0; i < window; i++)
					if (l.slots[i].state != SLOT_IDLE)
						fprintf(stderr, " %lld",
						    (long long)
						    l.slots[i].run_id);
				fprintf(stderr, "\n");
				rc = 1;
				break;
			}
			continue;
		}
		last = nf_mono_us();
		for (i = 0; i < nconns; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (conn_read(&l, &l.conns[i]) == -1) {
				rc = 1;
				goto out;
			}
		}
	}
out:
	end = nf_mono_us();
	if (rc == 0 && latfile != NULL) {
		/* Before report(), which sorts them. */
		if ((lf = fopen(latfile, "a")) == NULL)
			nf_fatal("%s", latfile);
		for (k = 0; k < l.nlat; k++)
			fprintf(lf, "%.3f\n", l.lat_ms[k]);
		if (fclose(lf) == EOF)
			nf_fatal("%s", latfile);
	}
	if (rc == 0)
		report(l.nlat, (double)(end - begin) / 1e6, l.lat_ms, l.nlat,
		    l.failed, -1);
	for (i = 0; i < nconns; i++) {
		close(l.conns[i].fd);
		nf_msg_reader_free(&l.conns[i].rd);
	}
	free(pfd);
	free(l.slots);
	free(l.conns);
	free(l.lat_ms);
	if (rc == 0 && l.failed > 0)
		rc = 1;
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "spawn-baseline", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*path = DEFAULT_SOCKET, *job = "bench", *latfile = NULL;
	long long	 v;
	long		 total = 2000, baseline = 0;
	int		 window = -1, nconns = 0, ch;

	nf_log_init("loadgen", 0);
	while ((ch = getopt_long(argc, argv, "c:j:L:n:s:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'B':
			if (nf_parse_int(optarg, 1, 100000000, &v) == -1)
				usage();
			baseline = (long)v;
			break;
		case 'c':
			if (nf_parse_int(optarg, 1, MAX_WINDOW, &v) == -1)
				usage();
			nconns = (int)v;
			break;
		case 'j':
			if (!nf_valid_ident(optarg))
				usage();
			job = optarg;
			break;
		case 'L':
			latfile = optarg;
			break;
		case 'n':
			if (nf_parse_int(optarg, 1, 100000000, &v) == -1)
				usage();
			total = (long)v;
			break;
		case 's':
			path = optarg;
			break;
		case 'w':
			if (nf_parse_int(optarg, 1, MAX_WINDOW, &v) == -1)
				usage();
			window = (int)v;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* A vanished daemon must be an error message, not a silent death. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		nf_fatal("signal");
	if (baseline > 0)
		return spawn_baseline(baseline, window > 0 ? window : 1);
	if (window < 1)
		window = 8;
	if (window > total)
		window = (int)total;
	if (nconns < 1 || nconns > window)
		nconns = window;
	return load(path, job, total, window, nconns, latfile);
}
