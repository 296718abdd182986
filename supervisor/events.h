/*
 * events.h: what the run engine tells whoever listens.  run.c publishes a
 * run's state changes, its steps' transitions and progress and its log
 * lines; subscribers (control.c for nfctl's follow streams, later the web
 * front end) register a callback.  run.c knows no subscriber, so it links
 * and is tested without clients.
 */
#ifndef NF_EVENTS_H
#define NF_EVENTS_H

#include <stdint.h>

#include "val.h"

enum nf_event_kind {
	NF_EVENT_STATE = 1 << 0,	/* run state (queued, running) */
	NF_EVENT_STEP = 1 << 1,		/* a step's attempt started */
	NF_EVENT_PROGRESS = 1 << 2,	/* a step's PROGRESS */
	NF_EVENT_LOG = 1 << 3,		/* one log line, as stored */
	NF_EVENT_END = 1 << 4,		/* the run ended: its last event */
};
#define NF_EVENT_ALL	0x1f

/*
 * One event.  data is the payload of the control protocol's event of the
 * same name (doc/PROTOCOL.md: "log", "state", "end"), borrowed for the
 * callback's duration: a subscriber that keeps it copies it.
 */
struct nf_event {
	enum nf_event_kind	 kind;
	int64_t			 run_id;
	const char		*job_id;
	const struct nf_val	*data;
};

typedef void	nf_event_fn(const struct nf_event *, void *arg);
/*
 * Does the subscriber want events of this run (NULL: of every run)?  Asked
 * before an event is built, so a run nobody watches costs no payload.
 */
typedef int	nf_event_want_fn(int64_t run_id, void *arg);

/* Returns a handle for nf_events_unsubscribe(). */
int	nf_events_subscribe(unsigned kinds, nf_event_fn *, nf_event_want_fn *,
	    void *arg);
void	nf_events_unsubscribe(int handle);
/* Does any subscriber want this kind of event of this run? */
int	nf_events_wanted(unsigned kind, int64_t run_id);
/*
 * Hand an event to every subscriber that wants it, in the order they
 * subscribed.  A callback may subscribe or unsubscribe (itself or
 * others); it must not publish.
 */
void	nf_events_publish(const struct nf_event *);

/* Wire name of a kind ("log", "state", "end"). */
const char	*nf_event_name(enum nf_event_kind);

#endif
