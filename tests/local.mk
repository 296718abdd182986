# tests/: Check unit tests (TAP), the toml-test runner, fuzz smoke runs and
# real-daemon integration tests.  Every program prints TAP.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_LOG_DRIVER_FLAGS = --ignore-exit
TESTS_ENVIRONMENT = top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)'; export top_srcdir top_builddir;
LOG_COMPILER =

NF_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
NF_CHECK_LIBS = $(NF_CONF_LIBS) $(NF_CORE_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_toml tests/unit/check_frame \
	tests/unit/check_val tests/unit/check_cron tests/unit/check_config \
	tests/unit/check_policy tests/unit/check_store tests/unit/check_run \
	tests/toml_test_runner

tests_unit_check_toml_SOURCES = tests/unit/check_toml.c tests/unit/nf_check.h
tests_unit_check_toml_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_toml_LDADD = $(NF_CHECK_LIBS)

tests_unit_check_frame_SOURCES = tests/unit/check_frame.c tests/unit/nf_check.h
tests_unit_check_frame_CFLAGS = $(NF_CHECK_CFLAGS) $(MSGPACK_CFLAGS)
tests_unit_check_frame_LDADD = $(NF_CHECK_LIBS)

tests_unit_check_val_SOURCES = tests/unit/check_val.c tests/unit/nf_check.h
tests_unit_check_val_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_val_LDADD = $(NF_CHECK_LIBS)

tests_unit_check_cron_SOURCES = tests/unit/check_cron.c tests/unit/nf_check.h
tests_unit_check_cron_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_cron_LDADD = $(NF_CHECK_LIBS)

tests_unit_check_config_SOURCES = tests/unit/check_config.c tests/unit/nf_check.h
tests_unit_check_config_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_config_LDADD = $(NF_CHECK_LIBS)

tests_unit_check_policy_SOURCES = tests/unit/check_policy.c tests/unit/nf_check.h
tests_unit_check_policy_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS) \
	-DNF_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_check_policy_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS)

# The store and the run state machine are supervisor modules: link them
# directly.
tests_unit_check_store_SOURCES = tests/unit/check_store.c tests/unit/nf_check.h \
	supervisor/store.c
tests_unit_check_store_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_unit_check_store_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS)

tests_unit_check_run_SOURCES = tests/unit/check_run.c tests/unit/nf_check.h \
	supervisor/runstate.c supervisor/runstate.h
tests_unit_check_run_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_run_LDADD = $(NF_CHECK_LIBS)

tests_toml_test_runner_SOURCES = tests/toml_test_runner.c
tests_toml_test_runner_LDADD = $(NF_CONF_LIBS) $(NF_CORE_LIBS)

TESTS += tests/unit/check_toml tests/unit/check_frame tests/unit/check_val \
	tests/unit/check_cron tests/unit/check_config tests/unit/check_policy \
	tests/unit/check_store tests/unit/check_run tests/toml-test.sh \
	tests/fuzz/smoke.sh tests/integration/run.sh

EXTRA_DIST += tests/toml-test tests/toml-test.sh tests/fuzz tests/integration \
	tests/golden

# Fake workers for the integration harness (worker.path points at them):
# one source, one misbehaviour per program (tests/integration/fakes/fake.c).
check_PROGRAMS += tests/integration/fakes/fake-garbage \
	tests/integration/fakes/fake-huge \
	tests/integration/fakes/fake-noresult \
	tests/integration/fakes/fake-crash-after-result
tests_integration_fakes_fake_garbage_SOURCES = tests/integration/fakes/fake.c
tests_integration_fakes_fake_garbage_CPPFLAGS = $(AM_CPPFLAGS) -DNF_FAKE_GARBAGE
tests_integration_fakes_fake_garbage_LDADD = $(NF_CORE_LIBS)
tests_integration_fakes_fake_huge_SOURCES = tests/integration/fakes/fake.c
tests_integration_fakes_fake_huge_CPPFLAGS = $(AM_CPPFLAGS) -DNF_FAKE_HUGE
tests_integration_fakes_fake_huge_LDADD = $(NF_CORE_LIBS)
tests_integration_fakes_fake_noresult_SOURCES = tests/integration/fakes/fake.c
tests_integration_fakes_fake_noresult_CPPFLAGS = $(AM_CPPFLAGS) -DNF_FAKE_NORESULT
tests_integration_fakes_fake_noresult_LDADD = $(NF_CORE_LIBS)
tests_integration_fakes_fake_crash_after_result_SOURCES = tests/integration/fakes/fake.c
tests_integration_fakes_fake_crash_after_result_CPPFLAGS = $(AM_CPPFLAGS) -DNF_FAKE_CRASH_AFTER_RESULT
tests_integration_fakes_fake_crash_after_result_LDADD = $(NF_CORE_LIBS)
# check_config fixtures (each case is a nomaflow.toml and its jobs directory).
EXTRA_DIST += tests/unit/config
