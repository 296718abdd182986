/*
 * check_tz.c: unit tests of supervisor/tz.c, the time zones and calendar
 * that cron, the scheduler and templates run on.
 *
 * - the TZif reader against glibc's localtime_r() with TZ set, for zone
 *   files and for bare POSIX TZ strings (footers);
 * - corrupt and truncated TZif files are rejected with a reason, never
 *   crash;
 * - wall time to instants: gaps (spring forward) and folds (fall back);
 * - the calendar (days from civil and back, days in a month) and the forms
 *   of a user-given time (nf_tz_parse_time, "nfctl cron --from").
 *
 * Needs the system tz database (/usr/share/zoneinfo, package tzdata).
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

#include "nf_check.h"
#include "tz.h"
#include "util.h"

/* Deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static int
rnd(int n)
{
	return (int)(rng() % (uint64_t)n);
}

static int64_t
iso(const char *s)
{
	int	y, mo, d, h = 0, mi = 0, se = 0;

	ck_assert_int_ge(sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi,
	    &se), 3);
	return nf_tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    se;
}

static struct nf_tz *
tz_or_die(const char *name)
{
	struct nf_tz	*tz;
	char		 err[512];

	tz = nf_tz_load(name, err, sizeof(err));
	if (tz == NULL)
		ck_abort_msg("cannot load zone %s: %s", name, err);
	return tz;
}

/* Wall time of t, in seconds as if UTC. */
static int64_t
owall(const struct nf_tz *tz, int64_t t)
{
	return t + nf_tz_offset(tz, t, NULL);
}

/* Time zones. */

static const char *glibc_zones[] = { "Europe/Paris", "America/New_York",
    "Australia/Lord_Howe", "Asia/Kathmandu", "Europe/London",
    "America/Los_Angeles", "America/Sao_Paulo", "America/Santiago",
    "Australia/Sydney", "Pacific/Auckland", "Pacific/Chatham",
    "Asia/Tehran", "Asia/Kolkata", "Africa/Casablanca", "America/St_Johns",
    "Europe/Dublin", "Pacific/Apia", "America/Godthab", "Asia/Gaza",
    "Antarctica/Troll", "Etc/GMT+5", "UTC", "Pacific/Kiritimati",
    "America/Havana" };

/* Compare nf_tz with glibc (TZ set) at n random instants in [lo, hi). */
static void
glibc_compare(const char *tzenv, const struct nf_tz *tz, int64_t lo,
    int64_t hi, int n)
{
	struct tm	 g, m;
	const char	*abbr;
	time_t		 tt;
	int64_t		 t;
	int		 i, off;

	ck_assert_int_eq(setenv("TZ", tzenv, 1), 0);
	tzset();
	for (i = 0; i < n; i++) {
		t = lo + (int64_t)(rng() % (uint64_t)(hi - lo));
		tt = (time_t)t;
		ck_assert_ptr_nonnull(localtime_r(&tt, &g));
		off = nf_tz_offset(tz, t, &abbr);
		nf_tz_localtime(tz, t, &m);
		ck_assert_msg(off == g.tm_gmtoff && strcmp(abbr,
		    g.tm_zone) == 0 && m.tm_isdst == (g.tm_isdst > 0),
		    "%s at %lld: ours %d %s dst %d, glibc %ld %s dst %d", tzenv,
		    (long long)t, off, abbr, m.tm_isdst, g.tm_gmtoff,
		    g.tm_zone, g.tm_isdst);
		ck_assert_msg(m.tm_year == g.tm_year && m.tm_mon == g.tm_mon &&
		    m.tm_mday == g.tm_mday && m.tm_hour == g.tm_hour &&
		    m.tm_min == g.tm_min && m.tm_sec == g.tm_sec &&
		    m.tm_wday == g.tm_wday && m.tm_yday == g.tm_yday,
		    "%s at %lld: broken-down time differs", tzenv,
		    (long long)t);
	}
}

START_TEST(test_tz_vs_glibc)
{
	const char	*zone = glibc_zones[_i];
	struct nf_tz	*tz;
	char		 env[300];

	tz = tz_or_die(zone);
	ck_assert_str_eq(nf_tz_name(tz), zone);
	snprintf(env, sizeof(env), ":%s", zone);
	/* 1970-2100, and densely around now and after 2037 (the footer). */
	glibc_compare(env, tz, 0, iso("2100-01-01"), 3000);
	glibc_compare(env, tz, iso("2025-01-01"), iso("2028-01-01"), 2000);
	glibc_compare(env, tz, iso("2037-01-01"), iso("2045-01-01"), 2000);
	nf_tz_free(tz);
}
END_TEST

/* A TZif v2 file with no transitions: everything comes from the footer. */
static void
write_footer_zone(const char *dir, const char *name, const char *footer)
{
	struct nf_buf	 b;
	char		*path;
	unsigned char	 head[44];
	FILE		*fp;
	int		 v;

	nf_buf_init(&b);
	for (v = 0; v < 2; v++) {
		memset(head, 0, sizeof(head));
		memcpy(head, "TZif2", 5);
		head[39] = 1;		/* typecnt */
		head[43] = 4;		/* charcnt */
		nf_buf_add(&b, head, sizeof(head));
		nf_buf_add(&b, "\0\0\0\0\0\0ZZZ\0", 10);
	}
	nf_buf_printf(&b, "\n%s\n", footer);
	path = nf_xprintf("%s/%s", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fwrite(b.data, 1, b.len, fp), b.len);
	ck_assert_int_eq(fclose(fp), 0);
	free(path);
	nf_buf_free(&b);
}

static char *
make_tmpdir(void)
{
	char	*d;

	d = nf_xprintf("%s/nf-check-tz.XXXXXX", getenv("TMPDIR") != NULL ?
	    getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

START_TEST(test_tz_posix_footers)
{
	static const char	*footers[] = {
	    "CET-1CEST,M3.5.0,M10.5.0/3", "<+0545>-5:45",
	    "EST5EDT,M3.2.0,M11.1.0", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
	    "<-04>4<-03>,M9.1.6/24,M4.1.6/24", "NZST-12NZDT,M9.5.0,M4.1.0/3",
	    "IST-1GMT0,M10.5.0,M3.5.0/1", "<+0330>-3:30", "AAA3BBB,J60/2,J300",
	    "AAA3BBB,59/-1,300/26", "EST5EDT", "ZZZ-14",
	    "<-01>1<+00>,M3.5.0/0,M10.5.0/1", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
	    "WGT3WGST,M3.5.0/-2,M10.5.0/-1",
	    "AAA-1:30:15BBB-2:45,M2.5.3,M11.5.3"
	};
	struct nf_tz		*tz;
	char			*dir, *path, err[512];
	size_t			 i;

	dir = make_tmpdir();
	ck_assert_int_eq(setenv("NOMAFLOW_ZONEINFO", dir, 1), 0);
	for (i = 0; i < NF_NELEM(footers); i++) {
		if (i == 0) {
			path = nf_xprintf("%s/Test", dir);
			ck_assert_int_eq(mkdir(path, 0700), 0);
			free(path);
		}
		write_footer_zone(dir, "Test/F", footers[i]);
		tz = nf_tz_load("Test/F", err, sizeof(err));
		ck_assert_msg(tz != NULL, "%s: %s", footers[i], err);
		/*
		 * Without rules glibc takes them from its "posixrules" zone
		 * (America/New_York), which has had ours since 2007 only.
		 */
		glibc_compare(footers[i], tz, strchr(footers[i], ',') == NULL &&
		    strcmp(footers[i], "EST5EDT") == 0 ? iso("2008-01-01") : 0,
		    iso("2100-01-01"), 3000);
		nf_tz_free(tz);
	}
	/* Malformed footers are corrupt files. */
	write_footer_zone(dir, "Test/Bad", "CET-1CEST,M13.5.0,M10.5.0/3");
	ck_assert_ptr_null(nf_tz_load("Test/Bad", err, sizeof(err)));
	ck_assert_msg(strstr(err, "invalid POSIX TZ footer") != NULL, "%s",
	    err);
	write_footer_zone(dir, "Test/Bad", "C-1");
	ck_assert_ptr_null(nf_tz_load("Test/Bad", err, sizeof(err)));
	write_footer_zone(dir, "Test/Bad", "CET-1CEST,M3.5.0");
	ck_assert_ptr_null(nf_tz_load("Test/Bad", err, sizeof(err)));
	ck_assert_int_eq(unsetenv("NOMAFLOW_ZONEINFO"), 0);
	path = nf_xprintf("%s/Test/F", dir);
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	path = nf_xprintf("%s/Test/Bad", dir);
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	path = nf_xprintf("%s/Test", dir);
	ck_assert_int_eq(rmdir(path), 0);
	free(path);
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

START_TEST(test_tz_names)
{
	static const char	*bad[] = { "../etc/passwd", "/etc/localtime",
	    "Europe/../../etc", "Europe//Paris", "Europe/Paris ", "Europe/",
	    "", "Europe/Pa;ris", "Europe/Par\nis" };
	char			 err[512];
	size_t			 i;
	struct nf_tz		*tz;

	for (i = 0; i < NF_NELEM(bad); i++) {
		ck_assert_msg(nf_tz_load(bad[i], err, sizeof(err)) == NULL,
		    "\"%s\" accepted", bad[i]);
		ck_assert_msg(strstr(err, "not a valid IANA zone name") !=
		    NULL, "%s", err);
	}
	ck_assert_ptr_null(nf_tz_load("Mars/Olympus_Mons", err, sizeof(err)));
	ck_assert_msg(strstr(err, "time zone \"Mars/Olympus_Mons\" is "
	    "unknown") != NULL, "%s", err);
	ck_assert_ptr_null(nf_tz_load("Europe", err, sizeof(err)));
	/* UTC: built in (NULL too), no file needed. */
	ck_assert_int_eq(setenv("NOMAFLOW_ZONEINFO", "/nonexistent", 1), 0);
	tz = nf_tz_load("UTC", err, sizeof(err));
	ck_assert_ptr_nonnull(tz);
	ck_assert_str_eq(nf_tz_name(tz), "UTC");
	ck_assert_int_eq(nf_tz_offset(tz, 1234567890, NULL), 0);
	nf_tz_free(tz);
	tz = nf_tz_load(NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(tz);
	nf_tz_free(tz);
	ck_assert_str_eq(nf_tz_name(NULL), "UTC");
	ck_assert_ptr_null(nf_tz_load("Europe/Paris", err, sizeof(err)));
	ck_assert_int_eq(unsetenv("NOMAFLOW_ZONEINFO"), 0);
}
END_TEST

static void
exercise(const struct nf_tz *tz)
{
	int64_t		out[2];
	struct tm	tm;

	(void)nf_tz_offset(tz, (int64_t)(rng() % (1ULL << 34)) - (1LL << 33),
	    NULL);
	nf_tz_localtime(tz, (int64_t)(rng() % (1ULL << 34)) - (1LL << 33), &tm);
	(void)nf_tz_local_to_utc(tz, (int64_t)(rng() % (1ULL << 32)), out);
	(void)nf_tz_next_change(tz, (int64_t)(rng() % (1ULL << 32)));
}

START_TEST(test_tz_corrupt)
{
	static const char	*zones[] = { "Europe/Paris", "Asia/Kathmandu",
	    "America/New_York", "Australia/Lord_Howe" };
	struct nf_tz		*tz;
	char			*dir, *src, *dst, *buf, *mut, err[512];
	size_t			 i, len, cut;
	struct stat		 st;
	FILE			*fp;
	int			 fd, k, j;

	dir = make_tmpdir();
	ck_assert_int_eq(setenv("NOMAFLOW_ZONEINFO", dir, 1), 0);
	dst = nf_xprintf("%s/Zone", dir);
	for (i = 0; i < NF_NELEM(zones); i++) {
		src = nf_xprintf("/usr/share/zoneinfo/%s", zones[i]);
		ck_assert_int_eq(stat(src, &st), 0);
		len = (size_t)st.st_size;
		buf = nf_xmalloc(len + 1);
		ck_assert_ptr_nonnull(fp = fopen(src, "r"));
		ck_assert_int_eq(fread(buf, 1, len, fp), len);
		fclose(fp);
		tz = nf_tz_parse(zones[i], buf, len, err, sizeof(err));
		ck_assert_msg(tz != NULL, "%s", err);
		nf_tz_free(tz);
		/* Every truncation is rejected, and so is trailing garbage. */
		for (cut = 0; cut < len; cut++) {
			tz = nf_tz_parse("Zone", buf, cut, err, sizeof(err));
			ck_assert_msg(tz == NULL, "%s cut at %zu accepted",
			    zones[i], cut);
		}
		buf[len] = 'x';
		ck_assert_ptr_null(nf_tz_parse("Zone", buf, len + 1, err,
		    sizeof(err)));
		/* Random byte flips: rejected or usable, never a crash. */
		mut = nf_xmalloc(len);
		for (k = 0; k < 20000; k++) {
			memcpy(mut, buf, len);
			for (j = 0; j < 1 + rnd(4); j++)
				mut[rnd((int)len)] = (char)rng();
			tz = nf_tz_parse("Zone", mut, len, err, sizeof(err));
			if (tz != NULL) {
				exercise(tz);
				nf_tz_free(tz);
			}
		}
		free(mut);
		/* Through the loader: a truncated file says where. */
		fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, buf, len / 2), (ssize_t)(len / 2));
		ck_assert_int_eq(close(fd), 0);
		ck_assert_ptr_null(nf_tz_load("Zone", err, sizeof(err)));
		ck_assert_msg(strstr(err, "/Zone is corrupt: truncated") !=
		    NULL, "%s", err);
		free(buf);
		free(src);
	}
	ck_assert_int_eq(unlink(dst), 0);
	/* A directory is not a zone. */
	ck_assert_int_eq(mkdir(dst, 0700), 0);
	ck_assert_ptr_null(nf_tz_load("Zone", err, sizeof(err)));
	ck_assert_msg(strstr(err, "Is a directory") != NULL, "%s", err);
	ck_assert_int_eq(rmdir(dst), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(unsetenv("NOMAFLOW_ZONEINFO"), 0);
	free(dst);
	free(dir);
}
END_TEST

START_TEST(test_tz_local_to_utc)
{
	struct nf_tz	*tz;
	int64_t		 out[2], w, t;
	struct tm	 tm;
	int		 i, n, k;

	tz = tz_or_die("Europe/Paris");
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-03-29T02:30:00"),
	    out), NF_TZ_GAP);
	ck_assert_int_eq(out[0], iso("2026-03-29T01:00:00"));
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-10-25T02:30:00"),
	    out), NF_TZ_REPEATED);
	ck_assert_int_eq(out[0], iso("2026-10-25T00:30:00"));
	ck_assert_int_eq(out[1], iso("2026-10-25T01:30:00"));
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-07-01T12:00:00"),
	    out), NF_TZ_UNIQUE);
	ck_assert_int_eq(out[0], iso("2026-07-01T10:00:00"));
	/* Edges: 02:00 is in the gap, 03:00 is not; 03:00 repeats. */
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-03-29T02:00:00"),
	    out), NF_TZ_GAP);
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-03-29T03:00:00"),
	    out), NF_TZ_UNIQUE);
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-10-25T02:59:59"),
	    out), NF_TZ_REPEATED);
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-10-25T03:00:00"),
	    out), NF_TZ_UNIQUE);
	/* The next change. */
	ck_assert_int_eq(nf_tz_next_change(tz, iso("2026-06-01")),
	    iso("2026-10-25T01:00:00"));
	ck_assert_int_eq(nf_tz_next_change(tz, iso("2050-06-01")),
	    iso("2050-10-30T01:00:00"));
	/* Properties at random wall times, 1970-2100, in several zones. */
	for (k = 0; k < 6; k++) {
		nf_tz_free(tz);
		tz = tz_or_die(glibc_zones[k]);
		for (i = 0; i < 20000; i++) {
			w = (int64_t)(rng() % (uint64_t)iso("2100-01-01"));
			t = nf_tz_next_change(tz, w);
			/* Odd rounds: near a change. */
			if ((i & 1) && t < iso("2200-01-01"))
				w = owall(tz, t) - 5400 + rnd(10800);
			n = nf_tz_local_to_utc(tz, w, out);
			if (n == NF_TZ_GAP) {
				/* out[0]: a change that skips over w */
				ck_assert(owall(tz, out[0] - 1) < w);
				ck_assert(owall(tz, out[0]) > w);
				continue;
			}
			for (t = 0; t < n; t++) {
				nf_tz_localtime(tz, out[t], &tm);
				ck_assert_int_eq(owall(tz, out[t]), w);
			}
			if (n == 2)
				ck_assert(out[0] < out[1]);
		}
	}
	nf_tz_free(tz);
}
END_TEST

/* A TZif header (v1 block) with the given counts, then len bytes of zeros. */
static char *
tzif_with(const char *magic, uint32_t timecnt, uint32_t typecnt,
    uint32_t charcnt, uint32_t leapcnt, size_t *lenp)
{
	unsigned char	*b;
	size_t		 len = 44 + 4096;

	b = nf_xcalloc(1, len);
	memcpy(b, magic, 5);
	b[28] = (unsigned char)(leapcnt >> 24);
	b[29] = (unsigned char)(leapcnt >> 16);
	b[30] = (unsigned char)(leapcnt >> 8);
	b[31] = (unsigned char)leapcnt;
	b[32] = (unsigned char)(timecnt >> 24);
	b[33] = (unsigned char)(timecnt >> 16);
	b[34] = (unsigned char)(timecnt >> 8);
	b[35] = (unsigned char)timecnt;
	b[39] = (unsigned char)typecnt;
	b[43] = (unsigned char)charcnt;
	*lenp = len;
	return (char *)b;
}

/* Corrupt headers are refused with a reason, before any table is read. */
START_TEST(test_tz_corrupt_headers)
{
	char	*b, err[512];
	size_t	 len;

	b = tzif_with("TZjf2", 0, 1, 4, 0, &len);
	ck_assert_ptr_null(nf_tz_parse("Z", b, len, err, sizeof(err)));
	ck_assert_msg(err[0] != '\0' && nf_utf8_valid(err, strlen(err)), "%s",
	    err);
	free(b);
	/* No local time types at all. */
	b = tzif_with("TZif2", 0, 0, 4, 0, &len);
	ck_assert_ptr_null(nf_tz_parse("Z", b, len, err, sizeof(err)));
	free(b);
	/* Counts that claim more than the file holds. */
	b = tzif_with("TZif2", 0xffffff, 1, 4, 0, &len);
	ck_assert_ptr_null(nf_tz_parse("Z", b, len, err, sizeof(err)));
	ck_assert_msg(strstr(err, "too large") != NULL ||
	    strstr(err, "truncated") != NULL, "%s", err);
	free(b);
	/* Leap-second ("right/") zones are refused by name (a v1 file). */
	b = tzif_with("TZif", 0, 1, 4, 1, &len);
	ck_assert_ptr_null(nf_tz_parse("Z", b, len, err, sizeof(err)));
	ck_assert_msg(strstr(err, "leap-second") != NULL, "%s", err);
	free(b);
	/* An empty file. */
	ck_assert_ptr_null(nf_tz_parse("Z", "", 0, err, sizeof(err)));
}
END_TEST

/* The calendar: one table of month lengths for cron, TOML and zones. */
START_TEST(test_calendar)
{
	static const int	len[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int64_t			days, y, yy;
	int			m, d, mm, dd;

	for (m = 1; m <= 12; m++) {
		ck_assert_int_eq(nf_tz_days_in_month(2026, m), len[m - 1]);
		ck_assert_int_eq(nf_tz_days_in_month(2028, m),
		    m == 2 ? 29 : len[m - 1]);
	}
	ck_assert_int_eq(nf_tz_days_in_month(2000, 2), 29);	/* /400 */
	ck_assert_int_eq(nf_tz_days_in_month(2100, 2), 28);	/* /100 */
	ck_assert_int_eq(nf_tz_days_in_month(1900, 2), 28);
	ck_assert_int_eq(nf_tz_days_in_month(-4, 2), 29);	/* proleptic */
	ck_assert_int_eq(nf_tz_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(nf_tz_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(nf_tz_days_from_civil(1969, 12, 31), -1);
	/*
	 * Day by day, 1899-2101: back and forth, and months end right.
	 * (Plain ifs: a Check assertion per day is slow under ASan.)
	 */
	y = 1899;
	m = 1;
	d = 1;
	for (days = nf_tz_days_from_civil(1899, 1, 1);
	    days < nf_tz_days_from_civil(2101, 1, 1); days++) {
		if (nf_tz_days_from_civil(y, m, d) != days)
			ck_abort_msg("%lld-%02d-%02d is not day %lld",
			    (long long)y, m, d, (long long)days);
		nf_tz_civil_from_days(days, &yy, &mm, &dd);
		if (yy != y || mm != m || dd != d)
			ck_abort_msg("day %lld is %lld-%02d-%02d, not "
			    "%lld-%02d-%02d", (long long)days, (long long)yy,
			    mm, dd, (long long)y, m, d);
		if (++d > nf_tz_days_in_month(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}
END_TEST

/* nf_tz_parse_time: the forms "nfctl cron --from" accepts. */
START_TEST(test_tz_parse_time)
{
	static const char	*bad[] = { "", "2026", "2026-3-29",
	    "2026-02-29", "2026-13-01", "2026-04-31", "2026-03-29 24:00",
	    "2026-03-29 02:60", "2026-03-29 02:30:60", "2026-03-29 2:30",
	    "2026-03-29 02:30+1", "2026-03-29 02:30+01:60",
	    "2026-03-29 02:30Zx", "2026-03-29x", "@", "@12x", "@1e3",
	    "yesterday" };
	struct nf_tz		*tz;
	int64_t			 t;
	size_t			 i;

	tz = tz_or_die("Europe/Paris");
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-07-01", &t), 0);
	ck_assert_int_eq(t, iso("2026-06-30T22:00:00"));
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-07-01 12:30", &t), 0);
	ck_assert_int_eq(t, iso("2026-07-01T10:30:00"));
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-07-01T12:30:15", &t), 0);
	ck_assert_int_eq(t, iso("2026-07-01T10:30:15"));
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-07-01t12:30", &t), 0);
	ck_assert_int_eq(t, iso("2026-07-01T10:30:00"));
	/* An explicit offset wins over the zone. */
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-07-01 12:30Z", &t), 0);
	ck_assert_int_eq(t, iso("2026-07-01T12:30:00"));
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-07-01 12:30+05:45", &t),
	    0);
	ck_assert_int_eq(t, iso("2026-07-01T06:45:00"));
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-07-01 12:30-03:00", &t),
	    0);
	ck_assert_int_eq(t, iso("2026-07-01T15:30:00"));
	/* Seconds since the epoch. */
	ck_assert_int_eq(nf_tz_parse_time(tz, "@1795925988", &t), 0);
	ck_assert_int_eq(t, 1795925988);
	ck_assert_int_eq(nf_tz_parse_time(tz, "@-86400", &t), 0);
	ck_assert_int_eq(t, -86400);
	/* In a gap: the first instant after it; repeated: the first. */
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-03-29 02:30", &t), 0);
	ck_assert_int_eq(t, iso("2026-03-29T01:00:00"));
	ck_assert_int_eq(nf_tz_parse_time(tz, "2026-10-25 02:30", &t), 0);
	ck_assert_int_eq(t, iso("2026-10-25T00:30:00"));
	/* Leap day, and NULL is UTC. */
	ck_assert_int_eq(nf_tz_parse_time(NULL, "2028-02-29 00:00", &t), 0);
	ck_assert_int_eq(t, iso("2028-02-29T00:00:00"));
	for (i = 0; i < NF_NELEM(bad); i++)
		ck_assert_msg(nf_tz_parse_time(tz, bad[i], &t) == -1,
		    "\"%s\" accepted", bad[i]);
	nf_tz_free(tz);
}
END_TEST

/* Gap and fold in a zone east of UTC with a 30-minute shift (Lord Howe). */
START_TEST(test_tz_half_hour_dst)
{
	struct nf_tz	*tz;
	int64_t		 out[2];

	tz = tz_or_die("Australia/Lord_Howe");
	/* 2026-10-04 02:00 +10:30 -> 02:30 +11: 02:00-02:29 do not exist. */
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-10-04T02:15:00"),
	    out), NF_TZ_GAP);
	ck_assert_int_eq(out[0], iso("2026-10-03T15:30:00"));
	/* 2026-04-05 02:00 +11 -> 01:30 +10:30: 01:30-01:59 twice. */
	ck_assert_int_eq(nf_tz_local_to_utc(tz, iso("2026-04-05T01:45:00"),
	    out), NF_TZ_REPEATED);
	ck_assert_int_eq(out[1] - out[0], 1800);
	ck_assert_int_eq(owall(tz, out[0]), iso("2026-04-05T01:45:00"));
	nf_tz_free(tz);
}
END_TEST

static Suite *
tz_suite(void)
{
	Suite	*s = suite_create("tz");
	TCase	*tc;

	tc = tcase_create("tz");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_tz_vs_glibc, 0, NF_NELEM(glibc_zones));
	tcase_add_test(tc, test_tz_posix_footers);
	tcase_add_test(tc, test_tz_names);
	tcase_add_test(tc, test_tz_corrupt);
	tcase_add_test(tc, test_tz_corrupt_headers);
	tcase_add_test(tc, test_tz_local_to_utc);
	tcase_add_test(tc, test_tz_half_hour_dst);
	suite_add_tcase(s, tc);

	tc = tcase_create("calendar");
	tcase_add_test(tc, test_calendar);
	tcase_add_test(tc, test_tz_parse_time);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(tz_suite)
