/*
 * store_output.c: output capture with head/tail caps (store.h has the
 * contract of store_output_append, store_output_end and
 * store_set_output_caps).
 *
 * DESIGN
 * Output capture keeps, per trajectory, the first `head` bytes (chunks split
 * at the boundary so the head is exact) and the shortest suffix of later
 * chunks that holds at least `tail` bytes. The writer keeps for each live
 * trajectory: the next seq, bytes seen, head bytes kept, and a ring of
 * (seq, len) for the tail chunks still stored. Counters are written to
 * trajectories once per batch, just before COMMIT, not once per chunk
 * (store_out_write_counters, called by store_writer.c).
 *
 * The state lives in a hash table of OUT_BUCKETS chains (s->out) and a list
 * of the states whose counters changed this batch (s->out_dirty). When a
 * batch fails the writer forgets it all (store_out_free_all): it reloads
 * from the database on next use, so the two never disagree.
 *
 * THREADS
 * store_output_append, store_output_end, store_set_output_caps: any thread
 * (they queue jobs, or take s->lock). Everything named out_* or store_out_*:
 * the writer thread only.
 */
#include "store_int.h"
#include "store_crypt.h"
#include "store_zstd.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tail_ent {
    int64_t seq;
    size_t len;
};

/* Writer-side output state of one trajectory. */
struct out_state {
    struct out_state *next;       /* hash chain */
    struct out_state *dirty_next; /* on s->out_dirty when counters changed */
    int dirty;
    int64_t traj_id;
    int64_t next_seq;
    int64_t bytes;   /* every byte appended: trajectories.output_bytes */
    int64_t dropped; /* trajectories.output_dropped */
    size_t head_kept;
    struct tail_ent *ring; /* tail chunks still stored, oldest at ring[first] */
    size_t cap, first, count;
    size_t tail_bytes;
};

/* --- output capture ------------------------------------------------------- */

/* data arrives sealed on an encrypted store (out_insert seals it in C: the
 * same box sd_seal(?4, 'output', ?1, ?2, ?3) would make). */
static const char sql_out_insert[] =
    "INSERT INTO output(traj_id, seq, stream, data, t, z) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_out_delete[] = "DELETE FROM output WHERE traj_id=? AND seq=?";
static const char sql_out_counters[] =
    "UPDATE trajectories SET output_bytes=?, output_dropped=? WHERE id=?";
static const char sql_out_maxseq[] = "SELECT max(seq) FROM output WHERE traj_id=?";
static const char sql_out_load[] =
    "SELECT output_bytes, output_dropped FROM trajectories WHERE id=?";

static struct out_state **out_bucket(struct store *s, int64_t traj_id)
{
    return &s->out[(uint64_t)traj_id * 0x9E3779B97F4A7C15u >> 54];
}

static void out_state_free(struct out_state *o)
{
    if (o != NULL)
        free(o->ring);
    free(o);
}

void store_out_free_all(struct store *s)
{
    for (size_t i = 0; i < OUT_BUCKETS; i++) {
        while (s->out[i] != NULL) {
            struct out_state *o = s->out[i];
            s->out[i] = o->next;
            out_state_free(o);
        }
    }
    s->out_dirty = NULL;
}

/* Find or create (loading what an earlier process stored) the state of a
 * trajectory. A trajectory resumed after a restart continues its sequence
 * and counters; its earlier rows are kept as they are (the head is closed). */
static struct out_state *out_get(struct store *s, int64_t traj_id, struct sd_err *err)
{
    struct out_state **b = out_bucket(s, traj_id), *o;
    sqlite3_stmt *st;

    for (o = *b; o != NULL; o = o->next)
        if (o->traj_id == traj_id)
            return o;
    if ((o = calloc(1, sizeof *o)) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    o->traj_id = traj_id;
    if ((st = store_stmt(s, sql_out_maxseq, err)) == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, traj_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail_db;
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        o->next_seq = sqlite3_column_int64(st, 0) + 1;
        o->head_kept = SIZE_MAX;
        if ((st = store_stmt(s, sql_out_load, err)) == NULL)
            goto fail;
        sqlite3_bind_int64(st, 1, traj_id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            o->bytes = sqlite3_column_int64(st, 0);
            o->dropped = sqlite3_column_int64(st, 1);
        }
    }
    sqlite3_reset(st);
    o->next = *b;
    *b = o;
    return o;
fail_db:
    store_sql_err(err, s->db, s->path, "cannot read output state");
fail:
    out_state_free(o);
    return NULL;
}

/* Insert one row: the bytes compressed when that makes them smaller
 * (store_zstd.h), then sealed on an encrypted store (the writer's sealer,
 * store_crypt.h), with the time they arrived. */
static int out_insert(struct store *s, int64_t traj_id, int64_t seq, int stream, int64_t t_ms,
                      const unsigned char *data, size_t len, struct sd_err *err)
{
    sqlite3_stmt *st = store_stmt(s, sql_out_insert, err);
    const void *packed;
    size_t plen;
    int codec;

    if (st == NULL)
        return -1;
    if (s->zc == NULL)
        s->zc = store_zc_new(); /* NULL (out of memory): the chunk is stored raw */
    packed = store_zc_pack(s->zc, data, len, &plen, &codec);
    if (s->key != NULL) {
        char aad[96];
        if (s->sealer == NULL && (s->sealer = skey_sealer_new()) == NULL)
            return sd_err_set(err, SD_ENOMEM, "out of memory");
        snprintf(aad, sizeof aad, "output\x1f%lld\x1f%lld\x1f%d", (long long)traj_id,
                 (long long)seq, stream);
        if ((packed = skey_sealer_seal(s->sealer, s->key, KIND_BLOB, aad, packed, plen, &plen)) ==
            NULL)
            return sd_err_set(err, SD_EENV, "store: cannot encrypt output (OpenSSL failed)");
    }
    sqlite3_bind_int64(st, 1, traj_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int(st, 3, stream);
    sqlite3_bind_blob(st, 4, packed, (int)plen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, t_ms);
    sqlite3_bind_int(st, 6, codec);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_sql_err(err, s->db, s->path, "cannot store output");
    sqlite3_reset(st);
    return 0;
}

/* Make room for one more tail entry (content unchanged), so that the push
 * after the rows are written cannot fail. */
static int out_ring_reserve(struct out_state *o)
{
    if (o->count == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct tail_ent *r = malloc(cap * sizeof *r);
        if (r == NULL)
            return -1;
        for (size_t i = 0; i < o->count; i++)
            r[i] = o->ring[(o->first + i) % o->cap];
        free(o->ring);
        o->ring = r;
        o->cap = cap;
        o->first = 0;
    }
    return 0;
}

static void out_ring_push(struct out_state *o, int64_t seq, size_t len)
{
    assert(o->count < o->cap);
    o->ring[(o->first + o->count) % o->cap] = (struct tail_ent){seq, len};
    o->count++;
    o->tail_bytes += len;
}

static const char sql_sp_begin[] = "SAVEPOINT out";
static const char sql_sp_release[] = "RELEASE out";
static const char sql_sp_rollback[] = "ROLLBACK TO out";

/* Run one of the savepoint statements above (cached: they run per chunk). */
static int out_sp(struct store *s, const char *sql, struct sd_err *err)
{
    sqlite3_stmt *st = store_stmt(s, sql, err);
    int rc;

    if (st == NULL)
        return -1;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_sql_err(err, s->db, s->path, "cannot store output");
}

struct out_chunk {
    int64_t traj_id;
    int64_t t_ms; /* when store_output_append got it (Unix ms) */
    int stream;
    size_t len;
    unsigned char data[];
};

/* Writer job: store one chunk. The in-memory state changes only after the
 * rows are written, so a failed job leaves state and database agreeing. */
static int out_append_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct out_chunk *c = arg;
    struct out_state *o = out_get(s, c->traj_id, err);
    size_t head_n = 0, off, tail_cap;
    int need_sp;

    if (o == NULL)
        return -1;
    store_lock(s);
    tail_cap = s->out_tail;
    if (o->head_kept < s->out_head)
        head_n = s->out_head - o->head_kept < c->len ? s->out_head - o->head_kept : c->len;
    store_unlock(s);

    if (out_ring_reserve(o) != 0)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    /* One statement is atomic by itself; a savepoint is needed only when the
     * chunk is split or may push older tail rows out. */
    need_sp = (head_n > 0 && head_n < c->len) ||
              (head_n < c->len && o->tail_bytes + (c->len - head_n) >= tail_cap);
    if (need_sp && out_sp(s, sql_sp_begin, err) != 0)
        return -1;
    if (head_n > 0 &&
        out_insert(s, c->traj_id, o->next_seq, c->stream, c->t_ms, c->data, head_n, err))
        goto fail;
    off = head_n;
    if (off < c->len && out_insert(s, c->traj_id, o->next_seq + (head_n > 0), c->stream, c->t_ms,
                                   c->data + off, c->len - off, err))
        goto fail;
    /* Plan the deletions on a copy of the ring's front: commit state only
     * once every statement succeeded. */
    {
        size_t tb = o->tail_bytes + (c->len - off), first = o->first, count = o->count;
        size_t drop = 0, ndel = 0;
        int add_new = off < c->len;
        /* The new chunk is conceptually at the back of the ring. */
        while (count + (size_t)add_new > 0) {
            size_t len;
            int64_t seq;
            if (count > 0) {
                len = o->ring[first].len;
                seq = o->ring[first].seq;
            } else {
                len = c->len - off;
                seq = o->next_seq + (head_n > 0);
            }
            if (tb - len < tail_cap)
                break;
            sqlite3_stmt *st = store_stmt(s, sql_out_delete, err);
            if (st == NULL)
                goto fail;
            sqlite3_bind_int64(st, 1, c->traj_id);
            sqlite3_bind_int64(st, 2, seq);
            if (sqlite3_step(st) != SQLITE_DONE) {
                store_sql_err(err, db, s->path, "cannot drop output");
                goto fail;
            }
            sqlite3_reset(st);
            tb -= len;
            drop += len;
            ndel++;
            if (count > 0) {
                first = (first + 1) % (o->cap ? o->cap : 1);
                count--;
            } else {
                add_new = 0;
            }
        }
        if (need_sp && out_sp(s, sql_sp_release, err) != 0)
            goto fail;
        /* Everything is written: update the state. When the new chunk itself
         * was dropped, ndel exceeds the old entries by one. */
        for (size_t i = 0; i < ndel && o->count > 0; i++) {
            o->tail_bytes -= o->ring[o->first].len;
            o->first = (o->first + 1) % o->cap;
            o->count--;
        }
        if (add_new)
            out_ring_push(o, o->next_seq + (head_n > 0), c->len - off);
        o->dropped += (int64_t)drop;
    }
    o->head_kept += head_n;
    o->next_seq += (head_n > 0) + (off < c->len);
    o->bytes += (int64_t)c->len;
    if (!o->dirty) {
        o->dirty = 1;
        o->dirty_next = s->out_dirty;
        s->out_dirty = o;
    }
    return 0;
fail:
    if (!sqlite3_get_autocommit(db)) {
        if (need_sp) {
            out_sp(s, sql_sp_rollback, NULL);
            out_sp(s, sql_sp_release, NULL);
        }
    }
    return -1;
}

/* Write the counters of every trajectory whose output changed this batch. */
int store_out_write_counters(struct store *s)
{
    struct sd_err err;

    ASSERT_WRITER(s);
    while (s->out_dirty != NULL) {
        struct out_state *o = s->out_dirty;
        sqlite3_stmt *st = store_stmt(s, sql_out_counters, &err);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, o->bytes);
        sqlite3_bind_int64(st, 2, o->dropped);
        sqlite3_bind_int64(st, 3, o->traj_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -1;
        sqlite3_reset(st);
        s->out_dirty = o->dirty_next;
        o->dirty = 0;
        o->dirty_next = NULL;
    }
    return 0;
}

int store_output_append(struct store *s, int64_t traj_id, int stream, const void *data, size_t len)
{
    struct out_chunk *c;

    if (len == 0 || (stream != 1 && stream != 2) || (s->flags & STORE_READONLY))
        return -1;
    if ((c = malloc(sizeof *c + len)) == NULL)
        return -1;
    c->traj_id = traj_id;
    c->stream = stream;
    c->len = len;
    memcpy(c->data, data, len);
    return store_submit_stamped(s, out_append_job, c, free, &c->t_ms);
}

/* Writer job: write the counters now and forget the trajectory's state. */
static int out_end_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    int64_t traj_id = *(int64_t *)arg;
    struct out_state **p = out_bucket(s, traj_id), *o;

    for (; *p != NULL; p = &(*p)->next)
        if ((*p)->traj_id == traj_id)
            break;
    if ((o = *p) == NULL)
        return 0;
    if (o->dirty) {
        sqlite3_stmt *st = store_stmt(s, sql_out_counters, err);
        struct out_state **d;
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, o->bytes);
        sqlite3_bind_int64(st, 2, o->dropped);
        sqlite3_bind_int64(st, 3, o->traj_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_sql_err(err, db, s->path, "cannot update output counters");
        sqlite3_reset(st);
        for (d = &s->out_dirty; *d != o; d = &(*d)->dirty_next)
            ;
        *d = o->dirty_next;
    }
    *p = o->next;
    out_state_free(o);
    return 0;
}

int store_output_end(struct store *s, int64_t traj_id)
{
    int64_t *arg;

    if (s->flags & STORE_READONLY || (arg = malloc(sizeof *arg)) == NULL)
        return -1;
    *arg = traj_id;
    return store_submit(s, out_end_job, arg, free);
}

void store_set_output_caps(struct store *s, size_t head, size_t tail)
{
    store_lock(s);
    s->out_head = head;
    s->out_tail = tail;
    store_unlock(s);
}
