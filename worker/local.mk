# worker/: the worker binaries, one process per step attempt.  One main
# (worker/main.c), four programs, so that each spawn loads only the
# libraries its step type needs:
#   nomaflow-worker         exec, python            (jansson; no database or
#                                                    network libs)
#   nomaflow-worker-sql     sql_query, sql_copy     (SQLite, libpq)
#   nomaflow-worker-sqlite  the same, SQLite pools only (no libpq)
#   nomaflow-worker-http    http                    (libcurl, jansson)
# nomaflowd runs "<worker.path>-sql" (or -sqlite when every pool of the step
# is SQLite) and "<worker.path>-http" for those types (supervisor/steptypes/
# says which type goes where).
pkglibexec_PROGRAMS += nomaflow-worker nomaflow-worker-sql \
	nomaflow-worker-sqlite nomaflow-worker-http
NF_WORKER_CPPFLAGS = $(NF_BASE_CPPFLAGS) -I$(top_srcdir)/worker
NF_WORKER_COMMON = worker/main.c worker/step.h worker/sandbox.c

nomaflow_worker_SOURCES = $(NF_WORKER_COMMON) worker/child.h \
	worker/child.c worker/step_exec.c worker/step_python.c
nomaflow_worker_CPPFLAGS = $(NF_WORKER_CPPFLAGS)
nomaflow_worker_LDADD = $(NF_POLICY_LIBS) $(NF_CORE_LIBS) $(NF_JSON_LIBS)
# -static unless configured --disable-static-worker (configure.ac says why).
nomaflow_worker_LDFLAGS = $(AM_LDFLAGS) $(NF_WORKER_LDFLAGS)

nomaflow_worker_sql_SOURCES = $(NF_WORKER_COMMON) worker/step_sql.c \
	worker/step_copy.c worker/db.h worker/db_driver.h worker/db.c \
	worker/db_params.c worker/db_sqlite.c worker/db_pg.c
nomaflow_worker_sql_CPPFLAGS = $(NF_WORKER_CPPFLAGS) -DNF_WORKER_SQL
nomaflow_worker_sql_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBPQ_CFLAGS)
nomaflow_worker_sql_LDADD = $(NF_POLICY_LIBS) $(NF_CORE_LIBS) $(SQLITE_LIBS) \
	$(LIBPQ_LIBS)

nomaflow_worker_http_SOURCES = $(NF_WORKER_COMMON) worker/step_http.c
nomaflow_worker_http_CPPFLAGS = $(NF_WORKER_CPPFLAGS) -DNF_WORKER_HTTP
nomaflow_worker_http_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
nomaflow_worker_http_LDADD = $(NF_POLICY_LIBS) $(NF_CORE_LIBS) $(CURL_LIBS) \
	$(NF_JSON_LIBS)

nomaflow_worker_sqlite_SOURCES = $(NF_WORKER_COMMON) worker/step_sql.c \
	worker/step_copy.c worker/db.h worker/db_driver.h worker/db.c \
	worker/db_params.c worker/db_sqlite.c
nomaflow_worker_sqlite_CPPFLAGS = $(NF_WORKER_CPPFLAGS) -DNF_WORKER_SQL \
	-DNF_WORKER_NO_PG
nomaflow_worker_sqlite_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
nomaflow_worker_sqlite_LDADD = $(NF_POLICY_LIBS) $(NF_CORE_LIBS) $(SQLITE_LIBS)
