/*
 * check_steptype.c: the step-type registry (supervisor/steptypes.c and
 * one descriptor per type under supervisor/steptypes/): every type has a
 * complete descriptor, an unknown type is rejected with the known ones
 * listed, each descriptor's check rejects a bad field with
 * file:line:col, and each STEP_START fields function, worker choice and
 * pool list says what the worker gets.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "nf_check.h"
#include "steptypes.h"
#include "util.h"
#include "val.h"

/* Every type the worker or the run engine implements. */
static const char *const types[] = {
	"exec", "sql_query", "sql_copy", "python", "http", "call_job", NULL
};

static char	 tmpdir[64];

#define DAEMON	"state_dir = \"state\"\njobs_dir = \"jobs.d\"\n"	\
		"[pools.lite]\ndriver = \"sqlite\"\npath = \"lite.db\"\n" \
		"[pools.lite.queries]\nq = \"SELECT 1\"\n"		\
		"[pools.pg]\ndriver = \"postgres\"\n"			\
		"conninfo = \"host=db dbname=x\"\n"

/* Write nomaflow.toml (DAEMON) and jobs.d/j.toml, and load them. */
static struct nf_config *
load(const char *jobtoml, struct nf_errs *errs)
{
	struct nf_config *cfg;
	FILE		*fp;
	char		*p;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nf-check-steptype.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_int_eq(mkdir("jobs.d", 0755), 0);
	ck_assert_ptr_nonnull(fp = fopen("nomaflow.toml", "w"));
	fputs(DAEMON, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(fp = fopen("jobs.d/j.toml", "w"));
	fputs(jobtoml, fp);
	ck_assert_int_eq(fclose(fp), 0);
	nf_errs_init(errs);
	p = nf_xprintf("%s/nomaflow.toml", tmpdir);
	cfg = nf_config_load(p, 0, errs);
	free(p);
	return cfg;
}

static void
cleanup(void)
{
	unlink("jobs.d/j.toml");
	rmdir("jobs.d");
	unlink("nomaflow.toml");
	ck_assert_int_eq(chdir("/"), 0);
	rmdir(tmpdir);
}

/* Does some error read "<tmpdir>/jobs.d/j.toml:<want>"? */
static int
has_err(const struct nf_errs *errs, const char *want)
{
	char	*full;
	size_t	 i;
	int	 found = 0;

	full = nf_xprintf("%s/jobs.d/j.toml:%s", tmpdir, want);
	for (i = 0; i < errs->n; i++)
		if (strcmp(errs->msgs[i], full) == 0)
			found = 1;
	free(full);
	return found;
}

static const char *
all_errs(const struct nf_errs *errs)
{
	static char	buf[4096];
	size_t		i;

	buf[0] = '\0';
	for (i = 0; i < errs->n; i++) {
		strncat(buf, errs->msgs[i], sizeof(buf) - strlen(buf) - 2);
		strncat(buf, "\n", sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

START_TEST(test_every_type_has_a_descriptor)
{
	const struct nf_steptype *const *all;
	const struct nf_steptype *t;
	const struct nf_steptype_field *f, *g;
	size_t	 i, j, n;

	for (all = nf_steptype_all(), n = 0; all[n] != NULL; n++) {
		t = all[n];
		ck_assert_ptr_nonnull(t->name);
		ck_assert_ptr_eq(nf_steptype_find(t->name), t);
		for (j = 0; j < n; j++)
			ck_assert_str_ne(all[j]->name, t->name);
		ck_assert_ptr_nonnull(t->fields);
		/* Keys unique; at least one required key says what to do. */
		for (f = t->fields, j = 0; f->key != NULL; f++) {
			for (g = t->fields; g < f; g++)
				ck_assert_str_ne(g->key, f->key);
			j += f->required;
		}
		ck_assert_msg(j > 0, "%s: no required key", t->name);
		ck_assert_msg(t->check != NULL, "%s: no check", t->name);
		/* A worker type runs under a policy; call_job has none. */
		if (t->in_supervisor) {
			ck_assert_ptr_null(t->policy);
			ck_assert_ptr_null(t->start_fields);
		} else
			ck_assert_ptr_nonnull(t->policy);
	}
	for (i = 0; types[i] != NULL; i++)
		ck_assert_msg(nf_steptype_find(types[i]) != NULL,
		    "no descriptor for %s", types[i]);
	ck_assert_uint_ge(n, i);
	ck_assert_ptr_null(nf_steptype_find("nope"));
	ck_assert_ptr_null(nf_steptype_find(""));
}
END_TEST

START_TEST(test_unknown_type)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;

	cfg = load("[[jobs]]\nid = \"j\"\n"
	    "[[jobs.steps]]\nname = \"s\"\ntype = \"nope\"\nx = 1\n"
	    "[[jobs.steps]]\nname = \"l\"\ntype = \"ldap_sync\"\n", &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(has_err(&errs, "5:8: job \"j\": step \"s\": unknown "
	    "step type \"nope\" (known: exec, sql_query, sql_copy, python, "
	    "http, call_job)"), "%s", all_errs(&errs));
	/* A type of a later release: the build is old, not the config. */
	ck_assert_msg(has_err(&errs, "9:8: job \"j\": step \"l\": step type "
	    "\"ldap_sync\" is not available in this build"), "%s",
	    all_errs(&errs));
	/* The keys of an unknown type are not judged. */
	ck_assert_uint_eq(errs.n, 2);
	nf_errs_free(&errs);
	cleanup();
}
END_TEST

/* One bad field per type: its check's message and position. */
static const struct {
	const char	*type;
	const char	*keys;	/* the step's keys after name and type */
	const char	*err;	/* "line:col: message" */
} bad[] = {
	{ "exec", "argv = []\n",
	  "6:8: job \"j\": step \"s\": argv must name a program (it is "
	  "empty)" },
	{ "sql_query", "pool = \"lite\"\nquery = \"nope\"\n",
	  "7:9: job \"j\": step \"s\": pool \"lite\" has no query named "
	  "\"nope\" (add it under [pools.lite.queries])" },
	{ "sql_copy", "source = { pool = \"lite\", table = \"a\" }\n"
	  "target = { pool = \"lite\", table = \"b\" }\nbatch_size = 0\n",
	  "8:14: job \"j\": step \"s\": batch_size must be between 1 and "
	  "1000000" },
	{ "python", "callable = \"not a callable\"\n",
	  "6:12: job \"j\": step \"s\": callable \"not a callable\" must be "
	  "\"package.module:function\" (a module importable from "
	  "plugins_dir, a colon, a function in it)" },
	{ "http", "url = \"ftp://example.com/\"\n",
	  "6:7: job \"j\": step \"s\": url must start with http:// or "
	  "https://" },
	{ "call_job", "job = \"other\"\ntimeout_seconds = 5\n",
	  "7:19: job \"j\": step \"s\": a call_job step has no "
	  "timeout_seconds of its own: set timeout_seconds on the called "
	  "job" },
};

START_TEST(test_check_rejects_bad_field)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	char			*toml;

	toml = nf_xprintf("[[jobs]]\nid = \"j\"\n[[jobs.steps]]\n"
	    "name = \"s\"\ntype = \"%s\"\n%s"
	    "[[jobs]]\nid = \"other\"\n[[jobs.steps]]\nname = \"x\"\n"
	    "type = \"exec\"\nargv = [\"/bin/true\"]\n", bad[_i].type,
	    bad[_i].keys);
	cfg = load(toml, &errs);
	free(toml);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(has_err(&errs, bad[_i].err), "%s: got\n%s",
	    bad[_i].type, all_errs(&errs));
	ck_assert_uint_eq(errs.n, 1);
	nf_errs_free(&errs);
	cleanup();
}
END_TEST

/* The step named name of job j in cfg. */
static const struct nf_step *
step(const struct nf_config *cfg, const char *name)
{
	const struct nf_job	*j = nf_config_job(cfg, "j");
	size_t			 i;

	for (i = 0; i < j->nsteps; i++)
		if (strcmp(j->steps[i].name, name) == 0)
			return &j->steps[i];
	ck_abort_msg("no step %s", name);
	return NULL;
}

/* STEP_START fields of step name: a map holding only what the type adds. */
static struct nf_val *
start_fields(const struct nf_config *cfg, const char *name,
    const struct nf_val *run_params)
{
	const struct nf_step	*st = step(cfg, name);
	const struct nf_steptype *t = nf_steptype_find(st->type);
	struct nf_step_start	 ss;
	struct nf_val		*m = nf_val_map();

	ss.cfg = cfg;
	ss.step = st;
	ss.run_params = run_params;
	if (t->start_fields != NULL)
		t->start_fields(m, &ss);
	return m;
}

START_TEST(test_start_fields)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	struct nf_val		*m, *rp;
	const struct nf_val	*p, *pools;
	const struct nf_pool	*out[2];
	const struct nf_steptype *t;

	cfg = load("[[jobs]]\nid = \"j\"\n"
	    "[[jobs.steps]]\nname = \"e\"\ntype = \"exec\"\n"
	    "argv = [\"/bin/true\"]\n"
	    "[[jobs.steps]]\nname = \"q\"\ntype = \"sql_query\"\n"
	    "pool = \"lite\"\nquery = \"q\"\n"
	    "[[jobs.steps]]\nname = \"qpg\"\ntype = \"sql_query\"\n"
	    "pool = \"pg\"\nsql = \"SELECT 1\"\n"
	    "[[jobs.steps]]\nname = \"c\"\ntype = \"sql_copy\"\n"
	    "source = { pool = \"pg\", table = \"a\" }\n"
	    "target = { pool = \"lite\", table = \"b\" }\n"
	    "[[jobs.steps]]\nname = \"c2\"\ntype = \"sql_copy\"\n"
	    "source = { pool = \"lite\", query = \"SELECT 1\" }\n"
	    "target = { pool = \"lite\", table = \"b\" }\n"
	    "[[jobs.steps]]\nname = \"p\"\ntype = \"python\"\n"
	    "callable = \"m.mod:fn\"\npools = [\"pg\"]\n"
	    "[[jobs.steps]]\nname = \"h\"\ntype = \"http\"\n"
	    "url = \"https://example.com/\"\n"
	    "[[jobs.steps]]\nname = \"call\"\ntype = \"call_job\"\n"
	    "job = \"other\"\n"
	    "[[jobs]]\nid = \"other\"\n[[jobs.steps]]\nname = \"x\"\n"
	    "type = \"exec\"\nargv = [\"/bin/true\"]\n", &errs);
	ck_assert_msg(cfg != NULL, "%s", all_errs(&errs));
	rp = nf_val_map();
	nf_val_map_set_str(rp, "day", "2026-01-01");

	/* sql_query: its pool, with the queries the step may name. */
	m = start_fields(cfg, "q", rp);
	ck_assert_uint_eq(m->u.m.n, 1);
	p = nf_val_get(m, "pool");
	ck_assert_str_eq(nf_val_get_str(p, "name"), "lite");
	ck_assert_str_eq(nf_val_get_str(p, "driver"), "sqlite");
	ck_assert_ptr_nonnull(strstr(nf_val_get_str(p, "path"), "lite.db"));
	ck_assert_str_eq(nf_val_get_str(nf_val_get(p, "queries"), "q"),
	    "SELECT 1");
	nf_val_free(m);
	m = start_fields(cfg, "qpg", rp);
	p = nf_val_get(m, "pool");
	ck_assert_str_eq(nf_val_get_str(p, "conninfo"), "host=db dbname=x");
	ck_assert_ptr_null(nf_val_get(p, "path"));
	nf_val_free(m);

	/* sql_copy: both pools by name, once each. */
	m = start_fields(cfg, "c", rp);
	ck_assert_uint_eq(m->u.m.n, 1);
	pools = nf_val_get(m, "pools");
	ck_assert_uint_eq(pools->u.m.n, 2);
	ck_assert_str_eq(nf_val_get_str(nf_val_get(pools, "pg"), "driver"),
	    "postgres");
	ck_assert_str_eq(nf_val_get_str(nf_val_get(pools, "lite"), "driver"),
	    "sqlite");
	nf_val_free(m);
	m = start_fields(cfg, "c2", rp);
	ck_assert_uint_eq(nf_val_get(m, "pools")->u.m.n, 1);
	nf_val_free(m);

	/* python: the trigger's params and the pools it names. */
	m = start_fields(cfg, "p", rp);
	ck_assert_uint_eq(m->u.m.n, 2);
	ck_assert_str_eq(nf_val_get_str(nf_val_get(m, "run_params"), "day"),
	    "2026-01-01");
	pools = nf_val_get(m, "pools");
	ck_assert_uint_eq(pools->u.m.n, 1);
	ck_assert_str_eq(nf_val_get_str(nf_val_get(pools, "pg"), "name"),
	    "pg");
	nf_val_free(m);
	ck_assert_int_eq(nf_steptype_find("python")->reads_outputs, 1);

	/* exec, http: nothing of their own; call_job never starts a worker. */
	m = start_fields(cfg, "e", rp);
	ck_assert_uint_eq(m->u.m.n, 0);
	nf_val_free(m);
	m = start_fields(cfg, "h", rp);
	ck_assert_uint_eq(m->u.m.n, 0);
	nf_val_free(m);
	ck_assert_int_eq(nf_steptype_find("exec")->reads_outputs, 0);

	/* The worker binary: SQLite-only pools need no libpq. */
	t = nf_steptype_find("sql_query");
	ck_assert_str_eq(nf_steptype_worker(t, cfg, step(cfg, "q")),
	    "sqlite");
	ck_assert_str_eq(nf_steptype_worker(t, cfg, step(cfg, "qpg")), "sql");
	t = nf_steptype_find("sql_copy");
	ck_assert_str_eq(nf_steptype_worker(t, cfg, step(cfg, "c")), "sql");
	ck_assert_str_eq(nf_steptype_worker(t, cfg, step(cfg, "c2")),
	    "sqlite");
	ck_assert_ptr_null(nf_steptype_worker(nf_steptype_find("exec"), cfg,
	    step(cfg, "e")));
	ck_assert_str_eq(nf_steptype_worker(nf_steptype_find("http"), cfg,
	    step(cfg, "h")), "http");

	/* The pools whose max_concurrent a step counts against. */
	nf_steptype_pools(t, cfg, step(cfg, "c"), out);
	ck_assert_str_eq(out[0]->name, "pg");
	ck_assert_str_eq(out[1]->name, "lite");
	nf_steptype_pools(t, cfg, step(cfg, "c2"), out);
	ck_assert_str_eq(out[0]->name, "lite");
	ck_assert_ptr_null(out[1]);
	nf_steptype_pools(nf_steptype_find("sql_query"), cfg, step(cfg, "q"),
	    out);
	ck_assert_str_eq(out[0]->name, "lite");
	nf_steptype_pools(nf_steptype_find("exec"), cfg, step(cfg, "e"), out);
	ck_assert_ptr_null(out[0]);
	ck_assert_ptr_null(out[1]);

	/* call_job: the job it calls. */
	t = nf_steptype_find("call_job");
	ck_assert_str_eq(t->callee(step(cfg, "call")), "other");

	nf_val_free(rp);
	nf_config_free(cfg);
	nf_errs_free(&errs);
	cleanup();
}
END_TEST

static Suite *
steptype_suite(void)
{
	Suite	*s = suite_create("steptype");
	TCase	*tc = tcase_create("registry");

	tcase_add_test(tc, test_every_type_has_a_descriptor);
	tcase_add_test(tc, test_unknown_type);
	tcase_add_loop_test(tc, test_check_rejects_bad_field, 0,
	    (int)NF_NELEM(bad));
	tcase_add_test(tc, test_start_fields);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(steptype_suite)
