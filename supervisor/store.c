/*
 * store.c: the durable history of nomaflowd (runs, step attempts, log
 * lines, the audit trail and persisted job toggles) in SQLite.  Runs in
 * nomaflowd only; this is the one supervisor module that includes
 * sqlite3.h, so a PostgreSQL backend can replace it behind store.h.
 *
 * Invariants:
 * - One connection, one process, one thread.  Every statement is prepared
 *   once at open; nothing is prepared on the hot path.
 * - Writes open a transaction lazily (BEGIN) and nf_store_flush()
 *   commits it, once per loop iteration: a transaction never outlives the
 *   iteration that opened it.
 * - A failed write never exits.  An error that poisons the transaction
 *   (busy, full, I/O, ...) rolls back everything pending, so the file
 *   always holds the state of the last successful flush; the handle stays
 *   usable.  A constraint error only undoes its own statement.
 * - Nothing the run engine wrote is lost to a rolled-back transaction: every
 *   write since the last successful commit is kept in a journal (its SQL
 *   with the values bound).  A write that failed itself joins the journal
 *   too, except the inserts of runs and attempts, whose callers give up on
 *   a failure.  From the failure on the store is unhealthy ("pending"):
 *   writes go to the journal without touching the file, and inserts of
 *   runs and attempts are refused (an id could not be known).
 *   nf_store_retry() replays the journal in order, in one transaction, on
 *   the state it was first applied to, so the rowids (run and attempt ids
 *   the engine holds) come out the same; the store is healthy again when
 *   that transaction commits.  Past STORE_JOURNAL_MAX bytes, step log lines
 *   are no longer journaled (they are counted and lost; state changes never
 *   are).
 * - The per-run log usage lives in memory (an open-addressing table keyed
 *   by run id) and is written back to runs.log_bytes at flush time, so the
 *   cap check costs O(1) per line and no extra write per line.
 * - A file that is not ours (not SQLite, another application's database,
 *   a newer schema) is refused before anything is written to it.
 * - Retention deletes in batches (nf_store_prune), each a transaction of
 *   its own opened after the group commit and never journaled: a batch is
 *   in the file whole or not at all, and never touches an active run.
 * - Secrets (rows sealed by secret.c) and UI accounts (password hashes,
 *   webauth.c) are written outside the group commit, each change in a
 *   transaction of its own committed before the call returns, and never
 *   journaled: an operator is told "saved" only once it is on disk, and no
 *   copy of a row outlives a failed write.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fault.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "util.h"
#include "val.h"

/*
 * 0x4e4f4d41, "NOMA", in the SQLite header: tells our files from other
 * databases.  Decimal because the migration SQL spells it.
 */
#define STORE_APP_ID		1313819969
#define STORE_STR(x)		STORE_STR2(x)
#define STORE_STR2(x)		#x
#define STORE_BUSY_MS		100
#define STORE_JOURNAL_MAX	(64u << 20)
#define STORE_DEFAULT_LOG_CAP	(10 * 1024 * 1024)
#define STORE_LIST_DEFAULT	50
#define STORE_LIST_MAX		10000

/*
 * Ordered migrations: migrations[i] takes the schema from version i to
 * i + 1 and runs in its own transaction together with the version bump.
 * Never edit a released entry; append a new one.
 */
static const char *const migrations[] = {
	/* 1: initial schema. */
	"PRAGMA application_id = " STORE_STR(STORE_APP_ID) ";"
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL);"
	/* AUTOINCREMENT: a run id shown to an operator is never reused. */
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" job_id TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('queued', 'running',"
	"  'succeeded', 'failed', 'canceled', 'skipped')),"
	" reason TEXT,"
	" \"trigger\" TEXT NOT NULL,"
	" triggered_by TEXT NOT NULL,"
	" scheduled_for INTEGER,"		/* seconds; NULL: manual */
	" params TEXT,"				/* JSON */
	" created_at INTEGER NOT NULL,"		/* ms */
	" started_at INTEGER,"
	" finished_at INTEGER,"
	" error TEXT,"
	" rows_affected INTEGER,"
	" log_bytes INTEGER NOT NULL DEFAULT 0,"
	" log_truncated INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (job_id, scheduled_for));"
	"CREATE INDEX runs_job ON runs (job_id, created_at);"
	"CREATE INDEX runs_state ON runs (state, created_at);"
	"CREATE INDEX runs_created ON runs (created_at);"
	"CREATE TABLE attempts ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" step_idx INTEGER NOT NULL,"
	" step TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('pending', 'running',"
	"  'succeeded', 'failed', 'canceled', 'skipped')),"
	" reason TEXT,"
	" error TEXT,"
	" exit_code INTEGER,"
	" signal INTEGER,"
	" rows_affected INTEGER,"
	" output TEXT,"				/* JSON */
	" started_at INTEGER,"
	" finished_at INTEGER);"
	"CREATE INDEX attempts_run ON attempts (run_id, step_idx, attempt);"
	/* Only unfinished attempts: what recovery looks for, stays tiny. */
	"CREATE INDEX attempts_active ON attempts (state)"
	" WHERE state IN ('pending', 'running');"
	/*
	 * attempt_id is not a foreign key on purpose: it would need its own
	 * index to keep deletes of attempts cheap, and logs are only ever
	 * read and deleted by run.
	 */
	"CREATE TABLE logs ("
	" seq INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
	" attempt_id INTEGER,"
	" ts INTEGER NOT NULL,"
	" step TEXT,"
	" attempt INTEGER,"
	" stream TEXT NOT NULL,"
	" level TEXT NOT NULL,"
	" line TEXT NOT NULL);"
	"CREATE INDEX logs_run ON logs (run_id, seq);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"
	" user TEXT NOT NULL,"
	" uid INTEGER,"
	" action TEXT NOT NULL,"
	" target TEXT,"
	" result TEXT NOT NULL,"
	" detail TEXT);"			/* JSON */
	"CREATE INDEX audit_ts ON audit (ts);"
	"CREATE TABLE job_state ("
	" job_id TEXT PRIMARY KEY,"
	" enabled INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);",
	/*
	 * 2: the preset a run ran with (NULL: none); the slot ledger of a
	 * preset's own schedule is read per (job_id, preset).
	 */
	"ALTER TABLE runs ADD COLUMN preset TEXT;",
	/*
	 * 3: the secret store (secret.c): only ciphertext, its nonce and the
	 * id of the key that sealed it; never a value in plain text.
	 */
	"CREATE TABLE secrets ("
	" name TEXT PRIMARY KEY,"
	" nonce BLOB NOT NULL,"
	" ciphertext BLOB NOT NULL,"
	" key_id TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"		/* ms */
	" updated_at INTEGER NOT NULL);",
	/*
	 * 4: UI accounts (webauth.c): a crypto_pwhash string (argon2id, its
	 * salt and limits inside), never a password.
	 */
	"CREATE TABLE web_accounts ("
	" name TEXT PRIMARY KEY,"
	" hash TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"		/* ms */
	" updated_at INTEGER NOT NULL);",
	/* 5: retention (retention.c); see migrate_v5_retention. */
	NULL,
	/* 6: indexes for the runs list at scale; see migrate_v6_runs_lists. */
	NULL,
};
#define STORE_SCHEMA_VERSION	((int)NF_NELEM(migrations))

/*
 * 5: retention.  log_pruned_at (ms): when the pruner deleted the run's
 * log lines, keeping the run (NULL: never).  The partial index holds only
 * the runs whose lines are still there, so a pass finds the next ones to
 * prune without walking those it pruned before.  Kept a function of its
 * own so that migrations merged in parallel can be renumbered around it.
 */
static int	 exec_sql(const char *, const char *);

static int
migrate_v5_retention(void)
{
	return exec_sql("ALTER TABLE runs ADD COLUMN log_pruned_at INTEGER;"
	    "CREATE INDEX runs_log_kept ON runs (job_id, created_at)"
	    " WHERE log_pruned_at IS NULL;", "migrate the schema");
}

/*
 * 6: every filter combination of the runs list is a range scan of one
 * index that also delivers the rows in the order asked for, so a page
 * costs its own rows whatever the history holds (bench/scale.sh: 10M
 * runs).  The list orders by (created_at, id): job and state together
 * use runs_job_state (runs_job, runs_state and runs_created serve the
 * others).  The keyset list (before, trigger, until) orders by id:
 * runs_job_id, runs_state_id and runs_job_state_id end with id, so
 * "id < before" bounds the range and no sort is needed.  IF NOT EXISTS:
 * a store an older test or tool marked as version 4 or 5 may already
 * have them.  A function of its own for the same reason as 5.
 */
static int
migrate_v6_runs_lists(void)
{
	return exec_sql("CREATE INDEX IF NOT EXISTS runs_job_state ON runs"
	    " (job_id, state, created_at);"
	    "CREATE INDEX IF NOT EXISTS runs_job_id ON runs (job_id, id);"
	    "CREATE INDEX IF NOT EXISTS runs_state_id ON runs (state, id);"
	    "CREATE INDEX IF NOT EXISTS runs_job_state_id ON runs"
	    " (job_id, state, id);",
	    "migrate the schema");
}

#define RUN_COLS							\
	"id, job_id, state, reason, \"trigger\", triggered_by, "	\
	"scheduled_for, created_at, started_at, finished_at, error, "	\
	"rows_affected, preset"
static const char *const run_keys[] = {
	"id", "job_id", "state", "reason", "trigger", "triggered_by",
	"scheduled_for", "created_at", "started_at", "finished_at", "error",
	"rows_affected", "preset",
};

#define ATT_COLS							\
	"id, step, step_idx, type, attempt, state, reason, error, "	\
	"exit_code, signal, rows_affected, started_at, finished_at, output"
static const char *const att_keys[] = {
	"id", "step", "step_idx", "type", "attempt", "state", "reason",
	"error", "exit_code", "signal", "rows_affected", "started_at",
	"finished_at", "output",
};

#define LOG_COLS	"seq, ts, step, attempt, stream, level, line"

/*
 * What retention never deletes, whatever the marks say: an active run
 * (r), and a call_job child of an active run (triggered_by
 * "job:PARENT@ID"), which its parent's step still reads.
 */
#define PRUNE_KEEP							\
	" AND r.state NOT IN ('queued', 'running')"			\
	" AND NOT (r.\"trigger\" = 'call_job' AND EXISTS (SELECT 1"	\
	"  FROM runs p WHERE p.id = CAST(substr(r.triggered_by,"	\
	"  instr(r.triggered_by, '@') + 1) AS INTEGER)"			\
	"  AND p.state IN ('queued', 'running')))"
static const char *const log_keys[] = {
	"seq", "ts", "step", "attempt", "stream", "level", "line",
};

/* Filters of the run listing: one statement per combination. */
#define LIST_JOB	0x1
#define LIST_STATE	0x2
#define LIST_SINCE	0x4
#define LIST_VARIANTS	8

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_RUN_INSERT,
	ST_RUN_START,
	ST_RUN_FINISH,
	ST_RUN_LOGUSE_GET,
	ST_RUN_LOGUSE_SET,
	ST_ATT_INSERT,
	ST_ATT_FINISH,
	ST_LOG_INSERT,
	ST_AUDIT_INSERT,
	ST_LAST_SLOT,
	ST_LAST_SLOT_PRESET,
	ST_JOB_EN_GET,
	ST_JOB_EN_SET,
	ST_RUN_GET,
	ST_RUN_PARAMS,
	ST_ATT_LIST,
	ST_JOB_LAST,
	ST_LOGS_GET,
	ST_REC_LOGS,
	ST_REC_ATT,
	ST_REC_RUNS,
	ST_PRUNE_NTH,
	ST_PRUNE_RUNS,
	ST_PRUNE_LOGS,
	ST_PRUNE_COUNT_RUNS,
	ST_PRUNE_COUNT_LOGS,
	ST_DEL_LOGS,
	ST_DEL_ATTS,
	ST_DEL_RUN,
	ST_LOG_PRUNED_SET,
	ST_LOG_PRUNED_GET,
	ST_JOB_IDS,
	ST_LIST0,
	ST_COUNT = ST_LIST0 + LIST_VARIANTS
};

static const char *const stmt_sql[ST_LIST0] = {
	/* Deferred: a write that finds the file locked fails itself and
	 * joins the journal, instead of failing before it is bound. */
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_RUN_INSERT] = "INSERT INTO runs (job_id, state, \"trigger\","
	    " triggered_by, scheduled_for, params, created_at, finished_at,"
	    " preset) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	    " ON CONFLICT (job_id, scheduled_for) DO NOTHING",
	[ST_RUN_START] = "UPDATE runs SET state = 'running', started_at = ?2"
	    " WHERE id = ?1 AND state = 'queued'",
	[ST_RUN_FINISH] = "UPDATE runs SET state = ?2, reason = ?3,"
	    " error = ?4, rows_affected = ?5, finished_at = ?6 WHERE id = ?1",
	[ST_RUN_LOGUSE_GET] = "SELECT log_bytes, log_truncated FROM runs"
	    " WHERE id = ?1",
	[ST_RUN_LOGUSE_SET] = "UPDATE runs SET log_bytes = ?2,"
	    " log_truncated = ?3 WHERE id = ?1",
	[ST_ATT_INSERT] = "INSERT INTO attempts (run_id, step_idx, step, type,"
	    " attempt, state, started_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)",
	[ST_ATT_FINISH] = "UPDATE attempts SET state = ?2, reason = ?3,"
	    " error = ?4, exit_code = ?5, signal = ?6, rows_affected = ?7,"
	    " output = ?8, finished_at = ?9 WHERE id = ?1",
	[ST_LOG_INSERT] = "INSERT INTO logs (run_id, attempt_id, ts, step,"
	    " attempt, stream, level, line)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_AUDIT_INSERT] = "INSERT INTO audit (ts, user, uid, action, target,"
	    " result, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_LAST_SLOT] = "SELECT max(scheduled_for) FROM runs"
	    " WHERE job_id = ?1",
	/*
	 * IS: NULL (the job's own schedules) matches NULL.  Walks the
	 * UNIQUE (job_id, scheduled_for) index from the newest slot down
	 * and stops at the first run of that preset.
	 */
	[ST_LAST_SLOT_PRESET] = "SELECT scheduled_for FROM runs"
	    " WHERE job_id = ?1 AND preset IS ?2 AND scheduled_for IS NOT NULL"
	    " ORDER BY scheduled_for DESC LIMIT 1",
	[ST_JOB_EN_GET] = "SELECT enabled FROM job_state WHERE job_id = ?1",
	[ST_JOB_EN_SET] = "INSERT INTO job_state (job_id, enabled, updated_at)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (job_id) DO UPDATE"
	    " SET enabled = excluded.enabled, updated_at = excluded.updated_at",
	[ST_RUN_GET] = "SELECT " RUN_COLS " FROM runs WHERE id = ?1",
	[ST_RUN_PARAMS] = "SELECT params FROM runs WHERE id = ?1",
	[ST_ATT_LIST] = "SELECT " ATT_COLS " FROM attempts WHERE run_id = ?1"
	    " ORDER BY step_idx, attempt, id",
	[ST_JOB_LAST] = "SELECT " RUN_COLS " FROM runs WHERE job_id = ?1"
	    " ORDER BY created_at DESC, id DESC LIMIT 1",
	[ST_LOGS_GET] = "SELECT " LOG_COLS " FROM logs"
	    " WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
	/* Recovery: a visible line first, while the runs are still active. */
	[ST_REC_LOGS] = "INSERT INTO logs (run_id, ts, stream, level, line)"
	    " SELECT id, ?1, 'system', 'error', ?2 FROM runs"
	    " WHERE state IN ('queued', 'running')",
	[ST_REC_ATT] = "UPDATE attempts SET state = 'failed',"
	    " reason = 'interrupted', finished_at = ?1, error = ?2"
	    " WHERE state IN ('pending', 'running')",
	[ST_REC_RUNS] = "UPDATE runs SET state = 'failed',"
	    " reason = 'interrupted', finished_at = ?1, error = ?2"
	    " WHERE state IN ('queued', 'running')",
	/*
	 * Retention.  Every statement walks the runs_job index (job_id,
	 * created_at, then the rowid) from one end; (created_at, id) is the
	 * order of "newest" everywhere (ST_JOB_LAST).
	 */
	[ST_PRUNE_NTH] = "SELECT created_at, id FROM runs WHERE job_id = ?1"
	    " ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?2",
	/* Oldest first, below the mark, but PRUNE_KEEP. */
	[ST_PRUNE_RUNS] = "SELECT r.id FROM runs r WHERE r.job_id = ?1"
	    " AND r.created_at <= ?2 AND (r.created_at, r.id) < (?2, ?3)"
	    PRUNE_KEEP " ORDER BY r.created_at, r.id LIMIT ?4",
	/* The partial index runs_log_kept: only runs that still have lines. */
	[ST_PRUNE_LOGS] = "SELECT id FROM runs WHERE job_id = ?1"
	    " AND log_pruned_at IS NULL"
	    " AND created_at <= ?2 AND (created_at, id) < (?2, ?3)"
	    " AND state NOT IN ('queued', 'running')"
	    " ORDER BY created_at, id LIMIT ?4",
	[ST_PRUNE_COUNT_RUNS] = "SELECT count(*) FROM runs r"
	    " WHERE r.job_id = ?1"
	    " AND r.created_at <= ?2 AND (r.created_at, r.id) < (?2, ?3)"
	    PRUNE_KEEP,
	/* Not below the runs' bound (?4, ?5): those go whole. */
	[ST_PRUNE_COUNT_LOGS] = "SELECT count(*) FROM runs WHERE job_id = ?1"
	    " AND log_pruned_at IS NULL"
	    " AND created_at <= ?2 AND (created_at, id) < (?2, ?3)"
	    " AND (created_at, id) >= (?4, ?5)"
	    " AND state NOT IN ('queued', 'running')",
	[ST_DEL_LOGS] = "DELETE FROM logs WHERE run_id = ?1",
	[ST_DEL_ATTS] = "DELETE FROM attempts WHERE run_id = ?1",
	[ST_DEL_RUN] = "DELETE FROM runs WHERE id = ?1"
	    " AND state NOT IN ('queued', 'running')",
	[ST_LOG_PRUNED_SET] = "UPDATE runs SET log_pruned_at = ?2"
	    " WHERE id = ?1",
	[ST_LOG_PRUNED_GET] = "SELECT log_pruned_at FROM runs WHERE id = ?1",
	/* Distinct job ids by skipping through runs_job: one seek per job. */
	[ST_JOB_IDS] = "WITH RECURSIVE j (id) AS ("
	    " SELECT min(job_id) FROM runs UNION ALL"
	    " SELECT (SELECT min(job_id) FROM runs WHERE job_id > j.id)"
	    " FROM j WHERE j.id IS NOT NULL)"
	    " SELECT id FROM j WHERE id IS NOT NULL",
};

/*
 * A run insert as the journal keeps it: its values, bound again to
 * ST_RUN_INSERT at replay.  Expanding its SQL text cost a fifth of the
 * insert, the write a burst of due slots is made of; the other writes
 * keep their SQL text.
 */
struct jrun {
	const char	*job_id, *state, *trigger, *triggered_by, *params;
	const char	*preset;
	int64_t		 scheduled_for;	/* 0: NULL */
	int64_t		 created_at;
	int64_t		 finished_at;	/* -1: NULL */
};

/* One journaled write. */
struct jent {
	char		*sql;		/* sqlite3_free()d; NULL: a run */
	struct jrun	*run;		/* one allocation with its strings */
};

/* Per-run log usage, cached; see the invariants above. */
struct logu {
	int64_t		 run_id;	/* 0: free slot */
	int64_t		 bytes;
	unsigned char	 truncated;
	unsigned char	 dirty;		/* differs from runs.log_bytes */
	unsigned char	 done;		/* run finished: drop after flush */
};

static struct {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*st[ST_COUNT];
	int		 in_tx;
	int64_t		 log_cap;
	struct logu	*lu;
	size_t		 lu_cap;	/* power of two, or 0 */
	size_t		 lu_n;
	size_t		 lu_done;
	char		 err[1024];
	struct jent	*jr;		/* journal: writes since the last commit */
	size_t		 jr_n, jr_cap, jr_bytes;
	const struct jrun *jr_run;	/* the run insert being written */
	int64_t		 jr_lost;	/* log lines not journaled (full) */
	int		 unhealthy;	/* a transaction was rolled back */
} S = { .log_cap = STORE_DEFAULT_LOG_CAP };

/* Unhealthy and not replaying: writes are only journaled. */
#define PENDING()	(S.unhealthy && !S.in_tx)

static const char *const run_state_names[] = {
	[NF_RUN_QUEUED] = "queued",
	[NF_RUN_RUNNING] = "running",
	[NF_RUN_SUCCEEDED] = "succeeded",
	[NF_RUN_FAILED] = "failed",
	[NF_RUN_CANCELED] = "canceled",
	[NF_RUN_SKIPPED] = "skipped",
};

static const char *const att_state_names[] = {
	[NF_ATT_PENDING] = "pending",
	[NF_ATT_RUNNING] = "running",
	[NF_ATT_SUCCEEDED] = "succeeded",
	[NF_ATT_FAILED] = "failed",
	[NF_ATT_CANCELED] = "canceled",
	[NF_ATT_SKIPPED] = "skipped",
};

static const char *const reason_names[] = {
	[NF_REASON_NONE] = "none",
	[NF_REASON_ERROR] = "error",
	[NF_REASON_TIMEOUT] = "timeout",
	[NF_REASON_CRASH] = "crash",
	[NF_REASON_SANDBOX] = "sandbox",
	[NF_REASON_PROTOCOL] = "protocol",
	[NF_REASON_INTERRUPTED] = "interrupted",
	[NF_REASON_CANCELED] = "canceled",
	[NF_REASON_OVERLAP] = "overlap",
};

const char *
nf_run_state_name(enum nf_run_state s)
{
	if ((unsigned)s >= NF_NELEM(run_state_names))
		nf_panic("nf_run_state_name: bad run state %d", (int)s);
	return run_state_names[s];
}

int
nf_run_state_parse(const char *s)
{
	size_t	 i;

	for (i = 0; i < NF_NELEM(run_state_names); i++)
		if (strcmp(s, run_state_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
nf_attempt_state_name(enum nf_attempt_state s)
{
	if ((unsigned)s >= NF_NELEM(att_state_names))
		nf_panic("nf_attempt_state_name: bad attempt state %d", (int)s);
	return att_state_names[s];
}

const char *
nf_reason_name(enum nf_reason r)
{
	if ((unsigned)r >= NF_NELEM(reason_names))
		nf_panic("nf_reason_name: bad reason %d", (int)r);
	return reason_names[r];
}

int
nf_reason_parse(const char *s)
{
	size_t	 i;

	for (i = 0; i < NF_NELEM(reason_names); i++)
		if (strcmp(s, reason_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * Errors.
 */

static const char *
rc_name(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:	return "SQLITE_BUSY";
	case SQLITE_LOCKED:	return "SQLITE_LOCKED";
	case SQLITE_NOMEM:	return "SQLITE_NOMEM";
	case SQLITE_READONLY:	return "SQLITE_READONLY";
	case SQLITE_IOERR:	return "SQLITE_IOERR";
	case SQLITE_CORRUPT:	return "SQLITE_CORRUPT";
	case SQLITE_FULL:	return "SQLITE_FULL";
	case SQLITE_CANTOPEN:	return "SQLITE_CANTOPEN";
	case SQLITE_CONSTRAINT:	return "SQLITE_CONSTRAINT";
	case SQLITE_NOTADB:	return "SQLITE_NOTADB";
	case SQLITE_PERM:	return "SQLITE_PERM";
	case SQLITE_TOOBIG:	return "SQLITE_TOOBIG";
	default:		return "SQLITE_ERROR";
	}
}

/* What an operator can do about it. */
static const char *
rc_hint(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "another process holds a lock on the store (a second "
		    "nomaflowd, or a sqlite3 shell left in a transaction?)";
	case SQLITE_FULL:
		return "the disk (or the configured store size limit) is full; "
		    "free space";
	case SQLITE_IOERR:
		return "the disk reported an I/O error; check the kernel log";
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		return "check that the file and its directory are writable by "
		    "nomaflowd";
	case SQLITE_CORRUPT:
		return "the file is damaged; stop nomaflowd and restore a "
		    "backup";
	default:
		return NULL;
	}
}

static void __attribute__((format(printf, 1, 2)))
set_err(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(S.err, sizeof(S.err), fmt, ap);
	va_end(ap);
	nf_warnx("%s", S.err);
}

static void
lu_clear(void)
{
	if (S.lu != NULL)
		memset(S.lu, 0, S.lu_cap * sizeof(*S.lu));
	S.lu_n = S.lu_done = 0;
}

/*
 * Give up the pending transaction: the file keeps the state of the last
 * successful flush.  The in-memory log usage may count lines that are now
 * gone, so it is dropped and reloaded from the rows on demand.
 */
static void
tx_abort(void)
{
	int	 rc;

	if (S.db != NULL && !sqlite3_get_autocommit(S.db)) {
		sqlite3_reset(S.st[ST_ROLLBACK]);
		rc = sqlite3_step(S.st[ST_ROLLBACK]);
		sqlite3_reset(S.st[ST_ROLLBACK]);
		if (rc != SQLITE_DONE)
			nf_warnx("store %s: rollback failed: %s", S.path,
			    sqlite3_errmsg(S.db));
	}
	S.in_tx = 0;
	lu_clear();
}

/*
 * Record a failed statement.  Errors that leave the transaction in doubt
 * roll back everything pending; a constraint error (a bad id from the
 * caller) only undid its own statement and the transaction goes on.
 */
static void
sql_fail(int rc, const char *what)
{
	const char	*hint;
	int		 prim = rc & 0xff;
	int		 aborted = 0;

	if (prim != SQLITE_CONSTRAINT && prim != SQLITE_MISMATCH &&
	    prim != SQLITE_TOOBIG && prim != SQLITE_RANGE) {
		aborted = S.in_tx;
		S.unhealthy = 1;
		tx_abort();
	} else if (S.in_tx && sqlite3_get_autocommit(S.db)) {
		/* SQLite rolled back on its own. */
		aborted = 1;
		S.in_tx = 0;
		lu_clear();
	}
	hint = rc_hint(rc);
	set_err("store %s: %s: %s (%s)%s%s%s", S.path, what,
	    sqlite3_errmsg(S.db), rc_name(rc),
	    aborted ? "; the changes of this loop iteration were rolled back" :
	    "", hint != NULL ? "; " : "", hint != NULL ? hint : "");
}

/*
 * Statement helpers.  Every use ends with stmt_done() so that no
 * statement stays active (an active read would pin the WAL) and bound
 * strings are released.
 */

static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* JSON text of v; SQLite frees it when the binding is cleared. */
static void
bind_json(sqlite3_stmt *st, int i, const struct nf_val *v)
{
	char	*s;

	if (v == NULL) {
		sqlite3_bind_null(st, i);
		return;
	}
	s = nf_json_text(v, -1);
	sqlite3_bind_text(st, i, s, -1, free);
}

/* Bind an integer, or NULL when it equals the "n/a" value. */
static void
bind_int_or_null(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v == none)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static void
bind_reason(sqlite3_stmt *st, int i, enum nf_reason r)
{
	if (r == NF_REASON_NONE)
		sqlite3_bind_null(st, i);
	else
		bind_text(st, i, nf_reason_name(r));
}

static void
run_bind(sqlite3_stmt *st, const struct jrun *r)
{
	bind_text(st, 1, r->job_id);
	bind_text(st, 2, r->state);
	bind_text(st, 3, r->trigger);
	bind_text(st, 4, r->triggered_by);
	bind_int_or_null(st, 5, r->scheduled_for, 0);
	bind_text(st, 6, r->params);
	sqlite3_bind_int64(st, 7, r->created_at);
	bind_int_or_null(st, 8, r->finished_at, -1);
	bind_text(st, 9, r->preset);
}

/* Copy a string of r into the block at *p. */
static const char *
jrun_str(char **p, const char *s)
{
	char	*d = *p;
	size_t	 len;

	if (s == NULL)
		return NULL;
	len = strlen(s) + 1;
	memcpy(d, s, len);
	*p += len;
	return d;
}

/* r and its strings in one allocation; *size gets its size. */
static struct jrun *
jrun_copy(const struct jrun *r, size_t *size)
{
	const char *const strs[] = { r->job_id, r->state, r->trigger,
	    r->triggered_by, r->params, r->preset };
	struct jrun	*c;
	size_t		 i, len = sizeof(*c);
	char		*p;

	for (i = 0; i < NF_NELEM(strs); i++)
		if (strs[i] != NULL)
			len += strlen(strs[i]) + 1;
	c = nf_xmalloc(len);
	*c = *r;
	p = (char *)(c + 1);
	c->job_id = jrun_str(&p, r->job_id);
	c->state = jrun_str(&p, r->state);
	c->trigger = jrun_str(&p, r->trigger);
	c->triggered_by = jrun_str(&p, r->triggered_by);
	c->params = jrun_str(&p, r->params);
	c->preset = jrun_str(&p, r->preset);
	*size = len;
	return c;
}

/*
 * The journal (see the invariants above).  The SQL text of a statement
 * with its values bound is what sqlite3_expanded_sql() returns; a run
 * insert keeps its values (struct jrun).
 */
static void
journal_add(sqlite3_stmt *st)
{
	struct jent	 e;
	size_t		 len;

	if (st == S.st[ST_LOG_INSERT] && S.jr_bytes > STORE_JOURNAL_MAX) {
		S.jr_lost++;
		return;
	}
	if (st == S.st[ST_RUN_INSERT] && S.jr_run != NULL) {
		e.sql = NULL;
		e.run = jrun_copy(S.jr_run, &len);
	} else {
		if ((e.sql = sqlite3_expanded_sql(st)) == NULL)
			nf_fatalx("store: out of memory keeping the write "
			    "journal");
		e.run = NULL;
		len = strlen(e.sql);
	}
	if (S.jr_n == S.jr_cap) {
		S.jr_cap = S.jr_cap == 0 ? 64 : S.jr_cap * 2;
		S.jr = nf_xreallocarray(S.jr, S.jr_cap, sizeof(*S.jr));
	}
	S.jr[S.jr_n++] = e;		/* freed by journal_clear() */
	S.jr_bytes += len;
}

static void
journal_clear(void)
{
	size_t	 i;

	for (i = 0; i < S.jr_n; i++) {
		sqlite3_free(S.jr[i].sql);
		free(S.jr[i].run);
	}
	S.jr_n = S.jr_bytes = 0;
	S.jr_lost = 0;
}

/*
 * Re-apply the writes of the transactions that were rolled back, at the
 * start of a new one.  Called with the transaction just opened.
 */
static int
journal_replay(void)
{
	char	 what[96];
	size_t	 i;
	int	 rc;

	for (i = 0; i < S.jr_n; i++) {
		if (S.jr[i].run != NULL) {
			run_bind(S.st[ST_RUN_INSERT], S.jr[i].run);
			rc = sqlite3_step(S.st[ST_RUN_INSERT]);
			stmt_done(S.st[ST_RUN_INSERT]);
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
		} else
			rc = sqlite3_exec(S.db, S.jr[i].sql, NULL, NULL, NULL);
		/* A replayed statement that fails on its own account again
		 * (a constraint) failed the first time too: skip it. */
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_CONSTRAINT) {
			snprintf(what, sizeof(what), "replay %zu write%s kept "
			    "since the last commit", S.jr_n,
			    S.jr_n == 1 ? "" : "s");
			sql_fail(rc, what);
			return -1;
		}
	}
	if (S.jr_lost > 0)
		nf_warnx("store %s: %lld step log line%s written while the "
		    "store could not commit were lost", S.path,
		    (long long)S.jr_lost, S.jr_lost == 1 ? "" : "s");
	S.jr_lost = 0;
	return 0;
}

/* Lazily open the loop iteration's transaction. */
static int
tx_begin(const char *what)
{
	int	 rc;

	if (S.db == NULL) {
		snprintf(S.err, sizeof(S.err), "store: %s: the store is not "
		    "open", what);
		nf_warnx("%s", S.err);
		return -1;
	}
	if (S.in_tx || PENDING())
		return 0;
	rc = sqlite3_step(S.st[ST_BEGIN]);
	sqlite3_reset(S.st[ST_BEGIN]);
	if (rc != SQLITE_DONE) {
		sql_fail(rc, what);
		return -1;
	}
	S.in_tx = 1;
	return 0;
}

/* Run a write statement to completion inside the transaction. */
static int
write_step(sqlite3_stmt *st, const char *what)
{
	int	 rc;

	if (PENDING()) {
		if (st == S.st[ST_RUN_INSERT] || st == S.st[ST_ATT_INSERT]) {
			/* S.err still says why the store cannot write. */
			stmt_done(st);
			return -1;
		}
		journal_add(st);
		stmt_done(st);
		return 0;
	}
	rc = sqlite3_step(st);
	/* While replaying, the journal already holds what is replayed. */
	if (!S.unhealthy && (rc == SQLITE_DONE ||
	    (st != S.st[ST_RUN_INSERT] && st != S.st[ST_ATT_INSERT] &&
	    (rc & 0xff) != SQLITE_CONSTRAINT)))
		journal_add(st);
	stmt_done(st);
	if (rc != SQLITE_DONE) {
		sql_fail(rc, what);
		return -1;
	}
	return 0;
}

/*
 * Log usage table.
 */

static size_t
lu_slot(int64_t run_id)
{
	uint64_t	 h = (uint64_t)run_id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (S.lu_cap - 1);
}

static struct logu *
lu_find(int64_t run_id)
{
	size_t	 i;

	if (S.lu_cap == 0)
		return NULL;
	for (i = lu_slot(run_id); S.lu[i].run_id != 0;
	    i = (i + 1) & (S.lu_cap - 1))
		if (S.lu[i].run_id == run_id)
			return &S.lu[i];
	return NULL;
}

/* Insert into a table known not to hold run_id and with room. */
static struct logu *
lu_put(struct logu *tab, size_t cap, const struct logu *e)
{
	uint64_t	 h = (uint64_t)e->run_id * 0x9e3779b97f4a7c15ULL;
	size_t		 i;

	for (i = (size_t)(h >> 32) & (cap - 1); tab[i].run_id != 0;
	    i = (i + 1) & (cap - 1))
		;
	tab[i] = *e;
	return &tab[i];
}

/* Rebuild into a table of newcap slots, leaving out finished runs. */
static void
lu_rehash(size_t newcap, int drop_done)
{
	struct logu	*tab;
	size_t		 i, n = 0;

	tab = nf_xcalloc(newcap, sizeof(*tab));
	for (i = 0; i < S.lu_cap; i++) {
		if (S.lu[i].run_id == 0 || (drop_done && S.lu[i].done))
			continue;
		lu_put(tab, newcap, &S.lu[i]);
		n++;
	}
	free(S.lu);
	S.lu = tab;
	S.lu_cap = newcap;
	S.lu_n = n;
	if (drop_done)
		S.lu_done = 0;
}

/* The usage of run_id, loaded from its row on first use; NULL: error. */
static struct logu *
lu_get(int64_t run_id)
{
	sqlite3_stmt	*st = S.st[ST_RUN_LOGUSE_GET];
	struct logu	*e, ne;
	int		 rc;

	if ((e = lu_find(run_id)) != NULL)
		return e;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(&ne, 0, sizeof(ne));
		ne.run_id = run_id;
		ne.bytes = sqlite3_column_int64(st, 0);
		ne.truncated = sqlite3_column_int(st, 1) != 0;
	}
	stmt_done(st);
	if (rc == SQLITE_DONE && PENDING()) {
		/* A run inserted by writes still in the journal. */
		memset(&ne, 0, sizeof(ne));
		ne.run_id = run_id;
		rc = SQLITE_ROW;
	} else if (rc == SQLITE_DONE) {
		set_err("store %s: log line for run %lld: no such run (a bug "
		    "in nomaflowd; please report it)", S.path,
		    (long long)run_id);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		sql_fail(rc, "read the log usage of a run");
		return NULL;
	}
	if ((S.lu_n + 1) * 2 > S.lu_cap)
		lu_rehash(S.lu_cap == 0 ? 64 : S.lu_cap * 2, 0);
	S.lu_n++;
	return lu_put(S.lu, S.lu_cap, &ne);
}

/*
 * Open, migrate, close.
 */

static int
exec_sql(const char *sql, const char *what)
{
	char	*msg = NULL;
	int	 rc;

	rc = sqlite3_exec(S.db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		set_err("store %s: %s: %s (%s)", S.path, what,
		    msg != NULL ? msg : sqlite3_errmsg(S.db), rc_name(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* One integer from a statement without parameters; -1 on error. */
static int
query_int(const char *sql, int64_t *out, const char *what)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(S.db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			*out = 0;
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_NOTADB ||
		    (rc & 0xff) == SQLITE_CORRUPT)
			set_err("%s: file is not a Nomaflow store (%s); "
			    "refusing to start, the file was left untouched; "
			    "move it away or point the store path elsewhere",
			    S.path, rc_name(rc));
		else
			set_err("store %s: %s: %s (%s)", S.path, what,
			    sqlite3_errmsg(S.db), rc_name(rc));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * The schema version of an existing file, 0 for an empty one, -1 (with
 * the message set) for a file we must not touch.  Reads only.
 */
static int
schema_version(int *version)
{
	sqlite3_stmt	*st;
	int64_t		 ntables, app_id, has_meta;
	int		 rc;

	/* The first read of page 1: NOTADB shows up here. */
	if (query_int("SELECT count(*) FROM sqlite_master", &ntables,
	    "read the schema") == -1)
		return -1;
	if (ntables == 0) {
		*version = 0;
		return 0;
	}
	if (query_int("PRAGMA application_id", &app_id,
	    "read the application id") == -1)
		return -1;
	if (query_int("SELECT count(*) FROM sqlite_master WHERE type = "
	    "'table' AND name = 'meta'", &has_meta, "read the schema") == -1)
		return -1;
	if (app_id != STORE_APP_ID || !has_meta) {
		set_err("%s: file is an SQLite database but not a Nomaflow "
		    "store (application id %#llx, %s); refusing to start, the "
		    "file was left untouched; point the store path elsewhere",
		    S.path, (unsigned long long)app_id,
		    has_meta ? "has a meta table" : "no meta table");
		return -1;
	}
	rc = sqlite3_prepare_v2(S.db, "SELECT value FROM meta WHERE key = "
	    "'schema_version'", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		set_err("%s: Nomaflow store without a schema version (%s); "
		    "refusing to start, the file was left untouched; restore "
		    "a backup", S.path, rc == SQLITE_DONE ? "no row" :
		    sqlite3_errmsg(S.db));
		sqlite3_finalize(st);
		return -1;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (*version < 1) {
		set_err("%s: Nomaflow store with a bad schema version %d; "
		    "refusing to start, the file was left untouched", S.path,
		    *version);
		return -1;
	}
	return 0;
}

/* A migration kept as a function of its own (a NULL entry). */
static int
migrate_fn(int v)
{
	switch (v + 1) {
	case 5:
		return migrate_v5_retention();
	case 6:
		return migrate_v6_runs_lists();
	default:
		nf_panic("store: no migration to schema version %d", v + 1);
	}
}

static int
migrate(int from)
{
	char	 sql[128];
	int	 v;

	for (v = from; v < STORE_SCHEMA_VERSION; v++) {
		if (exec_sql("BEGIN IMMEDIATE", "start a migration") == -1)
			return -1;
		snprintf(sql, sizeof(sql), "INSERT INTO meta (key, value) "
		    "VALUES ('schema_version', '%d') ON CONFLICT (key) DO "
		    "UPDATE SET value = excluded.value", v + 1);
		if ((migrations[v] != NULL ? exec_sql(migrations[v],
		    "migrate the schema") : migrate_fn(v)) == -1 ||
		    exec_sql(sql, "record the schema version") == -1 ||
		    exec_sql("COMMIT", "commit a migration") == -1) {
			if (!sqlite3_get_autocommit(S.db))
				(void)sqlite3_exec(S.db, "ROLLBACK", NULL, NULL,
				    NULL);
			/* Keep the first message, add where it stopped. */
			nf_warnx("store %s: migration from schema version %d "
			    "to %d rolled back; the file keeps version %d",
			    S.path, v, v + 1, v);
			return -1;
		}
		if (v > 0)
			nf_info("store %s: migrated schema from version %d to "
			    "%d", S.path, v, v + 1);
	}
	return 0;
}

static void
list_sql(unsigned mask, struct nf_buf *b)
{
	const char	*sep = " WHERE ";

	nf_buf_reset(b);
	nf_buf_adds(b, "SELECT " RUN_COLS " FROM runs");
	if (mask & LIST_JOB) {
		nf_buf_printf(b, "%sjob_id = ?1", sep);
		sep = " AND ";
	}
	if (mask & LIST_STATE) {
		nf_buf_printf(b, "%sstate = ?2", sep);
		sep = " AND ";
	}
	if (mask & LIST_SINCE)
		nf_buf_printf(b, "%screated_at >= ?3", sep);
	nf_buf_adds(b, " ORDER BY created_at DESC, id DESC LIMIT ?4");
}

static int
prepare_all(void)
{
	struct nf_buf	 b;
	const char	*sql;
	int		 i, rc;

	nf_buf_init(&b);
	for (i = 0; i < ST_COUNT; i++) {
		if (i < ST_LIST0)
			sql = stmt_sql[i];
		else {
			list_sql((unsigned)(i - ST_LIST0), &b);
			sql = b.data;
		}
		rc = sqlite3_prepare_v3(S.db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &S.st[i], NULL);
		if (rc != SQLITE_OK) {
			/*
			 * Our own constant SQL against our own schema: only a
			 * bug or a damaged schema gets here.
			 */
			set_err("store %s: cannot prepare statement %d (%s): "
			    "%s; the schema may be damaged, restore a backup",
			    S.path, i, sql, sqlite3_errmsg(S.db));
			nf_buf_free(&b);
			return -1;
		}
	}
	nf_buf_free(&b);
	return 0;
}

static void
close_db(void)
{
	int	 i;

	for (i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(S.st[i]);
		S.st[i] = NULL;
	}
	if (S.db != NULL && sqlite3_close(S.db) != SQLITE_OK)
		nf_warnx("store %s: close: %s", S.path, sqlite3_errmsg(S.db));
	S.db = NULL;
	S.in_tx = 0;
	free(S.lu);
	S.lu = NULL;
	S.lu_cap = S.lu_n = S.lu_done = 0;
	journal_clear();
	free(S.jr);
	S.jr = NULL;
	S.jr_cap = 0;
	S.unhealthy = 0;
	free(S.path);
	S.path = NULL;
}

int
nf_store_open(const char *path, int sync_full)
{
	char		 mode[16];
	sqlite3_stmt	*st;
	int		 fd, rc, version;

	if (S.db != NULL)
		nf_panic("nf_store_open: the store is already open");
	S.err[0] = '\0';
	S.path = nf_xstrdup(path);

	/*
	 * Create a missing file ourselves: history holds job parameters,
	 * so it is private (SQLite gives the -wal and -shm files the mode of
	 * the database).
	 */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 && errno != EEXIST) {
		set_err("store %s: cannot create: %s; check that the state "
		    "directory exists and is writable by nomaflowd", path,
		    strerror(errno));
		goto fail;
	}
	if (fd != -1 && close(fd) == -1) {
		set_err("store %s: close after create: %s", path,
		    strerror(errno));
		goto fail;
	}

	rc = sqlite3_open_v2(path, &S.db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		set_err("store %s: cannot open: %s (%s); check that the file "
		    "and its directory are writable by nomaflowd", path,
		    S.db != NULL ? sqlite3_errmsg(S.db) : sqlite3_errstr(rc),
		    rc_name(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(S.db, 1);
	/* The loop must never wait long: a busy store is an error. */
	sqlite3_busy_timeout(S.db, STORE_BUSY_MS);

	/* Refuse foreign or newer files before writing anything. */
	if (schema_version(&version) == -1)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		set_err("%s: store schema version %d is newer than this "
		    "nomaflowd understands (%d); refusing to start, the file "
		    "was left untouched; run the newer nomaflowd or restore a "
		    "backup", path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}

	rc = sqlite3_prepare_v2(S.db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		set_err("store %s: cannot set WAL mode: %s (%s)", path,
		    sqlite3_errmsg(S.db), rc_name(rc));
		sqlite3_finalize(st);
		goto fail;
	}
	snprintf(mode, sizeof(mode), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (strcmp(mode, "wal") != 0)
		nf_warnx("store %s: the filesystem refused WAL mode (journal "
		    "mode is %s); commits will be slower", path, mode);

	if (exec_sql(sync_full ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL", "set synchronous") == -1 ||
	    exec_sql("PRAGMA foreign_keys = ON", "enable foreign keys") == -1)
		goto fail;
	if (migrate(version) == -1)
		goto fail;
	if (prepare_all() == -1)
		goto fail;
	return 0;

fail:
	close_db();
	return -1;
}

void
nf_store_close(void)
{
	if (S.db == NULL)
		return;
	/* A clean stop keeps the last iteration's changes (and, if the
	 * store could not write, tries the kept writes once more). */
	(void)nf_store_retry();
	close_db();
}

const char *
nf_store_error(void)
{
	return S.err;
}

int
nf_store_flush(void)
{
	sqlite3_stmt	*st = S.st[ST_RUN_LOGUSE_SET];
	size_t		 i;
	double		 t0;
	int		 rc;

	if (S.db == NULL || !S.in_tx)
		return 0;
	for (i = 0; i < S.lu_cap; i++) {
		if (S.lu[i].run_id == 0 || !S.lu[i].dirty)
			continue;
		sqlite3_bind_int64(st, 1, S.lu[i].run_id);
		sqlite3_bind_int64(st, 2, S.lu[i].bytes);
		sqlite3_bind_int(st, 3, S.lu[i].truncated);
		if (write_step(st, "save the log usage of a run") == -1)
			return -1;
	}
	t0 = nf_metrics_clock();
	rc = sqlite3_step(S.st[ST_COMMIT]);
	sqlite3_reset(S.st[ST_COMMIT]);
	if (rc != SQLITE_DONE) {
		sql_fail(rc, "commit");
		return -1;
	}
	nf_metrics_store_commit(nf_metrics_clock() - t0);
	S.in_tx = 0;
	S.unhealthy = 0;
	journal_clear();
	for (i = 0; i < S.lu_cap; i++)
		S.lu[i].dirty = 0;
	if (S.lu_done > 0)
		lu_rehash(S.lu_cap, 1);
	return 0;
}

int
nf_store_healthy(void)
{
	return S.db != NULL && !S.unhealthy;
}

int
nf_store_retry(void)
{
	int	 rc;

	if (S.db == NULL || !S.unhealthy || S.in_tx)
		return nf_store_flush();
	/* A transaction of its own replays the journal; commit it. */
	rc = sqlite3_step(S.st[ST_BEGIN]);
	sqlite3_reset(S.st[ST_BEGIN]);
	if (rc != SQLITE_DONE) {
		sql_fail(rc, "retry the writes kept since the last commit");
		return -1;
	}
	S.in_tx = 1;
	if (journal_replay() == -1)
		return -1;
	return nf_store_flush();
}

int
nf_store_set_max_size(int64_t bytes)
{
	char	 sql[96];
	int64_t	 page, pages;

	if (S.db == NULL)
		return -1;
	if (query_int("PRAGMA page_size", &page, "read the page size") == -1)
		return -1;
	pages = bytes <= 0 ? 0xfffffffe : bytes / page;
	if (pages < 1)
		pages = 1;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    (long long)pages);
	/* SQLite keeps the limit at or above the current size. */
	return query_int(sql, &pages, "set the size limit");
}

int
nf_store_recover(int64_t now)
{
	static const char att_err[] =
	    "interrupted: the supervisor stopped during this attempt";
	static const char run_err[] =
	    "interrupted: the supervisor stopped while this run was active";
	static const char line[] =
	    "run interrupted: the supervisor stopped while this run was "
	    "active; marked failed at restart";
	sqlite3_stmt	*st;
	int		 n;

	if (tx_begin("recover interrupted runs") == -1)
		return -1;
	st = S.st[ST_REC_LOGS];
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, line);
	if (write_step(st, "log interrupted runs") == -1)
		return -1;
	st = S.st[ST_REC_ATT];
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, att_err);
	if (write_step(st, "mark interrupted attempts") == -1)
		return -1;
	st = S.st[ST_REC_RUNS];
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, run_err);
	if (write_step(st, "mark interrupted runs") == -1)
		return -1;
	n = sqlite3_changes(S.db);
	/* Durable before the first new run starts. */
	if (nf_store_flush() == -1)
		return -1;
	return n;
}

int64_t
nf_store_run_insert(const struct nf_run_rec *r)
{
	sqlite3_stmt	*st = S.st[ST_RUN_INSERT];
	struct jrun	 jr;
	char		*params;
	int		 rc;

	if (tx_begin("insert a run") == -1)
		return -1;
	params = r->params != NULL ? nf_json_text(r->params, -1) : NULL;
	jr.job_id = r->job_id;
	jr.state = nf_run_state_name(r->state);
	jr.trigger = r->trigger;
	jr.triggered_by = r->triggered_by;
	jr.params = params;
	jr.preset = r->preset;
	jr.scheduled_for = r->scheduled_for;
	jr.created_at = r->created_at;
	/* A run recorded already over (a skipped fire) ends as it starts. */
	jr.finished_at = r->state != NF_RUN_QUEUED &&
	    r->state != NF_RUN_RUNNING ? r->created_at : -1;
	run_bind(st, &jr);
	S.jr_run = &jr;
	rc = write_step(st, "insert a run");
	S.jr_run = NULL;
	free(params);
	if (rc == -1)
		return -1;
	if (sqlite3_changes(S.db) == 0)
		return 0;	/* the slot already fired */
	return sqlite3_last_insert_rowid(S.db);
}

/* An UPDATE by id that touched nothing: the caller's id is wrong. */
static int
check_changed(const char *what, int64_t id)
{
	if (PENDING() || sqlite3_changes(S.db) > 0)
		return 0;
	set_err("store %s: %s %lld: no such row in the expected state (a bug "
	    "in nomaflowd; please report it)", S.path, what, (long long)id);
	return -1;
}

int
nf_store_run_start(int64_t run_id, int64_t started_at)
{
	sqlite3_stmt	*st = S.st[ST_RUN_START];

	if (tx_begin("start a run") == -1)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, started_at);
	if (write_step(st, "start a run") == -1)
		return -1;
	return check_changed("start queued run", run_id);
}

int
nf_store_run_finish(int64_t run_id, enum nf_run_state state,
    enum nf_reason reason, const char *error, int64_t rows_affected,
    int64_t finished_at)
{
	sqlite3_stmt	*st = S.st[ST_RUN_FINISH];
	struct logu	*e;

	if (state == NF_RUN_QUEUED || state == NF_RUN_RUNNING)
		nf_panic("nf_store_run_finish: run %lld: %s is not a terminal "
		    "state", (long long)run_id, nf_run_state_name(state));
	if (tx_begin("finish a run") == -1)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	bind_text(st, 2, nf_run_state_name(state));
	bind_reason(st, 3, reason);
	bind_text(st, 4, error);
	bind_int_or_null(st, 5, rows_affected, -1);
	sqlite3_bind_int64(st, 6, finished_at);
	if (write_step(st, "finish a run") == -1)
		return -1;
	if (check_changed("finish run", run_id) == -1)
		return -1;
	/* Its usage is saved at the next flush, then forgotten. */
	if ((e = lu_find(run_id)) != NULL && !e->done) {
		e->done = 1;
		S.lu_done++;
	}
	return 0;
}

int64_t
nf_store_attempt_insert(const struct nf_attempt_rec *a, int64_t started_at)
{
	sqlite3_stmt	*st = S.st[ST_ATT_INSERT];

	if (tx_begin("insert a step attempt") == -1)
		return -1;
	sqlite3_bind_int64(st, 1, a->run_id);
	sqlite3_bind_int(st, 2, a->step_idx);
	bind_text(st, 3, a->step_name);
	bind_text(st, 4, a->step_type);
	sqlite3_bind_int(st, 5, a->attempt);
	sqlite3_bind_int64(st, 6, started_at);
	if (write_step(st, "insert a step attempt") == -1)
		return -1;
	return sqlite3_last_insert_rowid(S.db);
}

int
nf_store_attempt_finish(int64_t attempt_id, const struct nf_attempt_end *e)
{
	sqlite3_stmt	*st = S.st[ST_ATT_FINISH];

	if (e->state == NF_ATT_PENDING || e->state == NF_ATT_RUNNING)
		nf_panic("nf_store_attempt_finish: attempt %lld: %s is not a "
		    "terminal state", (long long)attempt_id,
		    nf_attempt_state_name(e->state));
	if (tx_begin("finish a step attempt") == -1)
		return -1;
	sqlite3_bind_int64(st, 1, attempt_id);
	bind_text(st, 2, nf_attempt_state_name(e->state));
	bind_reason(st, 3, e->reason);
	bind_text(st, 4, e->error);
	bind_int_or_null(st, 5, e->exit_code, -1);
	bind_int_or_null(st, 6, e->signal, 0);
	bind_int_or_null(st, 7, e->rows_affected, -1);
	bind_json(st, 8, e->output);
	sqlite3_bind_int64(st, 9, e->finished_at);
	if (write_step(st, "finish a step attempt") == -1)
		return -1;
	return check_changed("finish attempt", attempt_id);
}

void
nf_store_set_log_cap(int64_t bytes)
{
	S.log_cap = bytes;
}

static int64_t
log_insert(const struct nf_log_rec *l, const char *stream, const char *level,
    const char *line)
{
	sqlite3_stmt	*st = S.st[ST_LOG_INSERT];

	sqlite3_bind_int64(st, 1, l->run_id);
	bind_int_or_null(st, 2, l->attempt_id, 0);
	sqlite3_bind_int64(st, 3, l->ts);
	bind_text(st, 4, l->step);
	bind_int_or_null(st, 5, l->attempt, 0);
	bind_text(st, 6, stream);
	bind_text(st, 7, level);
	bind_text(st, 8, line);
	if (write_step(st, "append a log line") == -1)
		return -1;
	/* Journaled, not yet in the file: no sequence number to stream. */
	if (PENDING())
		return 0;
	return sqlite3_last_insert_rowid(S.db);
}

/*
 * Lines of the "system" stream come from nomaflowd itself, a handful per
 * run (start, retry, failure reason): they are always kept and not
 * counted, so that an operator sees why a run ended even when its steps
 * filled the cap.
 */
int64_t
nf_store_log_append(const struct nf_log_rec *l)
{
	char		 marker[160];
	struct logu	*e;
	int64_t		 len, seq;

	if (tx_begin("append a log line") == -1)
		return -1;
	NF_FAULT("log_write");
	if (S.log_cap <= 0 || strcmp(l->stream, "system") == 0)
		return log_insert(l, l->stream, l->level, l->line);
	if ((e = lu_get(l->run_id)) == NULL)
		return -1;
	if (e->truncated)
		return 0;
	len = (int64_t)strlen(l->line);
	if (e->bytes + len <= S.log_cap) {
		/* On error e is gone: a rollback clears the usage table. */
		if ((seq = log_insert(l, l->stream, l->level, l->line)) == -1)
			return -1;
		e->bytes += len;
		e->dirty = 1;
		return seq;
	}
	snprintf(marker, sizeof(marker), "[log truncated: per-run cap of "
	    "%lld bytes reached; further lines dropped]",
	    (long long)S.log_cap);
	if (log_insert(l, "system", "warn", marker) == -1)
		return -1;
	e->truncated = 1;
	e->dirty = 1;
	return 0;
}

int
nf_store_audit(const struct nf_audit_rec *a)
{
	sqlite3_stmt	*st = S.st[ST_AUDIT_INSERT];

	if (tx_begin("record an audit entry") == -1)
		return -1;
	sqlite3_bind_int64(st, 1, a->ts);
	bind_text(st, 2, a->user);
	sqlite3_bind_int64(st, 3, a->uid);
	bind_text(st, 4, a->action);
	bind_text(st, 5, a->target);
	bind_text(st, 6, a->result);
	bind_json(st, 7, a->detail);
	return write_step(st, "record an audit entry");
}

/*
 * Reads.  They see the pending transaction's own writes.
 */

static int
read_check(const char *what)
{
	if (S.db != NULL)
		return 0;
	snprintf(S.err, sizeof(S.err), "store: %s: the store is not open",
	    what);
	nf_warnx("%s", S.err);
	return -1;
}

/* A read failed: nothing pending is lost, but report it. */
static void
read_fail(sqlite3_stmt *st, int rc, const char *what)
{
	stmt_done(st);
	set_err("store %s: %s: %s (%s)", S.path, what, sqlite3_errmsg(S.db),
	    rc_name(rc));
}

int64_t
nf_store_last_slot(const char *job_id)
{
	sqlite3_stmt	*st = S.st[ST_LAST_SLOT];
	int64_t		 slot = 0;
	int		 rc;

	if (read_check("read the last slot") == -1)
		return -1;
	bind_text(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		read_fail(st, rc, "read the last slot");
		return -1;
	}
	slot = sqlite3_column_int64(st, 0);	/* NULL (no run) reads 0 */
	stmt_done(st);
	return slot;
}

int64_t
nf_store_last_slot_preset(const char *job_id, const char *preset)
{
	sqlite3_stmt	*st = S.st[ST_LAST_SLOT_PRESET];
	int64_t		 slot;
	int		 rc;

	if (read_check("read the last slot") == -1)
		return -1;
	bind_text(st, 1, job_id);
	if (preset != NULL)
		bind_text(st, 2, preset);
	else
		sqlite3_bind_null(st, 2);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		slot = 0;		/* no slot yet */
	else if (rc == SQLITE_ROW)
		slot = sqlite3_column_int64(st, 0);
	else {
		read_fail(st, rc, "read the last slot");
		return -1;
	}
	stmt_done(st);
	return slot;
}

int
nf_store_job_enabled_get(const char *job_id)
{
	sqlite3_stmt	*st = S.st[ST_JOB_EN_GET];
	int		 rc, en = -1;

	if (read_check("read a job toggle") == -1)
		return -1;
	bind_text(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		en = sqlite3_column_int(st, 0) != 0;
	else if (rc != SQLITE_DONE) {
		read_fail(st, rc, "read a job toggle");
		return -1;
	}
	stmt_done(st);
	return en;
}

int
nf_store_job_enabled_set(const char *job_id, int enabled)
{
	sqlite3_stmt	*st = S.st[ST_JOB_EN_SET];

	if (tx_begin("save a job toggle") == -1)
		return -1;
	bind_text(st, 1, job_id);
	sqlite3_bind_int(st, 2, enabled != 0);
	sqlite3_bind_int64(st, 3, nf_now_ms());
	return write_step(st, "save a job toggle");
}

int
nf_store_job_toggles(void (*fn)(void *, const char *, int), void *arg)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (read_check("read the job toggles") == -1)
		return -1;
	/* At load and reload only: not worth a prepared statement. */
	rc = sqlite3_prepare_v2(S.db, "SELECT job_id, enabled FROM job_state",
	    -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1) != 0);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		set_err("store %s: read the job toggles: %s (%s)", S.path,
		    sqlite3_errmsg(S.db), rc_name(rc));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* JSON text we wrote ourselves; kept as a string if it does not parse. */
static struct nf_val *
json_col(sqlite3_stmt *st, int i)
{
	struct nf_val	*v;
	const char	*s;
	char		 err[128];
	int		 n;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return nf_val_nil();
	s = (const char *)sqlite3_column_text(st, i);
	n = sqlite3_column_bytes(st, i);
	if (s == NULL)
		return nf_val_nil();
	if ((v = nf_json_read(s, (size_t)n, err, sizeof(err))) == NULL) {
		nf_warnx("store %s: stored JSON does not parse (%s); returned "
		    "as text", S.path, err);
		v = nf_val_strn(s, (size_t)n);
	}
	return v;
}

static struct nf_val *
col_val(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return nf_val_int(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return nf_val_float(sqlite3_column_double(st, i));
	case SQLITE_TEXT:
		return nf_val_strn((const char *)sqlite3_column_text(st, i),
		    (size_t)sqlite3_column_bytes(st, i));
	case SQLITE_BLOB:
		return nf_val_bin(sqlite3_column_blob(st, i),
		    (size_t)sqlite3_column_bytes(st, i));
	default:
		return nf_val_nil();
	}
}

/* The current row as a map; json_idx names a JSON column (or -1). */
static struct nf_val *
row_map(sqlite3_stmt *st, const char *const *keys, int nkeys, int json_idx)
{
	struct nf_val	*m;
	int		 i;

	m = nf_val_map();
	for (i = 0; i < nkeys; i++)
		nf_val_map_set(m, keys[i], i == json_idx ? json_col(st, i) :
		    col_val(st, i));
	return m;
}

/* All rows of st as an array of maps; NULL on error. */
static struct nf_val *
rows_arr(sqlite3_stmt *st, const char *const *keys, int nkeys, int json_idx,
    const char *what)
{
	struct nf_val	*arr;
	int		 rc;

	arr = nf_val_arr();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		nf_val_arr_push(arr, row_map(st, keys, nkeys, json_idx));
	if (rc != SQLITE_DONE) {
		read_fail(st, rc, what);
		nf_val_free(arr);
		return NULL;
	}
	stmt_done(st);
	return arr;
}

/*
 * The newest `limit` rows the caller may see.  The statement runs without
 * a limit (runs_created or runs_job deliver the rows in order, so nothing
 * is sorted) and stops at the limit: filtering after an SQL limit would
 * hand a restricted operator fewer rows than asked for.
 */
static struct nf_val *
runs_visible(sqlite3_stmt *st, const struct nf_store_filter *f, int limit)
{
	struct nf_val	*arr, *row;
	const char	*job;
	int		 rc = SQLITE_DONE;

	sqlite3_bind_int(st, 4, -1);
	arr = nf_val_arr();
	while (arr->u.a.n < (size_t)limit &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		job = (const char *)sqlite3_column_text(st, 1);
		if (job == NULL || !f->visible(f->visible_arg, job))
			continue;
		row = row_map(st, run_keys, (int)NF_NELEM(run_keys), -1);
		nf_val_arr_push(arr, row);
	}
	if (arr->u.a.n < (size_t)limit && rc != SQLITE_DONE) {
		read_fail(st, rc, "list runs");
		nf_val_free(arr);
		return NULL;
	}
	stmt_done(st);
	return arr;
}

/*
 * The web API's list (trigger, until, before): prepared per call, rare
 * enough.  Newest id first; "id < before" makes each page a range scan of
 * the primary key, and the job filter uses runs_job.
 */
static struct nf_val *
runs_list_keyset(const struct nf_store_filter *f, int limit)
{
	struct nf_buf	 b;
	struct nf_val	*arr;
	sqlite3_stmt	*st;
	const char	*sep = " WHERE ";
	int		 rc;

	nf_buf_init(&b);
	nf_buf_adds(&b, "SELECT " RUN_COLS " FROM runs");
	if (f->job_id != NULL) {
		nf_buf_printf(&b, "%sjob_id = ?1", sep);
		sep = " AND ";
	}
	if (f->state >= 0) {
		nf_buf_printf(&b, "%sstate = ?2", sep);
		sep = " AND ";
	}
	if (f->since > 0) {
		nf_buf_printf(&b, "%screated_at >= ?3", sep);
		sep = " AND ";
	}
	if (f->trigger != NULL) {
		nf_buf_printf(&b, "%strigger = ?5", sep);
		sep = " AND ";
	}
	if (f->until > 0) {
		nf_buf_printf(&b, "%screated_at < ?6", sep);
		sep = " AND ";
	}
	if (f->before > 0)
		nf_buf_printf(&b, "%sid < ?7", sep);
	nf_buf_adds(&b, " ORDER BY id DESC LIMIT ?4");
	nf_buf_addc(&b, '\0');
	rc = sqlite3_prepare_v2(S.db, b.data, -1, &st, NULL);
	nf_buf_free(&b);
	if (rc != SQLITE_OK) {
		set_err("store %s: list runs: %s", S.path,
		    sqlite3_errmsg(S.db));
		return NULL;
	}
	if (f->job_id != NULL)
		bind_text(st, 1, f->job_id);
	if (f->state >= 0)
		bind_text(st, 2, nf_run_state_name(f->state));
	if (f->since > 0)
		sqlite3_bind_int64(st, 3, f->since);
	if (f->trigger != NULL)
		bind_text(st, 5, f->trigger);
	if (f->until > 0)
		sqlite3_bind_int64(st, 6, f->until);
	if (f->before > 0)
		sqlite3_bind_int64(st, 7, f->before);
	if (f->visible == NULL) {
		sqlite3_bind_int(st, 4, limit);
		arr = rows_arr(st, run_keys, (int)NF_NELEM(run_keys), -1,
		    "list runs");
	} else
		arr = runs_visible(st, f, limit);
	sqlite3_finalize(st);
	return arr;
}

struct nf_val *
nf_store_runs_list(const struct nf_store_filter *f)
{
	sqlite3_stmt	*st;
	unsigned	 mask = 0;
	int		 limit;

	if (read_check("list runs") == -1)
		return NULL;
	if (f->job_id != NULL)
		mask |= LIST_JOB;
	if (f->state >= 0)
		mask |= LIST_STATE;
	if (f->since > 0)
		mask |= LIST_SINCE;
	limit = f->limit <= 0 ? STORE_LIST_DEFAULT : f->limit;
	if (limit > STORE_LIST_MAX)
		limit = STORE_LIST_MAX;
	if (f->trigger != NULL || f->until > 0 || f->before > 0)
		return runs_list_keyset(f, limit);
	st = S.st[ST_LIST0 + mask];
	if (mask & LIST_JOB)
		bind_text(st, 1, f->job_id);
	if (mask & LIST_STATE)
		bind_text(st, 2, nf_run_state_name(f->state));
	if (mask & LIST_SINCE)
		sqlite3_bind_int64(st, 3, f->since);
	if (f->visible == NULL) {
		sqlite3_bind_int(st, 4, limit);
		return rows_arr(st, run_keys, (int)NF_NELEM(run_keys), -1,
		    "list runs");
	}
	return runs_visible(st, f, limit);
}

struct nf_val *
nf_store_run_get(int64_t run_id)
{
	sqlite3_stmt	*st;
	struct nf_val	*run, *atts;
	int		 rc;

	if (read_check("read a run") == -1)
		return NULL;
	st = S.st[ST_RUN_GET];
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		stmt_done(st);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		read_fail(st, rc, "read a run");
		return NULL;
	}
	run = row_map(st, run_keys, (int)NF_NELEM(run_keys), -1);
	stmt_done(st);

	st = S.st[ST_RUN_PARAMS];
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		read_fail(st, rc, "read the params of a run");
		nf_val_free(run);
		return NULL;
	}
	nf_val_map_set(run, "params", json_col(st, 0));
	stmt_done(st);

	st = S.st[ST_ATT_LIST];
	sqlite3_bind_int64(st, 1, run_id);
	atts = rows_arr(st, att_keys, (int)NF_NELEM(att_keys),
	    (int)NF_NELEM(att_keys) - 1, "read the attempts of a run");
	if (atts == NULL) {
		nf_val_free(run);
		return NULL;
	}
	nf_val_map_set(run, "attempts", atts);
	return run;
}

struct nf_val *
nf_store_active_runs(void)
{
	sqlite3_stmt	*st;
	struct nf_val	*out, *run;
	int64_t		*ids = NULL;
	size_t		 n = 0, cap = 0, i;
	int		 rc;

	if (read_check("list the active runs") == -1)
		return NULL;
	/* Once, at start: not worth a prepared statement. */
	rc = sqlite3_prepare_v2(S.db, "SELECT id FROM runs WHERE state IN"
	    " ('queued', 'running') ORDER BY id", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			ids = nf_xreallocarray(ids, cap, sizeof(*ids));
		}
		ids[n++] = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		set_err("store %s: list the active runs: %s (%s)", S.path,
		    sqlite3_errmsg(S.db), rc_name(rc));
		sqlite3_finalize(st);
		free(ids);
		return NULL;
	}
	sqlite3_finalize(st);
	out = nf_val_arr();
	for (i = 0; i < n; i++)
		if ((run = nf_store_run_get(ids[i])) != NULL)
			nf_val_arr_push(out, run);
	free(ids);
	return out;
}

struct nf_val *
nf_store_job_last_run(const char *job_id)
{
	sqlite3_stmt	*st = S.st[ST_JOB_LAST];
	struct nf_val	*run;
	int		 rc;

	if (read_check("read the last run of a job") == -1)
		return NULL;
	bind_text(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		stmt_done(st);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		read_fail(st, rc, "read the last run of a job");
		return NULL;
	}
	run = row_map(st, run_keys, (int)NF_NELEM(run_keys), -1);
	stmt_done(st);
	return run;
}

struct nf_val *
nf_store_logs_get(int64_t run_id, int64_t after_seq, int limit)
{
	sqlite3_stmt	*st = S.st[ST_LOGS_GET];

	if (read_check("read log lines") == -1)
		return NULL;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
	return rows_arr(st, log_keys, (int)NF_NELEM(log_keys), -1,
	    "read log lines");
}

/*
 * Retention.  A batch is a transaction of its own, like a secret change:
 * the loop iteration's writes are committed first, then BEGIN IMMEDIATE,
 * a bounded number of deletes, COMMIT.  Nothing here is journaled: a
 * batch that fails is rolled back whole and the next pass does it again,
 * so a crash at any point leaves either the batch or none of it.
 */

/* The n-th newest run of a job (0: the newest): 0; 1 if none; -1. */
static int
run_nth(const char *job_id, int64_t n, struct nf_store_mark *m)
{
	sqlite3_stmt	*st = S.st[ST_PRUNE_NTH];
	int		 rc;

	if (read_check("find the newest runs of a job") == -1)
		return -1;
	bind_text(st, 1, job_id);
	sqlite3_bind_int64(st, 2, n);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		stmt_done(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		read_fail(st, rc, "find the newest runs of a job");
		return -1;
	}
	m->created_at = sqlite3_column_int64(st, 0);
	m->id = sqlite3_column_int64(st, 1);
	stmt_done(st);
	return 0;
}

/* {0, 0}: no mark.  (cutoff, 0) is one, below every run at the cutoff. */
#define MARK_SET(m)	((m)->created_at != 0 || (m)->id != 0)

static int
mark_lt(const struct nf_store_mark *a, const struct nf_store_mark *b)
{
	return a->created_at < b->created_at ||
	    (a->created_at == b->created_at && a->id < b->id);
}

int
nf_store_prune_marks(const char *job_id, const struct nf_prune_policy *p,
    struct nf_store_mark *runs_below, struct nf_store_mark *logs_below)
{
	struct nf_store_mark	 newest, nth, cut;
	int			 rc;

	memset(runs_below, 0, sizeof(*runs_below));
	memset(logs_below, 0, sizeof(*logs_below));
	if ((rc = run_nth(job_id, 0, &newest)) != 0)
		return rc == 1 ? 0 : -1;	/* no runs: nothing to do */
	/* By count: what is older than the keep_runs-th newest. */
	if (p->keep_runs > 0) {
		if ((rc = run_nth(job_id, p->keep_runs - 1, &nth)) == -1)
			return -1;
		if (rc == 0)
			*runs_below = nth;
	}
	/*
	 * By age: what was created before the cutoff, but never the newest
	 * run, so that the last state of a job survives any age limit.
	 * (cutoff, 0) is below every run created at the cutoff.
	 */
	if (p->runs_before > 0) {
		cut.created_at = p->runs_before;
		cut.id = 0;
		if (mark_lt(&newest, &cut))
			cut = newest;
		if (mark_lt(runs_below, &cut))
			*runs_below = cut;
	}
	if (p->logs_before > 0) {
		cut.created_at = p->logs_before;
		cut.id = 0;
		if (mark_lt(&newest, &cut))
			cut = newest;
		/* Lines of runs that go whole are counted with them. */
		if (mark_lt(runs_below, &cut))
			*logs_below = cut;
	}
	return 0;
}

/* The ids the bound selects, at most max, into ids; -1 on error. */
static int
prune_select(sqlite3_stmt *st, const char *job_id,
    const struct nf_store_mark *below, int max, int64_t *ids, int *n)
{
	int	 rc;

	*n = 0;
	bind_text(st, 1, job_id);
	sqlite3_bind_int64(st, 2, below->created_at);
	sqlite3_bind_int64(st, 3, below->id);
	sqlite3_bind_int(st, 4, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	stmt_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		set_err("store %s: retention: select the runs of job %s to "
		    "prune: %s (%s)", S.path, job_id, sqlite3_errmsg(S.db),
		    rc_name(rc));
		return -1;
	}
	return 0;
}

/* One delete or update by run id; the rows it changed, or -1. */
static int64_t
prune_exec(int sti, int64_t run_id, int64_t now, const char *what)
{
	sqlite3_stmt	*st = S.st[sti];
	int		 rc;

	sqlite3_bind_int64(st, 1, run_id);
	if (sti == ST_LOG_PRUNED_SET)
		sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE) {
		set_err("store %s: retention: %s of run %lld: %s (%s)", S.path,
		    what, (long long)run_id, sqlite3_errmsg(S.db),
		    rc_name(rc));
		return -1;
	}
	return sqlite3_changes(S.db);
}

#define PRUNE_SELECT_MAX	500

int
nf_store_prune(const char *job_id, const struct nf_store_mark *runs_below,
    const struct nf_store_mark *logs_below, int max, int64_t now,
    struct nf_prune_count *c)
{
	static const char what[] = "prune a batch of old runs";
	int64_t		 ids[PRUNE_SELECT_MAX], n1, rows = 0;
	struct nf_prune_count	 add;
	int		 i, n, more = 0, lim;

	if (read_check(what) == -1)
		return -1;
	if (S.unhealthy) {
		snprintf(S.err, sizeof(S.err), "store %s: %s: the store cannot "
		    "write now (nfctl status says why); retention waits until "
		    "it can", S.path, what);
		return -1;
	}
	if (nf_store_flush() == -1)
		return -1;
	if (exec_sql("BEGIN IMMEDIATE", what) == -1)
		return -1;
	memset(&add, 0, sizeof(add));
	lim = max < PRUNE_SELECT_MAX ? max : PRUNE_SELECT_MAX;
	if (lim < 1)
		lim = 1;

	/* Whole runs first: their lines go with them, in this transaction. */
	if (MARK_SET(runs_below)) {
		if (prune_select(S.st[ST_PRUNE_RUNS], job_id, runs_below, lim,
		    ids, &n) == -1)
			goto fail;
		for (i = 0; i < n && rows < max; i++) {
			if ((n1 = prune_exec(ST_DEL_LOGS, ids[i], now,
			    "delete the log lines")) == -1)
				goto fail;
			add.lines += n1;
			rows += n1;
			if ((n1 = prune_exec(ST_DEL_ATTS, ids[i], now,
			    "delete the step attempts")) == -1)
				goto fail;
			rows += n1;
			if ((n1 = prune_exec(ST_DEL_RUN, ids[i], now,
			    "delete the run")) == -1)
				goto fail;
			add.runs += n1;
			rows += 1;
		}
		more = n == lim || i < n;
	}
	/* Then the lines of older runs that stay. */
	if (!more && rows < max && MARK_SET(logs_below)) {
		if (prune_select(S.st[ST_PRUNE_LOGS], job_id, logs_below, lim,
		    ids, &n) == -1)
			goto fail;
		for (i = 0; i < n && rows < max; i++) {
			if ((n1 = prune_exec(ST_DEL_LOGS, ids[i], now,
			    "delete the log lines")) == -1)
				goto fail;
			add.lines += n1;
			rows += n1 + 1;
			if (prune_exec(ST_LOG_PRUNED_SET, ids[i], now,
			    "mark the log pruned") == -1)
				goto fail;
			add.logs++;
		}
		more = n == lim || i < n;
	}
	/* Crash injection: the batch is written but not committed. */
	NF_FAULT("retention_batch");
	if (exec_sql("COMMIT", what) == -1)
		goto fail;
	c->runs += add.runs;
	c->logs += add.logs;
	c->lines += add.lines;
	return more;

fail:
	if (!sqlite3_get_autocommit(S.db))
		(void)sqlite3_exec(S.db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* One count(*) of a prune statement; -1 on error. */
static int64_t
prune_count1(int sti, const char *job_id, const struct nf_store_mark *below,
    const struct nf_store_mark *not_below)
{
	sqlite3_stmt	*st = S.st[sti];
	int64_t		 n;
	int		 rc;

	bind_text(st, 1, job_id);
	sqlite3_bind_int64(st, 2, below->created_at);
	sqlite3_bind_int64(st, 3, below->id);
	if (not_below != NULL) {
		sqlite3_bind_int64(st, 4, not_below->created_at);
		sqlite3_bind_int64(st, 5, not_below->id);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		read_fail(st, rc, "count the runs retention would prune");
		return -1;
	}
	n = sqlite3_column_int64(st, 0);
	stmt_done(st);
	return n;
}

int
nf_store_prune_count(const char *job_id,
    const struct nf_store_mark *runs_below,
    const struct nf_store_mark *logs_below, struct nf_prune_count *c)
{
	int64_t	 n;

	if (read_check("count the runs retention would prune") == -1)
		return -1;
	if (MARK_SET(runs_below)) {
		if ((n = prune_count1(ST_PRUNE_COUNT_RUNS, job_id, runs_below,
		    NULL)) == -1)
			return -1;
		c->runs += n;
	}
	if (MARK_SET(logs_below)) {
		if ((n = prune_count1(ST_PRUNE_COUNT_LOGS, job_id, logs_below,
		    runs_below)) == -1)
			return -1;
		c->logs += n;
	}
	return 0;
}

int64_t
nf_store_log_pruned_at(int64_t run_id)
{
	sqlite3_stmt	*st = S.st[ST_LOG_PRUNED_GET];
	int64_t		 at = 0;
	int		 rc;

	if (read_check("read whether a log was pruned") == -1)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		at = sqlite3_column_int64(st, 0);	/* NULL: 0 */
	else if (rc != SQLITE_DONE) {
		read_fail(st, rc, "read whether a log was pruned");
		return -1;
	}
	stmt_done(st);
	return at;
}

char **
nf_store_job_ids(size_t *n)
{
	sqlite3_stmt	*st = S.st[ST_JOB_IDS];
	char		**ids = NULL;
	size_t		 cap = 0;
	int		 rc;

	*n = 0;
	if (read_check("list the jobs with runs") == -1)
		return NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n + 1 >= cap) {
			cap = cap == 0 ? 16 : cap * 2;
			ids = nf_xreallocarray(ids, cap, sizeof(*ids));
		}
		ids[(*n)++] = nf_xstrdup((const char *)
		    sqlite3_column_text(st, 0));
	}
	if (rc != SQLITE_DONE) {
		read_fail(st, rc, "list the jobs with runs");
		while (*n > 0)
			free(ids[--*n]);
		free(ids);
		return NULL;
	}
	stmt_done(st);
	if (ids == NULL)
		ids = nf_xcalloc(1, sizeof(*ids));
	ids[*n] = NULL;
	return ids;
}

/*
 * Secrets.  Rare and small, so their statements are prepared per call;
 * each change is its own transaction (BEGIN IMMEDIATE ... COMMIT) opened
 * after the loop iteration's pending writes are committed, and committed
 * before returning.  A store that cannot write refuses them.
 */

#define SECRET_COLS	"name, nonce, ciphertext, key_id, created_at, updated_at"

void
nf_store_secret_row_free(struct nf_secret_row *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->nonce);
	free(r->ct);
	free(r->key_id);
	memset(r, 0, sizeof(*r));
}

static sqlite3_stmt *
secret_prepare(const char *sql, const char *what)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (read_check(what) == -1)
		return NULL;
	if ((rc = sqlite3_prepare_v2(S.db, sql, -1, &st, NULL)) != SQLITE_OK) {
		set_err("store %s: %s: %s (%s)", S.path, what,
		    sqlite3_errmsg(S.db), rc_name(rc));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Commit what the loop iteration wrote, then open our own transaction. */
static int
secret_begin(const char *what)
{
	if (read_check(what) == -1)
		return -1;
	if (S.unhealthy) {
		snprintf(S.err, sizeof(S.err), "store %s: %s: the store cannot "
		    "write now (nfctl status says why); nothing was changed, "
		    "try again once it is healthy", S.path, what);
		nf_warnx("%s", S.err);
		return -1;
	}
	if (nf_store_flush() == -1)
		return -1;
	return exec_sql("BEGIN IMMEDIATE", what);
}

static int
secret_end(int ok, const char *what)
{
	if (ok && exec_sql("COMMIT", what) == 0)
		return 0;
	/* exec_sql() and secret_step_done() reported the error already. */
	if (!sqlite3_get_autocommit(S.db))
		(void)sqlite3_exec(S.db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
secret_step_done(sqlite3_stmt *st, const char *what)
{
	int	 rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		set_err("store %s: %s: %s (%s)", S.path, what,
		    sqlite3_errmsg(S.db), rc_name(rc));
		return -1;
	}
	return 0;
}

static void
secret_row_read(sqlite3_stmt *st, struct nf_secret_row *r)
{
	const void	*p;

	memset(r, 0, sizeof(*r));
	r->name = nf_xstrdup((const char *)sqlite3_column_text(st, 0));
	r->nonce_len = (size_t)sqlite3_column_bytes(st, 1);
	p = sqlite3_column_blob(st, 1);
	r->nonce = nf_xmalloc(r->nonce_len + 1);
	if (r->nonce_len > 0)
		memcpy(r->nonce, p, r->nonce_len);
	r->ct_len = (size_t)sqlite3_column_bytes(st, 2);
	p = sqlite3_column_blob(st, 2);
	r->ct = nf_xmalloc(r->ct_len + 1);
	if (r->ct_len > 0)
		memcpy(r->ct, p, r->ct_len);
	r->key_id = nf_xstrdup((const char *)sqlite3_column_text(st, 3));
	r->created_at = sqlite3_column_int64(st, 4);
	r->updated_at = sqlite3_column_int64(st, 5);
}

int
nf_store_secret_put(const struct nf_secret_row *r)
{
	static const char what[] = "save a secret";
	sqlite3_stmt	*st;
	int		 ok;

	if (secret_begin(what) == -1)
		return -1;
	/* created_at stays the first set's; updated_at moves. */
	if ((st = secret_prepare("INSERT INTO secrets (" SECRET_COLS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (name) DO UPDATE"
	    " SET nonce = excluded.nonce, ciphertext = excluded.ciphertext,"
	    " key_id = excluded.key_id, updated_at = excluded.updated_at",
	    what)) == NULL)
		return secret_end(0, what);
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, r->nonce, (int)r->nonce_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, r->ct, (int)r->ct_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->updated_at);
	ok = secret_step_done(st, what) == 0;
	sqlite3_finalize(st);
	return secret_end(ok, what);
}

int
nf_store_secret_get(const char *name, struct nf_secret_row *out)
{
	static const char what[] = "read a secret";
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = secret_prepare("SELECT " SECRET_COLS " FROM secrets"
	    " WHERE name = ?1", what)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		secret_row_read(st, out);
	else if (rc != SQLITE_DONE)
		set_err("store %s: %s: %s (%s)", S.path, what,
		    sqlite3_errmsg(S.db), rc_name(rc));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Deletes the row of name with sql ("DELETE ... WHERE name = ?1") in a
 * committed transaction of its own (secrets, UI accounts): 1 removed, 0
 * none of that name, -1 error.
 */
static int
named_del(const char *sql, const char *name, const char *what)
{
	sqlite3_stmt	*st;
	int		 ok, n = 0;

	if (secret_begin(what) == -1)
		return -1;
	if ((st = secret_prepare(sql, what)) == NULL)
		return secret_end(0, what);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	ok = secret_step_done(st, what) == 0;
	if (ok)
		n = sqlite3_changes(S.db);
	sqlite3_finalize(st);
	if (secret_end(ok, what) == -1)
		return -1;
	return n > 0;
}

int
nf_store_secret_del(const char *name)
{
	return named_del("DELETE FROM secrets WHERE name = ?1", name,
	    "remove a secret");
}

int
nf_store_secret_all(struct nf_secret_row **rows, size_t *n)
{
	static const char what[] = "list the secrets";
	sqlite3_stmt	*st;
	int		 rc;

	*rows = NULL;
	*n = 0;
	if ((st = secret_prepare("SELECT " SECRET_COLS " FROM secrets"
	    " ORDER BY name", what)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*rows = nf_xreallocarray(*rows, *n + 1, sizeof(**rows));
		secret_row_read(st, &(*rows)[(*n)++]);
	}
	if (rc != SQLITE_DONE) {
		set_err("store %s: %s: %s (%s)", S.path, what,
		    sqlite3_errmsg(S.db), rc_name(rc));
		sqlite3_finalize(st);
		while (*n > 0)
			nf_store_secret_row_free(&(*rows)[--(*n)]);
		free(*rows);
		*rows = NULL;
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int
nf_store_secret_rewrite(const struct nf_secret_row *rows, size_t n)
{
	static const char what[] = "re-encrypt the secrets";
	sqlite3_stmt	*st;
	size_t		 i;
	int		 ok = 1;

	if (secret_begin(what) == -1)
		return -1;
	if ((st = secret_prepare("UPDATE secrets SET nonce = ?2,"
	    " ciphertext = ?3, key_id = ?4 WHERE name = ?1", what)) == NULL)
		return secret_end(0, what);
	for (i = 0; ok && i < n; i++) {
		sqlite3_bind_text(st, 1, rows[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, rows[i].nonce,
		    (int)rows[i].nonce_len, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, rows[i].ct, (int)rows[i].ct_len,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 4, rows[i].key_id, -1, SQLITE_STATIC);
		ok = secret_step_done(st, what) == 0;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
	/* Rows under the new key, not committed: a restart rolls back. */
	NF_FAULT("secret_rotate_commit");
	return secret_end(ok, what);
}

/*
 * The audit trail, newest first.  Prepared per call: nfctl audit is rare
 * and its filters combine freely.  A job matches entries whose target is
 * the job and entries about one of its runs (detail.job).
 */
struct nf_val *
nf_store_audit_list(const struct nf_audit_filter *f)
{
	static const char *const keys[] = { "id", "ts", "user", "uid",
	    "action", "target", "result", "detail" };
	struct nf_buf	 b;
	sqlite3_stmt	*st;
	struct nf_val	*arr;
	const char	*sep = " WHERE ";
	int		 rc, limit;

	if (read_check("read the audit trail") == -1)
		return NULL;
	nf_buf_init(&b);
	nf_buf_adds(&b, "SELECT id, ts, user, uid, action, target, result,"
	    " detail FROM audit");
	if (f->since > 0) {
		nf_buf_printf(&b, "%sts >= ?1", sep);
		sep = " AND ";
	}
	if (f->user != NULL) {
		nf_buf_printf(&b, "%s(user = ?2 OR user = 'user:' || ?2)", sep);
		sep = " AND ";
	}
	if (f->job != NULL)
		nf_buf_printf(&b, "%s(target = ?3 OR (json_valid(detail) AND"
		    " json_extract(detail, '$.job') = ?3))", sep);
	nf_buf_adds(&b, " ORDER BY id DESC LIMIT ?4");
	rc = sqlite3_prepare_v2(S.db, b.data, -1, &st, NULL);
	nf_buf_free(&b);
	if (rc != SQLITE_OK) {
		set_err("store %s: read the audit trail: %s", S.path,
		    sqlite3_errmsg(S.db));
		return NULL;
	}
	if (f->since > 0)
		sqlite3_bind_int64(st, 1, f->since);
	if (f->user != NULL)
		bind_text(st, 2, f->user);
	if (f->job != NULL)
		bind_text(st, 3, f->job);
	limit = f->limit <= 0 ? STORE_LIST_DEFAULT : f->limit;
	sqlite3_bind_int(st, 4, limit > STORE_LIST_MAX ? STORE_LIST_MAX :
	    limit);
	arr = nf_val_arr();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		nf_val_arr_push(arr, row_map(st, keys, (int)NF_NELEM(keys),
		    7));
	if (rc != SQLITE_DONE) {
		set_err("store %s: read the audit trail: %s (%s)", S.path,
		    sqlite3_errmsg(S.db), rc_name(rc));
		nf_val_free(arr);
		arr = NULL;
	}
	sqlite3_finalize(st);
	return arr;
}

/*
 * UI accounts (webauth.c): the same rules as secrets (rare, prepared per
 * call, each change its own committed transaction).
 */

int
nf_store_account_put(const char *name, const char *hash, int64_t now)
{
	static const char what[] = "save a UI account";
	sqlite3_stmt	*st;
	int		 ok;

	if (secret_begin(what) == -1)
		return -1;
	if ((st = secret_prepare("INSERT INTO web_accounts (name, hash,"
	    " created_at, updated_at) VALUES (?1, ?2, ?3, ?3)"
	    " ON CONFLICT (name) DO UPDATE SET hash = excluded.hash,"
	    " updated_at = excluded.updated_at", what)) == NULL)
		return secret_end(0, what);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	ok = secret_step_done(st, what) == 0;
	sqlite3_finalize(st);
	return secret_end(ok, what);
}

int
nf_store_account_get(const char *name, char **hash)
{
	static const char what[] = "read a UI account";
	sqlite3_stmt	*st;
	int		 rc;

	*hash = NULL;
	if ((st = secret_prepare("SELECT hash FROM web_accounts"
	    " WHERE name = ?1", what)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*hash = nf_xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		set_err("store %s: %s: %s (%s)", S.path, what,
		    sqlite3_errmsg(S.db), rc_name(rc));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
nf_store_account_del(const char *name)
{
	return named_del("DELETE FROM web_accounts WHERE name = ?1", name,
	    "remove a UI account");
}

struct nf_val *
nf_store_account_list(void)
{
	static const char *const keys[] = { "name", "created_at",
	    "updated_at" };
	static const char what[] = "list the UI accounts";
	sqlite3_stmt	*st;
	struct nf_val	*arr;
	int		 rc;

	if ((st = secret_prepare("SELECT name, created_at, updated_at"
	    " FROM web_accounts ORDER BY name", what)) == NULL)
		return NULL;
	arr = nf_val_arr();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		nf_val_arr_push(arr, row_map(st, keys, (int)NF_NELEM(keys),
		    -1));
	if (rc != SQLITE_DONE) {
		set_err("store %s: %s: %s (%s)", S.path, what,
		    sqlite3_errmsg(S.db), rc_name(rc));
		nf_val_free(arr);
		arr = NULL;
	}
	sqlite3_finalize(st);
	return arr;
}
