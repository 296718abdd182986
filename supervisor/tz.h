/*
 * tz.h: time zones from the system database (TZif files under
 * /usr/share/zoneinfo, POSIX TZ footers for instants past the table) and
 * the proleptic Gregorian calendar.  Pure; supervisor side (cron, the
 * scheduler, TOML dates, templates' dates in the job's zone).
 */
#ifndef NF_TZ_H
#define NF_TZ_H

#include <stddef.h>
#include <stdint.h>

struct nf_tz;
struct tm;

/* Time zones from the system database (/usr/share/zoneinfo, TZif). */
struct nf_tz	*nf_tz_load(const char *name, char *err, size_t errlen);
void		 nf_tz_free(struct nf_tz *);
const char	*nf_tz_name(const struct nf_tz *);
/* UTC offset in seconds east at instant t, and the abbreviation. */
int		 nf_tz_offset(const struct nf_tz *, int64_t t,
		    const char **abbr);
/* Broken-down local time of instant t. */
void		 nf_tz_localtime(const struct nf_tz *, int64_t t, struct tm *);

/*
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
/* Days in month m (1-12) of year y: the one table for cron, TOML, zones. */
int		 nf_tz_days_in_month(int64_t y, int m);

#endif
