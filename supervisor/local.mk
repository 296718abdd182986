# supervisor/: nomaflowd (store.c owns sqlite3.h, main loop owns libev) and
# the control client nfctl.
sbin_PROGRAMS += nomaflowd
nomaflowd_SOURCES = supervisor/main.c supervisor/nomaflowd.h \
	supervisor/run.c supervisor/run.h supervisor/runstate.c supervisor/runstate.h supervisor/spawn.c supervisor/spawner.h \
	supervisor/control.c supervisor/control.h \
	supervisor/scheduler.c supervisor/scheduler.h \
	supervisor/slots.c supervisor/slots.h \
	supervisor/store.c supervisor/store.h \
	supervisor/notify_sd.c supervisor/notify_sd.h
nomaflowd_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(SYSTEMD_CFLAGS)
nomaflowd_LDADD = $(NF_CONF_LIBS) $(NF_CORE_LIBS) $(SQLITE_LIBS) $(EV_LIBS) \
	$(SYSTEMD_LIBS)

bin_PROGRAMS += nfctl
nfctl_SOURCES = supervisor/nfctl.c
nfctl_LDADD = $(NF_CONF_LIBS) $(NF_CORE_LIBS)
