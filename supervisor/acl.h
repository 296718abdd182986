/*
 * acl.h: roles, grants and the bindings of identities to roles
 * ([[role]], [[user]], [[group]] in nomaflow.toml), and the one check every
 * control command goes through.
 *
 * A grant is "VERB TARGET" for the verbs on jobs (view, run, cancel,
 * replay, enable; TARGET is job:GLOB or tag:GLOB, fnmatch(3) patterns) or
 * "VERB" alone for the verbs on the daemon (reload, secrets, audit,
 * admin).  admin implies every verb; every job verb implies view on the
 * same target.  nomaflow.toml(5) has the grammar.
 */
#ifndef NF_ACL_H
#define NF_ACL_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

struct nf_toml_value;

enum nf_acl_verb {
	/* On jobs: need a target. */
	NF_ACL_VIEW = 0,
	NF_ACL_RUN,
	NF_ACL_CANCEL,
	NF_ACL_REPLAY,
	NF_ACL_ENABLE,		/* job enable and job disable */
	/* On the daemon: no target. */
	NF_ACL_RELOAD,		/* reload, validate */
	NF_ACL_SECRETS,		/* the secret store */
	NF_ACL_AUDIT,		/* read the audit trail */
	NF_ACL_ADMIN,		/* everything */
	NF_ACL_NVERBS
};

enum nf_acl_kind {
	NF_ACL_DAEMON = 0,
	NF_ACL_JOB,		/* job:GLOB, matched against the job id */
	NF_ACL_TAG,		/* tag:GLOB, matched against each tag */
};

struct nf_acl_grant {
	enum nf_acl_verb verb;
	enum nf_acl_kind kind;
	char		*pattern;	/* NULL for NF_ACL_DAEMON */
};

/*
 * Who is asking.  A control client is a unix identity (uid >= 0, its user
 * name when the passwd database has one, its groups by name); a web
 * account (next release) has uid -1 and no groups.  builtin_admin is set
 * for root and the daemon's own user: they are admin unless a [[user]]
 * entry names them, which then replaces the default.
 */
struct nf_acl_ident {
	const char	*user;		/* NULL: no name for the uid */
	long long	 uid;		/* -1: not a unix identity */
	const char *const *groups;
	size_t		 ngroups;
	int		 builtin_admin;
};

struct nf_acl;

const char	*nf_acl_verb_name(enum nf_acl_verb);
/* The verb named s (exact, lower case), or -1. */
int		 nf_acl_verb_parse(const char *s);
int		 nf_acl_verb_on_job(enum nf_acl_verb);

/*
 * Parse one grant.  On error returns -1, writes a message and the byte
 * offset in s where the problem starts (for a column in file:line:col).
 */
int		 nf_acl_grant_parse(const char *s, struct nf_acl_grant *,
		    char *err, size_t errlen, size_t *errpos);
void		 nf_acl_grant_free(struct nf_acl_grant *);

/* Top-level keys of nomaflow.toml that nf_acl_load() reads. */
int		 nf_acl_is_key(const char *key);
/*
 * The [[role]], [[user]] and [[group]] arrays of the root table of file.
 * Every error goes to errs as file:line:col; the result is never NULL
 * (an empty acl when nothing is configured), but is meaningless when an
 * error was added.
 */
struct nf_acl	*nf_acl_load(const struct nf_toml_value *root,
		    const char *file, struct nf_errs *errs);
void		 nf_acl_free(struct nf_acl *);
/* The normalised tables (nomaflowd -n -v); nothing when none is set. */
void		 nf_acl_dump(const struct nf_acl *, FILE *);

/*
 * May who do verb?  For a job verb, job is the job id and tags its tags
 * (ntags may be 0: a job no longer in the configuration matches job:
 * patterns only).  For a daemon verb job and tags are ignored.  acl may
 * be NULL (no configuration): only builtin admins are allowed.
 */
int		 nf_acl_allowed(const struct nf_acl *,
		    const struct nf_acl_ident *, enum nf_acl_verb,
		    const char *job, char *const *tags, size_t ntags);
/* Does a [[user]] or [[group]] entry name who (or one of its groups)? */
int		 nf_acl_bound(const struct nf_acl *,
		    const struct nf_acl_ident *);
/* The names of the roles who holds, ", "-separated ("" when none). */
void		 nf_acl_roles(const struct nf_acl *,
		    const struct nf_acl_ident *, struct nf_buf *);
/* "user alice (uid 1001)", "user 1001", "account bob": for messages. */
void		 nf_acl_ident_text(const struct nf_acl_ident *, char *,
		    size_t);

#endif
