/*
 * webauth.c: UI accounts, password checks, sessions, CSRF tokens and the
 * login rate limiter of the web front end.  Runs in nomaflowd, on the loop
 * thread (web.c and control.c call it), but for the password checks of
 * logins, which run on one verifier thread this module owns; owns
 * libsodium's password hashing and token generation (secret.c owns the
 * sealing of secrets).
 *
 * Passwords are crypto_pwhash_str strings (argon2id; the salt and the
 * limits are inside the string) in the store's web_accounts table, written
 * by nfctl user passwd.  An account logs in only if a [[user]] entry of the
 * current role model binds its name.
 *
 * Invariants:
 * - No password is ever stored, logged or kept: a login verifies it and
 *   forgets it.
 * - A login takes the same work whatever is wrong: an unknown name, a bad
 *   name or a missing hash is verified against a dummy hash made at init,
 *   and every credential failure gives the same message.  Only a right
 *   password learns that the account is not bound ("not a UI account").
 * - A password check or a new password's hash costs about 170 ms of CPU
 *   (argon2id, 64 MiB), on the verifier thread, not the loop.  A login's
 *   check happens only when neither the peer nor the account is blocked
 *   (checks in flight counting as failures) and the global budget
 *   (verify_burst, verify_rate per second) has a token, which also bounds
 *   the queue to verify_burst logins (password changes are admin
 *   commands, not limited).
 * - The verifier thread sees only a job's hash, password and result,
 *   between the two queue hand-offs under V.mu; everything else (limiter,
 *   sessions, store, callbacks) stays on the loop.  A job's callback runs
 *   on the loop, never inside nf_webauth_login_start() or
 *   nf_webauth_set_password_start(), and never after
 *   nf_webauth_login_cancel() or nf_webauth_shutdown().  The thread
 *   starts with the web front end, or with the first password change
 *   when the front end is off.
 * - Memory is bounded: at most max_sessions sessions (the oldest is
 *   dropped) and RL_SLOTS limiter entries (the least recently used
 *   unblocked entry is reused).
 * - Session ids and CSRF tokens are 32 random bytes (base64url); they are
 *   compared with sodium_memcmp, and the session table is indexed by a
 *   keyed hash (SipHash, random key), so lookup timing says nothing about
 *   a guess.
 * - The sessions list is in order of (re)activation, which is the order
 *   of expiry for one session_ttl: expired sessions are swept from its
 *   head.
 */
#include "autoconf.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "acl.h"
#include "config.h"
#include "log.h"
#include "nomaflowd.h"
#include "store.h"
#include "util.h"
#include "val.h"
#include "webauth.h"

#define SESS_BUCKETS	16384		/* power of two */
#define PROXY_BUCKETS	1024		/* power of two */
#define RL_SLOTS	4096		/* limiter entries */
#define KEY_BYTES	16

struct sess {
	struct nf_websession	 pub;		/* what callers see */
	char			 sid[NF_WEBAUTH_TOKEN_LEN + 1];
	int			 proxy;		/* reverse-proxy session */
	struct sess		*hnext;		/* by sid */
	struct sess		*pnext;		/* proxy sessions by user */
	TAILQ_ENTRY(sess)	 order;		/* oldest first */
};

/* One limiter entry: a peer address or an account name, by hash. */
struct rl {
	unsigned char	 key[KEY_BYTES];
	int		 used;
	int		 nfail;		/* failures in the current window */
	time_t		 window;	/* start of the window */
	time_t		 blocked_until;
	int		 penalty;	/* length of the last block, seconds */
	int		 pending;	/* password checks in flight */
	uint64_t	 tick;		/* last use (LRU) */
};

static struct {
	int			 init;
	int			 ttl;
	char			 dummy[crypto_pwhash_STRBYTES];
	unsigned char		 hkey[crypto_shorthash_KEYBYTES];
	struct sess		*by_sid[SESS_BUCKETS];
	struct sess		*by_user[PROXY_BUCKETS];
	TAILQ_HEAD(, sess)	 all;
	size_t			 n;
	struct rl		 rl[RL_SLOTS];
	uint64_t		 tick;
	int			 tokens;	/* global password-check budget */
	time_t			 tokens_at;
} W = { .all = TAILQ_HEAD_INITIALIZER(W.all) };

/* See nomaflow.toml(5), "UI accounts", and DESIGN.md for the numbers. */
#define LIMITS_DEFAULT {						\
	.fail_max = 5, .fail_window = 60,				\
	.block_base = 60, .block_max = 900,				\
	.verify_burst = 8, .verify_rate = 2,				\
	.max_sessions = 10000,						\
	.pwhash_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE,		\
	.pwhash_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE,		\
}
static struct nf_webauth_limits L = LIMITS_DEFAULT;

void
nf_webauth_limits_default(struct nf_webauth_limits *l)
{
	static const struct nf_webauth_limits d = LIMITS_DEFAULT;

	*l = d;
}

void
nf_webauth_set_limits(const struct nf_webauth_limits *l)
{
	L = *l;
	if (W.tokens > L.verify_burst)
		W.tokens = L.verify_burst;
}

size_t
nf_webauth_nsessions(void)
{
	return W.n;
}

/* Accounts ---------------------------------------------------------- */

int
nf_webauth_name_check(const char *name, char *err, size_t errlen)
{
	size_t	i, n;

	n = name != NULL ? strlen(name) : 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    strchr("._@-", name[i]) != NULL))
			break;
	if (n == 0 || n > NF_WEBAUTH_NAME_MAX || i < n || name[0] == '-' ||
	    name[0] == '.') {
		snprintf(err, errlen, "account name \"%s\" must be 1 to %d "
		    "letters, digits, '.', '_', '@' or '-', not starting with "
		    "'-' or '.' (the name of its [[user]] entry)",
		    name != NULL ? name : "", NF_WEBAUTH_NAME_MAX);
		return -1;
	}
	return 0;
}

int
nf_webauth_bound(const char *name)
{
	struct nf_acl_ident	 who;

	if (nfd.cur == NULL || nfd.cur->cfg == NULL)
		return 0;
	memset(&who, 0, sizeof(who));
	who.user = name;
	who.uid = -1;
	return nf_acl_bound(nfd.cur->cfg->acl, &who);
}

int
nf_webauth_password_check(const char *user, const char *pw, char *err,
    size_t errlen)
{
	size_t	 len = strlen(pw), i, chars = 0;

	if (len > NF_WEBAUTH_PASSWORD_MAX || !nf_utf8_valid(pw, len)) {
		snprintf(err, errlen, "password of %s: it must be UTF-8 text "
		    "of at most %d bytes", user, NF_WEBAUTH_PASSWORD_MAX);
		return -1;
	}
	/* Characters, not bytes: count what is not a continuation byte. */
	for (i = 0; i < len; i++)
		if (((unsigned char)pw[i] & 0xc0) != 0x80)
			chars++;
	if (chars < NF_WEBAUTH_PASSWORD_MIN) {
		snprintf(err, errlen, "password of %s is too short: %zu "
		    "character%s, at least %d are needed; nothing was changed",
		    user, chars, chars == 1 ? "" : "s",
		    NF_WEBAUTH_PASSWORD_MIN);
		return -1;
	}
	return 0;
}

/* Sessions ---------------------------------------------------------- */

static void
token_new(char out[NF_WEBAUTH_TOKEN_LEN + 1])
{
	unsigned char	 b[32];

	randombytes_buf(b, sizeof(b));
	sodium_bin2base64(out, NF_WEBAUTH_TOKEN_LEN + 1, b, sizeof(b),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof(b));
}

static size_t
bucket(const char *s, size_t nbuckets)
{
	unsigned char	 h[crypto_shorthash_BYTES];
	uint64_t	 v;

	crypto_shorthash(h, (const unsigned char *)s, strlen(s), W.hkey);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (nbuckets - 1));
}

static void
sess_drop(struct sess *s)
{
	struct sess	**pp;

	for (pp = &W.by_sid[bucket(s->sid, SESS_BUCKETS)]; *pp != s;
	    pp = &(*pp)->hnext)
		if (*pp == NULL)
			nf_panic("webauth: session not in its bucket");
	*pp = s->hnext;
	if (s->proxy) {
		for (pp = &W.by_user[bucket(s->pub.user, PROXY_BUCKETS)];
		    *pp != s; pp = &(*pp)->pnext)
			if (*pp == NULL)
				nf_panic("webauth: proxy session not in its "
				    "bucket");
		*pp = s->pnext;
	}
	TAILQ_REMOVE(&W.all, s, order);
	W.n--;
	sodium_memzero(s->sid, sizeof(s->sid));
	sodium_memzero(s->pub.csrf, sizeof(s->pub.csrf));
	free(s->pub.user);
	free(s);
}

static void
sweep(time_t now)
{
	struct sess	*s;

	while ((s = TAILQ_FIRST(&W.all)) != NULL && s->pub.expires <= now)
		sess_drop(s);
}

static struct sess *
sess_new(const char *user, int proxy, time_t now)
{
	struct sess	*s;
	size_t		 b;

	sweep(now);
	while (W.n > 0 && W.n >= (size_t)L.max_sessions)
		sess_drop(TAILQ_FIRST(&W.all));
	s = nf_xcalloc(1, sizeof(*s));
	s->pub.user = nf_xstrdup(user);
	s->pub.expires = now + W.ttl;
	s->proxy = proxy;
	token_new(s->sid);
	token_new(s->pub.csrf);
	b = bucket(s->sid, SESS_BUCKETS);
	s->hnext = W.by_sid[b];
	W.by_sid[b] = s;
	if (proxy) {
		b = bucket(user, PROXY_BUCKETS);
		s->pnext = W.by_user[b];
		W.by_user[b] = s;
	}
	TAILQ_INSERT_TAIL(&W.all, s, order);
	W.n++;
	return s;
}

static struct sess *
sess_find(const char *sid)
{
	struct sess	*s;

	if (!W.init || sid == NULL || strlen(sid) != NF_WEBAUTH_TOKEN_LEN)
		return NULL;
	for (s = W.by_sid[bucket(sid, SESS_BUCKETS)]; s != NULL; s = s->hnext)
		if (sodium_memcmp(s->sid, sid, NF_WEBAUTH_TOKEN_LEN) == 0)
			return s;
	return NULL;
}

/* The password sessions of user (a password change or removal). */
static void
drop_user(const char *user)
{
	struct sess	*s, *next;

	for (s = TAILQ_FIRST(&W.all); s != NULL; s = next) {
		next = TAILQ_NEXT(s, order);
		if (!s->proxy && strcmp(s->pub.user, user) == 0)
			sess_drop(s);
	}
}

const struct nf_websession *
nf_webauth_session(const char *sid, time_t now)
{
	struct sess	*s;

	if ((s = sess_find(sid)) == NULL)
		return NULL;
	if (s->pub.expires <= now || !nf_webauth_bound(s->pub.user)) {
		sess_drop(s);
		return NULL;
	}
	return &s->pub;
}

int
nf_webauth_csrf_ok(const struct nf_websession *ws, const char *token)
{
	if (ws == NULL || token == NULL ||
	    strlen(token) != NF_WEBAUTH_TOKEN_LEN)
		return 0;
	return sodium_memcmp(ws->csrf, token, NF_WEBAUTH_TOKEN_LEN) == 0;
}

void
nf_webauth_logout(const char *sid)
{
	struct sess	*s;

	if ((s = sess_find(sid)) != NULL)
		sess_drop(s);
}

const struct nf_websession *
nf_webauth_proxy_session(const char *user, time_t now,
    char sid[NF_WEBAUTH_TOKEN_LEN + 1])
{
	struct sess	*s;
	char		 e[256];

	if (!W.init || nf_webauth_name_check(user, e, sizeof(e)) == -1 ||
	    !nf_webauth_bound(user))
		return NULL;
	for (s = W.by_user[bucket(user, PROXY_BUCKETS)]; s != NULL;
	    s = s->pnext)
		if (strcmp(s->pub.user, user) == 0)
			break;
	if (s != NULL && s->pub.expires <= now) {
		sess_drop(s);
		s = NULL;
	}
	if (s == NULL)
		s = sess_new(user, 1, now);
	else {
		/* Slides: the proxy vouches for every request. */
		s->pub.expires = now + W.ttl;
		TAILQ_REMOVE(&W.all, s, order);
		TAILQ_INSERT_TAIL(&W.all, s, order);
	}
	memcpy(sid, s->sid, NF_WEBAUTH_TOKEN_LEN + 1);
	return &s->pub;
}

/* The rate limiter --------------------------------------------------- */

/*
 * The key of a peer: its address, an IPv6 address by its /64 (one host
 * usually holds a whole /64, so counting single addresses would let it
 * rotate through them).
 */
static void
peer_key(const char *peer, unsigned char key[KEY_BYTES])
{
	struct in6_addr	 a6;
	char		 buf[INET6_ADDRSTRLEN + 2];

	if (peer == NULL)
		peer = "";
	if (strchr(peer, ':') != NULL && inet_pton(AF_INET6, peer,
	    &a6) == 1 && !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(&a6.s6_addr[8], 0, 8);
		buf[0] = 'p';
		inet_ntop(AF_INET6, &a6, buf + 1, sizeof(buf) - 1);
		peer = buf;
	} else {
		snprintf(buf, sizeof(buf), "p%s", peer);
		peer = strlen(peer) + 1 < sizeof(buf) ? buf : peer;
	}
	crypto_generichash(key, KEY_BYTES, (const unsigned char *)peer,
	    strlen(peer), NULL, 0);
}

static void
account_key(const char *user, unsigned char key[KEY_BYTES])
{
	crypto_generichash_state	 st;

	crypto_generichash_init(&st, NULL, 0, KEY_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)"a", 1);
	crypto_generichash_update(&st, (const unsigned char *)user,
	    strlen(user));
	crypto_generichash_final(&st, key, KEY_BYTES);
}

/*
 * The entry of key; when create, a new one in a free slot or in place of
 * the least recently used entry that is not blocked (of any entry, when
 * every one is blocked).
 */
static struct rl *
rl_get(const unsigned char key[KEY_BYTES], int create, time_t now)
{
	struct rl	*e, *victim = NULL, *blocked = NULL;
	size_t		 i;

	for (i = 0; i < RL_SLOTS; i++) {
		e = &W.rl[i];
		if (!e->used) {
			if (victim == NULL || victim->used)
				victim = e;
			continue;
		}
		if (memcmp(e->key, key, KEY_BYTES) == 0) {
			e->tick = ++W.tick;
			return e;
		}
		if (e->blocked_until > now || e->pending > 0) {
			if (blocked == NULL || e->tick < blocked->tick)
				blocked = e;
		} else if (victim == NULL ||
		    (victim->used && e->tick < victim->tick))
			victim = e;
	}
	if (!create)
		return NULL;
	if (victim == NULL)
		victim = blocked;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, key, KEY_BYTES);
	victim->used = 1;
	victim->tick = ++W.tick;
	return victim;
}

/*
 * Seconds e is still blocked for (0: not blocked).  A wall clock stepped
 * back would stretch a block: it never lasts longer than its penalty.
 */
static int
rl_wait(struct rl *e, time_t now)
{
	if (e == NULL || e->blocked_until <= now)
		return 0;
	if (e->blocked_until - now > e->penalty)
		e->blocked_until = now + e->penalty;
	return (int)(e->blocked_until - now);
}

static void
rl_fail(struct rl *e, time_t now)
{
	/* Quiet for a whole block_max after the last block: forgiven. */
	if (e->penalty > 0 && now >= e->blocked_until + L.block_max)
		e->penalty = 0;
	if (now - e->window >= L.fail_window) {
		e->window = now;
		e->nfail = 0;
	}
	if (++e->nfail < L.fail_max)
		return;
	e->penalty = e->penalty == 0 ? L.block_base :
	    e->penalty >= L.block_max / 2 ? L.block_max : e->penalty * 2;
	e->blocked_until = now + e->penalty;
	e->nfail = 0;
	e->window = now;
}

/* Take a token of the global password-check budget: 0 none left. */
static int
budget_take(time_t now)
{
	long long	 t;

	/* A clock stepped back: start counting again from now. */
	if (now < W.tokens_at)
		W.tokens_at = now;
	if (now > W.tokens_at) {
		t = (long long)W.tokens + (long long)(now - W.tokens_at) *
		    L.verify_rate;
		W.tokens = t > L.verify_burst ? L.verify_burst : (int)t;
		W.tokens_at = now;
	}
	if (W.tokens <= 0)
		return 0;
	W.tokens--;
	return 1;
}

/* Login ------------------------------------------------------------- */

/*
 * One login being checked.  The loop thread owns every field but the
 * three marked "verifier": those the verifier thread reads and writes
 * while the job is on V.todo or in its hands, and the loop touches only
 * once the job came back on V.done (or never left V.todo).
 */
struct job {
	uint64_t		 id;		/* the ticket, never 0 */
	int			 passwd;	/* a new hash, not a login */
	nf_webauth_passwd_cb	*pcb;		/* passwd: the callback */
	unsigned long long	 ops;		/* passwd: L's limits at start */
	size_t			 mem;
	nf_webauth_login_cb	*cb;		/* NULL: cancelled */
	void			*arg;
	char			*user;
	char			*peer;
	time_t			 now;
	unsigned char		 pk[KEY_BYTES], ak[KEY_BYTES];
	int			 checked;	/* sent to the verifier */
	int			 valid;		/* a well-formed name */
	int			 has_hash;	/* the account has a password */
	int			 too_long;
	struct nf_webauth_result res;		/* decided on the loop */
	TAILQ_ENTRY(job)	 all;		/* W.jobs: not yet delivered */
	TAILQ_ENTRY(job)	 q;		/* V.todo or V.done, under V.mu */
	/* verifier: */
	char			 hash[crypto_pwhash_STRBYTES];
	char			*pw;		/* plen bytes + NUL */
	size_t			 plen;
	int			 verified;	/* passwd: hashed */
};
TAILQ_HEAD(jobq, job);

/*
 * The verifier thread and what the loop shares with it: the two queues,
 * under mu.  Nothing else of the daemon is reachable from the thread.
 */
static struct {
	int			 running;
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 stop;		/* under mu */
	struct jobq		 todo;		/* under mu */
	struct jobq		 done;		/* under mu */
	struct ev_loop		*loop;
	ev_async		 async;
} V = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
	.todo = TAILQ_HEAD_INITIALIZER(V.todo),
	.done = TAILQ_HEAD_INITIALIZER(V.done),
};

static struct jobq	 jobs = TAILQ_HEAD_INITIALIZER(jobs);
static size_t		 njobs;		/* logins in jobs */
static size_t		 npasswd;	/* password changes in jobs */
static uint64_t		 job_ids;

static void
job_free(struct job *j)
{
	if (j->pw != NULL) {
		sodium_memzero(j->pw, j->plen + 1);
		free(j->pw);
	}
	sodium_memzero(j->hash, sizeof(j->hash));
	free(j->user);
	free(j->peer);
	free(j);
}

/*
 * The verifier thread: argon2id over buffers the loop copied in, nothing
 * else (a login's check, or the hash of a new password).  It zeroes the
 * password as soon as it is checked or hashed.
 */
static void *
verifier(void *unused)
{
	struct job	*j;

	pthread_mutex_lock(&V.mu);
	for (;;) {
		while (!V.stop && TAILQ_EMPTY(&V.todo))
			pthread_cond_wait(&V.cv, &V.mu);
		if (V.stop)
			break;
		j = TAILQ_FIRST(&V.todo);
		TAILQ_REMOVE(&V.todo, j, q);
		pthread_mutex_unlock(&V.mu);
		if (j->passwd)
			j->verified = crypto_pwhash_str(j->hash, j->pw,
			    j->plen, j->ops, j->mem) == 0;
		else
			j->verified = crypto_pwhash_str_verify(j->hash, j->pw,
			    j->plen) == 0;
		sodium_memzero(j->pw, j->plen + 1);
		pthread_mutex_lock(&V.mu);
		TAILQ_INSERT_TAIL(&V.done, j, q);
		ev_async_send(V.loop, &V.async);
	}
	pthread_mutex_unlock(&V.mu);
	return NULL;
}

/* A limiter entry's checks in flight, kept so that it is not reused. */
static void
rl_pending(const unsigned char key[KEY_BYTES], int d, time_t now)
{
	struct rl	*e;

	if ((e = rl_get(key, d > 0, now)) != NULL && e->pending + d >= 0)
		e->pending += d;
}

/* Would the checks in flight, all failing, block e? */
static int
rl_inflight_full(const struct rl *e, time_t now)
{
	int	 nfail;

	if (e == NULL || e->pending == 0)
		return 0;
	nfail = now - e->window >= L.fail_window ? 0 : e->nfail;
	return nfail + e->pending >= L.fail_max;
}

/* What a checked job comes to: the limiter, the session, the message. */
static void
job_apply(struct job *j)
{
	struct nf_webauth_result	*r = &j->res;
	struct rl			*ae;
	struct sess			*s;
	char				*hash = NULL;
	int				 ok;

	rl_pending(j->pk, -1, j->now);
	rl_pending(j->ak, -1, j->now);
	ok = j->verified && j->has_hash && !j->too_long;
	/* The password changed while it was checked: the old one is wrong. */
	if (ok && (nf_store_account_get(j->user, &hash) != 1 ||
	    strcmp(hash, j->hash) != 0))
		ok = 0;
	free(hash);
	if (!ok)
		snprintf(r->err, sizeof(r->err), "wrong user name or password");
	else if (!nf_webauth_bound(j->user)) {
		snprintf(r->err, sizeof(r->err), "%s is not a UI account: no "
		    "[[user]] entry of the role model names it; ask an admin "
		    "to add one (nomaflow.toml(5))", j->user);
		ok = 0;
	}
	if (!ok) {
		/* A client that went away still used up a guess. */
		rl_fail(rl_get(j->pk, 1, j->now), j->now);
		rl_fail(rl_get(j->ak, 1, j->now), j->now);
		/* The name is the client's: only a well-formed one is logged. */
		nf_info("web: failed login for %s from %s", j->valid ?
		    j->user : "a malformed name", j->peer);
		r->rc = -1;
		return;
	}
	/* A success forgives the account, not the address. */
	if ((ae = rl_get(j->ak, 0, j->now)) != NULL)
		memset(ae, 0, sizeof(*ae));
	if (j->cb == NULL)
		return;		/* nobody to give the session to */
	s = sess_new(j->user, 0, j->now);
	memcpy(r->sid, s->sid, NF_WEBAUTH_TOKEN_LEN + 1);
	r->session = &s->pub;
	r->rc = 0;
}

/*
 * A new hash is back: the store write and the account's sessions, on the
 * loop.  The hash in the store is the one of the password change that
 * ended last, which is the one started last (one thread, in order).
 */
static void
passwd_apply(struct job *j)
{
	char	 err[512];
	int	 rc = -1;

	if (!j->verified)
		snprintf(err, sizeof(err), "password of %s: hashing failed "
		    "(out of memory?); nothing was changed", j->user);
	else if (nf_store_account_put(j->user, j->hash, nf_now_ms()) == -1)
		snprintf(err, sizeof(err), "password of %s not saved: %s",
		    j->user, nf_store_error());
	else {
		drop_user(j->user);
		err[0] = '\0';
		rc = 0;
	}
	j->pcb(rc, err, j->arg);
}

/* Back on the loop: the jobs the verifier (or login_start) finished. */
static void
async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct jobq	 ready = TAILQ_HEAD_INITIALIZER(ready);
	struct job	*j;

	pthread_mutex_lock(&V.mu);
	TAILQ_CONCAT(&ready, &V.done, q);
	pthread_mutex_unlock(&V.mu);
	/* Password changes come back even when the web front end is off. */
	while (V.running && (j = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, j, q);
		TAILQ_REMOVE(&jobs, j, all);
		if (j->passwd) {
			npasswd--;
			passwd_apply(j);
			job_free(j);
			continue;
		}
		njobs--;
		if (j->checked)
			job_apply(j);
		if (j->cb != NULL)
			j->cb(&j->res, j->arg);
		if (j->res.rc == 0)
			sodium_memzero(j->res.sid, sizeof(j->res.sid));
		job_free(j);
	}
}

/* Hand j back through the loop: the callback never runs inside start. */
static void
job_done(struct job *j, int to_verifier)
{
	pthread_mutex_lock(&V.mu);
	if (to_verifier) {
		TAILQ_INSERT_TAIL(&V.todo, j, q);
		pthread_cond_signal(&V.cv);
	} else {
		TAILQ_INSERT_TAIL(&V.done, j, q);
		ev_async_send(V.loop, &V.async);
	}
	pthread_mutex_unlock(&V.mu);
}

uint64_t
nf_webauth_login_start(const char *user, const char *password,
    const char *peer, time_t now, nf_webauth_login_cb *cb, void *arg)
{
	struct nf_webauth_result	*r;
	struct job			*j;
	struct rl			*pe, *ae;
	char				*hash = NULL, e[256];
	int				 wait;

	if (!W.init || !V.running)
		return 0;
	if (user == NULL)
		user = "";
	if (password == NULL)
		password = "";
	j = nf_xcalloc(1, sizeof(*j));
	j->id = ++job_ids;
	j->cb = cb;
	j->arg = arg;
	j->user = nf_xstrdup(user);
	j->peer = nf_xstrdup(peer != NULL ? peer : "?");
	j->now = now;
	r = &j->res;
	r->rc = -1;
	TAILQ_INSERT_TAIL(&jobs, j, all);
	njobs++;
	peer_key(peer, j->pk);
	account_key(user, j->ak);
	pe = rl_get(j->pk, 0, now);
	ae = rl_get(j->ak, 0, now);
	wait = rl_wait(pe, now) > rl_wait(ae, now) ? rl_wait(pe, now) :
	    rl_wait(ae, now);
	/*
	 * Checks in flight count as failures until they are known: else a
	 * burst of concurrent guesses would get past fail_max.  They end
	 * within a second or so, hence "retry in 1 s".
	 */
	if (wait == 0 && (rl_inflight_full(pe, now) ||
	    rl_inflight_full(ae, now)))
		wait = 1;
	/* The budget also bounds the queue: at most verify_burst waiting. */
	if (wait == 0 && (njobs > (size_t)L.verify_burst || !budget_take(now)))
		wait = 1;
	if (wait > 0) {
		r->rc = -2;
		r->retry_after = wait;
		snprintf(r->err, sizeof(r->err), "too many login attempts; try "
		    "again in %d second%s", wait, wait == 1 ? "" : "s");
		job_done(j, 0);
		return j->id;
	}
	j->valid = nf_webauth_name_check(user, e, sizeof(e)) == 0;
	if (j->valid && nf_store_account_get(user, &hash) == -1) {
		snprintf(r->err, sizeof(r->err), "login: cannot read the "
		    "accounts: %s; try again later", nf_store_error());
		job_done(j, 0);
		return j->id;
	}
	/* Always one verification, against the dummy when nothing else. */
	j->has_hash = hash != NULL;
	snprintf(j->hash, sizeof(j->hash), "%s", hash != NULL ? hash : W.dummy);
	free(hash);
	j->plen = strlen(password);
	if (j->plen > NF_WEBAUTH_PASSWORD_MAX) {
		j->too_long = 1;
		j->plen = 0;
	}
	j->pw = nf_xmalloc(j->plen + 1);
	memcpy(j->pw, password, j->plen);
	j->pw[j->plen] = '\0';
	rl_pending(j->pk, 1, now);
	rl_pending(j->ak, 1, now);
	j->checked = 1;
	job_done(j, 1);
	return j->id;
}

void
nf_webauth_login_cancel(uint64_t ticket)
{
	struct job	*j;

	TAILQ_FOREACH(j, &jobs, all)
		if (j->id == ticket) {
			j->cb = NULL;
			j->arg = NULL;
			return;
		}
}

size_t
nf_webauth_logins_pending(void)
{
	return njobs;
}

/* The verifier thread, its queues and its ev_async; at init. */
static int
verifier_start(char *err, size_t errlen)
{
	sigset_t	 all, old;
	int		 rc;

	if (V.running)
		return 0;	/* started by a password change */
	if (nfd.loop == NULL) {
		snprintf(err, errlen, "web: no event loop for the password "
		    "checks");
		return -1;
	}
	V.loop = nfd.loop;
	V.stop = 0;
	ev_async_init(&V.async, async_cb);
	ev_async_start(V.loop, &V.async);
	/* Every signal stays with the loop thread (ev_signal). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&V.th, NULL, verifier, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		ev_async_stop(V.loop, &V.async);
		snprintf(err, errlen, "cannot start the password hashing "
		    "thread: %s", strerror(rc));
		return -1;
	}
	V.running = 1;
	return 0;
}

/*
 * Stop the verifier: the check it is doing ends (argon2 cannot be
 * interrupted: at most one check's time), the queued ones are dropped,
 * and no callback runs again.
 */
static void
verifier_stop(void)
{
	struct job	*j;

	if (!V.running)
		return;
	pthread_mutex_lock(&V.mu);
	V.stop = 1;
	pthread_cond_signal(&V.cv);
	pthread_mutex_unlock(&V.mu);
	pthread_join(V.th, NULL);
	ev_async_stop(V.loop, &V.async);
	TAILQ_INIT(&V.todo);
	TAILQ_INIT(&V.done);
	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		TAILQ_REMOVE(&jobs, j, all);
		/* A password change's arg is the callback's to free: not run. */
		if (j->passwd)
			free(j->arg);
		job_free(j);
	}
	njobs = 0;
	npasswd = 0;
	V.running = 0;
}

/* Password changes -------------------------------------------------- */

static int
sodium_up(char *err, size_t errlen)
{
	if (sodium_init() == -1) {
		snprintf(err, errlen, "web accounts: libsodium cannot "
		    "initialise");
		return -1;
	}
	return 0;
}

int
nf_webauth_set_password(const char *user, const char *password, char *err,
    size_t errlen)
{
	char	 hash[crypto_pwhash_STRBYTES];

	if (nf_webauth_name_check(user, err, errlen) == -1 ||
	    nf_webauth_password_check(user, password, err, errlen) == -1 ||
	    sodium_up(err, errlen) == -1)
		return -1;
	if (crypto_pwhash_str(hash, password, strlen(password),
	    L.pwhash_ops, L.pwhash_mem) != 0) {
		snprintf(err, errlen, "password of %s: hashing failed (out of "
		    "memory?); nothing was changed", user);
		return -1;
	}
	if (nf_store_account_put(user, hash, nf_now_ms()) == -1) {
		snprintf(err, errlen, "password of %s not saved: %s", user,
		    nf_store_error());
		return -1;
	}
	drop_user(user);
	return 0;
}

int
nf_webauth_set_password_start(const char *user, const char *password,
    nf_webauth_passwd_cb *cb, void *arg, char *err, size_t errlen)
{
	struct job	*j;

	if (nf_webauth_name_check(user, err, errlen) == -1 ||
	    nf_webauth_password_check(user, password, err, errlen) == -1 ||
	    sodium_up(err, errlen) == -1)
		return -1;
	/* nfctl user passwd works before [web] is on: start the thread. */
	if (!V.running && verifier_start(err, errlen) == -1)
		return -1;
	j = nf_xcalloc(1, sizeof(*j));
	j->id = ++job_ids;
	j->passwd = 1;
	j->pcb = cb;
	j->arg = arg;
	j->user = nf_xstrdup(user);
	j->peer = nf_xstrdup("-");
	j->ops = L.pwhash_ops;
	j->mem = L.pwhash_mem;
	j->plen = strlen(password);
	j->pw = nf_xmalloc(j->plen + 1);
	memcpy(j->pw, password, j->plen + 1);
	TAILQ_INSERT_TAIL(&jobs, j, all);
	npasswd++;
	job_done(j, 1);
	return 0;
}

size_t
nf_webauth_passwd_pending(void)
{
	return npasswd;
}

int
nf_webauth_remove(const char *user, char *err, size_t errlen)
{
	int	 rc;

	if (nf_webauth_name_check(user, err, errlen) == -1)
		return -1;
	if ((rc = nf_store_account_del(user)) == -1) {
		snprintf(err, errlen, "account %s not removed: %s", user,
		    nf_store_error());
		return -1;
	}
	drop_user(user);
	return rc;
}

struct nf_val *
nf_webauth_list(char *err, size_t errlen)
{
	struct nf_val	*l, *m;
	size_t		 i;

	if ((l = nf_store_account_list()) == NULL) {
		snprintf(err, errlen, "web accounts: %s", nf_store_error());
		return NULL;
	}
	for (i = 0; i < l->u.a.n; i++) {
		m = l->u.a.items[i];
		nf_val_map_set_bool(m, "ui",
		    nf_webauth_bound(nf_val_get_str(m, "name")));
	}
	return l;
}

/* Life cycle -------------------------------------------------------- */

int
nf_webauth_init(int session_ttl, char *err, size_t errlen)
{
	char	 pw[NF_WEBAUTH_TOKEN_LEN + 1];

	if (session_ttl < 0) {
		snprintf(err, errlen, "web: session_ttl must be a positive "
		    "number of seconds, not %d", session_ttl);
		return -1;
	}
	W.ttl = session_ttl == 0 ? NF_WEBAUTH_DEFAULT_TTL : session_ttl;
	if (W.init)
		return 0;
	if (sodium_up(err, errlen) == -1)
		return -1;
	/* The dummy: the same limits as a real hash, so the same work. */
	token_new(pw);
	if (crypto_pwhash_str(W.dummy, pw, strlen(pw), L.pwhash_ops,
	    L.pwhash_mem) != 0) {
		snprintf(err, errlen, "web: cannot hash (out of memory?)");
		return -1;
	}
	sodium_memzero(pw, sizeof(pw));
	if (verifier_start(err, errlen) == -1)
		return -1;
	crypto_shorthash_keygen(W.hkey);
	W.tokens = L.verify_burst;
	W.tokens_at = 0;
	W.init = 1;
	return 0;
}

void
nf_webauth_shutdown(void)
{
	verifier_stop();
	while (!TAILQ_EMPTY(&W.all))
		sess_drop(TAILQ_FIRST(&W.all));
	memset(W.rl, 0, sizeof(W.rl));
	sodium_memzero(W.hkey, sizeof(W.hkey));
	W.tick = 0;
	W.init = 0;
}
