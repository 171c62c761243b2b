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
#include "store_int.h"

#include <stdlib.h>

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

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

void store_stmt_reset_all(struct store *s)
{
    for (size_t i = 0; i < s->stmt_cap; i++)
        if (s->stmts[i].st != NULL)
            sqlite3_reset(s->stmts[i].st);
}

void store_stmt_finalize_all(struct store *s)
{
    for (size_t i = 0; i < s->stmt_cap; i++)
        sqlite3_finalize(s->stmts[i].st);
    free(s->stmts);
    s->stmts = NULL;
    s->stmt_cap = s->nstmts = 0;
}
