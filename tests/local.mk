# tests/: Check unit tests (TAP), the toml-test runner, fuzz smoke runs and
# real-daemon integration tests.  Every program prints TAP.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_LOG_DRIVER_FLAGS = --ignore-exit
TESTS_ENVIRONMENT = top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)'; export top_srcdir top_builddir;
LOG_COMPILER =

NF_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
NF_CHECK_LIBS = $(NF_CONF_LIBS) $(NF_CORE_LIBS) $(NF_JSON_LIBS) $(CHECK_LIBS)

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

# Time zones and the calendar (supervisor/tz.c).
check_PROGRAMS += tests/unit/check_tz
tests_unit_check_tz_SOURCES = tests/unit/check_tz.c tests/unit/nf_check.h
tests_unit_check_tz_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_tz_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_tz

tests_unit_check_config_SOURCES = tests/unit/check_config.c tests/unit/nf_check.h
tests_unit_check_config_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_config_LDADD = $(NF_CHECK_LIBS)

# worker/sandbox.c: the SIGSYS handler of self-installed policies.
tests_unit_check_policy_SOURCES = tests/unit/check_policy.c tests/unit/nf_check.h \
	worker/sandbox.c
tests_unit_check_policy_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS) \
	-DNF_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_check_policy_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS)

# The store and the run state machine are supervisor modules: link them
# directly.
tests_unit_check_store_SOURCES = tests/unit/check_store.c tests/unit/nf_check.h \
	supervisor/store.c
tests_unit_check_store_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_unit_check_store_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS)

# The secret store: sealing, key files, rotation and its recovery, on a
# real store.
check_PROGRAMS += tests/unit/check_secret
tests_unit_check_secret_SOURCES = tests/unit/check_secret.c \
	tests/unit/nf_check.h supervisor/secret.c supervisor/store.c
tests_unit_check_secret_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS) \
	$(SODIUM_CFLAGS)
tests_unit_check_secret_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS) \
	$(SODIUM_LIBS)
TESTS += tests/unit/check_secret tests/integration/secrets.sh

# UI accounts, sessions, CSRF and the login rate limiter, on a real store
# and role model.
check_PROGRAMS += tests/unit/check_webauth
tests_unit_check_webauth_SOURCES = tests/unit/check_webauth.c \
	tests/unit/nf_check.h supervisor/webauth.c supervisor/store.c
tests_unit_check_webauth_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS) \
	$(SODIUM_CFLAGS)
tests_unit_check_webauth_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS) \
	$(SODIUM_LIBS) $(EV_LIBS) -lpthread
TESTS += tests/unit/check_webauth tests/integration/users.sh

tests_unit_check_run_SOURCES = tests/unit/check_run.c tests/unit/nf_check.h \
	supervisor/runstate.c supervisor/runstate.h
tests_unit_check_run_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_run_LDADD = $(NF_CHECK_LIBS)

# A run's parameters in one pass (supervisor/params.c, in libnfsup) and
# the redaction primitive (common/template.c).
check_PROGRAMS += tests/unit/check_params
tests_unit_check_params_SOURCES = tests/unit/check_params.c tests/unit/nf_check.h
tests_unit_check_params_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_params_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_params

# The run engine on its own: run.c with a real store and configuration,
# an events subscriber, stubs for the spawner, scheduler and main.
check_PROGRAMS += tests/unit/check_engine
tests_unit_check_engine_SOURCES = tests/unit/check_engine.c \
	tests/unit/nf_check.h supervisor/run.c supervisor/runstate.c \
	supervisor/store.c supervisor/events.c supervisor/secret.c
tests_unit_check_engine_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS) \
	$(SODIUM_CFLAGS)
tests_unit_check_engine_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS) $(EV_LIBS) \
	$(SODIUM_LIBS)
TESTS += tests/unit/check_engine

# The web UI's pages from hand-built control replies (supervisor/webui.c)
# and its embedded assets (web/embed.sh).
check_PROGRAMS += tests/unit/check_webui
tests_unit_check_webui_SOURCES = tests/unit/check_webui.c \
	tests/unit/nf_check.h supervisor/webui.c supervisor/webui.h
nodist_tests_unit_check_webui_SOURCES = web/assets.c
tests_unit_check_webui_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_webui_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_webui
# The web UI in headless Chromium (puppeteer-core from npm, installed into
# tests/web/node of the build tree by the test itself).
TESTS += tests/integration/web-ui.sh
EXTRA_DIST += tests/web/ui.js

# Scheduler slot arithmetic (pure): jitter and catch-up selection.
check_PROGRAMS += tests/unit/check_slots
tests_unit_check_slots_SOURCES = tests/unit/check_slots.c tests/unit/nf_check.h \
	supervisor/slots.c supervisor/slots.h
tests_unit_check_slots_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_slots_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_slots

# The scheduler on a real libev loop and store, run engine faked.
check_PROGRAMS += tests/unit/check_scheduler
tests_unit_check_scheduler_SOURCES = tests/unit/check_scheduler.c \
	tests/unit/nf_check.h supervisor/scheduler.c supervisor/slots.c \
	supervisor/store.c
tests_unit_check_scheduler_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_unit_check_scheduler_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS) $(EV_LIBS)
TESTS += tests/unit/check_scheduler

# Scheduling policies with a controllable clock (libfaketime).
TESTS += tests/integration/schedule.sh

check_PROGRAMS += tests/unit/check_template tests/unit/check_expr
tests_unit_check_template_SOURCES = tests/unit/check_template.c tests/unit/nf_check.h
tests_unit_check_template_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_template_LDADD = $(NF_CHECK_LIBS)
tests_unit_check_expr_SOURCES = tests/unit/check_expr.c tests/unit/nf_check.h
tests_unit_check_expr_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_expr_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_template tests/unit/check_expr tests/integration/flow.sh

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
# worker/sandbox.c: the "trap" mode installs a policy as the worker does.
tests_integration_fakes_fake_scripted_SOURCES = tests/integration/fakes/fake.c \
	worker/sandbox.c
tests_integration_fakes_fake_scripted_CPPFLAGS = $(AM_CPPFLAGS) -DNF_FAKE_SCRIPTED
tests_integration_fakes_fake_scripted_LDADD = $(NF_POLICY_LIBS) $(NF_CORE_LIBS)
tests_integration_fakes_fake_noread_SOURCES = tests/integration/fakes/fake.c
tests_integration_fakes_fake_noread_CPPFLAGS = $(AM_CPPFLAGS) -DNF_FAKE_NOREAD
tests_integration_fakes_fake_noread_LDADD = $(NF_CORE_LIBS)
tests_integration_fakes_fake_silent_SOURCES = tests/integration/fakes/fake.c
tests_integration_fakes_fake_silent_CPPFLAGS = $(AM_CPPFLAGS) -DNF_FAKE_SILENT
tests_integration_fakes_fake_silent_LDADD = $(NF_CORE_LIBS)
check_PROGRAMS += tests/integration/fakes/fake-scripted \
	tests/integration/fakes/fake-noread \
	tests/integration/fakes/fake-silent
# One denied system call by name, for tests/integration/deny.sh.
check_PROGRAMS += tests/integration/fakes/try-syscall
tests_integration_fakes_try_syscall_SOURCES = \
	tests/integration/fakes/try-syscall.c
# Worker fault matrix and store faults (real daemon, fakes).
TESTS += tests/integration/faults.sh tests/integration/service.sh
# Crash-injection harness: 200 kill/restart cycles (needs a build with
# --enable-fault-injection, else it skips).
TESTS += tests/crash/crash.sh
EXTRA_DIST += tests/crash
# Python steps (plugins in tests/integration/plugins/).
TESTS += tests/integration/python.sh
# The deny matrix from exec and python steps.
TESTS += tests/integration/deny.sh
# Each attempt in a cgroup v2 of its own (skips without a writable one).
TESTS += tests/integration/cgroup.sh
# run_as: who a step's program runs as (creates users; needs root).
TESTS += tests/integration/runas.sh
# check_config fixtures (each case is a nomaflow.toml and its jobs directory).
EXTRA_DIST += tests/unit/config
# http steps: pure parts (steptype.c, common/json.c), then against the
# local test server (tests/services/http-*.sh).
check_PROGRAMS += tests/unit/check_http
tests_unit_check_http_SOURCES = tests/unit/check_http.c tests/unit/nf_check.h
tests_unit_check_http_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_http_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_http tests/integration/http.sh
EXTRA_DIST += tests/services/http-up.sh tests/services/http-down.sh \
	tests/services/http_test_server.py
# Job schedules as the config loader builds them (several per job, every).
check_PROGRAMS += tests/unit/check_schedule
tests_unit_check_schedule_SOURCES = tests/unit/check_schedule.c tests/unit/nf_check.h
tests_unit_check_schedule_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_schedule_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_schedule
# Differential test of cron.c against croniter (python3-croniter).
check_PROGRAMS += tests/cron_oracle
tests_cron_oracle_SOURCES = tests/cron_oracle.c
tests_cron_oracle_LDADD = $(NF_CONF_LIBS) $(NF_CORE_LIBS)
TESTS += tests/cron-croniter.py
EXTRA_DIST += tests/cron-croniter.py
# SQL steps: the SQL text scanner, and sql_query/sql_copy against a real
# PostgreSQL (tests/services/pg-up.sh) and SQLite.
check_PROGRAMS += tests/unit/check_sqlscan
tests_unit_check_sqlscan_SOURCES = tests/unit/check_sqlscan.c tests/unit/nf_check.h \
	worker/db_params.c
tests_unit_check_sqlscan_CFLAGS = $(NF_CHECK_CFLAGS) -I$(top_srcdir)/worker
tests_unit_check_sqlscan_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_sqlscan tests/integration/sql.sh
EXTRA_DIST += tests/services/pg-up.sh tests/services/pg-down.sh
# nfctl cron / next and several schedules per job through a real daemon.
TESTS += tests/integration/cron.sh

# The step-type registry: one descriptor per type (supervisor/steptypes/).
check_PROGRAMS += tests/unit/check_steptype
tests_unit_check_steptype_SOURCES = tests/unit/check_steptype.c tests/unit/nf_check.h
tests_unit_check_steptype_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_steptype_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_steptype
# The control handlers over a socketpair, with the run engine, spawner,
# scheduler and a real store linked; main.c's share is in the test.
check_PROGRAMS += tests/unit/check_control
tests_unit_check_control_SOURCES = tests/unit/check_control.c \
	tests/unit/nf_check.h supervisor/control.c supervisor/events.c supervisor/run.c \
	supervisor/runstate.c supervisor/spawn.c supervisor/cgroup.c supervisor/scheduler.c \
	supervisor/slots.c supervisor/store.c supervisor/secret.c \
	supervisor/webauth.c supervisor/retention.c
tests_unit_check_control_CFLAGS = $(NF_CHECK_CFLAGS) $(SQLITE_CFLAGS) \
	$(SODIUM_CFLAGS) -DNF_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_check_control_LDADD = $(NF_CHECK_LIBS) $(SQLITE_LIBS) $(EV_LIBS) \
	$(SODIUM_LIBS)
TESTS += tests/unit/check_control
# Roles and permissions with real unix users (root only, else it skips).
TESTS += tests/integration/acl.sh
# The HTTP API of [web] with curl against a real daemon.
TESTS += tests/integration/web-api.sh
# The role model: grant grammar, role tables, the check (supervisor/acl.c).
check_PROGRAMS += tests/unit/check_acl
tests_unit_check_acl_SOURCES = tests/unit/check_acl.c tests/unit/nf_check.h
tests_unit_check_acl_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_acl_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_acl

# The metrics registry and text (supervisor/metrics.c, in libnfsup) and its
# feed from the run engine's events, with a fake daemon state.
check_PROGRAMS += tests/unit/check_metrics
tests_unit_check_metrics_SOURCES = tests/unit/check_metrics.c \
	tests/unit/nf_check.h supervisor/metrics_feed.c supervisor/events.c
tests_unit_check_metrics_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_metrics_LDADD = $(NF_CHECK_LIBS)
TESTS += tests/unit/check_metrics tests/integration/metrics.sh
# Retention: limits, nfctl prune, pruned logs, a crash mid-prune.
TESTS += tests/integration/retention.sh

# cgroup.c's parsing of /proc/self/cgroup and mountinfo (pure).
check_PROGRAMS += tests/unit/check_cgroup
tests_unit_check_cgroup_SOURCES = tests/unit/check_cgroup.c \
	tests/unit/nf_check.h supervisor/cgroup.c supervisor/cgroup.h
tests_unit_check_cgroup_CFLAGS = $(NF_CHECK_CFLAGS)
tests_unit_check_cgroup_LDADD = $(NF_CHECK_LIBS) $(EV_LIBS)
TESTS += tests/unit/check_cgroup
