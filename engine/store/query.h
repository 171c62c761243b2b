/*
 * query.h: the store's named queries. Every SQL statement of swarmdeck lives
 * in engine/store; callers outside it (the coordinator, the catalog, the
 * learner, the benchmark, the command line and the console) call these.
 *
 * Conventions, the same for every function here:
 * - `db` is a reader connection (store_reader) unless the name says "job":
 *   a job runs on the writer thread through store_call/store_submit and gets
 *   the writer's connection. Readers may block on a busy store for up to the
 *   connection's busy timeout: none of these is for a UI thread. A
 *   function given `struct store *s` instead opens and closes its own
 *   reader, or runs a job with store_call and waits for its commit.
 * - Failure returns -1 (or NULL) with err set to "WHAT: sqlite's message"
 *   and changes nothing; results are new references or malloc'd arrays the
 *   caller frees, as each comment says.
 * - JSON results use the same field names as `swarmdeck export`.
 *
 * The file is in sections by what is asked about; each section's functions
 * are in the query_*.c file its heading names.
 */
#ifndef SD_QUERY_H
#define SD_QUERY_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "store.h"
#include "traj.h"

/* The one SQLite error check: sets err to "WHAT: <sqlite message of db>",
 * or to the message alone when what is NULL (SD_EENV), and returns -1. */
int store_dberr(struct sd_err *err, sqlite3 *db, const char *what);

/* --- writer jobs: shared helpers (query.c) ------------------------------ */

/* Open SAVEPOINT name on db (a job's several writes that must stand
 * together). Returns 0, or -1 with err set through store_dberr("store"). */
int store_savepoint(sqlite3 *db, const char *name, struct sd_err *err);

/* Close SAVEPOINT name: rolled back first when rc != 0, released either way.
 * Returns rc, so a job can end with `return store_savepoint_end(db, "x", rc)`.
 * This function can't fail. */
int store_savepoint_end(sqlite3 *db, const char *name, int rc);

/* --- trajectories: history, show, logs, status (query_traj.c) ---------- */

/* Trajectory id in full as JSON (record.h, without output), new reference;
 * NULL with err: SD_EUSAGE "no trajectory #ID", SD_EENV on a read error. */
json_t *store_traj_json(sqlite3 *db, int64_t id, struct sd_err *err);

/* One row of store_traj_history. Strings belong to the store and live until
 * the callback returns; symbol and error may be NULL. has_* say whether the
 * value beside them is known. */
struct store_history_row {
    int64_t id, created_at, run_id; /* run_id 0: none */
    const char *strategy, *symbol, *status, *error, *provider, *description;
    int has_return, has_sharpe, has_duration, synthetic;
    double total_return, sharpe, duration_ms;
};

/* What a daemon needs to take over a running trajectory with a lease (an
 * E2B deployment whose process died: engine/coord/adopt.c). Strings belong
 * to the store and live until the callback returns; never NULL ("" when
 * unset). */
struct store_adopt_row {
    const char *uuid, *strategy, *symbol, *params, *provider, *workdir, *sandbox_id;
    int64_t run_id, created_at, started_at;
};

/* Call fn with trajectory id's row and its lease. Returns fn's result, 1
 * when there is no such trajectory with a lease, or -1 with err. */
int store_adopt_row(sqlite3 *db, int64_t id,
                    int (*fn)(const struct store_adopt_row *row, void *arg), void *arg,
                    struct sd_err *err);

/* Which trajectories store_traj_history walks: strategy and status NULL and
 * run 0 mean any. */
struct store_history_filter {
    const char *strategy, *status;
    int64_t run;
    long limit;
};

/* Call fn for the newest f->limit trajectories that pass f, newest first.
 * fn returns 0 to go on; anything else stops the walk and is returned.
 * Returns 0 or -1 with err. */
int store_traj_history(sqlite3 *db, const struct store_history_filter *f,
                       int (*fn)(const struct store_history_row *row, void *arg), void *arg,
                       struct sd_err *err);

/* The state of trajectory id (enum traj_state; -1 for an unknown name) and
 * how many output bytes the store did not keep. Returns 1, 0 when there is
 * no such trajectory, -1 with err. */
int store_traj_progress(sqlite3 *db, int64_t id, int *state, int64_t *dropped, struct sd_err *err);

/* Call fn for each stored output chunk of trajectory id with seq >= from,
 * in sequence order (stream 1 stdout, 2 stderr; data lives until fn
 * returns). fn returns 0 to go on; anything else stops and is returned.
 * Returns 0 or -1 with err. */
int store_output_read(sqlite3 *db, int64_t id, int64_t from,
                      int (*fn)(int64_t seq, int stream, const void *data, size_t len, void *arg),
                      void *arg, struct sd_err *err);

/* One output chunk as store_output_read_timed gives it: data lives until
 * the callback returns; t_ms is when the engine received it (Unix
 * milliseconds), or -1 for a chunk stored before the store kept times. */
struct output_chunk {
    int64_t seq;
    int stream; /* 1 stdout, 2 stderr */
    int64_t t_ms;
    const void *data;
    size_t len;
};

/* store_output_read with each chunk's time: the same order, the same
 * contract for fn's return and the result. */
int store_output_read_timed(sqlite3 *db, int64_t id, int64_t from,
                            int (*fn)(const struct output_chunk *c, void *arg), void *arg,
                            struct sd_err *err);

/* What `status` counts: trajectories per state and in all, leases (live
 * sandboxes), runs, and the mean reward of final trajectories. */
struct store_counts {
    int64_t by_state[TS_COUNT];
    int64_t total, leases, runs;
    double avg_reward;
};

/* Fill c (zeroed first). Returns 0 or -1 with err. */
int store_traj_counts(sqlite3 *db, struct store_counts *c, struct sd_err *err);

/* --- runs (query_runs.c) ----------------------------------------------- */

/* Run `run`: {run, kind, status ("running" until it ends), startedAt,
 * endedAt (null while running), summary (the JSON text the run's end
 * recorded, or null), succeeded, failed (failed or timed out), cancelled
 * (cancelled or interrupted), live (queued or running)} as a new reference,
 * or NULL with err set (SD_EUSAGE when there is no such run). */
json_t *store_run_get(sqlite3 *db, int64_t run, struct sd_err *err);

/* The trajectories of run `run` in id order (query_runlogs.c): *ids and *states (enum
 * traj_state, -1 for a name not known) are malloc'd arrays of *n entries the caller frees
 * (NULL when *n is 0). Returns 0 (n may be 0), 1 when there is no such run, or -1 with err
 * set; on 1 and -1 nothing is returned. */
int store_run_trajs(sqlite3 *db, int64_t run, int64_t **ids, int **states, size_t *n,
                    struct sd_err *err);

/* --- market bars (query_bars.c) ---------------------------------------- */

/* A symbol's bars as columns: date and close always, the others NULL when
 * the file had no such column. Borrowed by the functions below. */
struct store_bars {
    const char *symbol;
    size_t n;
    const char (*date)[11]; /* YYYY-MM-DD */
    const double *open, *high, *low, *close, *volume;
};

/* Replace every bar of b->symbol by b's, in one savepoint, and wait for the
 * commit: a failure leaves the symbol's old bars. Returns 0 or -1 with err. */
int store_bars_replace(struct store *s, const struct store_bars *b, struct sd_err *err);

/* The imported symbols as a JSON array of {symbol, source: "imported",
 * synthetic: false, bars, first, last, ohlc, volume} (catalog_data_list's
 * shape), new reference, or NULL with err. */
json_t *store_bars_list(sqlite3 *db, struct sd_err *err);

/* Call fn for each bar of symbol in date order; v holds open, high, low,
 * close and volume, NAN where the store has none. fn returns 0 to go on;
 * anything else stops and is returned. Returns 0 or -1 with err. */
int store_bars_read(sqlite3 *db, const char *symbol,
                    int (*fn)(const char *date, const double v[5], void *arg), void *arg,
                    struct sd_err *err);

/* 1 when symbol has imported bars, 0 when not, -1 with err. */
int store_bars_present(sqlite3 *db, const char *symbol, struct sd_err *err);

/* --- user strategies (query_strategies.c) ------------------------------ */

/* strategies.builtin: 0 a user strategy the operator added (runnable), 2 a
 * manifest that came in an import bundle, kept for reference and never
 * runnable (issue 14): nothing of it is loaded into the catalog. */
#define STORE_STRATEGY_IMPORTED   2
#define STORE_STRATEGY_IMPORTED_S "2"

/* The stored user strategies' manifests in name order (those the operator
 * added, not imported ones): a JSON array of the parsed manifests (a row
 * that is not JSON appears as a string), new reference, or NULL with err. */
json_t *store_strategy_manifests(sqlite3 *db, struct sd_err *err);

/* Store (or replace) the manifest text of strategy name, runnable (an
 * imported manifest of that name is replaced), and wait for the commit.
 * Returns 0 or -1 with err (nothing changed). */
int store_strategy_put(struct store *s, const char *name, const char *manifest, struct sd_err *err);

/* --- the learner's reads (query_learn.c) ------------------------------- */

/* One final trajectory as the learner sees it; strings live until the
 * callback returns (any may be NULL). predicted is the recorded
 * prediction's expectedSuccessRate, pred_reward its expectedReward and
 * pred_lo/pred_hi its rewardInterval; from the result object: trades,
 * bars, sharpe, oos_sharpe (outOfSample.sharpe) and synthetic (0/1).
 * Missing numbers are NAN. */
struct store_learn_row {
    int64_t id, created_at;
    const char *strategy, *symbol, *provider, *params, *status, *op_sequence;
    double reward, predicted, duration_ms, pred_reward, pred_lo, pred_hi;
    double trades, bars, sharpe, oos_sharpe;
    int synthetic;
};

/* Call fn for each succeeded, failed or timed-out trajectory in id order,
 * on a reader of its own. fn returns 0 to go on; anything else stops the
 * walk and is returned (fn sets err itself then). Returns 0 or -1 with err
 * ("learning: cannot read trajectories: ..."). */
int store_learn_rows(struct store *s, int (*fn)(const struct store_learn_row *row, void *arg),
                     void *arg, struct sd_err *err);

/* The same for the trajectories with id > after only (the learner's warm
 * start reads what its saved index lacks). */
int store_learn_rows_after(struct store *s, int64_t after,
                           int (*fn)(const struct store_learn_row *row, void *arg), void *arg,
                           struct sd_err *err);

/* How many trajectories the learner learns from (*total) and how many of
 * them have id > after (*newer). 0, or -1 with err. */
int store_learn_count(struct store *s, int64_t after, int64_t *total, int64_t *newer,
                      struct sd_err *err);

/* The ids of the trajectories whose text matches the FTS5 query match
 * (store_reader_fts), ascending, in *ids (malloc'd, the caller frees; NULL
 * when none) and *n. Returns 0 or -1 with err (*ids NULL, *n 0). */
int store_task_ids(struct store *s, const char *match, int64_t **ids, size_t *n,
                   struct sd_err *err);

/* The same with each match's relevance in *scores (malloc'd, parallel to
 * *ids; scores may be NULL): -bm25(traj_fts), higher is better. */
int store_task_search(struct store *s, const char *match, int64_t **ids, double **scores, size_t *n,
                      struct sd_err *err);

/* --- meta: provider health (query_meta.c) ------------------------------- */

/* The provider instances' health the last coordinator on this store
 * recorded (meta provider_health): a JSON array of {name, kind, breaker,
 * detail, failures, createMs, openUntil}, new reference, or NULL when none
 * was recorded or it cannot be read. */
json_t *store_provider_health(sqlite3 *db);

/* Record it (a job: runs on the writer). health is borrowed. */
int store_provider_health_job(sqlite3 *db, json_t *health, struct sd_err *err);

/* --- the benchmark (query_bench.c) --- */

/* One timed operation of a deployment, as store_bench_operations reports it:
 * the trajectory, the operation's name (create, stream, ...; valid during
 * the call only), its duration and whether it succeeded. */
typedef void store_bench_op_fn(void *arg, int64_t traj_id, const char *name, double ms, int ok);

/* Call fn for every operation row of the trajectories first_id..last_id
 * (inclusive; a benchmark scenario's deployments have consecutive ids), in
 * no particular order. Returns 0, or -1 with err set ("cannot read operation
 * times: ...") when a statement failed; fn may have been called for some
 * rows then. */
int store_bench_operations(sqlite3 *db, int64_t first_id, int64_t last_id, store_bench_op_fn *fn,
                           void *arg, struct sd_err *err);

/* Where the trajectories first_id..last_id of run ran: a new object
 * {provider: deployments} (a NULL provider counts as ""), and in *failovers
 * how many of them have a `failover` operation. Returns NULL with err set
 * ("cannot read where deployments ran: ...") when a statement failed. */
json_t *store_bench_placement(sqlite3 *db, int64_t run, int64_t first_id, int64_t last_id,
                              int64_t *failovers, struct sd_err *err);

/* Call fn with every stored benchmark run older than `before` that has a
 * summary, newest first: its id and its summary parsed (borrowed: valid
 * during the call; NULL when it is not JSON). fn returns nonzero to stop.
 * Returns 0, or -1 with err set ("cannot read earlier runs: ..."). */
typedef int store_bench_run_fn(void *arg, int64_t run_id, const json_t *summary);
int store_bench_earlier_runs(sqlite3 *db, int64_t before, store_bench_run_fn *fn, void *arg,
                             struct sd_err *err);

/* --- the coordinator (query_coord.c) --- */

/* The coordinator's writes while a deployment runs. Each is asynchronous:
 * it queues a job for the writer thread and returns, so a worker never waits
 * on the store; the write commits with the next batch. Each returns 0, or -1
 * when the store is read-only, closing or out of memory (nothing is queued
 * then); a storage error later surfaces in store_get_stats (job_errors,
 * last_error). Strings are copied. Any thread. */

/* The lease of sandbox_id gets the host pid (and its start time, so a
 * reused pid is never taken for it) of the process that holds the sandbox,
 * for recovery to reap. */
int store_lease_set_pid(struct store *s, const char *sandbox_id, int pid, uint64_t pid_start);

/* Trajectory traj_id runs on provider instance `provider` (it moved there:
 * a failover, or another instance of the kind it asked for). */
int store_traj_set_provider(struct store *s, int64_t traj_id, const char *provider);

/* Record the provider instances' health (meta provider_health, read back
 * with store_provider_health). Takes ownership of health (the job frees it),
 * even on failure; the caller must not touch it after the call. */
int store_provider_health_save(struct store *s, json_t *health);

/* --- console reads (query_console.c) --- */

/* A past trajectory, as the console's Sandboxes table shows it. */
struct console_traj {
    int64_t id, created_at, started_at, ended_at;
    char strategy[64], symbol[32], provider[32], state[16];
    double ret, sharpe; /* NaN when the result has none */
    int synthetic;
    char origin[64]; /* the fleet name of the host it was synced from; "" made here */
};

/* The newest `limit` trajectories, newest first: *rows (malloc'd, the
 * caller frees; NULL when none) and *n. Returns 0, or -1 with err set
 * ("history: ...") and *rows NULL, *n 0; sqlite3_errcode(db) then tells a
 * busy or locked store from other errors. */
int store_console_history(sqlite3 *db, int limit, struct console_traj **rows, size_t *n,
                          struct sd_err *err);

/* One stored chunk of a trajectory's output. */
struct console_chunk {
    int stream; /* 1 stdout, 2 stderr */
    size_t len;
    char *data;   /* malloc'd */
    int64_t t_ms; /* when the engine received it (Unix ms), -1 if not stored */
};

/* Trajectory id's output, newest chunk first, until at least max_bytes are
 * read or it ends: *chunks (malloc'd, free with store_console_chunks_free)
 * and *n. stop(ctx), when given, is asked every 256 rows; non-zero abandons
 * the read. Returns 0, 1 when abandoned, or -1 with err set ("output: ...");
 * on 1 and -1 nothing is returned (*chunks NULL, *n 0) and, on -1,
 * sqlite3_errcode(db) says why. */
int store_console_output(sqlite3 *db, int64_t id, size_t max_bytes, int (*stop)(void *ctx),
                         void *ctx, struct console_chunk **chunks, size_t *n, struct sd_err *err);

/* Free what store_console_output returned. Accepts NULL. */
void store_console_chunks_free(struct console_chunk *c, size_t n);

/* The fingerprint chain's head as "SEQ:FINGERPRINT" (the form
 * store_chain_verified records) in buf, "" when nothing is sealed. Returns
 * 0, or -1 with err set and buf "". */
int store_console_chain_head(sqlite3 *db, char *buf, size_t n, struct sd_err *err);

/* The evidence rows of the first `max` patterns of the array `patterns`
 * (learn_patterns): each gets "runs": [{id, symbol, status, provider,
 * reward, totalReturn, sharpe, params}] for its "evidence" ids, read by
 * primary key; a missing row is skipped, values that do not parse (for
 * example encrypted at rest) are left out, never guessed. Returns 0, or -1
 * with err set when the query cannot be prepared (no pattern changed). */
int store_console_evidence(sqlite3 *db, json_t *patterns, size_t max, struct sd_err *err);

#endif
