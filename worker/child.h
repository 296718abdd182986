/*
 * child.h: the program a worker step runs (exec: the command; python: the
 * interpreter), started before the worker locks itself down, released
 * after, and its output relayed line by line.  worker/child.c says how and
 * why; step_exec.c and step_python.c are the two users.
 *
 * Use, in the step's prepare: fill argv, envp, path/cwd/in_fd, what;
 * nf_child_stream() for each pipe (in the order they are read);
 * nf_child_start(), which also loads the step's policy when sandboxed.  In run: nf_child_run(), which returns the wait status
 * (or dies of SIGTERM when the worker was told to stop), then look at
 * stage/err (the child never exec'd) and overflow.
 */
#ifndef NF_WORKER_CHILD_H
#define NF_WORKER_CHILD_H

#include <sys/types.h>

#include <signal.h>

#include "util.h"

struct nf_policy;
struct nf_step_ctx;

#define NF_CHILD_STREAMS	3
/* PATH of a child whose environment sets none. */
#define NF_CHILD_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

/* Where the child stopped when it could not exec (nf_child.stage). */
enum nf_child_stage {
	NF_CHILD_OK = 0,	/* it exec'd (or was never released) */
	NF_CHILD_SETUP,		/* dup2, rlimit */
	NF_CHILD_CHDIR,
	NF_CHILD_POLICY,
	NF_CHILD_EXEC,
	NF_CHILD_USER,		/* run_as, capabilities */
	NF_CHILD_ISOLATE,	/* namespaces: lo, /tmp, /proc */
	NF_CHILD_LISTENER,	/* not a failure: the listener follows */
};

struct nf_child_stream {
	const char	*name;		/* "stdout", "stderr", "channel" */
	int		 fd;		/* our end, non-blocking; -1: closed */
	int		 wfd;		/* the child's end until started */
	int		 target;	/* its descriptor in the child */
	int		 records;	/* lines go to nf_child.record */
	struct nf_buf	 buf;		/* bytes of an incomplete line */
};

struct nf_child {
	/* Set by the step before nf_child_start(). */
	const char		 *what;		/* "the command", "python" */
	char			**argv;
	char			**envp;
	const char		 *path;		/* NULL: argv[0], PATH search */
	const char		 *cwd;		/* NULL: the worker's */
	int			  in_fd;	/* the child's fd 0, or -1 */
	/* A complete line of a records stream, and its size limit. */
	void			(*record)(struct nf_step_ctx *, void *arg,
				    const char *line, size_t len);
	void			 *arg;
	size_t			  max_record;
	size_t			  nstreams;
	struct nf_child_stream	  streams[NF_CHILD_STREAMS];

	/* Results. */
	enum nf_child_stage	  stage;
	int			  err;		/* errno at that stage */
	int			  overflow;	/* a record over max_record */
	/*
	 * A "deny" rule of the step's policy stopped a syscall (the first
	 * one reported): the worker killed the step's processes.
	 */
	int			  denied;
	int			  deny_nr;
	uint64_t		  deny_args[6];
	pid_t			  deny_pid;

	/* Private to child.c. */
	struct nf_policy	 *policy;	/* the step's; NULL: unsandboxed */
	struct nf_step_ctx	 *ctx;
	pid_t			  pid;
	pid_t			  self;
	int			  go_r, go_w;
	int			  st_r, st_w;	/* status socketpair */
	int			  notify_fd;	/* seccomp listener/-1 */
	void			 *stack;
	sigset_t		  mask;		/* the worker's, for the child */
	/*
	 * The descriptors as the child sees them: written before clone and
	 * never after, since the child reads them from our shared memory
	 * while we close and forget our copies.
	 */
	struct {
		int	go_r, go_w, st_r, st_w, sig_r, sig_w, in_fd;
		int	rfd[NF_CHILD_STREAMS], wfd[NF_CHILD_STREAMS];
	}			  kid;
};

void	nf_child_init(struct nf_child *, const char *what);
/* Add a pipe that becomes the child's descriptor target.  -1 on failure. */
int	nf_child_stream(struct nf_step_ctx *, struct nf_child *,
	    const char *name, int target, int records);
/* Start the child, held until nf_child_run.  -1 after a step failure. */
int	nf_child_start(struct nf_step_ctx *, struct nf_child *);
/* Release it, relay its output until it is gone; its wait status. */
int	nf_child_run(struct nf_step_ctx *, struct nf_child *);
/* PATH in envp (the child's environment), else NF_CHILD_DEFAULT_PATH. */
const char *nf_child_env_path(char **envp);
/*
 * The result of a step whose program was denied a syscall (c->denied):
 * reason "sandbox", the call and the policy named.
 */
struct nf_val *nf_child_deny_result(struct nf_step_ctx *, struct nf_child *);
/* "SIGSEGV" or "signal 42" into buf. */
const char *nf_child_signame(int sig, char *buf, size_t len);

#endif
