/*
 * conn.c: nfctl's connection to nomaflowd.  Runs in nfctl only.
 *
 * Owns the one connection to the control socket: connect, the HELLO
 * exchange, one request and its response at a time, and the event stream
 * of a followed run.  Messages are read with the protocol's one reader
 * (nf_msg_read, common/frame.c), blocking, with a timeout except on follow
 * streams.
 *
 * Invariants:
 *  - One request is outstanding at a time; request ids increase from 1 and
 *    a response or event for another id is a protocol error.
 *  - Every failure is reported here ("nfctl: ...") and returned as an
 *    enum nf_exit code: 69 when the daemon cannot be reached or broke the
 *    protocol, else the code the daemon answered with.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "proto.h"
#include "util.h"
#include "val.h"

static int
conn_exit_code(int code)
{
	switch (code) {
	case NF_EXIT_FAILED:
	case NF_EXIT_NOTFOUND:
	case NF_EXIT_CONFLICT:
	case NF_EXIT_USAGE:
	case NF_EXIT_UNREACHABLE:
	case NF_EXIT_PERM:
		return code;
	default:
		return NF_EXIT_FAILED;
	}
}

/*
 * Receive one message from the daemon.  timeout_ms < 0 waits forever.
 * Returns 0 with the message in *type and *msg, or an exit code after a
 * message.
 */
static int
conn_recv(struct conn *c, int timeout_ms, enum nf_msg_type *type,
    struct nf_val **msg)
{
	char	err[256];

	switch (nf_msg_read(&c->rd, timeout_ms < 0 ? NF_RD_FOREVER :
	    timeout_ms > 0 ? timeout_ms : 1, type, msg, err, sizeof(err))) {
	case NF_RD_MSG:
		return 0;
	case NF_RD_TOOBIG:
		errmsg("bad frame from nomaflowd on %s: %s", c->path, err);
		return NF_EXIT_UNREACHABLE;
	case NF_RD_BAD:
		errmsg("bad message from nomaflowd on %s: %s (is nfctl from "
		    "the same release as the daemon?)", c->path, err);
		return NF_EXIT_UNREACHABLE;
	case NF_RD_AGAIN:
		errmsg("nomaflowd on %s did not answer within %ds (is it "
		    "hung? see its log)", c->path, NFCTL_TIMEOUT_MS / 1000);
		return NF_EXIT_UNREACHABLE;
	case NF_RD_EOF:
	case NF_RD_TRUNC:
		errmsg("nomaflowd closed the connection on %s (did it stop or "
		    "restart? see its log)", c->path);
		return NF_EXIT_UNREACHABLE;
	case NF_RD_IOERR:
		break;
	}
	errmsg("read from %s: %s (did nomaflowd stop?)", c->path,
	    strerror(errno));
	return NF_EXIT_UNREACHABLE;
}

static int
conn_send(struct conn *c, const struct nf_val *msg)
{
	if (nf_msg_send_fd(c->fd, msg) == -1) {
		errmsg("write to %s: %s (did nomaflowd stop?)", c->path,
		    strerror(errno));
		return NF_EXIT_UNREACHABLE;
	}
	return 0;
}

/* connect(2) interrupted by a signal completes asynchronously: wait. */
static int
connect_wait(int fd)
{
	struct pollfd	pfd;
	socklen_t	len;
	int		err, r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, NFCTL_TIMEOUT_MS);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		break;
	}
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

void
conn_init(struct conn *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->path = path;
	c->next_id = 1;
	nf_msg_reader_init(&c->rd, -1, NF_DIR_CTL_RESPONSE);
}

/* Connect and exchange HELLO.  0, or an exit code after a message. */
static int
conn_open(struct conn *c)
{
	const char		*path = c->path;
	struct sockaddr_un	 sun;
	struct nf_val		*hello, *msg;
	enum nf_msg_type	 type;
	char			 err[256], *emsg;
	int64_t			 code;
	int			 rc, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errmsg("socket path %s is too long (at most %zu bytes)", path,
		    sizeof(sun.sun_path) - 1);
		return NF_EXIT_USAGE;
	}
	memcpy(sun.sun_path, path, strlen(path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		errmsg("socket: %s", strerror(errno));
		return NF_EXIT_FAILED;
	}
	nf_msg_reader_init(&c->rd, c->fd, NF_DIR_CTL_RESPONSE);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    (errno != EINTR || connect_wait(c->fd) == -1)) {
		saved = errno;
		if (saved == EACCES || saved == EPERM) {
			errmsg("cannot connect to %s: %s (ask the "
			    "administrator for access to the control socket, "
			    "or run nfctl as its owner)", path,
			    strerror(saved));
			return NF_EXIT_PERM;
		}
		errmsg("cannot connect to %s: %s (is nomaflowd running? use "
		    "-s PATH or %s)", path, strerror(saved), NFCTL_SOCKET_ENV);
		return NF_EXIT_UNREACHABLE;
	}

	/*
	 * A daemon that refuses the connection answers and closes at once,
	 * maybe before our hello arrives (EPIPE): its answer is still there
	 * to read.
	 */
	hello = nf_msg_hello(NF_PROTO_CONTROL);
	rc = nf_msg_send_fd(c->fd, hello);
	saved = errno;
	nf_val_free(hello);
	if (rc == -1 && saved != EPIPE && saved != ECONNRESET) {
		errmsg("write to %s: %s (did nomaflowd stop?)", c->path,
		    strerror(saved));
		return NF_EXIT_UNREACHABLE;
	}
	if ((rc = conn_recv(c, NFCTL_TIMEOUT_MS, &type, &msg)) != 0)
		return rc;
	/*
	 * The daemon refuses a connection (not allowed, too many clients)
	 * with an error response instead of its hello: say why, exit with
	 * its code.
	 */
	if (type == NF_MSG_CTL_RESP && vint(msg, "code", &code) &&
	    vstr(msg, "error", NULL) != NULL) {
		emsg = text_clean(vstr(msg, "error", ""), CLEAN_ONELINE);
		errmsg("%s", emsg);
		free(emsg);
		nf_val_free(msg);
		return conn_exit_code((int)code);
	}
	if (type != NF_MSG_HELLO) {
		errmsg("nomaflowd on %s answered \"%s\" before its hello: not "
		    "a control socket of a compatible nomaflowd", path,
		    nf_msg_type_name(type));
		nf_val_free(msg);
		return NF_EXIT_UNREACHABLE;
	}
	if (nf_msg_hello_check(msg, NF_PROTO_CONTROL, err, sizeof(err)) ==
	    -1) {
		errmsg("%s: %s", path, err);
		nf_val_free(msg);
		return NF_EXIT_UNREACHABLE;
	}
	nf_val_free(msg);
	return 0;
}

void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	nf_msg_reader_free(&c->rd);
}

/*
 * Send {t:"req", id, cmd, args} (args owned, may be NULL) and wait for its
 * response.  Returns 0 with *data (detached, may be NULL) and *id, or an
 * exit code after printing "nfctl: <error>".
 */
int
request(struct ctx *x, const char *cmd, struct nf_val *args,
    struct nf_val **data, int64_t *idp)
{
	struct nf_val		*req, *msg;
	enum nf_msg_type	 type;
	const char		*error;
	int64_t			 id, rid, code;
	int			 ok, rc;

	*data = NULL;
	/*
	 * Connect on the first request, so that a usage error is reported
	 * the same whether the daemon runs or not.
	 */
	if (x->c->fd == -1 && (rc = conn_open(x->c)) != 0) {
		nf_val_free(args);
		return rc;
	}
	id = x->c->next_id++;
	req = nf_val_map();
	nf_val_map_set_str(req, "t", "req");
	nf_val_map_set_int(req, "id", id);
	nf_val_map_set_str(req, "cmd", cmd);
	nf_val_map_set(req, "args", args != NULL ? args : nf_val_map());
	rc = conn_send(x->c, req);
	nf_val_free(req);
	if (rc != 0)
		return rc;

	if ((rc = conn_recv(x->c, NFCTL_TIMEOUT_MS, &type, &msg)) != 0)
		return rc;
	if (type != NF_MSG_CTL_RESP || !vint(msg, "id", &rid) || rid != id) {
		errmsg("nomaflowd sent %s for request %" PRId64 " where its "
		    "response was due (protocol error)",
		    nf_msg_type_name(type), id);
		nf_val_free(msg);
		return NF_EXIT_UNREACHABLE;
	}
	if (!nf_val_get_bool(msg, "ok", &ok))
		ok = 0;
	if (!ok) {
		error = vstr(msg, "error", NULL);
		if (!vint(msg, "code", &code))
			code = NF_EXIT_FAILED;
		if (error != NULL) {
			char *e = text_clean(error, CLEAN_ONELINE);

			/* The one refusal an operator can override. */
			if (code == NF_EXIT_CONFLICT &&
			    strcmp(cmd, "run") == 0 &&
			    strstr(e, "--force") == NULL)
				errmsg("%s; add --force to start another run "
				    "anyway", e);
			else
				errmsg("%s", e);
			free(e);
		} else
			errmsg("%s failed (nomaflowd gave no reason; see its "
			    "log)", cmd);
		nf_val_free(msg);
		return conn_exit_code((int)code);
	}
	*data = nf_val_map_take(msg, "data");
	if (*data != NULL && (*data)->type == NF_V_NIL) {
		nf_val_free(*data);
		*data = NULL;
	}
	nf_val_free(msg);
	if (idp != NULL)
		*idp = id;
	return 0;
}

/* Data of the wanted type, or a protocol error. */
int
expect(const struct nf_val *data, enum nf_val_type t, const char *cmd)
{
	if (data == NULL || data->type != t) {
		errmsg("nomaflowd answered %s with %s where %s was expected "
		    "(protocol error; is nfctl from the same release?)", cmd,
		    data == NULL ? "nothing" : nf_val_type_name(data->type),
		    nf_val_type_name(t));
		return NF_EXIT_UNREACHABLE;
	}
	return 0;
}

/* Exit code of a finished run. */
static int
state_exit(const char *state)
{
	return state != NULL && strcmp(state, "succeeded") == 0 ?
	    NF_EXIT_OK : NF_EXIT_FAILED;
}

/*
 * Follow the log of run_id on the open connection until its "end" event.
 * Returns the run's exit code (succeeded 0, else 1) or a connection error.
 */
int
follow(struct ctx *x, int64_t run_id)
{
	struct nf_val		*args, *d, *msg, *ev;
	const struct nf_val	*data;
	enum nf_msg_type	 type;
	const char		*kind, *state;
	char			*s, when[64];
	int64_t			 id, eid;
	int			 rc;

	/* Lines must appear as the step writes them, even into a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	args = nf_val_map();
	nf_val_map_set_int(args, "run_id", run_id);
	nf_val_map_set_bool(args, "follow", 1);
	if ((rc = request(x, "logs", args, &d, &id)) != 0)
		return rc;
	/* As nfctl logs says it: the lines that follow are none. */
	if (!x->o->json && vint(d, "log_pruned_at", &eid)) {
		fmt_time(eid, when, sizeof(when));
		printf("log pruned by retention on %s (the run is kept: nfctl "
		    "run show %" PRId64 ")\n", when, run_id);
	}
	nf_val_free(d);
	for (;;) {
		if ((rc = conn_recv(x->c, -1, &type, &msg)) != 0)
			return rc;
		if (type != NF_MSG_CTL_EVENT || !vint(msg, "id", &eid) ||
		    eid != id) {
			errmsg("nomaflowd sent %s out of the log stream of run "
			    "%" PRId64 " (protocol error)",
			    nf_msg_type_name(type), run_id);
			nf_val_free(msg);
			return NF_EXIT_UNREACHABLE;
		}
		kind = vstr(msg, "kind", "");
		data = nf_val_get(msg, "data");
		if (x->o->json) {
			/* One compact object per line: JSON Lines. */
			ev = nf_val_map();
			nf_val_map_set_str(ev, "kind", kind);
			nf_val_map_set(ev, "data", data != NULL ?
			    nf_val_dup(data) : nf_val_nil());
			print_json(ev, -1);
			nf_val_free(ev);
		} else if (strcmp(kind, "log") == 0)
			print_log_line(x, data);
		else if (strcmp(kind, "state") == 0)
			print_state_event(run_id, data);
		if (strcmp(kind, "end") == 0) {
			state = vstr(data, "state", "unknown");
			rc = state_exit(state);
			if (!x->o->json) {
				struct nf_buf	 b;

				nf_buf_init(&b);
				nf_buf_printf(&b, "run #%" PRId64 " %s",
				    run_id, state);
				if (vstr(data, "error", NULL) != NULL)
					nf_buf_printf(&b, ": %s",
					    vstr(data, "error", ""));
				s = text_clean(b.data, CLEAN_ONELINE);
				fflush(stdout);
				fprintf(stderr, "%s\n", s);
				free(s);
				nf_buf_free(&b);
			}
			nf_val_free(msg);
			return rc;
		}
		nf_val_free(msg);
		if (ferror(stdout))
			return NF_EXIT_FAILED;	/* reader went away */
	}
}
