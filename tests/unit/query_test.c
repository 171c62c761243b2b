/*
 * query_test.c: unit tests of the store's named queries (engine/store/query*.c,
 * query.h) that took over the SQL of the command line, the catalog and the
 * learner: what they return for rows written through the store's own writers,
 * and that a job failing half way leaves nothing (the savepoint helpers).
 *
 * One CTest entry per case (query.cmake); `query_test NAME` runs one case, no
 * argument runs all, each on its own temporary store.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "traj.h"

#include "check.h"
#define TMPSTORE_PREFIX "query-test"
#include "tmpstore.h"

static sqlite3 *reader(struct store *s)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    if (db == NULL) {
        fprintf(stderr, "store_reader: %s\n", err.msg);
        exit(1);
    }
    return db;
}

/* --- helpers: store_dberr, store_savepoint --------------------------------- */

struct sp_job {
    int fail; /* make the second insert fail */
};

static int sp_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct sp_job *j = arg;
    int rc = -1;
    (void)s;
    if (store_savepoint(db, "t", err) != 0)
        return -1;
    if (sqlite3_exec(db, "INSERT INTO meta(key, value) VALUES('sp_test', '1')", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(db,
                     j->fail ? "INSERT INTO no_such_table VALUES(1)"
                             : "UPDATE meta SET value = '2' WHERE key = 'sp_test'",
                     NULL, NULL, NULL) != SQLITE_OK) {
        store_dberr(err, db, "sp");
        goto out;
    }
    rc = 0;
out:
    return store_savepoint_end(db, "t", rc);
}

static int meta_value(struct store *s, char *buf, size_t n)
{
    sqlite3 *db = reader(s);
    sqlite3_stmt *st = NULL;
    int found = 0;
    sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'sp_test'", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return found;
}

static void t_savepoint(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    struct sp_job j = {1};
    char v[16];

    /* A failing job: its first write is rolled back with it; the message is
     * "what: sqlite's message". */
    CHECK(store_call(s, sp_fn, &j, &err) == -1);
    CHECK(err.code == SD_EENV);
    CHECK(strncmp(err.msg, "sp: no such table", 17) == 0);
    CHECK(store_flush(s, &err) == 0);
    CHECK(!meta_value(s, v, sizeof v));
    /* A job that succeeds keeps both writes. */
    j.fail = 0;
    CHECK(store_call(s, sp_fn, &j, &err) == 0);
    CHECK(store_flush(s, &err) == 0);
    CHECK(meta_value(s, v, sizeof v) && strcmp(v, "2") == 0);
    /* store_savepoint_end returns the rc it was given. */
    {
        sqlite3 *db = reader(s);
        struct sd_err e = {0};
        CHECK(store_savepoint(db, "r", &e) == 0);
        CHECK(store_savepoint_end(db, "r", 7) == 7);
        CHECK(store_dberr(&e, db, NULL) == -1 && e.code == SD_EENV);
        sqlite3_close_v2(db);
    }
    store_gone(s);
}

/* --- market bars ----------------------------------------------------------- */

struct bar_seen {
    int n;
    char first[11], last[11];
    double last_close, last_open;
};

static int bar_cb(const char *date, const double v[5], void *arg)
{
    struct bar_seen *b = arg;
    if (b->n++ == 0)
        snprintf(b->first, sizeof b->first, "%s", date);
    snprintf(b->last, sizeof b->last, "%s", date);
    b->last_open = v[0];
    b->last_close = v[3];
    return 0;
}

static void t_bars(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    const char dates[3][11] = {"2020-01-01", "2020-01-02", "2020-01-03"};
    const char dup[2][11] = {"2021-01-01", "2021-01-01"};
    const double close[3] = {1, 2, 3}, open[3] = {0.5, 1.5, 2.5};
    struct store_bars b = {"ABC", 3, dates, NULL, NULL, NULL, close, NULL};
    struct bar_seen seen = {0};
    sqlite3 *db;
    json_t *list, *o;

    CHECK(store_bars_replace(s, &b, &err) == 0);
    db = reader(s);
    CHECK(store_bars_present(db, "ABC", &err) == 1);
    CHECK(store_bars_present(db, "XYZ", &err) == 0);
    CHECK(store_bars_read(db, "ABC", bar_cb, &seen, &err) == 0);
    CHECK(seen.n == 3 && strcmp(seen.first, "2020-01-01") == 0 &&
          strcmp(seen.last, "2020-01-03") == 0);
    CHECK(seen.last_close == 3 && isnan(seen.last_open)); /* close only: open is NULL */
    list = store_bars_list(db, &err);
    CHECK(json_array_size(list) == 1);
    o = json_array_get(list, 0);
    CHECK(strcmp(json_string_value(json_object_get(o, "symbol")), "ABC") == 0);
    CHECK(strcmp(json_string_value(json_object_get(o, "source")), "imported") == 0);
    CHECK(json_integer_value(json_object_get(o, "bars")) == 3);
    CHECK(json_is_false(json_object_get(o, "ohlc")));
    json_decref(list);
    sqlite3_close_v2(db);

    /* Replacing with a bad series (two bars on one date) changes nothing. */
    b = (struct store_bars){"ABC", 2, dup, open, NULL, NULL, close, NULL};
    CHECK(store_bars_replace(s, &b, &err) == -1);
    CHECK(err.code == SD_EENV && strstr(err.msg, "UNIQUE") != NULL);
    db = reader(s);
    memset(&seen, 0, sizeof seen);
    CHECK(store_bars_read(db, "ABC", bar_cb, &seen, &err) == 0);
    CHECK(seen.n == 3 && strcmp(seen.first, "2020-01-01") == 0);
    sqlite3_close_v2(db);

    /* A good replacement replaces every bar, with open this time. */
    b = (struct store_bars){"ABC", 2, dates, open, NULL, NULL, close, NULL};
    CHECK(store_bars_replace(s, &b, &err) == 0);
    db = reader(s);
    memset(&seen, 0, sizeof seen);
    CHECK(store_bars_read(db, "ABC", bar_cb, &seen, &err) == 0);
    CHECK(seen.n == 2 && seen.last_open == 1.5 && seen.last_close == 2);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* --- user strategies ------------------------------------------------------- */

static void t_strategies(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    sqlite3 *db;
    json_t *ms;

    CHECK(store_strategy_put(s, "zeta", "{\"name\":\"zeta\",\"v\":1}", &err) == 0);
    CHECK(store_strategy_put(s, "alpha", "{\"name\":\"alpha\"}", &err) == 0);
    CHECK(store_strategy_put(s, "zeta", "{\"name\":\"zeta\",\"v\":2}", &err) == 0);
    db = reader(s);
    ms = store_strategy_manifests(db, &err);
    CHECK(json_array_size(ms) == 2); /* the second put of zeta replaced the first */
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(ms, 0), "name")), "alpha") == 0);
    CHECK(json_integer_value(json_object_get(json_array_get(ms, 1), "v")) == 2);
    json_decref(ms);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* --- trajectories ---------------------------------------------------------- */

static int64_t add_traj(struct store *s, const char *strategy, int state, const char *result,
                        double reward)
{
    struct sd_err err = {0};
    char uuid[37];
    struct traj_new t = {0};
    struct traj_final f = {0};
    int64_t id;

    traj_uuid(uuid);
    t.uuid = uuid;
    t.strategy = strategy;
    t.symbol = "SPY";
    t.params = "{\"lookback\":5}";
    t.provider = "local";
    id = traj_insert(s, &t, &err);
    CHECK(id > 0);
    if (state != TS_QUEUED) {
        f.state = state;
        f.exit_code = 0;
        f.ended_at = sd_now_ms();
        f.duration_ms = 12.5;
        f.result = result;
        f.reward = reward;
        f.op_sequence = "create,start";
        traj_finish(s, id, &f);
    }
    return id;
}

struct hist {
    int n;
    int64_t ids[8];
    int has_return[8], has_duration[8];
    double ret[8];
};

static int hist_cb(const struct store_history_row *r, void *arg)
{
    struct hist *h = arg;
    if (h->n < 8) {
        h->ids[h->n] = r->id;
        h->has_return[h->n] = r->has_return;
        h->has_duration[h->n] = r->has_duration;
        h->ret[h->n] = r->total_return;
    }
    h->n++;
    return 0;
}

struct chunks {
    int n;
    int64_t last_seq;
    char text[64];
};

static int chunk_cb(int64_t seq, int stream, const void *data, size_t len, void *arg)
{
    struct chunks *c = arg;
    size_t used = strlen(c->text);
    (void)stream;
    c->n++;
    c->last_seq = seq;
    snprintf(c->text + used, sizeof c->text - used, "%.*s", (int)len, (const char *)data);
    return c->n == 99 ? 5 : 0;
}

static void t_traj(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    struct hist h = {0};
    struct chunks c = {0};
    struct store_counts n;
    int64_t a, b, q, dropped = -1;
    int state = -1;
    sqlite3 *db;
    json_t *t;

    a = add_traj(s, "momentum", TS_SUCCEEDED, "{\"total_return\":0.25,\"sharpe\":1.5}", 0.7);
    b = add_traj(s, "meanrev", TS_FAILED, NULL, 0.1);
    q = add_traj(s, "momentum", TS_QUEUED, NULL, 0);
    CHECK(store_output_append(s, a, 1, "hello ", 6) == 0);
    CHECK(store_output_append(s, a, 2, "world", 5) == 0);
    CHECK(store_output_end(s, a) == 0);
    CHECK(store_flush(s, &err) == 0);
    db = reader(s);

    /* history: newest first, filters and limit */
    CHECK(store_traj_history(db, &(struct store_history_filter){.limit = 10}, hist_cb, &h, &err) ==
          0);
    CHECK(h.n == 3 && h.ids[0] == q && h.ids[1] == b && h.ids[2] == a);
    CHECK(h.has_return[2] && h.ret[2] == 0.25 && !h.has_return[1]);
    CHECK(!h.has_duration[0] && h.has_duration[2]);
    memset(&h, 0, sizeof h);
    CHECK(store_traj_history(db, &(struct store_history_filter){"momentum", "succeeded", 0, 10},
                             hist_cb, &h, &err) == 0);
    CHECK(h.n == 1 && h.ids[0] == a);
    memset(&h, 0, sizeof h);
    CHECK(store_traj_history(db, &(struct store_history_filter){.limit = 2}, hist_cb, &h, &err) ==
          0);
    CHECK(h.n == 2);

    /* progress and output */
    CHECK(store_traj_progress(db, a, &state, &dropped, &err) == 1);
    CHECK(state == TS_SUCCEEDED && dropped == 0);
    CHECK(store_traj_progress(db, q + 100, &state, &dropped, &err) == 0);
    CHECK(store_output_read(db, a, 0, chunk_cb, &c, &err) == 0);
    CHECK(c.n == 2 && strcmp(c.text, "hello world") == 0);
    memset(&c, 0, sizeof c);
    CHECK(store_output_read(db, a, 1, chunk_cb, &c, &err) == 0); /* from seq 1 on */
    CHECK(c.n == 1 && strcmp(c.text, "world") == 0 && c.last_seq == 1);

    /* counts */
    CHECK(store_traj_counts(db, &n, &err) == 0);
    CHECK(n.total == 3 && n.by_state[TS_SUCCEEDED] == 1 && n.by_state[TS_FAILED] == 1 &&
          n.by_state[TS_QUEUED] == 1);
    CHECK(fabs(n.avg_reward - 0.4) < 1e-9 && n.leases == 0 && n.runs == 0);

    /* one in full, and a missing one */
    t = store_traj_json(db, a, &err);
    CHECK(t != NULL && json_integer_value(json_object_get(t, "id")) == a);
    CHECK(json_array_size(json_object_get(t, "operations")) == 0);
    CHECK(json_object_get(t, "output") == NULL);
    json_decref(t);
    memset(&err, 0, sizeof err);
    CHECK(store_traj_json(db, q + 100, &err) == NULL && err.code == SD_EUSAGE);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* --- the learner's reads --------------------------------------------------- */

static int learn_cb(const struct store_learn_row *r, void *arg)
{
    int *n = arg;
    CHECK(strcmp(r->status, "queued") != 0);
    CHECK(isnan(r->predicted));
    CHECK(r->duration_ms == 12.5);
    (*n)++;
    return *n == 2 ? 9 : 0; /* stops the walk and is returned */
}

static void t_learn_rows(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    int64_t *ids = NULL;
    size_t nids = 0;
    int n = 0;

    add_traj(s, "momentum", TS_SUCCEEDED, NULL, 1);
    add_traj(s, "momentum", TS_QUEUED, NULL, 0);
    add_traj(s, "meanrev", TS_TIMEOUT, NULL, 0);
    add_traj(s, "meanrev", TS_FAILED, NULL, 0);
    CHECK(store_flush(s, &err) == 0);
    CHECK(store_learn_rows(s, learn_cb, &n, &err) == 9 && n == 2);
    CHECK(store_task_ids(s, "meanrev", &ids, &nids, &err) == 0);
    CHECK(nids == 2 && ids[0] < ids[1]);
    free(ids);
    CHECK(store_task_ids(s, "\"unbalanced", &ids, &nids, &err) == -1);
    CHECK(ids == NULL && nids == 0 && strncmp(err.msg, "task search: ", 13) == 0);
    store_gone(s);
}

static const struct check_case cases[] = {
    {"savepoint", t_savepoint},   {"bars", t_bars}, {"strategies", t_strategies}, {"traj", t_traj},
    {"learn_rows", t_learn_rows},
};

int main(int argc, char **argv)
{
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
