# worker/: nomaflow-worker, one process per step attempt.
pkglibexec_PROGRAMS += nomaflow-worker
nomaflow_worker_SOURCES = worker/main.c worker/step.h worker/sandbox.c \
	worker/step_exec.c worker/step_sql.c
nomaflow_worker_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
nomaflow_worker_LDADD = $(NF_CONF_LIBS) $(NF_CORE_LIBS) $(SQLITE_LIBS)
