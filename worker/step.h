/*
 * step.h: the worker's step registry and the helpers a step uses to talk to
 * the supervisor (worker/main.c implements the helpers, worker/sandbox.c the
 * lock-down).
 *
 * A step runs in two phases, with the sandbox installed between them:
 *   prepare  before the sandbox: open what the step needs (a database
 *            file, pipes, a child process waiting to exec) and load any
 *            extra policy;
 *   run      under the sandbox: do the work, send LOG/OUTPUT frames and
 *            exactly one RESULT (nf_step_result).
 * Both return 0 on success and -1 on failure; a phase that fails must have
 * sent its result (nf_step_fail), otherwise main reports a generic error.
 */
#ifndef NF_STEP_H
#define NF_STEP_H

#include <stdint.h>

#include "log.h"
#include "val.h"

struct nf_policy;
struct nf_step_ctx;

struct nf_step_impl {
	const char	*name;		/* step_start "type" */
	/*
	 * Policy the worker installs on itself before run; NULL means the
	 * step_start "policy".  The exec step forks its child in prepare
	 * and installs only the narrow "relay" policy on the worker; the
	 * child installs step_start's policy itself before execve.
	 */
	const char	*self_policy;
	int		(*prepare)(struct nf_step_ctx *);
	int		(*run)(struct nf_step_ctx *);
};

/* Supplementary groups of run_as (the supervisor sends at most 64). */
#define NF_STEP_GROUPS	64

/* step_start "isolation": namespaces of the step's program. */
#define NF_STEP_ISO_NET		0x1
#define NF_STEP_ISO_MOUNT	0x2
#define NF_STEP_ISO_PID		0x4

struct nf_step_ctx {
	int			 fd;		/* socket to nomaflowd (fd 3) */
	/* From step_start; borrowed from msg, valid for the whole step. */
	struct nf_val		*msg;
	int64_t			 run_id;
	int64_t			 attempt_id;
	int64_t			 attempt;
	const char		*job_id;
	const char		*step;
	const char		*type;
	const char		*policy;	/* step_start "policy" */
	const struct nf_val	*spec;		/* map */
	const struct nf_val	*params;	/* map */
	const struct nf_val	*pool;		/* map or NULL */
	int64_t			 timeout_ms;
	int64_t			 max_rows;	/* -1 when not given */
	int			 sandbox;	/* install seccomp policies */
	/* step_start uid/gid/groups: who the step's program runs as. */
	int			 run_as;	/* 0: the worker's user */
	uid_t			 uid;
	gid_t			 gid;
	int			 ngroups;
	gid_t			 groups[NF_STEP_GROUPS];
	int			 isolation;	/* NF_STEP_ISO_* */
	const char		*policies_dir;
	const struct nf_step_impl *impl;
	void			*data;		/* the step's own state */
	int			 result_sent;
};

/* The registry: NULL when no implementation of that type exists. */
const struct nf_step_impl *nf_step_find(const char *type);
extern const struct nf_step_impl nf_step_exec;
extern const struct nf_step_impl nf_step_sql_query;
extern const struct nf_step_impl nf_step_sql_copy;

/* worker/step_sql.c, shared with step_copy.c */
struct nf_db;
struct nf_db_err;
/* The step is a dry run: spec.dry_run or the run param dry_run. */
int	nf_step_dry_run(struct nf_step_ctx *);
/* On SIGTERM, interrupt the statement running on db (signal-safe). */
int	nf_step_sql_catch_term(struct nf_db *db, struct nf_db *db2);
/* SIGTERM arrived. */
int	nf_step_sql_termed(void);
/*
 * Fail the step with a database error: what, the server's message and
 * code, the line and column in text (origin names it), the detail; reason
 * "canceled" when SIGTERM stopped the statement.  Returns -1.
 */
int	nf_step_db_fail(struct nf_step_ctx *, struct nf_db *, const char *pool,
	    const char *what, const struct nf_db_err *, const char *text,
	    const char *origin);
extern const struct nf_step_impl nf_step_python;
extern const struct nf_step_impl nf_step_http;

/*
 * LOG frame.  stream is "stdout", "stderr" or "worker"; level < 0 sends no
 * level.  The text is made valid UTF-8 (bad bytes and NULs become U+FFFD)
 * and split into pieces of at most NF_MAX_LOG_LINE bytes.  A send failure
 * (the supervisor is gone) ends the worker with status 2.
 */
void	nf_step_log(struct nf_step_ctx *, const char *stream, int level,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	nf_step_log_line(struct nf_step_ctx *, const char *stream, int level,
	    const char *line, size_t len);
/*
 * Batch frames (on) until the batch is turned off or grows past 64 KiB;
 * turning it off writes what is held.  For bursts of log lines.
 */
void	nf_step_batch(struct nf_step_ctx *, int on);
/* PROGRESS frame {data} (a map); takes ownership of data. */
void	nf_step_progress(struct nf_step_ctx *, struct nf_val *data);
/* OUTPUT frame {data}; takes ownership of data. */
void	nf_step_output(struct nf_step_ctx *, struct nf_val *data);
/*
 * RESULT frame.  nf_step_result_new() builds {ok, reason, error} (reason
 * and fmt may be NULL); the step adds exit_code, signal, rows_affected as
 * it needs and nf_step_result() sends it (taking ownership).  Sending a
 * second result is a bug (nf_panic).
 */
struct nf_val *nf_step_result_new(int ok, const char *reason,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	nf_step_result(struct nf_step_ctx *, struct nf_val *result);
/* Send {ok:false, reason, error} and return -1, for "return nf_step_fail(...)". */
int	nf_step_fail(struct nf_step_ctx *, const char *reason,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Copy s into b as valid UTF-8 without NUL: every byte that does not start
 * a well-formed sequence, and every NUL, becomes U+FFFD.
 */
void	nf_step_utf8_sanitize(struct nf_buf *b, const char *s, size_t len);

/* worker/sandbox.c */
/* Where policies live: $NOMAFLOW_POLICIES_DIR, else the compiled-in path. */
const char *nf_sandbox_policies_dir(void);
/*
 * Read the compiled policies nomaflowd passed as sealed memfds (env
 * NOMAFLOW_POLICY_FDS="name:fd,..."), so nf_sandbox_load needs no
 * libseccomp work.  Call before closing stray descriptors.
 */
int	nf_sandbox_preload(char *err, size_t errlen);
/* Load and compile dir/name.policy; NULL and err (every error, "; "-joined). */
struct nf_policy *nf_sandbox_load(const char *dir, const char *name,
	    char *err, size_t errlen);
/*
 * Resource limits of the worker: no core files; when sandboxed also a
 * modest number of open files and a 4 GiB address space (unsandboxed runs
 * are for valgrind and ASan, which cannot live with either).
 */
int	nf_sandbox_rlimits(int sandboxed, char *err, size_t errlen);
/* Close every descriptor >= lowfd (inherited strays). */
int	nf_sandbox_close_from(int lowfd, char *err, size_t errlen);
/*
 * The SIGSYS handler that reports a trapped "deny" call as a STEP_RESULT
 * frame on fd (see sandbox.c) and dies by SIGSYS.  nf_sandbox_install sets
 * it up (fd 3) when p has a deny rule; nf_sandbox_trap_quiet, once the
 * step sent its result, keeps it from sending a second one.
 */
int	nf_sandbox_trap_init(int fd, char *err, size_t errlen);
void	nf_sandbox_trap_quiet(void);
/* no_new_privs, SIGSYS handler, then install p.  -1 and err on failure. */
int	nf_sandbox_install(const struct nf_policy *p, char *err,
	    size_t errlen);

#endif
