/*
 * cron.h: cron expressions and next-fire computation; pure (no I/O beyond
 * reading the system time zone database through tz.c).
 *
 * The dialect: 5 fields (minute hour day-of-month month day-of-week) or 6
 * with seconds first, names JAN-DEC / SUN-SAT, 0 and 7 are Sunday, ranges,
 * lists, steps, Vixie day semantics (both day fields restricted: either
 * matches), L, LW, nW (day-of-month), nL, n#k (day-of-week), @yearly
 * @annually @monthly @weekly @daily @midnight @hourly, and intervals
 * "@every 90s" (anchored at the epoch; nf_cron_every() for another anchor).
 */
#ifndef NF_CRON_H
#define NF_CRON_H

#include <stddef.h>
#include <stdint.h>

struct nf_cron;
struct nf_tz;

/*
 * Parse expr.  On error returns NULL, writes a message naming the field and
 * the token into err, and sets *errcol to the 1-based column in expr of the
 * offending token (0 if none).
 */
struct nf_cron	*nf_cron_parse(const char *expr, char *err, size_t errlen,
		    int *errcol);
void		 nf_cron_free(struct nf_cron *);

/*
 * Intervals.  nf_cron_duration() parses "90s", "15m", "6h", "1d", "1h30m"
 * (1 second to 366 days; errors as nf_cron_parse()).  nf_cron_every()
 * makes a schedule firing at anchor + k * every (UTC seconds, any integer
 * k); NULL if every is out of range.  nf_cron_interval() is the interval
 * of a schedule, 0 for a calendar one.
 */
int		 nf_cron_duration(const char *, int64_t *secs, char *err,
		    size_t errlen, int *errcol);
struct nf_cron	*nf_cron_every(int64_t every, int64_t anchor);
int64_t		 nf_cron_interval(const struct nf_cron *);

/* Flags describing one computed fire time. */
#define NF_CRON_DST_GAP		0x01	/* moved forward out of a DST gap */
#define NF_CRON_DST_REPEAT	0x02	/* in a repeated (fall-back) hour */

/*
 * Next fire strictly after `after` (seconds since epoch, UTC) in zone tz
 * (NULL = UTC).  Returns the fire time in seconds, or -1 if none within
 * the search horizon (e.g. "0 0 30 2 *").  flags may be NULL.
 */
int64_t		 nf_cron_next(const struct nf_cron *, const struct nf_tz *,
		    int64_t after, int *flags);

#include "tz.h"

#endif
