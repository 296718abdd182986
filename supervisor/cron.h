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

/* Time zones from the system database (/usr/share/zoneinfo, TZif). */
struct nf_tz	*nf_tz_load(const char *name, char *err, size_t errlen);
void		 nf_tz_free(struct nf_tz *);
const char	*nf_tz_name(const struct nf_tz *);
/* UTC offset in seconds east at instant t, and the abbreviation. */
int		 nf_tz_offset(const struct nf_tz *, int64_t t,
		    const char **abbr);
/* Broken-down local time of instant t. */
struct tm;
void		 nf_tz_localtime(const struct nf_tz *, int64_t t, struct tm *);

/*
 * Added by the cron/tz implementation (the DST rules need them; nfctl's
 * preview may too).  nf_cron_parse() also accepts, ahead of the scheduling
 * issue, the day forms L, LW, nW (day-of-month) and nL, n#k (day-of-week).
 *
 * Local wall-clock time to instants.  `local` is the wall time counted in
 * seconds as if it were UTC (days since 1970-01-01 * 86400 + time of day).
 * Returns 1 (one instant, out[0]), 2 (repeated by a fall-back: both
 * instants, out[0] < out[1]) or 0 (skipped by a spring-forward gap: out[0]
 * is the first instant after the gap, the transition itself).
 */
#define NF_TZ_GAP	0
#define NF_TZ_UNIQUE	1
#define NF_TZ_REPEATED	2
int		 nf_tz_local_to_utc(const struct nf_tz *, int64_t local,
		    int64_t out[2]);
/* A zone from TZif bytes already in memory (tests, fuzzing). */
struct nf_tz	*nf_tz_parse(const char *name, const void *buf, size_t len,
		    char *err, size_t errlen);
/* The first instant > t at which the zone's rules may change, or INT64_MAX. */
int64_t		 nf_tz_next_change(const struct nf_tz *, int64_t t);
/*
 * A time given by a user (nfctl cron --from): "2026-03-29",
 * "2026-03-29 02:30[:15]" (or with "T"), optionally followed by "Z" or
 * "+HH:MM"; or "@SECONDS".  Without an offset it is a wall time in tz
 * (NULL: UTC); in a gap it means the first instant after the gap, when
 * repeated its first occurrence.  0, or -1 if malformed.
 */
int		 nf_tz_parse_time(const struct nf_tz *, const char *,
		    int64_t *);
/* Proleptic Gregorian calendar: days since 1970-01-01 and back. */
int64_t		 nf_tz_days_from_civil(int64_t y, int m, int d);
void		 nf_tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
