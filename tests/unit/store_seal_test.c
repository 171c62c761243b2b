/*
 * store_seal_test.c: output chunks of an encrypted store, compressed and
 * sealed by the writer (store_zstd.h, store_crypt.h's sealer).
 *
 *   seal_roundtrip  3,000 chunks (compressible text, incompressible bytes,
 *                   chunks below the compression threshold) over three
 *                   trajectories read back byte exact with their times;
 *                   every row is a box, every box has its own nonce, the
 *                   text rows are stored compressed, and a reopened store
 *                   still reads them.
 *   seal_wrongkey   the boxes do not open under another key.
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#define TMPSTORE_PREFIX "swarmdeck-seal"
#include "query.h"
#include "store.h"
#include "store_zstd.h"
#include "tmpstore.h"

#define KEY1   "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2   "HxodHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA="
#define NCHUNK 3000

/* Chunk i: text lines (compress), pseudo-random bytes (do not), or a short
 * chunk under STORE_Z_MIN. *len set; buf holds at least 4096 bytes. */
static void chunk_for(int i, unsigned char *buf, size_t *len)
{
    uint32_t x = 2654435761u * (uint32_t)(i + 1);
    switch (i % 3) {
    case 0:
        *len = 0;
        for (int k = 0; k < 20; k++)
            *len += (size_t)sprintf((char *)buf + *len,
                                    "@@progress {\"bar\":%d,\"of\":5105,\"equity\":%d.5}\n", i + k,
                                    100000 + i);
        break;
    case 1:
        *len = 1000 + (size_t)(i % 500);
        for (size_t k = 0; k < *len; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            buf[k] = (unsigned char)x;
        }
        break;
    default:
        *len = 1 + (size_t)(i % (STORE_Z_MIN - 1));
        memset(buf, 'a' + i % 26, *len);
    }
}

struct got {
    unsigned char *p[4];
    size_t n[4];
    int64_t last_t;
    int bad_t;
};

static int collect(const struct output_chunk *c, void *arg)
{
    struct got *g = arg;
    int s = c->stream;
    g->p[s] = realloc(g->p[s], g->n[s] + c->len);
    memcpy(g->p[s] + g->n[s], c->data, c->len);
    g->n[s] += c->len;
    if (c->t_ms < g->last_t || c->t_ms <= 0)
        g->bad_t++;
    g->last_t = c->t_ms;
    return 0;
}

/* Check trajectory traj's stored output against what was appended. */
static void check_read(struct store *s, int64_t traj)
{
    struct sd_err err = {0};
    struct got g = {0};
    sqlite3 *db = store_reader(s, &err);
    unsigned char want[2][NCHUNK / 3 * 4096 / 2 + 4096];
    size_t wn[2] = {0, 0};
    unsigned char buf[4096];
    size_t len;

    CHECK(db != NULL);
    if (db == NULL)
        return;
    for (int i = 0; i < NCHUNK; i++) {
        if (i % 3 != traj - 1)
            continue;
        chunk_for(i, buf, &len);
        int st = i % 2;
        memcpy(want[st] + wn[st], buf, len);
        wn[st] += len;
    }
    CHECK(store_output_read_timed(db, traj, 0, collect, &g, &err) == 0);
    CHECK(g.bad_t == 0);
    CHECK(g.n[1] == wn[0] && memcmp(g.p[1], want[0], wn[0]) == 0);
    CHECK(g.n[2] == wn[1] && memcmp(g.p[2], want[1], wn[1]) == 0);
    for (int k = 0; k < 4; k++)
        free(g.p[k]);
    sqlite3_close_v2(db);
}

static struct store *open_key(const char *key)
{
    struct store *s = NULL;
    struct sd_err err = {0};
    if (store_open_key(path, STORE_CREATE, key, &s, &err) != 0) {
        fprintf(stderr, "store_open_key: %s\n", err.msg);
        return NULL;
    }
    return s;
}

static void fill(void)
{
    struct sd_err err = {0};
    struct store *s;
    unsigned char buf[4096];
    size_t len;

    snprintf(dir, sizeof dir, "/tmp/" TMPSTORE_PREFIX "-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/t.db", dir);
    CHECK((s = open_key(KEY1)) != NULL);
    store_set_output_caps(s, (size_t)1 << 30, (size_t)1 << 30);
    for (int i = 0; i < NCHUNK; i++) {
        chunk_for(i, buf, &len);
        CHECK(store_output_append(s, 1 + i % 3, 1 + i % 2, buf, len) == 0);
        if (i % 500 == 499)
            CHECK(store_flush(s, &err) == 0); /* several batches, several nonces */
    }
    CHECK(store_flush(s, &err) == 0);
    for (int64_t t = 1; t <= 3; t++)
        check_read(s, t);
    store_close(s);
}

static void seal_roundtrip(void)
{
    sqlite3 *db;
    sqlite3_stmt *st;

    fill();
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT count(*), count(DISTINCT substr(data, 3, 12)),"
                             " sum(typeof(data) = 'blob' AND substr(data, 1, 1) = x'01'),"
                             " sum(z = 1), sum(t IS NOT NULL) FROM output",
                             -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int(st, 0) == NCHUNK);
    CHECK(sqlite3_column_int(st, 1) == NCHUNK); /* one nonce per box */
    CHECK(sqlite3_column_int(st, 2) == NCHUNK); /* every row sealed */
    CHECK(sqlite3_column_int(st, 3) >= NCHUNK / 3 && sqlite3_column_int(st, 3) < 2 * NCHUNK / 3);
    CHECK(sqlite3_column_int(st, 4) == NCHUNK);
    sqlite3_finalize(st);
    sqlite3_close(db);
    {
        struct store *s = open_key(KEY1);
        CHECK(s != NULL);
        for (int64_t t = 1; s != NULL && t <= 3; t++)
            check_read(s, t);
        store_gone(s);
    }
}

static void seal_wrongkey(void)
{
    struct store *s = NULL;
    struct sd_err err = {0};

    fill();
    CHECK(store_open_key(path, STORE_CREATE, KEY2, &s, &err) != 0);
    CHECK(err.code == SD_EKEY);
    s = open_key(KEY1);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"seal_roundtrip", seal_roundtrip},
        {"seal_wrongkey", seal_wrongkey},
    };
    (void)store_new; /* tmpstore.h's; these cases open with a key */
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
