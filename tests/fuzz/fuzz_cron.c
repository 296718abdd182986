/* NF_FUZZ_SOURCES: supervisor/cron.c supervisor/tz.c common/util.c common/log.c */
/*
 * fuzz_cron.c: libFuzzer target for the cron parser and the next-fire
 * search, and for the TZif reader.
 *
 * Input starting with "TZif": parsed as a zone file (nf_tz_parse); when it
 * is accepted, offsets, local times and local->UTC conversions are asked
 * for at a few instants and two fixed-time and one real-time expression
 * are iterated in it (arbitrary transitions must not hang the search).
 * Any other input: a NUL-terminated copy goes to nf_cron_parse(); when it
 * is accepted, the next fires in UTC must be strictly increasing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
iterate(const struct nf_cron *c, const struct nf_tz *tz, int64_t t, int n)
{
	int64_t	next;
	int	i, flags;

	for (i = 0; i < n; i++) {
		next = nf_cron_next(c, tz, t, &flags);
		if (next == -1)
			break;
		if (next <= t)
			abort();	/* fires must strictly increase */
		t = next;
	}
}

static void
fuzz_zone(const uint8_t *data, size_t size)
{
	static const char	*exprs[] = { "30 2 * * *", "0 0 * * *",
	    "*/20 * * * *" };
	struct nf_tz		*tz;
	struct nf_cron		*c;
	struct tm		 tm;
	int64_t			 out[2], t;
	char			 err[256];
	size_t			 i;

	if ((tz = nf_tz_parse("Fuzz", data, size, err, sizeof(err))) == NULL)
		return;
	for (t = -INT64_C(4000000000); t < INT64_C(8000000000);
	    t += INT64_C(777777777)) {
		(void)nf_tz_offset(tz, t, NULL);
		nf_tz_localtime(tz, t, &tm);
		(void)nf_tz_next_change(tz, t);
		if (nf_tz_local_to_utc(tz, t, out) == NF_TZ_REPEATED &&
		    out[0] >= out[1])
			abort();
	}
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		c = nf_cron_parse(exprs[i], err, sizeof(err), NULL);
		if (c == NULL)
			abort();
		iterate(c, tz, INT64_C(1774000000), 10);
		iterate(c, tz, INT64_C(-1000000000), 3);
		nf_cron_free(c);
	}
	nf_tz_free(tz);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nf_cron	*c;
	char		*expr, err[256];
	int		 col;

	if (size >= 4 && memcmp(data, "TZif", 4) == 0) {
		fuzz_zone(data, size);
		return 0;
	}
	if ((expr = malloc(size + 1)) == NULL)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	c = nf_cron_parse(expr, err, sizeof(err), &col);
	if (c == NULL) {
		/* The column points into the expression (or just past it). */
		if (col < 0 || (size_t)col > strlen(expr) + 1 || err[0] == '\0')
			abort();
	} else {
		iterate(c, NULL, INT64_C(1774000000), 5);
		iterate(c, NULL, INT64_C(-62135596800), 2);
		iterate(c, NULL, INT64_C(221845392000) - 1, 2);
		nf_cron_free(c);
	}
	free(expr);
	return 0;
}
