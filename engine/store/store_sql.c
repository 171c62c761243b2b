/*
 * store_sql.c: the SQL plumbing under the store's writer: the SQLite error
 * that names the store's file, and the writer's cache of prepared statements
 * (store_stmt, store.h; the rest in store_int.h).
 *
 * DESIGN
 * The cache is an open-addressing hash table keyed by the address of the SQL
 * text (callers pass string literals), kept at most half full and doubled
 * when it reaches that. Statements are prepared with SQLITE_PREPARE_PERSISTENT
 * and live until the writer stops; store_stmt hands one out reset and with
 * its bindings cleared, and the writer resets them all before each COMMIT so
 * that no statement is still in progress when the batch commits.
 *
 * It calls nothing in engine/store but SQLite: every other writer file may
 * call it.
 *
 * THREADS
 * store_sql_err: any thread that owns the connection it is given. The
 * statement cache: the writer thread only (asserted).
 */
#define _GNU_SOURCE
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
    uint64_t hash; /* of the text (store_stmt_get's table only) */
};

/* FNV-1a of a statement's text. */
static uint64_t text_hash(const char *sql)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *sql; sql++)
        h = (h ^ (unsigned char)*sql) * 0x100000001b3u;
    return h;
}

int store_sql_err(struct sd_err *err, sqlite3 *db, const char *path, const char *what)
{
    int code = sqlite3_errcode(db);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return sd_err_set(err, SD_EENV,
                          "%s: %s: the store is damaged or not a swarmdeck store (%s); move it "
                          "aside and start again, or restore a backup",
                          path, what, sqlite3_errmsg(db));
    if (code == SQLITE_NOMEM)
        return sd_err_set(err, SD_ENOMEM, "%s: %s: out of memory", path, what);
    return sd_err_set(err, SD_EENV, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

sqlite3_stmt *store_stmt(struct store *s, const char *sql, struct sd_err *err)
{
    size_t mask, i;

    ASSERT_WRITER(s);
    if (s->nstmts * 2 >= s->stmt_cap) {
        size_t cap = s->stmt_cap ? s->stmt_cap * 2 : 64;
        struct stmt_slot *t = calloc(cap, sizeof *t);
        if (t == NULL) {
            sd_err_set(err, SD_ENOMEM, "out of memory");
            return NULL;
        }
        for (i = 0; i < s->stmt_cap; i++) {
            size_t k;
            if (s->stmts[i].sql == NULL)
                continue;
            for (k = ((uintptr_t)s->stmts[i].sql >> 3) & (cap - 1); t[k].sql != NULL;
                 k = (k + 1) & (cap - 1))
                ;
            t[k] = s->stmts[i];
        }
        free(s->stmts);
        s->stmts = t;
        s->stmt_cap = cap;
    }
    mask = s->stmt_cap - 1;
    for (i = ((uintptr_t)sql >> 3) & mask; s->stmts[i].sql != NULL; i = (i + 1) & mask) {
        if (s->stmts[i].sql == sql) {
            sqlite3_reset(s->stmts[i].st);
            sqlite3_clear_bindings(s->stmts[i].st);
            return s->stmts[i].st;
        }
    }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[i].st, NULL) !=
        SQLITE_OK) {
        store_sql_err(err, s->db, s->path, "cannot prepare a statement");
        s->stmts[i].st = NULL;
        return NULL;
    }
    s->stmts[i].sql = sql;
    s->nstmts++;
    return s->stmts[i].st;
}

sqlite3_stmt *store_stmt_get(struct store *s, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    uint64_t h;
    size_t mask, i;

    if (s == NULL)
        return sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK ? st : NULL;
    ASSERT_WRITER(s);
    if (s->ntstmts * 2 >= s->tstmt_cap) {
        size_t cap = s->tstmt_cap ? s->tstmt_cap * 2 : 32;
        struct stmt_slot *t = calloc(cap, sizeof *t);
        if (t == NULL)
            return NULL;
        for (i = 0; i < s->tstmt_cap; i++) {
            size_t k;
            if (s->tstmts[i].sql == NULL)
                continue;
            for (k = s->tstmts[i].hash & (cap - 1); t[k].sql != NULL; k = (k + 1) & (cap - 1))
                ;
            t[k] = s->tstmts[i];
        }
        free(s->tstmts);
        s->tstmts = t;
        s->tstmt_cap = cap;
    }
    h = text_hash(sql);
    mask = s->tstmt_cap - 1;
    for (i = h & mask; s->tstmts[i].sql != NULL; i = (i + 1) & mask)
        if (s->tstmts[i].hash == h && strcmp(s->tstmts[i].sql, sql) == 0) {
            sqlite3_reset(s->tstmts[i].st);
            sqlite3_clear_bindings(s->tstmts[i].st);
            return s->tstmts[i].st;
        }
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    if ((s->tstmts[i].sql = strdup(sql)) == NULL) {
        sqlite3_finalize(st);
        return NULL;
    }
    s->tstmts[i].st = st;
    s->tstmts[i].hash = h;
    s->ntstmts++;
    return st;
}

void store_stmt_put(struct store *s, sqlite3_stmt *st)
{
    if (s == NULL)
        sqlite3_finalize(st);
    else if (st != NULL)
        sqlite3_reset(st);
}

void store_stmt_reset_all(struct store *s)
{
    for (size_t i = 0; i < s->stmt_cap; i++)
        if (s->stmts[i].st != NULL)
            sqlite3_reset(s->stmts[i].st);
    for (size_t i = 0; i < s->tstmt_cap; i++)
        if (s->tstmts[i].st != NULL)
            sqlite3_reset(s->tstmts[i].st);
}

void store_stmt_finalize_all(struct store *s)
{
    for (size_t i = 0; i < s->stmt_cap; i++)
        sqlite3_finalize(s->stmts[i].st);
    free(s->stmts);
    s->stmts = NULL;
    s->stmt_cap = s->nstmts = 0;
    for (size_t i = 0; i < s->tstmt_cap; i++) {
        sqlite3_finalize(s->tstmts[i].st);
        free((char *)s->tstmts[i].sql);
    }
    free(s->tstmts);
    s->tstmts = NULL;
    s->tstmt_cap = s->ntstmts = 0;
}
