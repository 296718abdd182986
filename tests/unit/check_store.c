/*
 * check_store.c: unit tests of supervisor/store.c against real SQLite
 * files in a fresh temporary directory per test.  The test opens the file
 * with sqlite3 directly only to plant states the store must cope with
 * (a newer schema) and to look at rows the interface does not read back
 * (audit).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nf_check.h"
#include "store.h"
#include "util.h"
#include "val.h"

static char	 tdir[256];
static char	 dbpath[300];

static void
setup(void)
{
	const char	*t = getenv("TMPDIR");

	snprintf(tdir, sizeof(tdir), "%s/nf-store-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(dbpath, sizeof(dbpath), "%s/store.db", tdir);
}

static void
teardown(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[600];

	nf_store_close();
	if ((d = opendir(tdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tdir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tdir);
}

static void
open_store(void)
{
	ck_assert_msg(nf_store_open(dbpath, 0) == 0, "open: %s",
	    nf_store_error());
}

static void
reopen_store(void)
{
	nf_store_close();
	open_store();
}

static int64_t
add_run(const char *job, enum nf_run_state state, int64_t slot,
    int64_t created)
{
	struct nf_run_rec	 r;
	int64_t			 id;

	memset(&r, 0, sizeof(r));
	r.job_id = job;
	r.state = state;
	r.trigger = slot != 0 ? "cron" : "manual";
	r.triggered_by = slot != 0 ? "cron" : "user:alice";
	r.scheduled_for = slot;
	r.created_at = created;
	id = nf_store_run_insert(&r);
	ck_assert_msg(id > 0, "run insert: %s", nf_store_error());
	return id;
}

static int64_t
add_attempt(int64_t run_id, int idx, const char *step, int attempt)
{
	struct nf_attempt_rec	 a;
	int64_t			 id;

	memset(&a, 0, sizeof(a));
	a.run_id = run_id;
	a.step_idx = idx;
	a.step_name = step;
	a.step_type = "exec";
	a.attempt = attempt;
	id = nf_store_attempt_insert(&a, 1000);
	ck_assert_msg(id > 0, "attempt insert: %s", nf_store_error());
	return id;
}

static int64_t
add_line(int64_t run_id, const char *stream, const char *line)
{
	struct nf_log_rec	 l;

	memset(&l, 0, sizeof(l));
	l.run_id = run_id;
	l.ts = 5000;
	l.step = "extract";
	l.attempt = 1;
	l.stream = stream;
	l.level = "info";
	l.line = line;
	return nf_store_log_append(&l);
}

/* Whole file contents (caller frees), for byte-identity checks. */
static char *
slurp(const char *path, size_t *len)
{
	struct nf_buf	 b;
	char		 chunk[4096];
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY);
	ck_assert_int_ne(fd, -1);
	nf_buf_init(&b);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		nf_buf_add(&b, chunk, (size_t)n);
	ck_assert_int_eq(n, 0);
	close(fd);
	*len = b.len;
	return nf_buf_steal(&b);
}

static int
exists(const char *suffix)
{
	char		 p[400];
	struct stat	 sb;

	snprintf(p, sizeof(p), "%s%s", dbpath, suffix);
	return stat(p, &sb) == 0;
}

/* Run one statement on a separate connection (store closed). */
static void
raw_exec(const char *sql)
{
	sqlite3	*db;
	char	*msg = NULL;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s: %s", sql, msg);
	sqlite3_close(db);
}

static int64_t
raw_int(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int64_t		 v;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

START_TEST(test_names)
{
	ck_assert_str_eq(nf_run_state_name(NF_RUN_CANCELED), "canceled");
	ck_assert_int_eq(nf_run_state_parse("skipped"), NF_RUN_SKIPPED);
	ck_assert_int_eq(nf_run_state_parse("bogus"), -1);
	ck_assert_str_eq(nf_attempt_state_name(NF_ATT_PENDING), "pending");
	ck_assert_str_eq(nf_reason_name(NF_REASON_SANDBOX), "sandbox");
	ck_assert_int_eq(nf_reason_parse("overlap"), NF_REASON_OVERLAP);
	ck_assert_int_eq(nf_reason_parse("nope"), -1);
}
END_TEST

START_TEST(test_create_reopen)
{
	struct stat	 sb;
	struct nf_val	*run;
	char		*hdr;
	size_t		 len;
	int64_t		 id;

	open_store();
	ck_assert_int_eq(stat(dbpath, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	id = add_run("etl", NF_RUN_QUEUED, 0, 100);
	ck_assert_int_eq(nf_store_flush(), 0);
	reopen_store();
	run = nf_store_run_get(id);
	ck_assert_ptr_nonnull(run);
	ck_assert_str_eq(nf_val_get_str(run, "job_id"), "etl");
	ck_assert_str_eq(nf_val_get_str(run, "state"), "queued");
	ck_assert_str_eq(nf_val_get_str(run, "trigger"), "manual");
	ck_assert_int_eq(nf_val_get(run, "scheduled_for")->type, NF_V_NIL);
	nf_val_free(run);
	nf_store_close();
	ck_assert_int_eq(raw_int("SELECT value FROM meta WHERE key = "
	    "'schema_version'"), 6);
	/* Header bytes 18 and 19 are 2 in WAL mode. */
	hdr = slurp(dbpath, &len);
	ck_assert_uint_ge(len, 100);
	ck_assert_int_eq(hdr[18], 2);
	ck_assert_int_eq(hdr[19], 2);
	free(hdr);
}
END_TEST

/*
 * A store of schema version 3 (before UI accounts and retention) is
 * migrated to 5 at open, keeping its rows, and the accounts table works.
 */
START_TEST(test_upgrade_v3_accounts)
{
	struct nf_val	*l;
	char		*hash;
	int64_t		 id;

	open_store();
	id = add_run("etl", NF_RUN_QUEUED, 0, 100);
	nf_store_close();
	raw_exec("DROP TABLE web_accounts; DROP INDEX runs_log_kept; "
	    "ALTER TABLE runs DROP COLUMN log_pruned_at; UPDATE meta SET "
	    "value = '3' WHERE key = 'schema_version';");
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'web_accounts'"), 0);
	reopen_store();
	ck_assert_int_eq(raw_int("SELECT value FROM meta WHERE key = "
	    "'schema_version'"), 6);
	l = nf_store_run_get(id);
	ck_assert_ptr_nonnull(l);
	nf_val_free(l);
	ck_assert_int_eq(nf_store_account_get("alice", &hash), 0);
	ck_assert_ptr_null(hash);
	ck_assert_int_eq(nf_store_account_put("alice", "$argon2id$x", 1000), 0);
	ck_assert_int_eq(nf_store_account_put("bob", "$argon2id$y", 2000), 0);
	ck_assert_int_eq(nf_store_account_put("alice", "$argon2id$z", 3000), 0);
	/* Committed before the call returned: visible to another reader. */
	ck_assert_int_eq(raw_int("SELECT count(*) FROM web_accounts"), 2);
	ck_assert_int_eq(raw_int("SELECT created_at FROM web_accounts WHERE "
	    "name = 'alice'"), 1000);
	ck_assert_int_eq(nf_store_account_get("alice", &hash), 1);
	ck_assert_str_eq(hash, "$argon2id$z");
	free(hash);
	l = nf_store_account_list();
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->u.a.n, 2);
	ck_assert_str_eq(nf_val_get_str(l->u.a.items[0], "name"), "alice");
	ck_assert_int_eq(nf_val_get(l->u.a.items[0], "updated_at")->u.i, 3000);
	ck_assert_ptr_null(nf_val_get(l->u.a.items[0], "hash"));
	nf_val_free(l);
	ck_assert_int_eq(nf_store_account_del("bob"), 1);
	ck_assert_int_eq(nf_store_account_del("bob"), 0);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM web_accounts"), 1);
}
END_TEST

START_TEST(test_close_flushes)
{
	/* Close flushes: a clean stop keeps the last iteration. */
	open_store();
	add_run("etl", NF_RUN_QUEUED, 0, 100);
	nf_store_close();
	ck_assert_int_eq(raw_int("SELECT count(*) FROM runs"), 1);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	char	*before, *after;
	size_t	 blen, alen;

	open_store();
	nf_store_close();
	raw_exec("UPDATE meta SET value = '99' WHERE key = 'schema_version';"
	    "PRAGMA wal_checkpoint(TRUNCATE);");
	before = slurp(dbpath, &blen);
	ck_assert_int_eq(nf_store_open(dbpath, 0), -1);
	ck_assert_ptr_nonnull(strstr(nf_store_error(), "newer"));
	ck_assert_ptr_nonnull(strstr(nf_store_error(), "99"));
	after = slurp(dbpath, &alen);
	ck_assert_uint_eq(blen, alen);
	ck_assert(memcmp(before, after, blen) == 0);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_corrupt_refused)
{
	char	 junk[8192], *after;
	size_t	 i, alen;
	int	 fd;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	fd = open(dbpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	ck_assert_int_eq(nf_store_open(dbpath, 0), -1);
	ck_assert_ptr_nonnull(strstr(nf_store_error(),
	    "file is not a Nomaflow store (SQLITE_NOTADB)"));
	ck_assert_ptr_nonnull(strstr(nf_store_error(), "left untouched"));
	after = slurp(dbpath, &alen);
	ck_assert_uint_eq(alen, sizeof(junk));
	ck_assert(memcmp(junk, after, alen) == 0);
	ck_assert(!exists("-wal"));
	ck_assert(!exists("-journal"));
	free(after);
	/* The store must not have left itself half open. */
	ck_assert_int_eq(nf_store_run_insert(&(struct nf_run_rec){
	    .job_id = "x", .trigger = "manual", .triggered_by = "cron" }), -1);
}
END_TEST

START_TEST(test_foreign_db_refused)
{
	raw_exec("CREATE TABLE t (x); INSERT INTO t VALUES (1);");
	ck_assert_int_eq(nf_store_open(dbpath, 0), -1);
	ck_assert_ptr_nonnull(strstr(nf_store_error(), "not a Nomaflow"));
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master"), 1);
}
END_TEST

START_TEST(test_unique_slot)
{
	struct nf_run_rec	 r;
	int64_t			 a, b, c, m1, m2;

	open_store();
	a = add_run("etl", NF_RUN_QUEUED, 1800000000, 100);
	memset(&r, 0, sizeof(r));
	r.job_id = "etl";
	r.trigger = "cron";
	r.triggered_by = "cron";
	r.scheduled_for = 1800000000;
	r.created_at = 200;
	ck_assert_int_eq(nf_store_run_insert(&r), 0);
	ck_assert_int_eq(nf_store_flush(), 0);
	reopen_store();
	/* Across a restart too, and without poisoning the transaction. */
	ck_assert_int_eq(nf_store_run_insert(&r), 0);
	b = add_run("other", NF_RUN_QUEUED, 1800000000, 300);
	c = add_run("etl", NF_RUN_QUEUED, 1800000060, 400);
	m1 = add_run("etl", NF_RUN_QUEUED, 0, 500);
	m2 = add_run("etl", NF_RUN_QUEUED, 0, 600);
	ck_assert(a < b && b < c && c < m1 && m1 < m2);
	ck_assert_int_eq(nf_store_flush(), 0);
	ck_assert_int_eq(nf_store_last_slot("etl"), 1800000060);
	ck_assert_int_eq(nf_store_last_slot("nosuch"), 0);
}
END_TEST

/* The ledger per (job, preset), and the preset recorded with the run. */
START_TEST(test_last_slot_preset)
{
	struct nf_run_rec	 r;
	struct nf_val		*run;
	int64_t			 id;

	open_store();
	add_run("etl", NF_RUN_SUCCEEDED, 1800000000, 100);
	memset(&r, 0, sizeof(r));
	r.job_id = "etl";
	r.state = NF_RUN_QUEUED;
	r.trigger = "cron";
	r.triggered_by = "cron";
	r.scheduled_for = 1800003600;
	r.created_at = 200;
	r.preset = "full";
	ck_assert_int_gt((id = nf_store_run_insert(&r)), 0);
	/* The same instant under another preset is the same slot. */
	r.preset = "other";
	ck_assert_int_eq(nf_store_run_insert(&r), 0);
	r.scheduled_for = 0;
	r.trigger = "manual";
	ck_assert_int_gt(nf_store_run_insert(&r), 0);
	add_run("etl", NF_RUN_SUCCEEDED, 1800000060, 300);
	ck_assert_int_eq(nf_store_flush(), 0);
	ck_assert_int_eq(nf_store_last_slot_preset("etl", NULL), 1800000060);
	ck_assert_int_eq(nf_store_last_slot_preset("etl", "full"), 1800003600);
	ck_assert_int_eq(nf_store_last_slot_preset("etl", "other"), 0);
	ck_assert_int_eq(nf_store_last_slot_preset("nosuch", NULL), 0);
	ck_assert_int_eq(nf_store_last_slot("etl"), 1800003600);
	run = nf_store_run_get(id);
	ck_assert_str_eq(nf_val_get_str(run, "preset"), "full");
	nf_val_free(run);
}
END_TEST

START_TEST(test_recover)
{
	struct nf_attempt_end	 e;
	struct nf_val		*run, *logs;
	const struct nf_val	*atts, *att;
	int64_t			 ra, rb, rc, aa, ab;

	open_store();
	ra = add_run("a", NF_RUN_QUEUED, 0, 100);
	ck_assert_int_eq(nf_store_run_start(ra, 110), 0);
	aa = add_attempt(ra, 0, "first", 1);
	memset(&e, 0, sizeof(e));
	e.state = NF_ATT_FAILED;
	e.reason = NF_REASON_ERROR;
	e.exit_code = 3;
	e.rows_affected = -1;
	e.finished_at = 120;
	ck_assert_int_eq(nf_store_attempt_finish(aa, &e), 0);
	ab = add_attempt(ra, 0, "first", 2);
	rb = add_run("b", NF_RUN_QUEUED, 0, 200);
	rc = add_run("c", NF_RUN_QUEUED, 0, 300);
	ck_assert_int_eq(nf_store_run_start(rc, 310), 0);
	ck_assert_int_eq(nf_store_run_finish(rc, NF_RUN_SUCCEEDED,
	    NF_REASON_NONE, NULL, 7, 320), 0);
	/* The supervisor dies here: nothing after the flush. */
	ck_assert_int_eq(nf_store_flush(), 0);
	nf_store_close();

	open_store();
	ck_assert_int_eq(nf_store_recover(9999), 2);
	nf_store_close();
	open_store();
	ck_assert_int_eq(nf_store_recover(10000), 0);

	run = nf_store_run_get(ra);
	ck_assert_str_eq(nf_val_get_str(run, "state"), "failed");
	ck_assert_str_eq(nf_val_get_str(run, "reason"), "interrupted");
	ck_assert_ptr_nonnull(strstr(nf_val_get_str(run, "error"),
	    "interrupted"));
	atts = nf_val_get(run, "attempts");
	ck_assert_uint_eq(atts->u.a.n, 2);
	/* The attempt that had ended keeps its own outcome. */
	att = atts->u.a.items[0];
	ck_assert_str_eq(nf_val_get_str(att, "reason"), "error");
	att = atts->u.a.items[1];
	{
		int64_t	 id, fin;

		ck_assert(nf_val_get_int(att, "id", &id) && id == ab);
		ck_assert(nf_val_get_int(att, "finished_at", &fin) &&
		    fin == 9999);
	}
	ck_assert_str_eq(nf_val_get_str(att, "state"), "failed");
	ck_assert_str_eq(nf_val_get_str(att, "reason"), "interrupted");
	ck_assert_str_eq(nf_val_get_str(att, "error"),
	    "interrupted: the supervisor stopped during this attempt");
	nf_val_free(run);

	run = nf_store_run_get(rb);
	ck_assert_str_eq(nf_val_get_str(run, "state"), "failed");
	ck_assert_str_eq(nf_val_get_str(run, "reason"), "interrupted");
	nf_val_free(run);
	run = nf_store_run_get(rc);
	ck_assert_str_eq(nf_val_get_str(run, "state"), "succeeded");
	ck_assert_int_eq(nf_val_get(run, "reason")->type, NF_V_NIL);
	nf_val_free(run);

	/* The operator sees why in the run's log. */
	logs = nf_store_logs_get(ra, 0, 0);
	ck_assert_uint_eq(logs->u.a.n, 1);
	ck_assert_str_eq(nf_val_get_str(logs->u.a.items[0], "stream"),
	    "system");
	nf_val_free(logs);
}
END_TEST

START_TEST(test_crash_keeps_flushed_only)
{
	struct nf_val	*run;
	int64_t		 kept = 0, lost = 0;
	pid_t		 pid;
	int		 status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		/* The supervisor: one committed iteration, then killed. */
		if (nf_store_open(dbpath, 0) != 0)
			_exit(2);
		kept = add_run("etl", NF_RUN_QUEUED, 1800000000, 100);
		if (nf_store_run_start(kept, 110) != 0 ||
		    nf_store_flush() != 0)
			_exit(3);
		lost = add_run("etl", NF_RUN_QUEUED, 1800000060, 200);
		if (lost != kept + 1)
			_exit(4);
		kill(getpid(), SIGKILL);
		_exit(5);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	open_store();
	ck_assert_int_eq(nf_store_recover(300), 1);
	run = nf_store_run_get(1);
	ck_assert_ptr_nonnull(run);
	ck_assert_str_eq(nf_val_get_str(run, "reason"), "interrupted");
	nf_val_free(run);
	ck_assert_ptr_null(nf_store_run_get(2));
	/* The slot that fired is still taken; the lost one fires again. */
	ck_assert_int_eq(nf_store_last_slot("etl"), 1800000000);
}
END_TEST

static size_t
count_markers(const struct nf_val *logs)
{
	const char	*line;
	size_t		 i, n = 0;

	for (i = 0; i < logs->u.a.n; i++) {
		line = nf_val_get_str(logs->u.a.items[i], "line");
		if (strstr(line, "[log truncated: per-run cap of 100 bytes") !=
		    NULL) {
			ck_assert_str_eq(nf_val_get_str(logs->u.a.items[i],
			    "stream"), "system");
			ck_assert_str_eq(nf_val_get_str(logs->u.a.items[i],
			    "level"), "warn");
			n++;
		}
	}
	return n;
}

START_TEST(test_log_cap)
{
	struct nf_val	*logs;
	int64_t		 run, other, seq, last = 0;
	int		 i;

	open_store();
	nf_store_set_log_cap(100);
	run = add_run("etl", NF_RUN_RUNNING, 0, 100);
	other = add_run("etl", NF_RUN_RUNNING, 0, 101);
	for (i = 0; i < 10; i++) {
		seq = add_line(run, "stdout", "0123456789");
		ck_assert_int_gt(seq, last);
		last = seq;
	}
	/* 100 bytes stored: the next byte is over the cap. */
	ck_assert_int_eq(add_line(run, "stdout", "x"), 0);
	ck_assert_int_eq(add_line(run, "stderr", "y"), 0);
	/* Other runs have their own budget; system lines always pass. */
	ck_assert_int_gt(add_line(other, "stdout", "0123456789"), 0);
	ck_assert_int_gt(add_line(run, "system", "step failed: exit 1"), 0);
	ck_assert_int_eq(nf_store_flush(), 0);

	/* The truncation is remembered across a restart. */
	reopen_store();
	nf_store_set_log_cap(100);
	ck_assert_int_eq(add_line(run, "stdout", "z"), 0);
	ck_assert_int_eq(nf_store_flush(), 0);

	logs = nf_store_logs_get(run, 0, 0);
	ck_assert_uint_eq(logs->u.a.n, 12);
	ck_assert_uint_eq(count_markers(logs), 1);
	ck_assert_str_eq(nf_val_get_str(logs->u.a.items[11], "line"),
	    "step failed: exit 1");
	nf_val_free(logs);
	logs = nf_store_logs_get(other, 0, 0);
	ck_assert_uint_eq(logs->u.a.n, 1);
	nf_val_free(logs);
}
END_TEST

START_TEST(test_log_cap_after_finish)
{
	struct nf_val	*logs;
	int64_t		 run;
	int		 i;

	open_store();
	nf_store_set_log_cap(100);
	run = add_run("etl", NF_RUN_RUNNING, 0, 100);
	for (i = 0; i < 9; i++)
		ck_assert_int_gt(add_line(run, "stdout", "0123456789"), 0);
	ck_assert_int_eq(nf_store_run_finish(run, NF_RUN_SUCCEEDED,
	    NF_REASON_NONE, NULL, -1, 200), 0);
	ck_assert_int_eq(nf_store_flush(), 0);
	/* Forgotten from memory after the flush, reloaded from the row. */
	ck_assert_int_gt(add_line(run, "stdout", "0123456789"), 0);
	ck_assert_int_eq(add_line(run, "stdout", "!"), 0);
	ck_assert_int_eq(nf_store_flush(), 0);
	logs = nf_store_logs_get(run, 0, 0);
	ck_assert_uint_eq(logs->u.a.n, 11);
	ck_assert_uint_eq(count_markers(logs), 1);
	nf_val_free(logs);
	/* Appending for a run that does not exist is an error, not a crash. */
	ck_assert_int_eq(add_line(run + 100, "stdout", "a"), -1);
}
END_TEST

START_TEST(test_logs_get_paging)
{
	struct nf_val	*logs;
	int64_t		 run, seq[5], s;
	int		 i;

	open_store();
	run = add_run("etl", NF_RUN_RUNNING, 0, 100);
	for (i = 0; i < 5; i++) {
		char	 line[32];

		snprintf(line, sizeof(line), "line %d", i);
		seq[i] = add_line(run, "stdout", line);
		ck_assert_int_gt(seq[i], 0);
	}
	logs = nf_store_logs_get(run, seq[1], 2);
	ck_assert_uint_eq(logs->u.a.n, 2);
	ck_assert(nf_val_get_int(logs->u.a.items[0], "seq", &s) &&
	    s == seq[2]);
	ck_assert_str_eq(nf_val_get_str(logs->u.a.items[1], "line"),
	    "line 3");
	ck_assert_str_eq(nf_val_get_str(logs->u.a.items[1], "step"),
	    "extract");
	nf_val_free(logs);
	logs = nf_store_logs_get(run, seq[4], 0);
	ck_assert_uint_eq(logs->u.a.n, 0);
	nf_val_free(logs);
}
END_TEST

static int64_t
id_at(const struct nf_val *arr, size_t i)
{
	int64_t	 id;

	ck_assert_uint_gt(arr->u.a.n, i);
	ck_assert(nf_val_get_int(arr->u.a.items[i], "id", &id));
	return id;
}

START_TEST(test_list_filters)
{
	struct nf_store_filter	 f;
	struct nf_val		*l, *last;
	int64_t			 r1, r2, r3, r4, id;
	int			 i;

	open_store();
	r1 = add_run("a", NF_RUN_QUEUED, 0, 1000);
	r2 = add_run("b", NF_RUN_QUEUED, 0, 2000);
	r3 = add_run("a", NF_RUN_QUEUED, 0, 3000);
	r4 = add_run("a", NF_RUN_QUEUED, 0, 4000);
	ck_assert_int_eq(nf_store_run_start(r3, 3001), 0);
	ck_assert_int_eq(nf_store_run_finish(r3, NF_RUN_FAILED,
	    NF_REASON_TIMEOUT, "step load: timed out after 30s", -1, 3002), 0);
	ck_assert_int_eq(nf_store_flush(), 0);

	memset(&f, 0, sizeof(f));
	f.state = -1;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 4);
	ck_assert_int_eq(id_at(l, 0), r4);	/* newest first */
	ck_assert_int_eq(id_at(l, 3), r1);
	nf_val_free(l);

	f.job_id = "a";
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 3);
	ck_assert_int_eq(id_at(l, 0), r4);
	ck_assert_int_eq(id_at(l, 2), r1);
	nf_val_free(l);

	f.state = NF_RUN_FAILED;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 1);
	ck_assert_int_eq(id_at(l, 0), r3);
	ck_assert_str_eq(nf_val_get_str(l->u.a.items[0], "reason"),
	    "timeout");
	nf_val_free(l);

	f.job_id = NULL;
	f.state = NF_RUN_QUEUED;
	f.since = 2000;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 2);
	ck_assert_int_eq(id_at(l, 0), r4);
	ck_assert_int_eq(id_at(l, 1), r2);
	nf_val_free(l);

	f.state = -1;
	f.since = 0;
	f.limit = 2;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 2);
	ck_assert_int_eq(id_at(l, 1), r3);
	nf_val_free(l);

	/* Default limit 50. */
	for (i = 0; i < 60; i++)
		add_run("many", NF_RUN_QUEUED, 0, 5000 + i);
	f.limit = 0;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 50);
	nf_val_free(l);

	last = nf_store_job_last_run("a");
	ck_assert(nf_val_get_int(last, "id", &id) && id == r4);
	nf_val_free(last);
	ck_assert_ptr_null(nf_store_job_last_run("nosuch"));
	ck_assert_ptr_null(nf_store_run_get(999999));
}
END_TEST

START_TEST(test_run_get_roundtrip)
{
	struct nf_run_rec	 r;
	struct nf_attempt_end	 e;
	struct nf_val		*params, *out, *rows, *row, *run;
	const struct nf_val	*att;
	int64_t			 id, aid, v;

	params = nf_val_map();
	nf_val_map_set_str(params, "day", "2026-11-29");
	nf_val_map_set_int(params, "batch", 500);
	nf_val_map_set_bool(params, "dry_run", 1);
	nf_val_map_set(params, "ratio", nf_val_float(0.25));
	nf_val_map_set(params, "none", nf_val_nil());
	nf_val_map_set_str(params, "quote", "a \"q\" \\ \n\t é");
	out = nf_val_map();
	nf_val_map_set_int(out, "rows_affected", 3);
	rows = nf_val_arr();
	row = nf_val_map();
	nf_val_map_set_int(row, "id", 1);
	nf_val_map_set_str(row, "name", "x");
	nf_val_arr_push(rows, row);
	nf_val_map_set(out, "rows", rows);

	open_store();
	memset(&r, 0, sizeof(r));
	r.job_id = "etl";
	r.trigger = "api";
	r.triggered_by = "user:alice";
	r.params = params;
	r.created_at = 100;
	id = nf_store_run_insert(&r);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(nf_store_run_start(id, 110), 0);
	aid = add_attempt(id, 0, "load", 1);
	memset(&e, 0, sizeof(e));
	e.state = NF_ATT_SUCCEEDED;
	e.exit_code = -1;
	e.rows_affected = 3;
	e.output = out;
	e.finished_at = 130;
	ck_assert_int_eq(nf_store_attempt_finish(aid, &e), 0);
	ck_assert_int_eq(nf_store_run_finish(id, NF_RUN_SUCCEEDED,
	    NF_REASON_NONE, NULL, 3, 140), 0);
	ck_assert_int_eq(nf_store_flush(), 0);
	reopen_store();

	run = nf_store_run_get(id);
	ck_assert_ptr_nonnull(run);
	ck_assert(nf_val_equal(nf_val_get(run, "params"), params));
	ck_assert_str_eq(nf_val_get_str(run, "triggered_by"), "user:alice");
	ck_assert(nf_val_get_int(run, "started_at", &v) && v == 110);
	ck_assert(nf_val_get_int(run, "finished_at", &v) && v == 140);
	ck_assert(nf_val_get_int(run, "rows_affected", &v) && v == 3);
	ck_assert_int_eq(nf_val_get(run, "error")->type, NF_V_NIL);
	att = nf_val_get(run, "attempts")->u.a.items[0];
	ck_assert(nf_val_equal(nf_val_get(att, "output"), out));
	ck_assert_str_eq(nf_val_get_str(att, "step"), "load");
	ck_assert_str_eq(nf_val_get_str(att, "type"), "exec");
	ck_assert_str_eq(nf_val_get_str(att, "state"), "succeeded");
	ck_assert_int_eq(nf_val_get(att, "exit_code")->type, NF_V_NIL);
	ck_assert_int_eq(nf_val_get(att, "signal")->type, NF_V_NIL);
	ck_assert_int_eq(nf_val_get(att, "reason")->type, NF_V_NIL);
	nf_val_free(run);
	nf_val_free(params);
	nf_val_free(out);
}
END_TEST

START_TEST(test_audit)
{
	struct nf_audit_rec	 a;
	struct nf_val		*detail;

	open_store();
	detail = nf_val_map();
	nf_val_map_set_str(detail, "param.day", "2026-11-29");
	memset(&a, 0, sizeof(a));
	a.ts = 777;
	a.user = "user:alice";
	a.uid = 1000;
	a.action = "run";
	a.target = "etl";
	a.result = "ok";
	a.detail = detail;
	ck_assert_int_eq(nf_store_audit(&a), 0);
	a.action = "reload";
	a.target = NULL;
	a.result = "jobs.d/bad.toml:3:7: unknown key \"shedule\"";
	a.detail = NULL;
	ck_assert_int_eq(nf_store_audit(&a), 0);
	nf_store_close();
	ck_assert_int_eq(raw_int("SELECT count(*) FROM audit"), 2);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM audit WHERE "
	    "user = 'user:alice' AND uid = 1000 AND action = 'run' AND "
	    "target = 'etl' AND result = 'ok' AND ts = 777 AND "
	    "json_extract(detail, '$.\"param.day\"') = '2026-11-29'"), 1);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM audit WHERE "
	    "action = 'reload' AND target IS NULL AND detail IS NULL AND "
	    "result LIKE 'jobs.d/bad.toml:3:7:%'"), 1);
	nf_val_free(detail);
}
END_TEST

/* Visibility filter of test_list_visible: jobs not starting with "x". */
static int
not_x(void *arg, const char *job_id)
{
	(*(int *)arg)++;
	return job_id[0] != 'x';
}

/* A visibility filter drops rows, and limit counts the rows kept. */
START_TEST(test_list_visible)
{
	struct nf_store_filter	 f;
	struct nf_val		*l;
	int64_t			 r1, r2;
	int			 i, calls = 0;

	open_store();
	r1 = add_run("a", NF_RUN_QUEUED, 0, 1000);
	for (i = 0; i < 20; i++)
		add_run("xhidden", NF_RUN_QUEUED, 0, 2000 + i);
	r2 = add_run("b", NF_RUN_QUEUED, 0, 3000);
	for (i = 0; i < 5; i++)
		add_run("xhidden", NF_RUN_QUEUED, 0, 4000 + i);
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.visible = not_x;
	f.visible_arg = &calls;
	f.limit = 2;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 2);
	ck_assert_int_eq(id_at(l, 0), r2);
	ck_assert_int_eq(id_at(l, 1), r1);
	nf_val_free(l);
	ck_assert_int_eq(calls, 27);
	/* Stops at the limit: the older rows are never read. */
	calls = 0;
	f.limit = 1;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 1);
	ck_assert_int_eq(id_at(l, 0), r2);
	nf_val_free(l);
	ck_assert_int_eq(calls, 6);
	/* With the other filters, and the statement is reusable. */
	f.job_id = "xhidden";
	f.limit = 0;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 0);
	nf_val_free(l);
	f.visible = NULL;
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 25);
	nf_val_free(l);
}
END_TEST

static void
audit_add(int64_t ts, const char *user, const char *action,
    const char *target, const char *result, const char *job)
{
	struct nf_audit_rec	 a;
	struct nf_val		*d = NULL;

	if (job != NULL) {
		d = nf_val_map();
		nf_val_map_set_str(d, "job", job);
	}
	memset(&a, 0, sizeof(a));
	a.ts = ts;
	a.user = user;
	a.uid = 1;
	a.action = action;
	a.target = target;
	a.result = result;
	a.detail = d;
	ck_assert_int_eq(nf_store_audit(&a), 0);
	nf_val_free(d);
}

START_TEST(test_audit_list)
{
	struct nf_audit_filter	 f;
	struct nf_val		*l;
	const struct nf_val	*d;
	int			 i;

	open_store();
	audit_add(1000, "user:alice", "run", "etl", "ok", NULL);
	audit_add(2000, "user:bob", "run", "payroll", "denied", NULL);
	audit_add(3000, "user:alice", "cancel", "17", "ok", "etl");
	audit_add(4000, "user:bob", "reload", NULL, "denied", NULL);
	memset(&f, 0, sizeof(f));
	l = nf_store_audit_list(&f);
	ck_assert_uint_eq(l->u.a.n, 4);
	ck_assert_str_eq(nf_val_get_str(l->u.a.items[0], "action"), "reload");
	ck_assert_int_eq(nf_val_get(l->u.a.items[0], "target")->type, NF_V_NIL);
	d = nf_val_get(l->u.a.items[1], "detail");
	ck_assert_int_eq(d->type, NF_V_MAP);
	ck_assert_str_eq(nf_val_get_str(d, "job"), "etl");
	nf_val_free(l);

	f.user = "bob";
	l = nf_store_audit_list(&f);
	ck_assert_uint_eq(l->u.a.n, 2);
	nf_val_free(l);
	f.user = "user:alice";
	f.job = "etl";		/* its own entry and the cancel of its run */
	l = nf_store_audit_list(&f);
	ck_assert_uint_eq(l->u.a.n, 2);
	ck_assert_str_eq(nf_val_get_str(l->u.a.items[0], "action"), "cancel");
	nf_val_free(l);
	f.since = 2000;
	l = nf_store_audit_list(&f);
	ck_assert_uint_eq(l->u.a.n, 1);
	nf_val_free(l);
	memset(&f, 0, sizeof(f));
	f.limit = 3;
	l = nf_store_audit_list(&f);
	ck_assert_uint_eq(l->u.a.n, 3);
	nf_val_free(l);
	/* A user name with SQL in it is only a value. */
	f.user = "x' OR '1'='1";
	l = nf_store_audit_list(&f);
	ck_assert_uint_eq(l->u.a.n, 0);
	nf_val_free(l);
	for (i = 0; i < 60; i++)
		audit_add(5000 + i, "user:c", "run", "j", "ok", NULL);
	memset(&f, 0, sizeof(f));
	l = nf_store_audit_list(&f);
	ck_assert_uint_eq(l->u.a.n, 50);
	nf_val_free(l);
}
END_TEST

START_TEST(test_job_enabled)
{
	open_store();
	ck_assert_int_eq(nf_store_job_enabled_get("etl"), -1);
	ck_assert_int_eq(nf_store_job_enabled_set("etl", 0), 0);
	ck_assert_int_eq(nf_store_job_enabled_set("other", 1), 0);
	ck_assert_int_eq(nf_store_flush(), 0);
	reopen_store();
	ck_assert_int_eq(nf_store_job_enabled_get("etl"), 0);
	ck_assert_int_eq(nf_store_job_enabled_get("other"), 1);
	ck_assert_int_eq(nf_store_job_enabled_set("etl", 1), 0);
	ck_assert_int_eq(nf_store_flush(), 0);
	reopen_store();
	ck_assert_int_eq(nf_store_job_enabled_get("etl"), 1);
}
END_TEST

START_TEST(test_full_rolls_back)
{
	struct nf_run_rec	 r;
	struct nf_val		*params, *l;
	struct nf_store_filter	 f;
	char			 big[2048];
	int64_t			 kept, id = 0;
	int			 i, ok = 0;

	open_store();
	kept = add_run("kept", NF_RUN_QUEUED, 0, 1);
	ck_assert_int_eq(nf_store_flush(), 0);
	ck_assert_int_eq(nf_store_set_max_size(1), 0);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	params = nf_val_map();
	nf_val_map_set_str(params, "blob", big);
	memset(&r, 0, sizeof(r));
	r.job_id = "lost";
	r.trigger = "manual";
	r.triggered_by = "cron";
	r.params = params;
	/* Fill the capped file within one iteration, then commit. */
	for (i = 0; i < 200 && id != -1; i++) {
		r.created_at = 10 + i;
		if ((id = nf_store_run_insert(&r)) > 0)
			ok++;
	}
	if (id != -1)
		id = nf_store_flush();
	ck_assert_int_eq(id, -1);
	ck_assert_ptr_nonnull(strstr(nf_store_error(), "SQLITE_FULL"));
	ck_assert_ptr_nonnull(strstr(nf_store_error(), "rolled back"));
	ck_assert_int_eq(nf_store_healthy(), 0);
	/* The file holds the last commit; the writes since are kept. */
	memset(&f, 0, sizeof(f));
	f.state = -1;
	f.job_id = "lost";
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, 0);
	nf_val_free(l);
	/* They fitted before the insert that did not: a retry saves them. */
	ck_assert_int_eq(nf_store_retry(), 0);
	ck_assert_int_eq(nf_store_healthy(), 1);
	l = nf_store_runs_list(&f);
	ck_assert_uint_eq(l->u.a.n, ok < 50 ? ok : 50);
	nf_val_free(l);
	l = nf_store_run_get(kept);
	ck_assert_ptr_nonnull(l);
	nf_val_free(l);

	/*
	 * Space comes back: the same handle works again, the kept writes are
	 * replayed first with the ids they had (the failed insert itself was
	 * refused to its caller and is not).
	 */
	ck_assert_int_eq(nf_store_set_max_size(0), 0);
	r.created_at = 999;
	id = nf_store_run_insert(&r);
	ck_assert_int_eq(id, kept + ok + 1);
	ck_assert_int_eq(nf_store_flush(), 0);
	ck_assert_int_eq(nf_store_healthy(), 1);
	nf_store_close();
	ck_assert_int_eq(raw_int("SELECT count(*) FROM runs"), 2 + ok);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM pragma_integrity_check "
	    "WHERE integrity_check = 'ok'"), 1);
	nf_val_free(params);
}
END_TEST

START_TEST(test_busy_is_an_error_not_a_wait)
{
	sqlite3		*other;
	int64_t		 t0;

	open_store();
	ck_assert_int_eq(sqlite3_open(dbpath, &other), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	t0 = nf_mono_ms();
	ck_assert_int_eq(nf_store_job_enabled_set("etl", 0), -1);
	ck_assert_int_lt(nf_mono_ms() - t0, 1000);
	ck_assert_ptr_nonnull(strstr(nf_store_error(), "SQLITE_BUSY"));
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	ck_assert_int_eq(nf_store_job_enabled_set("etl", 0), 0);
	ck_assert_int_eq(nf_store_flush(), 0);
}
END_TEST

START_TEST(test_constraint_keeps_transaction)
{
	struct nf_attempt_rec	 a;
	int64_t			 run;

	open_store();
	run = add_run("etl", NF_RUN_QUEUED, 0, 1);
	memset(&a, 0, sizeof(a));
	a.run_id = run + 1000;	/* no such run */
	a.step_name = "s";
	a.step_type = "exec";
	a.attempt = 1;
	ck_assert_int_eq(nf_store_attempt_insert(&a, 5), -1);
	ck_assert_ptr_nonnull(strstr(nf_store_error(), "SQLITE_CONSTRAINT"));
	ck_assert_int_eq(nf_store_run_start(run + 1000, 5), -1);
	ck_assert_int_eq(nf_store_flush(), 0);
	nf_store_close();
	/* The good write of the same iteration was kept. */
	ck_assert_int_eq(raw_int("SELECT count(*) FROM runs"), 1);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM attempts"), 0);
}
END_TEST

/*
 * A run insert is journaled as its values, not its SQL: a replay after a
 * rollback writes every field back, with the id it had.
 */
START_TEST(test_replay_keeps_run_fields)
{
	struct nf_run_rec	 r;
	struct nf_val		*params, *run;
	char			 big[2048];
	int64_t			 q, sk, id = 0, v;
	int			 i;

	open_store();
	ck_assert_int_eq(nf_store_set_max_size(1), 0);
	params = nf_val_map();
	nf_val_map_set_str(params, "mode", "it's \"quoted\"");
	nf_val_map_set_int(params, "n", 7);
	memset(&r, 0, sizeof(r));
	r.job_id = "etl";
	r.state = NF_RUN_QUEUED;
	r.trigger = "cron";
	r.triggered_by = "cron";
	r.scheduled_for = 1800000000;
	r.params = params;
	r.created_at = 1800000000123LL;
	r.preset = "nightly";
	q = nf_store_run_insert(&r);
	ck_assert_int_gt(q, 0);
	r.state = NF_RUN_SKIPPED;
	r.scheduled_for = 1800000060;
	r.params = NULL;
	r.preset = NULL;
	r.created_at = 1800000060456LL;
	sk = nf_store_run_insert(&r);
	ck_assert_int_eq(sk, q + 1);

	/* Fill the capped file in the same iteration: the commit fails. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nf_val_map_set_str(params, "blob", big);
	r.job_id = "filler";
	r.state = NF_RUN_QUEUED;
	r.scheduled_for = 0;
	r.params = params;
	for (i = 0; i < 200 && id != -1; i++)
		id = nf_store_run_insert(&r);
	if (id != -1)
		id = nf_store_flush();
	ck_assert_int_eq(id, -1);
	ck_assert_int_eq(nf_store_healthy(), 0);
	ck_assert_ptr_null(nf_store_run_get(q));

	ck_assert_int_eq(nf_store_set_max_size(0), 0);
	ck_assert_int_eq(nf_store_retry(), 0);
	ck_assert_int_eq(nf_store_healthy(), 1);
	run = nf_store_run_get(q);
	ck_assert_ptr_nonnull(run);
	ck_assert_str_eq(nf_val_get_str(run, "job_id"), "etl");
	ck_assert_str_eq(nf_val_get_str(run, "state"), "queued");
	ck_assert_str_eq(nf_val_get_str(run, "trigger"), "cron");
	ck_assert_str_eq(nf_val_get_str(run, "preset"), "nightly");
	ck_assert(nf_val_get_int(run, "scheduled_for", &v));
	ck_assert_int_eq(v, 1800000000);
	ck_assert(nf_val_get_int(run, "created_at", &v));
	ck_assert_int_eq(v, 1800000000123LL);
	ck_assert_ptr_null(nf_val_get_str(run, "finished_at"));
	ck_assert(!nf_val_get_int(run, "finished_at", &v));
	ck_assert_str_eq(nf_val_get_str(nf_val_get(run, "params"), "mode"),
	    "it's \"quoted\"");
	ck_assert(nf_val_get_int(nf_val_get(run, "params"), "n", &v));
	ck_assert_int_eq(v, 7);
	nf_val_free(run);
	run = nf_store_run_get(sk);
	ck_assert_ptr_nonnull(run);
	ck_assert_str_eq(nf_val_get_str(run, "state"), "skipped");
	ck_assert_ptr_null(nf_val_get_str(run, "preset"));
	ck_assert(nf_val_get_int(run, "finished_at", &v));
	ck_assert_int_eq(v, 1800000060456LL);
	nf_val_free(run);
	/* The slot ledger came back too. */
	ck_assert_int_eq(nf_store_last_slot_preset("etl", "nightly"),
	    1800000000);
	ck_assert_int_eq(nf_store_last_slot_preset("etl", NULL), 1800000060);
	nf_store_close();
	nf_val_free(params);
}
END_TEST

static void
toggle_cb(void *arg, const char *job_id, int enabled)
{
	char	*seen = arg;
	size_t	 n = strlen(seen);

	snprintf(seen + n, 64 - n, "%s=%d ", job_id, enabled);
}

/*
 * Retention: the selection of nf_store_prune_marks() and the batches of
 * nf_store_prune().
 */

#define DAY	INT64_C(86400000)

/* A finished run of job created at `created` with one attempt, 2 lines. */
static int64_t
add_done_run(const char *job, int64_t created)
{
	int64_t	 id;

	id = add_run(job, NF_RUN_SUCCEEDED, 0, created);
	add_attempt(id, 0, "s", 1);
	ck_assert_int_gt(add_line(id, "stdout", "one"), 0);
	ck_assert_int_gt(add_line(id, "stdout", "two"), 0);
	return id;
}

static int64_t
add_call_child(const char *job, int64_t parent, const char *pjob,
    int64_t created)
{
	struct nf_run_rec	 r;
	char			 by[64];
	int64_t			 id;

	snprintf(by, sizeof(by), "job:%s@%lld", pjob, (long long)parent);
	memset(&r, 0, sizeof(r));
	r.job_id = job;
	r.state = NF_RUN_SUCCEEDED;
	r.trigger = "call_job";
	r.triggered_by = by;
	r.created_at = created;
	id = nf_store_run_insert(&r);
	ck_assert_int_gt(id, 0);
	return id;
}

/* Prune job with policy p to the end in batches of max rows. */
static int
prune_all(const char *job, const struct nf_prune_policy *p, int max,
    int64_t now, struct nf_prune_count *c)
{
	struct nf_store_mark	 rb, lb;
	int			 rc, batches = 0;

	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(nf_store_prune_marks(job, p, &rb, &lb), 0);
	do {
		rc = nf_store_prune(job, &rb, &lb, max, now, c);
		ck_assert_msg(rc != -1, "prune: %s", nf_store_error());
		batches++;
		ck_assert_int_lt(batches, 1000);
	} while (rc == 1);
	return batches;
}

static int64_t
count_where(const char *sql)
{
	ck_assert_int_eq(nf_store_flush(), 0);
	return raw_int(sql);
}

START_TEST(test_prune_by_count)
{
	struct nf_prune_policy	 p = { .keep_runs = 3 };
	struct nf_store_mark	 rb, lb;
	struct nf_prune_count	 dry, c;
	struct nf_val		*run;
	int64_t			 ids[10];
	int			 i;

	open_store();
	for (i = 0; i < 10; i++)
		ids[i] = add_done_run("a", 1000 * (i + 1));
	for (i = 0; i < 3; i++)
		add_done_run("b", 500 * (i + 1));
	ck_assert_int_eq(nf_store_flush(), 0);

	memset(&dry, 0, sizeof(dry));
	ck_assert_int_eq(nf_store_prune_marks("a", &p, &rb, &lb), 0);
	ck_assert_int_eq(nf_store_prune_count("a", &rb, &lb, &dry), 0);
	ck_assert_int_eq(dry.runs, 7);
	ck_assert_int_eq(dry.logs, 0);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs"), 13);

	/* 4 rows a batch: a run (1 + 1 attempt + 2 lines) per batch. */
	ck_assert_int_ge(prune_all("a", &p, 4, 50000, &c), 7);
	ck_assert_int_eq(c.runs, 7);
	ck_assert_int_eq(c.lines, 14);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs WHERE "
	    "job_id = 'a'"), 3);
	ck_assert_int_eq(count_where("SELECT min(id) FROM runs WHERE "
	    "job_id = 'a'"), ids[7]);
	ck_assert_int_eq(count_where("SELECT count(*) FROM attempts"), 6);
	ck_assert_int_eq(count_where("SELECT count(*) FROM logs"), 12);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs WHERE "
	    "job_id = 'b'"), 3);
	/* The kept runs read back whole; a second pass has nothing to do. */
	run = nf_store_run_get(ids[9]);
	ck_assert_ptr_nonnull(run);
	ck_assert_uint_eq(nf_val_get(run, "attempts")->u.a.n, 1);
	nf_val_free(run);
	ck_assert_int_eq(prune_all("a", &p, 500, 50000, &c), 1);
	ck_assert_int_eq(c.runs, 0);
}
END_TEST

START_TEST(test_prune_by_days_keeps_last)
{
	struct nf_prune_policy	 p;
	struct nf_prune_count	 c;
	int64_t			 now = 100 * DAY, last;
	int			 i;

	open_store();
	/* Job a: one run a day for 10 days up to now. */
	for (i = 0; i < 10; i++)
		add_done_run("a", now - (9 - i) * DAY);
	/* Job old: ran twice, long ago; only its last run stays. */
	add_done_run("old", 10 * DAY);
	last = add_done_run("old", 11 * DAY);
	ck_assert_int_eq(nf_store_flush(), 0);

	memset(&p, 0, sizeof(p));
	p.runs_before = now - 3 * DAY;	/* keep 3 days (and the cutoff) */
	prune_all("a", &p, 500, now, &c);
	ck_assert_int_eq(c.runs, 6);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs WHERE "
	    "job_id = 'a'"), 4);
	prune_all("old", &p, 500, now, &c);
	ck_assert_int_eq(c.runs, 1);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs WHERE "
	    "job_id = 'old'"), 1);
	ck_assert_int_eq(count_where("SELECT id FROM runs WHERE "
	    "job_id = 'old'"), last);
	/* Count and age together: the stricter wins. */
	p.keep_runs = 2;
	prune_all("a", &p, 500, now, &c);
	ck_assert_int_eq(c.runs, 2);
}
END_TEST

START_TEST(test_prune_logs_only)
{
	struct nf_prune_policy	 p;
	struct nf_prune_count	 c, dry;
	struct nf_store_mark	 rb, lb;
	struct nf_val		*lines;
	int64_t			 now = 100 * DAY, ids[5];
	int			 i;

	open_store();
	for (i = 0; i < 5; i++)
		ids[i] = add_done_run("a", now - (4 - i) * DAY);
	ck_assert_int_eq(nf_store_flush(), 0);

	memset(&p, 0, sizeof(p));
	p.logs_before = now - 2 * DAY;
	memset(&dry, 0, sizeof(dry));
	ck_assert_int_eq(nf_store_prune_marks("a", &p, &rb, &lb), 0);
	ck_assert(rb.id == 0 && rb.created_at == 0);
	ck_assert_int_eq(nf_store_prune_count("a", &rb, &lb, &dry), 0);
	ck_assert_int_eq(dry.logs, 2);
	prune_all("a", &p, 500, now + 7, &c);
	ck_assert_int_eq(c.runs, 0);
	ck_assert_int_eq(c.logs, 2);
	ck_assert_int_eq(c.lines, 4);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs"), 5);
	ck_assert_int_eq(nf_store_log_pruned_at(ids[0]), now + 7);
	ck_assert_int_eq(nf_store_log_pruned_at(ids[2]), 0);
	lines = nf_store_logs_get(ids[0], 0, 0);
	ck_assert_uint_eq(lines->u.a.n, 0);
	nf_val_free(lines);
	lines = nf_store_logs_get(ids[2], 0, 0);
	ck_assert_uint_eq(lines->u.a.n, 2);
	nf_val_free(lines);
	/* Attempts stay with their run. */
	ck_assert_int_eq(count_where("SELECT count(*) FROM attempts"), 5);
	/* Done once: the next pass finds nothing. */
	prune_all("a", &p, 500, now + 8, &c);
	ck_assert_int_eq(c.logs, 0);
	ck_assert_int_eq(nf_store_log_pruned_at(ids[0]), now + 7);

	/* A log limit on a job whose only run is old: the last run keeps it. */
	ids[0] = add_done_run("one", 1);
	prune_all("one", &p, 500, now, &c);
	ck_assert_int_eq(c.logs, 0);
	ck_assert_int_eq(nf_store_log_pruned_at(ids[0]), 0);
}
END_TEST

START_TEST(test_prune_keeps_active)
{
	struct nf_prune_policy	 p = { .keep_runs = 1 };
	struct nf_prune_count	 c, dry;
	struct nf_store_mark	 rb, lb;
	struct nf_val		*run;
	int64_t			 q, r, parent, done_parent, kept, gone;

	open_store();
	q = add_run("a", NF_RUN_QUEUED, 0, 1000);
	r = add_run("a", NF_RUN_QUEUED, 0, 2000);
	ck_assert_int_eq(nf_store_run_start(r, 2001), 0);
	add_done_run("a", 3000);
	add_done_run("a", 4000);
	/* Children of job c called by a running and a finished parent. */
	parent = add_run("p", NF_RUN_QUEUED, 0, 100);
	ck_assert_int_eq(nf_store_run_start(parent, 101), 0);
	done_parent = add_run("p", NF_RUN_FAILED, 0, 50);
	kept = add_call_child("c", parent, "p", 200);
	gone = add_call_child("c", done_parent, "p", 60);
	add_done_run("c", 9000);
	ck_assert_int_eq(nf_store_flush(), 0);

	memset(&dry, 0, sizeof(dry));
	ck_assert_int_eq(nf_store_prune_marks("a", &p, &rb, &lb), 0);
	ck_assert_int_eq(nf_store_prune_count("a", &rb, &lb, &dry), 0);
	ck_assert_int_eq(dry.runs, 1);
	prune_all("a", &p, 500, 10000, &c);
	ck_assert_int_eq(c.runs, 1);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs WHERE "
	    "job_id = 'a'"), 3);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs WHERE "
	    "state IN ('queued', 'running') AND job_id = 'a'"), 2);
	(void)q;

	prune_all("c", &p, 500, 10000, &c);
	ck_assert_int_eq(c.runs, 1);
	ck_assert_int_eq(count_where("SELECT count(*) FROM runs WHERE "
	    "job_id = 'c'"), 2);
	run = nf_store_run_get(kept);
	ck_assert_ptr_nonnull(run);
	nf_val_free(run);
	ck_assert_ptr_null(nf_store_run_get(gone));
}
END_TEST

START_TEST(test_prune_job_ids)
{
	char	**ids;
	size_t	 n, i;

	open_store();
	ids = nf_store_job_ids(&n);
	ck_assert_ptr_nonnull(ids);
	ck_assert_uint_eq(n, 0);
	free(ids);
	add_run("zeta", NF_RUN_SUCCEEDED, 0, 1);
	add_run("alpha", NF_RUN_SUCCEEDED, 0, 2);
	add_run("alpha", NF_RUN_SUCCEEDED, 0, 3);
	add_run("mid", NF_RUN_SUCCEEDED, 0, 4);
	ids = nf_store_job_ids(&n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ids[0], "alpha");
	ck_assert_str_eq(ids[1], "mid");
	ck_assert_str_eq(ids[2], "zeta");
	ck_assert_ptr_null(ids[3]);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}
END_TEST

/* A store of schema version 4 gains the column; its runs are kept. */
START_TEST(test_migrate_v5)
{
	int64_t	 id;

	open_store();
	id = add_done_run("a", 1000);
	nf_store_close();
	raw_exec("DROP INDEX runs_log_kept; ALTER TABLE runs DROP COLUMN "
	    "log_pruned_at; UPDATE meta SET value = '4' WHERE key = "
	    "'schema_version';");
	open_store();
	ck_assert_int_eq(nf_store_log_pruned_at(id), 0);
	ck_assert_int_eq(count_where("SELECT value FROM meta WHERE key = "
	    "'schema_version'"), 6);
	ck_assert_int_eq(count_where("SELECT count(*) FROM logs"), 2);
}
END_TEST

/*
 * A store of schema version 5 gains the indexes of the runs lists; its
 * runs are kept and listed by job and state.
 */
START_TEST(test_migrate_v6)
{
	struct nf_store_filter	 f;
	struct nf_val		*l;

	open_store();
	add_run("a", NF_RUN_SUCCEEDED, 0, 100);
	add_run("b", NF_RUN_FAILED, 0, 200);
	add_run("a", NF_RUN_FAILED, 0, 300);
	nf_store_close();
	raw_exec("DROP INDEX runs_job_state; DROP INDEX runs_job_id; "
	    "DROP INDEX runs_state_id; DROP INDEX runs_job_state_id; "
	    "UPDATE meta SET value = '5' WHERE key = 'schema_version';");
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE "
	    "name LIKE 'runs_%_id' OR name = 'runs_job_state'"), 0);
	open_store();
	memset(&f, 0, sizeof(f));
	f.job_id = "a";
	f.state = NF_RUN_FAILED;
	l = nf_store_runs_list(&f);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->u.a.n, 1);
	ck_assert_int_eq(nf_val_get(l->u.a.items[0], "created_at")->u.i, 300);
	nf_val_free(l);
	nf_store_close();
	ck_assert_int_eq(raw_int("SELECT value FROM meta WHERE key = "
	    "'schema_version'"), 6);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE "
	    "name LIKE 'runs_%_id' OR name = 'runs_job_state'"), 4);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM runs"), 3);
}
END_TEST

/*
 * Every filter combination of the runs list (nf_store_runs_list: the
 * prepared list ordered by created_at, the keyset list ordered by id) is
 * a search of one index that delivers the rows in order: no full scan of
 * the table, no sort, whatever the history holds.
 */
START_TEST(test_runs_plans)
{
	static const char *const lists[] = {
		"job_id = ?1", "state = ?2", "created_at >= ?3",
		"job_id = ?1 AND state = ?2",
		"job_id = ?1 AND created_at >= ?3",
		"state = ?2 AND created_at >= ?3",
		"job_id = ?1 AND state = ?2 AND created_at >= ?3",
	};
	static const char *const keysets[] = {
		"id < ?7", "job_id = ?1 AND id < ?7", "state = ?2 AND id < ?7",
		"job_id = ?1 AND state = ?2 AND id < ?7",
	};
	char		 sql[512], plan[512];
	sqlite3		*db;
	sqlite3_stmt	*st;
	size_t		 i, j, n;
	const char	*w, *order;

	open_store();
	nf_store_close();
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	for (i = 0; i < NF_NELEM(lists) + NF_NELEM(keysets); i++) {
		if (i < NF_NELEM(lists)) {
			w = lists[i];
			order = "created_at DESC, id DESC";
		} else {
			w = keysets[i - NF_NELEM(lists)];
			order = "id DESC";
		}
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN SELECT * FROM "
		    "runs WHERE %s ORDER BY %s LIMIT ?4", w, order);
		ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
		    SQLITE_OK);
		plan[0] = '\0';
		n = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			j = strlen(plan);
			snprintf(plan + j, sizeof(plan) - j, "%s; ",
			    (const char *)sqlite3_column_text(st, 3));
			n++;
		}
		sqlite3_finalize(st);
		ck_assert_msg(n == 1 && strncmp(plan, "SEARCH runs USING ",
		    18) == 0 && strstr(plan, "TEMP B-TREE") == NULL,
		    "WHERE %s ORDER BY %s: %s", w, order, plan);
		/* Job and state together: the index that has both. */
		if (strstr(w, "job_id") != NULL && strstr(w, "state") != NULL)
			ck_assert_msg(strstr(plan, "(job_id=? AND state=?") !=
			    NULL, "WHERE %s: %s", w, plan);
	}
	sqlite3_close(db);
}
END_TEST

START_TEST(test_job_toggles)
{
	char	seen[64] = "";

	open_store();
	ck_assert_int_eq(nf_store_job_toggles(toggle_cb, seen), 0);
	ck_assert_str_eq(seen, "");
	ck_assert_int_eq(nf_store_job_enabled_set("a", 0), 0);
	ck_assert_int_eq(nf_store_job_enabled_set("b", 1), 0);
	/* The pending transaction's own writes are seen. */
	ck_assert_int_eq(nf_store_job_toggles(toggle_cb, seen), 0);
	ck_assert_str_eq(seen, "a=0 b=1 ");
	ck_assert_int_eq(nf_store_flush(), 0);
	nf_store_close();
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("store");
	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_create_reopen);
	tcase_add_test(tc, test_upgrade_v3_accounts);
	tcase_add_test(tc, test_close_flushes);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_corrupt_refused);
	tcase_add_test(tc, test_foreign_db_refused);
	tcase_add_test(tc, test_unique_slot);
	tcase_add_test(tc, test_last_slot_preset);
	tcase_add_test(tc, test_recover);
	tcase_add_test(tc, test_crash_keeps_flushed_only);
	tcase_add_test(tc, test_log_cap);
	tcase_add_test(tc, test_log_cap_after_finish);
	tcase_add_test(tc, test_logs_get_paging);
	tcase_add_test(tc, test_list_filters);
	tcase_add_test(tc, test_run_get_roundtrip);
	tcase_add_test(tc, test_audit);
	tcase_add_test(tc, test_list_visible);
	tcase_add_test(tc, test_audit_list);
	tcase_add_test(tc, test_job_enabled);
	tcase_add_test(tc, test_full_rolls_back);
	tcase_add_test(tc, test_busy_is_an_error_not_a_wait);
	tcase_add_test(tc, test_constraint_keeps_transaction);
	tcase_add_test(tc, test_replay_keeps_run_fields);
	tcase_add_test(tc, test_job_toggles);
	tcase_add_test(tc, test_prune_by_count);
	tcase_add_test(tc, test_prune_by_days_keeps_last);
	tcase_add_test(tc, test_prune_logs_only);
	tcase_add_test(tc, test_prune_keeps_active);
	tcase_add_test(tc, test_prune_job_ids);
	tcase_add_test(tc, test_migrate_v5);
	tcase_add_test(tc, test_migrate_v6);
	tcase_add_test(tc, test_runs_plans);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(store_suite)
