/*
 * query.h: the store's named queries. Every SQL statement of swarmdeck lives
 * in engine/store; callers outside it (the coordinator, the catalog, the
 * learner, the benchmark, the command line and the console) call these.
 *
 * Conventions, the same for every function here:
 * - `db` is a reader connection (store_reader) unless the name says "job":
 *   a job runs on the writer thread through store_call/store_submit and gets
 *   the writer's connection. Readers may block on a busy store for up to the
 *   connection's busy timeout: none of these is for a UI thread.
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

/* The one SQLite error check: sets err to "WHAT: <sqlite message of db>"
 * (SD_EENV) and returns -1. */
int store_dberr(struct sd_err *err, sqlite3 *db, const char *what);

/* --- meta: provider health (query.c) ---------------------------------- */

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

#endif
