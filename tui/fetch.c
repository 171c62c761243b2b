/*
 * fetch.c: the console's store reader (fetch.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"

#define RETRY_MS      100
#define OPEN_RETRY_MS 30000
#define VERIFY_GAP_MS 3000 /* least time between two verifications */
#define VERIFY_COST_X 5    /* ... or this many times the last one's duration */

struct fetch {
    struct fetch_conf conf;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int pipe[2];
    /* Under lock: */
    int stop;
    int hist_pending;
    int64_t out_want;    /* the output the UI wants (0: none) */
    int out_pending;     /* out_want is not read yet */
    int64_t out_busy;    /* the output being read now (0: none) */
    int hist_busy;       /* the history is being read now */
    int chain_pending;   /* the chain state is wanted */
    int verify_pending;  /* ... after a verification */
    uint64_t verify_due; /* mono ns: no verification before */
    unsigned verifies;   /* verifications run */
    struct fetch_result *hist_done, *out_done, *chain_done; /* not yet taken */
    /* The reader thread's own: */
    char last_state[CHAIN_HEX_LEN + 32]; /* the last verification's outcome ("" none) */
};

void fetch_result_free(struct fetch_result *r)
{
    if (r == NULL)
        return;
    free(r->rows);
    logring_free(r->ring);
    free(r);
}

/* Whether the read under way should end: the worker stops, or the output
 * being read is no longer the one wanted. Takes the lock. */
static int abandoned(struct fetch *f, int kind, int64_t id)
{
    int r;
    pthread_mutex_lock(&f->lock);
    r = f->stop || (kind == FETCH_OUTPUT && f->out_want != id);
    pthread_mutex_unlock(&f->lock);
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

static void copy_text(char *dst, size_t n, sqlite3_stmt *st, int col, const char *def)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", s ? s : def);
}

/* The newest history_limit trajectories. Returns an SQLite code. */
static int read_history(struct fetch *f, sqlite3 *db, struct fetch_result *res)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;

    rc = sqlite3_prepare_v2(db,
                            "SELECT id, created_at, started_at, ended_at, strategy, symbol, "
                            "provider, status, json_extract(result, '$.total_return'), "
                            "json_extract(result, '$.sharpe'), json_extract(result, "
                            "'$.synthetic') FROM trajectories ORDER BY id DESC LIMIT ?",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto out;
    sqlite3_bind_int(st, 1, f->conf.history_limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct fetch_hrow *h;
        if (res->nrows == cap) {
            cap = cap ? cap * 2 : 256;
            res->rows = xrealloc(res->rows, cap * sizeof *res->rows);
        }
        h = &res->rows[res->nrows++];
        memset(h, 0, sizeof *h);
        h->id = sqlite3_column_int64(st, 0);
        h->created_at = sqlite3_column_int64(st, 1);
        h->started_at = sqlite3_column_int64(st, 2);
        h->ended_at = sqlite3_column_int64(st, 3);
        copy_text(h->strategy, sizeof h->strategy, st, 4, "");
        copy_text(h->symbol, sizeof h->symbol, st, 5, "-");
        copy_text(h->provider, sizeof h->provider, st, 6, "");
        copy_text(h->state, sizeof h->state, st, 7, "");
        h->ret = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 8);
        h->sharpe = sqlite3_column_type(st, 9) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 9);
        h->synthetic = sqlite3_column_int(st, 10);
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
out:
    if (rc != SQLITE_OK)
        snprintf(res->error, sizeof res->error, "history: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

struct chunk {
    int stream;
    size_t len;
    char *data;
};

/* Trajectory id's output, newest chunk first until the ring is full, then
 * into a ring in order. Returns an SQLite code, or SQLITE_ABORT when the
 * read was abandoned. */
static int read_output(struct fetch *f, sqlite3 *db, int64_t id, struct fetch_result *res)
{
    sqlite3_stmt *st = NULL;
    struct chunk *ch = NULL;
    size_t n = 0, cap = 0, bytes = 0;
    int rc;

    rc = sqlite3_prepare_v2(
        db, "SELECT stream, data FROM output WHERE traj_id = ? ORDER BY seq DESC", -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    while (bytes < f->conf.ring_bytes && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int len = sqlite3_column_bytes(st, 1);
        const void *p = sqlite3_column_blob(st, 1);
        if ((n & 255) == 255 && abandoned(f, FETCH_OUTPUT, id)) {
            rc = SQLITE_ABORT;
            goto out;
        }
        if (len <= 0 || p == NULL)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            ch = xrealloc(ch, cap * sizeof *ch);
        }
        ch[n].stream = sqlite3_column_int(st, 0);
        ch[n].len = (size_t)len;
        ch[n].data = xmalloc((size_t)len);
        memcpy(ch[n].data, p, (size_t)len);
        bytes += (size_t)len;
        n++;
    }
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK)
        goto out;
    if ((res->ring = logring_new(f->conf.ring_lines, f->conf.ring_bytes)) == NULL) {
        rc = SQLITE_NOMEM;
        goto out;
    }
    for (size_t i = n; i-- > 0;)
        logring_append(res->ring, ch[i].stream == 2 ? 2 : 1, ch[i].data, ch[i].len);
    logring_finish(res->ring);
    res->bytes = bytes;
out:
    if (rc != SQLITE_OK && rc != SQLITE_ABORT)
        snprintf(res->error, sizeof res->error, "output: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++)
        free(ch[i].data);
    free(ch);
    return rc;
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
    sqlite3_stmt *st = NULL;

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
    if (sqlite3_prepare_v2(db,
                           "SELECT chain_seq || ':' || fingerprint FROM main.trajectories"
                           " WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *head = (const char *)sqlite3_column_text(st, 0);
        if (head != NULL && strcmp(head, f->last_state) == 0)
            snprintf(res->chain, sizeof res->chain, "ok (%lld)", strtoll(head, NULL, 10));
    }
    sqlite3_finalize(st);
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
        res->verify_ms = (double)(res->verify_end_ns - t0) / 1e6;
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

/* --- the thread -------------------------------------------------------------- */

static void deadline_after_ms(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* One read, retried while the store is busy and the read is still wanted.
 * Called without the lock. Returns the result, or NULL if abandoned. */
static struct fetch_result *run(struct fetch *f, sqlite3 **db, int kind, int64_t id)
{
    struct fetch_result *res = xcalloc(1, sizeof *res);
    struct busy_ctx b = {f, kind, 0, id, 0};
    uint64_t t0 = sd_mono_ns();

    res->kind = kind;
    res->id = id;
    for (;;) {
        int rc;
        if (*db == NULL) {
            struct sd_err err = {0};
            /* Opening reads the schema on an encrypted store (its views), so
             * a locked store fails here too: retried for OPEN_RETRY_MS. */
            if ((*db = store_reader(f->conf.store, &err)) == NULL) {
                snprintf(res->error, sizeof res->error, "%.250s", err.msg);
                if (sd_mono_ns() - t0 > OPEN_RETRY_MS * 1000000ull)
                    break;
                rc = SQLITE_BUSY;
                goto retry;
            }
        }
        sqlite3_busy_handler(*db, on_busy, &b);
        res->error[0] = '\0';
        if (kind == FETCH_HISTORY)
            rc = read_history(f, *db, res);
        else if (kind == FETCH_OUTPUT)
            rc = read_output(f, *db, id, res);
        else
            rc = read_chain(f, *db, (int)id, res, &b);
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
        res->nrows = 0;
        pthread_mutex_lock(&f->lock);
        if (!f->stop && !(kind == FETCH_OUTPUT && f->out_want != id)) {
            struct timespec ts;
            deadline_after_ms(&ts, RETRY_MS);
            pthread_cond_timedwait(&f->cond, &f->lock, &ts);
        }
        pthread_mutex_unlock(&f->lock);
        if (abandoned(f, kind, id)) {
            fetch_result_free(res);
            return NULL;
        }
    }
    res->ms = (double)(sd_mono_ns() - t0) / 1e6;
    return res;
}

static void *worker(void *arg)
{
    struct fetch *f = arg;
    sqlite3 *db = NULL;

    pthread_mutex_lock(&f->lock);
    while (!f->stop) {
        struct fetch_result *res;
        int64_t id;

        if (f->out_pending) {
            id = f->out_want;
            f->out_pending = 0;
            f->out_busy = id;
            pthread_mutex_unlock(&f->lock);
            res = run(f, &db, FETCH_OUTPUT, id);
            pthread_mutex_lock(&f->lock);
            f->out_busy = 0;
            if (res != NULL && f->out_want == id) {
                fetch_result_free(f->out_done);
                f->out_done = res;
                if (write(f->pipe[1], "o", 1) < 0) {
                    /* full: the UI has a wake-up pending already */
                }
            } else {
                fetch_result_free(res);
            }
        } else if (f->hist_pending) {
            f->hist_pending = 0;
            f->hist_busy = 1;
            pthread_mutex_unlock(&f->lock);
            res = run(f, &db, FETCH_HISTORY, 0);
            pthread_mutex_lock(&f->lock);
            f->hist_busy = 0;
            if (res != NULL) {
                fetch_result_free(f->hist_done);
                f->hist_done = res;
                if (write(f->pipe[1], "h", 1) < 0) {
                    /* full: as above */
                }
            }
        } else if (f->chain_pending || (f->verify_pending && sd_mono_ns() >= f->verify_due)) {
            int verify = f->verify_pending && sd_mono_ns() >= f->verify_due;
            f->chain_pending = 0;
            if (verify)
                f->verify_pending = 0;
            pthread_mutex_unlock(&f->lock);
            res = run(f, &db, FETCH_CHAIN, verify);
            pthread_mutex_lock(&f->lock);
            if (verify && res != NULL) {
                /* The next one no sooner than this (fetch.h). */
                double gap = VERIFY_COST_X * res->verify_ms;
                if (gap < f->conf.verify_gap_ms)
                    gap = f->conf.verify_gap_ms;
                f->verify_due = sd_mono_ns() + (uint64_t)(gap * 1e6);
                f->verifies += res->verified;
            }
            if (res != NULL) {
                res->verifies = f->verifies;
                fetch_result_free(f->chain_done);
                f->chain_done = res;
                if (write(f->pipe[1], "c", 1) < 0) {
                    /* full: as above */
                }
            }
        } else if (f->verify_pending) {
            /* A verification is asked for but not due yet. */
            struct timespec ts = {(time_t)(f->verify_due / 1000000000u),
                                  (long)(f->verify_due % 1000000000u)};
            pthread_cond_timedwait(&f->cond, &f->lock, &ts);
        } else {
            pthread_cond_wait(&f->cond, &f->lock);
        }
    }
    pthread_mutex_unlock(&f->lock);
    if (db != NULL)
        sqlite3_close_v2(db);
    return NULL;
}

/* --- the owner's side ---------------------------------------------------------- */

struct fetch *fetch_start(const struct fetch_conf *conf, struct sd_err *err)
{
    struct fetch *f = calloc(1, sizeof *f);
    pthread_condattr_t ca;

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
    if (pipe2(f->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        sd_err_set(err, SD_EENV, "store reader: pipe: %s", strerror(errno));
        free(f);
        return NULL;
    }
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&f->thread, NULL, worker, f) != 0) {
        sd_err_set(err, SD_EENV, "store reader: cannot start a thread");
        close(f->pipe[0]);
        close(f->pipe[1]);
        pthread_cond_destroy(&f->cond);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return NULL;
    }
    return f;
}

void fetch_stop(struct fetch *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    fetch_result_free(f->hist_done);
    fetch_result_free(f->out_done);
    fetch_result_free(f->chain_done);
    close(f->pipe[0]);
    close(f->pipe[1]);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

int fetch_fd(const struct fetch *f)
{
    return f ? f->pipe[0] : -1;
}

void fetch_history(struct fetch *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->hist_pending = 1;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

void fetch_output(struct fetch *f, int64_t id)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->out_want = id > 0 ? id : 0;
    /* The read under way is this one already: no second read. */
    f->out_pending = id > 0 && id != f->out_busy;
    if (f->out_done != NULL && f->out_done->id != f->out_want) {
        fetch_result_free(f->out_done); /* a result nobody wants any more */
        f->out_done = NULL;
    }
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

void fetch_chain(struct fetch *f, int verify)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->chain_pending = 1;
    if (verify)
        f->verify_pending = 1;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

struct fetch_result *fetch_take(struct fetch *f)
{
    struct fetch_result *r;
    char b[64];

    if (f == NULL)
        return NULL;
    while (read(f->pipe[0], b, sizeof b) > 0)
        ;
    pthread_mutex_lock(&f->lock);
    if ((r = f->out_done) != NULL)
        f->out_done = NULL;
    else if ((r = f->hist_done) != NULL)
        f->hist_done = NULL;
    else if ((r = f->chain_done) != NULL)
        f->chain_done = NULL;
    pthread_mutex_unlock(&f->lock);
    return r;
}
