/*
 * engine_cost_test.c: what one deployment costs the engine's store, counted
 * (issue 17: the engine's own CPU per deployment). Counts, never times.
 *
 * reader_pool   store_reader_borrow hands back the connection returned
 *               before (no new connection, no schema parse); one returned
 *               with a statement still open is closed, not pooled; after a
 *               rekey a connection borrowed before is not pooled again, and
 *               the next borrower reads the newly encrypted rows.
 * deploy_reads  30 deployments one after the other open no reader
 *               connection of their own (before the pool: one each, for
 *               the symbol's imported bars).
 * deploy_flush  each deployment flushes the store twice (its lease before
 *               the sandbox starts, its records at the end), not three times.
 *
 * The deployments run on a fake provider whose program prints one
 * @@result and exits 0, so what is counted is the engine's alone.
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-cost"
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "coord.h"
#include "tmpstore.h"
#include "traj.h"

static const char *runner, *helper;

/* --- the fake provider: prints one @@result, exits 0 ---------------------------- */

static int f_create(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                    struct sd_err *err)
{
    (void)p, (void)spec, (void)err;
    *out = xcalloc(1, 8);
    return 0;
}

static int f_upload(struct sbx *b, const char *local, const char *name, int x, struct sd_err *err)
{
    (void)b, (void)local, (void)name, (void)x, (void)err;
    return 0;
}

static int f_start(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
                   struct sbx_exit *ex, struct sd_err *err)
{
    static const char line[] = "@@result {\"sharpe\":0,\"total_return\":0}\n";

    (void)b, (void)argv, (void)err;
    cb->started(cb->arg, "{}", "fake");
    cb->output(cb->arg, 1, line, sizeof line - 1);
    memset(ex, 0, sizeof *ex);
    return 0;
}

static int f_signal(struct sbx *b, int sig)
{
    (void)b, (void)sig;
    return 0;
}

static int f_destroy(struct sbx *b)
{
    free(b);
    return 0;
}

static int f_lease_info(struct sbx *b, int *pid, uint64_t *pid_start, char *workdir, size_t n)
{
    (void)b;
    *pid = 0;
    *pid_start = 0;
    if (n > 0)
        workdir[0] = '\0';
    return 0;
}

static void f_free(struct provider *p)
{
    free(p);
}

static const struct provider_ops f_ops = {
    .name = "fake",
    .create = f_create,
    .upload = f_upload,
    .start = f_start,
    .signal = f_signal,
    .destroy = f_destroy,
    .lease_info = f_lease_info,
    .free = f_free,
};

/* A coordinator on s (learning off, one worker) with the fake as its
 * default provider. */
static struct coord *coord_fake(struct store *s)
{
    struct sd_err err = {0};
    struct coord_opts o;
    struct provider *fp = xcalloc(1, sizeof *fp);
    struct coord *c;

    coord_opts_default(&o);
    o.learning = 0;
    o.provider = "fake";
    o.max_agents = 1;
    if ((c = coord_new(s, &o, runner, helper, &err)) == NULL) {
        fprintf(stderr, "coord_new: %s\n", err.msg);
        exit(1);
    }
    fp->ops = &f_ops;
    snprintf(fp->name, sizeof fp->name, "fake");
    CHECK(coord_add_provider(c, fp, "fake", "", &err) == 0);
    return c;
}

/* Run n deployments of momentum on SPY one after the other; each must
 * succeed. */
static void deploy_serially(struct coord *c, int n)
{
    struct deploy_req r = {.strategy = "momentum", .symbol = "SPY"};
    struct sd_err err = {0};

    for (int i = 0; i < n; i++) {
        struct deploy_view v;
        int64_t id = 0;
        CHECK(coord_submit(c, &r, &id, &err) == 0);
        CHECK(coord_wait(c, id, &v) == 0);
        if (v.state != TS_SUCCEEDED)
            fprintf(stderr, "deployment %lld: %s: %s\n", (long long)id, traj_state_name(v.state),
                    v.error);
        CHECK(v.state == TS_SUCCEEDED);
    }
}

/* --- the cases --------------------------------------------------------------------- */

static void test_reader_pool(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    struct store_stats a, b;
    sqlite3 *db1, *db2, *db3;
    sqlite3_stmt *st = NULL;
    uint64_t g1, g2, g3;
    struct traj_new t = {
        .strategy = "momentum", .symbol = "SPY", .provider = "local", .params = "{\"secret\":1}"};
    char uuid[37];

    store_get_stats(s, &a);
    db1 = store_reader_borrow(s, &g1, &err);
    CHECK(db1 != NULL);
    store_reader_return(s, db1, g1);
    db2 = store_reader_borrow(s, &g2, &err);
    CHECK(db2 == db1); /* the same connection, not a new one */
    store_get_stats(s, &b);
    CHECK(b.readers_opened - a.readers_opened == 1);
    CHECK(b.readers_reused - a.readers_reused == 1);

    /* A connection given back mid-statement is closed, not pooled. */
    CHECK(sqlite3_prepare_v2(db2, "SELECT 1", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    store_reader_return(s, db2, g2);
    sqlite3_finalize(st); /* (a closed connection is a zombie until then) */
    db3 = store_reader_borrow(s, &g3, &err);
    store_get_stats(s, &a);
    CHECK(a.readers_opened - b.readers_opened == 1);
    CHECK(a.readers_reused == b.readers_reused);

    /* Rekey while db3 is out: it holds the old (no) key, so it is closed
     * when it comes back, and the next borrower reads the sealed rows. */
    traj_uuid(uuid);
    t.uuid = uuid;
    CHECK(traj_insert(s, &t, &err) > 0);
    CHECK(store_rekey(s, "a secret of the test", &err) == 0);
    store_reader_return(s, db3, g3);
    db1 = store_reader_borrow(s, &g1, &err);
    store_get_stats(s, &b);
    CHECK(b.readers_opened - a.readers_opened == 1);
    CHECK(db1 != NULL && sqlite3_prepare_v2(db1, "SELECT params FROM trajectories WHERE uuid = ?1",
                                            -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "{\"secret\":1}") == 0);
    sqlite3_finalize(st);
    store_reader_return(s, db1, g1);
    store_gone(s);
}

static void test_deploy_reads(void)
{
    struct store *s = store_new();
    struct coord *c = coord_fake(s);
    struct store_stats a, b;

    deploy_serially(c, 2); /* the pool fills */
    store_get_stats(s, &a);
    deploy_serially(c, 30);
    store_get_stats(s, &b);
    if (b.readers_opened != a.readers_opened)
        fprintf(stderr, "30 deployments opened %llu reader connections\n",
                (unsigned long long)(b.readers_opened - a.readers_opened));
    CHECK(b.readers_opened == a.readers_opened);
    coord_free(c);
    store_gone(s);
}

static void test_deploy_flush(void)
{
    struct store *s = store_new();
    struct coord *c = coord_fake(s);
    struct store_stats a, b;

    deploy_serially(c, 1);
    store_get_stats(s, &a);
    deploy_serially(c, 20);
    store_get_stats(s, &b);
    if (b.flushes - a.flushes != 40)
        fprintf(stderr, "20 deployments flushed %llu times\n",
                (unsigned long long)(b.flushes - a.flushes));
    CHECK(b.flushes - a.flushes == 40);
    coord_free(c);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"reader_pool", test_reader_pool},
        {"deploy_reads", test_deploy_reads},
        {"deploy_flush", test_deploy_flush},
    };

    if (argc < 4) {
        fprintf(stderr, "usage: engine_cost_test CASE RUNNER HELPER\n");
        return 2;
    }
    runner = argv[2];
    helper = argv[3];
    return check_main(cases, sizeof cases / sizeof cases[0], 2, argv);
}
