/*
 * check_cron.c: unit tests of supervisor/cron.c (the zones it runs in are
 * check_tz.c's).
 *
 * - next-fire tables compared with golden files tests/golden/cron-*.txt
 *   (NF_GOLDEN_UPDATE=1 rewrites them; review the diff before keeping it);
 * - parse errors: message and column of each class;
 * - a brute-force oracle: random expressions in DST zones, the next fires
 *   recomputed minute by minute from the DST rules, independently of the
 *   span walk in cron.c.
 *
 * Needs the system tz database (/usr/share/zoneinfo, package tzdata) and
 * top_srcdir in the environment for the golden files.
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
#include "cron.h"
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

static struct nf_cron *
cron_or_die(const char *expr)
{
	struct nf_cron	*c;
	char		 err[512];
	int		 col;

	c = nf_cron_parse(expr, err, sizeof(err), &col);
	if (c == NULL)
		ck_abort_msg("cannot parse \"%s\": %s (col %d)", expr, err,
		    col);
	return c;
}

/* "2026-03-29T01:00:00Z 2026-03-29 03:00:00 +0200 CEST gap" */
static void
fmt_fire(struct nf_buf *b, const struct nf_tz *tz, int64_t t, int flags)
{
	struct tm	 u, l;
	const char	*abbr;
	int		 off;

	nf_tz_localtime(NULL, t, &u);
	nf_tz_localtime(tz, t, &l);
	off = nf_tz_offset(tz, t, &abbr);
	nf_buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02dZ "
	    "%04d-%02d-%02d %02d:%02d:%02d %c%02d%02d %s %s\n",
	    u.tm_year + 1900, u.tm_mon + 1, u.tm_mday, u.tm_hour, u.tm_min,
	    u.tm_sec, l.tm_year + 1900, l.tm_mon + 1, l.tm_mday, l.tm_hour,
	    l.tm_min, l.tm_sec, off < 0 ? '-' : '+', abs(off) / 3600,
	    abs(off) / 60 % 60, abbr, flags == NF_CRON_DST_GAP ? "gap" :
	    flags == NF_CRON_DST_REPEAT ? "repeat" : "-");
}

static char *
slurp(const char *path)
{
	struct nf_buf	 b;
	char		 chunk[4096];
	size_t		 n;
	FILE		*fp;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	nf_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		nf_buf_add(&b, chunk, n);
	fclose(fp);
	return nf_buf_steal(&b);
}

/* Golden next-fire tables. */

static const struct golden {
	const char	*name;
	const char	*expr;
	const char	*zone;
	const char	*after;
	int		 n;
} goldens[] = {
	{ "utc-every15", "*/15 * * * *", "UTC", "2026-12-31T23:20:00", 8 },
	{ "paris-0200-spring", "0 2 * * *", "Europe/Paris",
	    "2026-03-27T00:00:00", 5 },
	{ "paris-0200-fall", "0 2 * * *", "Europe/Paris",
	    "2026-10-23T00:00:00", 5 },
	{ "ny-0230-spring", "30 2 * * *", "America/New_York",
	    "2026-03-06T12:00:00", 5 },
	{ "ny-0230-fall", "30 2 * * *", "America/New_York",
	    "2026-10-30T12:00:00", 5 },
	{ "ny-0130-fall", "30 1 * * *", "America/New_York",
	    "2026-10-30T12:00:00", 4 },
	{ "ny-every30-spring", "*/30 * * * *", "America/New_York",
	    "2026-03-08T05:00:00", 8 },
	{ "ny-every30-fall", "*/30 * * * *", "America/New_York",
	    "2026-11-01T03:59:59", 10 },
	{ "lordhowe-midnight-april", "0 0 * * *", "Australia/Lord_Howe",
	    "2026-04-02T00:00:00", 5 },
	{ "lordhowe-midnight-october", "0 0 * * *", "Australia/Lord_Howe",
	    "2026-10-01T00:00:00", 5 },
	{ "lordhowe-0215-spring", "15 2 * * *", "Australia/Lord_Howe",
	    "2026-10-02T00:00:00", 4 },
	{ "lordhowe-quarter-fall", "*/15 1-2 * * *", "Australia/Lord_Howe",
	    "2026-04-04T13:00:00", 12 },
	{ "kathmandu-0545", "45 5 * * *", "Asia/Kathmandu",
	    "2026-01-01T00:00:00", 3 },
	{ "vixie-1-15-mon", "0 0 1,15 * MON", "UTC",
	    "2026-06-01T00:00:00", 12 },
	{ "vixie-dom-star-step", "0 0 */10 * MON", "UTC",
	    "2026-06-01T00:00:00", 6 },
	{ "leap-feb29", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00", 4 },
	{ "day31", "0 0 31 * *", "UTC", "2026-01-01T00:00:00", 7 },
	{ "weekly-paris", "@weekly", "Europe/Paris", "2026-03-20T00:00:00",
	    4 },
	{ "monthly-ny", "@monthly", "America/New_York",
	    "2026-01-15T00:00:00", 4 },
	{ "never-feb30", "0 0 30 2 *", "UTC", "2026-01-01T00:00:00", 1 },
	{ "last-day", "0 0 L * *", "UTC", "2027-12-15T00:00:00", 8 },
	{ "last-weekday", "0 0 LW * *", "UTC", "2026-01-01T00:00:00", 12 },
	{ "nearest-1w-15w", "0 0 1W,15W * *", "UTC", "2026-01-01T00:00:00",
	    24 },
	{ "nearest-31w", "0 0 31W * *", "UTC", "2026-01-01T00:00:00", 8 },
	{ "last-friday", "0 0 * * 5L", "Europe/Paris", "2026-01-01T00:00:00",
	    12 },
	{ "third-friday", "0 0 * * FRI#3", "UTC", "2026-01-01T00:00:00", 6 },
	{ "fifth-monday", "0 0 * * 1#5", "UTC", "2026-01-01T00:00:00", 6 },
	{ "vixie-l-or-sun", "0 0 L * 0", "UTC", "2026-01-01T00:00:00", 10 },
	/* More DST: steps in and around the gap and the repeat. */
	{ "paris-every20-0200-spring", "*/20 2 * * *", "Europe/Paris",
	    "2026-03-28T00:00:00", 6 },
	{ "paris-every20-0200-fall", "*/20 2 * * *", "Europe/Paris",
	    "2026-10-24T00:00:00", 9 },
	{ "paris-seconds-0230-spring", "15 30 2 * * *", "Europe/Paris",
	    "2026-03-28T00:00:00", 3 },
	{ "ny-hourly-spring", "0 * * * *", "America/New_York",
	    "2026-03-08T05:30:00", 4 },
	{ "ny-hourly-fall", "0 * * * *", "America/New_York",
	    "2026-11-01T03:30:00", 5 },
	{ "ny-0200-spring", "0 2 * * *", "America/New_York",
	    "2026-03-07T12:00:00", 3 },
	{ "ny-seconds-0159-fall", "*/30 59 1 * * *", "America/New_York",
	    "2026-11-01T05:00:00", 6 },
	{ "lordhowe-0130-fall", "30 1 * * *", "Australia/Lord_Howe",
	    "2026-04-03T00:00:00", 3 },
	{ "lordhowe-every10-0200-spring", "*/10 2 * * *",
	    "Australia/Lord_Howe", "2026-10-03T00:00:00", 9 },
	/* Kathmandu moved from +05:30 to +05:45 at 1986-01-01 00:00. */
	{ "kathmandu-1986-midnight", "0 0 * * *", "Asia/Kathmandu",
	    "1985-12-30T00:00:00", 4 },
	{ "kathmandu-1986-every5", "*/5 0 * * *", "Asia/Kathmandu",
	    "1985-12-31T18:00:00", 8 },
	{ "kathmandu-every30", "*/30 * * * *", "Asia/Kathmandu",
	    "2026-01-01T00:00:00", 4 },
	/* Leap days; 2100 is no leap year: 8 years pass the horizon. */
	{ "leap-feb29-2100", "0 0 29 2 *", "UTC", "2095-01-01T00:00:00", 3 },
	{ "leap-last-feb", "0 0 L 2 *", "UTC", "2027-01-01T00:00:00", 4 },
	{ "leap-fifth-monday-feb", "0 0 * 2 1#5", "UTC",
	    "2014-01-01T00:00:00", 2 },
	{ "day31-paris", "0 0 31 * *", "Europe/Paris", "2026-01-01T00:00:00",
	    7 },
	/* W and # edge months. */
	{ "nearest-30w", "0 0 30W * *", "UTC", "2026-01-01T00:00:00", 8 },
	{ "fifth-sunday", "0 0 * * 0#5", "UTC", "2026-01-01T00:00:00", 6 },
	{ "last-weekday-paris-spring", "0 2 LW * *", "Europe/Paris",
	    "2026-02-01T00:00:00", 3 },
	{ "every-90s", "@every 90s", "America/New_York",
	    "2026-11-01T05:57:00", 4 },
};

static char *
golden_render(const struct golden *g)
{
	struct nf_cron	*c;
	struct nf_tz	*tz;
	struct nf_buf	 b;
	int64_t		 t, prev;
	int		 i, flags;

	c = cron_or_die(g->expr);
	tz = tz_or_die(g->zone);
	nf_buf_init(&b);
	nf_buf_printf(&b, "# expr: %s\n# zone: %s\n# after: %sZ\n", g->expr,
	    g->zone, g->after);
	t = iso(g->after);
	for (i = 0; i < g->n; i++) {
		prev = t;
		t = nf_cron_next(c, tz, t, &flags);
		if (t == -1) {
			nf_buf_adds(&b, "none\n");
			break;
		}
		ck_assert_msg(t > prev, "%s: fire %d not after the previous",
		    g->name, i);
		fmt_fire(&b, tz, t, flags);
	}
	nf_cron_free(c);
	nf_tz_free(tz);
	return nf_buf_steal(&b);
}

START_TEST(test_golden)
{
	const struct golden	*g = &goldens[_i];
	const char		*top;
	char			*path, *want, *got;
	FILE			*fp;

	if ((top = getenv("top_srcdir")) == NULL)
		top = ".";
	path = nf_xprintf("%s/tests/golden/cron-%s.txt", top, g->name);
	got = golden_render(g);
	if (getenv("NF_GOLDEN_UPDATE") != NULL) {
		fp = fopen(path, "w");
		ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
		fputs(got, fp);
		ck_assert_int_eq(fclose(fp), 0);
	}
	want = slurp(path);
	ck_assert_msg(want != NULL, "%s: %s (is top_srcdir set?)", path,
	    strerror(errno));
	ck_assert_msg(strcmp(want, got) == 0, "%s differs:\n--- want\n%s"
	    "--- got\n%s", path, want, got);
	free(want);
	free(got);
	free(path);
}
END_TEST

/* Parse errors: one row per class. */

static const struct perr {
	const char	*expr;
	const char	*msg;
	int		 col;
} perrs[] = {
	{ "* * * * 8", "day-of-week: \"8\" is out of range 0-7", 9 },
	{ "60 * * * *", "minute: \"60\" is out of range 0-59", 1 },
	{ "0 24 * * *", "hour: \"24\" is out of range 0-23", 3 },
	{ "0 0 0 * *", "day-of-month: \"0\" is out of range 1-31", 5 },
	{ "0 0 * 13 *", "month: \"13\" is out of range 1-12", 7 },
	{ "0 0 * * 99999999999", "day-of-week: \"99999999999\" is out of "
	    "range 0-7", 9 },
	{ "* * * * * * *", "expected 5 fields (minute hour day-of-month "
	    "month day-of-week) or 6 (second first), got 7", 13 },
	{ "* * * *", "expected 5 fields (minute hour day-of-month month "
	    "day-of-week) or 6 (second first), got 4", 0 },
	{ "", "expected 5 fields (minute hour day-of-month month "
	    "day-of-week) or 6 (second first), got 0", 0 },
	{ "60 * * * * *", "second: \"60\" is out of range 0-59", 1 },
	{ "0 60 * * * *", "minute: \"60\" is out of range 0-59", 3 },
	{ "*/0 * * * * *", "second: step 0 in \"*/0\" never advances (use a "
	    "step of 1 or more)", 3 },
	{ "0 0 0 32 * *", "day-of-month: \"32\" is out of range 1-31", 7 },
	{ "0 0 0 * * 5#9", "day-of-week: occurrence \"9\" in \"5#9\" must "
	    "be 1-5 (\"5#3\" is the third Friday)", 13 },
	{ "@every", "\"@every\" takes one interval, e.g. \"@every 15m\" "
	    "(got 0)", 0 },
	{ "@every 5m 3", "\"@every\" takes one interval, e.g. \"@every 15m\" "
	    "(got 2)", 11 },
	{ "@every 90", "interval \"90\": \"90\" has no unit (add s, m, h or "
	    "d: \"90s\" is seconds)", 8 },
	{ "@every 5w", "interval \"5w\": unknown unit \"w\" (use s, m, h "
	    "or d)", 9 },
	{ "@every 0s", "interval \"0s\" is zero (use 1s or more)", 8 },
	{ "@every 1h0x", "interval \"1h0x\": unknown unit \"x\" (use s, m, "
	    "h or d)", 11 },
	{ "@every h", "interval \"h\": expected a number at \"h\" (write "
	    "e.g. \"90s\", \"15m\", \"6h\" or \"1h30m\")", 8 },
	{ "@every 367d", "interval \"367d\" is longer than 366 days (use a "
	    "cron expression such as \"@yearly\")", 8 },
	{ "@every 99999999999999999999s", "interval "
	    "\"99999999999999999999s\" is longer than 366 days (use a cron "
	    "expression such as \"@yearly\")", 8 },
	{ "1,,2 * * * *", "minute: empty list item in \"1,,2\" (remove the "
	    "extra comma)", 3 },
	{ "1, * * * *", "minute: empty list item in \"1,\" (remove the extra "
	    "comma)", 3 },
	{ "0 5-2 * * *", "hour: range \"5-2\" is reversed (5 > 2); write the "
	    "low value first, or a list like \"5-23,0-2\" to wrap around", 3 },
	{ "*/0 * * * *", "minute: step 0 in \"*/0\" never advances (use a "
	    "step of 1 or more)", 3 },
	{ "*/61 * * * *", "minute: step \"61\" is out of range 1-60", 3 },
	{ "*/ * * * *", "minute: step in \"*/\" must be a number after \"/\"",
	    2 },
	{ "*/5x * * * *", "minute: step in \"*/5x\" must be a number after "
	    "\"/\"", 4 },
	{ "/5 * * * *", "minute: \"/5\" has no start before \"/\" (write "
	    "\"*/n\" or \"a/n\")", 1 },
	{ "0 0 * FOO *", "month: \"FOO\" is not a month name or number "
	    "(expected 1-12 or JAN-DEC)", 7 },
	{ "0 0 * * MONDAY", "day-of-week: \"MONDAY\" is not a weekday name or "
	    "number (expected 0-7 or SUN-SAT)", 9 },
	{ "JAN * * * *", "minute: \"JAN\" is not a number (expected 0-59)",
	    1 },
	{ "5- * * * *", "minute: missing value at the end of \"5-\" "
	    "(expected 0-59)", 3 },
	{ "5#3 * * * *", "minute: unexpected \"#\" in \"5#3\"", 2 },
	{ "0 0 * * 5-", "day-of-week: missing value at the end of \"5-\" "
	    "(expected 0-7 or SUN-SAT)", 11 },
	{ "** * * * *", "minute: unexpected \"*\" in \"**\"", 2 },
	{ "-5 * * * *", "minute: unexpected \"-\" in \"-5\" (expected a value "
	    "0-59)", 1 },
	{ "@sometimes", "\"@sometimes\" is not a known schedule (use @yearly, "
	    "@annually, @monthly, @weekly, @daily, @midnight, @hourly or @every "
	    "INTERVAL)", 1 },
	{ "0 0 32W * *", "day-of-month: \"32\" is out of range 1-31", 5 },
	{ "0 0 5X * *", "day-of-month: \"5X\" is not a number (expected "
	    "1-31)", 5 },
	{ "0 0 * * 5#6", "day-of-week: occurrence \"6\" in \"5#6\" must be "
	    "1-5 (\"5#3\" is the third Friday)", 11 },
	{ "0 0 * * 5#", "day-of-week: occurrence \"\" in \"5#\" must be 1-5 "
	    "(\"5#3\" is the third Friday)", 11 },
	{ "0 0 * * 8L", "day-of-week: \"8\" is out of range 0-7", 9 },
	{ "0 0 * * FOOL", "day-of-week: \"FOO\" is not a weekday name or "
	    "number (expected 0-7 or SUN-SAT)", 9 },
	{ "0 0 * * 5L/2", "day-of-week: \"5L\" is not a weekday name or "
	    "number (expected 0-7 or SUN-SAT)", 9 },
	{ "L * * * *", "minute: \"L\" is not a number (expected 0-59)", 1 },
	{ "@daily 5", "\"@daily\" stands for a whole schedule and takes no "
	    "other fields; remove \"5\"", 8 },
};

START_TEST(test_parse_error)
{
	const struct perr	*p = &perrs[_i];
	char			 err[512];
	int			 col = -1;

	ck_assert_msg(nf_cron_parse(p->expr, err, sizeof(err), &col) == NULL,
	    "\"%s\" parsed", p->expr);
	ck_assert_str_eq(err, p->msg);
	ck_assert_msg(col == p->col, "\"%s\": column %d, want %d", p->expr,
	    col, p->col);
}
END_TEST

START_TEST(test_parse_error_small_buffer)
{
	char	err[8];

	ck_assert_ptr_null(nf_cron_parse("99 * * * *", err, sizeof(err),
	    NULL));
	ck_assert_str_eq(err, "minute:");
	ck_assert_ptr_null(nf_cron_parse("99 * * * *", NULL, 0, NULL));
	ck_assert_ptr_null(nf_cron_parse(NULL, err, sizeof(err), NULL));
}
END_TEST

/* Two expressions that must fire at exactly the same times. */
static void
assert_same(const char *a, const char *b, const char *zone)
{
	struct nf_cron	*ca, *cb;
	struct nf_tz	*tz;
	int64_t		 ta, tb;
	int		 i, fa, fb;

	ca = cron_or_die(a);
	cb = cron_or_die(b);
	tz = tz_or_die(zone);
	ta = tb = iso("2025-12-30T10:17:00");
	for (i = 0; i < 200; i++) {
		ta = nf_cron_next(ca, tz, ta, &fa);
		tb = nf_cron_next(cb, tz, tb, &fb);
		ck_assert_msg(ta == tb && fa == fb, "\"%s\" and \"%s\" differ "
		    "at fire %d: %lld vs %lld", a, b, i, (long long)ta,
		    (long long)tb);
		if (ta == -1)
			break;
	}
	nf_cron_free(ca);
	nf_cron_free(cb);
	nf_tz_free(tz);
}

START_TEST(test_equivalent_forms)
{
	assert_same("@yearly", "0 0 1 1 *", "Europe/Paris");
	assert_same("@annually", "0 0 1 1 *", "UTC");
	assert_same("@MONTHLY", "0 0 1 * *", "UTC");
	assert_same("@weekly", "0 0 * * 0", "America/New_York");
	assert_same("@daily", "0 0 * * *", "UTC");
	assert_same("@midnight", "0 0 * * *", "UTC");
	assert_same("@hourly", "0 * * * *", "Europe/Paris");
	assert_same("0 0 * * 7", "0 0 * * 0", "UTC");
	assert_same("0 0 * * sun", "0 0 * * 0", "UTC");
	assert_same("0 0 * * 5-7", "0 0 * * 0,5,6", "UTC");
	assert_same("0 0 * jan-Mar mOn-wed", "0 0 * 1-3 1-3", "UTC");
	assert_same("5/20 * * * *", "5-59/20 * * * *", "UTC");
	assert_same("5/20 * * * *", "5,25,45 * * * *", "UTC");
	assert_same("10-50/20 */6 * * *", "10,30,50 0,6,12,18 * * *", "UTC");
	assert_same("  0\t0  *  * *  ", "0 0 * * *", "UTC");
	assert_same("0 0 * * */2", "0 0 * * 0,2,4,6", "UTC");
	/* Vixie: "*" and "*\/1" both leave the day unrestricted. */
	assert_same("0 0 */1 * 1", "0 0 * * 1", "UTC");
	assert_same("0 0 1 * *", "0 0 1 * *", "Asia/Kathmandu");
	assert_same("0 0 l * *", "0 0 L * *", "UTC");
	assert_same("0 0 lw * *", "0 0 LW * *", "UTC");
	assert_same("0 0 * * fril", "0 0 * * 5L", "UTC");
	assert_same("0 0 * * 7L", "0 0 * * 0L", "UTC");
	assert_same("0 0 * * sun#2", "0 0 * * 7#2", "UTC");
	/* Seconds first: a 0 second is the 5-field form. */
	assert_same("0 */5 * * * *", "*/5 * * * *", "Europe/Paris");
	assert_same("0 30 2 * * *", "30 2 * * *", "America/New_York");
	assert_same("0 0 0 L * 5#3", "0 0 L * 5#3", "UTC");
	assert_same("0 0 0 * * 5L", "0 0 * * FRIL", "Australia/Lord_Howe");
	assert_same("@EVERY 1m", "* * * * *", "Asia/Kathmandu");
	assert_same("@every 1h", "0 * * * *", "UTC");
	assert_same("@every 1d", "0 0 * * *", "UTC");
	assert_same("@every 15s", "*/15 * * * * *", "UTC");
	assert_same("@every 1h30m", "@every 90m", "UTC");
	assert_same("@every 5400s", "@every 90m", "UTC");
}
END_TEST

/* Seconds fields, in a zone with DST. */
START_TEST(test_seconds)
{
	struct nf_cron	*c;
	struct nf_tz	*tz;
	int64_t		 t;
	int		 fl;

	tz = tz_or_die("Europe/Paris");
	c = cron_or_die("10,40 0 2 * * *");	/* not fixed: two seconds */
	/* 2026-03-29 02:00 does not exist in Paris: real time, no fire. */
	t = nf_cron_next(c, tz, iso("2026-03-28T01:00:41"), &fl);
	ck_assert_int_eq(t, iso("2026-03-30T00:00:10"));
	ck_assert_int_eq(fl, 0);
	nf_cron_free(c);
	c = cron_or_die("30 15 2 * * *");	/* fixed: moved out of the gap */
	t = nf_cron_next(c, tz, iso("2026-03-28T02:00:00"), &fl);
	ck_assert_int_eq(t, iso("2026-03-29T01:00:00"));
	ck_assert_int_eq(fl, NF_CRON_DST_GAP);
	/* 02:15:30 twice on 2026-10-25 (UTC 00:15:30 and 01:15:30). */
	t = nf_cron_next(c, tz, iso("2026-10-24T12:00:00"), &fl);
	ck_assert_int_eq(t, iso("2026-10-25T00:15:30"));
	ck_assert_int_eq(fl, NF_CRON_DST_REPEAT);
	t = nf_cron_next(c, tz, t, &fl);
	ck_assert_int_eq(t, iso("2026-10-26T01:15:30"));
	nf_cron_free(c);
	c = cron_or_die("*/20 59 1 * * *");
	t = nf_cron_next(c, tz, iso("2026-03-29T00:59:20"), &fl);
	ck_assert_int_eq(t, iso("2026-03-29T00:59:40"));
	t = nf_cron_next(c, tz, t, &fl);
	ck_assert_int_eq(t, iso("2026-03-29T23:59:00"));	/* CEST */
	nf_cron_free(c);
	nf_tz_free(tz);
}
END_TEST

/* Intervals: anchored, so they never drift; zones do not matter. */
START_TEST(test_every)
{
	struct nf_cron	*c;
	struct nf_tz	*tz;
	char		 err[256];
	int64_t		 t, s, a;
	int		 i, fl, col;

	tz = tz_or_die("America/New_York");
	c = cron_or_die("@every 90s");
	ck_assert_int_eq(nf_cron_interval(c), 90);
	/* Epoch-aligned: multiples of 90 s since 1970-01-01T00:00:00Z. */
	t = nf_cron_next(c, tz, iso("2026-11-01T05:59:59"), &fl);
	ck_assert_int_eq(t % 90, 0);
	ck_assert_int_eq(fl, 0);
	for (i = 0; i < 100; i++) {
		s = nf_cron_next(c, tz, t, &fl);
		ck_assert_int_eq(s - t, 90);
		/* From any point in between, the same next fire. */
		ck_assert_int_eq(nf_cron_next(c, NULL, t + i % 90, NULL), s);
		t = s;
	}
	nf_cron_free(c);
	/* Another anchor: 6h from 05:45 UTC. */
	a = iso("2026-01-01T05:45:00");
	c = nf_cron_every(6 * 3600, a);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(nf_cron_next(c, NULL, a - 1, NULL), a);
	ck_assert_int_eq(nf_cron_next(c, NULL, a, NULL), a + 6 * 3600);
	ck_assert_int_eq(nf_cron_next(c, NULL, iso("2025-12-31T23:00:00"),
	    NULL), iso("2025-12-31T23:45:00"));
	ck_assert_int_eq(nf_cron_next(c, NULL, iso("1969-12-31T23:50:00"),
	    NULL), iso("1969-12-31T23:45:00") + 6 * 3600);
	nf_cron_free(c);
	ck_assert_ptr_null(nf_cron_every(0, 0));
	ck_assert_ptr_null(nf_cron_every(367 * 86400, 0));
	ck_assert_int_eq(nf_cron_duration("1h30m15s", &s, err, sizeof(err),
	    &col), 0);
	ck_assert_int_eq(s, 5415);
	ck_assert_int_eq(nf_cron_duration("2D", &s, err, sizeof(err), &col),
	    0);
	ck_assert_int_eq(s, 2 * 86400);
	ck_assert_int_eq(nf_cron_duration("15", &s, err, sizeof(err), &col),
	    -1);
	ck_assert_str_eq(err, "interval \"15\": \"15\" has no unit (add s, m, "
	    "h or d: \"15s\" is seconds)");
	ck_assert_int_eq(col, 1);
	ck_assert_int_eq(nf_cron_duration("", &s, err, sizeof(err), &col),
	    -1);
	ck_assert_int_eq(nf_cron_duration("1m 5s", &s, err, sizeof(err),
	    &col), -1);
	ck_assert_int_eq(col, 3);
	c = cron_or_die("*/5 * * * *");
	ck_assert_int_eq(nf_cron_interval(c), 0);
	nf_cron_free(c);
	nf_tz_free(tz);
}
END_TEST

/*
 * Brute-force oracle.  A random expression is built from explicit value
 * sets, so the oracle matches wall times without the parser, and walks
 * UTC minute by minute applying the DST rules directly.
 */
struct oexpr {
	char		 text[256];
	uint64_t	 set[5];
	int		 star[5];
};

static const int omin[5] = { 0, 0, 1, 1, 0 };
static const int omax[5] = { 59, 23, 31, 12, 7 };

static void
ofield(struct oexpr *o, int f, int allow_restrict, struct nf_buf *b)
{
	int	lo = omin[f], hi = omax[f], a, z, st, v, k, n;

	if (b->len > 0)
		nf_buf_addc(b, ' ');
	switch (allow_restrict ? rnd(6) : 0) {
	case 0:
		o->star[f] = 1;
		nf_buf_adds(b, "*");
		for (v = lo; v <= hi; v++)
			o->set[f] |= 1ULL << v;
		break;
	case 1:
		o->star[f] = 1;
		st = 1 + rnd(f == 0 ? 30 : (hi - lo + 1) / 2);
		nf_buf_printf(b, "*/%d", st);
		for (v = lo; v <= hi; v += st)
			o->set[f] |= 1ULL << v;
		break;
	case 2:
		v = lo + rnd(hi - lo + 1);
		nf_buf_printf(b, "%d", v);
		o->set[f] |= 1ULL << v;
		break;
	case 3:
		a = lo + rnd(hi - lo + 1);
		z = a + rnd(hi - a + 1);
		st = 1 + rnd(4);
		nf_buf_printf(b, "%d-%d/%d", a, z, st);
		for (v = a; v <= z; v += st)
			o->set[f] |= 1ULL << v;
		break;
	default:
		n = 1 + rnd(4);
		for (k = 0; k < n; k++) {
			v = lo + rnd(hi - lo + 1);
			nf_buf_printf(b, "%s%d", k ? "," : "", v);
			o->set[f] |= 1ULL << v;
		}
		break;
	}
	if (f == 4 && (o->set[4] & 0x80))
		o->set[4] |= 1;
}

static void
ogen(struct oexpr *o)
{
	struct nf_buf	b;
	int		f;

	memset(o, 0, sizeof(*o));
	nf_buf_init(&b);
	/* Minutes and hours vary freely; days rarely, to keep fires close. */
	if (rnd(3) == 0) {
		/* Fixed time, near the hours zones change at. */
		static const int	hours[] = { 0, 1, 2, 3, 23 };
		static const int	mins[] = { 0, 15, 30, 45 };

		o->set[0] = 1ULL << (rnd(2) ? mins[rnd(4)] : rnd(60));
		o->set[1] = 1ULL << (rnd(4) ? hours[rnd(5)] : rnd(24));
		nf_buf_printf(&b, "%d %d", __builtin_ctzll(o->set[0]),
		    __builtin_ctzll(o->set[1]));
	} else {
		ofield(o, 0, 1, &b);
		ofield(o, 1, 1, &b);
	}
	for (f = 2; f < 5; f++)
		ofield(o, f, rnd(4) == 0, &b);
	snprintf(o->text, sizeof(o->text), "%s", b.data);
	nf_buf_free(&b);
}

static int
omatch(const struct oexpr *o, const struct tm *l)
{
	int	dom, dow;

	if (l->tm_sec != 0 || !((o->set[0] >> l->tm_min) & 1) ||
	    !((o->set[1] >> l->tm_hour) & 1) ||
	    !((o->set[3] >> (l->tm_mon + 1)) & 1))
		return 0;
	dom = (o->set[2] >> l->tm_mday) & 1;
	dow = (o->set[4] >> l->tm_wday) & 1;
	return o->star[2] || o->star[4] ? dom && dow : dom || dow;
}

static int
ofixed(const struct oexpr *o)
{
	return __builtin_popcountll(o->set[0]) == 1 &&
	    __builtin_popcountll(o->set[1]) == 1;
}

/* Wall time of t, in seconds as if UTC. */
static int64_t
owall(const struct nf_tz *tz, int64_t t)
{
	return t + nf_tz_offset(tz, t, NULL);
}

/* Does the wall time of t also occur at an earlier / a later instant? */
static int
oseen(const struct nf_tz *tz, int64_t t, int dir)
{
	static const int	d[] = { 900, 1800, 2700, 3600, 7200 };
	size_t			i;

	for (i = 0; i < NF_NELEM(d); i++)
		if (owall(tz, t + dir * d[i]) == owall(tz, t))
			return 1;
	return 0;
}

static int64_t
oracle_next(const struct oexpr *o, const struct nf_tz *tz, int64_t after,
    int64_t window, int *flags)
{
	struct tm	l;
	int64_t		t, w, wprev;
	int		fixed = ofixed(o);

	*flags = 0;
	for (t = after - (after % 60 + 60) % 60 + 60; t <= after + window;
	    t += 60) {
		/* A spring-forward between t - 60 and t: the gap's walls. */
		wprev = owall(tz, t - 60) + 60;
		if (fixed && owall(tz, t) > wprev) {
			for (w = wprev; w < owall(tz, t); w += 60) {
				nf_tz_localtime(NULL, w, &l);
				if (omatch(o, &l)) {
					*flags = NF_CRON_DST_GAP;
					return t;
				}
			}
		}
		nf_tz_localtime(tz, t, &l);
		if (!omatch(o, &l))
			continue;
		if (oseen(tz, t, -1) || oseen(tz, t, 1)) {
			if (fixed && oseen(tz, t, -1))
				continue;	/* fired on the first pass */
			*flags = NF_CRON_DST_REPEAT;
		}
		return t;
	}
	return -1;
}

START_TEST(test_oracle)
{
	static const char	*zones[] = { "UTC", "Europe/Paris",
	    "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
	    "America/Santiago", "Pacific/Chatham" };
	static const char	*near[] = { "2026-03-08T07:00:00",
	    "2026-11-01T06:00:00", "2026-03-29T01:00:00",
	    "2026-10-25T01:00:00", "2026-04-04T15:00:00",
	    "2026-10-03T15:30:00", "2026-04-05T03:00:00",
	    "2026-09-06T04:00:00" };
	struct nf_tz		*tz;
	struct nf_cron		*c;
	struct oexpr		 o;
	int64_t			 after, got, want, window = 3 * 86400;
	int			 i, k, gf, wf;

	rng_state += (uint64_t)_i * 7919;
	tz = tz_or_die(zones[_i]);
	for (i = 0; i < 300; i++) {
		ogen(&o);
		c = cron_or_die(o.text);
		after = iso(near[rnd(NF_NELEM(near))]) - 2 * 86400 +
		    rnd(3 * 86400);
		for (k = 0; k < 6; k++) {
			want = oracle_next(&o, tz, after, window, &wf);
			got = nf_cron_next(c, tz, after, &gf);
			if (want == -1) {
				ck_assert_msg(got == -1 || got > after + window,
				    "%s in %s after %lld: got %lld, oracle "
				    "none within %lld s", o.text, zones[_i],
				    (long long)after, (long long)got,
				    (long long)window);
				break;
			}
			ck_assert_msg(got == want && gf == wf, "%s in %s "
			    "after %lld: got %lld flags %d, oracle %lld flags "
			    "%d", o.text, zones[_i], (long long)after,
			    (long long)got, gf, (long long)want, wf);
			after = got;
		}
		nf_cron_free(c);
	}
	nf_tz_free(tz);
}
END_TEST

START_TEST(test_horizon_and_limits)
{
	struct nf_cron	*c;
	struct nf_tz	*tz;
	int64_t		 t0, t1;
	int		 flags = 7;

	c = cron_or_die("0 0 30 2 *");
	tz = tz_or_die("Europe/Paris");
	t0 = nf_mono_us();
	ck_assert_int_eq(nf_cron_next(c, tz, iso("2026-01-01"), &flags), -1);
	t1 = nf_mono_us();
	ck_assert_int_eq(flags, 0);
	/* Giving up must still be quick (field skipping, not minutes). */
	ck_assert_msg(t1 - t0 < 50000, "horizon search took %lld us",
	    (long long)(t1 - t0));
	nf_cron_free(c);
	/* Leap day: found within the horizon from any start. */
	c = cron_or_die("0 12 29 2 *");
	ck_assert_int_eq(nf_cron_next(c, NULL, iso("2028-03-01"), NULL),
	    iso("2032-02-29T12:00:00"));
	/* Strictly after: a fire time itself gives the next one. */
	ck_assert_int_eq(nf_cron_next(c, NULL, iso("2032-02-29T12:00:00"),
	    NULL), iso("2036-02-29T12:00:00"));
	ck_assert_int_eq(nf_cron_next(c, NULL, iso("2032-02-29T11:59:59"),
	    NULL), iso("2032-02-29T12:00:00"));
	nf_cron_free(c);
	/* Instants before 1970 work; absurd ones give -1. */
	c = cron_or_die("0 0 1 1 *");
	ck_assert_int_eq(nf_cron_next(c, NULL, iso("1969-06-01"), NULL),
	    iso("1970-01-01"));
	ck_assert_int_eq(nf_cron_next(c, tz, INT64_MAX, NULL), -1);
	ck_assert_int_eq(nf_cron_next(c, tz, INT64_MIN, NULL), -1);
	nf_cron_free(c);
	nf_tz_free(tz);
}
END_TEST

START_TEST(test_speed)
{
	static const char	*exprs[] = { "*/15 * * * *", "0 2 * * *",
	    "30 2 * * 1-5", "0 0 1,15 * MON", "@monthly", "5 4 * * sun" };
	struct nf_cron		*c;
	struct nf_tz		*tz;
	int64_t			 t, t0, t1;
	size_t			 i;
	int			 k, n = 0;

	tz = tz_or_die("Europe/Paris");
	t0 = nf_mono_us();
	for (i = 0; i < NF_NELEM(exprs); i++) {
		c = cron_or_die(exprs[i]);
		t = iso("2026-01-01");
		for (k = 0; k < 2000; k++, n++)
			t = nf_cron_next(c, tz, t, NULL);
		ck_assert_int_gt(t, 0);
		nf_cron_free(c);
	}
	t1 = nf_mono_us();
	/* Generous (sanitizers, loaded CI): 25 us per call on average. */
	ck_assert_msg((t1 - t0) < 25 * n, "%d calls took %lld us", n,
	    (long long)(t1 - t0));
	nf_tz_free(tz);
}
END_TEST

static Suite *
cron_suite(void)
{
	Suite	*s = suite_create("cron");
	TCase	*tc;

	tc = tcase_create("golden");
	tcase_add_loop_test(tc, test_golden, 0, NF_NELEM(goldens));
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_error, 0, NF_NELEM(perrs));
	tcase_add_test(tc, test_parse_error_small_buffer);
	tcase_add_test(tc, test_equivalent_forms);
	tcase_add_test(tc, test_seconds);
	tcase_add_test(tc, test_every);
	suite_add_tcase(s, tc);

	tc = tcase_create("next");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_oracle, 0, 7);
	tcase_add_test(tc, test_horizon_and_limits);
	tcase_add_test(tc, test_speed);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(cron_suite)
