/*
 * store_schema.c: the schema of the trajectory store, as numbered migrations.
 *
 * Version 1 is the whole initial schema (design.md §5). Notes on choices:
 *
 * - `output` and `operations` are WITHOUT ROWID tables keyed by (traj_id, seq):
 *   rows of one trajectory are adjacent on disk, and reading them back in
 *   order is a range scan of the primary key.
 * - `traj_fts` is an external-content FTS5 index (content = trajectories), so
 *   the text is stored once. Triggers keep it in step; the update trigger fires
 *   only when an indexed column changes, so the frequent status updates of a
 *   running trajectory do not touch the index.
 * - `traj_stats` holds per-strategy aggregates maintained by triggers. The
 *   stats query (count, success rate, mean reward by strategy) then reads one
 *   row per strategy instead of scanning every trajectory: a GROUP BY over
 *   1 M rows costs 0.13 s at best even with a covering index (sandbox-notes
 *   §3; tests/bench/store_bench.c measures both), and the target is 100 ms.
 *   A trajectory counts in `done` once its status is terminal; `ok` counts
 *   status 'succeeded'; reward_n/reward_sum cover rows whose reward is not
 *   NULL. Floating-point sums drift by rounding after many updates; the
 *   bench checks them against a full scan.
 */
#include "store_schema.h"

#define TERMINAL "('succeeded','failed','timeout','cancelled','interrupted')"

static const char v1[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"

    "CREATE TABLE strategies(name TEXT PRIMARY KEY, manifest TEXT NOT NULL,"
    " builtin INTEGER NOT NULL DEFAULT 0, added_at INTEGER NOT NULL);"

    "CREATE TABLE runs(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started_at INTEGER NOT NULL,"
    " ended_at INTEGER, spec TEXT, status TEXT, summary TEXT);"

    "CREATE TABLE trajectories(id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
    " run_id INTEGER REFERENCES runs(id), strategy TEXT NOT NULL, symbol TEXT,"
    " params TEXT NOT NULL DEFAULT '{}', provider TEXT NOT NULL, sandbox_id TEXT,"
    " status TEXT NOT NULL, exit_code INTEGER, error TEXT, created_at INTEGER NOT NULL,"
    " started_at INTEGER, ended_at INTEGER, duration_ms REAL, result TEXT, reward REAL,"
    " prediction TEXT, description TEXT, op_sequence TEXT, isolation TEXT,"
    " auto_optimized INTEGER NOT NULL DEFAULT 0, output_bytes INTEGER NOT NULL DEFAULT 0,"
    " output_dropped INTEGER NOT NULL DEFAULT 0, fingerprint TEXT, prev_fingerprint TEXT,"
    " owner_pid INTEGER, owner_start INTEGER);"
    "CREATE INDEX traj_status ON trajectories(status);"
    "CREATE INDEX traj_strategy ON trajectories(strategy, created_at);"
    "CREATE INDEX traj_run ON trajectories(run_id);"

    "CREATE TABLE operations(traj_id INTEGER NOT NULL REFERENCES trajectories(id)"
    " ON DELETE CASCADE, seq INTEGER NOT NULL, name TEXT NOT NULL,"
    " started_at INTEGER NOT NULL, duration_ms REAL NOT NULL, ok INTEGER NOT NULL,"
    " detail TEXT, PRIMARY KEY(traj_id, seq)) WITHOUT ROWID;"

    "CREATE TABLE output(traj_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " stream INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(traj_id, seq)) WITHOUT ROWID;"

    "CREATE TABLE leases(sandbox_id TEXT PRIMARY KEY, traj_id INTEGER,"
    " provider TEXT NOT NULL, pid INTEGER NOT NULL DEFAULT 0,"
    " pid_start INTEGER NOT NULL DEFAULT 0, owner_pid INTEGER NOT NULL,"
    " owner_start INTEGER NOT NULL DEFAULT 0, workdir TEXT, created_at INTEGER NOT NULL);"

    "CREATE TABLE bars(symbol TEXT NOT NULL, date TEXT NOT NULL, open REAL, high REAL,"
    " low REAL, close REAL NOT NULL, volume REAL, PRIMARY KEY(symbol, date)) WITHOUT ROWID;"

    "CREATE VIRTUAL TABLE traj_fts USING fts5(strategy, symbol, params, description,"
    " content='trajectories', content_rowid='id');"
    "CREATE TRIGGER traj_fts_ai AFTER INSERT ON trajectories BEGIN"
    " INSERT INTO traj_fts(rowid, strategy, symbol, params, description)"
    " VALUES (new.id, new.strategy, new.symbol, new.params, new.description); END;"
    "CREATE TRIGGER traj_fts_ad AFTER DELETE ON trajectories BEGIN"
    " INSERT INTO traj_fts(traj_fts, rowid, strategy, symbol, params, description)"
    " VALUES ('delete', old.id, old.strategy, old.symbol, old.params, old.description); END;"
    "CREATE TRIGGER traj_fts_au AFTER UPDATE OF strategy, symbol, params, description"
    " ON trajectories BEGIN"
    " INSERT INTO traj_fts(traj_fts, rowid, strategy, symbol, params, description)"
    " VALUES ('delete', old.id, old.strategy, old.symbol, old.params, old.description);"
    " INSERT INTO traj_fts(rowid, strategy, symbol, params, description)"
    " VALUES (new.id, new.strategy, new.symbol, new.params, new.description); END;"

    "CREATE TABLE traj_stats(strategy TEXT PRIMARY KEY, n INTEGER NOT NULL,"
    " done INTEGER NOT NULL, ok INTEGER NOT NULL, reward_n INTEGER NOT NULL,"
    " reward_sum REAL NOT NULL);"
    "CREATE TRIGGER traj_stats_ai AFTER INSERT ON trajectories BEGIN"
    " INSERT INTO traj_stats(strategy, n, done, ok, reward_n, reward_sum)"
    " VALUES (new.strategy, 1, new.status IN " TERMINAL ", new.status = 'succeeded',"
    " new.reward IS NOT NULL, coalesce(new.reward, 0))"
    " ON CONFLICT(strategy) DO UPDATE SET n = n + excluded.n, done = done + excluded.done,"
    " ok = ok + excluded.ok, reward_n = reward_n + excluded.reward_n,"
    " reward_sum = reward_sum + excluded.reward_sum; END;"
    "CREATE TRIGGER traj_stats_ad AFTER DELETE ON trajectories BEGIN"
    " UPDATE traj_stats SET n = n - 1, done = done - (old.status IN " TERMINAL "),"
    " ok = ok - (old.status = 'succeeded'), reward_n = reward_n - (old.reward IS NOT NULL),"
    " reward_sum = reward_sum - coalesce(old.reward, 0) WHERE strategy = old.strategy; END;"
    "CREATE TRIGGER traj_stats_au AFTER UPDATE OF strategy, status, reward ON trajectories"
    " BEGIN"
    " UPDATE traj_stats SET n = n - 1, done = done - (old.status IN " TERMINAL "),"
    " ok = ok - (old.status = 'succeeded'), reward_n = reward_n - (old.reward IS NOT NULL),"
    " reward_sum = reward_sum - coalesce(old.reward, 0) WHERE strategy = old.strategy;"
    " INSERT INTO traj_stats(strategy, n, done, ok, reward_n, reward_sum)"
    " VALUES (new.strategy, 1, new.status IN " TERMINAL ", new.status = 'succeeded',"
    " new.reward IS NOT NULL, coalesce(new.reward, 0))"
    " ON CONFLICT(strategy) DO UPDATE SET n = n + excluded.n, done = done + excluded.done,"
    " ok = ok + excluded.ok, reward_n = reward_n + excluded.reward_n,"
    " reward_sum = reward_sum + excluded.reward_sum; END;";

/* Version 2 (security, docs/security.md):
 * - chain_seq: a trajectory's position in the fingerprint chain (chain.h),
 *   unique among sealed rows; the chain is walked in this order.
 * - The FTS triggers index NULL instead of an encrypted value (a BLOB box,
 *   store_crypt.h): the on-disk index of an encrypted store then holds only
 *   strategy and symbol, which are plaintext anyway, and readers build an
 *   in-memory index of the decrypted text when they search. */
/* clang-format off */
#define FTS_VAL(row, col) "CASE WHEN typeof(" row "." col ") = 'blob' THEN NULL ELSE " row "." col " END"
#define FTS_ROW(row) row ".id, " row ".strategy, " row ".symbol, " FTS_VAL(row, "params") ", " FTS_VAL(row, "description")

static const char v2[] =
    "ALTER TABLE trajectories ADD COLUMN chain_seq INTEGER;"
    "CREATE UNIQUE INDEX traj_chain ON trajectories(chain_seq) WHERE chain_seq IS NOT NULL;"
    "DROP TRIGGER IF EXISTS traj_fts_ai;"
    "DROP TRIGGER IF EXISTS traj_fts_ad;"
    "DROP TRIGGER IF EXISTS traj_fts_au;"
    "CREATE TRIGGER traj_fts_ai AFTER INSERT ON trajectories BEGIN"
    " INSERT INTO traj_fts(rowid, strategy, symbol, params, description)"
    " VALUES (" FTS_ROW("new") "); END;"
    "CREATE TRIGGER traj_fts_ad AFTER DELETE ON trajectories BEGIN"
    " INSERT INTO traj_fts(traj_fts, rowid, strategy, symbol, params, description)"
    " VALUES ('delete', " FTS_ROW("old") "); END;"
    "CREATE TRIGGER traj_fts_au AFTER UPDATE OF strategy, symbol, params, description"
    " ON trajectories BEGIN"
    " INSERT INTO traj_fts(traj_fts, rowid, strategy, symbol, params, description)"
    " VALUES ('delete', " FTS_ROW("old") ");"
    " INSERT INTO traj_fts(rowid, strategy, symbol, params, description)"
    " VALUES (" FTS_ROW("new") "); END;";
/* clang-format on */

/* Version 3 (issue 14): the process that owns a run, as trajectories have,
 * so recovery can close a run whose process was killed (status
 * 'interrupted') instead of leaving it 'running' for ever, and a process
 * can tell its own runs from another live one's. */
static const char v3[] = "ALTER TABLE runs ADD COLUMN owner_pid INTEGER;"
                         "ALTER TABLE runs ADD COLUMN owner_start INTEGER;";

/* Version 4 (issue 17, issue 16): output chunks carry the time they were
 * received (t, Unix milliseconds; NULL on rows written before) and their
 * codec (z: 0 the bytes as written, 1 zstd, store_zstd.h). */
static const char v4[] = "ALTER TABLE output ADD COLUMN t INTEGER;"
                         "ALTER TABLE output ADD COLUMN z INTEGER NOT NULL DEFAULT 0;";

/* Version 5 (issue 19, the fleet; docs/fleet.md):
 * - trajectories.origin: the fleet name of the host a synced trajectory
 *   came from (NULL: made or imported here).
 * - fleet_outbox: local finished trajectories still to publish to NATS,
 *   filled from the chain (chain_seq above meta fleet_outbox_mark) in the
 *   same transaction that moves the mark, emptied once JetStream acked.
 * - fleet_cursor: per `sync` peer, the peer's chain position pulled up to
 *   and ours pushed up to. */
static const char v5[] =
    "ALTER TABLE trajectories ADD COLUMN origin TEXT;"
    "CREATE INDEX traj_origin ON trajectories(origin) WHERE origin IS NOT NULL;"
    "CREATE TABLE fleet_outbox(traj_id INTEGER PRIMARY KEY,"
    " queued_at INTEGER NOT NULL, too_big INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE fleet_cursor(peer TEXT PRIMARY KEY,"
    " pulled INTEGER NOT NULL DEFAULT 0, pushed INTEGER NOT NULL DEFAULT 0,"
    " updated_at INTEGER);";

/* Version 6 (issue 15, a cold `suggest`): a strategy's finished
 * trajectories counted by origin (`suggest --json`, `patterns --json`) from
 * this index alone, in origin order (no sort), instead of a scan of the
 * whole table (70 ms at 100 k). */
static const char v6[] =
    "CREATE INDEX traj_strategy_origin ON trajectories(strategy, origin, status);";

/* Version 7 (issue 15, a cold `suggest` under 100 ms): the number of
 * learning trajectories (succeeded, failed, timeout) kept by triggers in
 * one row, so the learner's saved index is checked against the store in
 * O(1) (store_learn_count) instead of counting 100 k index entries (12 ms).
 * Every insert, delete and status change of a trajectory goes through
 * them (no statement here replaces trajectory rows). */
#define LEARNING_STATUS "('succeeded', 'failed', 'timeout')"
static const char v7[] =
    "CREATE TABLE learn_count(k INTEGER PRIMARY KEY CHECK (k = 0), n INTEGER NOT NULL);"
    "INSERT INTO learn_count(k, n) SELECT 0, count(*) FROM trajectories"
    " WHERE status IN " LEARNING_STATUS ";"
    "CREATE TRIGGER traj_learn_count_ins AFTER INSERT ON trajectories"
    " WHEN NEW.status IN " LEARNING_STATUS
    " BEGIN UPDATE learn_count SET n = n + 1 WHERE k = 0; END;"
    "CREATE TRIGGER traj_learn_count_del AFTER DELETE ON trajectories"
    " WHEN OLD.status IN " LEARNING_STATUS
    " BEGIN UPDATE learn_count SET n = n - 1 WHERE k = 0; END;"
    "CREATE TRIGGER traj_learn_count_upd AFTER UPDATE OF status ON trajectories"
    " WHEN (OLD.status IN " LEARNING_STATUS ") != (NEW.status IN " LEARNING_STATUS ")"
    " BEGIN UPDATE learn_count SET n = n + (NEW.status IN " LEARNING_STATUS ")"
    " - (OLD.status IN " LEARNING_STATUS ") WHERE k = 0; END;";

const char *const store_migrations[] = {v1, v2, v3, v4, v5, v6, v7};
const size_t store_migrations_count = sizeof store_migrations / sizeof store_migrations[0];
