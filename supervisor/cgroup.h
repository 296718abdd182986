/*
 * cgroup.h: each step attempt in a cgroup v2 of its own, under the
 * daemon's cgroup, when one is writable.  The only module touching the
 * cgroup filesystem.  Without cgroup2 every call is a no-op and the
 * worker's subreaper sweep alone contains a step's processes.
 */
#ifndef NF_CGROUP_H
#define NF_CGROUP_H

#include <sys/types.h>

#include <stddef.h>

#include <ev.h>

/* The bounds of one attempt, as a whole, when the controllers exist. */
#define NF_CGROUP_PIDS_MAX	1024
#define NF_CGROUP_MEMORY_MAX	(4ULL << 30)	/* as RLIMIT_AS */

struct nf_cgroup;

/*
 * At start, before the first spawn: find the daemon's cgroup2, create the
 * steps' cgroup in it (named after key, the state directory, so that two
 * daemons never share one and a restarted one finds what its predecessor
 * left: that is killed and removed).  Logs once what containment is in
 * use.  Never fails.
 */
void	nf_cgroup_init(struct ev_loop *, const char *key);
/* At exit: kill and remove what is left, then the steps' cgroup. */
void	nf_cgroup_shutdown(void);
/* 1 when attempts get cgroups of their own. */
int	nf_cgroup_enabled(void);

/*
 * A cgroup for one attempt, named name (run-R-s-I-a-K), with its limits
 * set.  NULL (with a warning) when there is none: the sweep contains it.
 */
struct nf_cgroup *nf_cgroup_create(const char *name);
/*
 * Move pid (a worker that has not started its step yet) into it.  -1 with
 * a warning; the caller then releases it.
 */
int	nf_cgroup_enter(struct nf_cgroup *, pid_t);
/*
 * The attempt is over: kill whatever is left in it (cgroup.kill, or every
 * pid of cgroup.procs on kernels before 5.14), and remove it once
 * cgroup.events says it is empty, from a timer: never waits.
 */
void	nf_cgroup_release(struct nf_cgroup *);

/*
 * Pure parsing, for the unit tests.  The cgroup2 path of /proc/self/cgroup
 * text (its "0::" line) into out; -1 if none.  The mount point of a
 * mountinfo line (octal escapes decoded) and its root into mnt and root,
 * 1 if it is a cgroup2 mount, 0 if another, -1 if malformed.  The
 * directory of a cgroup path given the cgroup2 mountinfo text: -1 if no
 * cgroup2 mount holds it.
 */
int	nf_cgroup_parse_self(const char *text, char *out, size_t outlen);
int	nf_cgroup_parse_mountinfo(const char *line, char *mnt, size_t mntlen,
	    char *root, size_t rootlen);
int	nf_cgroup_resolve(const char *mountinfo, const char *cgpath,
	    char *out, size_t outlen);

#endif
