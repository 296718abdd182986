/*
 * web.c: the HTTP server of nomaflowd: the JSON API under /api/, its
 * Server-Sent Events streams, the pages (webui.c) and their assets.  Runs
 * in nomaflowd, on the libev loop thread; the only module that includes
 * microhttpd.h.
 *
 * libmicrohttpd runs without threads of its own, in its external-loop
 * mode: one ev_io watches its epoll fd and one ev_timer its timeout, and
 * both call MHD_run(), which never blocks (non-blocking sockets, responses
 * from memory).  Every API request runs the control command handlers
 * (nf_control_exec) as "web:<account>", so the permission checks and the
 * audit are the socket's.
 *
 * Invariants:
 * - A request body is read into memory up to WEB_BODY_MAX; past it the
 *   request is answered 413 and nothing runs.
 * - Every state-changing request but the login carries a session and its
 *   CSRF token, checked before anything runs.
 * - A login's connection is suspended while webauth checks its password
 *   off the loop, and on the logins list exactly while suspended; its req
 *   cancels the check when MHD frees it, so login_cb never sees a freed
 *   one.  Before MHD_stop_daemon() every waiting login is resumed.
 * - An event stream owns a buffer of at most SSE_BUF_MAX bytes; a client
 *   that lets it fill (it stopped reading) is dropped, so a slow browser
 *   never grows the daemon's memory nor blocks the loop.  It reconnects
 *   with Last-Event-ID and loses nothing of a run's log.
 * - A stream is freed only by libmicrohttpd's response-free callback; the
 *   streams list holds exactly the live ones.  Before MHD_stop_daemon()
 *   every suspended stream is resumed, as libmicrohttpd demands.
 */
#include "autoconf.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "acl.h"
#include "control.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "nomaflowd.h"
#include "proto.h"
#include "run.h"
#include "util.h"
#include "val.h"
#include "web.h"
#include "webauth.h"
#include "webui.h"

#define WEB_BODY_MAX		(64 * 1024)	/* request bodies */
#define WEB_MAX_CONNS		1024		/* or half of RLIMIT_NOFILE */
#define WEB_CONN_TIMEOUT	60		/* seconds without progress */
#define SSE_BUF_MAX		(256 * 1024)	/* per stream */
#define SSE_HEARTBEAT		15.		/* seconds */
#define SSE_RETRY_MS		2000
#define SSE_POLL_MS		20		/* a woken stream's data */
#define EVENTS_RING		512		/* /api/events, for resume */

#define WEB_CSP	"default-src 'self'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; " \
	"base-uri 'none'; form-action 'self'"

enum sse_kind {
	SSE_EVENTS,		/* /api/events */
	SSE_LOG,		/* /api/runs/N/log/stream */
};

/* One event stream; owned by its MHD response (sse_free). */
struct sse {
	enum sse_kind		 kind;
	char			*account;
	char			 sid[NF_WEBAUTH_TOKEN_LEN + 1]; /* session */
	int64_t			 run_id;	/* SSE_LOG */
	int64_t			 last_id;	/* last event id queued */
	struct MHD_Connection	*conn;
	struct nf_buf		 buf;		/* not yet handed to MHD */
	int			 suspended;
	int			 done;		/* end after buf drains */
	int			 dropped;	/* end now, with an error */
	LIST_ENTRY(sse)		 entry;
};

enum login_state {
	LOGIN_NONE,
	LOGIN_WAITING,		/* suspended until its check ends */
	LOGIN_DONE,		/* res holds the outcome */
};

/* One request being read (MHD's con_cls). */
struct req {
	struct nf_buf		 body;
	int			 too_big;
	/* A login (POST /api/login) while its password is checked: */
	enum login_state	 lstate;
	uint64_t		 ticket;	/* of nf_webauth_login_start */
	struct MHD_Connection	*conn;
	int			 form;
	char			*next;		/* form: where to go after */
	char			*peer;
	struct nf_webauth_result res;
	LIST_ENTRY(req)		 lentry;	/* logins, while waiting */
};

/* /api/events kept for Last-Event-ID. */
struct ring_ev {
	int64_t			 id;
	char			*job_id;
	char			*text;		/* the whole SSE record */
};

static struct MHD_Daemon	*mhd;
static ev_io			 mhd_io;
static ev_timer			 mhd_timer;
static ev_timer			 hb_timer;
static LIST_HEAD(, sse)		 streams = LIST_HEAD_INITIALIZER(streams);
static LIST_HEAD(, req)		 logins = LIST_HEAD_INITIALIZER(logins);
static int			 closing;
static size_t			 nstreams;
static int			 log_sub, state_sub;
static int			 tls_on;
static char			**trusted;
static size_t			 ntrusted;
static char			*user_header;
static struct ring_ev		 ring[EVENTS_RING];
static int64_t			 ring_next = 1;	/* id of the next event */

static void	mhd_kick(void);
static void	set_proxies(const struct nf_web_cfg *);

/* Responses. */

static void
add_common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", WEB_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result
respond(struct MHD_Connection *c, unsigned status, const char *type,
    const void *data, size_t len, const char *cache, const char *cookie)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(len, (void *)data,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	add_common_headers(r);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", cache != NULL ? cache :
	    "no-store");
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
respond_json(struct MHD_Connection *c, unsigned status,
    const struct nf_val *v, const char *cookie)
{
	struct nf_buf	 b;
	enum MHD_Result	 ret;

	nf_buf_init(&b);
	nf_json_write(v, &b, -1);
	nf_buf_addc(&b, '\n');
	ret = respond(c, status, "application/json; charset=utf-8", b.data,
	    b.len, NULL, cookie);
	nf_buf_free(&b);
	return ret;
}

static const char *
status_code_name(unsigned status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 409:
		return "conflict";
	case 413:
		return "payload_too_large";
	case 415:
		return "unsupported_media_type";
	case 429:
		return "too_many_requests";
	case 503:
		return "unavailable";
	default:
		return "internal";
	}
}

/* {"error": {"code": ..., "message": ...}} */
static enum MHD_Result
respond_err(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum MHD_Result
respond_err(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	struct nf_val	*v, *e;
	enum MHD_Result	 ret;
	va_list		 ap;
	char		 msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = nf_val_map();
	nf_val_map_set_str(e, "code", status_code_name(status));
	nf_val_map_set_str(e, "message", msg);
	v = nf_val_map();
	nf_val_map_set(v, "error", e);
	ret = respond_json(c, status, v, NULL);
	nf_val_free(v);
	return ret;
}

/* The HTTP status of a control error (NF_EXIT_*). */
static unsigned
exit_status(int code)
{
	switch (code) {
	case NF_EXIT_USAGE:
		return 400;
	case NF_EXIT_NOTFOUND:
		return 404;
	case NF_EXIT_PERM:
		return 403;
	case NF_EXIT_CONFLICT:
		return 409;
	default:
		return 500;
	}
}

/* 303 to a local path (no-JS form posts). */
static enum MHD_Result
respond_redirect(struct MHD_Connection *c, const char *to,
    const char *cookie)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(0, (void *)"",
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	add_common_headers(r);
	MHD_add_response_header(r, "Location", to);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	ret = MHD_queue_response(c, 303, r);
	MHD_destroy_response(r);
	return ret;
}

/* A path of ours, never another site ("//evil", "/\evil"). */
static int
local_path(const char *p)
{
	return p != NULL && p[0] == '/' && p[1] != '/' && p[1] != '\\' &&
	    strpbrk(p, "\r\n") == NULL;
}

/* Requests. */

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static const char *
query(struct MHD_Connection *c, const char *name)
{
	const char	*v;

	v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	return v != NULL && *v != '\0' ? v : NULL;
}

static void
peer_addr(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*sa;

	snprintf(buf, len, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		    (socklen_t)len);
}

/* A decimal id > 0 (run ids, limits), or -1. */
static int64_t
parse_id(const char *s, size_t len)
{
	int64_t	v = 0;
	size_t	i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 0 ? v : -1;
}

/*
 * "application/x-www-form-urlencoded" (a form posted without JS)?  A body
 * that starts with "{" is JSON whatever it is labelled (curl -d labels
 * everything a form).
 */
static int
is_form(struct MHD_Connection *c, const struct req *rq)
{
	const char	*t = header(c, "Content-Type");
	size_t		 i;

	for (i = 0; i < rq->body.len; i++)
		if (strchr(" \t\r\n", rq->body.data[i]) == NULL)
			break;
	if (i < rq->body.len && rq->body.data[i] == '{')
		return 0;
	return t != NULL && strncasecmp(t,
	    "application/x-www-form-urlencoded", 33) == 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *
form_decode(const char *s, size_t len)
{
	struct nf_buf	 b;
	size_t		 i;
	int		 h, l;

	nf_buf_init(&b);
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			nf_buf_addc(&b, ' ');
		else if (s[i] == '%' && i + 2 < len &&
		    (h = hexval(s[i + 1])) >= 0 &&
		    (l = hexval(s[i + 2])) >= 0) {
			nf_buf_addc(&b, h * 16 + l);
			i += 2;
		} else
			nf_buf_addc(&b, s[i]);
	}
	nf_buf_addc(&b, '\0');
	return nf_buf_steal(&b);
}

/*
 * A urlencoded body as a map of strings; "p.NAME" fields go into a
 * "params" map (the Run-now form without JS), empty ones left out.
 */
static struct nf_val *
form_parse(const char *s, size_t len)
{
	struct nf_val	*m, *p = NULL;
	const char	*end = s + len, *amp, *eq;
	char		*k, *v;

	m = nf_val_map();
	while (s < end) {
		if ((amp = memchr(s, '&', (size_t)(end - s))) == NULL)
			amp = end;
		if ((eq = memchr(s, '=', (size_t)(amp - s))) == NULL)
			eq = amp;
		k = form_decode(s, (size_t)(eq - s));
		v = form_decode(eq < amp ? eq + 1 : amp,
		    (size_t)(amp - (eq < amp ? eq + 1 : amp)));
		if (strncmp(k, "p.", 2) == 0 && k[2] != '\0') {
			/* A field left empty: the default or preset applies. */
			if (*v != '\0') {
				if (p == NULL)
					p = nf_val_map();
				nf_val_map_set_str(p, k + 2, v);
			}
		} else if (*k != '\0')
			nf_val_map_set_str(m, k, v);
		free(k);
		free(v);
		s = amp + 1;
	}
	if (p != NULL)
		nf_val_map_set(m, "params", p);
	return m;
}

/* Sessions. */

static int
peer_trusted(const char *peer)
{
	size_t	i;

	for (i = 0; i < ntrusted; i++)
		if (strcmp(trusted[i], peer) == 0)
			return 1;
	return 0;
}

/*
 * The caller's session: the reverse proxy's user header when the peer is
 * a trusted proxy, else the session cookie.  NULL: not logged in.
 */
static const struct nf_websession *
req_session(struct MHD_Connection *c, const char *peer,
    char sid[NF_WEBAUTH_TOKEN_LEN + 1])
{
	const char	*u, *cookie;

	sid[0] = '\0';
	if (ntrusted > 0 && peer_trusted(peer) &&
	    (u = header(c, user_header)) != NULL && *u != '\0')
		return nf_webauth_proxy_session(u, time(NULL), sid);
	cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
	    "nf_session");
	if (cookie == NULL || strlen(cookie) > NF_WEBAUTH_TOKEN_LEN)
		return NULL;
	memcpy(sid, cookie, strlen(cookie) + 1);
	return nf_webauth_session(sid, time(NULL));
}

static char *
session_cookie(const char *sid, int max_age)
{
	if (max_age == 0)
		return nf_xprintf("nf_session=; Path=/; HttpOnly; "
		    "SameSite=Strict; Max-Age=0%s", tls_on ? "; Secure" : "");
	return nf_xprintf("nf_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
	    sid, tls_on ? "; Secure" : "");
}

/* The API. */

/* Run cmd as the session's account and answer its data as JSON. */
static enum MHD_Result
api_exec(struct MHD_Connection *c, const struct nf_websession *s,
    const char *cmd, struct nf_val *args, const char *next)
{
	struct nf_val	*d;
	enum MHD_Result	 ret;
	char		 err[1024];
	int		 code = 0;

	d = nf_control_exec(s->user, cmd, args, &code, err, sizeof(err));
	nf_val_free(args);
	if (d == NULL)
		return respond_err(c, exit_status(code), "%s", err);
	if (next != NULL)
		ret = respond_redirect(c, next, NULL);
	else
		ret = respond_json(c, 200, d, NULL);
	nf_val_free(d);
	return ret;
}

static struct nf_val *
args_str(const char *k, const char *v)
{
	struct nf_val	*a = nf_val_map();

	if (v != NULL)
		nf_val_map_set_str(a, k, v);
	return a;
}

static struct nf_val *
args_int(const char *k, int64_t v)
{
	struct nf_val	*a = nf_val_map();

	nf_val_map_set_int(a, k, v);
	return a;
}

/* An integer query argument; 0 absent, -1 bad (answered). */
static int
query_int(struct MHD_Connection *c, const char *name, int64_t min,
    int64_t max, int64_t *out)
{
	const char	*s;
	char		*end;
	long long	 v;

	if ((s = query(c, name)) == NULL)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max) {
		respond_err(c, 400, "%s must be an integer in %lld..%lld, not "
		    "\"%s\"", name, (long long)min, (long long)max, s);
		return -1;
	}
	*out = v;
	return 1;
}

/* GET /api/me: who, the token for state-changing requests, the verbs. */
static enum MHD_Result
api_me(struct MHD_Connection *c, const struct nf_websession *s,
    const char *cookie)
{
	static const enum nf_acl_verb daemon_verbs[] = { NF_ACL_RELOAD,
	    NF_ACL_AUDIT, NF_ACL_SECRETS, NF_ACL_ADMIN };
	static const enum nf_acl_verb job_verbs[] = { NF_ACL_VIEW,
	    NF_ACL_RUN, NF_ACL_CANCEL, NF_ACL_REPLAY, NF_ACL_ENABLE };
	const struct nf_config	*cfg = nfd.cur->cfg;
	struct nf_val		*m, *v, *jobs, *jv;
	enum MHD_Result		 ret;
	size_t			 i, k;
	char			*id;
	int			 any;

	m = nf_val_map();
	nf_val_map_set_str(m, "user", s->user);
	id = nf_xprintf("web:%s", s->user);
	nf_val_map_set_str(m, "identity", id);
	free(id);
	nf_val_map_set_str(m, "csrf", s->csrf);
	nf_val_map_set_int(m, "expires", (int64_t)s->expires * 1000);
	/* Daemon verbs, then per job the verbs on it (the UI's buttons). */
	v = nf_val_arr();
	for (i = 0; i < NF_NELEM(daemon_verbs); i++)
		if (nf_control_may(s->user, daemon_verbs[i], NULL))
			nf_val_arr_push(v, nf_val_str(nf_acl_verb_name(
			    daemon_verbs[i])));
	jobs = nf_val_map();
	for (k = 0; k < cfg->njobs; k++) {
		jv = nf_val_arr();
		for (any = 0, i = 0; i < NF_NELEM(job_verbs); i++)
			if (nf_control_may(s->user, job_verbs[i],
			    cfg->jobs[k].id)) {
				nf_val_arr_push(jv, nf_val_str(
				    nf_acl_verb_name(job_verbs[i])));
				any = 1;
			}
		if (any)
			nf_val_map_set(jobs, cfg->jobs[k].id, jv);
		else
			nf_val_free(jv);
	}
	nf_val_map_set(m, "verbs", v);
	nf_val_map_set(m, "jobs", jobs);
	ret = respond_json(c, 200, m, cookie);
	nf_val_free(m);
	return ret;
}

/* Event streams. */

/* MHD reads the stream: what is buffered, else wait (suspended). */
static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse	*s = cls;
	size_t		 n;

	if (s->dropped)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (s->buf.len == 0) {
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* Resumed by sse_queue() or the heartbeat. */
		s->suspended = 1;
		MHD_suspend_connection(s->conn);
		return 0;
	}
	n = s->buf.len < max ? s->buf.len : max;
	memcpy(buf, s->buf.data, n);
	nf_buf_consume(&s->buf, n);
	return (ssize_t)n;
}

/* The response is gone: so is the stream. */
static void
sse_free(void *cls)
{
	struct sse	*s = cls;

	LIST_REMOVE(s, entry);
	nstreams--;
	nf_metrics_ui_clients(-1);
	nf_buf_free(&s->buf);
	free(s->account);
	free(s);
}

static void
sse_wake(struct sse *s)
{
	if (s->suspended) {
		s->suspended = 0;
		MHD_resume_connection(s->conn);
		mhd_kick();
	}
}

/*
 * Drop a stream now: its buffer goes at once; the connection ends at the
 * next read, or, when MHD waits for the client to take what was sent,
 * when its socket is shut down under it.
 */
static void
sse_drop(struct sse *s, const char *why)
{
	const union MHD_ConnectionInfo	*ci;

	if (s->dropped)
		return;
	nf_warnx("web: %s stream of web:%s: %s; dropping it (it reconnects "
	    "with Last-Event-ID)", s->kind == SSE_LOG ? "log" : "event",
	    s->account, why);
	s->dropped = 1;
	nf_buf_free(&s->buf);
	nf_buf_init(&s->buf);
	if (s->suspended)
		sse_wake(s);
	else if ((ci = MHD_get_connection_info(s->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL)
		shutdown(ci->connect_fd, SHUT_RDWR);
	mhd_kick();
}

/* Queue text (whole SSE records) on a stream. */
static void
sse_queue(struct sse *s, const char *text, size_t len)
{
	if (s->dropped || s->done)
		return;
	if (s->buf.len + len > SSE_BUF_MAX) {
		sse_drop(s, "the client stopped reading (buffer full)");
		return;
	}
	nf_buf_add(&s->buf, text, len);
	sse_wake(s);
}

/* One SSE record: id (when > 0), event name, the JSON of data. */
static void
sse_record(struct nf_buf *b, int64_t id, const char *event,
    const struct nf_val *data)
{
	if (id > 0)
		nf_buf_printf(b, "id: %lld\n", (long long)id);
	nf_buf_printf(b, "event: %s\ndata: ", event);
	/* Compact JSON has no newline: one data line. */
	nf_json_write(data, b, -1);
	nf_buf_adds(b, "\n\n");
}

static void
heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sse	*s, *tmp;

	/*
	 * A comment: keeps proxies from timing out, finds dead peers.  A
	 * stream whose session ended (logout, expiry, account removed) ends.
	 */
	LIST_FOREACH_SAFE(s, &streams, entry, tmp) {
		if (s->dropped || s->done)
			continue;
		if (nf_webauth_session(s->sid, time(NULL)) == NULL) {
			s->done = 1;
			sse_wake(s);
			continue;
		}
		sse_queue(s, ": keep-alive\n\n", 14);
	}
}

/* Start a stream on c (in the access handler). */
static enum MHD_Result
sse_start(struct MHD_Connection *c, struct sse *s, const char *cookie)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	s->conn = c;
	LIST_INSERT_HEAD(&streams, s, entry);
	nstreams++;
	nf_metrics_ui_clients(1);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
	    sse_read, s, sse_free);
	if (r == NULL) {
		sse_free(s);
		return MHD_NO;
	}
	add_common_headers(r);
	MHD_add_response_header(r, "Content-Type",
	    "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static struct sse *
sse_new(enum sse_kind kind, const char *account, const char *sid)
{
	struct sse	*s;

	s = nf_xcalloc(1, sizeof(*s));
	s->kind = kind;
	s->account = nf_xstrdup(account);
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	nf_buf_init(&s->buf);
	nf_buf_printf(&s->buf, "retry: %d\n\n", SSE_RETRY_MS);
	return s;
}

/* Last-Event-ID (header, or ?last_event_id= for a first connect). */
static int64_t
last_event_id(struct MHD_Connection *c)
{
	const char	*v;
	int64_t		 id;

	if ((v = header(c, "Last-Event-ID")) == NULL &&
	    (v = query(c, "last_event_id")) == NULL)
		return 0;
	id = parse_id(v, strlen(v));
	return id > 0 ? id : 0;
}

static const char *
event_kind_name(enum nf_event_kind k)
{
	switch (k) {
	case NF_EVENT_STATE:
		return "state";
	case NF_EVENT_STEP:
		return "step";
	case NF_EVENT_PROGRESS:
		return "progress";
	case NF_EVENT_LOG:
		return "log";
	default:
		return "end";
	}
}

/* Does a log stream follow run_id? */
static int
log_want(int64_t run_id, void *arg)
{
	struct sse	*s;

	LIST_FOREACH(s, &streams, entry)
		if (s->kind == SSE_LOG && s->run_id == run_id)
			return 1;
	return 0;
}

/* A log line or the end of a run: to the log streams of that run. */
static void
log_cb(const struct nf_event *ev, void *arg)
{
	struct sse	*s, *tmp;
	struct nf_buf	 b;
	int64_t		 seq = 0;

	if (ev->kind == NF_EVENT_LOG)
		nf_val_get_int(ev->data, "seq", &seq);
	nf_buf_init(&b);
	sse_record(&b, seq, event_kind_name(ev->kind), ev->data);
	LIST_FOREACH_SAFE(s, &streams, entry, tmp) {
		if (s->kind != SSE_LOG || s->run_id != ev->run_id || s->done)
			continue;
		if (ev->kind == NF_EVENT_LOG && seq <= s->last_id)
			continue;	/* sent from the backlog */
		sse_queue(s, b.data, b.len);
		if (ev->kind == NF_EVENT_LOG)
			s->last_id = seq;
		else {
			s->done = 1;
			sse_wake(s);
		}
	}
	nf_buf_free(&b);
}

/*
 * Always: the ring must hold what a client missed while it reconnected,
 * even when no stream was open meanwhile.  A few small maps per run.
 */
static int
state_want(int64_t run_id, void *arg)
{
	return 1;
}

/* Run states, step transitions, ends: to /api/events, kept for resume. */
static void
state_cb(const struct nf_event *ev, void *arg)
{
	struct sse	*s, *tmp;
	struct ring_ev	*re;
	struct nf_val	*d;
	struct nf_buf	 b;

	d = nf_val_dup(ev->data);
	nf_val_map_set_str(d, "job_id", ev->job_id);
	re = &ring[ring_next % EVENTS_RING];
	free(re->job_id);
	free(re->text);
	re->id = ring_next++;
	re->job_id = nf_xstrdup(ev->job_id);
	nf_buf_init(&b);
	sse_record(&b, re->id, event_kind_name(ev->kind), d);
	nf_val_free(d);
	nf_buf_addc(&b, '\0');
	re->text = nf_buf_steal(&b);
	LIST_FOREACH_SAFE(s, &streams, entry, tmp)
		if (s->kind == SSE_EVENTS && nf_control_may(s->account,
		    NF_ACL_VIEW, ev->job_id)) {
			sse_queue(s, re->text, strlen(re->text));
			s->last_id = re->id;
		}
}

/* GET /api/events: every run the account may view. */
static enum MHD_Result
api_events(struct MHD_Connection *c, const struct nf_websession *ws,
    const char *sid)
{
	struct sse	*s;
	struct ring_ev	*re;
	int64_t		 after = last_event_id(c), id;

	s = sse_new(SSE_EVENTS, ws->user, sid);
	/* What it missed, if the ring still has it. */
	if (after > 0) {
		for (id = after + 1; id < ring_next; id++) {
			if (id + EVENTS_RING < ring_next)
				continue;
			re = &ring[id % EVENTS_RING];
			if (re->id == id && nf_control_may(ws->user,
			    NF_ACL_VIEW, re->job_id))
				nf_buf_adds(&s->buf, re->text);
		}
	}
	s->last_id = ring_next - 1;
	return sse_start(c, s, NULL);
}

/*
 * GET /api/runs/N/log/stream: the log from the store after Last-Event-ID
 * (the line seq), then the live lines, then "end".  Read through the
 * control command, so the view check and its audit are the socket's.
 */
static enum MHD_Result
api_log_stream(struct MHD_Connection *c, const struct nf_websession *ws,
    const char *sid, int64_t run_id)
{
	struct sse		*s;
	struct nf_val		*a, *d, *end, *r;
	const struct nf_val	*lines, *l;
	char			 err[1024];
	int64_t			 seq;
	int			 code = 0;
	size_t			 i;

	a = args_int("run_id", run_id);
	nf_val_map_set_int(a, "after", last_event_id(c));
	d = nf_control_exec(ws->user, "logs", a, &code, err, sizeof(err));
	nf_val_free(a);
	if (d == NULL)
		return respond_err(c, exit_status(code), "%s", err);
	s = sse_new(SSE_LOG, ws->user, sid);
	s->run_id = run_id;
	s->last_id = last_event_id(c);
	lines = nf_val_get(d, "lines");
	for (i = 0; lines != NULL && i < lines->u.a.n; i++) {
		l = lines->u.a.items[i];
		if (!nf_val_get_int(l, "seq", &seq))
			continue;
		sse_record(&s->buf, seq, "log", l);
		s->last_id = seq;
	}
	/* Past the buffer already: the client reads on from there. */
	if (s->buf.len > SSE_BUF_MAX) {
		nf_buf_free(&s->buf);
		nf_buf_init(&s->buf);
		s->last_id = 0;
		for (i = 0; lines != NULL && i < lines->u.a.n; i++) {
			l = lines->u.a.items[i];
			if (!nf_val_get_int(l, "seq", &seq))
				continue;
			if (s->buf.len > SSE_BUF_MAX / 2)
				break;
			sse_record(&s->buf, seq, "log", l);
			s->last_id = seq;
		}
		/* Closed after this part; the client resumes after it. */
		s->done = 1;
	} else if (nf_run_find(run_id) == NULL) {
		/* Over already: its end, as the follow stream says it. */
		end = nf_val_map();
		nf_val_map_set_int(end, "run_id", run_id);
		nf_val_map_set(end, "state", nf_val_dup(nf_val_get(d,
		    "state")));
		a = args_int("run_id", run_id);
		if ((r = nf_control_exec(ws->user, "run.show", a, &code, err,
		    sizeof(err))) != NULL) {
			if (nf_val_get(r, "reason") != NULL)
				nf_val_map_set(end, "reason",
				    nf_val_dup(nf_val_get(r, "reason")));
			if (nf_val_get(r, "error") != NULL)
				nf_val_map_set(end, "error",
				    nf_val_dup(nf_val_get(r, "error")));
			nf_val_free(r);
		}
		nf_val_free(a);
		sse_record(&s->buf, 0, "end", end);
		nf_val_free(end);
		s->done = 1;
	}
	nf_val_free(d);
	return sse_start(c, s, NULL);
}

size_t
nf_web_nstreams(void)
{
	return nstreams;
}

/* Login and logout. */

/*
 * The login answer, once its check is done: the session cookie and
 * GET /api/me's data (a form: a redirect), 401, or 429 with Retry-After.
 */
static enum MHD_Result
login_respond(struct MHD_Connection *c, struct req *rq)
{
	const struct nf_webauth_result	*res = &rq->res;
	const struct nf_websession	*ws;
	struct MHD_Response		*r;
	struct nf_val			*e, *v;
	struct nf_buf			 b;
	enum MHD_Result			 ret;
	char				 ra[32], *cookie, *to;

	if (res->rc == 0) {
		/* By its id: it may have gone since the callback. */
		if ((ws = nf_webauth_session(res->sid, time(NULL))) == NULL)
			return respond_err(c, 401, "the new session ended "
			    "at once (the account was changed); log in again");
		nf_info("web: %s logged in from %s", ws->user, rq->peer);
		cookie = session_cookie(res->sid, 1);
		ret = rq->form ? respond_redirect(c, rq->next, cookie) :
		    api_me(c, ws, cookie);
		free(cookie);
		return ret;
	}
	if (res->rc == -1) {
		if (rq->form)
			return respond_redirect(c, "/login?error=bad", NULL);
		return respond_err(c, 401, "%s", res->err);
	}
	if (rq->form) {
		to = nf_xprintf("/login?error=rate&retry=%d", res->retry_after);
		ret = respond_redirect(c, to, NULL);
		free(to);
		return ret;
	}
	/* 429 with Retry-After. */
	e = nf_val_map();
	nf_val_map_set_str(e, "code", status_code_name(429));
	nf_val_map_set_str(e, "message", res->err);
	nf_val_map_set_int(e, "retry_after", res->retry_after);
	v = nf_val_map();
	nf_val_map_set(v, "error", e);
	nf_buf_init(&b);
	nf_json_write(v, &b, -1);
	nf_val_free(v);
	r = MHD_create_response_from_buffer(b.len, b.data,
	    MHD_RESPMEM_MUST_COPY);
	nf_buf_free(&b);
	if (r == NULL)
		return MHD_NO;
	add_common_headers(r);
	MHD_add_response_header(r, "Content-Type",
	    "application/json; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	snprintf(ra, sizeof(ra), "%d", res->retry_after > 0 ?
	    res->retry_after : 1);
	MHD_add_response_header(r, "Retry-After", ra);
	ret = MHD_queue_response(c, 429, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * The check of rq's password ended (on the loop).  rq is alive: a request
 * whose connection MHD frees cancels its check first (login_end), so this
 * never runs for a freed one.
 */
static void
login_cb(const struct nf_webauth_result *res, void *arg)
{
	struct req	*rq = arg;

	rq->res = *res;
	rq->lstate = LOGIN_DONE;
	rq->ticket = 0;
	if (rq->lentry.le_prev != NULL) {
		LIST_REMOVE(rq, lentry);
		rq->lentry.le_prev = NULL;
		MHD_resume_connection(rq->conn);
		mhd_kick();
	}
}

/* MHD called the login's request again (resumed, or spuriously). */
static enum MHD_Result
login_resumed(struct MHD_Connection *c, struct req *rq)
{
	if (rq->lstate == LOGIN_DONE)
		return login_respond(c, rq);
	if (closing || mhd == NULL)
		return respond_err(c, 503, "nomaflowd is stopping; log in "
		    "again once it is back");
	if (rq->lentry.le_prev == NULL) {
		LIST_INSERT_HEAD(&logins, rq, lentry);
		MHD_suspend_connection(c);
	}
	return MHD_YES;
}

/* rq ends (MHD frees it): its check, if any, must not call back. */
static void
login_end(struct req *rq)
{
	if (rq->ticket != 0)
		nf_webauth_login_cancel(rq->ticket);
	if (rq->lentry.le_prev != NULL)
		LIST_REMOVE(rq, lentry);
	if (rq->res.rc == 0)
		explicit_bzero(rq->res.sid, sizeof(rq->res.sid));
	free(rq->next);
	free(rq->peer);
	/* The body held the password. */
	if (rq->lstate != LOGIN_NONE && rq->body.data != NULL)
		explicit_bzero(rq->body.data, rq->body.len);
}

/*
 * POST /api/login: the password is checked on webauth's verifier thread
 * (~170 ms of argon2id); meanwhile the connection is suspended, so the
 * loop goes on, and login_cb resumes it.
 */
static enum MHD_Result
api_login(struct MHD_Connection *c, struct req *rq, const char *peer,
    const struct nf_val *body, int form)
{
	const char	*user, *pw, *next;

	user = nf_val_get_str(body, "user");
	pw = nf_val_get_str(body, "password");
	next = nf_val_get_str(body, "next");
	if (!local_path(next))
		next = "/";
	if (user == NULL || pw == NULL) {
		if (form)
			return respond_redirect(c, "/login?error=missing",
			    NULL);
		return respond_err(c, 400, "login needs {\"user\": ..., "
		    "\"password\": ...}");
	}
	rq->conn = c;
	rq->form = form;
	rq->next = nf_xstrdup(next);
	rq->peer = nf_xstrdup(peer);
	rq->ticket = nf_webauth_login_start(user, pw, peer, time(NULL),
	    login_cb, rq);
	/* webauth has its copy; the parsed body is freed by the caller. */
	explicit_bzero((char *)pw, strlen(pw));
	if (rq->ticket == 0)
		return respond_err(c, 503, "login: the accounts are not "
		    "ready; try again in a moment");
	rq->lstate = LOGIN_WAITING;
	LIST_INSERT_HEAD(&logins, rq, lentry);
	MHD_suspend_connection(c);
	return MHD_YES;
}

static enum MHD_Result
api_logout(struct MHD_Connection *c, const struct nf_websession *ws,
    const char *next)
{
	struct nf_val	*v;
	enum MHD_Result	 ret;
	const char	*sid;
	char		*cookie;

	nf_info("web: %s logged out", ws->user);
	if ((sid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
	    "nf_session")) != NULL)
		nf_webauth_logout(sid);
	cookie = session_cookie(NULL, 0);
	if (next != NULL)
		ret = respond_redirect(c, next, cookie);
	else {
		v = nf_val_map();
		nf_val_map_set_bool(v, "ok", 1);
		ret = respond_json(c, 200, v, cookie);
		nf_val_free(v);
	}
	free(cookie);
	return ret;
}

/* Routing of /api/. */

/* The body of a state-changing request: a JSON object, or a form. */
static struct nf_val *
body_parse(struct MHD_Connection *c, const struct req *rq, int form,
    char *err, size_t errlen)
{
	struct nf_val	*v;
	char		 e[256];

	if (form)
		return form_parse(rq->body.data != NULL ? rq->body.data : "",
		    rq->body.len);
	if (rq->body.len == 0)
		return nf_val_map();
	if ((v = nf_json_parse(rq->body.data, rq->body.len, 16, 10000, e,
	    sizeof(e))) == NULL) {
		snprintf(err, errlen, "bad JSON in the request body: %s", e);
		return NULL;
	}
	if (v->type != NF_V_MAP) {
		snprintf(err, errlen, "the request body must be a JSON object, "
		    "not %s", nf_val_type_name(v->type));
		nf_val_free(v);
		return NULL;
	}
	return v;
}

/* POST /api/jobs/NAME/run: {"params": {}, "preset": "", "force": false} */
static struct nf_val *
run_args(const char *job, struct nf_val *body, int form, char *err,
    size_t errlen)
{
	struct nf_val	*a, *v;
	const char	*s;
	size_t		 i;

	a = nf_val_map();
	nf_val_map_set_str(a, "job", job);
	for (i = 0; i < body->u.m.n; i++) {
		const char *k = body->u.m.kv[i].key;

		v = body->u.m.kv[i].val;
		if (form && (strcmp(k, "csrf") == 0 || strcmp(k, "next") == 0))
			continue;
		if (strcmp(k, "preset") == 0 && v->type == NF_V_STR &&
		    v->u.s.len == 0)
			continue;
		if (strcmp(k, "force") == 0 && form) {
			s = v->type == NF_V_STR ? v->u.s.p : "";
			nf_val_map_set_bool(a, "force", strcmp(s, "on") == 0 ||
			    strcmp(s, "1") == 0 || strcmp(s, "true") == 0);
			continue;
		}
		if (strcmp(k, "params") != 0 && strcmp(k, "preset") != 0 &&
		    strcmp(k, "force") != 0) {
			snprintf(err, errlen, "unknown field \"%s\" (a run "
			    "takes params, preset and force)", k);
			nf_val_free(a);
			return NULL;
		}
		nf_val_map_set(a, k, nf_val_dup(v));
	}
	return a;
}

/* GET /api/runs: the run list, filtered and paged. */
static enum MHD_Result
api_runs(struct MHD_Connection *c, const struct nf_websession *ws)
{
	static const char *const strs[] = { "job", "state", "trigger", NULL };
	static const char *const ints[] = { "since", "until", "before",
	    "limit", NULL };
	struct nf_val	*a;
	const char	*v;
	int64_t		 n;
	size_t		 i;

	a = nf_val_map();
	for (i = 0; strs[i] != NULL; i++)
		if ((v = query(c, strs[i])) != NULL)
			nf_val_map_set_str(a, strs[i], v);
	for (i = 0; ints[i] != NULL; i++)
		switch (query_int(c, ints[i], 0, INT64_MAX, &n)) {
		case -1:
			nf_val_free(a);
			return MHD_YES;
		case 1:
			nf_val_map_set_int(a, ints[i], n);
			break;
		}
	return api_exec(c, ws, "runs", a, NULL);
}

static enum MHD_Result
api_route(struct MHD_Connection *c, const char *method, const char *url,
    struct req *rq)
{
	const struct nf_websession	*ws;
	struct nf_val			*body = NULL, *a;
	const char			*p, *slash, *tok, *next = NULL;
	const char			*accept;
	enum MHD_Result			 ret;
	char				 peer[INET6_ADDRSTRLEN], err[512];
	char				 sid[NF_WEBAUTH_TOKEN_LEN + 1];
	char				*job = NULL;
	int64_t				 run_id, n;
	int				 post, form;

	post = strcmp(method, "POST") == 0;
	if (!post && strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0)
		return respond_err(c, 405, "%s: use GET or POST", method);
	form = post && is_form(c, rq);
	peer_addr(c, peer, sizeof(peer));
	if (post) {
		if ((body = body_parse(c, rq, form, err, sizeof(err))) ==
		    NULL)
			return respond_err(c, 400, "%s", err);
		if (form)
			next = local_path(nf_val_get_str(body, "next")) ?
			    nf_val_get_str(body, "next") : NULL;
	}
	if (strcmp(url, "/api/login") == 0) {
		if (!post)
			ret = respond_err(c, 405, "log in with POST "
			    "{\"user\": ..., \"password\": ...}");
		else
			ret = api_login(c, rq, peer, body, form);
		nf_val_free(body);
		return ret;
	}
	if ((ws = req_session(c, peer, sid)) == NULL) {
		nf_val_free(body);
		return respond_err(c, 401, "not logged in (POST /api/login, "
		    "or log in at /login)");
	}
	if (post) {
		tok = header(c, "X-CSRF-Token");
		if (tok == NULL && form)
			tok = nf_val_get_str(body, "csrf");
		if (tok == NULL || !nf_webauth_csrf_ok(ws, tok)) {
			nf_warnx("web: %s from web:%s (%s): %s CSRF token; "
			    "refused", url, ws->user, peer, tok == NULL ?
			    "no" : "wrong");
			nf_val_free(body);
			return respond_err(c, 403, "%s CSRF token: send the "
			    "X-CSRF-Token header (GET /api/me returns it) or a "
			    "csrf form field", tok == NULL ? "missing" :
			    "wrong");
		}
	}
	p = url + strlen("/api/");
	ret = MHD_NO;
	if (!post && strcmp(p, "status") == 0)
		ret = api_exec(c, ws, "status", NULL, NULL);
	else if (!post && strcmp(p, "me") == 0)
		ret = api_me(c, ws, NULL);
	else if (post && strcmp(p, "logout") == 0)
		ret = api_logout(c, ws, next);
	else if (!post && strcmp(p, "events") == 0)
		ret = api_events(c, ws, sid);
	else if (!post && strcmp(p, "jobs") == 0) {
		a = nf_val_map();
		if (query(c, "tag") != NULL)
			nf_val_map_set_str(a, "tag", query(c, "tag"));
		if (query(c, "search") != NULL)
			nf_val_map_set_str(a, "search", query(c, "search"));
		ret = api_exec(c, ws, "jobs", a, NULL);
	} else if (strncmp(p, "jobs/", 5) == 0 && p[5] != '\0') {
		p += 5;
		slash = strchr(p, '/');
		job = nf_xstrndup(p, slash != NULL ? (size_t)(slash - p) :
		    strlen(p));
		if (slash == NULL && !post)
			ret = api_exec(c, ws, "job.show", args_str("id", job),
			    NULL);
		else if (slash != NULL && !post && strcmp(slash, "/next") ==
		    0) {
			a = args_str("id", job);
			switch (query_int(c, "n", 1, 1000, &n)) {
			case -1:
				nf_val_free(a);
				ret = MHD_YES;
				goto out;
			case 1:
				nf_val_map_set_int(a, "n", n);
				break;
			}
			ret = api_exec(c, ws, "next", a, NULL);
		} else if (slash != NULL && post && strcmp(slash, "/run") ==
		    0) {
			if ((a = run_args(job, body, form, err, sizeof(err))) ==
			    NULL)
				ret = respond_err(c, 400, "%s", err);
			else
				ret = api_exec(c, ws, "run", a, next);
		} else if (slash != NULL && post && (strcmp(slash,
		    "/enable") == 0 || strcmp(slash, "/disable") == 0))
			ret = api_exec(c, ws, slash[1] == 'e' ? "job.enable" :
			    "job.disable", args_str("id", job), next);
		else
			ret = respond_err(c, 404, "no API route %s %s", method,
			    url);
	} else if (!post && strcmp(p, "runs") == 0)
		ret = api_runs(c, ws);
	else if (strncmp(p, "runs/", 5) == 0) {
		p += 5;
		slash = strchr(p, '/');
		run_id = parse_id(p, slash != NULL ? (size_t)(slash - p) :
		    strlen(p));
		accept = header(c, "Accept");
		if (run_id <= 0)
			ret = respond_err(c, 404, "no run \"%.*s\": run ids "
			    "are positive integers", (int)(slash != NULL ?
			    slash - p : (int)strlen(p)), p);
		else if (slash == NULL && !post)
			ret = api_exec(c, ws, "run.show", args_int("run_id",
			    run_id), NULL);
		else if (!post && (strcmp(slash, "/log/stream") == 0 ||
		    (strcmp(slash, "/log") == 0 && accept != NULL &&
		    strstr(accept, "text/event-stream") != NULL)))
			ret = api_log_stream(c, ws, sid, run_id);
		else if (!post && strcmp(slash, "/log") == 0) {
			a = args_int("run_id", run_id);
			switch (query_int(c, "after", 0, INT64_MAX, &n)) {
			case -1:
				nf_val_free(a);
				ret = MHD_YES;
				goto out;
			case 1:
				nf_val_map_set_int(a, "after", n);
				break;
			}
			ret = api_exec(c, ws, "logs", a, NULL);
		} else if (post && strcmp(slash, "/cancel") == 0)
			ret = api_exec(c, ws, "cancel", args_int("run_id",
			    run_id), next);
		else if (post && strcmp(slash, "/replay") == 0)
			ret = api_exec(c, ws, "replay", args_int("run_id",
			    run_id), next);
		else
			ret = respond_err(c, 404, "no API route %s %s", method,
			    url);
	} else
		ret = respond_err(c, 404, "no API route %s %s", method, url);
out:
	free(job);
	nf_val_free(body);
	return ret;
}

/* Pages and assets (webui.c). */

struct page_ctx {
	const char	*account;
};

static struct nf_val *
page_fetch(void *arg, const char *cmd, struct nf_val *args, int *code,
    char *err, size_t errlen)
{
	struct page_ctx	*pc = arg;

	if (pc->account == NULL) {
		*code = NF_EXIT_PERM;
		snprintf(err, errlen, "not logged in");
		return NULL;
	}
	return nf_control_exec(pc->account, cmd, args, code, err, errlen);
}

/* Percent-encoded, "/" kept. */
static void
query_collect_value(struct nf_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
		    "WXYZ0123456789-._~/", *s) != NULL)
			nf_buf_addc(b, *s);
		else
			nf_buf_printf(b, "%%%02X", (unsigned char)*s);
}

/* The query string again, for webui (MHD keeps only its decoded parts). */
static enum MHD_Result
query_collect(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct nf_buf	*b = cls;

	if (b->len > 0)
		nf_buf_addc(b, '&');
	query_collect_value(b, key);
	if (value != NULL) {
		nf_buf_addc(b, '=');
		query_collect_value(b, value);
	}
	return MHD_YES;
}

static enum MHD_Result
serve_page(struct MHD_Connection *c, const char *url)
{
	const struct nf_websession	*ws;
	struct nf_webui_req		 wr;
	struct page_ctx			 pc;
	struct nf_buf			 out, q;
	enum MHD_Result			 ret;
	char				 peer[INET6_ADDRSTRLEN];
	char				 sid[NF_WEBAUTH_TOKEN_LEN + 1];
	int				 rc;

	peer_addr(c, peer, sizeof(peer));
	ws = req_session(c, peer, sid);
	if (ws == NULL && strcmp(url, "/login") != 0 &&
	    strcmp(url, "/favicon.ico") != 0) {
		/* The path percent-encoded: it goes into a header. */
		nf_buf_init(&q);
		nf_buf_adds(&q, "/login?next=");
		query_collect_value(&q, url);
		nf_buf_addc(&q, '\0');
		ret = respond_redirect(c, q.data, NULL);
		nf_buf_free(&q);
		return ret;
	}
	nf_buf_init(&q);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_collect,
	    &q);
	nf_buf_addc(&q, '\0');
	pc.account = ws != NULL ? ws->user : NULL;
	memset(&wr, 0, sizeof(wr));
	wr.path = url;
	wr.query = q.len > 1 ? q.data : NULL;
	wr.user = ws != NULL ? ws->user : NULL;
	wr.csrf = ws != NULL ? ws->csrf : NULL;
	wr.fetch = page_fetch;
	wr.arg = &pc;
	nf_buf_init(&out);
	rc = nf_webui_page(&wr, &out);
	if (rc == 0)
		rc = 200;
	if (out.len == 0)
		nf_buf_printf(&out, "<!doctype html><title>%d</title><p>%s",
		    rc, rc == 404 ? "No such page." : "Error.");
	ret = respond(c, (unsigned)rc, "text/html; charset=utf-8", out.data,
	    out.len, "no-store", NULL);
	nf_buf_free(&out);
	nf_buf_free(&q);
	return ret;
}

static enum MHD_Result
serve_asset(struct MHD_Connection *c, const char *name)
{
	const unsigned char	*data;
	const char		*type;
	size_t			 len;

	if ((data = nf_webui_asset(name, &len, &type)) == NULL)
		return respond_err(c, 404, "no asset %s", name);
	return respond(c, 200, type, data, len,
	    "public, max-age=31536000, immutable", NULL);
}

/*
 * GET /metrics: the Prometheus text, for a session holding `audit` (what
 * nfctl metrics needs); a scraper comes through a trusted proxy naming
 * its account in user_header.
 */
static enum MHD_Result
serve_metrics(struct MHD_Connection *c)
{
	const struct nf_websession	*ws;
	struct nf_buf			 b;
	enum MHD_Result			 ret;
	char				 peer[INET6_ADDRSTRLEN];
	char				 sid[NF_WEBAUTH_TOKEN_LEN + 1];

	peer_addr(c, peer, sizeof(peer));
	if ((ws = req_session(c, peer, sid)) == NULL)
		return respond_err(c, 401, "not logged in (a scraper goes "
		    "through a trusted proxy that sets %s)", user_header);
	if (!nf_control_may(ws->user, NF_ACL_AUDIT, NULL))
		return respond_err(c, 403, "permission denied: web:%s may not "
		    "read the metrics; ask an admin for a role with 'audit'",
		    ws->user);
	nf_buf_init(&b);
	nf_metrics_render(&b);
	ret = respond(c, 200, "text/plain; version=0.0.4; charset=utf-8",
	    b.data != NULL ? b.data : "", b.len, "no-store", NULL);
	nf_buf_free(&b);
	return ret;
}

/* MHD's callbacks. */

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct req	*rq = *con_cls;
	const char	*cl;

	if (rq != NULL && rq->lstate != LOGIN_NONE)
		return login_resumed(c, rq);
	if (rq == NULL) {
		rq = nf_xcalloc(1, sizeof(*rq));
		nf_buf_init(&rq->body);
		*con_cls = rq;
		/* Too big by its length: answered before it is read. */
		if ((cl = header(c, "Content-Length")) != NULL &&
		    strtoull(cl, NULL, 10) > WEB_BODY_MAX) {
			rq->too_big = 1;
			return respond_err(c, 413, "the request body is larger "
			    "than %d bytes", WEB_BODY_MAX);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!rq->too_big && rq->body.len + *upload_data_size >
		    WEB_BODY_MAX) {
			rq->too_big = 1;
			nf_buf_free(&rq->body);
			nf_buf_init(&rq->body);
		}
		if (!rq->too_big)
			nf_buf_add(&rq->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return respond_err(c, 413, "the request body is larger than "
		    "%d bytes", WEB_BODY_MAX);
	if (strncmp(url, "/api/", 5) == 0)
		return api_route(c, method, url, rq);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond_err(c, 405, "%s %s: pages are read with GET; "
		    "forms post to /api/", method, url);
	if (strncmp(url, "/static/", 8) == 0)
		return serve_asset(c, url + 8);
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(c);
	return serve_page(c, url);
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req	*rq = *con_cls;

	if (rq == NULL)
		return;
	login_end(rq);
	nf_buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char	buf[512];
	size_t	n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	nf_warnx("web: %s", buf);
}

/* The loop: MHD's epoll fd and its timeout. */

/* A stream woken with data that MHD has not taken yet? */
static int
streams_awake(void)
{
	struct sse	*s;

	LIST_FOREACH(s, &streams, entry)
		if (!s->suspended && !s->dropped && s->buf.len > 0)
			return 1;
	return 0;
}

static void
mhd_arm(void)
{
	MHD_UNSIGNED_LONG_LONG	to;
	int			have;

	ev_timer_stop(nfd.loop, &mhd_timer);
	have = MHD_get_timeout(mhd, &to) == MHD_YES;
	/*
	 * libmicrohttpd (0.9.75, epoll, external loop) may leave a resumed
	 * stream unserved until its socket has another event, while saying
	 * it has nothing to do: look again shortly while a stream holds data
	 * (a stalled one is dropped when its buffer fills).
	 */
	if (streams_awake() && (!have || to > SSE_POLL_MS)) {
		to = SSE_POLL_MS;
		have = 1;
	}
	if (have) {
		ev_timer_set(&mhd_timer, (double)to / 1000., 0.);
		ev_timer_start(nfd.loop, &mhd_timer);
	}
}

static void
mhd_run_cb(struct ev_loop *loop, void *w, int revents)
{
	if (mhd == NULL)
		return;
	MHD_run(mhd);
	/*
	 * A connection resumed since the last run (an event stream given
	 * data) is only taken back by this run; without a second one its
	 * data waits for the next event on MHD's epoll fd, which on a quiet
	 * daemon is the next request or heartbeat.
	 */
	MHD_run(mhd);
	mhd_arm();
}

static void
mhd_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	mhd_run_cb(loop, w, revents);
}

static void
mhd_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	mhd_run_cb(loop, w, revents);
}

/* Something resumed a connection: let MHD run at the next iteration. */
static void
mhd_kick(void)
{
	if (mhd == NULL)
		return;
	ev_timer_stop(nfd.loop, &mhd_timer);
	ev_timer_set(&mhd_timer, 0., 0.);
	ev_timer_start(nfd.loop, &mhd_timer);
}

static char *
slurp(const char *path, char *err, size_t errlen)
{
	struct nf_buf	 b;
	char		 buf[4096];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	nf_buf_init(&b);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		nf_buf_add(&b, buf, (size_t)n);
	close(fd);
	if (n == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		nf_buf_free(&b);
		return NULL;
	}
	nf_buf_addc(&b, '\0');
	return nf_buf_steal(&b);
}

int
nf_web_open(const struct nf_config *cfg, char *err, size_t errlen)
{
	const struct nf_web_cfg		*w = &cfg->web;
	const union MHD_DaemonInfo	*di;
	struct sockaddr_storage		 ss;
	struct sockaddr_in		*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6		*sin6 = (struct sockaddr_in6 *)&ss;
	struct rlimit			 rl;
	unsigned			 flags, maxconn = WEB_MAX_CONNS;
	char				*cert = NULL, *key = NULL;

	if (w->listen == NULL)
		return 0;
	/* Half the descriptors at most: workers, clients and the store. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY && rl.rlim_cur / 2 < maxconn)
		maxconn = rl.rlim_cur / 2 > 16 ? (unsigned)(rl.rlim_cur / 2) :
		    16;
	if (nf_webauth_init(w->session_ttl, err, errlen) == -1)
		return -1;
	memset(&ss, 0, sizeof(ss));
	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (inet_pton(AF_INET, w->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)w->port);
	} else if (inet_pton(AF_INET6, w->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)w->port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "web.listen %s: not a numeric address",
		    w->listen);
		return -1;
	}
	if (w->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "web.tls_cert: this "
			    "libmicrohttpd has no TLS support");
			return -1;
		}
		if ((cert = slurp(w->tls_cert, err, errlen)) == NULL ||
		    (key = slurp(w->tls_key, err, errlen)) == NULL) {
			free(cert);
			return -1;
		}
		flags |= MHD_USE_TLS;
		tls_on = 1;
	}
	mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_CONNECTION_LIMIT, maxconn,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
	    tls_on ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_END);
	/* The key stays in MHD's copy only. */
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(cert);
	if (mhd == NULL) {
		snprintf(err, errlen, "web: cannot listen on %s (is the port "
		    "in use? see the log above)", w->listen);
		tls_on = 0;
		return -1;
	}
	if ((di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD)) ==
	    NULL) {
		MHD_stop_daemon(mhd);
		mhd = NULL;
		snprintf(err, errlen, "web: libmicrohttpd has no epoll fd");
		return -1;
	}
	set_proxies(w);
	ev_io_init(&mhd_io, mhd_io_cb, di->epoll_fd, EV_READ);
	ev_io_start(nfd.loop, &mhd_io);
	ev_timer_init(&mhd_timer, mhd_timer_cb, 0., 0.);
	ev_timer_init(&hb_timer, heartbeat_cb, SSE_HEARTBEAT, SSE_HEARTBEAT);
	ev_timer_start(nfd.loop, &hb_timer);
	log_sub = nf_events_subscribe(NF_EVENT_LOG | NF_EVENT_END, log_cb,
	    log_want, NULL);
	state_sub = nf_events_subscribe(NF_EVENT_STATE | NF_EVENT_STEP |
	    NF_EVENT_END, state_cb, state_want, NULL);
	mhd_arm();
	nf_info("web: listening on %s%s", w->listen, tls_on ? " (TLS)" :
	    "");
	return 0;
}

static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static void
set_proxies(const struct nf_web_cfg *w)
{
	size_t	i;

	for (i = 0; i < ntrusted; i++)
		free(trusted[i]);
	free(trusted);
	free(user_header);
	ntrusted = w->ntrusted_proxies;
	trusted = nf_xcalloc(ntrusted + 1, sizeof(*trusted));
	for (i = 0; i < ntrusted; i++)
		trusted[i] = nf_xstrdup(w->trusted_proxies[i]);
	user_header = nf_xstrdup(w->user_header);
}

void
nf_web_reload(const struct nf_config *old, const struct nf_config *cfg)
{
	const struct nf_web_cfg	*o = &old->web, *w = &cfg->web;
	char			 err[256];

	if (str_differ(o->listen, w->listen) ||
	    str_differ(o->tls_cert, w->tls_cert) ||
	    str_differ(o->tls_key, w->tls_key))
		nf_warnx("reload: [web] listen, tls_cert or tls_key changed; "
		    "the change takes effect at the next restart");
	if (mhd == NULL)
		return;
	set_proxies(w);
	if (w->session_ttl != o->session_ttl &&
	    nf_webauth_init(w->session_ttl, err, sizeof(err)) == -1)
		nf_warnx("reload: web.session_ttl: %s", err);
}

void
nf_web_close(void)
{
	struct sse	*s;
	struct req	*rq;
	size_t		 i;

	if (mhd == NULL)
		return;
	/*
	 * MHD must not stop with a suspended connection: the logins waiting
	 * for their check are resumed too (answered 503 if MHD asks); their
	 * checks are cancelled as MHD frees them, and nf_webauth_shutdown()
	 * below waits for the one being computed.
	 */
	closing = 1;
	while ((rq = LIST_FIRST(&logins)) != NULL) {
		LIST_REMOVE(rq, lentry);
		rq->lentry.le_prev = NULL;
		MHD_resume_connection(rq->conn);
	}
	LIST_FOREACH(s, &streams, entry) {
		s->dropped = 1;
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	}
	ev_io_stop(nfd.loop, &mhd_io);
	ev_timer_stop(nfd.loop, &mhd_timer);
	ev_timer_stop(nfd.loop, &hb_timer);
	MHD_stop_daemon(mhd);		/* frees every stream */
	mhd = NULL;
	nf_events_unsubscribe(log_sub);
	nf_events_unsubscribe(state_sub);
	log_sub = state_sub = 0;
	for (i = 0; i < EVENTS_RING; i++) {
		free(ring[i].job_id);
		free(ring[i].text);
		ring[i].job_id = ring[i].text = NULL;
	}
	for (i = 0; i < ntrusted; i++)
		free(trusted[i]);
	free(trusted);
	trusted = NULL;
	ntrusted = 0;
	free(user_header);
	user_header = NULL;
	tls_on = 0;
	nf_webauth_shutdown();
	closing = 0;
}
