/*
 * console_detail_test.c: the console's reads of the operator's day
 * (engine/store/query_console2.h) and the store reader's details slot
 * (tui/fetch.h): a deployment's whole details (run, parameters,
 * description, exit code, failover reason, result, equity from its
 * @@progress lines), the failover and run maps of the history, and the
 * whole output saved in logview_save's format. On a temporary store.
 * `test-console-detail NAME` runs one case.
 */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "query_console2.h"

#include "check.h"
#include "tmpstore.h"

static int ins_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    (void)s;
    (void)arg;
    if (sqlite3_exec(db,
                     "INSERT INTO runs(id, kind, started_at) VALUES (7, 'deploy', 1);"
                     "INSERT INTO trajectories(id, uuid, run_id, strategy, symbol, params, "
                     "provider, status, exit_code, error, created_at, started_at, ended_at, "
                     "description, result) VALUES (1, 'u1', 7, 'momentum', 'SPY', "
                     "'{\"lookback\":15}', 'local', 'succeeded', 0, NULL, 1000, 2000, 3000, "
                     "'first try', '{\"total_return\":0.05,\"max_drawdown\":0.1}');"
                     "INSERT INTO trajectories(id, uuid, strategy, symbol, provider, status, "
                     "exit_code, error, created_at) VALUES (2, 'u2', 'momentum', 'QQQ', 'local', "
                     "'failed', 1, 'boom', 4000);"
                     "INSERT INTO operations(traj_id, seq, name, started_at, duration_ms, ok, "
                     "detail) VALUES (1, 1, 'failover', 0, 0, 1, 'e2b: breaker open');",
                     NULL, NULL, NULL) != SQLITE_OK)
        return sd_err_set(err, SD_EENV, "insert: %s", sqlite3_errmsg(db));
    return 0;
}

static struct store *filled(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    char line[128];
    if (store_call(s, ins_job, NULL, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    /* 500 progress lines between human ones, a line split over two chunks,
     * a stderr line, no final newline */
    for (int i = 1; i <= 500; i++) {
        snprintf(line, sizeof line, "@@progress {\"bar\":%d,\"equity\":%d.5}\nday %d\n", i,
                 1000 + i, i);
        store_output_append(s, 1, 1, line, strlen(line));
    }
    store_output_append(s, 1, 2, "warn one\nwarn", 13);
    store_output_append(s, 1, 1, "last ", 5);
    store_output_append(s, 1, 2, " two\n", 5);
    store_output_append(s, 1, 1, "line", 4);
    store_flush(s, &err);
    return s;
}

static struct fetch_result *wait_fetch(struct fetch *f)
{
    struct fetch_result *r = fetch_take(f);
    for (int tries = 0; r == NULL && tries < 100; tries++) {
        struct pollfd pf = {fetch_fd(f), POLLIN, 0};
        if (poll(&pf, 1, 100) > 0)
            r = fetch_take(f);
    }
    return r;
}

/* store_console_detail: everything of #1; #2 without run, params or result;
 * #3 is not there. */
static void t_detail(void)
{
    struct store *s = filled();
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    json_t *d = NULL, *eq;

    CHECK(store_console_detail(db, 1, 60, &d, &err) == 0 && d != NULL);
    CHECK(json_integer_value(json_object_get(d, "runId")) == 7);
    CHECK(json_integer_value(json_object_get(json_object_get(d, "params"), "lookback")) == 15);
    CHECK(strcmp(json_string_value(json_object_get(d, "description")), "first try") == 0);
    CHECK(json_integer_value(json_object_get(d, "exitCode")) == 0);
    CHECK(strcmp(json_string_value(json_object_get(d, "failover")), "e2b: breaker open") == 0);
    CHECK(json_integer_value(json_object_get(d, "endedAt")) == 3000);
    CHECK(fabs(json_number_value(json_object_get(json_object_get(d, "result"), "max_drawdown")) -
               0.1) < 1e-12);
    eq = json_object_get(d, "equity");
    CHECK(json_array_size(eq) == 60); /* 500 thinned to 60, first and last kept */
    CHECK(fabs(json_number_value(json_array_get(eq, 0)) - 1001.5) < 1e-9);
    CHECK(fabs(json_number_value(json_array_get(eq, 59)) - 1500.5) < 1e-9);
    json_decref(d);
    CHECK(store_console_detail(db, 2, 60, &d, &err) == 0 && d != NULL);
    CHECK(json_is_null(json_object_get(d, "runId")) && json_is_null(json_object_get(d, "result")));
    CHECK(json_is_null(json_object_get(d, "failover")));
    CHECK(strcmp(json_string_value(json_object_get(d, "error")), "boom") == 0);
    CHECK(json_object_size(json_object_get(d, "params")) == 0);
    CHECK(json_array_size(json_object_get(d, "equity")) == 0);
    json_decref(d);
    CHECK(store_console_detail(db, 3, 60, &d, &err) == 1 && d == NULL);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* The history's maps: who failed over (with why) and which run. */
static void t_maps(void)
{
    struct store *s = filled();
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    json_t *fo = store_console_failovers(db, 100, &err), *runs = store_console_runs(db, 100, &err);

    CHECK(fo != NULL && json_object_size(fo) == 1);
    CHECK(strcmp(json_string_value(json_object_get(fo, "1")), "e2b: breaker open") == 0);
    CHECK(runs != NULL && json_object_size(runs) == 1);
    CHECK(json_integer_value(json_object_get(runs, "1")) == 7);
    json_decref(fo);
    json_decref(runs);
    /* limit 1: only the newest trajectory (#2), which has neither */
    fo = store_console_failovers(db, 1, &err);
    runs = store_console_runs(db, 1, &err);
    CHECK(fo != NULL && json_object_size(fo) == 0 && runs != NULL && json_object_size(runs) == 0);
    json_decref(fo);
    json_decref(runs);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* The whole output, stderr lines marked at their starts, a last line
 * without a newline completed. */
static void t_save(void)
{
    struct store *s = filled();
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    long n = store_console_save_output(db, 1, f, &err);

    fclose(f);
    CHECK(n == 1000 + 3);
    CHECK(strncmp(buf, "@@progress {\"bar\":1,", 20) == 0);
    CHECK(strstr(buf, "day 500\n[stderr] warn one\n[stderr] warnlast  two\nline\n") != NULL);
    free(buf);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* The reader's details slot: a request is answered with the object; a
 * newer request replaces an older one not yet read. */
static void t_fetch_detail(void)
{
    struct store *s = filled();
    struct fetch_conf fc = {.store = s};
    struct sd_err err = {0};
    struct fetch *f = fetch_start(&fc, &err);
    struct fetch_result *r;

    CHECK(f != NULL);
    fetch_detail(f, 2);
    fetch_detail(f, 1); /* supersedes #2 */
    r = wait_fetch(f);
    while (r != NULL && r->kind == FETCH_DETAIL && r->id == 2) { /* read before it was superseded */
        fetch_result_free(r);
        r = wait_fetch(f);
    }
    CHECK(r != NULL && r->kind == FETCH_DETAIL && r->id == 1 && r->detail != NULL);
    if (r != NULL && r->detail != NULL)
        CHECK(json_integer_value(json_object_get(r->detail, "runId")) == 7);
    fetch_result_free(r);
    fetch_history(f);
    r = wait_fetch(f);
    CHECK(r != NULL && r->kind == FETCH_HISTORY && r->nrows == 2);
    CHECK(r != NULL && json_object_size(r->failovers) == 1 && json_object_size(r->runmap) == 1);
    fetch_result_free(r);
    fetch_stop(f);
    store_gone(s);
}

static const struct check_case tests[] = {
    {"detail", t_detail},
    {"maps", t_maps},
    {"save", t_save},
    {"fetch_detail", t_fetch_detail},
};

int main(int argc, char **argv)
{
    return check_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
