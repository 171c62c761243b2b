/*
 * runlog.c: several deployments' output as one stream of lines in written order (runlog.h).
 *
 * Per trajectory: the next chunk to read and, per stream, the line not yet ended. Per round: a
 * batch of the chunks read (copied: the reader's data lives only in its callback), sorted by
 * time, then split into lines. Rounds are small in practice (what was written since the last
 * one), so a plain array and qsort do.
 *
 * Why the order holds across rounds: the store stamps chunks under its queue's lock, never
 * going back (store_submit_stamped), and commits them in queue order; a round reads every
 * trajectory in one read transaction. So a round sees every chunk stamped before its latest
 * one; only that latest millisecond may still be incomplete, and it is held back (hold_back).
 */
#define _GNU_SOURCE
#include "runlog.h"

#include <stdlib.h>
#include <string.h>

#include "query.h"

struct rl_src {
    int64_t id, next;
    char *part[2];
    size_t plen[2];
};

struct rl_chunk {
    size_t src;
    int64_t seq, t_ms;
    int stream;
    char *data;
    size_t len;
};

struct runlog {
    int want;
    struct rl_src *src;
    size_t n, cap;
    struct rl_chunk *batch;
    size_t nb, bcap;
    size_t cur;
    int nomem;
};

struct runlog *runlog_new(int want)
{
    struct runlog *r = calloc(1, sizeof *r);
    if (r != NULL)
        r->want = want;
    return r;
}

static void batch_clear(struct runlog *r)
{
    for (size_t i = 0; i < r->nb; i++)
        free(r->batch[i].data);
    r->nb = 0;
}

void runlog_free(struct runlog *r)
{
    if (r == NULL)
        return;
    batch_clear(r);
    for (size_t i = 0; i < r->n; i++) {
        free(r->src[i].part[0]);
        free(r->src[i].part[1]);
    }
    free(r->src);
    free(r->batch);
    free(r);
}

int runlog_add(struct runlog *r, int64_t id)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->src[i].id == id)
            return (int)i;
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 16;
        struct rl_src *ns = realloc(r->src, nc * sizeof *ns);
        if (ns == NULL)
            return -1;
        r->src = ns;
        r->cap = nc;
    }
    r->src[r->n] = (struct rl_src){.id = id};
    return (int)r->n++;
}

static int collect(const struct output_chunk *c, void *arg)
{
    struct runlog *r = arg;
    struct rl_chunk *b;

    if (!(r->want & c->stream)) {
        r->src[r->cur].next = c->seq + 1;
        return 0;
    }
    if (r->nb == r->bcap) {
        size_t nc = r->bcap ? r->bcap * 2 : 64;
        struct rl_chunk *nbuf = realloc(r->batch, nc * sizeof *nbuf);
        if (nbuf == NULL)
            return r->nomem = 1;
        r->batch = nbuf;
        r->bcap = nc;
    }
    b = &r->batch[r->nb];
    *b = (struct rl_chunk){.src = r->cur, .seq = c->seq, .t_ms = c->t_ms, .stream = c->stream};
    if ((b->data = malloc(c->len + 1)) == NULL)
        return r->nomem = 1;
    memcpy(b->data, c->data, c->len);
    b->len = c->len;
    r->nb++;
    r->src[r->cur].next = c->seq + 1;
    return 0;
}

/* Written order: the stored time, then the trajectory (the order added), then its sequence. */
static int by_time(const void *x, const void *y)
{
    const struct rl_chunk *a = x, *b = y;
    if (a->t_ms != b->t_ms)
        return a->t_ms < b->t_ms ? -1 : 1;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Hand out the lines chunk c completes, keeping its unterminated tail. -1: no memory. */
static int split(struct runlog *r, const struct rl_chunk *c, runlog_line_fn fn, void *arg)
{
    struct rl_src *src = &r->src[c->src];
    int s = c->stream == 2 ? 1 : 0, k;
    const char *p = c->data, *end = c->data + c->len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (src->plen[s] > 0 || nl == NULL) {
            char *np = realloc(src->part[s], src->plen[s] + n);
            if (np == NULL)
                return -1;
            memcpy(np + src->plen[s], p, n);
            src->part[s] = np;
            src->plen[s] += n;
            if (nl != NULL) {
                size_t len = src->plen[s];
                src->plen[s] = 0;
                if ((k = fn(arg, src->id, c->stream, c->t_ms, np, len)) != 0)
                    return k;
            }
        } else if ((k = fn(arg, src->id, c->stream, c->t_ms, p, n)) != 0) {
            return k;
        }
        p += n;
    }
    return 0;
}

/* Hold back the chunks of the round's latest millisecond, when it is recent: another chunk
 * of that millisecond may be queued but not yet committed, and the next round must put them in
 * their order (trajectory, then sequence). Held chunks are read again: a trajectory's next
 * chunk goes back to its first held one (a trajectory's later chunks are never earlier). */
static void hold_back(struct runlog *r)
{
    int64_t m = -1;
    size_t keep = 0;

    for (size_t i = 0; i < r->nb; i++)
        if (r->batch[i].t_ms > m)
            m = r->batch[i].t_ms;
    if (m < 0 || m <= sd_now_ms() - RUNLOG_HOLD_MS)
        return;
    for (size_t i = 0; i < r->nb; i++) {
        struct rl_chunk *c = &r->batch[i];
        if (c->t_ms == m) {
            if (c->seq < r->src[c->src].next)
                r->src[c->src].next = c->seq;
            free(c->data);
        } else {
            r->batch[keep++] = *c;
        }
    }
    r->nb = keep;
}

int runlog_round(struct runlog *r, sqlite3 *db, int last, runlog_line_fn fn, void *arg,
                 struct sd_err *err)
{
    int64_t *keep = malloc((r->n + 1) * sizeof *keep);
    int rc = 0, snap = sqlite3_get_autocommit(db);

    if (keep == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n; i++)
        keep[i] = r->src[i].next;
    r->nomem = 0;
    /* One read transaction: every trajectory read at the same commit. */
    if (snap && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        free(keep);
        return sd_err_set(err, SD_EENV, "cannot read output: %s", sqlite3_errmsg(db));
    }
    for (r->cur = 0; r->cur < r->n; r->cur++)
        if (store_output_read_timed(db, r->src[r->cur].id, r->src[r->cur].next, collect, r, err) !=
                0 ||
            r->nomem) {
            /* Nothing of this round is handed out: it is all read again next time. */
            if (snap)
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            for (size_t i = 0; i < r->n; i++)
                r->src[i].next = keep[i];
            free(keep);
            batch_clear(r);
            return r->nomem ? sd_err_set(err, SD_ENOMEM, "out of memory") : -1;
        }
    if (snap)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    free(keep);
    if (!last)
        hold_back(r);
    qsort(r->batch, r->nb, sizeof *r->batch, by_time);
    for (size_t i = 0; i < r->nb && rc == 0; i++)
        rc = split(r, &r->batch[i], fn, arg);
    batch_clear(r);
    return rc < 0 ? sd_err_set(err, SD_ENOMEM, "out of memory") : rc;
}

int runlog_flush(struct runlog *r, runlog_line_fn fn, void *arg)
{
    int k;
    for (size_t i = 0; i < r->n; i++)
        for (int s = 0; s < 2; s++)
            if (r->src[i].plen[s] > 0) {
                size_t len = r->src[i].plen[s];
                r->src[i].plen[s] = 0;
                if ((k = fn(arg, r->src[i].id, s + 1, -1, r->src[i].part[s], len)) != 0)
                    return k;
            }
    return 0;
}
