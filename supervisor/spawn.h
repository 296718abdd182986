/*
 * spawn.h: spawning nomaflow-worker processes, talking to them, reaping
 * them.  The only place that creates or reaps child processes.
 */
#ifndef NF_SPAWN_H
#define NF_SPAWN_H

#include "nomaflowd.h"

struct nf_run;
struct nf_step;

/*
 * Start a worker for the run's current step attempt.  Returns 0, or -1 with
 * err filled (the attempt then fails with reason error).
 */
int	nf_spawn_step(struct nf_run *, const struct nf_step *, char *err,
	    size_t errlen);
/* Ask the worker to stop: SIGTERM to its process group, SIGKILL after the
 * grace.  reason is what the attempt will be recorded as. */
void	nf_spawn_stop(struct nf_worker *, enum nf_reason reason);
/* SIGKILL the worker's process group now. */
void	nf_spawn_kill(struct nf_worker *, enum nf_reason reason);
/* Detach a worker from its run (the run is going away). */
void	nf_spawn_detach(struct nf_worker *);
const char *nf_signal_name(int sig);
/*
 * Test a pool (nfctl pool test): a sql_query worker runs "SELECT 1" on it,
 * outside any run.  done(arg, outcome) is called once the worker is
 * reaped (the outcome's strings are freed after it returns).  -1 and err if
 * the worker cannot be started.
 */
struct nf_pool;
struct nf_step_outcome;
int	nf_spawn_probe(const struct nf_pool *,
	    void (*done)(void *, struct nf_step_outcome *), void *arg,
	    char *err, size_t errlen);
/* Drop the compiled policies of a configuration that is going away. */
void	nf_spawn_cache_free(struct nf_cfgref *);

#endif
