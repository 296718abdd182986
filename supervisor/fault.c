/*
 * fault.c: the crash-injection points of test builds (fault.h).  Runs in
 * whichever process reaches a point (nomaflowd in practice).  The armed
 * point is read from NOMAFLOW_FAULT once, at the first hit of any point;
 * a malformed value is fatal so that a harness typo cannot pass silently.
 * Only SIGKILL is offered: it is what a crash, the OOM killer or a power
 * cut does to the process, and nothing of ours runs afterwards.
 */
#include "autoconf.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"

#ifdef NF_FAULTS
static struct {
	int		 loaded;
	char		 point[64];	/* "" = nothing armed */
	long		 at;		/* fire at this hit (1-based) */
	long		 hits;
} F;

static void
fault_load(void)
{
	const char	*env, *c1, *c2;
	char		*end;
	size_t		 n;

	F.loaded = 1;
	if ((env = getenv("NOMAFLOW_FAULT")) == NULL || *env == '\0')
		return;
	if ((c1 = strchr(env, ':')) == NULL ||
	    (n = (size_t)(c1 - env)) == 0 || n >= sizeof(F.point))
		nf_fatalx("NOMAFLOW_FAULT=%s: expected point:kill[:N]", env);
	c2 = strchr(c1 + 1, ':');
	if (strncmp(c1 + 1, "kill", c2 != NULL ? (size_t)(c2 - c1 - 1) :
	    strlen(c1 + 1)) != 0 || (c2 == NULL && strcmp(c1 + 1, "kill")
	    != 0))
		nf_fatalx("NOMAFLOW_FAULT=%s: the only action is kill", env);
	F.at = 1;
	if (c2 != NULL) {
		F.at = strtol(c2 + 1, &end, 10);
		if (*end != '\0' || F.at < 1)
			nf_fatalx("NOMAFLOW_FAULT=%s: N must be a positive "
			    "integer", env);
	}
	memcpy(F.point, env, n);
	F.point[n] = '\0';
}

void
nf_fault_hit(const char *point)
{
	if (!F.loaded)
		fault_load();
	if (F.point[0] == '\0' || strcmp(point, F.point) != 0)
		return;
	if (++F.hits < F.at)
		return;
	nf_warnx("fault injection: %s (hit %ld): SIGKILL", point, F.hits);
	(void)kill(getpid(), SIGKILL);
	for (;;)
		pause();
}
#endif
