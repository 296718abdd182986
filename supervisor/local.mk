# supervisor/: nomaflowd.  store.c owns sqlite3.h, the main loop owns libev.
# libnfsup holds what only the supervisor needs and the unit tests and fuzz
# targets link on their own: TOML, configuration, the step-type registry
# (one file per type under supervisor/steptypes/), conditions, cron, time
# zones, the crash-injection points and the metrics registry.
noinst_LIBRARIES += libnfsup.a
libnfsup_a_SOURCES = supervisor/toml.c supervisor/toml.h \
	supervisor/acl.c supervisor/acl.h \
	supervisor/config.c supervisor/config.h supervisor/load.c \
	supervisor/load.h supervisor/jobs.c supervisor/dump.c \
	supervisor/steptypes.c supervisor/steptypes.h \
	supervisor/steptypes/exec.c supervisor/steptypes/sql_query.c \
	supervisor/steptypes/sql_copy.c supervisor/steptypes/python.c \
	supervisor/steptypes/http.c supervisor/steptypes/call_job.c \
	supervisor/expr.c supervisor/expr.h \
	supervisor/cron.c supervisor/cron.h supervisor/tz.c supervisor/tz.h \
	supervisor/fault.c supervisor/fault.h \
	supervisor/params.c supervisor/params.h \
	supervisor/metrics.c supervisor/metrics.h
libnfsup_a_CFLAGS = $(AM_CFLAGS)

# Everything the supervisor's modules and their tests link.
NF_CONF_LIBS = libnfsup.a $(NF_POLICY_LIBS) -lm

sbin_PROGRAMS += nomaflowd
nomaflowd_SOURCES = supervisor/main.c supervisor/nomaflowd.h \
	supervisor/events.c supervisor/events.h supervisor/metrics_feed.c \
	supervisor/run.c supervisor/run.h supervisor/runstate.c supervisor/runstate.h supervisor/spawn.c supervisor/spawn.h \
	supervisor/cgroup.c supervisor/cgroup.h \
	supervisor/control.c supervisor/control.h \
	supervisor/scheduler.c supervisor/scheduler.h \
	supervisor/slots.c supervisor/slots.h \
	supervisor/store.c supervisor/store.h \
	supervisor/retention.c supervisor/retention.h \
	supervisor/secret.c supervisor/secret.h \
	supervisor/webauth.c supervisor/webauth.h \
	supervisor/notify_sd.c supervisor/notify_sd.h \
	supervisor/web.c supervisor/web.h \
	supervisor/webui.c supervisor/webui.h
# The web UI's static files, generated from web/ (web/local.mk).
nodist_nomaflowd_SOURCES = web/assets.c
nomaflowd_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(SYSTEMD_CFLAGS) \
	$(SODIUM_CFLAGS) $(MHD_CFLAGS)
nomaflowd_LDADD = $(NF_CONF_LIBS) $(NF_CORE_LIBS) $(NF_JSON_LIBS) $(SQLITE_LIBS) $(EV_LIBS) \
	$(SYSTEMD_LIBS) $(SODIUM_LIBS) $(MHD_LIBS) -lpthread
