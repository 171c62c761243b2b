/*
 * cmd-data.c: list market data; import a CSV into the store.
 *
 * Import checks the file with the runner's own strict loader (series.h), so a
 * file the store accepts is one every strategy accepts, and replaces the
 * symbol's bars in one transaction: a bad file changes nothing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "series.h"

static const struct cli_opt opts[] = {
    {"symbol", 0, "SYM", "import: the symbol to file the bars under"},
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

struct bars_job {
    const char *symbol;
    const struct series *s;
};

static int bars_fn(struct store *st, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct bars_job *j = arg;
    const struct series *s = j->s;
    sqlite3_stmt *del, *ins;

    if (sqlite3_exec(db, "SAVEPOINT bars", NULL, NULL, NULL) != SQLITE_OK)
        return sd_err_set(err, SD_EENV, "store: %s", sqlite3_errmsg(db));
    del = store_stmt(st, "DELETE FROM bars WHERE symbol = ?1", err);
    if (del == NULL)
        goto fail;
    sqlite3_bind_text(del, 1, j->symbol, -1, SQLITE_STATIC);
    if (sqlite3_step(del) != SQLITE_DONE)
        goto dberr;
    for (size_t i = 0; i < s->n; i++) {
        ins = store_stmt(st,
                         "INSERT INTO bars(symbol, date, open, high, low, close, volume) "
                         "VALUES(?1,?2,?3,?4,?5,?6,?7)",
                         err);
        if (ins == NULL)
            goto fail;
        sqlite3_bind_text(ins, 1, j->symbol, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, s->date[i], -1, SQLITE_STATIC);
        if (s->open)
            sqlite3_bind_double(ins, 3, s->open[i]);
        if (s->high)
            sqlite3_bind_double(ins, 4, s->high[i]);
        if (s->low)
            sqlite3_bind_double(ins, 5, s->low[i]);
        sqlite3_bind_double(ins, 6, s->close[i]);
        if (s->volume)
            sqlite3_bind_double(ins, 7, s->volume[i]);
        if (sqlite3_step(ins) != SQLITE_DONE)
            goto dberr;
    }
    sqlite3_exec(db, "RELEASE bars", NULL, NULL, NULL);
    return 0;
dberr:
    sd_err_set(err, SD_EENV, "store: %s", sqlite3_errmsg(db));
fail:
    sqlite3_exec(db, "ROLLBACK TO bars", NULL, NULL, NULL);
    sqlite3_exec(db, "RELEASE bars", NULL, NULL, NULL);
    return -1;
}

static int do_import(struct cli_ctx *ctx, const char *file, const char *symbol)
{
    struct series s;
    struct err e;
    struct sd_err err = {0};
    struct bars_job j;
    int status;

    if (symbol == NULL)
        return cli_fail(SD_EUSAGE, "data import needs --symbol SYM");
    if (!catalog_symbol_ok(symbol))
        return cli_fail(SD_EUSAGE, "invalid symbol \"%s\" (letters, digits and . ^ _ -)", symbol);
    if (ctx->readonly)
        return cli_fail(SD_EUSAGE, "--readonly: refusing to import");
    memset(&e, 0, sizeof e);
    if (series_load(&s, file, &e) != 0)
        return cli_fail(SD_EUSAGE, "%s (nothing imported)", e.msg);
    if ((status = cli_open_store(ctx, 0)) != 0) {
        series_free(&s);
        return status;
    }
    j.symbol = symbol;
    j.s = &s;
    if (store_call(ctx->store, bars_fn, &j, &err) != 0 || store_flush(ctx->store, &err) != 0) {
        series_free(&s);
        return cli_fail_err(&err);
    }
    printf("imported %zu bar(s) of %s (%s .. %s)%s\n", s.n, symbol, s.date[0], s.date[s.n - 1],
           s.synthetic ? " [synthetic]" : "");
    series_free(&s);
    return 0;
}

static int do_list(struct cli_ctx *ctx, int json)
{
    const char *dir = catalog_data_dir();
    json_t *arr = json_array();
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);

    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t len = strlen(nm);
        if (len > 4 && strcmp(nm + len - 4, ".csv") == 0) {
            char sym[64], path[4096];
            struct series s;
            struct err e;
            int synth = len > 14 && strcmp(nm + len - 14, ".synthetic.csv") == 0;
            snprintf(sym, sizeof sym, "%.*s", (int)(len - (synth ? 14 : 4)), nm);
            snprintf(path, sizeof path, "%s/%s", dir, nm);
            memset(&e, 0, sizeof e);
            if (series_load(&s, path, &e) == 0) {
                json_array_append_new(
                    arr, json_pack("{s:s, s:s, s:b, s:I, s:s, s:s, s:b, s:b}", "symbol", sym,
                                   "source", "bundled", "synthetic", synth || s.synthetic, "bars",
                                   (json_int_t)s.n, "first", s.date[0], "last", s.date[s.n - 1],
                                   "ohlc", s.open != NULL, "volume", s.volume != NULL));
                series_free(&s);
            }
        }
        free(names[i]);
    }
    free(names);
    if (cli_open_store(ctx, 1) == 0) {
        struct sd_err err = {0};
        sqlite3 *db = store_reader(ctx->store, &err);
        sqlite3_stmt *st = NULL;
        if (db && sqlite3_prepare_v2(db,
                                     "SELECT symbol, count(*), min(date), max(date), "
                                     "count(open) > 0, count(volume) > 0 FROM bars GROUP BY symbol",
                                     -1, &st, NULL) == SQLITE_OK)
            while (sqlite3_step(st) == SQLITE_ROW)
                json_array_append_new(
                    arr, json_pack("{s:s, s:s, s:b, s:I, s:s, s:s, s:b, s:b}", "symbol",
                                   (const char *)sqlite3_column_text(st, 0), "source", "imported",
                                   "synthetic", 0, "bars", (json_int_t)sqlite3_column_int64(st, 1),
                                   "first", (const char *)sqlite3_column_text(st, 2), "last",
                                   (const char *)sqlite3_column_text(st, 3), "ohlc",
                                   sqlite3_column_int(st, 4), "volume", sqlite3_column_int(st, 5)));
        sqlite3_finalize(st);
        sqlite3_close_v2(db);
    }
    if (json) {
        cli_print_json(arr);
        return 0;
    }
    printf("%-8s %-9s %6s  %-10s  %-10s  %s\n", "SYMBOL", "SOURCE", "BARS", "FIRST", "LAST",
           "NOTE");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        printf("%-8s %-9s %6lld  %-10s  %-10s  %s%s\n",
               json_string_value(json_object_get(o, "symbol")),
               json_string_value(json_object_get(o, "source")),
               (long long)json_integer_value(json_object_get(o, "bars")),
               json_string_value(json_object_get(o, "first")),
               json_string_value(json_object_get(o, "last")),
               json_is_true(json_object_get(o, "synthetic")) ? "SYNTHETIC, not market history" : "",
               json_is_true(json_object_get(o, "ohlc")) ? "" : " (close only)");
    }
    json_decref(arr);
    return 0;
}

static int exec_data(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_data;
    const char *sub = a->argc > 0 ? a->argv[0] : "list";

    if (strcmp(sub, "list") == 0 && a->argc <= 1)
        return do_list(ctx, cli_flag(&cmd_data, a, "json"));
    if (strcmp(sub, "import") == 0 && a->argc == 2)
        return do_import(ctx, a->argv[1], cli_val(&cmd_data, a, "symbol"));
    return cli_fail(SD_EUSAGE, "usage: swarmdeck data list | data import FILE --symbol SYM");
}

const struct cli_cmd cmd_data = {
    .name = "data",
    .usage = "list | import FILE --symbol SYM",
    .summary = "list market data, or import a CSV under a symbol",
    .opts = opts,
    .min_args = 0,
    .max_args = 2,
    .exec = exec_data,
};
