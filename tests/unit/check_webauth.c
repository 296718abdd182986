/*
 * check_webauth.c: unit tests of supervisor/webauth.c on a real store (a
 * fresh SQLite file per test) and a real role model (acl.c from TOML):
 * password hashing and verification, the same error for a wrong password,
 * an unknown user and a bad name, unbound accounts, the rate limiter (per
 * account, per address and /64, the global budget, doubling blocks,
 * recovery, bounded memory) with an injected clock, session expiry, CSRF
 * tokens, logout, password changes and removal dropping sessions, the
 * session cap and reverse-proxy sessions; the checks run off the loop
 * (a timer fires while they run), cancelled logins, concurrent guesses,
 * the bounded queue and a shutdown with checks in flight.
 *
 * Most tests lower the crypto_pwhash limits (the verification work is the
 * same code path, only cheaper); test_defaults checks the real limits.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "nf_check.h"
#include "acl.h"
#include "log.h"
#include "config.h"
#include "nomaflowd.h"
#include "store.h"
#include "toml.h"
#include "util.h"
#include "val.h"
#include "webauth.h"

struct nf_daemon	 nfd;
static struct nf_config	 cfg;
static struct nf_cfgref	 cref;
static char		 tdir[256];
static char		 dbpath[300];

static const char *const roles_toml =
    "[[role]]\nname = \"viewer\"\ngrants = [\"view job:*\"]\n"
    "[[user]]\nname = \"alice\"\nroles = [\"viewer\"]\n"
    "[[user]]\nname = \"bob\"\nroles = [\"viewer\"]\n"
    "[[user]]\nname = \"dave\"\nroles = [\"viewer\"]\n"
    "[[user]]\nname = \"erin\"\nroles = [\"viewer\"]\n";

static void
set_acl(const char *text)
{
	struct nf_toml_value	*root;
	struct nf_errs		 errs;
	char			 err[512];

	if (cfg.acl != NULL)
		nf_acl_free(cfg.acl);
	nf_errs_init(&errs);
	root = nf_toml_parse(text, strlen(text), "n.toml", err, sizeof(err));
	ck_assert_msg(root != NULL, "%s", err);
	cfg.acl = nf_acl_load(root, "n.toml", &errs);
	ck_assert_msg(errs.n == 0, "%s", errs.n ? errs.msgs[0] : "");
	nf_errs_free(&errs);
	nf_toml_free(root);
}

/* Cheap hashes and a budget that never runs out, unless a test says. */
static void
fast_limits(struct nf_webauth_limits *l)
{
	nf_webauth_limits_default(l);
	l->pwhash_ops = crypto_pwhash_OPSLIMIT_MIN;
	l->pwhash_mem = crypto_pwhash_MEMLIMIT_MIN;
	l->verify_burst = 1000000;
	l->verify_rate = 1000000;
}

static void
start(const struct nf_webauth_limits *l, int ttl)
{
	char	 err[256];

	nf_webauth_set_limits(l);
	ck_assert_msg(nf_webauth_init(ttl, err, sizeof(err)) == 0, "%s", err);
}

/* With the limits setup() chose. */
static void
init_ttl(int ttl)
{
	char	 err[256];

	ck_assert_msg(nf_webauth_init(ttl, err, sizeof(err)) == 0, "%s", err);
}

static void
setup(void)
{
	struct nf_webauth_limits l;
	const char	*t = getenv("TMPDIR");

	snprintf(tdir, sizeof(tdir), "%s/nf-webauth-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(dbpath, sizeof(dbpath), "%s/store.db", tdir);
	ck_assert_int_eq(nf_store_open(dbpath, 0), 0);
	memset(&cfg, 0, sizeof(cfg));
	set_acl(roles_toml);
	cref.cfg = &cfg;
	nfd.cur = &cref;
	nfd.loop = ev_default_loop(0);
	fast_limits(&l);
	nf_webauth_set_limits(&l);
	nf_log_set_level(NF_LOG_WARN);
}

static void
teardown(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[600];

	nf_webauth_shutdown();
	nf_store_close();
	if ((d = opendir(tdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tdir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tdir);
}

static void
passwd(const char *user, const char *pw)
{
	char	 err[512];

	ck_assert_msg(nf_webauth_set_password(user, pw, err, sizeof(err)) == 0,
	    "%s", err);
}

/* The outcome of one asynchronous login, filled by its callback. */
struct outcome {
	int				 called;
	int				 order;		/* of the callbacks */
	struct nf_webauth_result	 res;
};
static int	 ncalls;

static void
login_done(const struct nf_webauth_result *res, void *arg)
{
	struct outcome	*o = arg;

	o->called++;
	o->order = ++ncalls;
	o->res = *res;
}

/* Run the loop until every login started has called back. */
static void
drain(void)
{
	while (nf_webauth_logins_pending() > 0)
		ev_run(nfd.loop, EVRUN_ONCE);
}

/* A login: its return code; *ws, sid, retry and err for the checks. */
static int
login(const char *user, const char *pw, const char *peer, time_t now,
    const struct nf_websession **ws, char *sid, int *retry, char *err)
{
	struct outcome	 o;

	memset(&o, 0, sizeof(o));
	ck_assert_uint_ne(nf_webauth_login_start(user, pw, peer, now,
	    login_done, &o), 0);
	/* Never from inside the start. */
	ck_assert_int_eq(o.called, 0);
	drain();
	ck_assert_int_eq(o.called, 1);
	if (ws != NULL)
		*ws = o.res.session;
	if (sid != NULL)
		memcpy(sid, o.res.sid, sizeof(o.res.sid));
	if (retry != NULL)
		*retry = o.res.retry_after;
	if (err != NULL)
		memcpy(err, o.res.err, sizeof(o.res.err));
	if (o.res.rc == 0) {
		ck_assert_ptr_nonnull(o.res.session);
		ck_assert_uint_eq(strlen(o.res.sid), NF_WEBAUTH_TOKEN_LEN);
	} else {
		ck_assert_ptr_null(o.res.session);
		ck_assert_str_eq(o.res.sid, "");
	}
	return o.res.rc;
}

static double
ms_since(const struct timespec *a)
{
	struct timespec	 b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* The real limits: argon2id, interactive; an unknown user costs as much. */
START_TEST(test_defaults)
{
	struct nf_webauth_limits l;
	const struct nf_websession *ws;
	struct timespec	 t0;
	char		*hash, sid[64], err[512], peer[32], user[32];
	double		 wrong, unknown, ms;
	time_t		 now = 1000000;
	int		 i;

	nf_webauth_limits_default(&l);
	start(&l, 0);
	passwd("alice", "correct horse");
	ck_assert_int_eq(nf_store_account_get("alice", &hash), 1);
	ck_assert_msg(strncmp(hash, "$argon2id$v=19$m=65536,t=2,p=1$",
	    31) == 0, "%s", hash);
	ck_assert_ptr_null(strstr(hash, "correct horse"));
	free(hash);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", now,
	    &ws, sid, NULL, err), 0);
	ck_assert_str_eq(ws->user, "alice");
	ck_assert_int_eq(ws->expires, now + NF_WEBAUTH_DEFAULT_TTL);
	ck_assert_ptr_eq(nf_webauth_session(sid, now), ws);

	/*
	 * Without the dummy hash an unknown user answers ~1000x faster.  The
	 * fastest of 3 each: a busy machine only ever makes one slower.
	 */
	wrong = unknown = 1e9;
	for (i = 0; i < 3; i++) {
		snprintf(peer, sizeof(peer), "10.0.1.%d", i);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(login("alice", "wrong horse", peer, now, NULL,
		    NULL, NULL, err), -1);
		if ((ms = ms_since(&t0)) < wrong)
			wrong = ms;
		snprintf(peer, sizeof(peer), "10.0.2.%d", i);
		snprintf(user, sizeof(user), "nobody%d", i);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(login(user, "wrong horse", peer, now, NULL,
		    NULL, NULL, err), -1);
		if ((ms = ms_since(&t0)) < unknown)
			unknown = ms;
	}
	ck_assert_msg(unknown > wrong * 0.5,
	    "wrong password %.1f ms, unknown user %.1f ms", wrong, unknown);
}
END_TEST

START_TEST(test_wrong_password)
{
	char	 err[512];
	int	 retry;

	init_ttl(0);
	passwd("alice", "correct horse");
	ck_assert_int_eq(login("alice", "correct hors", "10.0.0.1", 100, NULL,
	    NULL, &retry, err), -1);
	ck_assert_str_eq(err, "wrong user name or password");
	ck_assert_int_eq(retry, 0);
	ck_assert_int_eq(login("alice", "", "10.0.0.1", 100, NULL, NULL, NULL,
	    err), -1);
	ck_assert_int_eq(login("alice", NULL, "10.0.0.1", 100, NULL, NULL,
	    NULL, err), -1);
	ck_assert_uint_eq(nf_webauth_nsessions(), 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 100,
	    NULL, NULL, NULL, err), 0);
}
END_TEST

/* Unknown user, bad name, no hash: the wrong password's message. */
START_TEST(test_unknown_same_error)
{
	char	 a[512], b[512];
	char	 big[NF_WEBAUTH_PASSWORD_MAX + 10];

	init_ttl(0);
	passwd("alice", "correct horse");
	ck_assert_int_eq(login("alice", "wrong horse", "10.0.0.1", 100, NULL,
	    NULL, NULL, a), -1);
	/* bob is bound but has no password; zed neither. */
	ck_assert_int_eq(login("bob", "wrong horse", "10.0.0.2", 100, NULL,
	    NULL, NULL, b), -1);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(login("zed", "wrong horse", "10.0.0.3", 100, NULL,
	    NULL, NULL, b), -1);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(login("../etc", "x", "10.0.0.4", 100, NULL, NULL,
	    NULL, b), -1);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(login("", "x", "10.0.0.5", 100, NULL, NULL, NULL, b),
	    -1);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(login(NULL, NULL, NULL, 100, NULL, NULL, NULL, b), -1);
	ck_assert_str_eq(a, b);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(login("alice", big, "10.0.0.6", 100, NULL, NULL,
	    NULL, b), -1);
	ck_assert_str_eq(a, b);
}
END_TEST

/* A hash without a [[user]] entry: only the right password learns why. */
START_TEST(test_unbound_refused)
{
	char	 err[512];

	init_ttl(0);
	passwd("carol", "correct horse");
	ck_assert_int_eq(nf_webauth_bound("carol"), 0);
	ck_assert_int_eq(login("carol", "wrong horse", "10.0.0.1", 100, NULL,
	    NULL, NULL, err), -1);
	ck_assert_str_eq(err, "wrong user name or password");
	ck_assert_int_eq(login("carol", "correct horse", "10.0.0.1", 100,
	    NULL, NULL, NULL, err), -1);
	ck_assert_msg(strstr(err, "carol is not a UI account") != NULL &&
	    strstr(err, "[[user]]") != NULL, "%s", err);
	ck_assert_uint_eq(nf_webauth_nsessions(), 0);
	/* Bound by a reload: now it logs in. */
	set_acl("[[role]]\nname = \"v\"\ngrants = [\"view job:*\"]\n"
	    "[[user]]\nname = \"carol\"\nroles = [\"v\"]\n");
	ck_assert_int_eq(login("carol", "correct horse", "10.0.0.1", 100,
	    NULL, NULL, NULL, err), 0);
}
END_TEST

/* 5 failures on an account block it, from any address; blocks double. */
START_TEST(test_rate_limit_account)
{
	struct nf_webauth_limits l;
	char	 err[512], peer[32];
	time_t	 now = 5000;
	int	 i, retry, round, want;

	fast_limits(&l);
	start(&l, 0);
	passwd("alice", "correct horse");
	for (i = 0; i < 5; i++) {
		snprintf(peer, sizeof(peer), "10.0.1.%d", i);
		ck_assert_int_eq(login("alice", "guess", peer, now + i, NULL,
		    NULL, &retry, err), -1);
	}
	/* Even the right password, from a fresh address. */
	ck_assert_int_eq(login("alice", "correct horse", "10.9.9.9", now + 5,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(retry, 60 - 1);
	ck_assert_msg(strstr(err, "try again in 59 seconds") != NULL, "%s",
	    err);
	/* Another account is not affected. */
	passwd("bob", "correct horse");
	ck_assert_int_eq(login("bob", "correct horse", "10.9.9.8", now + 5,
	    NULL, NULL, NULL, err), 0);
	/* Blocks double: 60, 120, 240, 480, then 900 at most. */
	now += 4;
	for (round = 0, want = 60; round < 6; round++) {
		now += want;	/* the block is over */
		want = want * 2 > 900 ? 900 : want * 2;
		for (i = 0; i < 5; i++) {
			snprintf(peer, sizeof(peer), "10.%d.2.%d", round, i);
			ck_assert_int_eq(login("alice", "guess", peer, now,
			    NULL, NULL, &retry, err), -1);
		}
		ck_assert_int_eq(login("alice", "correct horse", "10.9.9.9",
		    now, NULL, NULL, &retry, err), -2);
		ck_assert_int_eq(retry, want);
	}
	/* Over: the right password works and forgives the account. */
	now += 900;
	ck_assert_int_eq(login("alice", "correct horse", "10.9.9.9", now,
	    NULL, NULL, &retry, err), 0);
	for (i = 0; i < 5; i++) {
		snprintf(peer, sizeof(peer), "10.0.3.%d", i);
		ck_assert_int_eq(login("alice", "guess", peer, now, NULL,
		    NULL, &retry, err), -1);
	}
	ck_assert_int_eq(login("alice", "correct horse", "10.9.9.9", now,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(retry, 60);
}
END_TEST

/* Failures spread over more than the window do not block. */
START_TEST(test_rate_limit_window)
{
	char	 err[512];
	int	 i;

	init_ttl(0);
	passwd("alice", "correct horse");
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(login("alice", "guess", "10.0.0.1",
		    1000 + i * 15, NULL, NULL, NULL, err), -1);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1",
	    1000 + 20 * 15, NULL, NULL, NULL, err), 0);
}
END_TEST

/* 5 failures from one address block it, whatever the account. */
START_TEST(test_rate_limit_peer)
{
	char	 err[512], user[32], peer[64];
	int	 i, retry;

	init_ttl(0);
	passwd("alice", "correct horse");
	for (i = 0; i < 5; i++) {
		snprintf(user, sizeof(user), "nobody%d", i);
		ck_assert_int_eq(login(user, "guess", "192.0.2.7", 100, NULL,
		    NULL, NULL, err), -1);
	}
	ck_assert_int_eq(login("alice", "correct horse", "192.0.2.7", 110,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(retry, 50);
	/* Another address is fine, and its success does not free the first. */
	ck_assert_int_eq(login("alice", "correct horse", "192.0.2.8", 110,
	    NULL, NULL, NULL, err), 0);
	ck_assert_int_eq(login("alice", "correct horse", "192.0.2.7", 111,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(login("alice", "correct horse", "192.0.2.7", 160,
	    NULL, NULL, NULL, err), 0);
	/* IPv6: a /64 is one peer. */
	for (i = 0; i < 5; i++) {
		snprintf(peer, sizeof(peer), "2001:db8:0:1::%x", i + 1);
		snprintf(user, sizeof(user), "nobody%d", i);
		ck_assert_int_eq(login(user, "guess", peer, 200, NULL, NULL,
		    NULL, err), -1);
	}
	ck_assert_int_eq(login("alice", "correct horse",
	    "2001:db8:0:1:ffff::1", 200, NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(login("alice", "correct horse", "2001:db8:0:2::1",
	    200, NULL, NULL, NULL, err), 0);
}
END_TEST

/* The global budget of password checks: then "retry in 1 s". */
START_TEST(test_global_budget)
{
	struct nf_webauth_limits l;
	char	 err[512], peer[32];
	int	 i, retry;

	fast_limits(&l);
	l.verify_burst = 3;
	l.verify_rate = 1;
	start(&l, 0);
	passwd("alice", "correct horse");
	for (i = 0; i < 3; i++) {
		snprintf(peer, sizeof(peer), "10.0.0.%d", i);
		ck_assert_int_eq(login("alice", "correct horse", peer, 100,
		    NULL, NULL, NULL, err), 0);
	}
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.9", 100,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(retry, 1);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.9", 101,
	    NULL, NULL, NULL, err), 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.9", 101,
	    NULL, NULL, &retry, err), -2);
	/* Refills up to the burst, not beyond. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(login("alice", "correct horse", "10.0.0.9",
		    1000, NULL, NULL, NULL, err), 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.9", 1000,
	    NULL, NULL, &retry, err), -2);
}
END_TEST

/* A wall clock stepped back neither stretches a block nor the budget. */
START_TEST(test_clock_step_back)
{
	struct nf_webauth_limits l;
	char	 err[512];
	int	 i, retry;

	fast_limits(&l);
	l.verify_burst = 6;
	l.verify_rate = 1;
	start(&l, 0);
	passwd("alice", "correct horse");
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(login("alice", "guess", "10.0.0.1", 100000,
		    NULL, NULL, NULL, err), -1);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.2", 100000,
	    NULL, NULL, NULL, err), -2);
	/* An hour back: still blocked, for at most the block. */
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.2", 96400,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(retry, 60);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.2", 96460,
	    NULL, NULL, NULL, err), 0);
	/* The budget (1 left) refills from the new time on. */
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.2", 96460,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(retry, 1);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.2", 96461,
	    NULL, NULL, NULL, err), 0);
}
END_TEST

/* A blocked entry survives a flood of new keys (bounded table, LRU). */
START_TEST(test_limiter_bounded)
{
	char	 err[512], peer[32], user[32];
	int	 i, retry;

	init_ttl(0);
	passwd("alice", "correct horse");
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(login("x", "guess", "198.51.100.1", 100,
		    NULL, NULL, NULL, err), -1);
	/* 6000 addresses and one account name each: 12,000 keys. */
	for (i = 0; i < 6000; i++) {
		snprintf(peer, sizeof(peer), "10.%d.%d.1", i / 256, i % 256);
		snprintf(user, sizeof(user), "u%d", i);
		ck_assert_int_eq(login(user, "guess", peer, 101, NULL, NULL,
		    NULL, err), -1);
	}
	ck_assert_int_eq(login("alice", "correct horse", "198.51.100.1", 102,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_eq(retry, 58);
}
END_TEST

START_TEST(test_session_expiry)
{
	const struct nf_websession *ws;
	char	 sid[64], err[512];

	init_ttl(100);
	passwd("alice", "correct horse");
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 1000,
	    &ws, sid, NULL, err), 0);
	ck_assert_int_eq(ws->expires, 1100);
	ck_assert_ptr_eq(nf_webauth_session(sid, 1099), ws);
	ck_assert_ptr_null(nf_webauth_session(sid, 1100));
	ck_assert_uint_eq(nf_webauth_nsessions(), 0);
	ck_assert_ptr_null(nf_webauth_session(sid, 1000));
	/* Unknown, malformed, empty, NULL. */
	ck_assert_ptr_null(nf_webauth_session(NULL, 1000));
	ck_assert_ptr_null(nf_webauth_session("", 1000));
	ck_assert_ptr_null(nf_webauth_session("abc", 1000));
	ck_assert_ptr_null(nf_webauth_session(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1000));
	/* A reload changes the lifetime of new sessions. */
	ck_assert_int_eq(nf_webauth_init(50, err, sizeof(err)), 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 2000,
	    &ws, sid, NULL, err), 0);
	ck_assert_int_eq(ws->expires, 2050);
	ck_assert_int_eq(nf_webauth_init(-1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "session_ttl"));
}
END_TEST

START_TEST(test_csrf)
{
	const struct nf_websession *a, *b;
	char	 sa[64], sb[64], err[512], tok[64];

	init_ttl(0);
	passwd("alice", "correct horse");
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 100, &a,
	    sa, NULL, err), 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 100, &b,
	    sb, NULL, err), 0);
	ck_assert_str_ne(sa, sb);
	ck_assert_uint_eq(strlen(a->csrf), NF_WEBAUTH_TOKEN_LEN);
	ck_assert_uint_eq(strspn(a->csrf, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), NF_WEBAUTH_TOKEN_LEN);
	ck_assert_str_ne(a->csrf, b->csrf);
	ck_assert_str_ne(a->csrf, sa);
	ck_assert_int_eq(nf_webauth_csrf_ok(a, a->csrf), 1);
	snprintf(tok, sizeof(tok), "%s", a->csrf);
	ck_assert_int_eq(nf_webauth_csrf_ok(a, tok), 1);
	ck_assert_int_eq(nf_webauth_csrf_ok(a, b->csrf), 0);
	ck_assert_int_eq(nf_webauth_csrf_ok(a, sa), 0);
	ck_assert_int_eq(nf_webauth_csrf_ok(a, NULL), 0);
	ck_assert_int_eq(nf_webauth_csrf_ok(a, ""), 0);
	ck_assert_int_eq(nf_webauth_csrf_ok(NULL, tok), 0);
	tok[NF_WEBAUTH_TOKEN_LEN - 1] = '\0';
	ck_assert_int_eq(nf_webauth_csrf_ok(a, tok), 0);
	snprintf(tok, sizeof(tok), "%sx", a->csrf);
	ck_assert_int_eq(nf_webauth_csrf_ok(a, tok), 0);
	snprintf(tok, sizeof(tok), "%s", a->csrf);
	tok[10] = tok[10] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(nf_webauth_csrf_ok(a, tok), 0);
}
END_TEST

START_TEST(test_logout)
{
	const struct nf_websession *a, *b;
	char	 sa[64], sb[64], err[512];

	init_ttl(0);
	passwd("alice", "correct horse");
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 100, &a,
	    sa, NULL, err), 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 100, &b,
	    sb, NULL, err), 0);
	nf_webauth_logout(sa);
	ck_assert_ptr_null(nf_webauth_session(sa, 100));
	ck_assert_ptr_eq(nf_webauth_session(sb, 100), b);
	nf_webauth_logout(sa);
	nf_webauth_logout(NULL);
	nf_webauth_logout("nonsense");
	ck_assert_uint_eq(nf_webauth_nsessions(), 1);
}
END_TEST

/* A new password or a removal drops the account's sessions only. */
START_TEST(test_password_change_drops_sessions)
{
	const struct nf_websession *a1, *a2, *b;
	char	 s1[64], s2[64], sb[64], err[512];

	init_ttl(0);
	passwd("alice", "correct horse");
	passwd("bob", "battery staple");
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 100, &a1,
	    s1, NULL, err), 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.2", 100, &a2,
	    s2, NULL, err), 0);
	ck_assert_int_eq(login("bob", "battery staple", "10.0.0.3", 100, &b,
	    sb, NULL, err), 0);
	passwd("alice", "new horse battery");
	ck_assert_ptr_null(nf_webauth_session(s1, 101));
	ck_assert_ptr_null(nf_webauth_session(s2, 101));
	ck_assert_ptr_eq(nf_webauth_session(sb, 101), b);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 101,
	    NULL, NULL, NULL, err), -1);
	ck_assert_int_eq(login("alice", "new horse battery", "10.0.0.1", 101,
	    &a1, s1, NULL, err), 0);
	ck_assert_int_eq(nf_webauth_remove("alice", err, sizeof(err)), 1);
	ck_assert_int_eq(nf_webauth_remove("alice", err, sizeof(err)), 0);
	ck_assert_ptr_null(nf_webauth_session(s1, 102));
	ck_assert_ptr_eq(nf_webauth_session(sb, 102), b);
	ck_assert_int_eq(login("alice", "new horse battery", "10.0.0.1", 102,
	    NULL, NULL, NULL, err), -1);
	ck_assert_str_eq(err, "wrong user name or password");
}
END_TEST

/* An account whose [[user]] entry a reload removed is logged out. */
START_TEST(test_unbound_by_reload)
{
	const struct nf_websession *a;
	char	 sa[64], err[512];

	init_ttl(0);
	passwd("alice", "correct horse");
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1", 100, &a,
	    sa, NULL, err), 0);
	set_acl("[[role]]\nname = \"v\"\ngrants = [\"view job:*\"]\n"
	    "[[user]]\nname = \"bob\"\nroles = [\"v\"]\n");
	ck_assert_ptr_null(nf_webauth_session(sa, 101));
	ck_assert_uint_eq(nf_webauth_nsessions(), 0);
}
END_TEST

/* Past max_sessions the oldest session is dropped. */
START_TEST(test_cap_eviction)
{
	struct nf_webauth_limits l;
	const struct nf_websession *ws[5];
	char	 sid[5][64], err[512];
	int	 i;

	fast_limits(&l);
	l.max_sessions = 3;
	start(&l, 0);
	passwd("alice", "correct horse");
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(login("alice", "correct horse", "10.0.0.1",
		    100 + i, &ws[i], sid[i], NULL, err), 0);
	ck_assert_uint_eq(nf_webauth_nsessions(), 3);
	ck_assert_ptr_null(nf_webauth_session(sid[0], 110));
	ck_assert_ptr_null(nf_webauth_session(sid[1], 110));
	for (i = 2; i < 5; i++)
		ck_assert_ptr_eq(nf_webauth_session(sid[i], 110), ws[i]);
}
END_TEST

START_TEST(test_proxy_session)
{
	const struct nf_websession *p, *q;
	char	 s1[64], s2[64], err[512];

	init_ttl(100);
	p = nf_webauth_proxy_session("dave", 1000, s1);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->user, "dave");
	ck_assert_int_eq(p->expires, 1100);
	ck_assert_ptr_eq(nf_webauth_session(s1, 1000), p);
	ck_assert_int_eq(nf_webauth_csrf_ok(p, p->csrf), 1);
	/* The same session again, its expiry moved. */
	q = nf_webauth_proxy_session("dave", 1050, s2);
	ck_assert_ptr_eq(q, p);
	ck_assert_str_eq(s1, s2);
	ck_assert_int_eq(p->expires, 1150);
	/* One per user. */
	q = nf_webauth_proxy_session("erin", 1050, s2);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_ne(q, p);
	ck_assert_str_ne(s1, s2);
	ck_assert_uint_eq(nf_webauth_nsessions(), 2);
	/* No [[user]] entry, a bad name: none. */
	ck_assert_ptr_null(nf_webauth_proxy_session("mallory", 1050, s2));
	ck_assert_ptr_null(nf_webauth_proxy_session("", 1050, s2));
	ck_assert_ptr_null(nf_webauth_proxy_session("a b", 1050, s2));
	ck_assert_ptr_null(nf_webauth_proxy_session(NULL, 1050, s2));
	/* A password change is not the proxy's business. */
	passwd("dave", "correct horse");
	ck_assert_ptr_eq(nf_webauth_session(s1, 1060), p);
	/* Expired: a new one. */
	ck_assert_ptr_null(nf_webauth_session(s1, 1150));
	q = nf_webauth_proxy_session("dave", 1200, s2);
	ck_assert_ptr_nonnull(q);
	ck_assert_str_ne(s1, s2);
	ck_assert_int_eq(nf_webauth_csrf_ok(q, q->csrf), 1);
	(void)err;
}
END_TEST

START_TEST(test_password_rules)
{
	char	 err[512];

	init_ttl(0);
	ck_assert_int_eq(nf_webauth_set_password("alice", "1234567", err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "too short: 7 characters, at least 8")
	    != NULL, "%s", err);
	ck_assert_int_eq(nf_webauth_set_password("alice", "", err,
	    sizeof(err)), -1);
	/* Characters, not bytes: 4 two-byte characters are too short. */
	ck_assert_int_eq(nf_webauth_set_password("alice",
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", err, sizeof(err)), -1);
	ck_assert_int_eq(nf_webauth_set_password("alice",
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(nf_webauth_set_password("alice", "bad\xff" "utf8xx",
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "UTF-8"));
	ck_assert_int_eq(nf_webauth_set_password("a b", "correct horse", err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "account name \"a b\""));
	ck_assert_int_eq(nf_webauth_set_password("-x", "correct horse", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(nf_webauth_set_password("alice.smith@corp",
	    "correct horse", err, sizeof(err)), 0);
	ck_assert_int_eq(nf_webauth_name_check("alice_1-x", err, sizeof(err)),
	    0);
}
END_TEST

START_TEST(test_list)
{
	struct nf_val	*l;
	char		 err[512];

	init_ttl(0);
	passwd("carol", "correct horse");
	passwd("alice", "correct horse");
	l = nf_webauth_list(err, sizeof(err));
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->u.a.n, 2);
	ck_assert_str_eq(nf_val_get_str(l->u.a.items[0], "name"), "alice");
	ck_assert_int_eq(nf_val_get(l->u.a.items[0], "ui")->u.b, 1);
	ck_assert_str_eq(nf_val_get_str(l->u.a.items[1], "name"), "carol");
	ck_assert_int_eq(nf_val_get(l->u.a.items[1], "ui")->u.b, 0);
	ck_assert_ptr_null(nf_val_get(l->u.a.items[0], "hash"));
	nf_val_free(l);
}
END_TEST

/* Nothing works before init, and nothing crashes. */
START_TEST(test_not_initialised)
{
	struct outcome	 o;
	char		 sid[64];

	memset(&o, 0, sizeof(o));
	ck_assert_uint_eq(nf_webauth_login_start("alice", "x", "1.2.3.4", 1,
	    login_done, &o), 0);
	ck_assert_uint_eq(nf_webauth_logins_pending(), 0);
	ck_assert_int_eq(o.called, 0);
	ck_assert_ptr_null(nf_webauth_session(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1));
	ck_assert_ptr_null(nf_webauth_proxy_session("alice", 1, sid));
	nf_webauth_logout("x");
	nf_webauth_login_cancel(1);
	/* nfctl user passwd works with the web front end off. */
	passwd("alice", "correct horse");
}
END_TEST

static int	 tick_order;

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	tick_order = ++ncalls;
}

/*
 * The real hash cost, 4 checks in flight (~0.7 s of argon2id): a timer
 * due at once fires before the first of them ends, so the loop is not
 * blocked by them.  Ordering only, no absolute time: it cannot flake.
 */
START_TEST(test_loop_not_blocked)
{
	struct nf_webauth_limits l;
	struct outcome	 o[4];
	ev_timer	 t;
	char		 peer[32];
	int		 i;

	nf_webauth_limits_default(&l);
	start(&l, 0);
	passwd("alice", "correct horse");
	memset(o, 0, sizeof(o));
	ncalls = tick_order = 0;
	for (i = 0; i < 4; i++) {
		snprintf(peer, sizeof(peer), "10.0.3.%d", i);
		ck_assert_uint_ne(nf_webauth_login_start("alice", i == 3 ?
		    "correct horse" : "wrong horse", peer, 100, login_done,
		    &o[i]), 0);
	}
	ck_assert_uint_eq(nf_webauth_logins_pending(), 4);
	ev_timer_init(&t, tick_cb, 0., 0.);
	ev_timer_start(nfd.loop, &t);
	drain();
	ck_assert_int_eq(tick_order, 1);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(o[i].called, 1);
		/* In the order they were started. */
		ck_assert_int_eq(o[i].order, i + 2);
		ck_assert_int_eq(o[i].res.rc, i == 3 ? 0 : -1);
	}
	ck_assert_ptr_eq(nf_webauth_session(o[3].res.sid, 100),
	    o[3].res.session);
}
END_TEST

/* A cancelled login calls nobody back, makes no session, yet counts. */
START_TEST(test_cancel)
{
	struct nf_webauth_limits l;
	struct outcome	 o[6];
	uint64_t	 t;
	char		 err[512];
	int		 i, retry;

	fast_limits(&l);
	start(&l, 0);
	passwd("alice", "correct horse");
	memset(o, 0, sizeof(o));
	t = nf_webauth_login_start("alice", "correct horse", "10.0.0.1", 100,
	    login_done, &o[0]);
	nf_webauth_login_cancel(t);
	drain();
	ck_assert_int_eq(o[0].called, 0);
	ck_assert_uint_eq(nf_webauth_nsessions(), 0);
	/* 5 wrong guesses whose clients left still block the account. */
	for (i = 1; i < 6; i++)
		nf_webauth_login_cancel(nf_webauth_login_start("alice",
		    "wrong horse", "10.0.0.2", 100, login_done, &o[i]));
	drain();
	for (i = 1; i < 6; i++)
		ck_assert_int_eq(o[i].called, 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.0.3", 101,
	    NULL, NULL, &retry, err), -2);
	ck_assert_int_gt(retry, 1);
}
END_TEST

/*
 * Guesses in flight at once count as failures until they are known: no
 * more than fail_max of them get checked, the rest are told to retry.
 */
START_TEST(test_concurrent_guesses)
{
	struct outcome	 o[8];
	char		 peer[32];
	int		 i, checked = 0, limited = 0;

	init_ttl(0);
	passwd("alice", "correct horse");
	memset(o, 0, sizeof(o));
	for (i = 0; i < 8; i++) {
		snprintf(peer, sizeof(peer), "10.0.4.%d", i);
		nf_webauth_login_start("alice", "wrong horse", peer, 100,
		    login_done, &o[i]);
	}
	drain();
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(o[i].called, 1);
		if (o[i].res.rc == -1)
			checked++;
		else {
			ck_assert_int_eq(o[i].res.rc, -2);
			ck_assert_int_eq(o[i].res.retry_after, 1);
			limited++;
		}
	}
	ck_assert_int_eq(checked, 5);
	ck_assert_int_eq(limited, 3);
}
END_TEST

/*
 * The queue is bounded by verify_burst even when the budget refills
 * faster than checks end.
 */
START_TEST(test_queue_bounded)
{
	struct nf_webauth_limits l;
	struct outcome	 o[5];
	char		 peer[32];
	int		 i, limited = 0;

	fast_limits(&l);
	l.verify_burst = 3;
	start(&l, 0);
	memset(o, 0, sizeof(o));
	for (i = 0; i < 5; i++) {
		snprintf(peer, sizeof(peer), "10.0.5.%d", i);
		nf_webauth_login_start("zed", "wrong horse", peer, 100 + i,
		    login_done, &o[i]);
	}
	drain();
	for (i = 0; i < 5; i++)
		if (o[i].res.rc == -2)
			limited++;
	ck_assert_int_eq(limited, 2);
}
END_TEST

/* A password changed during the check: the old one no longer logs in. */
START_TEST(test_password_changed_meanwhile)
{
	struct outcome	 o;

	init_ttl(0);
	passwd("alice", "correct horse");
	memset(&o, 0, sizeof(o));
	nf_webauth_login_start("alice", "correct horse", "10.0.0.1", 100,
	    login_done, &o);
	passwd("alice", "battery staple");
	drain();
	ck_assert_int_eq(o.res.rc, -1);
	ck_assert_str_eq(o.res.err, "wrong user name or password");
	ck_assert_uint_eq(nf_webauth_nsessions(), 0);
}
END_TEST

/* Shutdown with checks queued and running: no callback, nothing leaks. */
START_TEST(test_shutdown_in_flight)
{
	struct nf_webauth_limits l;
	struct outcome	 o[3];
	char		 peer[32], err[256];
	int		 i;

	nf_webauth_limits_default(&l);
	start(&l, 0);
	memset(o, 0, sizeof(o));
	for (i = 0; i < 3; i++) {
		snprintf(peer, sizeof(peer), "10.0.6.%d", i);
		ck_assert_uint_ne(nf_webauth_login_start("zed", "wrong horse",
		    peer, 100, login_done, &o[i]), 0);
	}
	nf_webauth_shutdown();
	ck_assert_uint_eq(nf_webauth_logins_pending(), 0);
	ev_run(nfd.loop, EVRUN_NOWAIT);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(o[i].called, 0);
	/* And it starts again. */
	ck_assert_msg(nf_webauth_init(0, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(login("zed", "wrong horse", "10.0.6.9", 100, NULL,
	    NULL, NULL, NULL), -1);
}
END_TEST

/* The outcome of one asynchronous password change. */
struct pw_outcome {
	int	 called;
	int	 order;		/* of the callbacks, with ncalls */
	int	 rc;
	char	 err[512];
};

static void
pw_done(int rc, const char *err, void *arg)
{
	struct pw_outcome	*o = arg;

	o->called++;
	o->order = ++ncalls;
	o->rc = rc;
	snprintf(o->err, sizeof(o->err), "%s", err);
}

static void
pw_drain(void)
{
	while (nf_webauth_passwd_pending() > 0)
		ev_run(nfd.loop, EVRUN_ONCE);
}

/*
 * nfctl user passwd: the hash is made on the verifier thread (the web
 * front end off: the thread starts for it), the store write and the
 * dropping of the account's sessions come with the callback, on the loop.
 * The real hash cost: a timer due at once fires before the hash is made.
 */
START_TEST(test_set_password_async)
{
	struct nf_webauth_limits l;
	struct pw_outcome o;
	ev_timer	 t;
	char		 err[512], *h0 = NULL, *h1 = NULL;

	nf_webauth_limits_default(&l);
	nf_webauth_set_limits(&l);
	memset(&o, 0, sizeof(o));
	ncalls = tick_order = 0;
	ck_assert_msg(nf_webauth_set_password_start("alice", "correct horse",
	    pw_done, &o, err, sizeof(err)) == 0, "%s", err);
	/* Never inside the start, and nothing stored yet. */
	ck_assert_int_eq(o.called, 0);
	ck_assert_uint_eq(nf_webauth_passwd_pending(), 1);
	ck_assert_int_eq(nf_store_account_get("alice", &h0), 0);
	ev_timer_init(&t, tick_cb, 0., 0.);
	ev_timer_start(nfd.loop, &t);
	pw_drain();
	ck_assert_int_eq(tick_order, 1);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.order, 2);
	ck_assert_msg(o.rc == 0, "%s", o.err);
	ck_assert_int_eq(nf_store_account_get("alice", &h0), 1);
	ck_assert_int_eq(strncmp(h0, "$argon2id$", 10), 0);

	/* With the front end on: a session of alice is dropped by a change. */
	start(&l, 0);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.7.1", 100,
	    NULL, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(nf_webauth_nsessions(), 1);
	memset(&o, 0, sizeof(o));
	ck_assert_msg(nf_webauth_set_password_start("alice", "battery staple",
	    pw_done, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(nf_webauth_nsessions(), 1);
	pw_drain();
	ck_assert_msg(o.called == 1 && o.rc == 0, "%s", o.err);
	ck_assert_uint_eq(nf_webauth_nsessions(), 0);
	ck_assert_int_eq(nf_store_account_get("alice", &h1), 1);
	ck_assert_str_ne(h0, h1);
	ck_assert_int_eq(login("alice", "correct horse", "10.0.7.1", 100,
	    NULL, NULL, NULL, NULL), -1);
	ck_assert_int_eq(login("alice", "battery staple", "10.0.7.1", 100,
	    NULL, NULL, NULL, NULL), 0);
	free(h0);
	free(h1);

	/* A bad password or name: refused at once, no callback. */
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(nf_webauth_set_password_start("alice", "short",
	    pw_done, &o, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too short"));
	ck_assert_int_eq(nf_webauth_set_password_start("-x", "correct horse",
	    pw_done, &o, err, sizeof(err)), -1);
	ck_assert_uint_eq(nf_webauth_passwd_pending(), 0);
	ev_run(nfd.loop, EVRUN_NOWAIT);
	ck_assert_int_eq(o.called, 0);
}
END_TEST

/*
 * A shutdown with password changes in flight: no callback, nothing
 * stored, and their args freed (the sanitizer build checks the leak).
 */
START_TEST(test_set_password_shutdown)
{
	struct nf_webauth_limits l;
	struct pw_outcome *o[3];
	char		 err[512], *h = NULL;
	int		 i;

	nf_webauth_limits_default(&l);
	nf_webauth_set_limits(&l);
	for (i = 0; i < 3; i++) {
		o[i] = calloc(1, sizeof(*o[i]));
		ck_assert_ptr_nonnull(o[i]);
		ck_assert_msg(nf_webauth_set_password_start("bob",
		    "correct horse", pw_done, o[i], err, sizeof(err)) == 0,
		    "%s", err);
	}
	nf_webauth_shutdown();		/* o[] are freed by it */
	ck_assert_uint_eq(nf_webauth_passwd_pending(), 0);
	ev_run(nfd.loop, EVRUN_NOWAIT);
	ck_assert_int_eq(nf_store_account_get("bob", &h), 0);
	/* And it starts again. */
	nf_webauth_set_limits(&l);
	ck_assert_msg(nf_webauth_set_password_start("bob", "correct horse",
	    pw_done, calloc(1, sizeof(struct pw_outcome)), err,
	    sizeof(err)) == 0, "%s", err);
	nf_webauth_shutdown();
}
END_TEST

static Suite *
webauth_suite(void)
{
	Suite	*s = suite_create("webauth");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_wrong_password);
	tcase_add_test(tc, test_unknown_same_error);
	tcase_add_test(tc, test_unbound_refused);
	tcase_add_test(tc, test_rate_limit_account);
	tcase_add_test(tc, test_rate_limit_window);
	tcase_add_test(tc, test_rate_limit_peer);
	tcase_add_test(tc, test_global_budget);
	tcase_add_test(tc, test_clock_step_back);
	tcase_add_test(tc, test_limiter_bounded);
	tcase_add_test(tc, test_session_expiry);
	tcase_add_test(tc, test_csrf);
	tcase_add_test(tc, test_logout);
	tcase_add_test(tc, test_password_change_drops_sessions);
	tcase_add_test(tc, test_unbound_by_reload);
	tcase_add_test(tc, test_cap_eviction);
	tcase_add_test(tc, test_proxy_session);
	tcase_add_test(tc, test_password_rules);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_not_initialised);
	tcase_add_test(tc, test_loop_not_blocked);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_concurrent_guesses);
	tcase_add_test(tc, test_queue_bounded);
	tcase_add_test(tc, test_password_changed_meanwhile);
	tcase_add_test(tc, test_shutdown_in_flight);
	tcase_add_test(tc, test_set_password_async);
	tcase_add_test(tc, test_set_password_shutdown);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(webauth_suite)
