# bench/: the benchmark harnesses (bench/*.sh) and their programs.
# They are built on demand only (`make bench/loadgen`, or by the scripts),
# never by `make` or `make install`.
#   loadgen        control-socket load generator (run.sh, contain.sh, ...)
#   runbase        the run baseline of contain.sh: the process and store
#                  work of a one-step exec run without nomaflowd
#   runbase-stub   its sandboxed stub, static like nomaflow-worker
EXTRA_PROGRAMS = bench/loadgen bench/runbase bench/runbase-stub
bench_loadgen_SOURCES = bench/loadgen.c
bench_loadgen_LDADD = $(NF_CORE_LIBS)
bench_runbase_SOURCES = bench/runbase.c
bench_runbase_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
bench_runbase_LDADD = $(NF_POLICY_LIBS) $(NF_CORE_LIBS) $(SQLITE_LIBS)
bench_runbase_stub_SOURCES = bench/runbase_stub.c
bench_runbase_stub_LDADD = $(NF_POLICY_LIBS) $(NF_CORE_LIBS)
bench_runbase_stub_LDFLAGS = $(AM_LDFLAGS) $(NF_WORKER_LDFLAGS)
CLEANFILES += bench/loadgen bench/runbase bench/runbase-stub
EXTRA_DIST += bench/run.sh bench/RESULTS.md bench/sql_copy.sh bench/sched.sh \
	bench/web.sh bench/contain.sh bench/peers.sh bench/peers.png \
	bench/login.sh bench/scale.sh bench/scale.png
