/*
 * policy.h: seccomp policies as text files (policies/<name>.policy,
 * documented in nomaflow-policy(5)), compiled with libseccomp.  policy.c is
 * the only module that includes seccomp.h.
 *
 * The supervisor compiles every policy at load (nomaflowd -n, start,
 * reload) so a bad policy is a config error; the worker parses and compiles
 * again from the same files (BPF bytes are never taken from a socket) and
 * installs the result.
 */
#ifndef NF_POLICY_H
#define NF_POLICY_H

#include "util.h"

struct nf_policy;

/*
 * Parse <dir>/<name>.policy (following includes) and compile it with
 * libseccomp.  Errors go to errs as "file:line:col: message"; returns NULL
 * if there was any.
 */
struct nf_policy *nf_policy_load(const char *dir, const char *name,
		    struct nf_errs *errs);
/* Parse from a string (tests, fuzzing); includes resolve in dir (may be NULL). */
struct nf_policy *nf_policy_parse(const char *text, size_t len,
		    const char *filename, const char *dir, struct nf_errs *errs);
void		 nf_policy_free(struct nf_policy *);
const char	*nf_policy_name(const struct nf_policy *);
/*
 * Install in the calling process: sets no_new_privs and loads the filter
 * (TSYNC so every thread gets it).  A "deny" rule becomes SECCOMP_RET_TRAP
 * with data NF_POLICY_TRAP_DENY (si_errno of the SIGSYS), so the caller's
 * SIGSYS handler can name the call before dying; "kill" stays
 * KILL_PROCESS.  -1 with errno on failure; the caller must then not run
 * the step.
 */
#define NF_POLICY_TRAP_DENY	0x4e46
int		 nf_policy_install(const struct nf_policy *);
/*
 * Install in a single-threaded process whose parent listens: a "deny" rule
 * becomes a user notification (SECCOMP_RET_USER_NOTIF) on *listener (-1
 * when the policy has none), which the caller hands to the listener and
 * closes.  nf_policy_install, with nobody listening, traps instead.  No
 * allocation: safe between clone(CLONE_VM) and execve.
 */
int		 nf_policy_install_listen(const struct nf_policy *,
		    int *listener);
/* Does the policy have a "deny" rule? */
int		 nf_policy_has_deny(const struct nf_policy *);
/*
 * "socket(AF_PACKET, SOCK_RAW)" or "ptrace": how a step's report names a
 * denied syscall of the native architecture from its number and arguments.
 */
void		 nf_policy_describe(int nr, const uint64_t args[6],
		    char *buf, size_t len);
/*
 * The compiled BPF program of a loaded policy (made at load, kept in the
 * policy).  nomaflowd compiles each policy once per configuration and hands
 * the program to workers in a sealed memfd; a worker rebuilds a policy from
 * it with nf_policy_from_bpf and installs it with one system call.  -1 with
 * errno on failure.
 */
int		 nf_policy_export(struct nf_policy *, const void **prog,
		    size_t *len);
/* A policy made of a program from nf_policy_export (len in bytes); NULL
 * and err if it is not a plausible BPF program. */
struct nf_policy *nf_policy_from_bpf(const char *name, const void *prog,
		    size_t len, char *err, size_t errlen);
/* Human-readable dump of the resolved rule set (golden tests, -n -v). */
void		 nf_policy_dump(const struct nf_policy *, FILE *);

#endif
