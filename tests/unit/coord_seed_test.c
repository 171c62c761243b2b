/*
 * coord_seed_test.c: the auto-optimiser's seed is mixed with the
 * deployment's id (issue 15).
 *
 * repeat       `deploy --auto-optimize --seed 7` cancelled (so it taught the
 *              learner nothing), then the same command again, as a new
 *              process (a new coordinator on the same store): the second
 *              deployment must not be sent to the first one's point. Before
 *              the mix both saw the same index, the same seed and nothing
 *              pending, and chose the same parameters.
 * consecutive  seeds 7 and 8 on equal stores choose different points, and
 *              learn_seed_mix gives every (seed, unlearned, count) of a grid
 *              its own value, the operator's own when nothing is unlearned.
 *
 * The rig's fake provider (rig.h), held: its program runs until it is
 * signalled, so a cancel always lands while it runs.
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-seed"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "learn.h"
#include "query.h"
#include "tmpstore.h"
#include "rig.h"

/* --- helpers ------------------------------------------------------------------- */

/* One `deploy -s momentum --auto-optimize --seed SEED` as its own process
 * would run it: a new coordinator on s, one deployment, cancelled while it
 * runs. Returns the parameters it was given (malloc'ed JSON text). */
static char *deploy_cancelled(struct store *s, uint64_t seed)
{
    struct sd_err err = {0};
    struct coord_opts o;
    struct coord *c;
    struct deploy_req r = {.strategy = "momentum", .symbol = "SPY"};
    struct deploy_view v;
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    char *params = NULL;
    int64_t id = 0;

    coord_opts_default(&o);
    o.learning = 1;
    o.auto_optimize = 1;
    o.seed = seed;
    o.provider = "fake";
    o.max_agents = 1;
    rig_hold(1); /* it runs until cancelled */
    c = rig_coord(s, &o);
    rig_fake(c, "fake", "fake", 0);
    CHECK(coord_submit(c, &r, &id, &err) == 0);
    CHECK(coord_cancel(c, id) == 0);
    CHECK(coord_wait(c, id, &v) == 0);
    CHECK(v.state == TS_CANCELLED);
    coord_free(c);
    CHECK(store_flush(s, &err) == 0);
    db = store_reader(s, &err);
    if (db != NULL && sqlite3_prepare_v2(db, "SELECT params FROM trajectories WHERE id = ?1", -1,
                                         &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            params = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    CHECK(params != NULL);
    return params ? params : xstrdup("");
}

/* --- the cases ------------------------------------------------------------------- */

static void test_repeat(void)
{
    struct store *s = store_new();
    char *a = deploy_cancelled(s, 7), *b = deploy_cancelled(s, 7);

    if (strcmp(a, b) == 0)
        fprintf(stderr, "the repeated --seed chose the same point twice: %s\n", a);
    CHECK(strcmp(a, b) != 0);
    free(a);
    free(b);
    store_gone(s);
}

static void test_consecutive(void)
{
    struct store *s = store_new();
    char *a = deploy_cancelled(s, 7);
    char *b;

    store_gone(s);
    s = store_new();
    b = deploy_cancelled(s, 8);
    CHECK(strcmp(a, b) != 0);
    free(a);
    free(b);
    store_gone(s);
    /* With nothing unlearned the seed is the operator's as before (the
     * index's own state tells deployments apart); otherwise every
     * (seed, unlearned, n) of a grid gives its own value. */
    CHECK(learn_seed_mix(7, 0, 3) == 7 * 0x9e3779b97f4a7c15ULL + 3);
    {
        static uint64_t seen[20 * 10 * 4];
        size_t k = 0;
        for (uint64_t sd = 1; sd <= 20; sd++)
            for (uint64_t u = 0; u < 10; u++)
                for (uint64_t n = 0; n < 4; n++)
                    seen[k++] = learn_seed_mix(sd, u, n);
        for (size_t i = 0; i < k; i++)
            for (size_t j = i + 1; j < k; j++)
                if (seen[i] == seen[j]) {
                    CHECK(seen[i] != seen[j]);
                    i = j = k;
                }
    }
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"repeat", test_repeat},
        {"consecutive", test_consecutive},
    };

    return rig_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
