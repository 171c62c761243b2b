/*
 * store.h: the trajectory store (SQLite, WAL).
 *
 * DESIGN
 * One SQLite file holds everything swarmdeck learns: strategies, runs,
 * trajectories (one per deployment), their timed operations, their captured
 * output, the leases of live sandboxes and imported market data. The schema is
 * created and upgraded by numbered migrations run at open (table `meta` holds
 * `schema_version`). The file and its -wal/-shm companions are created 0600.
 *
 * Writes go through ONE writer thread that owns the write connection. Callers
 * submit jobs (closures run on the writer thread inside a batch transaction);
 * the jobs wait in the queue, with no transaction open, until the oldest has
 * waited STORE_BATCH_MS milliseconds, STORE_BATCH_ROWS are queued, or a call or
 * flush waits; then the writer takes the write lock, runs them in one
 * transaction and commits at once (design.md §2, notes §5.1.7; store_int.h).
 * store_call() runs a job and waits for its result (for example to learn a new
 * row id); store_submit() does not wait; store_flush() waits until everything
 * submitted so far is committed. Several processes may share a store: the
 * writer holds the lock only while jobs run and uses a busy timeout, so another
 * process's commit only delays it.
 *
 * Readers never use the writer connection: store_reader() opens a read-only
 * connection for the calling thread's own use (close it with
 * sqlite3_close_v2). Readers see committed data only.
 *
 * Output capture (table `output`): chunks are byte exact, stdout and stderr
 * kept apart (stream 1 and 2), ordered by a per-trajectory sequence number.
 * Each trajectory keeps at most `head` bytes from the start and `tail` bytes
 * from the end; chunks that fall between are deleted as the tail advances
 * and their byte count is recorded in trajectories.output_dropped.
 *
 * FILES
 * engine/store's files call each other in one direction only, from the
 * bottom up (a file calls only those above it in this list):
 *
 *   query.c          store_dberr and the SAVEPOINT pair; SQLite only
 *   store_schema.c   the migrations
 *   store_crypt.c    encryption at rest, the meta table
 *   record.c         one trajectory as JSON (record.h)
 *   chain.c          the fingerprint chain over record.c's canonical form
 *   store_sql.c      the SQLite error naming the store, the statement cache
 *   store_queue.c    submit, call, flush: the jobs' queue (sequence numbers)
 *   store_output.c   output capture: head/tail state and its jobs
 *   store_writer.c   the writer thread: group commit, failed batches; seals
 *                    the chain (chain.c) in the batch that makes a record final
 *   store.c          open, migrate, close, readers, the chain summary
 *   store_jobs.c     rekey, the verification record, leases
 *   traj.c           writing runs, trajectories and operations (jobs)
 *   query_*.c        the named queries of query.h, one file per domain
 *   bundle_check.c   an import bundle's fields checked as hostile input
 *   export.c         export bundles and their import
 *
 * So the writer never calls back into a job's file, and the chain and
 * export share record.c instead of calling each other. store_sql.c to
 * store_jobs.c share struct store through the private store_int.h (its
 * locking is written there); the files above them see only this header.
 *
 * THREADS
 * store_open/store_close: one owner thread. Everything else: any thread.
 */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define STORE_BATCH_ROWS     1000
#define STORE_BATCH_MS       25
#define STORE_SCHEMA_VERSION 7

struct store;

enum store_flags {
    STORE_READONLY = 1 << 0, /* no writer thread; every write returns SD_EUSAGE */
    STORE_CREATE = 1 << 1,   /* create the file (and parent dirs, 0700) if missing */
};

/* A writer job: runs on the writer thread with the write connection inside an
 * open transaction. Returns 0 or -1 (having set err). A failing job does not
 * roll back the batch: it must leave the database consistent itself (use a
 * SAVEPOINT if it writes several rows that must stand together). */
typedef int (*store_job_fn)(struct store *s, sqlite3 *db, void *arg, struct sd_err *err);

/* Open (and if needed create and migrate) the store at path. On success *out
 * is the store and 0 is returned; on failure -1 and *out is NULL, err says why
 * (SD_EENV for a missing, unreadable, corrupt, non-SQLite or newer-schema
 * file; SD_ENOMEM), and nothing is changed: a file this call created is
 * removed again (parent directories it created stay). Without STORE_CREATE a
 * missing or empty file is refused. A read-only open refuses a store whose
 * schema is older than this binary (it cannot migrate). */
int store_open(const char *path, int flags, struct store **out, struct sd_err *err);

/* store_open for a store that may be encrypted at rest (docs/security.md).
 * secret (may be NULL) is a base64 32-byte key or a passphrase. An encrypted
 * store opened without a secret, or with the wrong one, is refused with
 * SD_EKEY before anything else is read or written. A new (empty) store
 * opened read-write with a secret becomes encrypted; a plaintext store that
 * already holds data is refused (SD_EKEY: use store_rekey). The secret is
 * not kept: only the derived key, wiped at close. */
int store_open_key(const char *path, int flags, const char *secret, struct store **out,
                   struct sd_err *err);

/* Re-encrypt every encrypted value under new_secret (NULL: decrypt the store
 * back to plaintext; a plaintext store given a secret becomes encrypted).
 * One transaction: a crash leaves the store wholly under the old key or
 * wholly under the new one. Refused (SD_EENV, naming the pid) while another
 * live swarmdeck process has deployments or a run under way on the store. Flushes. The file is
 * compacted at store_close when encryption was turned on or off, so no freed page keeps old bytes.
 * Returns 0 or -1 with err (nothing changed). */
int store_rekey(struct store *s, const char *new_secret, struct sd_err *err);

/* 1 when process pid, started at start (proc_start_time), is still alive
 * (a reused pid is not), else 0. The owner check of leases, trajectories
 * and runs. Any thread; cannot fail. */
int store_owner_alive(int pid, uint64_t start);

/* Writer thread only (from a job): trajectory traj_id was made final in
 * this batch; seal it into the fingerprint chain before the batch commits
 * (chain.h). Returns 0 (when memory runs out the commit scans instead). */
int store_chain_note(struct store *s, int64_t traj_id);

/* Record the outcome of a full verification for store_chain_summary:
 * "N:FINGERPRINT" of the head verified, or "broken:ID". A read-only store
 * records nothing (returns 0). Flushes. Returns 0 or -1 with err. */
int store_chain_verified(struct store *s, const char *state, struct sd_err *err);

/* Make the full-text index traj_fts usable on a store_reader connection: a
 * no-op on a plaintext store; on an encrypted one it builds an in-memory
 * index from the decrypted rows (cost grows with the trajectories), since
 * the on-disk index holds no encrypted text. Returns 0 or -1 with err. */
int store_reader_fts(struct store *s, sqlite3 *db, struct sd_err *err);

/* Commit everything pending, stop the writer, close. Accepts NULL. */
void store_close(struct store *s);

/* The path the store was opened with (owned by s). */
const char *store_path(const struct store *s);

/* The random id of this store (hex, created at first open). Owned by s. */
const char *store_id(const struct store *s);

/* 1 when this store's values are encrypted at rest (docs/security.md), else 0.
 * For the console's lock mark and `status`. */
int store_encrypted(const struct store *s);

/* A short line on the fingerprint chain for the console header and `status`,
 * e.g. "off", "unverified", "ok (1234)", "BROKEN at #56". Cheap: never runs a
 * full verification on the calling thread. */
void store_chain_summary(struct store *s, char *buf, size_t n);

/* Queue fn(arg) for the writer thread. free_arg (may be NULL) is called with
 * arg on the writer thread after fn has run (or if the store is closing).
 * Returns 0, or -1 if the store is read-only or closed (free_arg is still
 * called). Never blocks for long: the queue is unbounded. */
int store_submit(struct store *s, store_job_fn fn, void *arg, void (*free_arg)(void *));

/* Write failures since open: batches lost (a failed COMMIT, SQLite rolling a
 * batch back), queued jobs that failed, and waited-for jobs that failed on
 * the storage itself (disk full, I/O error, read-only, damaged file). When
 * the count is not 0 and err is not NULL, err (SD_EENV) names the store's
 * path and the last failure's cause, e.g. "PATH: cannot write the store:
 * commit failed: database or disk is full (No space left on device)".
 * 0 for a read-only store. Any thread. */
uint64_t store_write_failures(struct store *s, struct sd_err *err);

/* 1 while the store is failing: the last batch lost writes (a later commit
 * of a batch in which nothing failed clears it), err then as above; else 0.
 * For refusing to start work whose records could not be kept. Any thread. */
int store_write_failing(struct store *s, struct sd_err *err);

/* Run fn(arg) on the writer thread and wait for it to have run (not for the
 * commit). Returns fn's result; err is filled by fn on failure. Returns -1
 * with SD_EUSAGE if the store is read-only or closing. Called from a job (on
 * the writer thread) it runs fn at once, inside the current batch. */
int store_call(struct store *s, store_job_fn fn, void *arg, struct sd_err *err);

/* Wait until every job submitted before this call is committed (durable with
 * synchronous=NORMAL semantics). Returns 0, or -1 (SD_EENV, naming the path
 * and the cause) if a write failed since the last flush that returned (each
 * failure, store_write_failures, is reported to one flush). Returns 0 at once on a read-only store;
 * -1 (SD_EUSAGE) if called from a job. */
int store_flush(struct store *s, struct sd_err *err);

/* Without waiting: store_mark returns the sequence number of the newest job
 * submitted so far, and *gen the write failures so far; store_settled says
 * (1) whether every job up to mark is committed with no write failure since
 * (fail count still gen), else 0. For a thread that queued jobs just before
 * another thread's flush (a worker's, making its deployment durable): it
 * knows they are committed without a commit of its own, and flushes only
 * when store_settled says 0. A read-only store: mark 0, settled 0. Any
 * thread. */
uint64_t store_mark(struct store *s, uint64_t *gen);
int store_settled(struct store *s, uint64_t mark, uint64_t gen);

/* Writer-thread only: a cached prepared statement for sql (the pointer is the
 * cache key, so pass string literals). Reset and bindings cleared for you.
 * Returns NULL on a prepare error (with err set). */
sqlite3_stmt *store_stmt(struct store *s, const char *sql, struct sd_err *err);

/* A statement for sql on db, for code that runs both on the writer and on
 * readers (the chain's sealing, record.h): with s not NULL (the writer
 * thread, db its connection) from the writer's cache, keyed by the text
 * (so SQL built at run time is fine), reset and unbound; with s NULL newly
 * prepared. Give it back with store_stmt_put(s, st) (reset, or finalized
 * when s is NULL). NULL on a prepare error: SQLite's message is on db. */
sqlite3_stmt *store_stmt_get(struct store *s, sqlite3 *db, const char *sql);
void store_stmt_put(struct store *s, sqlite3_stmt *st);

/* Open a read-only connection for the calling thread (WAL readers do not
 * block the writer). On an encrypted store the connection reads plaintext:
 * TEMP views named trajectories, output, runs and operations decrypt
 * (store_crypt.h).
 * Returns NULL with err set on failure. */
sqlite3 *store_reader(struct store *s, struct sd_err *err);

/* A reader like store_reader's, taken from the store's small pool of idle
 * ones when it has one (opening a connection parses the schema and registers
 * the store's functions: the cost of a short read on a hot path, once per
 * deployment before this pool). *gen receives a token for
 * store_reader_return. The caller owns the connection until it gives it back
 * and must not change it (no TEMP objects, no pragmas: use store_reader for
 * that). Returns NULL with err set on failure. Any thread. */
sqlite3 *store_reader_borrow(struct store *s, uint64_t *gen, struct sd_err *err);

/* Give back a connection from store_reader_borrow (gen: its token; db NULL
 * is a no-op). It goes back into the pool when it is idle (no statement left
 * unfinalized, no transaction open), the pool has room and the store's key
 * has not changed since it was borrowed; otherwise it is closed. Any thread. */
void store_reader_return(struct store *s, sqlite3 *db, uint64_t gen);

/* --- output capture -------------------------------------------------------
 * Append one chunk (len > 0) of stream (1 stdout, 2 stderr) to trajectory
 * traj_id. Copies data. Asynchronous; sequence numbers are assigned in call
 * order per trajectory, so one trajectory must be appended from one thread at
 * a time. Head/tail caps come from store_set_output_caps (defaults 1 MiB head,
 * 1 MiB tail). Chunks wholly inside the dropped middle are deleted and counted
 * in trajectories.output_dropped; output_bytes counts every byte appended.
 *
 * The exact rule, over the trajectory's bytes in call order (both streams):
 * the head is exactly the first `head` bytes (a chunk crossing the boundary is
 * stored as two rows); the tail is the shortest run of whole later chunks,
 * counted from the end, that holds at least `tail` bytes (so between `tail`
 * and `tail` + one chunk - 1 bytes), or all of them if fewer.
 * output_bytes = head kept + tail kept + output_dropped. The counters in
 * trajectories are written with each batch's commit.
 *
 * Returns 0, or -1 if len is 0, stream is not 1 or 2, the store is read-only
 * or closing, or memory ran out (the chunk is then not stored). Storage
 * errors surface in store_get_stats (job_errors, last_error). */
int store_output_append(struct store *s, int64_t traj_id, int stream, const void *data, size_t len);
/* Forget the writer's in-memory state for traj_id once its output is
 * complete (writes the final counters). Asynchronous, same return values as
 * store_output_append. Appending again later continues the sequence and the
 * counters, but the earlier rows are kept as they are (head closed). */
int store_output_end(struct store *s, int64_t traj_id);
/* Caps apply to chunks appended after the call. Any thread. */
void store_set_output_caps(struct store *s, size_t head, size_t tail);

/* --- diagnostics ----------------------------------------------------------
 * Counters of the writer thread since open (all zero for a read-only store).
 * commits counts successful COMMITs; commit_errors counts batches lost (a
 * failed COMMIT, or SQLite rolling a batch back after an error); job_errors
 * counts jobs that returned -1, and last_error keeps the message of the last
 * failed store_submit job (store_call reports to its caller instead). */
#define STORE_COMMIT_BUCKETS 12
/* The upper bounds (seconds) of the commit-time histogram's buckets. */
extern const double store_commit_le[STORE_COMMIT_BUCKETS];

struct store_stats {
    uint64_t jobs;
    uint64_t commits;
    uint64_t job_errors;
    uint64_t commit_errors;
    char last_error[512];
    /* How long each commit took (sealing, counters, COMMIT and its sync):
     * commit_le[i] counts commits of at most store_commit_le[i] seconds. */
    uint64_t commit_le[STORE_COMMIT_BUCKETS];
    double commit_seconds; /* their sum */
    /* Reader connections opened (store_reader, and store_reader_borrow when
     * its pool was empty) and borrows the pool answered; store_flush calls.
     * For tests of what a deployment costs the store. */
    uint64_t readers_opened, readers_reused, flushes;
};
void store_get_stats(struct store *s, struct store_stats *out);

/* --- leases ---------------------------------------------------------------
 * A lease is written (and committed: this call flushes) before a sandbox is
 * started, and removed when it is destroyed. */
struct store_lease {
    char sandbox_id[80];
    int64_t traj_id;
    char provider[32];
    int pid;            /* local: the swarmdeck-sandbox helper's pid, else 0 */
    uint64_t pid_start; /* /proc/PID/stat starttime, to detect pid reuse */
    int owner_pid;      /* the swarmdeck process that owns it */
    uint64_t owner_start;
    char workdir[512];
    int64_t created_at; /* ms since the epoch */
};
int store_lease_add(struct store *s, const struct store_lease *l, struct sd_err *err);
int store_lease_remove(struct store *s, const char *sandbox_id); /* async */
/* Read every lease (committed). *out is malloc'ed (free it), *n its count. */
int store_lease_list(struct store *s, struct store_lease **out, size_t *n, struct sd_err *err);

#endif
