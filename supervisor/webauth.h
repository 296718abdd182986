/*
 * webauth.h: UI accounts, their passwords and sessions, CSRF tokens and
 * the login rate limiter of nomaflowd's web front end (webauth.c).  The
 * web server (web.c) calls the first block; the control commands
 * user.passwd, user.list and user.rm (control.c) and the unit tests call
 * the rest.
 *
 * A UI account is a name with a password hash in the store (nfctl user
 * passwd NAME) that a [[user]] name = "NAME" entry of the role model binds;
 * its identity in the audit trail and triggered_by is "web:NAME".
 * Sessions live in memory only: a daemon restart logs everyone out.
 */
#ifndef NF_WEBAUTH_H
#define NF_WEBAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "val.h"

#define NF_WEBAUTH_TOKEN_LEN 43   /* base64url of 32 random bytes */
struct nf_websession {            /* owned by webauth.c */
        char    *user;            /* the UI account name */
        char     csrf[NF_WEBAUTH_TOKEN_LEN + 1];
        time_t   expires;
};
int  nf_webauth_init(int session_ttl, char *err, size_t errlen); /* sodium_init etc. */
void nf_webauth_shutdown(void);
/*
 * A login, checked off the loop: name/password against the stored
 * crypto_pwhash hash (on webauth's verifier thread) and the rate limiter
 * (per peer address and per account, on the loop).  The callback runs
 * later on the loop, never inside nf_webauth_login_start(), with rc
 * 0: ok, sid (the cookie value) and session set; -1: bad credentials
 * (err says so, without telling which part); -2: rate limited
 * (retry_after seconds).  The password is copied (and zeroed after the
 * check); the caller may free its own at once.  Returns a ticket for
 * nf_webauth_login_cancel(), or 0 when the web front end is not
 * initialised (no callback then).  nf_webauth_shutdown() drops the
 * logins in flight without calling their callbacks.
 */
struct nf_webauth_result {
	int				 rc;
	const struct nf_websession	*session;
	char				 sid[NF_WEBAUTH_TOKEN_LEN + 1];
	int				 retry_after;
	char				 err[512];
};
typedef void	nf_webauth_login_cb(const struct nf_webauth_result *, void *);
uint64_t	nf_webauth_login_start(const char *user, const char *password,
		    const char *peer, time_t now, nf_webauth_login_cb *cb,
		    void *arg);
/*
 * The callback of ticket will not run (its client went away).  The check
 * still counts for the rate limiter; a right password makes no session.
 */
void		nf_webauth_login_cancel(uint64_t ticket);
/* Logins started whose callback has not run yet (tests). */
size_t		nf_webauth_logins_pending(void);
/* The session of a cookie value, NULL if unknown/expired. */
const struct nf_websession *nf_webauth_session(const char *sid, time_t now);
/* Constant-time check of the X-CSRF-Token header (or form field "csrf"). */
int  nf_webauth_csrf_ok(const struct nf_websession *, const char *token);
void nf_webauth_logout(const char *sid);
/* Reverse-proxy mode: a per-user session created for a header-authenticated user. */
const struct nf_websession *nf_webauth_proxy_session(const char *user, time_t now,
         char sid[NF_WEBAUTH_TOKEN_LEN + 1]);
/*
 * A password change (nfctl user passwd, control.c): the name and the
 * password are checked at once (-1 + err: nothing started); the hash is
 * made on webauth's verifier thread, and the store write and the dropping
 * of the account's password sessions happen on the loop just before cb
 * runs with rc 0, or -1 and err (nothing changed).  cb never runs inside
 * nf_webauth_set_password_start().  The password is copied (and zeroed
 * once hashed); the caller may zero its own at once.  When
 * nf_webauth_shutdown() drops the change in flight, cb does not run and
 * arg is passed to free().  Works whether or not the web front end is on.
 */
typedef void	nf_webauth_passwd_cb(int rc, const char *err, void *arg);
int		nf_webauth_set_password_start(const char *user,
		    const char *password, nf_webauth_passwd_cb *cb, void *arg,
		    char *err, size_t errlen);
/* Password changes started whose callback has not run yet (tests). */
size_t		nf_webauth_passwd_pending(void);
/* The same, hashing on the calling thread (tests: setting up accounts). */
int  nf_webauth_set_password(const char *user, const char *password, char *err, size_t);

/*
 * Additions to the interface above.
 *
 * nf_webauth_init() may be called again (a reload): it only changes the
 * session lifetime of sessions created from then on.  session_ttl 0 means
 * the default (8 hours).
 *
 * nf_webauth_session() also drops (and answers NULL for) a session whose
 * account no [[user]] entry binds any more.  nf_webauth_proxy_session()
 * answers NULL for a name that is not a valid account name or that no
 * [[user]] entry binds; its session slides (expires moves to now +
 * session_ttl at each call) because the proxy authenticates every request.
 *
 * nf_webauth_set_password() works whether or not the web front end is on
 * (nfctl user passwd before [web] is enabled); it drops every password
 * session of the account.
 */
#define NF_WEBAUTH_DEFAULT_TTL		(8 * 3600)
#define NF_WEBAUTH_NAME_MAX		64	/* bytes */
#define NF_WEBAUTH_PASSWORD_MIN		8	/* characters */
#define NF_WEBAUTH_PASSWORD_MAX		1024	/* bytes */

/* 1 removed (and its sessions dropped), 0 no such account, -1 + err. */
int		 nf_webauth_remove(const char *user, char *err, size_t errlen);
/*
 * [{name, created_at, updated_at, ui}] by name (ui: a [[user]] entry binds
 * it, so it can log in), or NULL + err.
 */
struct nf_val	*nf_webauth_list(char *err, size_t errlen);
/* Is name a UI account's name by form (not whether it exists)?  -1 + err. */
int		 nf_webauth_name_check(const char *name, char *err,
		    size_t errlen);
/* Is password acceptable for user (length, UTF-8)?  -1 + err. */
int		 nf_webauth_password_check(const char *user,
		    const char *password, char *err, size_t errlen);
/* Does a [[user]] entry of the current configuration bind name? */
int		 nf_webauth_bound(const char *name);

/* The limits; the defaults are what nomaflowd uses, tests change them. */
struct nf_webauth_limits {
	int		 fail_max;	/* failures within fail_window ... */
	int		 fail_window;	/* ... seconds block the key */
	int		 block_base;	/* first block, seconds; then doubles */
	int		 block_max;	/* longest block, seconds */
	int		 verify_burst;	/* password checks the daemon may do */
	int		 verify_rate;	/* at once, refilled per second */
	int		 max_sessions;	/* past it the oldest is dropped */
	unsigned long long pwhash_ops;	/* crypto_pwhash limits of new hashes */
	size_t		 pwhash_mem;
};
void		 nf_webauth_limits_default(struct nf_webauth_limits *);
void		 nf_webauth_set_limits(const struct nf_webauth_limits *);
/* Live sessions (tests, status). */
size_t		 nf_webauth_nsessions(void);

#endif
