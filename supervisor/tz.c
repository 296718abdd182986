/*
 * tz.c: time zones read from the system TZif database, without touching the
 * process's TZ environment: the supervisor computes in many zones at once.
 * Runs in nomaflowd.
 *
 * Owns: reading and validating TZif files (versions 1 to 4; the 64-bit
 * section when present), the POSIX TZ footer rule that gives local time
 * after the last listed transition, and the conversions instant -> local
 * wall time and local wall time -> instants (with gaps and repeats); and
 * the proleptic Gregorian calendar the rest of the supervisor counts days
 * with (cron, TOML dates: nf_tz_days_in_month is the one month table).
 *
 * Invariants: a loaded nf_tz is immutable, so one may be shared by any
 * number of jobs; transitions are strictly increasing; every count, type
 * index and abbreviation index was bounds-checked against the file when it
 * was loaded; every offset is within RFC 8536's -24:59:59..+25:59:59.  A
 * NULL nf_tz means UTC everywhere.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"
#include "util.h"

#define TZ_DEFAULT_DIR	"/usr/share/zoneinfo"
#define TZ_MAX_FILE	(1024 * 1024)	/* real ones are < 4 KiB */
#define TZ_MAX_NAME	255
#define TZ_MAX_TYPES	256		/* type indices are one byte */
#define TZ_MAX_ABBR	15		/* real ones are <= 6 */
#define TZ_OFF_MIN	(-89999)	/* RFC 8536 3.2 */
#define TZ_OFF_MAX	93599
/*
 * Instants are clamped to about +-300,000 years before any calendar
 * arithmetic so that nothing below can overflow an int64_t.
 */
#define TZ_T_LIMIT	INT64_C(10000000000000)
/* Offsets are within +-26 h, so a wall time maps into this window. */
#define TZ_WINDOW	(26 * 3600)

struct tz_type {
	int32_t	 off;		/* seconds east of UTC */
	int	 isdst;
	char	 abbr[TZ_MAX_ABBR + 1];
};

/* One date of a POSIX rule: Jn, n or Mm.w.d, plus the local time. */
struct tz_date {
	char	 kind;		/* 'J', 'N' (0-based, has Feb 29), 'M' */
	int	 day;		/* J: 1-365, N: 0-365, M: weekday 0-6 */
	int	 week;		/* M: 1-5, 5 = last */
	int	 mon;		/* M: 1-12 */
	int32_t	 secs;		/* time of day; < 0 or > 24 h ok */
};

struct tz_posix {
	struct tz_type	 std;
	struct tz_type	 dst;
	int		 has_dst;
	struct tz_date	 start;	/* in local standard time */
	struct tz_date	 end;	/* in local daylight time */
};

struct nf_tz {
	char		*name;
	size_t		 ntrans;
	int64_t		*trans;
	uint8_t		*idx;	/* type of each transition */
	size_t		 ntypes;
	struct tz_type	*types;
	int		 has_posix;
	struct tz_posix	 posix;
};

struct tz_cur {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

struct tz_head {
	int		 version;	/* 1, 2, 3 or 4 */
	uint32_t	 isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static const struct tz_type tz_utc_type = { 0, 0, "UTC" };

/*
 * Calendar.  Days since 1970-01-01 in the proleptic Gregorian calendar,
 * by counting 400-year eras that start on March 1st (so the leap day is
 * the last day of an era's year).
 */
int64_t
nf_tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
nf_tz_civil_from_days(int64_t z, int64_t *yp, int *mp, int *dp)
{
	int64_t	era, doe, yoe, doy, mp0, y;
	int	m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp0 = (5 * doy + 2) / 153;
	*dp = (int)(doy - (153 * mp0 + 2) / 5 + 1);
	m = (int)(mp0 < 10 ? mp0 + 3 : mp0 - 9);
	*mp = m;
	*yp = y + (m <= 2);
}

static int64_t
tz_floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int
tz_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
nf_tz_days_in_month(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	return m == 2 && tz_leap(y) ? 29 : days[m - 1];
}

static int64_t
tz_clamp(int64_t t)
{
	if (t > TZ_T_LIMIT)
		return TZ_T_LIMIT;
	if (t < -TZ_T_LIMIT)
		return -TZ_T_LIMIT;
	return t;
}

/* POSIX footer rules. */

/* Wall-clock seconds (as if UTC) at which date d happens in year y. */
static int64_t
tz_date_local(const struct tz_date *d, int64_t y)
{
	int64_t	days;
	int	wd1, mday;

	switch (d->kind) {
	case 'J':
		/* Day 1-365, February 29 is never counted. */
		days = nf_tz_days_from_civil(y, 1, 1) + d->day - 1;
		if (tz_leap(y) && d->day >= 60)
			days++;
		break;
	case 'N':
		days = nf_tz_days_from_civil(y, 1, 1) + d->day;
		break;
	default:
		days = nf_tz_days_from_civil(y, d->mon, 1);
		/* 1970-01-01 was a Thursday. */
		wd1 = (int)(((days % 7) + 11) % 7);
		mday = 1 + (d->day - wd1 + 7) % 7 + (d->week - 1) * 7;
		while (mday > nf_tz_days_in_month(y, d->mon))
			mday -= 7;
		days += mday - 1;
		break;
	}
	return days * 86400 + d->secs;
}

/* The UTC instants at which DST starts and ends in (local) year y. */
static void
tz_posix_year(const struct tz_posix *p, int64_t y, int64_t *start,
    int64_t *end)
{
	*start = tz_date_local(&p->start, y) - p->std.off;
	*end = tz_date_local(&p->end, y) - p->dst.off;
}

static int64_t
tz_year_of(int64_t t)
{
	int64_t	y;
	int	m, d;

	nf_tz_civil_from_days(tz_floordiv(t, 86400), &y, &m, &d);
	return y;
}

static const struct tz_type *
tz_posix_lookup(const struct tz_posix *p, int64_t t)
{
	int64_t	s, e;
	int	dst;

	if (!p->has_dst)
		return &p->std;
	tz_posix_year(p, tz_year_of(t + p->std.off), &s, &e);
	if (s < e)
		dst = s <= t && t < e;
	else	/* southern hemisphere: DST spans the new year */
		dst = !(e <= t && t < s);
	return dst ? &p->dst : &p->std;
}

static int64_t
tz_posix_next(const struct tz_posix *p, int64_t t)
{
	int64_t	y, yy, s, e, best = INT64_MAX;

	if (!p->has_dst)
		return INT64_MAX;
	y = tz_year_of(t + p->std.off);
	for (yy = y - 1; yy <= y + 1; yy++) {
		tz_posix_year(p, yy, &s, &e);
		if (s > t && s < best)
			best = s;
		if (e > t && e < best)
			best = e;
	}
	return best;
}

/* Parsing of the footer ("CET-1CEST,M3.5.0,M10.5.0/3"). */

static int
tz_pnum(const char **sp, int max, int *out)
{
	const char	*s = *sp;
	int		 v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
		s++;
	}
	*sp = s;
	*out = v;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hours up to maxh; seconds into *out. */
static int
tz_ptime(const char **sp, int maxh, int32_t *out)
{
	const char	*s = *sp;
	int		 sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-') {
		if (*s == '-')
			sign = -1;
		s++;
	}
	if (tz_pnum(&s, maxh, &h) == -1)
		return -1;
	if (*s == ':') {
		s++;
		if (tz_pnum(&s, 59, &m) == -1)
			return -1;
		if (*s == ':') {
			s++;
			if (tz_pnum(&s, 59, &sec) == -1)
				return -1;
		}
	}
	*sp = s;
	*out = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

static int
tz_pname(const char **sp, char *abbr)
{
	const char	*s = *sp;
	size_t		 n = 0;

	if (*s == '<') {
		s++;
		while (*s != '>') {
			if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' &&
			    *s <= 'z') || (*s >= '0' && *s <= '9') ||
			    *s == '+' || *s == '-') || n >= TZ_MAX_ABBR)
				return -1;
			abbr[n++] = *s++;
		}
		s++;
	} else {
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
			if (n >= TZ_MAX_ABBR)
				return -1;
			abbr[n++] = *s++;
		}
	}
	if (n < 3)
		return -1;
	abbr[n] = '\0';
	*sp = s;
	return 0;
}

static int
tz_pdate(const char **sp, struct tz_date *d)
{
	const char	*s = *sp;

	memset(d, 0, sizeof(*d));
	if (*s == 'J') {
		s++;
		d->kind = 'J';
		if (tz_pnum(&s, 365, &d->day) == -1 || d->day < 1)
			return -1;
	} else if (*s == 'M') {
		s++;
		d->kind = 'M';
		if (tz_pnum(&s, 12, &d->mon) == -1 || d->mon < 1 ||
		    *s++ != '.' || tz_pnum(&s, 5, &d->week) == -1 ||
		    d->week < 1 || *s++ != '.' || tz_pnum(&s, 6, &d->day) == -1)
			return -1;
	} else {
		d->kind = 'N';
		if (tz_pnum(&s, 365, &d->day) == -1)
			return -1;
	}
	d->secs = 7200;		/* POSIX default: 02:00 */
	/* TZif v3 allows -167..167 hours here. */
	if (*s == '/') {
		s++;
		if (tz_ptime(&s, 167, &d->secs) == -1)
			return -1;
	}
	*sp = s;
	return 0;
}

static int
tz_posix_parse(const char *s, struct tz_posix *p)
{
	int32_t	v;

	memset(p, 0, sizeof(*p));
	if (tz_pname(&s, p->std.abbr) == -1 || tz_ptime(&s, 24, &v) == -1)
		return -1;
	/* POSIX offsets count hours west of Greenwich. */
	p->std.off = -v;
	if (*s == '\0')
		return 0;
	p->has_dst = 1;
	p->dst.isdst = 1;
	if (tz_pname(&s, p->dst.abbr) == -1)
		return -1;
	p->dst.off = p->std.off + 3600;
	if (*s != ',' && *s != '\0') {
		if (tz_ptime(&s, 24, &v) == -1)
			return -1;
		p->dst.off = -v;
	}
	if (*s == '\0') {
		/* No rule given: the POSIX/tzcode default, US rules. */
		p->start = (struct tz_date){ 'M', 0, 2, 3, 7200 };
		p->end = (struct tz_date){ 'M', 0, 1, 11, 7200 };
		return 0;
	}
	if (*s++ != ',' || tz_pdate(&s, &p->start) == -1 || *s++ != ',' ||
	    tz_pdate(&s, &p->end) == -1 || *s != '\0')
		return -1;
	return 0;
}

/* TZif decoding: every read is bounded by tz_need(). */

static int
tz_need(const struct tz_cur *c, size_t n)
{
	return c->len - c->off >= n ? 0 : -1;
}

static uint32_t
tz_be32(struct tz_cur *c)
{
	const uint8_t	*p = c->p + c->off;

	c->off += 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
tz_be64(struct tz_cur *c)
{
	uint64_t	hi, lo;

	hi = tz_be32(c);
	lo = tz_be32(c);
	return (int64_t)(hi << 32 | lo);
}

static int
tz_head_read(struct tz_cur *c, struct tz_head *h, const char **why)
{
	const uint8_t	*p;

	if (tz_need(c, 44) == -1) {
		*why = "truncated header";
		return -1;
	}
	p = c->p + c->off;
	if (memcmp(p, "TZif", 4) != 0) {
		*why = "not a TZif file (bad magic)";
		return -1;
	}
	if (p[4] == 0)
		h->version = 1;
	else if (p[4] >= '2' && p[4] <= '4')
		h->version = p[4] - '0';
	else {
		*why = "unknown TZif version";
		return -1;
	}
	c->off += 20;
	h->isutcnt = tz_be32(c);
	h->isstdcnt = tz_be32(c);
	h->leapcnt = tz_be32(c);
	h->timecnt = tz_be32(c);
	h->typecnt = tz_be32(c);
	h->charcnt = tz_be32(c);
	/*
	 * Bound every count before any size arithmetic: with each below
	 * 2^20 the block size below cannot overflow.
	 */
	if (h->typecnt == 0 || h->typecnt > TZ_MAX_TYPES) {
		*why = "type count out of range 1-256";
		return -1;
	}
	if (h->charcnt == 0 || h->charcnt > 4096) {
		*why = "abbreviation size out of range 1-4096";
		return -1;
	}
	if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)) {
		*why = "indicator counts do not match the type count";
		return -1;
	}
	if (h->timecnt > (1U << 20) || h->leapcnt > (1U << 20)) {
		*why = "transition or leap-second count too large";
		return -1;
	}
	return 0;
}

static size_t
tz_block_size(const struct tz_head *h, size_t tsize)
{
	return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 +
	    h->charcnt + (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt +
	    h->isutcnt;
}

static int
tz_block_read(struct tz_cur *c, const struct tz_head *h, size_t tsize,
    struct nf_tz *tz, const char **why)
{
	const char	*chars;
	size_t		 i, typeoff, charoff, n;
	uint8_t		 b;

	if (tz_need(c, tz_block_size(h, tsize)) == -1) {
		*why = "truncated data block";
		return -1;
	}
	if (h->leapcnt != 0) {
		*why = "leap-second (\"right/\") zone files are not supported; "
		    "use the zone without the right/ prefix";
		return -1;
	}
	tz->ntrans = h->timecnt;
	tz->trans = nf_xreallocarray(NULL, tz->ntrans + 1, sizeof(int64_t));
	tz->idx = nf_xreallocarray(NULL, tz->ntrans + 1, 1);
	for (i = 0; i < tz->ntrans; i++) {
		tz->trans[i] = tsize == 8 ? tz_be64(c) :
		    (int64_t)(int32_t)tz_be32(c);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1]) {
			*why = "transition times are not increasing";
			return -1;
		}
	}
	for (i = 0; i < tz->ntrans; i++) {
		tz->idx[i] = c->p[c->off++];
		if (tz->idx[i] >= h->typecnt) {
			*why = "transition type index out of range";
			return -1;
		}
	}
	typeoff = c->off;
	charoff = typeoff + (size_t)h->typecnt * 6;
	chars = (const char *)c->p + charoff;
	tz->ntypes = h->typecnt;
	tz->types = nf_xcalloc(tz->ntypes, sizeof(*tz->types));
	for (i = 0; i < tz->ntypes; i++) {
		struct tz_type	*ty = &tz->types[i];

		ty->off = (int32_t)tz_be32(c);
		b = c->p[c->off++];
		if (ty->off < TZ_OFF_MIN || ty->off > TZ_OFF_MAX) {
			*why = "UTC offset out of range -24:59:59..25:59:59";
			return -1;
		}
		if (b > 1) {
			*why = "DST indicator is neither 0 nor 1";
			return -1;
		}
		ty->isdst = b;
		b = c->p[c->off++];
		if (b >= h->charcnt) {
			*why = "abbreviation index out of range";
			return -1;
		}
		n = strnlen(chars + b, h->charcnt - b);
		if (n == h->charcnt - b) {
			*why = "abbreviation is not NUL-terminated";
			return -1;
		}
		if (n > TZ_MAX_ABBR) {
			*why = "abbreviation longer than 15 characters";
			return -1;
		}
		memcpy(ty->abbr, chars + b, n + 1);
	}
	c->off = charoff + h->charcnt;
	/* No leap records (rejected above); then the indicators. */
	for (i = 0; i < (size_t)h->isstdcnt + h->isutcnt; i++) {
		if (c->p[c->off++] > 1) {
			*why = "standard/UT indicator is neither 0 nor 1";
			return -1;
		}
	}
	return 0;
}

static int
tz_parse(const uint8_t *buf, size_t len, struct nf_tz *tz, const char **why)
{
	struct tz_cur	 c = { buf, len, 0 };
	struct tz_head	 h1, h2;
	const uint8_t	*nl;
	char		*footer;
	size_t		 flen;

	if (tz_head_read(&c, &h1, why) == -1)
		return -1;
	if (h1.version == 1) {
		if (tz_block_read(&c, &h1, 4, tz, why) == -1)
			return -1;
		if (c.off != len) {
			*why = "trailing bytes after the data block";
			return -1;
		}
		return 0;
	}
	/* Skip the 32-bit block: the 64-bit one below has it all. */
	if (tz_need(&c, tz_block_size(&h1, 4)) == -1) {
		*why = "truncated version 1 data block";
		return -1;
	}
	c.off += tz_block_size(&h1, 4);
	if (tz_head_read(&c, &h2, why) == -1)
		return -1;
	if (h2.version != h1.version) {
		*why = "the two headers disagree on the version";
		return -1;
	}
	if (tz_block_read(&c, &h2, 8, tz, why) == -1)
		return -1;
	if (tz_need(&c, 1) == -1 || c.p[c.off] != '\n') {
		*why = "missing footer";
		return -1;
	}
	c.off++;
	nl = memchr(c.p + c.off, '\n', len - c.off);
	if (nl == NULL) {
		*why = "unterminated footer";
		return -1;
	}
	flen = (size_t)(nl - (c.p + c.off));
	if ((size_t)(nl - c.p) + 1 != len) {
		*why = "trailing bytes after the footer";
		return -1;
	}
	if (flen == 0)
		return 0;	/* no rule: the last type stays in force */
	footer = nf_xstrndup((const char *)c.p + c.off, flen);
	if (strlen(footer) != flen || tz_posix_parse(footer,
	    &tz->posix) == -1) {
		free(footer);
		*why = "invalid POSIX TZ footer";
		return -1;
	}
	free(footer);
	tz->has_posix = 1;
	return 0;
}

static int
tz_name_valid(const char *name)
{
	size_t		 i, n = strlen(name);

	if (n == 0 || n > TZ_MAX_NAME || name[0] == '/' || name[n - 1] == '/')
		return 0;
	if (strstr(name, "..") != NULL || strstr(name, "//") != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		char	ch = name[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' ||
		    ch == '+' || ch == '-'))
			return 0;
	}
	return 1;
}

/* Read the whole file; -1 with errno set, or EFBIG/EISDIR for odd files. */
static int
tz_slurp(const char *path, uint8_t **bufp, size_t *lenp)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (st.st_size > TZ_MAX_FILE) {
		errno = EFBIG;
		goto fail;
	}
	/* One spare byte so that a file growing under us is noticed. */
	buf = nf_xmalloc((size_t)st.st_size + 1);
	for (;;) {
		r = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			free(buf);
			errno = saved;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > (size_t)st.st_size) {
			free(buf);
			errno = EFBIG;
			goto fail;
		}
	}
	/* Read-only: a close() error cannot lose data. */
	(void)close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

struct nf_tz *
nf_tz_load(const char *name, char *err, size_t errlen)
{
	struct nf_tz	*tz;
	const char	*dir, *why;
	char		*path;
	uint8_t		*buf;
	size_t		 len;

	if (err == NULL)
		errlen = 0;
	tz = nf_xcalloc(1, sizeof(*tz));
	if (name == NULL || strcmp(name, "UTC") == 0) {
		tz->name = nf_xstrdup("UTC");
		tz->ntypes = 1;
		tz->types = nf_xcalloc(1, sizeof(*tz->types));
		tz->types[0] = tz_utc_type;
		return tz;
	}
	if (!tz_name_valid(name)) {
		snprintf(err, errlen, "time zone \"%s\" is not a valid IANA "
		    "zone name (letters, digits, '/', '_', '+', '-'; like "
		    "\"Europe/Paris\" or \"UTC\")", name);
		free(tz);
		return NULL;
	}
	if ((dir = getenv("NOMAFLOW_ZONEINFO")) == NULL || *dir == '\0')
		dir = TZ_DEFAULT_DIR;
	path = nf_xprintf("%s/%s", dir, name);
	if (tz_slurp(path, &buf, &len) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "time zone \"%s\" is unknown: "
			    "%s does not exist (check the spelling, e.g. "
			    "\"America/New_York\"; is the tzdata package "
			    "installed?)", name, path);
		else
			snprintf(err, errlen, "time zone \"%s\": cannot read "
			    "%s: %s", name, path, strerror(errno));
		free(path);
		free(tz);
		return NULL;
	}
	tz->name = nf_xstrdup(name);
	if (tz_parse(buf, len, tz, &why) == -1) {
		snprintf(err, errlen, "time zone \"%s\": %s is corrupt: %s "
		    "(reinstall the tzdata package)", name, path, why);
		free(buf);
		free(path);
		nf_tz_free(tz);
		return NULL;
	}
	free(buf);
	free(path);
	return tz;
}

struct nf_tz *
nf_tz_parse(const char *name, const void *buf, size_t len, char *err,
    size_t errlen)
{
	struct nf_tz	*tz;
	const char	*why;

	if (err == NULL)
		errlen = 0;
	tz = nf_xcalloc(1, sizeof(*tz));
	tz->name = nf_xstrdup(name);
	if (tz_parse(buf, len, tz, &why) == -1) {
		snprintf(err, errlen, "time zone \"%s\": corrupt TZif data: "
		    "%s", name, why);
		nf_tz_free(tz);
		return NULL;
	}
	return tz;
}

void
nf_tz_free(struct nf_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->name);
	free(tz->trans);
	free(tz->idx);
	free(tz->types);
	free(tz);
}

const char *
nf_tz_name(const struct nf_tz *tz)
{
	return tz == NULL ? "UTC" : tz->name;
}

static const struct tz_type *
tz_lookup(const struct nf_tz *tz, int64_t t)
{
	size_t	lo, hi, mid;

	if (tz == NULL)
		return &tz_utc_type;
	t = tz_clamp(t);
	if (tz->has_posix && (tz->ntrans == 0 ||
	    t >= tz->trans[tz->ntrans - 1]))
		return tz_posix_lookup(&tz->posix, t);
	/* RFC 8536: before the first transition, type 0 applies. */
	if (tz->ntrans == 0 || t < tz->trans[0])
		return &tz->types[0];
	/* The last transition with trans[i] <= t. */
	lo = 0;
	hi = tz->ntrans;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &tz->types[tz->idx[lo]];
}

int
nf_tz_offset(const struct nf_tz *tz, int64_t t, const char **abbr)
{
	const struct tz_type	*ty = tz_lookup(tz, t);

	if (abbr != NULL)
		*abbr = ty->abbr;
	return ty->off;
}

int64_t
nf_tz_next_change(const struct nf_tz *tz, int64_t t)
{
	size_t	lo, hi, mid;

	if (tz == NULL)
		return INT64_MAX;
	if (t >= TZ_T_LIMIT)
		return INT64_MAX;
	t = tz_clamp(t);
	if (tz->ntrans > 0 && t < tz->trans[tz->ntrans - 1]) {
		/* The first transition > t. */
		lo = 0;
		hi = tz->ntrans - 1;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (tz->trans[mid] > t)
				hi = mid;
			else
				lo = mid + 1;
		}
		return tz->trans[lo];
	}
	if (tz->has_posix)
		return tz_posix_next(&tz->posix, t);
	return INT64_MAX;
}

void
nf_tz_localtime(const struct nf_tz *tz, int64_t t, struct tm *tm)
{
	const struct tz_type	*ty;
	int64_t			 l, days, secs, y;
	int			 m, d;

	t = tz_clamp(t);
	ty = tz_lookup(tz, t);
	l = t + ty->off;
	days = tz_floordiv(l, 86400);
	secs = l - days * 86400;
	nf_tz_civil_from_days(days, &y, &m, &d);
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_wday = (int)(((days % 7) + 11) % 7);
	tm->tm_yday = (int)(days - nf_tz_days_from_civil(y, 1, 1));
	tm->tm_isdst = ty->isdst;
#ifdef __USE_MISC
	tm->tm_gmtoff = ty->off;
	tm->tm_zone = ty->abbr;
#endif
}

int
nf_tz_local_to_utc(const struct nf_tz *tz, int64_t local, int64_t out[2])
{
	int64_t	t, end, hi, cand, gap = INT64_MAX;
	int32_t	off, noff;
	int	n = 0, guard;

	local = tz_clamp(local);
	/*
	 * Walk the spans of constant offset that cover every instant this
	 * wall time could be (offsets are within +-26 h); in each, the wall
	 * time is either reached exactly once or not at all.
	 */
	t = local - TZ_WINDOW - 1;
	hi = local + TZ_WINDOW;
	for (guard = 0; guard < 64; guard++) {
		off = tz_lookup(tz, t)->off;
		end = nf_tz_next_change(tz, t);
		cand = local - off;
		if (cand >= t && cand < end && n < 2)
			out[n++] = cand;
		if (end > hi)
			break;
		noff = tz_lookup(tz, end)->off;
		/* Wall times [end + off, end + noff) are skipped at end. */
		if (gap == INT64_MAX && end + off <= local &&
		    local < end + noff)
			gap = end;
		t = end;
	}
	if (n == 2 && out[1] < out[0]) {
		cand = out[0];
		out[0] = out[1];
		out[1] = cand;
	}
	if (n > 0)
		return n;
	out[0] = gap != INT64_MAX ? gap : local - tz_lookup(tz, local)->off;
	return NF_TZ_GAP;
}

/*
 * "2026-03-29", "2026-03-29 02:30", "2026-03-29T02:30:15", each optionally
 * followed by "Z" or "+HH:MM"/"-HH:MM"; or "@SECONDS" since the epoch.
 * Without an offset the wall time is in tz (NULL: UTC): skipped by a
 * gap, it means the first instant after the gap; repeated, its first
 * occurrence.
 */
/* s starts with pat, where 'd' stands for a digit. */
static int
tz_shape(const char *s, const char *pat)
{
	for (; *pat != '\0'; pat++, s++)
		if (*pat == 'd' ? !(*s >= '0' && *s <= '9') : *s != *pat)
			return 0;
	return 1;
}

/* The number in s[0..n). */
static int
tz_num(const char *s, int n)
{
	int	v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

int
nf_tz_parse_time(const struct nf_tz *tz, const char *s, int64_t *out)
{
	int64_t	 local, inst[2];
	int	 y, mo, d, h = 0, mi = 0, se = 0, off;
	char	*end;
	long long v;

	if (s[0] == '@') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (end == s + 1 || *end != '\0' || errno != 0 ||
		    v < -TZ_T_LIMIT || v > TZ_T_LIMIT)
			return -1;
		*out = v;
		return 0;
	}
	if (!tz_shape(s, "dddd-dd-dd"))
		return -1;
	y = tz_num(s, 4);
	mo = tz_num(s + 5, 2);
	d = tz_num(s + 8, 2);
	s += 10;
	if ((*s == ' ' || *s == 'T' || *s == 't') && tz_shape(s + 1,
	    "dd:dd")) {
		h = tz_num(s + 1, 2);
		mi = tz_num(s + 4, 2);
		s += 6;
		if (tz_shape(s, ":dd")) {
			se = tz_num(s + 1, 2);
			s += 3;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > nf_tz_days_in_month(y, mo) ||
	    h > 23 || mi > 59 || se > 59)
		return -1;
	local = nf_tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    se;
	if (*s == '\0') {
		nf_tz_local_to_utc(tz, local, inst);
		*out = inst[0];
		return 0;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		*out = local;
		return 0;
	}
	if ((*s != '+' && *s != '-') || !tz_shape(s + 1, "dd:dd") ||
	    s[6] != '\0')
		return -1;
	off = tz_num(s + 1, 2) * 3600 + tz_num(s + 4, 2) * 60;
	if (off > 25 * 3600 + 59 * 60 || tz_num(s + 4, 2) > 59)
		return -1;
	*out = *s == '-' ? local + off : local - off;
	return 0;
}
