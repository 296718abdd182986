/*
 * check_config.c: unit tests of the config loader (supervisor/config.c,
 * jobs.c, load.c, dump.c) and the step-type registry.
 *
 * Fixtures live in $top_srcdir/tests/unit/config/<case>/ (a nomaflow.toml
 * and its jobs directory); the normalised dump of the valid case is
 * compared with tests/golden/config-basic.txt.  Each test chdirs into the
 * fixture directory (Check runs every test in its own child) so that error
 * messages carry short, predictable file names; the absolute fixture path
 * that config.c puts into job file names is replaced by "@DIR@".
 */
#include "autoconf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "nf_check.h"
#include "steptypes.h"
#include "util.h"
#include "val.h"

static char *
fixture(const char *name)
{
	const char	*top;

	if ((top = getenv("top_srcdir")) == NULL || *top == '\0')
		top = ".";
	return nf_xprintf("%s/tests/unit/config/%s", top, name);
}

/* chdir into a fixture case and return its real path. */
static char *
enter(const char *name)
{
	char	*dir, *real;

	dir = fixture(name);
	ck_assert_msg(chdir(dir) == 0, "chdir %s", dir);
	free(dir);
	real = realpath(".", NULL);
	ck_assert_ptr_nonnull(real);
	return real;
}

/* Replace every occurrence of from in s by to. */
static char *
subst(const char *s, const char *from, const char *to)
{
	struct nf_buf	 b;
	const char	*p;
	size_t		 fl = strlen(from);

	nf_buf_init(&b);
	while ((p = strstr(s, from)) != NULL) {
		nf_buf_add(&b, s, p - s);
		nf_buf_adds(&b, to);
		s = p + fl;
	}
	nf_buf_adds(&b, s);
	return nf_buf_steal(&b);
}

static char *
subst_dir(const char *s, const char *dir)
{
	return subst(s, dir, "@DIR@");
}

static char *
errs_text(const struct nf_errs *e, const char *dir)
{
	struct nf_buf	 b;
	char		*s;
	size_t		 i;

	nf_buf_init(&b);
	for (i = 0; i < e->n; i++) {
		s = subst_dir(e->msgs[i], dir);
		nf_buf_printf(&b, "  [%zu] %s\n", i, s);
		free(s);
	}
	return nf_buf_steal(&b);
}

/*
 * Compare the error list with the expected one, in order.  An expected
 * entry ending in "*" is a prefix: the rest of that message comes from
 * another module (TOML parser, cron, time zones) and is tested there.
 */
static void
expect_errs(const struct nf_errs *e, const char *dir,
    const char *const *want, size_t nwant)
{
	char	*all, *got;
	size_t	 i, len;
	int	 ok;

	/* Check's messages are short: the full list goes to stderr. */
	all = errs_text(e, dir);
	if (e->n != nwant)
		fprintf(stderr, "all errors:\n%s", all);
	ck_assert_msg(e->n == nwant, "expected %zu errors, got %zu", nwant,
	    e->n);
	for (i = 0; i < nwant; i++) {
		got = subst_dir(e->msgs[i], dir);
		len = strlen(want[i]);
		if (len > 0 && want[i][len - 1] == '*')
			ok = strncmp(got, want[i], len - 1) == 0;
		else
			ok = strcmp(got, want[i]) == 0;
		if (!ok)
			fprintf(stderr, "error %zu:\n  want %s\n  got  %s\n",
			    i, want[i], got);
		ck_assert_msg(ok, "error %zu differs (see stderr)", i);
		free(got);
	}
	free(all);
}

static char *
slurp(const char *path)
{
	FILE		*fp;
	struct nf_buf	 b;
	char		 buf[4096];
	size_t		 n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	nf_buf_init(&b);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		nf_buf_add(&b, buf, n);
	fclose(fp);
	return nf_buf_steal(&b);
}

static char *
dump_text(const struct nf_config *cfg)
{
	char	*text;
	size_t	 len;
	FILE	*fp;

	fp = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(fp);
	nf_config_dump(cfg, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return text;
}

static void
basic_env(void)
{
	setenv("NF_TEST_PGHOST", "db.example", 1);
	setenv("NF_TEST_X", "42", 1);
	unsetenv("NF_TEST_STATE");
	unsetenv("NF_TEST_GREETING");
}

START_TEST(test_expand)
{
	char	 err[256], *s;

	setenv("NF_T_A", "alpha", 1);
	setenv("NF_T_EMPTY", "", 1);
	unsetenv("NF_T_UNSET");

	s = nf_config_expand("x${NF_T_A}y", err, sizeof(err));
	ck_assert_str_eq(s, "xalphay");
	free(s);
	s = nf_config_expand("${NF_T_A:-dflt}", err, sizeof(err));
	ck_assert_str_eq(s, "alpha");
	free(s);
	s = nf_config_expand("${NF_T_UNSET:-d e f}", err, sizeof(err));
	ck_assert_str_eq(s, "d e f");
	free(s);
	/* Shell semantics: an empty value takes the default too. */
	s = nf_config_expand("${NF_T_EMPTY:-dflt}", err, sizeof(err));
	ck_assert_str_eq(s, "dflt");
	free(s);
	s = nf_config_expand("[${NF_T_EMPTY}]", err, sizeof(err));
	ck_assert_str_eq(s, "[]");
	free(s);
	s = nf_config_expand("${NF_T_UNSET:-}", err, sizeof(err));
	ck_assert_str_eq(s, "");
	free(s);
	/* "$$" is a literal "$"; "$" not followed by "{" is left alone. */
	s = nf_config_expand("$$HOME $i a$ $${NF_T_A}", err, sizeof(err));
	ck_assert_str_eq(s, "$HOME $i a$ ${NF_T_A}");
	free(s);

	ck_assert_ptr_null(nf_config_expand("a ${NF_T_UNSET} b", err,
	    sizeof(err)));
	ck_assert_str_eq(err, "environment variable \"NF_T_UNSET\" is not "
	    "set (set it, or write \"${NF_T_UNSET:-default}\")");
	ck_assert_ptr_null(nf_config_expand("${NF_T_A", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "malformed"));
	ck_assert_ptr_null(nf_config_expand("${NF_T_A:-x", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "unterminated"));
	ck_assert_ptr_null(nf_config_expand("${1X}", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "malformed reference \"${1X}\""));
	ck_assert_ptr_null(nf_config_expand("${}", err, sizeof(err)));
	ck_assert_ptr_null(nf_config_expand("${A B}", err, sizeof(err)));
}
END_TEST

START_TEST(test_steptype_registry)
{
	const struct nf_steptype *const *all;
	const struct nf_steptype *t;
	const struct nf_steptype_field *f;
	size_t	 n;
	int	 argv_req = 0;

	for (all = nf_steptype_all(), n = 0; all[n] != NULL; n++)
		;
	/* exec, sql_query, and the types later issues added. */
	ck_assert_uint_ge(n, 2);

	t = nf_steptype_find("exec");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->policy, "exec");
	ck_assert_int_eq(t->uses_pool, 0);
	for (f = t->fields; f->key != NULL; f++)
		if (strcmp(f->key, "argv") == 0)
			argv_req = f->required && f->type == NF_V_ARR &&
			    f->elem == NF_V_STR;
	ck_assert_int_eq(argv_req, 1);

	t = nf_steptype_find("sql_query");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->policy, "sql");
	ck_assert_int_eq(t->uses_pool, 1);

	t = nf_steptype_find("http");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->policy, "http");
	ck_assert_int_eq(t->uses_pool, 0);
	ck_assert_ptr_null(t->worker_policy);
	ck_assert_int_eq(t->fields[1].required, 1);
	ck_assert_str_eq(t->fields[1].key, "url");

	ck_assert_ptr_null(nf_steptype_find("ldap_sync"));
	ck_assert_ptr_null(nf_steptype_find(""));
}
END_TEST

/* The valid config: every key read, defaults filled, dump = golden. */
START_TEST(test_basic_golden)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	const struct nf_job	*job;
	const struct nf_pool	*demo;
	const struct nf_val	*v;
	char			*dir, *golden_path, *golden, *text, *got;
	char			*top_real;
	const char		*top;

	top = getenv("top_srcdir");
	if (top == NULL || *top == '\0')
		top = ".";
	top_real = realpath(top, NULL);
	ck_assert_ptr_nonnull(top_real);
	golden_path = nf_xprintf("%s/tests/golden/config-basic.txt",
	    top_real);

	basic_env();
	dir = enter("basic");
	nf_errs_init(&errs);
	cfg = nf_config_load("nomaflow.toml", 0, &errs);
	text = errs_text(&errs, dir);
	ck_assert_msg(cfg != NULL && errs.n == 0, "errors:\n%s", text);
	free(text);

	ck_assert_str_eq(cfg->path, "nomaflow.toml");
	ck_assert_int_eq(cfg->socket_mode, 0640);
	ck_assert_str_eq(cfg->socket_group, "root");
	ck_assert_int_eq(cfg->store_sync_full, 1);
	ck_assert_int_eq(cfg->max_workers, 4);
	ck_assert_int_eq(cfg->grace_seconds, 2);
	ck_assert_int_eq(cfg->shutdown_grace_seconds, 12);
	ck_assert_int_eq(cfg->allow_unsandboxed, 1);
	ck_assert_int_eq(cfg->output_max_rows, 10);
	ck_assert_int_eq(cfg->log_level, NF_LOG_DEBUG);
	ck_assert(cfg->log_cap_bytes == 1048576);
	ck_assert_uint_eq(cfg->npools, 2);
	ck_assert_uint_eq(cfg->njobs, 3);

	/* Files are read in name order; *.toml only, no hidden files. */
	ck_assert_str_eq(cfg->jobs[0].id, "etl");
	ck_assert_str_eq(cfg->jobs[1].id, "manual-only");
	ck_assert_str_eq(cfg->jobs[2].id, "hourly");

	job = nf_config_job(cfg, "etl");
	ck_assert_ptr_eq(job, &cfg->jobs[0]);
	ck_assert_ptr_null(nf_config_job(cfg, "nope"));
	ck_assert_ptr_nonnull(job->cron);
	ck_assert_ptr_nonnull(job->tz);
	ck_assert_str_eq(job->description, "Nightly ETL; $HOME stays literal");
	ck_assert_int_eq(job->retry.attempts, 3);
	ck_assert_int_eq(job->retry.backoff, NF_BACKOFF_FIXED);
	ck_assert(job->retry.base_seconds == 2.0);
	ck_assert_int_eq(job->line, 1);
	ck_assert_int_eq(job->col, 1);
	ck_assert_uint_eq(job->ntags, 2);
	ck_assert_str_eq(job->tags[1], "nightly");
	/* Dates become RFC 3339 strings. */
	ck_assert_str_eq(nf_val_get_str(job->params, "day"), "2026-11-29");
	ck_assert_str_eq(nf_val_get_str(job->params, "cutoff"),
	    "1979-05-27T07:32:00.5Z");
	ck_assert_uint_eq(job->nsteps, 2);
	ck_assert_str_eq(nf_val_get_str(job->steps[0].spec, "cwd"), "/tmp");
	/* Shell text without "{" is not expanded; the default is used. */
	v = nf_val_get(job->steps[0].spec, "argv");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->u.a.items[2]->u.s.p, "echo $i hello");
	ck_assert_ptr_null(job->steps[0].pool);
	demo = nf_config_pool(cfg, "demo");
	ck_assert_ptr_nonnull(demo);
	ck_assert_ptr_eq(job->steps[1].pool, demo);
	ck_assert_int_eq(job->steps[1].enabled, 0);
	/* Expanded in nested tables too. */
	ck_assert_str_eq(nf_val_get_str(nf_val_get(cfg->jobs[2].steps[0].spec,
	    "params"), "x"), "42");
	ck_assert_ptr_null(cfg->jobs[1].schedule);
	ck_assert_ptr_null(cfg->jobs[1].cron);

	/* Paths under the fixture, then the rest of the source tree. */
	text = dump_text(cfg);
	got = subst_dir(text, dir);
	free(text);
	text = got;
	got = subst(text, top_real, "@TOP@");
	free(text);
	if (getenv("NF_GOLDEN_UPDATE") != NULL) {
		FILE *fp = fopen(golden_path, "w");

		ck_assert_ptr_nonnull(fp);
		fputs(got, fp);
		fclose(fp);
	}
	golden = slurp(golden_path);
	ck_assert_msg(golden != NULL, "cannot read %s", golden_path);
	ck_assert_msg(strcmp(golden, got) == 0, "dump differs from %s:\n%s",
	    golden_path, got);

	free(golden);
	free(got);
	free(golden_path);
	free(top_real);
	nf_config_free(cfg);
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* Loading twice gives the same dump: nothing depends on hidden state. */
START_TEST(test_dump_deterministic)
{
	struct nf_errs		 errs;
	struct nf_config	*a, *b;
	char			*dir, *ta, *tb;

	basic_env();
	dir = enter("basic");
	nf_errs_init(&errs);
	a = nf_config_load("nomaflow.toml", 0, &errs);
	b = nf_config_load("./nomaflow.toml", 0, &errs);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ta = dump_text(a);
	tb = dump_text(b);
	ck_assert_str_eq(ta, tb);
	free(ta);
	free(tb);
	nf_config_free(a);
	nf_config_free(b);
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* Every error class, with its position, all reported in one load. */
START_TEST(test_errors_all_reported)
{
	static const char *const want[] = {
		"nomaflow.toml:2:10: python must be an absolute path such as "
		    "\"/usr/bin/python3\", not \"python3\"",
		"nomaflow.toml:3:13: log_level must be one of \"error\", "
		    "\"warn\", \"info\", \"debug\", not \"loud\"",
		"nomaflow.toml:4:1: unknown key \"mystery\" in the top level "
		    "of nomaflow.toml (allowed: state_dir, store, secrets, "
		    "control, worker, policies_dir, jobs_dir, python, "
		    "plugins_dir, log_level, shutdown_grace_seconds, "
		    "log_cap_bytes, pools, retention, role, user, group, web)",
		"nomaflow.toml:7:1: unknown key \"sokcet\" in [control] "
		    "(allowed: socket, mode, group)",
		"nomaflow.toml:8:8: control.mode must be an octal permission "
		    "string such as \"0660\", not \"660x\"",
		"nomaflow.toml:9:9: control.group: no group named "
		    "\"no-such-group-nf\" on this system (create it or fix the "
		    "name)",
		"nomaflow.toml:12:18: worker.max_concurrent must be between 1 "
		    "and 1024, not 0",
		"nomaflow.toml:13:17: worker.grace_seconds must be an integer, "
		    "not a string",
		"nomaflow.toml:16:15: store.synchronous must be \"normal\" or "
		    "\"full\", not \"sometimes\"",
		"nomaflow.toml:22:1: sqlite pool \"nopath\" needs a path (the "
		    "database file)",
		"nomaflow.toml:26:10: pools.odd.driver must be \"sqlite\" or "
		    "\"postgres\", not \"mysql\"",
		/* jobs.d/a.toml */
		"@DIR@/jobs.d/a.toml:2:6: job id \"bad id!\" may only contain "
		    "letters, digits, \"_\" and \"-\"",
		/* column of the bad token "25" inside the string */
		"@DIR@/jobs.d/a.toml:3:15: job \"bad id!\": schedule "
		    "\"0 25 * * *\": *",
		"@DIR@/jobs.d/a.toml:4:12: job \"bad id!\": timezone: *",
		"@DIR@/jobs.d/a.toml:8:8: job \"bad id!\": step \"s1\": step "
		    "type \"ldap_sync\" is not available in this build",
		"@DIR@/jobs.d/a.toml:11:8: job \"bad id!\": duplicate step "
		    "name "
		    "\"s1\" (also at line 6)",
		"@DIR@/jobs.d/a.toml:13:1: job \"bad id!\": step \"s1\": "
		    "unknown key \"argvv\" for a step of type exec (allowed: "
		    "argv, env, cwd, inherit_env, name, type, enabled, "
		    "timeout_seconds, when)",
		"@DIR@/jobs.d/a.toml:10:1: job \"bad id!\": step \"s1\": "
		    "missing required key \"argv\" for a step of type exec",
		"@DIR@/jobs.d/a.toml:17:22: job \"nosteps\": retry.attempts "
		    "must be between 1 and 100, not 0",
		"@DIR@/jobs.d/a.toml:17:35: job \"nosteps\": retry.backoff "
		    "must "
		    "be \"fixed\" or \"exponential\", not \"linear\"",
		"@DIR@/jobs.d/a.toml:18:1: unknown key \"colour\" in job "
		    "\"nosteps\" (allowed: id, description, schedule, "
		    "timezone, "
		    "enabled, tags, params, retry, timeout_seconds, run_as, "
		    "isolation, steps, "
		    "overlap, catchup, catchup_window, jitter, after, "
		    "after_on, presets, every, every_anchor, schedules, "
		    "secret_params, required_params, on_interrupt, "
		    "retention)",
		"@DIR@/jobs.d/a.toml:15:1: job \"nosteps\": has no steps (add "
		    "at least one [[jobs.steps]])",
		"@DIR@/jobs.d/a.toml:26:8: job \"sqljob\": step \"q1\": no "
		    "pool "
		    "named \"missing\" (declare it as [pools.missing] in "
		    "nomaflow.toml)",
		"@DIR@/jobs.d/a.toml:39:1: job \"sqljob\": step \"q3\": has "
		    "both "
		    "sql and query: give the statement inline (sql) or name "
		    "one "
		    "of the pool's queries (query), not both",
		"@DIR@/jobs.d/a.toml:39:9: job \"sqljob\": step \"q3\": pool "
		    "\"nopath\" has no query named \"nope\" (add it under "
		    "[pools.nopath.queries])",
		"@DIR@/jobs.d/a.toml:46:7: job \"sqljob\": step \"e1\": cwd: "
		    "environment variable \"NF_TEST_UNSET_VAR\" is not set "
		    "(set "
		    "it, or write \"${NF_TEST_UNSET_VAR:-default}\")",
		"@DIR@/jobs.d/a.toml:47:9: job \"sqljob\": step \"e1\": env: "
		    "\"A=B\" is not a valid environment variable name",
		"@DIR@/jobs.d/a.toml:45:8: job \"sqljob\": step \"e1\": argv "
		    "must name a program (it is empty)",
		"@DIR@/jobs.d/a.toml:51:8: job \"sqljob\": step \"x\": unknown "
		    "step type \"teleport\" (known: exec, sql_query, sql_copy, "
		    "python, http, call_job)",
		"@DIR@/jobs.d/a.toml:56:22: job \"sqljob\": step \"e2\": argv "
		    "must be an array of strings; this element is an integer",
		"@DIR@/jobs.d/a.toml:57:15: job \"sqljob\": step \"e2\": "
		    "inherit_env must be a boolean, not a string",
		"@DIR@/jobs.d/a.toml:58:19: job \"sqljob\": step \"e2\": "
		    "timeout_seconds must be between 0 and 2592000, not -1",
		/* jobs.d/b.toml */
		"@DIR@/jobs.d/b.toml:3:27: job \"tz-ok\": schedule "
		    "\"*/5 * * * * * 9\": *",
		"@DIR@/jobs.d/b.toml:4:15: job \"tz-ok\": description must be "
		    "a "
		    "string, not an integer",
		"@DIR@/jobs.d/b.toml:10:18: job \"tz-ok\": step \"q\": "
		    "params.ids is an array; only strings, numbers, booleans "
		    "and dates can be bound",
		"@DIR@/jobs.d/b.toml:6:1: job \"tz-ok\": step \"q\": needs sql "
		    "= "
		    "\"...\" (the statement) or query = \"NAME\" (one of the "
		    "pool's queries)",
	};
	struct nf_errs	 errs;
	char		*dir;

	unsetenv("NF_TEST_UNSET_VAR");
	dir = enter("errors");
	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("nomaflow.toml", 0, &errs));
	expect_errs(&errs, dir, want, NF_NELEM(want));
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

START_TEST(test_duplicate_job_ids)
{
	static const char *const want[] = {
		"@DIR@/jobs.d/b.toml:4:6: duplicate job id \"x\": already "
		    "defined at @DIR@/jobs.d/a.toml:1:1 (job ids must be "
		    "unique "
		    "across all job files)",
	};
	struct nf_errs	 errs;
	char		*dir;

	dir = enter("dups");
	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("nomaflow.toml", 0, &errs));
	expect_errs(&errs, dir, want, NF_NELEM(want));
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* [web]: every bad key reported where it is written. */
START_TEST(test_web_errors)
{
	static const char *const want[] = {
		"nomaflow.toml:3:10: web.listen \"localhost:8080\": "
		    "\"localhost\" is not a numeric IPv4 address (write "
		    "127.0.0.1, 0.0.0.0 or [::1])",
		"nomaflow.toml:4:12: web.tls_cert @DIR@/no-such-cert.pem: No "
		    "such file or directory",
		"nomaflow.toml:5:15: web.session_ttl must be between 60 and "
		    "2592000, not 5",
		"nomaflow.toml:6:33: web.trusted_proxies: \"proxy.example\" "
		    "is not a numeric IP address",
		"nomaflow.toml:7:15: web.user_header must be a header name "
		    "(letters, digits, '-'), not \"X Remote\"",
		"nomaflow.toml:8:1: unknown key \"lisen\" in [web] (allowed: "
		    "listen, tls_cert, tls_key, session_ttl, trusted_proxies, "
		    "user_header)",
		"nomaflow.toml:4:1: [web] needs both tls_cert and tls_key for "
		    "TLS, or neither",
		"nomaflow.toml:2:1: [web] has no listen address: set listen = "
		    "\"127.0.0.1:8080\" to turn the web UI on",
	};
	struct nf_errs	 errs;
	char		*dir;

	dir = enter("web");
	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("nomaflow.toml", 0, &errs));
	expect_errs(&errs, dir, want, NF_NELEM(want));
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* [web] loaded and dumped with its defaults; off when absent. */
START_TEST(test_web_dump)
{
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	char			*dir, *text;
	size_t			 len;
	FILE			*fp;

	dir = enter("web-ok");
	nf_errs_init(&errs);
	cfg = nf_config_load("nomaflow.toml", 0, &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n > 0 ? errs.msgs[0] : "?");
	ck_assert_str_eq(cfg->web.host, "::1");
	ck_assert_int_eq(cfg->web.port, 8443);
	ck_assert_int_eq(cfg->web.session_ttl, 3600);
	ck_assert_uint_eq(cfg->web.ntrusted_proxies, 2);
	fp = open_memstream(&text, &len);
	nf_config_dump(cfg, fp);
	fclose(fp);
	ck_assert_msg(strstr(text, "\n[web]\nlisten = \"[::1]:8443\"\n"
	    "session_ttl = 3600\ntrusted_proxies = [\"127.0.0.1\", "
	    "\"::1\"]\nuser_header = \"X-Remote-User\"\n") != NULL, "%s",
	    text);
	free(text);
	nf_config_free(cfg);
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* A TOML syntax error in one file does not hide errors in the others. */
START_TEST(test_syntax_error_and_others)
{
	static const char *const want[] = {
		"nomaflow.toml:2:1: unknown key \"bogus\" in the top level of "
		    "nomaflow.toml (allowed: *",
		"@DIR@/jobs.d/a.toml:2:*",
		"@DIR@/jobs.d/b.toml:1:1: job \"fine\": has no steps (add at "
		    "least one [[jobs.steps]])",
	};
	struct nf_errs	 errs;
	char		*dir;

	dir = enter("syntax");
	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("nomaflow.toml", 0, &errs));
	expect_errs(&errs, dir, want, NF_NELEM(want));
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* Scheduling policy keys, presets and after: every error, in order. */
START_TEST(test_policy_errors)
{
	static const char *const want[] = {
		"@DIR@/jobs.d/a.toml:3:11: job \"a\": overlap must be one of "
		    "\"skip\", \"queue\", \"allow\", \"cancel_previous\", "
		    "not \"sometimes\"",
		"@DIR@/jobs.d/a.toml:5:18: job \"a\": catchup_window \"1h30\" "
		    "is not a duration (write e.g. \"30s\", \"15m\", \"1h30m\" "
		    "or \"2d\")",
		"@DIR@/jobs.d/a.toml:6:10: job \"a\": jitter \"2d1s\" is too "
		    "long (at most 86400 seconds)",
		"@DIR@/jobs.d/a.toml:7:15: job \"a\": after names job \"b\" "
		    "twice",
		"@DIR@/jobs.d/a.toml:8:12: job \"a\": after_on must be one of "
		    "\"success\", \"always\", not \"never\"",
		"@DIR@/jobs.d/a.toml:16:52: job \"a\": preset \"p1\": step "
		    "\"s\": a preset cannot change a step's name",
		"@DIR@/jobs.d/a.toml:16:66: job \"a\": preset \"p1\": steps: "
		    "the job has no step named \"t\"",
		"@DIR@/jobs.d/a.toml:17:1: unknown key \"bogus\" in preset "
		    "\"p1\" of job \"a\" (allowed: name, description, schedule, "
		    "timezone, params, steps)",
		"@DIR@/jobs.d/a.toml:15:12: job \"a\": preset \"p1\": timezone "
		    "without a schedule (a preset's timezone applies to its own "
		    "schedule)",
		"@DIR@/jobs.d/a.toml:19:8: job \"a\": duplicate preset \"p1\" "
		    "(also at line 13)",
		"@DIR@/jobs.d/a.toml:20:13: job \"a\": preset \"p1\": schedule "
		    "\"61 * * * *\": *",
		"@DIR@/jobs.d/a.toml:7:10: job \"a\": after: no job \"b\" "
		    "(after lists job ids of any job file)",
		"@DIR@/jobs.d/a.toml:7:20: job \"a\": after: no job \"nope\" "
		    "(after lists job ids of any job file)",
		"@DIR@/jobs.d/a.toml:7:28: job \"a\": after: a job cannot run "
		    "after itself",
	};
	struct nf_errs	 errs;
	char		*dir;

	dir = enter("policies");
	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("nomaflow.toml", 0, &errs));
	expect_errs(&errs, dir, want, NF_NELEM(want));
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* required_params: known names, and every self-made fire gives them. */
START_TEST(test_required_params)
{
	static const char *const want[] = {
		"@DIR@/jobs.d/a.toml:13:35: job \"cron\": required_params: "
		    "\"bad name\" is not a parameter name (letters, digits, "
		    "\"_\", \"-\")",
		"@DIR@/jobs.d/a.toml:9:1: job \"cron\": parameter \"day\" is "
		    "in both params (with a default) and required_params "
		    "(without one); keep one; required parameter \"when\" has "
		    "no value when the schedule fires it; give it a default in "
		    "params or leave the firing to presets that set it; "
		    "required parameter \"when\" has no value when preset q's "
		    "schedule fires; set it in the preset's params",
	};
	struct nf_errs	 errs;
	char		*dir;

	dir = enter("required");
	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("nomaflow.toml", 0, &errs));
	expect_errs(&errs, dir, want, NF_NELEM(want));
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* [retention] and a job's retention: ranges, types, keys, log_days. */
START_TEST(test_retention)
{
	static const char *const want[] = {
		"nomaflow.toml:5:8: retention.runs must be between 0 and "
		    "100000000, not -1",
		"nomaflow.toml:8:1: unknown key \"keep\" in [retention] "
		    "(allowed: runs, days, log_days)",
		"nomaflow.toml:7:12: retention.log_days (60) is longer than "
		    "retention.days (30): log lines go with their run; lower "
		    "log_days, or leave it out to keep logs as long as runs",
		"@DIR@/jobs.d/a.toml:12:22: job \"bad\": retention.days must "
		    "be an integer, not a string",
		"@DIR@/jobs.d/a.toml:12:40: job \"bad\": retention.log_days "
		    "must be between 0 and 36500, not 36501",
		"@DIR@/jobs.d/a.toml:21:13: job \"notab\": retention must be "
		    "a table, not an integer",
	};
	struct nf_errs	 errs;
	struct nf_config *cfg;
	const struct nf_job *job;
	char		*dir;

	dir = enter("retention");
	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("nomaflow.toml", 0, &errs));
	expect_errs(&errs, dir, want, NF_NELEM(want));
	nf_errs_free(&errs);
	free(dir);

	/* Key by key: what a job leaves out stays -1 (the global value). */
	basic_env();
	dir = enter("basic");
	nf_errs_init(&errs);
	cfg = nf_config_load("nomaflow.toml", 0, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->retention.runs, 1000);
	ck_assert_int_eq(cfg->retention.days, 90);
	ck_assert_int_eq(cfg->retention.log_days, 14);
	job = nf_config_job(cfg, "manual-only");
	ck_assert_int_eq(job->retention.runs, 50);
	ck_assert_int_eq(job->retention.days, -1);
	ck_assert_int_eq(job->retention.log_days, 7);
	job = nf_config_job(cfg, "hourly");
	ck_assert_int_eq(job->retention.runs, -1);
	nf_config_free(cfg);
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* A preset's derived job: params merged, spec overridden, toggles. */
START_TEST(test_presets_derived)
{
	const struct nf_job	*b, *c, *d;
	const struct nf_preset	*p;
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	char			*dir;

	dir = enter("presets");
	nf_errs_init(&errs);
	cfg = nf_config_load("nomaflow.toml", 0, &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n > 0 ? errs.msgs[0] : "?");
	b = nf_config_job(cfg, "b");
	ck_assert_int_eq(b->overlap, NF_OVERLAP_QUEUE);
	ck_assert_int_eq(b->catchup, NF_CATCHUP_LATEST);
	ck_assert_int_eq(b->catchup_window, 7200);
	ck_assert_int_eq(b->jitter, 90);
	ck_assert_ptr_null(nf_config_preset(b, "nope"));
	p = nf_config_preset(b, "full");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p->cron);
	ck_assert_ptr_nonnull(p->tz);
	d = p->job;
	ck_assert_ptr_eq(d->preset, p);
	ck_assert_str_eq(d->id, "b");
	ck_assert_str_eq(nf_val_get_str(d->params, "mode"), "full");
	ck_assert_ptr_null(nf_val_get(b->params, "mode"));
	ck_assert_uint_eq(d->nsteps, 2);
	ck_assert_int_eq(d->steps[0].timeout_seconds, 5);
	ck_assert_int_eq(b->steps[0].timeout_seconds, 0);
	ck_assert_str_eq(nf_val_get(d->steps[0].spec, "argv")->u.a.items[1]->u.s.p,
	    "full");
	ck_assert_str_eq(nf_val_get(b->steps[0].spec, "argv")->u.a.items[0]->u.s.p,
	    "true");
	ck_assert_int_eq(d->steps[1].enabled, 1);
	ck_assert_int_eq(b->steps[1].enabled, 0);
	c = nf_config_job(cfg, "c");
	ck_assert_uint_eq(c->nafter, 1);
	ck_assert_str_eq(c->after[0].job, "b");
	ck_assert_int_eq(c->after_always, 1);
	ck_assert_int_eq(c->overlap, NF_OVERLAP_SKIP);
	ck_assert_int_eq(c->catchup_window, 3600);
	nf_config_free(cfg);
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

START_TEST(test_missing_files)
{
	static const char *const want[] = {
		"nomaflow.toml:2:12: jobs_dir @DIR@/nowhere: No such file or "
		    "directory (create it, even empty, or set jobs_dir)",
	};
	struct nf_errs	 errs;
	char		*dir;

	dir = enter("missing-jobs");
	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("nomaflow.toml", 0, &errs));
	expect_errs(&errs, dir, want, NF_NELEM(want));
	nf_errs_free(&errs);

	nf_errs_init(&errs);
	ck_assert_ptr_null(nf_config_load("no-such-config.toml", 0, &errs));
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "no-such-config.toml"));
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* Relative paths resolve against the config file's directory. */
START_TEST(test_relative_paths)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	const struct nf_job	*job;
	char			*dir, *root, *want;

	unsetenv("NF_TEST_BIN");
	dir = enter(".");
	root = nf_xprintf("%s/relpath", dir);
	nf_errs_init(&errs);
	cfg = nf_config_load("relpath/etc/nomaflow.toml", 0, &errs);
	ck_assert_msg(cfg != NULL, "errors:\n%s", errs_text(&errs, dir));

	want = nf_xprintf("%s/var/lib", root);
	ck_assert_str_eq(cfg->state_dir, want);
	free(want);
	want = nf_xprintf("%s/var/lib/nomaflowd.sock", root);
	ck_assert_str_eq(cfg->socket_path, want);
	free(want);
	want = nf_xprintf("%s/etc/db/nf.db", root);
	ck_assert_str_eq(cfg->store_path, want);
	free(want);
	want = nf_xprintf("%s/jobs", root);
	ck_assert_str_eq(cfg->jobs_dir, want);
	free(want);
	want = nf_xprintf("%s/bin/nomaflow-worker", root);
	ck_assert_str_eq(cfg->worker_path, want);
	free(want);
	want = nf_xprintf("%s/data/local.db", root);
	ck_assert_str_eq(cfg->pools[0].path, want);
	free(want);
	ck_assert_str_eq(cfg->policies_dir, "/usr/share/nomaflow/policies");

	/* Defaults of everything not set. */
	ck_assert_str_eq(cfg->python_path, "/usr/bin/python3");
	ck_assert_int_eq(cfg->max_workers, 8);
	ck_assert_int_eq(cfg->grace_seconds, 5);
	ck_assert_int_eq(cfg->shutdown_grace_seconds, 30);
	ck_assert(cfg->log_cap_bytes == 10 * 1024 * 1024);
	ck_assert_int_eq(cfg->output_max_rows, 100);
	ck_assert_int_eq(cfg->socket_mode, 0660);
	ck_assert_ptr_null(cfg->socket_group);
	ck_assert_int_eq(cfg->log_level, NF_LOG_INFO);
	ck_assert_int_eq(cfg->store_sync_full, 0);
	ck_assert_int_eq(cfg->allow_unsandboxed, 0);
	ck_assert_int_eq(cfg->pools[0].max_concurrent, 0);
	job = nf_config_job(cfg, "one");
	ck_assert_ptr_nonnull(job);
	ck_assert_int_eq(job->enabled, 1);
	ck_assert_str_eq(job->description, "");
	ck_assert_ptr_null(job->schedule);
	ck_assert_ptr_null(job->timezone);
	ck_assert_ptr_null(job->tz);
	ck_assert_ptr_nonnull(job->params);
	ck_assert_int_eq(job->params->type, NF_V_MAP);
	ck_assert_uint_eq(job->params->u.m.n, 0);
	ck_assert_int_eq(job->retry.attempts, 1);
	ck_assert_int_eq(job->retry.backoff, NF_BACKOFF_EXPONENTIAL);
	ck_assert(job->retry.base_seconds == 1.0);
	ck_assert(job->retry.max_seconds == 300.0);
	ck_assert_int_eq(job->timeout_seconds, 0);
	ck_assert_int_eq(job->steps[0].enabled, 1);
	ck_assert_int_eq(job->steps[0].timeout_seconds, 0);
	nf_config_free(cfg);

	/* ${VAR} in a path, absolute after expansion: kept as is. */
	setenv("NF_TEST_BIN", "/opt/nf//bin/", 1);
	cfg = nf_config_load("relpath/etc/nomaflow.toml", 0, &errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->worker_path, "/opt/nf/bin/nomaflow-worker");
	nf_config_free(cfg);
	ck_assert_uint_eq(errs.n, 0);

	nf_errs_free(&errs);
	free(root);
	free(dir);
}
END_TEST

/*
 * check_policies compiles base, relay and each used type's policy: a
 * policies_dir without them fails the load (the same config loads without
 * the check); the repository's own policies compile.
 */
START_TEST(test_check_policies)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	char			*dir;

	dir = enter("relpath");
	nf_errs_init(&errs);
	cfg = nf_config_load("etc/nomaflow.toml", 0, &errs);
	ck_assert_ptr_nonnull(cfg);
	nf_config_free(cfg);
	ck_assert_uint_eq(errs.n, 0);
	if (access("/usr/share/nomaflow/policies", F_OK) != 0) {
		/* base, relay and exec: each missing file is an error. */
		ck_assert_ptr_null(nf_config_load("etc/nomaflow.toml", 1,
		    &errs));
		ck_assert_uint_ge(errs.n, 3);
	}
	nf_errs_free(&errs);
	free(dir);

	basic_env();
	dir = enter("basic");
	nf_errs_init(&errs);
	cfg = nf_config_load("nomaflow.toml", 1, &errs);
	ck_assert_msg(cfg != NULL, "errors:\n%s", errs_text(&errs, dir));
	nf_config_free(cfg);
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/*
 * Errors are appended to the caller's list, and entries already there do
 * not make a valid config fail.
 */
START_TEST(test_errs_appended)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	char			*dir;

	dir = enter("relpath");
	nf_errs_init(&errs);
	nf_errs_add(&errs, NULL, 0, 0, "earlier");
	cfg = nf_config_load("etc/nomaflow.toml", 0, &errs);
	ck_assert_ptr_nonnull(cfg);
	nf_config_free(cfg);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_null(nf_config_load("etc/missing.toml", 0, &errs));
	ck_assert_uint_eq(errs.n, 2);
	ck_assert_str_eq(errs.msgs[0], "earlier");
	nf_errs_free(&errs);
	free(dir);
}
END_TEST

/* The shipped example (the README's quick start) loads, policies too. */
START_TEST(test_examples_load)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	const struct nf_job	*job;
	char			*path, *dir;

	unsetenv("NOMAFLOW_STATE");
	dir = enter(".");
	path = nf_xprintf("%s/../../../examples/nomaflow.toml", dir);
	nf_errs_init(&errs);
	cfg = nf_config_load(path, 1, &errs);
	ck_assert_msg(cfg != NULL, "errors:\n%s", errs_text(&errs, dir));
	ck_assert_ptr_null(cfg->worker_path);
	job = nf_config_job(cfg, "demo");
	ck_assert_ptr_nonnull(job);
	ck_assert_ptr_nonnull(job->cron);
	ck_assert_uint_eq(job->nsteps, 4);
	ck_assert_str_eq(job->steps[0].type, "exec");
	ck_assert_ptr_eq(job->steps[2].pool, nf_config_pool(cfg, "demo"));
	job = nf_config_job(cfg, "nightly-cleanup");
	ck_assert_ptr_nonnull(job);
	ck_assert_ptr_nonnull(job->tz);
	ck_assert_str_eq(job->schedule, "30 2 * * *");
	ck_assert_int_eq(job->retry.attempts, 3);
	ck_assert_int_eq(job->retry.backoff, NF_BACKOFF_EXPONENTIAL);
	nf_config_free(cfg);
	nf_errs_free(&errs);
	free(path);
	free(dir);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");
	tc = tcase_create("config");
	tcase_add_test(tc, test_expand);
	tcase_add_test(tc, test_steptype_registry);
	tcase_add_test(tc, test_basic_golden);
	tcase_add_test(tc, test_dump_deterministic);
	tcase_add_test(tc, test_errors_all_reported);
	tcase_add_test(tc, test_duplicate_job_ids);
	tcase_add_test(tc, test_policy_errors);
	tcase_add_test(tc, test_presets_derived);
	tcase_add_test(tc, test_required_params);
	tcase_add_test(tc, test_retention);
	tcase_add_test(tc, test_syntax_error_and_others);
	tcase_add_test(tc, test_web_errors);
	tcase_add_test(tc, test_web_dump);
	tcase_add_test(tc, test_missing_files);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_check_policies);
	tcase_add_test(tc, test_errs_appended);
	tcase_add_test(tc, test_examples_load);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(config_suite)
