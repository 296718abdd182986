/*
 * cron_oracle.c: prints our next fire times for the differential test
 * against croniter (tests/cron-croniter.py).  Test helper only.
 *
 * Each input line is "ZONE START N EXPR": the next N fires of EXPR in ZONE
 * strictly after START (epoch seconds).  Each output line holds the fires
 * as epoch seconds separated by spaces, ending early with "-1" when the
 * search finds none within its horizon, or "E message" if EXPR or ZONE is
 * rejected.  Zones are loaded once and kept.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "util.h"

#define ORACLE_MAXZONES	16

static struct {
	char		*name;
	struct nf_tz	*tz;
} zones[ORACLE_MAXZONES];

static struct nf_tz *
zone(const char *name, char *err, size_t errlen)
{
	size_t	i;

	if (strcmp(name, "UTC") == 0)
		return NULL;
	for (i = 0; i < ORACLE_MAXZONES && zones[i].name != NULL; i++)
		if (strcmp(zones[i].name, name) == 0)
			return zones[i].tz;
	if (i == ORACLE_MAXZONES) {
		snprintf(err, errlen, "too many zones");
		return NULL;
	}
	if ((zones[i].tz = nf_tz_load(name, err, errlen)) == NULL)
		return NULL;
	zones[i].name = nf_xstrdup(name);
	return zones[i].tz;
}

int
main(void)
{
	struct nf_cron	*c;
	struct nf_tz	*tz;
	char		 line[1024], name[128], err[512];
	long long	 start;
	int		 n, i, off, col;
	int64_t		 t;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		off = 0;
		if (sscanf(line, "%127s %lld %d %n", name, &start, &n,
		    &off) != 3 || off == 0) {
			printf("E malformed input line\n");
			continue;
		}
		err[0] = '\0';
		tz = zone(name, err, sizeof(err));
		if (tz == NULL && err[0] != '\0') {
			printf("E %s\n", err);
			continue;
		}
		if ((c = nf_cron_parse(line + off, err, sizeof(err),
		    &col)) == NULL) {
			printf("E %s (column %d)\n", err, col);
			continue;
		}
		t = start;
		for (i = 0; i < n; i++) {
			t = nf_cron_next(c, tz, t, NULL);
			printf("%s%" PRId64, i ? " " : "", t);
			if (t == -1)
				break;
		}
		putchar('\n');
		nf_cron_free(c);
	}
	return ferror(stdout) || fflush(stdout) != 0;
}
