/*
 * slots.c: pure slot arithmetic of the scheduler (see slots.h).  Linked
 * into nomaflowd and the unit tests; no I/O, no clock, no globals.
 *
 * Invariants: the jitter of a slot depends only on (job id, slot, jitter
 * bound); catch-up never returns a slot <= last or > now, and returns
 * slots in increasing order.
 */
#include "autoconf.h"

#include <stdint.h>
#include <string.h>

#include "config.h"
#include "slots.h"

int64_t
nf_slots_jitter(const char *job_id, int64_t slot, int jitter)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 */
	uint64_t	 s = (uint64_t)slot;
	const unsigned char *p;
	int		 i;

	if (jitter <= 0)
		return 0;
	for (p = (const unsigned char *)job_id; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;	/* separator */
	for (i = 0; i < 8; i++, s >>= 8)
		h = (h ^ (s & 0xff)) * 0x100000001b3ULL;
	/* splitmix64 finaliser: FNV's low bits alone are weak. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (int64_t)(h % ((uint64_t)jitter + 1));
}

size_t
nf_slots_catchup(nf_slots_next_fn next, void *arg, const char *job_id,
    int jitter, int64_t last, int64_t now, int64_t window, int policy,
    int64_t *out, size_t max, size_t *eligible)
{
	int64_t	 s, from;
	size_t	 n = 0, total = 0;

	if (eligible != NULL)
		*eligible = 0;
	if (last <= 0 || last >= now || max == 0)
		return 0;
	/* Slots before the window cannot be eligible: start there. */
	from = now - window - 1;
	if (from < last)
		from = last;
	for (s = next(arg, from); s > 0 && s <= now; s = next(arg, s)) {
		if (s + nf_slots_jitter(job_id, s, jitter) > now)
			break;		/* still ahead: it fires normally */
		total++;
		if (policy == NF_CATCHUP_NONE)
			continue;
		if (policy == NF_CATCHUP_LATEST) {
			out[0] = s;
			n = 1;
			continue;
		}
		if (n == max) {		/* keep the newest max */
			memmove(out, out + 1, (max - 1) * sizeof(*out));
			n--;
		}
		out[n++] = s;
	}
	if (eligible != NULL)
		*eligible = total;
	return n;
}

int64_t
nf_slots_pending(nf_slots_next_fn next, void *arg, const char *job_id,
    int jitter, int64_t last, int64_t now)
{
	int64_t	 s, from;

	/* A slot more than `jitter` old has fired or been missed. */
	from = now - jitter - 1;
	if (from < last)
		from = last;
	for (s = next(arg, from); s > 0; s = next(arg, s))
		if (s + nf_slots_jitter(job_id, s, jitter) > now)
			return s;
	return -1;
}
