/*
 * cron.c: cron expressions and their next fire time.  Pure: no I/O (zones
 * come from tz.c).  Runs in nomaflowd (scheduler, job validation) and nfctl
 * (preview).
 *
 * An expression is compiled into one bitset per field (bit v set when value
 * v matches), plus the calendar-relative day forms: L (last day of the
 * month), LW (last weekday), nW (weekday nearest day n), and in day-of-week
 * nL (last weekday n of the month) and n#k (k-th weekday n).  Day matching
 * lives in one function, cron_day_match().  A 6-field expression has the
 * seconds first; a 5-field one fires at second 0.
 *
 * An interval ("@every 90s", or the job key `every`) is not calendar based:
 * it fires at anchor + k * interval for every integer k, in absolute time
 * (UTC seconds), so it never drifts and ignores time zones and DST.  The
 * default anchor is the epoch (1970-01-01T00:00:00Z): "15m" fires at :00,
 * :15, :30 and :45 UTC, "6h" at 00, 06, 12 and 18 UTC.
 *
 * The next fire is found by walking local wall-clock time, span by span of
 * constant UTC offset: inside a span the wall clock is continuous, so the
 * first matching wall time is found field by field (month, day, hour,
 * minute, second: each skip jumps to the next set bit) and converted back by
 * subtracting the span's offset.  DST rules (documented in nomaflow-jobs(5)):
 *  - a fixed-time entry (second, minute and hour each a single value) whose
 *    wall time is skipped by a spring-forward gap fires once, at the first
 *    instant after the gap (NF_CRON_DST_GAP); one whose wall time occurs
 *    twice fires once, at the first occurrence (NF_CRON_DST_REPEAT);
 *  - every other entry follows real time: it fires at each matching wall
 *    time that actually occurs, both passes of a repeated hour (flagged
 *    NF_CRON_DST_REPEAT), none in a skipped one.
 *
 * Invariants: nf_cron_next() returns a value > after or -1, so iterating it
 * gives strictly increasing fires; a compiled nf_cron is immutable.
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "util.h"

/* The search gives up after this much local time ("0 0 30 2 *"). */
#define CRON_HORIZON	(INT64_C(5) * 366 * 86400)

#define CRON_DOM_STAR	0x01	/* day-of-month starts with '*' */
#define CRON_DOW_STAR	0x02	/* day-of-week field starts with '*' */
#define CRON_FIXED	0x04	/* one second, minute and hour */
#define CRON_DAY_EXT	0x08	/* some L, W or # form is used */

enum {
	CRON_SEC, CRON_MIN, CRON_HOUR, CRON_DOM, CRON_MON, CRON_DOW,
	CRON_NFIELDS
};

/* Longest interval accepted: longer periods are calendar schedules. */
#define CRON_EVERY_MAX	(INT64_C(366) * 86400)

struct nf_cron {
	uint64_t	 sec;	/* bits 0-59 */
	uint64_t	 min;	/* bits 0-59 */
	uint32_t	 hour;	/* bits 0-23 */
	uint32_t	 mday;	/* bits 1-31 */
	uint16_t	 mon;	/* bits 1-12 */
	uint8_t		 wday;	/* bits 0-6, Sunday = 0 */
	uint32_t	 mday_near;	/* nW: bits 1-31 */
	uint8_t		 mday_last;	/* L */
	uint8_t		 mday_lastwd;	/* LW */
	uint8_t		 wday_last;	/* nL: bits 0-6 */
	uint64_t	 wday_nth;	/* n#k: bit n * 5 + k - 1 */
	int		 flags;	/* CRON_* */
	int64_t		 every;	/* interval in seconds; 0: calendar */
	int64_t		 anchor;	/* interval: one of its fires */
};

struct cron_field {
	const char		*name;
	int			 min, max;
	const char *const	*names;	/* 3-letter names from min on */
	const char		*hint;	/* what a valid value is */
};

static const char *const cron_mon_names[] = { "JAN", "FEB", "MAR", "APR",
    "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL };
static const char *const cron_dow_names[] = { "SUN", "MON", "TUE", "WED",
    "THU", "FRI", "SAT", NULL };

static const struct cron_field cron_fields[CRON_NFIELDS] = {
	{ "second", 0, 59, NULL, "0-59" },
	{ "minute", 0, 59, NULL, "0-59" },
	{ "hour", 0, 23, NULL, "0-23" },
	{ "day-of-month", 1, 31, NULL, "1-31" },
	{ "month", 1, 12, cron_mon_names, "1-12 or JAN-DEC" },
	{ "day-of-week", 0, 7, cron_dow_names, "0-7 or SUN-SAT" },
};

static const struct {
	const char	*name;
	const char	*expr;
} cron_macros[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

struct cron_err {
	char	*buf;
	size_t	 len;
	int	*col;
};

static void cron_error(struct cron_err *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* pos is the 0-based offset of the offending token in the expression. */
static void
cron_error(struct cron_err *e, size_t pos, const char *fmt, ...)
{
	va_list	ap;

	if (e->buf != NULL && e->len > 0) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	if (e->col != NULL)
		*e->col = pos == SIZE_MAX ? 0 : (int)(pos + 1);
}

static int
cron_isspace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f';
}

static int
cron_isalnum(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= 'a' && ch <= 'z');
}

/*
 * One value (a number or, for month and day-of-week, a name) starting at
 * expr[*pos], ending before `end`.  Advances *pos past it.
 */
static int
cron_value(const struct cron_field *f, const char *expr, size_t item,
    size_t *pos, size_t end, int *out, struct cron_err *e)
{
	size_t	s = *pos, p = *pos, i;
	int	v = 0, isnum = 1;

	while (p < end && cron_isalnum(expr[p])) {
		if (expr[p] < '0' || expr[p] > '9')
			isnum = 0;
		p++;
	}
	if (p == s) {
		if (s < end)
			cron_error(e, s, "%s: unexpected \"%c\" in \"%.*s\" "
			    "(expected a value %s)", f->name, expr[s],
			    (int)(end - item), expr + item, f->hint);
		else
			cron_error(e, s, "%s: missing value at the end of "
			    "\"%.*s\" (expected %s)", f->name,
			    (int)(end - item), expr + item, f->hint);
		return -1;
	}
	if (isnum) {
		for (i = s; i < p; i++) {
			v = v * 10 + (expr[i] - '0');
			if (v > 1000)
				break;
		}
		if (v < f->min || v > f->max) {
			cron_error(e, s, "%s: \"%.*s\" is out of range %d-%d",
			    f->name, (int)(p - s), expr + s, f->min, f->max);
			return -1;
		}
		*out = v;
		*pos = p;
		return 0;
	}
	if (f->names != NULL && p - s == 3) {
		for (i = 0; f->names[i] != NULL; i++) {
			if (strncasecmp(expr + s, f->names[i], 3) == 0) {
				*out = f->min + (int)i;
				*pos = p;
				return 0;
			}
		}
	}
	if (f->names != NULL)
		cron_error(e, s, "%s: \"%.*s\" is not a %s name or number "
		    "(expected %s)", f->name, (int)(p - s), expr + s,
		    f->names == cron_mon_names ? "month" : "weekday", f->hint);
	else
		cron_error(e, s, "%s: \"%.*s\" is not a number (expected %s)",
		    f->name, (int)(p - s), expr + s, f->hint);
	return -1;
}

/* One list item in expr[s, end): "*", "v", "a-b", each optionally "/n". */
static int
cron_item(const struct cron_field *f, const char *expr, size_t s, size_t end,
    uint64_t *mask, struct cron_err *e)
{
	size_t	p = s, bend, rs;
	int	lo, hi, step = 1, v, ranged = 0;

	for (bend = s; bend < end && expr[bend] != '/'; bend++)
		;
	if (bend == s) {
		cron_error(e, s, "%s: \"%.*s\" has no start before \"/\" "
		    "(write \"*/n\" or \"a/n\")", f->name, (int)(end - s),
		    expr + s);
		return -1;
	}
	if (expr[p] == '*') {
		lo = f->min;
		hi = f->max;
		ranged = 1;
		p++;
	} else {
		if (cron_value(f, expr, s, &p, bend, &lo, e) == -1)
			return -1;
		hi = lo;
		if (p < bend && expr[p] == '-') {
			p++;
			if (cron_value(f, expr, s, &p, bend, &hi, e) == -1)
				return -1;
			ranged = 1;
			/* "FRI-SUN", "5-0": Sunday ends a range as 7. */
			if (f == &cron_fields[CRON_DOW] && hi == 0 && lo > 0)
				hi = 7;
			if (lo > hi) {
				cron_error(e, s, "%s: range \"%.*s\" is "
				    "reversed (%d > %d); write the low value "
				    "first, or a list like \"%d-%d,%d-%d\" to "
				    "wrap around", f->name, (int)(bend - s),
				    expr + s, lo, hi, lo, f->max, f->min, hi);
				return -1;
			}
		}
	}
	if (p < bend) {
		cron_error(e, p, "%s: unexpected \"%c\" in \"%.*s\"", f->name,
		    expr[p], (int)(end - s), expr + s);
		return -1;
	}
	if (bend < end) {
		rs = bend + 1;
		p = rs;
		step = 0;
		while (p < end && expr[p] >= '0' && expr[p] <= '9') {
			if (step <= 1000)
				step = step * 10 + (expr[p] - '0');
			p++;
		}
		if (p == rs || p < end) {
			cron_error(e, p == rs ? bend : p,
			    "%s: step in \"%.*s\" must be a number after \"/\"",
			    f->name, (int)(end - s), expr + s);
			return -1;
		}
		if (step == 0) {
			cron_error(e, rs, "%s: step 0 in \"%.*s\" never "
			    "advances (use a step of 1 or more)", f->name,
			    (int)(end - s), expr + s);
			return -1;
		}
		if (step > f->max - f->min + 1) {
			cron_error(e, rs, "%s: step \"%.*s\" is out of range "
			    "1-%d", f->name, (int)(end - rs), expr + rs,
			    f->max - f->min + 1);
			return -1;
		}
		/* "a/n" means "a-max/n". */
		if (!ranged)
			hi = f->max;
	}
	for (v = lo; v <= hi; v += step)
		*mask |= UINT64_C(1) << v;
	return 0;
}

/*
 * The day forms that are whole list items: L, LW, nW in day-of-month, nL
 * and n#k in day-of-week.  Returns 1 when the item was one, 0 when it is
 * an ordinary item, -1 on error.
 */
static int
cron_day_item(struct nf_cron *c, int fi, const char *expr, size_t s,
    size_t end, struct cron_err *e)
{
	const struct cron_field	*f = &cron_fields[fi];
	size_t			 len = end - s, p, hash;
	int			 v, k;
	char			 last = expr[end - 1];

	if (memchr(expr + s, '/', len) != NULL ||
	    memchr(expr + s, '-', len) != NULL)
		return 0;
	if (fi == CRON_DOM) {
		if (len == 1 && (last == 'L' || last == 'l')) {
			c->mday_last = 1;
			return 1;
		}
		if (len == 2 && strncasecmp(expr + s, "LW", 2) == 0) {
			c->mday_lastwd = 1;
			return 1;
		}
		if (len < 2 || (last != 'W' && last != 'w'))
			return 0;
		p = s;
		if (cron_value(f, expr, s, &p, end - 1, &v, e) == -1)
			return -1;
		if (p != end - 1) {
			cron_error(e, p, "%s: unexpected \"%c\" in \"%.*s\"",
			    f->name, expr[p], (int)len, expr + s);
			return -1;
		}
		c->mday_near |= UINT32_C(1) << v;
		return 1;
	}
	if (fi != CRON_DOW)
		return 0;
	for (hash = s; hash < end && expr[hash] != '#'; hash++)
		;
	if (hash == end && (len < 2 || (last != 'L' && last != 'l')))
		return 0;
	p = s;
	if (cron_value(f, expr, s, &p, hash < end ? hash : end - 1, &v,
	    e) == -1)
		return -1;
	if (hash == end) {
		if (p != end - 1) {
			cron_error(e, p, "%s: unexpected \"%c\" in \"%.*s\"",
			    f->name, expr[p], (int)len, expr + s);
			return -1;
		}
		c->wday_last |= (uint8_t)(1U << (v % 7));
		return 1;
	}
	if (p != hash) {
		cron_error(e, p, "%s: unexpected \"%c\" in \"%.*s\"", f->name,
		    expr[p], (int)len, expr + s);
		return -1;
	}
	if (end - hash != 2 || expr[hash + 1] < '1' || expr[hash + 1] > '5') {
		cron_error(e, hash + 1, "%s: occurrence \"%.*s\" in \"%.*s\" "
		    "must be 1-5 (\"5#3\" is the third Friday)", f->name,
		    (int)(end - hash - 1), expr + hash + 1, (int)len,
		    expr + s);
		return -1;
	}
	k = expr[hash + 1] - '0';
	c->wday_nth |= UINT64_C(1) << ((v % 7) * 5 + k - 1);
	return 1;
}

/* One field in expr[s, end): a comma-separated list of items. */
static int
cron_field_parse(struct nf_cron *c, int fi, const char *expr, size_t s,
    size_t end, uint64_t *mask, struct cron_err *e)
{
	const struct cron_field	*f = &cron_fields[fi];
	size_t			 p = s, ie;
	int			 r;

	*mask = 0;
	for (;;) {
		for (ie = p; ie < end && expr[ie] != ','; ie++)
			;
		if (ie == p) {
			cron_error(e, p, "%s: empty list item in \"%.*s\" "
			    "(remove the extra comma)", f->name,
			    (int)(end - s), expr + s);
			return -1;
		}
		if ((r = cron_day_item(c, fi, expr, p, ie, e)) == -1)
			return -1;
		if (r == 1)
			c->flags |= CRON_DAY_EXT;
		else if (cron_item(f, expr, p, ie, mask, e) == -1)
			return -1;
		if (ie == end)
			return 0;
		p = ie + 1;
	}
}

static int
cron_popcount(uint64_t v)
{
	return __builtin_popcountll(v);
}

/*
 * An interval "90s", "15m", "6h", "1d", "1h30m" in expr[s, end): one or
 * more <number><unit> with unit s, m, h or d.  pos in messages is relative
 * to expr.
 */
static int
cron_duration(const char *expr, size_t s, size_t end, int64_t *out,
    struct cron_err *e)
{
	size_t	p = s, ns;
	int64_t	total = 0, v, mult;

	if (s == end) {
		cron_error(e, s, "interval: empty (write a number and a unit, "
		    "e.g. \"90s\", \"15m\", \"6h\" or \"1h30m\")");
		return -1;
	}
	while (p < end) {
		ns = p;
		v = 0;
		while (p < end && expr[p] >= '0' && expr[p] <= '9') {
			if (v <= CRON_EVERY_MAX)
				v = v * 10 + (expr[p] - '0');
			p++;
		}
		if (p == ns) {
			cron_error(e, p, "interval \"%.*s\": expected a number "
			    "at \"%c\" (write e.g. \"90s\", \"15m\", "
			    "\"6h\" or \"1h30m\")", (int)(end - s), expr + s,
			    expr[p]);
			return -1;
		}
		if (p == end) {
			cron_error(e, ns, "interval \"%.*s\": \"%.*s\" has no "
			    "unit (add s, m, h or d: \"%.*ss\" is seconds)",
			    (int)(end - s), expr + s, (int)(p - ns), expr + ns,
			    (int)(p - ns), expr + ns);
			return -1;
		}
		switch (expr[p]) {
		case 's': case 'S': mult = 1; break;
		case 'm': case 'M': mult = 60; break;
		case 'h': case 'H': mult = 3600; break;
		case 'd': case 'D': mult = 86400; break;
		default:
			cron_error(e, p, "interval \"%.*s\": unknown unit "
			    "\"%c\" (use s, m, h or d)", (int)(end - s),
			    expr + s, expr[p]);
			return -1;
		}
		p++;
		if (v > CRON_EVERY_MAX / mult)
			v = CRON_EVERY_MAX / mult + 1;
		total += v * mult;
		if (total > CRON_EVERY_MAX) {
			cron_error(e, s, "interval \"%.*s\" is longer than 366 "
			    "days (use a cron expression such as \"@yearly\")",
			    (int)(end - s), expr + s);
			return -1;
		}
	}
	if (total == 0) {
		cron_error(e, s, "interval \"%.*s\" is zero (use 1s or more)",
		    (int)(end - s), expr + s);
		return -1;
	}
	*out = total;
	return 0;
}

static struct nf_cron *
cron_compile(const char *expr, struct cron_err *e, int depth)
{
	struct nf_cron	 c;
	uint64_t	 masks[CRON_NFIELDS];
	size_t		 starts[CRON_NFIELDS + 1], ends[CRON_NFIELDS + 1];
	size_t		 p = 0, nf = 0, s, i, len, f0;

	memset(&c, 0, sizeof(c));
	for (;;) {
		while (cron_isspace(expr[p]))
			p++;
		if (expr[p] == '\0')
			break;
		s = p;
		while (expr[p] != '\0' && !cron_isspace(expr[p]))
			p++;
		if (nf <= CRON_NFIELDS) {
			starts[nf] = s;
			ends[nf] = p;
		}
		nf++;
	}
	if (nf >= 1 && expr[starts[0]] == '@' && depth == 0) {
		len = ends[0] - starts[0];
		if (len == 6 && strncasecmp(expr + starts[0], "@every", 6) == 0) {
			if (nf != 2) {
				cron_error(e, nf < 2 ? SIZE_MAX : starts[2],
				    "\"@every\" takes one interval, e.g. "
				    "\"@every 15m\" (got %zu)", nf - 1);
				return NULL;
			}
			if (cron_duration(expr, starts[1], ends[1], &c.every,
			    e) == -1)
				return NULL;
			return memcpy(nf_xmalloc(sizeof(c)), &c, sizeof(c));
		}
		if (nf > 1) {
			cron_error(e, starts[1], "\"%.*s\" stands for a whole "
			    "schedule and takes no other fields; remove "
			    "\"%.*s\"", (int)len, expr + starts[0],
			    (int)(ends[1] - starts[1]), expr + starts[1]);
			return NULL;
		}
		for (i = 0; i < NF_NELEM(cron_macros); i++) {
			if (strlen(cron_macros[i].name) == len &&
			    strncasecmp(expr + starts[0], cron_macros[i].name,
			    len) == 0)
				return cron_compile(cron_macros[i].expr, e, 1);
		}
		cron_error(e, starts[0], "\"%.*s\" is not a known schedule "
		    "(use @yearly, @annually, @monthly, @weekly, @daily, "
		    "@midnight, @hourly or @every INTERVAL)", (int)len,
		    expr + starts[0]);
		return NULL;
	}
	if (nf != CRON_NFIELDS - 1 && nf != CRON_NFIELDS) {
		cron_error(e, nf > CRON_NFIELDS ? starts[CRON_NFIELDS] :
		    SIZE_MAX, "expected 5 fields (minute hour day-of-month "
		    "month day-of-week) or 6 (second first), got %zu", nf);
		return NULL;
	}
	/* Field i of a 5-field expression is cron_fields[i + 1]. */
	f0 = CRON_NFIELDS - nf;
	masks[CRON_SEC] = 1;
	for (i = 0; i < nf; i++) {
		if (cron_field_parse(&c, (int)(i + f0), expr, starts[i],
		    ends[i], &masks[i + f0], e) == -1)
			return NULL;
	}
	c.sec = masks[CRON_SEC];
	c.min = masks[CRON_MIN];
	c.hour = (uint32_t)masks[CRON_HOUR];
	c.mday = (uint32_t)masks[CRON_DOM];
	c.mon = (uint16_t)masks[CRON_MON];
	/* 7 is Sunday too. */
	c.wday = (uint8_t)((masks[CRON_DOW] | masks[CRON_DOW] >> 7) & 0x7f);
	/*
	 * Vixie cron: a day field is unrestricted when it starts with '*'
	 * (even with a step); only when both are restricted does either
	 * match.
	 */
	if (expr[starts[CRON_DOM - f0]] == '*')
		c.flags |= CRON_DOM_STAR;
	if (expr[starts[CRON_DOW - f0]] == '*')
		c.flags |= CRON_DOW_STAR;
	if (cron_popcount(c.sec) == 1 && cron_popcount(c.min) == 1 &&
	    cron_popcount(c.hour) == 1)
		c.flags |= CRON_FIXED;
	return memcpy(nf_xmalloc(sizeof(c)), &c, sizeof(c));
}

struct nf_cron *
nf_cron_parse(const char *expr, char *err, size_t errlen, int *errcol)
{
	struct cron_err	e = { err, errlen, errcol };

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (errcol != NULL)
		*errcol = 0;
	if (expr == NULL) {
		cron_error(&e, SIZE_MAX, "no cron expression given");
		return NULL;
	}
	return cron_compile(expr, &e, 0);
}

void
nf_cron_free(struct nf_cron *c)
{
	free(c);
}

int
nf_cron_duration(const char *str, int64_t *secs, char *err, size_t errlen,
    int *errcol)
{
	struct cron_err	e = { err, errlen, errcol };

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (errcol != NULL)
		*errcol = 0;
	return cron_duration(str, 0, strlen(str), secs, &e);
}

struct nf_cron *
nf_cron_every(int64_t every, int64_t anchor)
{
	struct nf_cron	*c;

	if (every < 1 || every > CRON_EVERY_MAX)
		return NULL;
	c = nf_xcalloc(1, sizeof(*c));
	c->every = every;
	c->anchor = anchor;
	return c;
}

int64_t
nf_cron_interval(const struct nf_cron *c)
{
	return c->every;
}

/* Search. */

static int64_t
cron_floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The lowest set bit >= from, or -1. */
static int
cron_nextbit(uint64_t mask, int from)
{
	if (from > 63)
		return -1;
	mask &= ~UINT64_C(0) << from;
	return mask == 0 ? -1 : __builtin_ctzll(mask);
}

/* Weekday of day n in a month whose day d is weekday wd. */
static int
cron_wday_of(int d, int wd, int n)
{
	return ((wd + n - d) % 7 + 7) % 7;
}

/* Day d (weekday wd) of year y, month m. */
static int
cron_day_match(const struct nf_cron *c, int64_t y, int m, int d, int wd)
{
	int	dom, dow, md, n, near, wn;

	dom = (c->mday >> d) & 1;
	dow = (c->wday >> wd) & 1;
	if (c->flags & CRON_DAY_EXT) {
		md = nf_tz_days_in_month(y, m);
		if (c->mday_last && d == md)
			dom = 1;
		/* LW: the last day, or the Friday before a weekend end. */
		wn = cron_wday_of(d, wd, md);
		if (c->mday_lastwd && d == md - (wn == 6 ? 1 : wn == 0 ? 2 : 0))
			dom = 1;
		/*
		 * nW: the weekday nearest day n, without leaving the month;
		 * only days n in d-2..d+2 can land on d.
		 */
		for (n = d - 2; c->mday_near != 0 && n <= d + 2; n++) {
			if (n < 1 || n > md || !((c->mday_near >> n) & 1))
				continue;
			wn = cron_wday_of(d, wd, n);
			near = n;
			if (wn == 6)
				near = n == 1 ? n + 2 : n - 1;
			else if (wn == 0)
				near = n == md ? n - 2 : n + 1;
			if (near == d)
				dom = 1;
		}
		if (((c->wday_last >> wd) & 1) && d + 7 > md)
			dow = 1;
		if ((c->wday_nth >> (wd * 5 + (d - 1) / 7)) & 1)
			dow = 1;
	}
	if (c->flags & (CRON_DOM_STAR | CRON_DOW_STAR))
		return dom && dow;
	return dom || dow;
}

/*
 * The first wall time (seconds, as if UTC) in [lo, hi) that matches, into
 * *out.  Returns 0 when there is none.
 */
static int
cron_cal_next(const struct nf_cron *c, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t	days, y, rem, l;
	int	m, d, hh, mm, ss, n;

	if (lo >= hi)
		return 0;
	days = cron_floordiv(lo, 86400);
	rem = lo - days * 86400;
	nf_tz_civil_from_days(days, &y, &m, &d);
	hh = (int)(rem / 3600);
	mm = (int)(rem / 60 % 60);
	ss = (int)(rem % 60);
	for (;;) {
		if (days * 86400 + hh * 3600 + mm * 60 + ss >= hi)
			return 0;
		if (!((c->mon >> m) & 1)) {
			if ((n = cron_nextbit(c->mon, m + 1)) == -1) {
				y++;
				n = cron_nextbit(c->mon, 1);
			}
			m = n;
			d = 1;
			hh = mm = ss = 0;
			days = nf_tz_days_from_civil(y, m, d);
			continue;
		}
		if (!cron_day_match(c, y, m, d, (int)(((days % 7) + 11) % 7)))
			goto next_day;
		if ((n = cron_nextbit(c->hour, hh)) == -1)
			goto next_day;
		if (n != hh) {
			hh = n;
			mm = ss = 0;
		}
		if ((n = cron_nextbit(c->min, mm)) == -1) {
			hh++;
			mm = ss = 0;
			if (hh > 23)
				goto next_day;
			continue;
		}
		if (n != mm) {
			mm = n;
			ss = 0;
		}
		if ((n = cron_nextbit(c->sec, ss)) == -1) {
			mm++;
			ss = 0;
			if (mm > 59) {
				mm = 0;
				hh++;
				if (hh > 23)
					goto next_day;
			}
			continue;
		}
		ss = n;
		l = days * 86400 + hh * 3600 + mm * 60 + ss;
		if (l >= hi)
			return 0;
		*out = l;
		return 1;
next_day:
		days++;
		hh = mm = ss = 0;
		if (++d > nf_tz_days_in_month(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}

/* Year 1 to about year 9000: far from any overflow below. */
#define CRON_T_MIN	INT64_C(-62135596800)
#define CRON_T_MAX	INT64_C(221845392000)

int64_t
nf_cron_next(const struct nf_cron *c, const struct nf_tz *tz, int64_t after,
    int *flags)
{
	int64_t	t, end, lo, hi, limit, l, inst[2];
	int	off, noff, fixed, dummy;

	if (flags == NULL)
		flags = &dummy;
	*flags = 0;
	if (c == NULL || after < CRON_T_MIN || after > CRON_T_MAX)
		return -1;
	if (c->every > 0)
		return c->anchor + (cron_floordiv(after - c->anchor, c->every) +
		    1) * c->every;
	fixed = (c->flags & CRON_FIXED) != 0;
	off = nf_tz_offset(tz, after, NULL);
	limit = after + off + CRON_HORIZON;
	/*
	 * Spans of constant offset, starting with the one that holds
	 * `after` (a gap at its end may fire at an instant > after).
	 */
	t = after;
	lo = after + 1 + off;
	for (;;) {
		end = nf_tz_next_change(tz, t);
		if (end > CRON_T_MAX + CRON_HORIZON)
			end = CRON_T_MAX + CRON_HORIZON;
		hi = end + off;
		if (hi > limit)
			hi = limit;
		while (cron_cal_next(c, lo, hi, &l)) {
			if (nf_tz_local_to_utc(tz, l, inst) == NF_TZ_REPEATED) {
				/*
				 * Fixed-time entries fire on the first pass
				 * only; the others on both.
				 */
				if (fixed && inst[0] != l - off) {
					lo = l + 1;
					continue;
				}
				*flags = NF_CRON_DST_REPEAT;
			}
			return l - off;
		}
		if (hi >= limit)
			return -1;
		/* A spring-forward at end skips [end + off, end + noff). */
		noff = nf_tz_offset(tz, end, NULL);
		if (fixed && noff > off &&
		    cron_cal_next(c, end + off, end + noff, &l)) {
			*flags = NF_CRON_DST_GAP;
			return end;
		}
		t = end;
		off = noff;
		lo = t + off;
	}
}
