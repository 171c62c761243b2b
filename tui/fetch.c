/*
 * fetch.c: the console's store reader (fetch.h): a worker (worker.h) whose
 * requests are four slots, and the reads it does through the store's
 * console queries (query.h).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch.h"
#include "query.h"
#include "worker.h"

#define RETRY_MS      100
#define OPEN_RETRY_MS 30000
#define VERIFY_GAP_MS 3000 /* least time between two verifications */
#define VERIFY_COST_X 5    /* ... or this many times the last one's duration */

struct fetch {
    struct fetch_conf conf;
    struct worker *w; /* the thread, its lock and its pipe (worker.h) */
    /* Under w's lock: */
    int hist_pending;
    int64_t out_want;    /* the output the UI wants (0: none) */
    int out_pending;     /* out_want is not read yet */
    int64_t out_busy;    /* the output being read now (0: none) */
    int hist_busy;       /* the history is being read now */
    int64_t det_want;    /* the details the UI wants (0: none) */
    int det_pending;     /* det_want is not read yet */
    int chain_pending;   /* the chain state is wanted */
    int verify_pending;  /* ... after a verification */
    uint64_t verify_due; /* mono ns: no verification before */
    unsigned verifies;   /* verifications run */
    struct fetch_result *hist_done, *out_done, *chain_done, *det_done; /* not yet taken */
    /* The reader thread's own: */
    sqlite3 *db;                         /* its reader connection (NULL: not open yet) */
    int job_kind;                        /* what pick took */
    int64_t job_id;                      /* ... its trajectory, or for the chain: verify */
    char last_state[CHAIN_HEX_LEN + 32]; /* the last verification's outcome ("" none) */
};

void fetch_result_free(struct fetch_result *r)
{
    if (r == NULL)
        return;
    free(r->rows);
    json_decref(r->failovers);
    json_decref(r->runmap);
    json_decref(r->detail);
    logring_free(r->ring);
    free(r);
}

/* Whether the read under way should end: the worker stops, or the output
 * being read is no longer the one wanted. Lock held. */
static int abandoned_locked(struct fetch *f, int kind, int64_t id)
{
    worker_assert_locked(f->w);
    return worker_stopping(f->w) || (kind == FETCH_OUTPUT && f->out_want != id) ||
           (kind == FETCH_DETAIL && f->det_want != id);
}

/* The same, taking the lock. */
static int abandoned(struct fetch *f, int kind, int64_t id)
{
    int r;
    worker_lock(f->w);
    r = abandoned_locked(f, kind, id);
    worker_unlock(f->w);
    return r;
}

/* The reader's busy handler: SQLite's default would wait five seconds
 * whatever happens; this one gives up as soon as the read is abandoned
 * (the caller's retry loop waits for the rest). */
struct busy_ctx {
    struct fetch *f;
    int kind, saw_busy;
    int64_t id;
    unsigned calls; /* times the handler ran */
};

static int on_busy(void *arg, int count)
{
    struct busy_ctx *b = arg;
    struct timespec ts = {0, 20 * 1000000L};
    b->saw_busy = 1;
    b->calls++;
    if (count >= 25 || abandoned(b->f, b->kind, b->id))
        return 0;
    nanosleep(&ts, NULL);
    return 1;
}

static int is_busy(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_PROTOCOL;
}

/* --- the reads ------------------------------------------------------------- */

/* The newest history_limit trajectories. Returns an SQLite code. */
static int read_history(struct fetch *f, sqlite3 *db, struct fetch_result *res)
{
    struct sd_err err = {0};
    if (store_console_history(db, f->conf.history_limit, &res->rows, &res->nrows, &err) == 0) {
        /* the failover marks: a failed read loses only the marks */
        res->failovers = store_console_failovers(db, f->conf.history_limit, &err);
        res->runmap = store_console_runs(db, f->conf.history_limit, &err);
        return SQLITE_OK;
    }
    snprintf(res->error, sizeof res->error, "%.250s", err.msg);
    return err.code == SD_ENOMEM ? SQLITE_NOMEM : sqlite3_extended_errcode(db);
}

struct out_stop {
    struct fetch *f;
    int64_t id;
};

static int output_abandoned(void *arg)
{
    struct out_stop *o = arg;
    return abandoned(o->f, FETCH_OUTPUT, o->id);
}

/* Trajectory id's output, newest chunk first until the ring is full, then
 * into a ring in order. Returns an SQLite code, or SQLITE_ABORT when the
 * read was abandoned. */
static int read_output(struct fetch *f, sqlite3 *db, int64_t id, struct fetch_result *res)
{
    struct out_stop o = {f, id};
    struct console_chunk *ch = NULL;
    struct sd_err err = {0};
    size_t n = 0, bytes = 0;
    int rc = store_console_output(db, id, f->conf.ring_bytes, output_abandoned, &o, &ch, &n, &err);

    if (rc == 1)
        return SQLITE_ABORT;
    if (rc != 0) {
        snprintf(res->error, sizeof res->error, "%.250s", err.msg);
        return err.code == SD_ENOMEM ? SQLITE_NOMEM : sqlite3_extended_errcode(db);
    }
    if ((res->ring = logring_new(f->conf.ring_lines, f->conf.ring_bytes)) == NULL) {
        snprintf(res->error, sizeof res->error, "output: out of memory");
        store_console_chunks_free(ch, n);
        return SQLITE_NOMEM;
    }
    for (size_t i = n; i-- > 0;) {
        /* Each line stamped with when its chunk was received (T), not now;
         * a store from before chunk times were kept: 0, shown as unknown. */
        logring_append_at(res->ring, ch[i].stream == 2 ? 2 : 1, ch[i].data, ch[i].len,
                          ch[i].t_ms > 0 ? ch[i].t_ms : 0);
        bytes += ch[i].len;
    }
    logring_finish(res->ring);
    res->bytes = bytes;
    store_console_chunks_free(ch, n);
    return SQLITE_OK;
}

/* Trajectory id's details (query_console2.h), SPARK-sized equity. Returns an
 * SQLite code. */
static int read_detail(sqlite3 *db, int64_t id, struct fetch_result *res)
{
    struct sd_err err = {0};
    int rc = store_console_detail(db, id, 240, &res->detail, &err);
    if (rc >= 0)
        return SQLITE_OK;
    snprintf(res->error, sizeof res->error, "%.250s", err.msg);
    return err.code == SD_ENOMEM ? SQLITE_NOMEM : sqlite3_extended_errcode(db);
}

/* The progress handler during a verification: interrupt it when the worker
 * stops. */
static int on_progress(void *arg)
{
    return abandoned(arg, FETCH_CHAIN, 0);
}

/* A summary that says "unverified" although this reader verified the
 * chain and could not record it (a read-only console): what it found, as
 * long as the chain's head is the one it verified (fetch.h). */
static void chain_overlay(struct fetch *f, sqlite3 *db, struct fetch_result *res)
{
    char head[CHAIN_HEX_LEN + 32];

    if (f->last_state[0] == '\0' || strncmp(res->chain, "unverified", 10) != 0)
        return;
    if (strcmp(f->last_state, "broken:head") == 0) {
        snprintf(res->chain, sizeof res->chain, "BROKEN at head");
        return;
    }
    if (strncmp(f->last_state, "broken:", 7) == 0) {
        snprintf(res->chain, sizeof res->chain, "BROKEN at #%.40s", f->last_state + 7);
        return;
    }
    if (store_console_chain_head(db, head, sizeof head, NULL) == 0 && head[0] &&
        strcmp(head, f->last_state) == 0)
        snprintf(res->chain, sizeof res->chain, "ok (%lld)", strtoll(head, NULL, 10));
}

/* The chain state, after a full verification if verify (and not done yet
 * in an earlier try of this request). Returns an SQLite code: SQLITE_BUSY
 * when the verification could not start for locks (retried), SQLITE_ABORT
 * when the worker stops. */
static int read_chain(struct fetch *f, sqlite3 *db, int verify, struct fetch_result *res,
                      struct busy_ctx *b)
{
    if (verify && !res->verified) {
        struct sd_err err = {0};
        unsigned calls = b->calls;
        uint64_t t0;
        int rc;

        /* What was submitted before the request (a deployment's final
         * state and its seal) is committed before the chain is read. */
        store_flush(f->conf.store, NULL);
        t0 = sd_mono_ns();
        sqlite3_progress_handler(db, 1000, on_progress, f);
        rc = chain_verify(db, &res->report, &err);
        sqlite3_progress_handler(db, 0, NULL, NULL);
        if (abandoned(f, FETCH_CHAIN, 0))
            return SQLITE_ABORT;
        if (rc != 0 && b->calls != calls)
            return SQLITE_BUSY;
        res->verify_start_ns = t0;
        res->verify_end_ns = sd_mono_ns();
        /* What the spacing counts (fetch.h): measured, or the tests' fixed cost. */
        res->verify_ms = f->conf.verify_cost_ms > 0 ? (double)f->conf.verify_cost_ms
                                                    : (double)(res->verify_end_ns - t0) / 1e6;
        if (rc != 0) {
            snprintf(res->error, sizeof res->error, "%.250s", err.msg);
        } else {
            const struct chain_report *r = &res->report;
            res->verified = 1;
            if (r->ok)
                snprintf(f->last_state, sizeof f->last_state, "%lld:%s", (long long)r->sealed,
                         r->head);
            else if (r->bad_id > 0)
                snprintf(f->last_state, sizeof f->last_state, "broken:%lld", (long long)r->bad_id);
            else
                snprintf(f->last_state, sizeof f->last_state, "broken:head");
            if (f->conf.record && store_chain_verified(f->conf.store, f->last_state, &err) != 0)
                snprintf(res->error, sizeof res->error,
                         "chain: could not record the result: %.200s", err.msg);
        }
    }
    /* Its own short-lived connection (store.h): cheap lookups, no walk. */
    store_chain_summary(f->conf.store, res->chain, sizeof res->chain);
    chain_overlay(f, db, res);
    return SQLITE_OK;
}

/* --- the thread (worker.h's ops) ---------------------------------------------- */

/* One read, retried while the store is busy and the read is still wanted.
 * Called without the lock. Returns the result, or NULL if abandoned. */
static struct fetch_result *run_read(struct fetch *f, int kind, int64_t id)
{
    struct fetch_result *res = xcalloc(1, sizeof *res);
    struct busy_ctx b = {f, kind, 0, id, 0};
    uint64_t t0 = sd_mono_ns();

    res->kind = kind;
    res->id = id;
    for (;;) {
        int rc;
        if (f->db == NULL) {
            struct sd_err err = {0};
            /* Opening reads the schema on an encrypted store (its views), so
             * a locked store fails here too: retried for OPEN_RETRY_MS. */
            if ((f->db = store_reader(f->conf.store, &err)) == NULL) {
                snprintf(res->error, sizeof res->error, "%.250s", err.msg);
                if (sd_mono_ns() - t0 > OPEN_RETRY_MS * 1000000ull)
                    break;
                rc = SQLITE_BUSY;
                goto retry;
            }
        }
        sqlite3_busy_handler(f->db, on_busy, &b);
        res->error[0] = '\0';
        if (kind == FETCH_HISTORY)
            rc = read_history(f, f->db, res);
        else if (kind == FETCH_OUTPUT)
            rc = read_output(f, f->db, id, res);
        else if (kind == FETCH_DETAIL)
            rc = read_detail(f->db, id, res);
        else
            rc = read_chain(f, f->db, (int)id, res, &b);
        if (rc == SQLITE_ABORT) {
            fetch_result_free(res);
            return NULL;
        }
        if (!is_busy(rc) && !b.saw_busy)
            break;
        if (!is_busy(rc)) {
            res->waited_busy = 1;
            break;
        }
    retry:
        /* Busy or locked: drop what was read and try again shortly. */
        res->waited_busy = 1;
        free(res->rows);
        res->rows = NULL;
        res->nrows = 0;
        worker_lock(f->w);
        if (!abandoned_locked(f, kind, id))
            worker_sleep(f->w, RETRY_MS * 1000000ull);
        rc = abandoned_locked(f, kind, id);
        worker_unlock(f->w);
        if (rc) {
            fetch_result_free(res);
            return NULL;
        }
    }
    res->ms = (double)(sd_mono_ns() - t0) / 1e6;
    return res;
}

/* Lock held: the next request, output first, then history, then the chain
 * (a verification only when due: else a wake-up at its time). */
static int fetch_pick(void *arg, uint64_t *due)
{
    struct fetch *f = arg;
    uint64_t now = sd_mono_ns();

    worker_assert_locked(f->w);
    if (f->out_pending) {
        f->job_kind = FETCH_OUTPUT;
        f->job_id = f->out_want;
        f->out_pending = 0;
        f->out_busy = f->job_id;
        return 1;
    }
    if (f->det_pending) {
        f->job_kind = FETCH_DETAIL;
        f->job_id = f->det_want;
        f->det_pending = 0;
        return 1;
    }
    if (f->hist_pending) {
        f->job_kind = FETCH_HISTORY;
        f->job_id = 0;
        f->hist_pending = 0;
        f->hist_busy = 1;
        return 1;
    }
    if (f->chain_pending || (f->verify_pending && now >= f->verify_due)) {
        int verify = f->verify_pending && now >= f->verify_due;
        f->job_kind = FETCH_CHAIN;
        f->job_id = verify;
        f->chain_pending = 0;
        if (verify)
            f->verify_pending = 0;
        return 1;
    }
    if (f->verify_pending)
        *due = f->verify_due; /* asked for, not due yet */
    return 0;
}

/* Put res in *slot (replacing one not taken) and wake the owner. Lock held. */
static void publish(struct fetch *f, struct fetch_result **slot, struct fetch_result *res)
{
    worker_assert_locked(f->w);
    fetch_result_free(*slot);
    *slot = res;
    worker_notify(f->w);
}

/* Without the lock: the read pick took, then its result in its slot. */
static void fetch_run(void *arg)
{
    struct fetch *f = arg;
    int kind = f->job_kind;
    int64_t id = f->job_id;
    struct fetch_result *res = run_read(f, kind, id);

    worker_lock(f->w);
    if (kind == FETCH_OUTPUT) {
        f->out_busy = 0;
        if (res != NULL && f->out_want == id)
            publish(f, &f->out_done, res);
        else
            fetch_result_free(res);
    } else if (kind == FETCH_DETAIL) {
        if (res != NULL && f->det_want == id)
            publish(f, &f->det_done, res);
        else
            fetch_result_free(res);
    } else if (kind == FETCH_HISTORY) {
        f->hist_busy = 0;
        if (res != NULL)
            publish(f, &f->hist_done, res);
    } else {
        if (id && res != NULL) {
            /* The next one no sooner than this (fetch.h). */
            double gap = VERIFY_COST_X * res->verify_ms;
            if (gap < f->conf.verify_gap_ms)
                gap = f->conf.verify_gap_ms;
            f->verify_due = sd_mono_ns() + (uint64_t)(gap * 1e6);
            f->verifies += res->verified;
        }
        if (res != NULL) {
            res->verifies = f->verifies;
            publish(f, &f->chain_done, res);
        }
    }
    worker_unlock(f->w);
}

/* On the thread, last: its connection. */
static void fetch_leave(void *arg)
{
    struct fetch *f = arg;
    if (f->db != NULL)
        sqlite3_close_v2(f->db);
    f->db = NULL;
}

static const struct worker_ops fetch_ops = {
    .pick = fetch_pick,
    .run = fetch_run,
    .leave = fetch_leave,
};

/* --- the owner's side ---------------------------------------------------------- */

struct fetch *fetch_start(const struct fetch_conf *conf, struct sd_err *err)
{
    struct fetch *f = calloc(1, sizeof *f);

    if (f == NULL) {
        sd_err_set(err, SD_ENOMEM, "store reader: out of memory");
        return NULL;
    }
    f->conf = *conf;
    if (f->conf.history_limit <= 0)
        f->conf.history_limit = 2000;
    if (f->conf.ring_lines == 0)
        f->conf.ring_lines = 20000;
    if (f->conf.ring_bytes == 0)
        f->conf.ring_bytes = 4u << 20;
    if (f->conf.verify_gap_ms <= 0)
        f->conf.verify_gap_ms = VERIFY_GAP_MS;
    if (worker_start(&f->w, "store reader", &fetch_ops, f, err) != 0) {
        free(f);
        return NULL;
    }
    return f;
}

void fetch_stop(struct fetch *f)
{
    if (f == NULL)
        return;
    worker_stop(f->w);
    fetch_result_free(f->hist_done);
    fetch_result_free(f->out_done);
    fetch_result_free(f->chain_done);
    fetch_result_free(f->det_done);
    free(f);
}

int fetch_fd(const struct fetch *f)
{
    return f ? worker_fd(f->w) : -1;
}

void fetch_history(struct fetch *f)
{
    if (f == NULL)
        return;
    worker_lock(f->w);
    f->hist_pending = 1;
    worker_signal(f->w);
    worker_unlock(f->w);
}

void fetch_output(struct fetch *f, int64_t id)
{
    if (f == NULL)
        return;
    worker_lock(f->w);
    f->out_want = id > 0 ? id : 0;
    /* The read under way is this one already: no second read. */
    f->out_pending = id > 0 && id != f->out_busy;
    if (f->out_done != NULL && f->out_done->id != f->out_want) {
        fetch_result_free(f->out_done); /* a result nobody wants any more */
        f->out_done = NULL;
    }
    worker_signal(f->w);
    worker_unlock(f->w);
}

void fetch_detail(struct fetch *f, int64_t id)
{
    if (f == NULL)
        return;
    worker_lock(f->w);
    f->det_want = id > 0 ? id : 0;
    f->det_pending = id > 0;
    if (f->det_done != NULL && f->det_done->id != f->det_want) {
        fetch_result_free(f->det_done);
        f->det_done = NULL;
    }
    worker_signal(f->w);
    worker_unlock(f->w);
}

void fetch_chain(struct fetch *f, int verify)
{
    if (f == NULL)
        return;
    worker_lock(f->w);
    f->chain_pending = 1;
    if (verify)
        f->verify_pending = 1;
    worker_signal(f->w);
    worker_unlock(f->w);
}

struct fetch_result *fetch_take(struct fetch *f)
{
    struct fetch_result *r;

    if (f == NULL)
        return NULL;
    worker_drain(f->w);
    worker_lock(f->w);
    if ((r = f->out_done) != NULL)
        f->out_done = NULL;
    else if ((r = f->det_done) != NULL)
        f->det_done = NULL;
    else if ((r = f->hist_done) != NULL)
        f->hist_done = NULL;
    else if ((r = f->chain_done) != NULL)
        f->chain_done = NULL;
    worker_unlock(f->w);
    return r;
}
