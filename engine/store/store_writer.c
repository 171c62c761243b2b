/*
 * store_writer.c: the store's writer thread: group commit, failed batches,
 * and sealing the fingerprint chain in the batch that makes a trajectory
 * final (store.h: store_chain_note; store_int.h: store_writer_main).
 *
 * DESIGN
 * The write connection belongs to this one thread, like redis's bio.c: it
 * sleeps on s->wcond until the queue (store_queue.c) is due, and every other
 * thread only queues jobs and waits for their sequence numbers to settle.
 *
 * Group commit. Jobs gather in the queue first, with no transaction open:
 * the writer sleeps until the oldest queued job has waited STORE_BATCH_MS, a
 * whole batch (STORE_BATCH_ROWS) is queued, a store_call waits for a job, or
 * someone waits in store_flush (queue_due). Only then does it take the write
 * lock (BEGIN IMMEDIATE), run the whole queue in order, also what is queued
 * meanwhile while the batch has room and time, and COMMIT at once. So the
 * write lock is held only while jobs run, never while waiting for more:
 * another process (a cleanup, a second deploy, rekey, a sync import) gets it
 * between two batches within its busy timeout even while this one streams
 * output (the writer used to open the batch on the first job and hold it
 * through the whole window; tests/unit/store_wlock_test.c). A lone flush
 * costs one commit, and a firehose of jobs one commit per thousand; no job
 * is committed later than STORE_BATCH_MS after it was queued plus the
 * batch's run. SQLITE_BUSY (another process holds the write lock longer
 * than busy_timeout) is retried.
 *
 * A batch fails when COMMIT fails or when a job's error made SQLite roll the
 * transaction back by itself (out of memory, disk full, I/O error: the writer
 * checks sqlite3_get_autocommit after each job). The writer then forgets its
 * in-memory output state (store_out_free_all), which reloads from the
 * database on next use, so the database and the writer never disagree about
 * what is stored.
 *
 * Write failures are never silent (issue 14): a lost batch, a queued job that
 * failed (its caller is gone, so nobody else would know) and a waited-for
 * job that failed on the storage itself (disk full, I/O error, read-only,
 * damaged file) each count in fail_gen with a message naming the cause
 * (SQLite's and the system's error), which store_flush reports once and
 * store_write_failures at any time. `failing` says whether the last batch
 * lost writes: a commit of a batch in which nothing failed clears it.
 *
 * Just before COMMIT the writer writes the output counters
 * (store_output.c) and seals the trajectories noted final in this batch
 * (chain.c), in the order they were noted: one chain, no races.
 *
 * THREADS
 * The writer thread only (asserted), except where a function says it takes
 * s->lock to publish counters, settle sequence numbers or wake waiters.
 */
#define _GNU_SOURCE
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "store_crypt.h"
#include "store_zstd.h"

/* --- the writer thread ---------------------------------------------------- */

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_data_version[] = "PRAGMA data_version";

/* Run sql (one of the statements above: a cached statement, parsed once, not
 * once per batch), retrying while another process holds the lock past
 * busy_timeout. Returns SQLite's result code (SQLITE_OK for done). */
static int writer_exec_retry(struct store *s, const char *sql)
{
    struct sd_err e = {0};
    sqlite3_stmt *st = store_stmt(s, sql, &e);
    int rc, tries = 0;

    if (st == NULL)
        return sqlite3_errcode(s->db) != SQLITE_OK ? sqlite3_errcode(s->db) : SQLITE_NOMEM;
    for (;;) {
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_BUSY || tries++ >= 5)
            break;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Inside a batch just begun: has another connection committed since the
 * last check (PRAGMA data_version moves only for others' commits)? 1 yes or
 * unknown, 0 no. Writer thread only. */
static int writer_others_wrote(struct store *s)
{
    struct sd_err e = {0};
    sqlite3_stmt *st = store_stmt(s, sql_data_version, &e);
    int64_t v;

    if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
        if (st != NULL)
            sqlite3_reset(st);
        s->data_version = -1;
        return 1;
    }
    v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (v == s->data_version)
        return 0;
    s->data_version = v;
    return 1;
}

int store_chain_note(struct store *s, int64_t traj_id)
{
    ASSERT_WRITER(s);
    if (s->nseal == s->seal_cap) {
        size_t cap = s->seal_cap ? s->seal_cap * 2 : 64;
        int64_t *v = realloc(s->seal_ids, cap * sizeof *v);
        if (v == NULL) {
            s->seal_all = 1; /* the scan at commit finds it instead */
            return 0;
        }
        s->seal_ids = v;
        s->seal_cap = cap;
    }
    s->seal_ids[s->nseal++] = traj_id;
    return 0;
}

/* Record a sealing failure without failing the batch: the trajectory stays
 * outside the chain and `verify` reports it. */
static void chain_seal_failed(struct store *s, int64_t id, const struct sd_err *e)
{
    store_lock(s);
    s->stats.job_errors++;
    snprintf(s->stats.last_error, sizeof s->stats.last_error, "fingerprint of #%lld: %.400s",
             (long long)id, e->msg);
    store_unlock(s);
}

/* Seal the trajectories made final in this batch, in the order they were
 * noted (the writer's order: one chain, no races). The counters of their
 * output are written first so the fingerprint sees the final numbers. */
static void chain_seal_batch(struct store *s)
{
    struct sd_err e = {0};

    ASSERT_WRITER(s);
    if (s->nseal == 0 && !s->seal_all)
        return;
    if (store_out_write_counters(s) != 0)
        return; /* the commit fails the batch just after */
    if (s->seal_all) {
        /* A note that fails (out of memory) sets seal_all again: the next
         * batch scans again. */
        sqlite3_stmt *st = NULL;
        s->nseal = 0;
        s->seal_all = 0;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT id FROM main.trajectories WHERE fingerprint IS NULL AND"
                               " status IN ('succeeded','failed','timeout','cancelled',"
                               "'interrupted') ORDER BY coalesce(ended_at, created_at), id",
                               -1, &st, NULL) == SQLITE_OK)
            while (sqlite3_step(st) == SQLITE_ROW)
                store_chain_note(s, sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
    }
    for (size_t i = 0; i < s->nseal; i++) {
        if (chain_seal(s, s->db, s->seal_ids[i], &e) != 0) {
            chain_seal_failed(s, s->seal_ids[i], &e);
            if (sqlite3_get_autocommit(s->db))
                break; /* SQLite gave up the batch: the commit reports it */
        }
    }
    s->nseal = 0;
}

/* "what: SQLite's message (the system's error)" for the writer's last
 * failure into buf, e.g. "commit failed: disk I/O error (Read-only file
 * system)" or "commit failed: database or disk is full (free space ...)". */
static void writer_cause(struct store *s, const char *what, char *buf, size_t n)
{
    int sys = sqlite3_system_errno(s->db);

    /* SQLite clears errno for a full disk (it says so in its message). */
    if (sys == 0 && sqlite3_errcode(s->db) == SQLITE_FULL)
        snprintf(buf, n, "%s: %s (free space on the store's filesystem)", what,
                 sqlite3_errmsg(s->db));
    else
        snprintf(buf, n, "%s: %s%s%s%s", what, sqlite3_errmsg(s->db), sys ? " (" : "",
                 sys ? strerror(sys) : "", sys ? ")" : "");
}

/* Record a write failure: fail_gen, failing and the message (takes the lock). */
static void writer_note_failure(struct store *s, const char *why)
{
    store_lock(s);
    s->fail_gen++;
    s->failing = 1;
    snprintf(s->fail_msg, sizeof s->fail_msg, "%s", why);
    store_unlock(s);
}

/* Record a failed batch (called with the lock NOT held). */
static void writer_fail(struct store *s, const char *why)
{
    ASSERT_WRITER(s);
    store_out_free_all(s);
    s->nseal = 0; /* their finishing updates were rolled back too */
    store_lock(s);
    s->stats.commit_errors++;
    store_unlock(s);
    writer_note_failure(s, why);
}

/* 1 when SQLite's last error on db is the storage's own (the disk, the
 * file, memory), not a constraint or a caller's bad input. */
static int storage_error(sqlite3 *db)
{
    switch (sqlite3_errcode(db)) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PROTOCOL:
        return 1;
    default:
        return 0;
    }
}

const double store_commit_le[STORE_COMMIT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};

/* End the batch: write the output counters, COMMIT, and wake flushers. */
static void writer_commit(struct store *s)
{
    int committed = 0;
    uint64_t t0 = sd_mono_ns();
    double secs;

    ASSERT_WRITER(s);
    if (s->in_txn && !s->batch_failed) {
        char why[256];
        store_stmt_reset_all(s);
        chain_seal_batch(s);
        if (store_out_write_counters(s) != 0) {
            writer_cause(s, "cannot update output counters", why, sizeof why);
            store_exec(s->db, "ROLLBACK");
            writer_fail(s, why);
        } else if (writer_exec_retry(s, sql_commit) != SQLITE_OK) {
            writer_cause(s, "commit failed", why, sizeof why);
            store_exec(s->db, "ROLLBACK");
            writer_fail(s, why);
        } else {
            committed = 1;
        }
    }
    s->in_txn = 0;
    secs = (double)(sd_mono_ns() - t0) / 1e9;
    store_lock(s);
    s->stats.commits += committed;
    if (committed && !s->batch_job_failed)
        s->failing = 0;
    if (committed) {
        s->stats.commit_seconds += secs;
        for (int i = 0; i < STORE_COMMIT_BUCKETS; i++)
            s->stats.commit_le[i] += secs <= store_commit_le[i];
    }
    if (s->batch_hi > s->settled)
        s->settled = s->batch_hi;
    pthread_cond_broadcast(&s->cond);
    store_unlock(s);
}

static int writer_begin(struct store *s, struct sd_err *err)
{
    int holds;

    ASSERT_WRITER(s);
    if (writer_exec_retry(s, sql_begin) != SQLITE_OK)
        return store_sql_err(err, s->db, s->path, "cannot start a batch");
    skey_sealer_batch(s->sealer); /* one fresh nonce per batch (store_crypt.h) */
    /* Another process may have rekeyed, encrypted or decrypted the store
     * since this one opened it: values sealed with the old key (or none)
     * could not be opened any more and would break the chain. Checked
     * under the write lock, so no rekey can slip in before the commit;
     * only when another connection committed since the last check (a
     * rekey is a commit), not once per batch. */
    if (writer_others_wrote(s) && (holds = skey_holds(s->db, s->key, s->id)) != 1) {
        s->data_version = -1; /* checked again next time */
        store_exec(s->db, "ROLLBACK");
        if (holds < 0)
            return store_sql_err(err, s->db, s->path, "cannot start a batch");
        sd_err_set(err, SD_EKEY,
                   "%s: another swarmdeck process changed the store's encryption key (rekey) "
                   "while this one ran; nothing more is written: run the command again with "
                   "the store's key",
                   s->path);
        writer_fail(s, err->msg);
        return -1;
    }
    s->in_txn = 1;
    s->batch_failed = 0;
    s->batch_job_failed = 0;
    s->batch_rows = 0;
    s->batch_start_ns = sd_mono_ns();
    return 0;
}

static int batch_due(const struct store *s)
{
    return s->batch_rows >= STORE_BATCH_ROWS ||
           sd_mono_ns() - s->batch_start_ns >= (uint64_t)STORE_BATCH_MS * 1000000u;
}

/* Run a list of jobs taken from the queue, in order. */
static void writer_run(struct store *s, struct job *list)
{
    struct sd_err jerr;

    while (list != NULL) {
        struct job *j = list;
        struct call *c = j->call;
        int rc;

        list = j->next;
        jerr.code = 0;
        jerr.msg[0] = '\0';
        if (!s->in_txn && writer_begin(s, c != NULL ? c->err : &jerr) != 0) {
            struct sd_err *e = c != NULL ? c->err : &jerr;
            rc = -1;
            /* (A changed key was recorded by writer_begin itself.) */
            if (e->code != SD_EKEY && (c == NULL || storage_error(s->db))) {
                char why[256];
                writer_cause(s, "cannot start a batch", why, sizeof why);
                writer_note_failure(s, why);
            }
        } else {
            rc = j->fn(s, s->db, j->arg, c != NULL ? c->err : &jerr);
            if (sqlite3_get_autocommit(s->db)) {
                /* SQLite rolled the whole batch back (NOMEM, FULL, IOERR). */
                char why[256];
                writer_cause(s, "rolled back after", why, sizeof why);
                writer_fail(s, why);
                s->batch_failed = 1;
            } else if (rc != 0 && (c == NULL || storage_error(s->db))) {
                /* This job's rows are not stored; the rest of the batch
                 * may still commit. */
                char why[256];
                if (c == NULL) /* its own message: SQLite's may be reset by now */
                    snprintf(why, sizeof why, "a write failed: %.230s", jerr.msg);
                else
                    writer_cause(s, "a write failed", why, sizeof why);
                s->batch_job_failed = 1;
                writer_note_failure(s, why);
            }
        }
        if (j->free_arg != NULL)
            j->free_arg(j->arg);
        s->batch_hi = j->seq;
        s->batch_rows++;
        store_lock(s);
        s->stats.jobs++;
        if (rc != 0) {
            s->stats.job_errors++;
            if (c == NULL)
                snprintf(s->stats.last_error, sizeof s->stats.last_error, "%s", jerr.msg);
        }
        if (c != NULL) {
            c->rc = rc;
            c->done = 1;
            pthread_cond_broadcast(&s->cond);
        } else {
            free(j);
        }
        store_unlock(s);
        if (!s->in_txn || s->batch_failed || batch_due(s))
            writer_commit(s);
    }
}

/* 1 when the queue's jobs should run now: a store_call waits for one of them,
 * someone waits in store_flush, the store is closing, a whole batch is
 * queued, or the oldest job has waited out the batch window. Caller holds
 * s->lock. */
static int queue_due(const struct store *s)
{
    ASSERT_LOCKED(s);
    return s->head != NULL &&
           (s->queue_urgent || s->flush_waiters > 0 || s->stopping ||
            s->queued >= STORE_BATCH_ROWS ||
            sd_mono_ns() - s->queue_since_ns >= (uint64_t)STORE_BATCH_MS * 1000000u);
}

/* Sleep until the queue is due (queue_due): without a timeout while it is
 * empty, else until the oldest job's window ends or enqueue wakes the writer
 * early. Returns 0, or -1 when the store is closing and the queue is empty.
 * No transaction is open: other processes may write meanwhile. Caller (the
 * writer) holds s->lock. */
static int writer_wait_due(struct store *s)
{
    ASSERT_LOCKED(s);
    while (!queue_due(s)) {
        if (s->head == NULL) {
            if (s->stopping)
                return -1;
            s->writer_waiting = 1;
            store_wait_on(s, &s->wcond, NULL);
        } else {
            /* The condition variable uses CLOCK_REALTIME; sleep the
             * remaining time relative to it. */
            uint64_t end = s->queue_since_ns + (uint64_t)STORE_BATCH_MS * 1000000u;
            uint64_t now = sd_mono_ns(), left = end > now ? end - now : 0;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)(left / 1000000000u);
            ts.tv_nsec += (long)(left % 1000000000u);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            s->writer_waiting = s->writer_timed = 1;
            store_wait_on(s, &s->wcond, &ts);
        }
        s->writer_waiting = s->writer_timed = 0;
    }
    return 0;
}

/* Take the whole queue (caller holds s->lock). */
static struct job *queue_take(struct store *s)
{
    struct job *list = s->head;

    ASSERT_LOCKED(s);
    s->head = s->tail = NULL;
    s->queued = 0;
    s->queue_urgent = 0;
    return list;
}

void *store_writer_main(void *arg)
{
    struct store *s = arg;

    store_lock(s);
    for (;;) {
        if (writer_wait_due(s) != 0)
            break;
        /* One batch: the queue, and what is queued while it runs, as long
         * as the batch has room and time (batch_due); then COMMIT at once.
         * The write lock is held only while jobs run, never while waiting. */
        do {
            struct job *list = queue_take(s);
            store_unlock(s);
            writer_run(s, list);
            store_lock(s);
        } while (s->head != NULL && s->in_txn && !batch_due(s));
        if (s->in_txn) {
            store_unlock(s);
            writer_commit(s);
            store_lock(s);
        }
    }
    store_unlock(s);
    store_out_free_all(s);
    store_stmt_finalize_all(s);
    store_zc_free(s->zc);
    s->zc = NULL;
    skey_sealer_free(s->sealer);
    s->sealer = NULL;
    return NULL;
}
