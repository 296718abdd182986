/*
 * notify_sd.h: readiness, reload, stop and watchdog notifications to the
 * service manager (systemd Type=notify).  notify_sd.c owns libsystemd.
 */
#ifndef NF_NOTIFY_SD_H
#define NF_NOTIFY_SD_H

#include <ev.h>

/* Start the watchdog timer if the manager asked for one (WATCHDOG_USEC). */
void	nf_notify_init(struct ev_loop *);
void	nf_notify_ready(void);		/* READY=1 (also after a reload) */
void	nf_notify_reloading(void);	/* RELOADING=1 */
void	nf_notify_stopping(void);	/* STOPPING=1 */

#endif
