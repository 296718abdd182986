/*
 * events.c: the run engine's subscribers (events.h).  A small table of
 * callbacks; publishing walks it.
 *
 * Runs in nomaflowd, on the loop's thread.  Invariants: a callback is
 * never called after its unsubscribe returns; a subscriber added by a
 * callback sees the next event, not the current one.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "util.h"

struct sub {
	int			 handle;	/* 0: free slot */
	unsigned		 kinds;
	nf_event_fn		*fn;
	nf_event_want_fn	*want;
	void			*arg;
};

static struct sub	*subs;
static size_t		 nsubs;
static int		 last_handle;
static int		 publishing;

int
nf_events_subscribe(unsigned kinds, nf_event_fn *fn, nf_event_want_fn *want,
    void *arg)
{
	size_t	i;

	for (i = 0; i < nsubs && subs[i].handle != 0; i++)
		;
	if (i == nsubs) {
		subs = nf_xreallocarray(subs, nsubs + 1, sizeof(*subs));
		nsubs++;
	}
	subs[i].handle = ++last_handle;
	subs[i].kinds = kinds;
	subs[i].fn = fn;
	subs[i].want = want;
	subs[i].arg = arg;
	return subs[i].handle;
}

void
nf_events_unsubscribe(int handle)
{
	size_t	i;

	for (i = 0; i < nsubs; i++)
		if (subs[i].handle == handle)
			memset(&subs[i], 0, sizeof(subs[i]));
}

int
nf_events_wanted(unsigned kind, int64_t run_id)
{
	size_t	i;

	for (i = 0; i < nsubs; i++)
		if (subs[i].handle != 0 && (subs[i].kinds & kind) != 0 &&
		    (subs[i].want == NULL || subs[i].want(run_id,
		    subs[i].arg)))
			return 1;
	return 0;
}

void
nf_events_publish(const struct nf_event *ev)
{
	size_t	i, n = nsubs;
	int	h, top = last_handle;

	if (publishing)
		nf_panic("nf_events_publish called from a subscriber");
	publishing = 1;
	/* By index and handle: a callback may (un)subscribe. */
	for (i = 0; i < n && i < nsubs; i++) {
		h = subs[i].handle;
		if (h == 0 || (subs[i].kinds & ev->kind) == 0 ||
		    (subs[i].want != NULL && !subs[i].want(ev->run_id,
		    subs[i].arg)))
			continue;
		if (h > top)
			continue;	/* subscribed by this event's callback */
		subs[i].fn(ev, subs[i].arg);
	}
	publishing = 0;
}

const char *
nf_event_name(enum nf_event_kind k)
{
	switch (k) {
	case NF_EVENT_LOG:
		return "log";
	case NF_EVENT_END:
		return "end";
	default:
		return "state";
	}
}
