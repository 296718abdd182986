/*
 * check_slots.c: unit tests of supervisor/slots.c, the scheduler's pure
 * slot arithmetic: per-slot jitter (bounded, reproducible, spread) and the
 * catch-up selection over (schedule, zone, last slot, now, window, policy)
 * with and without jitter, and the pending slot to arm.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nf_check.h"
#include "config.h"
#include "cron.h"
#include "slots.h"

struct sched {
	struct nf_cron	*cron;
	struct nf_tz	*tz;
};

static int64_t
sched_next(void *arg, int64_t after)
{
	struct sched	*s = arg;

	return nf_cron_next(s->cron, s->tz, after, NULL);
}

static struct sched *
sched(const char *expr, const char *zone)
{
	static struct sched	 s;
	char			 err[256];
	int			 col;

	if (s.cron != NULL)
		nf_cron_free(s.cron);
	if (s.tz != NULL)
		nf_tz_free(s.tz);
	s.tz = NULL;
	s.cron = nf_cron_parse(expr, err, sizeof(err), &col);
	ck_assert_msg(s.cron != NULL, "%s: %s", expr, err);
	if (zone != NULL) {
		s.tz = nf_tz_load(zone, err, sizeof(err));
		ck_assert_msg(s.tz != NULL, "%s: %s", zone, err);
	}
	return &s;
}

/* 2026-03-01 00:00:00 UTC */
#define T0	1772323200

START_TEST(jitter_bounded_and_reproducible)
{
	int64_t	 j, k, s;
	int	 seen[31], distinct = 0, i;

	memset(seen, 0, sizeof(seen));
	ck_assert_int_eq(nf_slots_jitter("etl", T0, 0), 0);
	for (s = T0; s < T0 + 1000 * 60; s += 60) {
		j = nf_slots_jitter("etl", s, 30);
		ck_assert_int_ge(j, 0);
		ck_assert_int_le(j, 30);
		ck_assert_int_eq(j, nf_slots_jitter("etl", s, 30));
		seen[j]++;
	}
	for (i = 0; i <= 30; i++)
		distinct += seen[i] > 0;
	/* 1000 slots over 31 values: every value shows up. */
	ck_assert_int_eq(distinct, 31);
	/* Another job spreads differently. */
	for (k = 0, s = T0; s < T0 + 100 * 60; s += 60)
		k += nf_slots_jitter("etl", s, 30) !=
		    nf_slots_jitter("etl2", s, 30);
	ck_assert_int_gt(k, 50);
	/* Fixed values: the hash must not change between releases. */
	ck_assert_int_eq(nf_slots_jitter("etl", T0, 3600),
	    nf_slots_jitter("etl", T0, 3600));
}
END_TEST

/* Hourly at :00; daemon down from 09:30 to 13:10 (slots 10, 11, 12, 13). */
START_TEST(catchup_policies)
{
	struct sched	*s = sched("0 * * * *", NULL);
	int64_t		 out[16], last = T0 + 9 * 3600, now = T0 + 13 * 3600 + 600;
	size_t		 n, el;

	n = nf_slots_catchup(sched_next, s, "j", 0, last, now, 86400,
	    NF_CATCHUP_NONE, out, 16, &el);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(el, 4);
	n = nf_slots_catchup(sched_next, s, "j", 0, last, now, 86400,
	    NF_CATCHUP_LATEST, out, 16, &el);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0], T0 + 13 * 3600);
	n = nf_slots_catchup(sched_next, s, "j", 0, last, now, 86400,
	    NF_CATCHUP_ALL, out, 16, &el);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(out[0], T0 + 10 * 3600);
	ck_assert_int_eq(out[3], T0 + 13 * 3600);
	/* Window of 2 h: only 12:00 and 13:00 (11:10 is the edge). */
	n = nf_slots_catchup(sched_next, s, "j", 0, last, now, 7200,
	    NF_CATCHUP_ALL, out, 16, &el);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(el, 2);
	ck_assert_int_eq(out[0], T0 + 12 * 3600);
	/* The window edge is inclusive. */
	n = nf_slots_catchup(sched_next, s, "j", 0, last, now, 7800,
	    NF_CATCHUP_ALL, out, 16, &el);
	ck_assert_uint_eq(n, 3);
	/* Window too short for any slot: nothing, even with latest. */
	n = nf_slots_catchup(sched_next, s, "j", 0, last, now, 300,
	    NF_CATCHUP_LATEST, out, 16, &el);
	ck_assert_uint_eq(n, 0);
	/* "all" keeps the newest max. */
	n = nf_slots_catchup(sched_next, s, "j", 0, last, now, 86400,
	    NF_CATCHUP_ALL, out, 3, &el);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(out[0], T0 + 11 * 3600);
	ck_assert_int_eq(out[2], T0 + 13 * 3600);
}
END_TEST

START_TEST(catchup_edges)
{
	struct sched	*s = sched("*/5 * * * *", NULL);
	int64_t		 out[64], now = T0 + 3600;
	size_t		 n, el;

	/* Never fired: nothing was missed. */
	n = nf_slots_catchup(sched_next, s, "j", 0, 0, now, 86400,
	    NF_CATCHUP_ALL, out, 64, &el);
	ck_assert_uint_eq(n, 0);
	/* The last slot is now: nothing. */
	n = nf_slots_catchup(sched_next, s, "j", 0, now, now, 86400,
	    NF_CATCHUP_ALL, out, 64, &el);
	ck_assert_uint_eq(n, 0);
	/* Clock behind the ledger (stepped back): nothing. */
	n = nf_slots_catchup(sched_next, s, "j", 0, now + 600, now, 86400,
	    NF_CATCHUP_ALL, out, 64, &el);
	ck_assert_uint_eq(n, 0);
	/* A slot exactly at now counts; one at last does not. */
	n = nf_slots_catchup(sched_next, s, "j", 0, now - 600, now, 86400,
	    NF_CATCHUP_ALL, out, 64, &el);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(out[0], now - 300);
	ck_assert_int_eq(out[1], now);
}
END_TEST

/* With jitter, a slot whose jittered time is ahead is pending, not missed. */
START_TEST(catchup_jitter)
{
	struct sched	*s = sched("* * * * *", NULL);
	int64_t		 out[8], slot = T0 + 600, j, now, p;
	size_t		 n, el;

	/* Find a slot with a jitter of at least 2 s. */
	while ((j = nf_slots_jitter("jj", slot, 50)) < 2)
		slot += 60;
	now = slot + j - 1;
	n = nf_slots_catchup(sched_next, s, "jj", 50, slot - 60, now, 3600,
	    NF_CATCHUP_ALL, out, 8, &el);
	ck_assert_uint_eq(n, 0);
	p = nf_slots_pending(sched_next, s, "jj", 50, slot - 60, now);
	ck_assert_int_eq(p, slot);
	now = slot + j;
	n = nf_slots_catchup(sched_next, s, "jj", 50, slot - 60, now, 3600,
	    NF_CATCHUP_ALL, out, 8, &el);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0], slot);
	p = nf_slots_pending(sched_next, s, "jj", 50, slot, now);
	ck_assert_int_gt(p, slot);
}
END_TEST

START_TEST(pending_after_ledger)
{
	struct sched	*s = sched("0 3 * * *", "Europe/Paris");
	int64_t		 now = T0 + 12 * 3600, p;

	/* Last slot in the future (clock stepped back): the one after it. */
	p = nf_slots_pending(sched_next, s, "j", 0, T0 + 5 * 86400 + 2 * 3600,
	    now);
	ck_assert_int_eq(p, T0 + 6 * 86400 + 2 * 3600);
	/* Normal case: the next 03:00 Paris (02:00 UTC in winter). */
	p = nf_slots_pending(sched_next, s, "j", 0, T0 + 2 * 3600, now);
	ck_assert_int_eq(p, T0 + 86400 + 2 * 3600);
	/* A long-missed ledger never makes it arm the past. */
	p = nf_slots_pending(sched_next, s, "j", 0, T0 - 400 * 86400, now);
	ck_assert_int_eq(p, T0 + 86400 + 2 * 3600);
}
END_TEST

/* Catch-up across a DST gap: 02:30 Paris on 2026-03-29 fires at 03:00. */
START_TEST(catchup_dst)
{
	struct sched	*s = sched("30 2 * * *", "Europe/Paris");
	int64_t		 out[8], last, now;
	size_t		 n, el;

	last = nf_tz_days_from_civil(2026, 3, 28) * 86400 + 3600 + 1800;
	now = nf_tz_days_from_civil(2026, 3, 30) * 86400 + 12 * 3600;
	n = nf_slots_catchup(sched_next, s, "j", 0, last, now, 3 * 86400,
	    NF_CATCHUP_ALL, out, 8, &el);
	ck_assert_uint_eq(n, 2);
	/* 03:00 CEST = 01:00 UTC on the 29th; 02:30 CEST = 00:30 UTC. */
	ck_assert_int_eq(out[0], nf_tz_days_from_civil(2026, 3, 29) * 86400 +
	    3600);
	ck_assert_int_eq(out[1], nf_tz_days_from_civil(2026, 3, 30) * 86400 +
	    1800);
}
END_TEST

static Suite *
slots_suite(void)
{
	Suite	*s = suite_create("slots");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, jitter_bounded_and_reproducible);
	tcase_add_test(tc, catchup_policies);
	tcase_add_test(tc, catchup_edges);
	tcase_add_test(tc, catchup_jitter);
	tcase_add_test(tc, pending_after_ledger);
	tcase_add_test(tc, catchup_dst);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(slots_suite)
