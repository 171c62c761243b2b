/*
 * console_test.c: the console's Learning and Patterns panes (tui/panes.h)
 * and the snapshot worker that feeds them (tui/learnsnap.h), without a
 * terminal.
 *
 * Each case builds a store in a temporary directory with rows inserted by
 * plain SQL (known outcomes, rewards and parameters), opens a learner over
 * it and checks what the panes would show: the numbers, the order, the
 * evidence and what "deploy from this pattern" fills in. The worker cases
 * wait for its wake-up fd with poll() and a deadline, never a sleep.
 *
 * The store reader cases (tui/fetch.h) read history and output through the
 * worker, check that a newer request replaces an older one, and hold the
 * store's read locks from a child process to show that a read which cannot
 * proceed keeps the caller free and completes once the locks go. The chain
 * cases seal real trajectories (traj.h), verify them through the reader,
 * tamper a row with raw SQL and check the state the header would show,
 * what is recorded (and not, read-only), and that verifications coalesce
 * and keep their distance (the worker's own timestamps, never a sleep).
 *
 * Usage: test-console CASE (see the table at the end); no argument runs all.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "learn.h"
#include "fetch.h"
#include "learnsnap.h"
#include "panes.h"
#include "roles.h"
#include "traj.h"

#include "check.h"

static struct param_schema mom_params[] = {
    {"lookback", PT_INTEGER, 20, 2, 500, ""},
    {"threshold", PT_NUMBER, 0.02, 0, 1, ""},
};
static struct param_schema mr_params[] = {
    {"period", PT_INTEGER, 20, 2, 500, ""},
};
static struct strategy_def defs[] = {
    {.name = "momentum", .params = mom_params, .nparams = 2},
    {.name = "mean-reversion", .params = mr_params, .nparams = 1},
};

/* --- a temporary store ---------------------------------------------------- */

#define TMPSTORE_PREFIX "console-test"
#include "tmpstore.h"

struct row {
    int64_t id;
    const char *strategy, *symbol, *params, *status, *result;
    double reward;
};

static int ins_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    const struct row *r = arg;
    sqlite3_stmt *st;
    char uuid[32];
    int rc;
    (void)s;
    snprintf(uuid, sizeof uuid, "u%lld", (long long)r->id);
    sqlite3_prepare_v2(db,
                       "INSERT INTO trajectories(id, uuid, strategy, symbol, params, provider, "
                       "status, created_at, reward, result, op_sequence, duration_ms) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, 'local', ?6, ?7, ?8, ?9, "
                       "'create,start,destroy', 100)",
                       -1, &st, NULL);
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->strategy, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->params, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, 1700000000000LL + r->id * 60000);
    sqlite3_bind_double(st, 8, r->reward);
    sqlite3_bind_text(st, 9, r->result, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sd_err_set(err, SD_EENV, "insert: %s", sqlite3_errmsg(db));
}

/* Six momentum runs in one region (lookback 20, 0.02: 4 ok, 2 failed), two
 * in another (lookback 100: both ok), three mean-reversion (all ok). */
static const struct row rows[] = {
    {1, "momentum", "SPY", "{\"lookback\":20,\"threshold\":0.02}", "succeeded",
     "{\"total_return\":0.05,\"sharpe\":0.4}", 0.6},
    {2, "momentum", "QQQ", "{\"lookback\":21,\"threshold\":0.021}", "succeeded",
     "{\"total_return\":0.09,\"sharpe\":0.9}", 0.7},
    {3, "momentum", "SPY", "{\"lookback\":20,\"threshold\":0.02}", "failed", NULL, 0},
    {4, "momentum", "IWM", "{\"lookback\":22,\"threshold\":0.02}", "succeeded",
     "{\"total_return\":0.01,\"sharpe\":0.1}", 0.52},
    {5, "momentum", "SPY", "{\"lookback\":20,\"threshold\":0.02}", "failed", NULL, 0},
    {6, "momentum", "SPY", "{\"lookback\":20,\"threshold\":0.022}", "succeeded",
     "{\"total_return\":0.02,\"sharpe\":0.2}", 0.55},
    {7, "momentum", "SPY", "{\"lookback\":100,\"threshold\":0.02}", "succeeded",
     "{\"total_return\":0.03,\"sharpe\":0.3}", 0.57},
    {8, "momentum", "SPY", "{\"lookback\":100,\"threshold\":0.02}", "succeeded",
     "{\"total_return\":0.03,\"sharpe\":0.3}", 0.57},
    {9, "mean-reversion", "SPY", "{\"period\":20}", "succeeded", "{\"total_return\":0.1}", 0.6},
    {10, "mean-reversion", "SPY", "{\"period\":20}", "succeeded", "{\"total_return\":0.1}", 0.6},
    {11, "mean-reversion", "SPY", "{\"period\":20}", "succeeded", "{\"total_return\":0.1}", 0.6},
};
#define NROWS (sizeof rows / sizeof rows[0])

static struct store *filled(size_t n)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    for (size_t i = 0; i < n; i++)
        if (store_call(s, ins_job, (void *)&rows[i], &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            exit(1);
        }
    store_flush(s, &err);
    return s;
}

static struct learn *learner(struct store *s)
{
    struct sd_err err = {0};
    struct learn *l = learn_open_defs(s, defs, 2, &err);
    if (l == NULL) {
        fprintf(stderr, "learn_open: %s\n", err.msg);
        exit(1);
    }
    return l;
}

static json_t *snapshot(struct store *s, struct learn *l)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    json_t *snap = learnsnap_compute(l, db, 500);
    sqlite3_close_v2(db);
    return snap;
}

/* The index of the first line whose label and text contain the given
 * strings (label NULL: any), or -1. */
static long find_line(const struct textview *tv, const char *label, const char *text)
{
    for (size_t i = 0; i < tv->n; i++)
        if ((label == NULL || (tv->lines[i].label && strstr(tv->lines[i].label, label))) &&
            strstr(tv->lines[i].text, text))
            return (long)i;
    return -1;
}

/* --- cases ------------------------------------------------------------------- */

static void t_learning_pane(void)
{
    struct store *s = filled(NROWS);
    struct learn *l = learner(s);
    json_t *snap = snapshot(s, l);
    struct textview tv;
    long all, mom, mr, i;

    textview_init(&tv, 12);
    pane_learning_fill(&tv, NULL, 60, &glyphs_ascii);
    CHECK(tv.n == 1 && strstr(tv.lines[0].text, "computing"));

    pane_learning_fill(&tv, snap, 60, &glyphs_ascii);
    all = find_line(&tv, NULL, "all strategies");
    mom = find_line(&tv, NULL, "momentum");
    mr = find_line(&tv, NULL, "mean-reversion");
    CHECK(all == 0 && mom > all && mr > mom); /* most runs first */
    /* 11 runs, 9 succeeded: 82 %; momentum 8 runs, 6 ok: 75 %. */
    CHECK(find_line(&tv, "runs", "11") == all + 1);
    i = find_line(&tv, "success", "82%");
    CHECK(i == all + 2);
    CHECK(i >= 0 && tv.lines[i].alt_at == 7 && tv.lines[i].alt_role == ROLE_SPARK);
    CHECK(i >= 0 && strlen(tv.lines[i].text) > 8); /* a sparkline after the value */
    CHECK(find_line(&tv, "runs", "8") == mom + 1);
    CHECK(find_line(&tv, "success", "75%") == mom + 2);
    CHECK(find_line(&tv, "success", "100%") == mr + 2);
    /* A flat 100 % success draws at the top of the [0, 1] scale. */
    i = find_line(&tv, "success", "100%");
    CHECK(i >= 0 && strstr(tv.lines[i].text, "###") != NULL);
    /* Narrow: no room for a sparkline, the values stay. */
    pane_learning_fill(&tv, snap, 16, &glyphs_ascii);
    i = find_line(&tv, "success", "82%");
    CHECK(i >= 0 && tv.lines[i].alt_at == 0);
    /* No learning: the reason, no numbers. */
    json_decref(snap);
    snap = learnsnap_compute(NULL, NULL, 10);
    pane_learning_fill(&tv, snap, 60, &glyphs_ascii);
    CHECK(tv.n == 1 && strstr(tv.lines[0].text, "learning is off"));
    textview_free(&tv);
    json_decref(snap);
    learn_free(l);
    store_gone(s);
}

static void t_patterns_pane(void)
{
    struct store *s = filled(NROWS);
    struct learn *l = learner(s);
    json_t *snap = snapshot(s, l), *snap2, *p, *d;
    struct table t;
    struct textview tv;
    double prev = 2;
    long i;

    table_init(&t, pattern_cols, PC_COUNT);
    table_sort_by(&t, PC_CONF, 1);
    pane_patterns_fill(&t, snap);
    CHECK(t.nview == json_array_size(json_object_get(snap, "patterns")) && t.nview >= 3);
    CHECK(json_integer_value(json_object_get(snap, "patternsTotal")) == (json_int_t)t.nview);
    for (size_t k = 0; k < t.nview; k++) { /* sorted by confidence */
        CHECK(t.rows[t.view[k]].key[PC_CONF] <= prev);
        prev = t.rows[t.view[k]].key[PC_CONF];
    }
    /* Ids are stable across snapshots: the selection survives a refresh. */
    table_move(&t, 1);
    {
        int64_t sel = table_selected(&t);
        snap2 = snapshot(s, l);
        pane_patterns_fill(&t, snap2);
        CHECK(table_selected(&t) == sel);
        CHECK(pane_pattern_find(snap2, sel) != NULL);
        json_decref(snap2);
    }
    CHECK(pane_pattern_find(snap, 12345) == NULL);

    /* The momentum region with 6 runs: 4 ok, 2 failed. */
    p = NULL;
    for (size_t k = 0; k < json_array_size(json_object_get(snap, "patterns")); k++) {
        json_t *q = json_array_get(json_object_get(snap, "patterns"), k);
        if (json_integer_value(json_object_get(q, "observationCount")) == 6)
            p = q;
    }
    CHECK(p != NULL);
    if (p == NULL)
        goto out;
    CHECK(json_array_size(json_object_get(p, "runs")) == 6);
    textview_init(&tv, 12);
    pane_pattern_detail(&tv, p);
    CHECK(find_line(&tv, "strategy", "momentum") >= 0);
    CHECK(find_line(&tv, "success", "66.7% of 6 run(s)") >= 0);
    CHECK(find_line(&tv, "evidence", "6 run(s)") >= 0);
    i = find_line(&tv, "#2", "QQQ");
    CHECK(i >= 0 && strstr(tv.lines[i].text, "  best") && tv.lines[i].role == ROLE_OK);
    CHECK(i >= 0 && strstr(tv.lines[i].text, "+9.00%") && strstr(tv.lines[i].text, "0.90"));
    i = find_line(&tv, "#3", "failed");
    CHECK(i >= 0 && tv.lines[i].role == ROLE_ERROR && !strstr(tv.lines[i].text, "  best"));
    CHECK(find_line(&tv, NULL, "d deploys with the parameters of run #2") >= 0);

    /* Deploying from it: the best run's parameters and symbol. */
    d = pane_pattern_deploy(p);
    CHECK(strcmp(json_string_value(json_object_get(d, "strategy")), "momentum") == 0);
    CHECK(strcmp(json_string_value(json_object_get(d, "symbol")), "QQQ") == 0);
    CHECK(strcmp(json_string_value(json_object_get(d, "from")), "run #2") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(d, "params"), "lookback")) == 21);
    json_decref(d);
    /* Without readable runs (say, encrypted values): the middle of the region. */
    json_object_del(p, "runs");
    d = pane_pattern_deploy(p);
    CHECK(strcmp(json_string_value(json_object_get(d, "from")), "region") == 0);
    CHECK(json_object_get(d, "symbol") == NULL);
    {
        json_t *lb = json_object_get(json_object_get(d, "params"), "lookback");
        json_t *rg = json_object_get(json_object_get(p, "region"), "lookback");
        if (rg != NULL)
            CHECK(json_integer_value(lb) == (json_integer_value(json_array_get(rg, 0)) +
                                             json_integer_value(json_array_get(rg, 1))) /
                                                2);
    }
    json_decref(d);
    pane_pattern_detail(&tv, p);
    CHECK(find_line(&tv, NULL, "d deploys with the middle of each region") >= 0);
    textview_free(&tv);
out:
    table_free(&t);
    json_decref(snap);
    learn_free(l);
    store_gone(s);
}

/* Wait for the worker's fd and take a snapshot, or NULL after 10 s. */
static json_t *wait_snap(struct learnsnap *ls)
{
    for (int tries = 0; tries < 100; tries++) {
        struct pollfd pf = {learnsnap_fd(ls), POLLIN, 0};
        json_t *s;
        if (poll(&pf, 1, 100) > 0 && (s = learnsnap_take(ls)) != NULL)
            return s;
    }
    return NULL;
}

static void t_worker(void)
{
    struct store *s = filled(8); /* the momentum runs only */
    struct learn *l = learner(s);
    struct learnsnap_conf lc = {.learn = l, .store = s, .min_gap_ms = 200};
    struct sd_err err = {0};
    struct learnsnap *ls = learnsnap_start(&lc, &err);
    json_t *snap;
    json_int_t seq;

    CHECK(ls != NULL);
    if (ls == NULL)
        goto out;
    /* The first snapshot comes unasked. */
    snap = wait_snap(ls);
    CHECK(snap != NULL);
    CHECK(json_integer_value(
              json_object_get(json_object_get(snap, "stats"), "totalTrajectories")) == 8);
    seq = json_integer_value(json_object_get(snap, "seq"));
    CHECK(seq == 1);
    json_decref(snap);
    CHECK(learnsnap_take(ls) == NULL); /* taken once */

    /* Three more runs are observed; a burst of requests coalesces. */
    for (size_t i = 8; i < NROWS; i++) {
        struct learn_obs o = {.id = rows[i].id,
                              .strategy = rows[i].strategy,
                              .symbol = rows[i].symbol,
                              .state = TS_SUCCEEDED,
                              .reward = rows[i].reward,
                              .created_at = 1700000000000LL + rows[i].id * 60000};
        struct sd_err e2 = {0};
        store_call(s, ins_job, (void *)&rows[i], &e2);
        o.params = json_loads(rows[i].params, 0, NULL);
        learn_observe(l, &o);
        json_decref(o.params);
    }
    for (int i = 0; i < 50; i++)
        learnsnap_request(ls);
    for (;;) {
        snap = wait_snap(ls);
        CHECK(snap != NULL);
        if (snap == NULL)
            break;
        if (json_integer_value(
                json_object_get(json_object_get(snap, "stats"), "totalTrajectories")) == 11)
            break;
        json_decref(snap);
    }
    if (snap != NULL) {
        /* 50 requests made at most two snapshots (one may have been under way). */
        CHECK(json_integer_value(json_object_get(snap, "seq")) <= seq + 2);
        /* Its evidence rows were read after the writer's flush. */
        CHECK(json_array_size(json_object_get(json_array_get(json_object_get(snap, "patterns"), 0),
                                              "runs")) > 0);
        json_decref(snap);
    }
    learnsnap_stop(ls);
out:
    learn_free(l);
    store_gone(s);
}

static void t_worker_no_learning(void)
{
    struct store *s = filled(2);
    struct learnsnap_conf off = {.store = s};
    struct learnsnap_conf bad = {.store = s, .runner_path = "/nonexistent/swarmdeck-runner"};
    struct sd_err err = {0};
    struct learnsnap *ls;
    json_t *snap;

    /* Learning off: a snapshot that says so. */
    ls = learnsnap_start(&off, &err);
    snap = ls ? wait_snap(ls) : NULL;
    CHECK(snap && strstr(json_string_value(json_object_get(snap, "error")), "learning is off"));
    json_decref(snap);
    learnsnap_stop(ls);
    /* A read-only console whose runner is missing: the reason, not a crash. */
    ls = learnsnap_start(&bad, &err);
    snap = ls ? wait_snap(ls) : NULL;
    CHECK(snap &&
          strstr(json_string_value(json_object_get(snap, "error")), "learning unavailable"));
    json_decref(snap);
    learnsnap_stop(ls);
    learnsnap_stop(NULL);
    store_gone(s);
}

/* --- the store reader (fetch.h) ---------------------------------------------- */

/* The reader's next result, waiting up to 10 s for it. A result can be
 * ready without a wake-up byte: one wake-up may announce two results. */
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

/* The ring's lines in order, joined with '\n' and prefixed "2:" for stderr. */
static char *ring_text(struct logring *r)
{
    struct logline l[64];
    size_t n = logring_get(r, logring_first_seq(r), l, 64), len = 0;
    char *out = calloc(1, 4096);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, 4096 - len, "%s%s\n", l[i].stream == 2 ? "2:" : "",
                                l[i].text);
    logline_free_all(l, n);
    return out;
}

static void t_fetch_history(void)
{
    struct store *s = filled(NROWS);
    struct fetch_conf fc = {.store = s, .history_limit = 5};
    struct sd_err err = {0};
    struct fetch *f = fetch_start(&fc, &err);
    struct fetch_result *r;

    CHECK(f != NULL);
    fetch_history(f);
    fetch_history(f); /* coalesces (or comes second): never more than one result */
    r = wait_fetch(f);
    CHECK(r != NULL && r->kind == FETCH_HISTORY && r->error[0] == '\0');
    if (r != NULL) {
        /* The newest five, newest first, with their results. */
        CHECK(r->nrows == 5);
        CHECK(r->rows[0].id == 11 && r->rows[4].id == 7);
        CHECK(strcmp(r->rows[0].strategy, "mean-reversion") == 0);
        CHECK(strcmp(r->rows[0].state, "succeeded") == 0);
        CHECK(fabs(r->rows[0].ret - 0.1) < 1e-12 && isnan(r->rows[0].sharpe));
        CHECK(fabs(r->rows[4].sharpe - 0.3) < 1e-12);
        CHECK(!r->waited_busy);
    }
    fetch_result_free(r);
    r = fetch_take(f);
    if (r != NULL) { /* the second request, if it was not coalesced: the same rows */
        CHECK(r->nrows == 5);
        fetch_result_free(r);
    }
    CHECK(fetch_take(f) == NULL);
    fetch_stop(f);
    fetch_stop(NULL);
    store_gone(s);
}

/* Output read newest first, bounded by the ring, in order in the ring. */
static void t_fetch_output(void)
{
    struct store *s = filled(2);
    struct fetch_conf fc = {.store = s, .ring_bytes = 64 * 1024};
    struct sd_err err = {0};
    struct fetch *f;
    struct fetch_result *r;
    char line[128], *text;

    store_output_append(s, 1, 1, "alpha\nbe", 8);
    store_output_append(s, 1, 2, "oops\n", 5);
    store_output_append(s, 1, 1, "ta\ngamma", 8); /* no final newline */
    /* Trajectory 2: 4 MiB in 100-byte lines, far more than the ring holds. */
    store_set_output_caps(s, 8u << 20, 8u << 20);
    for (int i = 0; i < 40000; i++) {
        snprintf(line, sizeof line, "%-98d\n", i);
        store_output_append(s, 2, 1, line, 99);
    }
    store_flush(s, &err);

    f = fetch_start(&fc, &err);
    fetch_output(f, 1);
    r = wait_fetch(f);
    CHECK(r != NULL && r->kind == FETCH_OUTPUT && r->id == 1 && r->ring != NULL);
    if (r != NULL && r->ring != NULL) {
        text = ring_text(r->ring);
        /* Chunks in store order; streams split into lines of their own. */
        CHECK(strcmp(text, "alpha\n2:oops\nbeta\ngamma\n") == 0);
        if (strcmp(text, "alpha\n2:oops\nbeta\ngamma\n") != 0)
            fprintf(stderr, "got: %s", text);
        free(text);
        CHECK(r->bytes == 21);
    }
    fetch_result_free(r);

    fetch_output(f, 2);
    r = wait_fetch(f);
    CHECK(r != NULL && r->id == 2 && r->ring != NULL);
    if (r != NULL && r->ring != NULL) {
        struct logline l[1];
        /* Only the tail was read: at least the ring's budget, less than one
         * chunk more; the last line is the last one written. */
        CHECK(r->bytes >= 64 * 1024 && r->bytes < 64 * 1024 + 99);
        CHECK(logring_get(r->ring, logring_last_seq(r->ring), l, 1) == 1);
        CHECK(atoi(l[0].text) == 39999);
        logline_free_all(l, 1);
    }
    fetch_result_free(r);

    /* A trajectory without output: an empty ring, not an error. */
    fetch_output(f, 99);
    r = wait_fetch(f);
    CHECK(r != NULL && r->ring != NULL && logring_last_seq(r->ring) == 0 && !r->error[0]);
    fetch_result_free(r);
    fetch_stop(f);
    store_gone(s);
}

/* A newer request replaces the older one: the older result is never
 * delivered after the newer request was made. */
static void t_fetch_supersede(void)
{
    struct store *s = filled(3);
    struct fetch_conf fc = {.store = s};
    struct sd_err err = {0};
    struct fetch *f;
    struct fetch_result *r;
    int got3 = 0, others = 0;

    store_output_append(s, 1, 1, "one\n", 4);
    store_output_append(s, 2, 1, "two\n", 4);
    store_output_append(s, 3, 1, "three\n", 6);
    store_flush(s, &err);
    f = fetch_start(&fc, &err);
    for (int round = 0; round < 50; round++) {
        fetch_output(f, 1);
        fetch_output(f, 2);
        fetch_output(f, 3);
        while (!got3 && (r = wait_fetch(f)) != NULL) {
            if (r->id == 3)
                got3 = 1;
            else
                others++;
            fetch_result_free(r);
        }
        CHECK(got3);
        got3 = 0;
    }
    CHECK(others == 0);
    /* Cancelled: nothing arrives (the read under way, if any, is dropped). */
    fetch_output(f, 1);
    fetch_output(f, 0);
    {
        struct pollfd pf = {fetch_fd(f), POLLIN, 0};
        CHECK(poll(&pf, 1, 300) == 0 || fetch_take(f) == NULL);
    }
    fetch_stop(f);
    store_gone(s);
}

/* Another process holds the store's WAL read locks (bytes 123..127 of the
 * -shm file, sqlite.org/walformat.html): no connection can start a read, so
 * every read waits. A child holds them until told to let go. */
static pid_t lock_reads(const char *db, int *ctl)
{
    char shm[160];
    int p[2], q[2];
    pid_t pid;
    char c;

    snprintf(shm, sizeof shm, "%s-shm", db);
    if (pipe(p) != 0 || pipe(q) != 0)
        abort();
    if ((pid = fork()) == 0) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 123, .l_len = 5};
        int fd = open(shm, O_RDWR);
        close(p[0]);
        close(q[1]); /* so that the parent's close is an end of file here */
        /* The parent's connections may hold a read lock for a moment. */
        while (fd >= 0 && fcntl(fd, F_SETLK, &fl) != 0)
            poll(NULL, 0, 5);
        c = fd >= 0 ? 'L' : 'E';
        if (write(p[1], &c, 1) != 1 || read(q[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    close(q[0]);
    CHECK(read(p[0], &c, 1) == 1 && c == 'L');
    close(p[0]);
    *ctl = q[1];
    return pid;
}

static void unlock_reads(pid_t pid, int ctl)
{
    close(ctl); /* the child's read returns: it exits, and its locks go */
    waitpid(pid, NULL, 0);
}

/* Reads asked for while another process holds the read locks for hold_ms:
 * nothing arrives meanwhile; both arrive, correct, once the locks go. */
static void fetch_locked(int hold_ms, int expect_busy)
{
    struct store *s = filled(NROWS);
    struct fetch_conf fc = {.store = s};
    struct sd_err err = {0};
    struct fetch *f;
    struct fetch_result *r;
    struct pollfd pf;
    int ctl, got_hist = 0, got_out = 0, busy = 0;
    double waited = 0;
    pid_t child;

    store_output_append(s, 4, 1, "kept\n", 5);
    store_flush(s, &err);
    f = fetch_start(&fc, &err);
    child = lock_reads(path, &ctl);
    fetch_history(f);
    fetch_output(f, 4);
    pf = (struct pollfd){fetch_fd(f), POLLIN, 0};
    CHECK(poll(&pf, 1, hold_ms) == 0);
    CHECK(fetch_take(f) == NULL);
    unlock_reads(child, ctl);
    while ((!got_hist || !got_out) && (r = wait_fetch(f)) != NULL) {
        CHECK(r->error[0] == '\0');
        waited = r->ms > waited ? r->ms : waited;
        busy |= r->waited_busy;
        if (r->kind == FETCH_HISTORY)
            got_hist = r->nrows == NROWS;
        else
            got_out = r->id == 4 && r->ring != NULL && logring_last_seq(r->ring) == 1;
        fetch_result_free(r);
    }
    CHECK(got_hist && got_out);
    CHECK(waited >= hold_ms); /* the first read waited for the locks */
    CHECK(busy == expect_busy);
    fetch_stop(f);
    store_gone(s);
}

/* SQLite retries inside for a while: no error reaches the reader, only the
 * time the read took says it waited. */
static void t_fetch_locked(void)
{
    fetch_locked(700, 0);
}

/* Held longer than SQLite's own retries (about ten seconds, then
 * SQLITE_PROTOCOL): the reader retries the read itself. */
static void t_fetch_locked_long(void)
{
    fetch_locked(11000, 1);
}

/* --- the chain state (fetch_chain) ------------------------------------------ */

/* n finished trajectories through the engine's API, so they are sealed into
 * the chain; flushed. */
static void add_sealed(struct store *s, int n)
{
    struct sd_err err = {0};
    static int seq;
    for (int i = 0; i < n; i++) {
        char uuid[32];
        struct traj_new t = {.uuid = uuid,
                             .strategy = "momentum",
                             .symbol = "SPY",
                             .params = "{\"lookback\":20}",
                             .provider = "local"};
        struct traj_final fin = {.state = TS_SUCCEEDED,
                                 .ended_at = 2000 + i,
                                 .duration_ms = 1000,
                                 .result = "{\"sharpe\":1.25,\"total_return\":0.02}",
                                 .reward = 0.75,
                                 .op_sequence = "create,start,destroy"};
        int64_t id;
        snprintf(uuid, sizeof uuid, "sealed-%d", ++seq);
        if ((id = traj_insert(s, &t, &err)) <= 0)
            fprintf(stderr, "traj_insert: %s\n", err.msg);
        CHECK(id > 0);
        traj_running(s, id, "sbx", 1000);
        store_output_append(s, id, 1, "equity 100\n", 11);
        traj_finish(s, id, &fin);
        store_output_end(s, id);
    }
    CHECK(store_flush(s, &err) == 0);
}

/* The next chain result (verified ones only if want_verified), others
 * dropped; NULL after 10 s. */
static struct fetch_result *wait_chain(struct fetch *f, int want_verified)
{
    struct fetch_result *r;
    while ((r = wait_fetch(f)) != NULL) {
        if (r->kind == FETCH_CHAIN && (r->verified || !want_verified))
            return r;
        fetch_result_free(r);
    }
    return NULL;
}

/* Raw SQL from a connection of its own, behind the store's back. */
static void tamper(const char *sql)
{
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

static int summary_is(struct store *s, const char *want)
{
    char buf[64];
    store_chain_summary(s, buf, sizeof buf);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "store summary: \"%s\", want \"%s\"\n", buf, want);
    return strcmp(buf, want) == 0;
}

static int chain_is(const struct fetch_result *r, const char *want)
{
    if (r != NULL && strcmp(r->chain, want) != 0)
        fprintf(stderr, "chain: \"%s\", want \"%s\"\n", r->chain, want);
    return r != NULL && strcmp(r->chain, want) == 0;
}

/* A writable console: the state before and after a verification, recorded
 * like `swarmdeck verify`; a tampered reward is named after the next one. */
static void t_fetch_chain(void)
{
    struct store *s = store_new();
    struct fetch_conf fc = {.store = s, .record = 1, .verify_gap_ms = 1};
    struct sd_err err = {0};
    struct fetch *f;
    struct fetch_result *r;

    add_sealed(s, 3);
    f = fetch_start(&fc, &err);
    CHECK(f != NULL);
    fetch_chain(f, 0); /* the summary only */
    r = wait_chain(f, 0);
    CHECK(r != NULL && !r->verified && r->verifies == 0 && !r->error[0]);
    CHECK(chain_is(r, "unverified (3)"));
    fetch_result_free(r);

    fetch_chain(f, 1);
    r = wait_chain(f, 1);
    CHECK(r != NULL && r->report.ok && r->report.sealed == 3 && r->verifies == 1);
    CHECK(chain_is(r, "ok (3)") && !r->error[0]);
    CHECK(r != NULL && r->verify_end_ns >= r->verify_start_ns);
    fetch_result_free(r);
    CHECK(summary_is(s, "ok (3)")); /* recorded in the store */

    /* A new record: unverified until the next verification covers it. */
    add_sealed(s, 1);
    fetch_chain(f, 0);
    r = wait_chain(f, 0);
    CHECK(chain_is(r, "unverified (4)"));
    fetch_result_free(r);
    fetch_chain(f, 1);
    r = wait_chain(f, 1);
    CHECK(chain_is(r, "ok (4)") && r->verifies == 2);
    fetch_result_free(r);

    /* Another writer changes a reward: the next verification names it. */
    tamper("UPDATE trajectories SET reward = 0.5 WHERE id = 2");
    fetch_chain(f, 0); /* the summary alone cannot know */
    r = wait_chain(f, 0);
    CHECK(chain_is(r, "ok (4)"));
    fetch_result_free(r);
    fetch_chain(f, 1);
    r = wait_chain(f, 1);
    CHECK(r != NULL && !r->report.ok && r->report.bad_id == 2);
    CHECK(r != NULL && strstr(r->report.why, "does not match its fingerprint") != NULL);
    CHECK(chain_is(r, "BROKEN at #2"));
    fetch_result_free(r);
    CHECK(summary_is(s, "BROKEN at #2"));
    fetch_stop(f);
    store_gone(s);
}

/* A read-only console verifies but records nothing; it shows what it found
 * while the head is the one it verified. */
static void t_fetch_chain_readonly(void)
{
    struct store *w = store_new(), *s = NULL;
    struct fetch_conf fc = {.record = 0, .verify_gap_ms = 1};
    struct sd_err err = {0};
    struct fetch *f;
    struct fetch_result *r;

    add_sealed(w, 3);
    CHECK(store_open(path, STORE_READONLY, &s, &err) == 0);
    fc.store = s;
    f = fetch_start(&fc, &err);
    fetch_chain(f, 1);
    r = wait_chain(f, 1);
    CHECK(r != NULL && r->report.ok && r->report.sealed == 3);
    CHECK(chain_is(r, "ok (3)"));
    fetch_result_free(r);
    CHECK(summary_is(s, "unverified (3)")); /* nothing recorded */
    fetch_chain(f, 0);
    r = wait_chain(f, 0);
    CHECK(chain_is(r, "ok (3)")); /* remembered by the reader */
    fetch_result_free(r);

    /* The writer (another console) adds one: no longer the verified head. */
    add_sealed(w, 1);
    fetch_chain(f, 0);
    r = wait_chain(f, 0);
    CHECK(chain_is(r, "unverified (4)"));
    fetch_result_free(r);

    tamper("UPDATE trajectories SET reward = 0.25 WHERE id = 3");
    fetch_chain(f, 1);
    r = wait_chain(f, 1);
    CHECK(r != NULL && !r->report.ok && r->report.bad_id == 3 && !r->error[0]);
    CHECK(chain_is(r, "BROKEN at #3"));
    fetch_result_free(r);
    fetch_chain(f, 0);
    r = wait_chain(f, 0);
    CHECK(chain_is(r, "BROKEN at #3"));
    fetch_result_free(r);
    CHECK(summary_is(s, "unverified (4)"));
    fetch_stop(f);
    store_close(s);
    store_gone(w);
}

/* Requests for a verification while one is under way or waiting coalesce
 * into one; it starts no sooner than max(gap, 5 x the previous one's
 * duration) after the previous one ended; summaries asked for meanwhile are
 * answered without waiting for it. cost_ms > 0 fixes the duration the
 * reader counts (fetch_conf.verify_cost_ms), so how long the wait is does
 * not depend on how fast this machine verifies at the moment. */
static void fetch_chain_spacing(int gap_ms, int ntraj, int cost_ms)
{
    struct store *s = store_new();
    struct fetch_conf fc = {
        .store = s, .record = 1, .verify_gap_ms = gap_ms, .verify_cost_ms = cost_ms};
    struct sd_err err = {0};
    struct fetch *f;
    struct fetch_result *r, *first;
    int summaries = 0, verified = 0;

    add_sealed(s, ntraj);
    f = fetch_start(&fc, &err);
    fetch_chain(f, 1);
    first = wait_chain(f, 1);
    CHECK(first != NULL && first->verifies == 1 && first->report.sealed == ntraj);
    if (first == NULL)
        goto out;
    CHECK(cost_ms == 0 || first->verify_ms == cost_ms);
    for (int i = 0; i < 20; i++) {
        fetch_chain(f, 1);
        fetch_chain(f, 0);
    }
    while (verified == 0 && (r = wait_chain(f, 0)) != NULL) {
        if (r->verified) {
            double need = 5 * first->verify_ms > gap_ms ? 5 * first->verify_ms : gap_ms;
            double apart = (double)(r->verify_start_ns - first->verify_end_ns) / 1e6;
            verified++;
            CHECK(r->verifies == 2 && r->report.ok);
            CHECK(apart >= need);
            printf("verify %.2f ms, the next %.2f ms later (at least %.2f)\n", first->verify_ms,
                   apart, need);
        } else {
            char want[32];
            snprintf(want, sizeof want, "ok (%d)", ntraj);
            summaries++;
            CHECK(r->verifies == 1 && chain_is(r, want));
        }
        fetch_result_free(r);
    }
    CHECK(verified == 1 && summaries <= 2); /* one slot: coalesced, or replaced */
    /* Twenty requests, one verification: nothing more arrives. */
    {
        struct pollfd pf = {fetch_fd(f), POLLIN, 0};
        int n = poll(&pf, 1, 2 * gap_ms + 300);
        r = n > 0 ? fetch_take(f) : NULL;
        CHECK(r == NULL || !r->verified);
        fetch_result_free(r);
    }
    fetch_result_free(first);
    /* A verification asked for and not due yet does not hold up stopping. */
    fetch_chain(f, 1);
out:
    fetch_stop(f);
    store_gone(s);
}

/* The gap rules: a fixed 400 ms on a small store... */
static void t_fetch_chain_coalesce(void)
{
    fetch_chain_spacing(400, 3, 0);
}

/* ... and five times the cost when that is longer (a 1 ms gap, a cost of
 * 150 ms: 750 ms apart). The cost is fixed: measured, it grew with the
 * machine's load until five times it outlasted the test's waits. */
static void t_fetch_chain_cost(void)
{
    fetch_chain_spacing(1, 200, 150);
}

/* The header's segments and what survives at 80 columns. */
static void t_header(void)
{
    int counts[TS_COUNT] = {0}, form[SL_MAX], width[SL_MAX];
    struct provider_health prov[3] = {
        {.name = "local", .kind = "local", .breaker = "closed"},
        {.name = "e2b", .kind = "e2b", .breaker = "open", .failures = 5},
        {.name = "e2b-eu", .kind = "e2b", .breaker = "half-open"},
    };
    struct header_in hi = {.version = "0.1.0",
                           .isolation = "strict",
                           .prov = prov,
                           .nprov = 1,
                           .counts = counts,
                           .chain = "off",
                           .store_path = "/home/someone/.local/share/swarmdeck/swarmdeck.db"};
    struct header_out ho;
    int open = -1, half = -1, spath = -1, chain = -1, cnt = -1, enc = -1;

    counts[TS_RUNNING] = 2;
    counts[TS_SUCCEEDED] = 40;
    counts[TS_FAILED] = 1;
    counts[TS_TIMEOUT] = 2;
    /* Local only: version, isolation, counts, chain, path; no provider segment. */
    pane_header(&hi, &ho);
    CHECK(ho.n == 5);
    CHECK(strcmp(ho.seg[1].text, "isolation: strict") == 0);
    CHECK(strcmp(ho.seg[2].text, "2 running 0 queued 40 done 3 failed") == 0);
    /* Cancelled and interrupted are not failures: counted apart, when any. */
    counts[TS_CANCELLED] = 4;
    pane_header(&hi, &ho);
    CHECK(strcmp(ho.seg[2].text, "2 running 0 queued 40 done 3 failed 4 cancelled") == 0);
    CHECK(strcmp(ho.seg[2].compact, "run 2 queue 0 done 40 fail 3 canc 4") == 0);
    counts[TS_INTERRUPTED] = 1;
    pane_header(&hi, &ho);
    CHECK(strcmp(ho.seg[2].text, "2 running 0 queued 40 done 3 failed 4 cancelled 1 interrupted") ==
          0);
    counts[TS_CANCELLED] = counts[TS_INTERRUPTED] = 0;
    /* E2B instances with their breakers, encryption, a broken chain, read-only. */
    hi.nprov = 3;
    hi.encrypted = 1;
    hi.readonly = 1;
    hi.chain = "BROKEN at #56";
    pane_header(&hi, &ho);
    for (int i = 0; i < ho.n; i++) {
        if (strcmp(ho.seg[i].text, "e2b: breaker open") == 0)
            open = i;
        if (strcmp(ho.seg[i].text, "e2b-eu: breaker half-open") == 0)
            half = i;
        if (strstr(ho.seg[i].text, "swarmdeck.db"))
            spath = i;
        if (strcmp(ho.seg[i].text, "chain BROKEN at #56") == 0)
            chain = i;
        if (strstr(ho.seg[i].text, "running"))
            cnt = i;
        if (strcmp(ho.seg[i].text, "[encrypted]") == 0)
            enc = i;
    }
    CHECK(open >= 0 && ho.seg[open].role == ROLE_ERROR);
    CHECK(half >= 0 && ho.seg[half].role == ROLE_WARN);
    CHECK(chain >= 0 && ho.seg[chain].role == ROLE_ERROR);
    CHECK(enc >= 0 && ho.seg[enc].role == ROLE_OK);
    CHECK(spath >= 0 && cnt >= 0);
    /* At 80 columns (79 after the leading space): the path and the version go, the
     * counts, the open breaker, the broken chain and read-only stay. */
    CHECK(statusline_fit(ho.seg, ho.n, 79, 3, form, width) <= 79);
    if (open >= 0 && chain >= 0 && spath >= 0 && cnt >= 0) {
        CHECK(form[spath] == -1);
        CHECK(form[open] >= 0 && form[chain] >= 0 && form[cnt] >= 0);
        CHECK(form[0] == -1 || form[0] == 1); /* the version: compact or gone */
    }
    CHECK(ho.seg[1].role == ROLE_WARN && strcmp(ho.seg[1].text, "read-only") == 0);
    CHECK(form[1] == 0);
    /* A spinner frame follows the version. */
    hi.spin = '/';
    pane_header(&hi, &ho);
    CHECK(strcmp(ho.seg[0].text, "swarmdeck 0.1.0 /") == 0);
}

static const struct check_case tests[] = {
    {"learning_pane", t_learning_pane},
    {"patterns_pane", t_patterns_pane},
    {"worker", t_worker},
    {"worker_no_learning", t_worker_no_learning},
    {"header", t_header},
    {"fetch_history", t_fetch_history},
    {"fetch_output", t_fetch_output},
    {"fetch_supersede", t_fetch_supersede},
    {"fetch_locked", t_fetch_locked},
    {"fetch_locked_long", t_fetch_locked_long},
    {"fetch_chain", t_fetch_chain},
    {"fetch_chain_readonly", t_fetch_chain_readonly},
    {"fetch_chain_coalesce", t_fetch_chain_coalesce},
    {"fetch_chain_cost", t_fetch_chain_cost},
};

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "C.UTF-8");
    return check_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
