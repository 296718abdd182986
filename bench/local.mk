# bench/: the benchmark harness (bench/run.sh) and its load generator.
# loadgen is built on demand only (`make bench/loadgen`, or by run.sh), never
# by `make` or `make install`.
EXTRA_PROGRAMS = bench/loadgen
bench_loadgen_SOURCES = bench/loadgen.c
bench_loadgen_LDADD = $(NF_CORE_LIBS)
CLEANFILES += bench/loadgen
EXTRA_DIST += bench/run.sh bench/RESULTS.md bench/sql_copy.sh bench/sched.sh \
	bench/web.sh
