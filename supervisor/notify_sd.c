/*
 * notify_sd.c: the service manager's side channel of nomaflowd.  The one
 * module that includes sd-daemon.h (libsystemd).  Runs in nomaflowd only.
 *
 * With Type=notify, systemd learns READY=1 once the configuration, the
 * store (recovery included) and the schedules (catch-up included) are
 * loaded; RELOADING=1 then READY=1 around a reload; STOPPING=1 on TERM.
 * With WatchdogSec=, WATCHDOG=1 is sent from an ev_timer at half the
 * interval, so a loop that stops turning (a blocking bug) gets the daemon
 * restarted.  Without NOTIFY_SOCKET every call is a cheap no-op.
 */
#include "autoconf.h"

#include <systemd/sd-daemon.h>

#include <stdint.h>
#include <string.h>

#include "log.h"
#include "nomaflowd.h"
#include "notify_sd.h"

static ev_timer	wd_timer;

static void
notify(const char *state)
{
	int	 rc;

	/* 0: no NOTIFY_SOCKET (not under systemd); nothing to do. */
	if ((rc = sd_notify(0, state)) < 0)
		nf_warnx("sd_notify %s: %s", state, strerror(-rc));
}

static void
wd_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	notify("WATCHDOG=1");
}

void
nf_notify_init(struct ev_loop *loop)
{
	uint64_t	 usec = 0;
	int		 rc;

	if ((rc = sd_watchdog_enabled(0, &usec)) < 0) {
		nf_warnx("WATCHDOG_USEC: %s; the watchdog is not kept",
		    strerror(-rc));
		return;
	}
	if (rc == 0 || usec == 0)
		return;
	ev_timer_init(&wd_timer, wd_cb, 0., (double)usec / 2e6);
	ev_timer_again(loop, &wd_timer);
	/* Never keeps the loop alive on its own. */
	ev_unref(loop);
	nf_info("systemd watchdog: %.3f s, kept every %.3f s",
	    (double)usec / 1e6, (double)usec / 2e6);
}

void
nf_notify_ready(void)
{
	notify("READY=1\nSTATUS=running");
}

void
nf_notify_reloading(void)
{
	notify("RELOADING=1\nSTATUS=reloading");
}

void
nf_notify_stopping(void)
{
	notify("STOPPING=1\nSTATUS=draining running steps");
}
