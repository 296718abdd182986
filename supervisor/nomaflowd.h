/*
 * nomaflowd.h: the supervisor's shared state.  Everything here lives in the
 * one nomaflowd process and is touched only from the libev loop thread.
 */
#ifndef NF_NOMAFLOWD_H
#define NF_NOMAFLOWD_H

#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>
#include <stdint.h>

#include "config.h"
#include "proto.h"
#include "store.h"
#include "util.h"
#include "val.h"

/* glibc's sys/queue.h lacks the _SAFE iterators. */
#ifndef LIST_FOREACH_SAFE
#define LIST_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = LIST_FIRST(head);					\
	    (var) && ((tvar) = LIST_NEXT(var, field), 1);		\
	    (var) = (tvar))
#endif
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) && ((tvar) = TAILQ_NEXT(var, field), 1);		\
	    (var) = (tvar))
#endif
#ifndef LIST_FIRST
#define LIST_FIRST(head)	((head)->lh_first)
#endif
#ifndef LIST_NEXT
#define LIST_NEXT(elm, field)	((elm)->field.le_next)
#endif
#ifndef LIST_EMPTY
#define LIST_EMPTY(head)	((head)->lh_first == NULL)
#endif

struct nf_run;
struct nf_worker;
struct nf_bpf_cache;
struct nf_client;

/*
 * A loaded configuration.  Runs keep a reference to the configuration they
 * started with, so a reload never changes a running job under its feet; an
 * old configuration is freed when its last run ends.
 */
struct nf_cfgref {
	struct nf_config	*cfg;
	int			 refs;
	struct nf_bpf_cache	*bpf;	/* compiled policies (spawn.c) */
};

struct nf_cfgref *nf_cfgref_get(void);		/* current, +1 ref */
void		 nf_cfgref_put(struct nf_cfgref *);

struct nf_daemon {
	struct ev_loop		*loop;
	char			*config_path;
	struct nf_cfgref	*cur;		/* current configuration */
	char			*worker_path;	/* resolved */
	int64_t			 started_at;	/* ms */
	int			 stopping;	/* TERM received */
	int			 foreground;
	int			 nworkers;	/* live worker processes */
	int			 nruns;		/* active runs in memory */
	int			 nqueued;	/* runs waiting for a worker slot */
	uint64_t		 gen;		/* worker generation counter */
	/* last reload */
	int64_t			 reload_at;
	int			 reload_ok;
	struct nf_val		*reload_errors;	/* array of str */
	/* store health */
	int			 store_ok;
	char			*store_err;
};

extern struct nf_daemon nfd;

/* main.c */
void	nf_daemon_reload(struct nf_val **errors_out);
void	nf_daemon_maybe_exit(void);
int	nf_daemon_sandboxed(void);

#endif
