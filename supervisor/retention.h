/*
 * retention.h: pruning the history by [retention] and each job's
 * retention (nomaflow.toml(5), nomaflow-jobs(5)), off the hot path.
 */
#ifndef NF_RETENTION_H
#define NF_RETENTION_H

#include <stdint.h>

#include "config.h"
#include "store.h"
#include "val.h"

/* A job's policy: its own keys, the [retention] ones where it has none. */
struct nf_retention nf_retention_of(const struct nf_config *,
		    const struct nf_job *);
/* The store's policy for a job at now (ms) from its retention. */
void		 nf_retention_policy(const struct nf_retention *, int64_t now,
		    struct nf_prune_policy *);

/* Arm the periodic pass (the first one shortly after start). */
void		 nf_retention_start(void);
void		 nf_retention_stop(void);

/*
 * What a pass did or would do: {dry_run, runs, logs, lines,
 * jobs: [{job, runs, logs, lines}]} (lines absent in a dry run) or an
 * error (message, report NULL).
 */
typedef void	 nf_retention_done(void *arg, struct nf_val *report,
		    const char *error);
/*
 * nfctl prune.  A dry run counts now and calls done before returning.  A
 * prune starts a pass now (or joins the one under way) and calls done when
 * it ends, from the loop.
 */
void		 nf_retention_prune(int dry_run, nf_retention_done *done,
		    void *arg);

#endif
