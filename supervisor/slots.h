/*
 * slots.h: pure slot arithmetic of the scheduler (no I/O, no clock): the
 * per-slot jitter and which missed slots a catch-up fires.  scheduler.c
 * feeds it the ledger and the clock; the unit tests feed it numbers.
 */
#ifndef NF_SLOTS_H
#define NF_SLOTS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Next slot strictly after `after` (seconds), -1 if none: the union of a
 * source's schedules.
 */
typedef int64_t	(*nf_slots_next_fn)(void *arg, int64_t after);

/*
 * The delay of one slot, in [0, jitter] seconds: a hash of the job id and
 * the slot, so every restart and every replica picks the same one.
 */
int64_t	nf_slots_jitter(const char *job_id, int64_t slot, int jitter);

/*
 * Catch-up selection.  A slot s is missed when last < s <= now and its
 * fire time s + jitter(s) has passed (<= now); it is eligible when also
 * s >= now - window.  policy (enum nf_catchup): none fires nothing,
 * latest the newest eligible slot, all every eligible slot, oldest first
 * (at most max: the newest max of them).  last <= 0 (no slot ever
 * recorded) misses nothing.  Returns the number written to out;
 * *eligible (may be NULL) gets the number of eligible slots.
 */
size_t	nf_slots_catchup(nf_slots_next_fn, void *arg, const char *job_id,
	    int jitter, int64_t last, int64_t now, int64_t window, int policy,
	    int64_t *out, size_t max, size_t *eligible);

/*
 * The slot to arm after the ledger's last slot at time now: the first
 * slot > last whose fire time is still ahead (> now); earlier ones are
 * either fired or handled by the catch-up.  -1 if none.
 */
int64_t	nf_slots_pending(nf_slots_next_fn, void *arg, const char *job_id,
	    int jitter, int64_t last, int64_t now);

#endif
