/*
 * store_int.h: the store writer's private header, shared by the files that
 * make up struct store (store.h is the interface; the job files above them,
 * traj.c, query_*.c and export.c, see only store.h).
 *
 * FILES (bottom up; a file calls only those above it, as store.h lists)
 *   store_sql.c     the SQLite error that names the store, the writer's
 *                   cache of prepared statements
 *   store_queue.c   the job queue: submit, call, flush, the counters
 *   store_output.c  output capture: per-trajectory head/tail state and the
 *                   jobs that append and end a trajectory's output
 *   store_writer.c  the writer thread: group commit, failed batches, sealing
 *                   the fingerprint chain
 *   store.c         open and migrate, close, readers, the chain summary
 *   store_jobs.c    rekey, the verification record, leases
 *
 * LOCKING
 * One mutex, s->lock, and one condition variable, s->cond, as in redis's
 * bio.c. The lock guards the queue (head, tail), the sequence numbers
 * (submitted, settled, flush_waiters), the failure record (fail_gen,
 * fail_reported, fail_msg, failing), the counters (stats), stopping,
 * writer_waiting, writer_timed, queued, queue_since_ns, queue_urgent, the reader pool (rpool,
 * nrpool, key_gen) and the output caps (out_head, out_tail). Take it with store_lock and wait with
 * store_wait only, so that code whose contract says "caller holds s->lock" can assert it
 * (ASSERT_LOCKED). Every sleeper re-checks its own predicate. The writer alone sleeps on s->wcond
 * (signalled); store_call and store_flush callers sleep on s->cond (broadcast when a call is done
 * or a batch settles), so a job done never wakes the writer and a job queued never wakes a flusher.
 *
 * Batched wake-ups: jobs wait in the queue, with no transaction open, until
 * the queue is due (store_writer.c, queue_due): the oldest job (queued at
 * queue_since_ns) has waited STORE_BATCH_MS, STORE_BATCH_ROWS are queued, a
 * store_call waits (queue_urgent), someone flushes, or the store closes.
 * enqueue wakes the writer only for those and for the first job of an empty
 * queue (the writer then sleeps until that job's window ends: writer_timed);
 * the writer then runs the whole queue in one transaction and commits at
 * once, so SQLite's write lock is held only while jobs run, never across a
 * window, and other processes writing the same file get it in between.
 *
 * The fields under "Writer thread only" (the open batch, the statement
 * cache, the output state, the seal list) belong to the writer thread once
 * it runs (ASSERT_WRITER); before it starts and after it is joined, the owner
 * thread has them (out_head and out_tail sit there but are read and written
 * under s->lock, since store_set_output_caps runs on any thread). path, id
 * and flags are set at open and then only read.
 * db is the writer's connection (in read-only mode the only one, used by the
 * owner). key changes only in rekey, on the writer thread.
 */
#ifndef SD_STORE_INT_H
#define SD_STORE_INT_H

#include <assert.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

#define OUT_BUCKETS       1024
#define STORE_READER_POOL 8 /* idle readers kept (store_reader_borrow) */

struct job {
    struct job *next;
    uint64_t seq;
    store_job_fn fn;
    void *arg;
    void (*free_arg)(void *);
    struct call *call; /* NULL for store_submit */
};

/* A store_call in progress: lives on the caller's stack. */
struct call {
    int done;
    int rc;
    struct sd_err *err;
};

struct stmt_slot;   /* store_sql.c */
struct out_state;   /* store_output.c */
struct skey;        /* store_crypt.h */
struct store_zc;    /* store_zstd.h */
struct skey_sealer; /* store_crypt.h */

struct store {
    char *path;
    char id[33];
    int flags;
    sqlite3 *db; /* writer's connection (read-only mode: the only one) */
    /* The encryption key (NULL: plaintext). Changed only by rekey, on the
     * writer thread; the writer's SQL functions read it through &s->key. */
    struct skey *key;
    int vacuum_at_close; /* rekey changed the plaintext-ness: purge free pages */

    pthread_mutex_t lock;
    pthread_cond_t cond;  /* store_call and store_flush callers sleep here */
    pthread_cond_t wcond; /* the writer sleeps here (only it) */
    pthread_t lock_owner; /* valid while locked; for assertions */
    int locked;
    pthread_t writer;
    int writer_started;
    int writer_waiting;
    int writer_timed; /* it waits for the oldest queued job's window to end */
    int stopping;
    struct job *head, *tail;
    unsigned queued;         /* jobs in the queue (head..tail) */
    uint64_t queue_since_ns; /* sd_mono_ns when head was queued (queue not empty) */
    int queue_urgent;        /* a store_call's job is in the queue: run it now */
    uint64_t submitted, settled;
    int64_t stamp_ms; /* the last time store_submit_stamped handed out */
    int flush_waiters;
    uint64_t fail_gen, fail_reported;
    char fail_msg[256];
    int failing; /* the last batch lost writes (store_write_failing) */
    struct store_stats stats;
    /* Idle reader connections (store_reader_borrow), all opened under key
     * generation key_gen, which rekey bumps (and empties the pool). */
    sqlite3 *rpool[STORE_READER_POOL];
    int nrpool;
    uint64_t key_gen;

    /* Writer thread only. */
    int in_txn;
    int64_t data_version; /* PRAGMA data_version at the last key check; -1 none */
    uint64_t batch_start_ns;
    unsigned batch_rows;
    uint64_t batch_hi;
    int batch_failed;
    int batch_job_failed; /* a write of this batch failed; the rest may commit */
    struct stmt_slot *stmts;
    size_t nstmts, stmt_cap;
    struct stmt_slot *tstmts; /* store_stmt_get's, keyed by the text */
    size_t ntstmts, tstmt_cap;
    struct out_state *out[OUT_BUCKETS];
    struct out_state *out_dirty;
    size_t out_head, out_tail;  /* caps; read under lock by the writer */
    struct store_zc *zc;        /* output compression (store_zstd.h), made on first use */
    struct skey_sealer *sealer; /* output sealing (store_crypt.h), made on first use */
    /* Trajectories made final in this batch, sealed into the fingerprint
     * chain just before COMMIT (chain.h); seal_all: scan for them instead
     * (after migrating from v1, or when the list could not grow). */
    int64_t *seal_ids;
    size_t nseal, seal_cap;
    int seal_all;
};

/* --- the lock ------------------------------------------------------------- */

static inline void store_lock(struct store *s)
{
    pthread_mutex_lock(&s->lock);
    s->lock_owner = pthread_self();
    s->locked = 1;
}

static inline void store_unlock(struct store *s)
{
    s->locked = 0;
    pthread_mutex_unlock(&s->lock);
}

#define ASSERT_LOCKED(s) assert((s)->locked &&pthread_equal((s)->lock_owner, pthread_self()))
#define ASSERT_WRITER(s) assert(pthread_equal((s)->writer, pthread_self()))

/* Sleep on cv, s->cond or (the writer) s->wcond, until deadline if not
 * NULL; the lock is held again after. */
static inline void store_wait_on(struct store *s, pthread_cond_t *cv,
                                 const struct timespec *deadline)
{
    ASSERT_LOCKED(s);
    s->locked = 0;
    if (deadline != NULL)
        pthread_cond_timedwait(cv, &s->lock, deadline);
    else
        pthread_cond_wait(cv, &s->lock);
    s->lock_owner = pthread_self();
    s->locked = 1;
}

/* Sleep on s->cond (store_call and store_flush callers). */
static inline void store_wait(struct store *s, const struct timespec *deadline)
{
    store_wait_on(s, &s->cond, deadline);
}

/* sqlite3_exec without callback or message: SQLite's result code. */
static inline int store_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* --- SQL plumbing (store_sql.c) ------------------------------------------ */

/* Set err from db's last error, naming path and what failed: SD_EENV with
 * advice for a damaged or non-SQLite file, SD_ENOMEM when SQLite ran out of
 * memory, else SD_EENV with SQLite's message. Returns -1. Any thread that
 * owns db. */
int store_sql_err(struct sd_err *err, sqlite3 *db, const char *path, const char *what);

/* Reset every cached statement (before COMMIT: none may be in progress).
 * Writer thread only. Cannot fail. */
void store_stmt_reset_all(struct store *s);

/* Finalize every cached statement and free the cache (the writer's last
 * act). Writer thread only. Cannot fail. */
void store_stmt_finalize_all(struct store *s);

/* --- output capture (store_output.c) ------------------------------------- */

/* Forget every trajectory's output state, which reloads from the database
 * on next use (after a failed batch, and when the writer stops). Writer
 * thread only. Cannot fail. */
void store_out_free_all(struct store *s);

/* Write the counters of every trajectory whose output changed this batch
 * (inside the batch, before COMMIT). Returns 0, or -1 when a statement
 * failed (the trajectories not yet written stay dirty; the caller rolls the
 * batch back). Writer thread only. */
int store_out_write_counters(struct store *s);

/* --- readers (store.c) ---------------------------------------------------- */

/* Close every idle pooled reader and bump key_gen, so that a connection
 * borrowed before is closed when it comes back (after a rekey: a reader holds
 * its own copy of the key; at close). Takes s->lock. Cannot fail. */
void store_reader_pool_drain(struct store *s);

/* store_submit, and *t_ms (inside arg, read by fn on the writer) set to the time now, taken
 * under the queue's lock and never less than the previous job's: stamps are non-decreasing in
 * the order the writer runs the jobs. Any thread. */
int store_submit_stamped(struct store *s, store_job_fn fn, void *arg, void (*free_arg)(void *),
                         int64_t *t_ms);

/* --- the writer thread (store_writer.c) ---------------------------------- */

/* The writer thread's body (arg is the store): run queued jobs in batches
 * until s->stopping and the queue is empty, commit, free the output state
 * and the statement cache, return NULL. Started by store_open_key with
 * s->lock held, so it runs only once s->writer is set; joined by
 * store_close. */
void *store_writer_main(void *arg);

#endif
