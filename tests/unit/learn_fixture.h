/*
 * learn_fixture.h: what learn_test.c and learn_model_test.c share: the
 * schemas under test, a temporary store with rows inserted by plain SQL, the
 * learner over it, and a deterministic PRNG. Static functions: include once
 * per test file, after check.h.
 */
#ifndef SD_TEST_LEARN_FIXTURE_H
#define SD_TEST_LEARN_FIXTURE_H

/* The schema under test: like the built-in momentum. */
static struct param_schema mom_params[] = {
    {"capital", PT_NUMBER, 100000, 1, 1e12, ""}, {"lookback", PT_INTEGER, 20, 2, 500, ""},
    {"threshold", PT_NUMBER, 0.02, 0, 1, ""},    {"positionSize", PT_INTEGER, 10, 1, 1000000, ""},
    {"allowShort", PT_BOOLEAN, 0, 0, 1, ""},
};
static struct param_schema mr_params[] = {
    {"period", PT_INTEGER, 20, 2, 500, ""},
    {"entryZ", PT_NUMBER, 2, 0, 10, ""},
};
static struct strategy_def defs[] = {
    {.name = "momentum", .params = mom_params, .nparams = 5},
    {.name = "mean-reversion", .params = mr_params, .nparams = 2},
};
#define MOM (&defs[0])

/* --- a temporary store --------------------------------------------------- */

#define TMPSTORE_PREFIX "learn-test"
#include "tmpstore.h"

static inline struct store *store_again(struct store *s)
{
    struct sd_err err = {0};
    store_close(s);
    if (store_open(path, 0, &s, &err) != 0) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        exit(1);
    }
    return s;
}

struct row {
    int64_t id;
    const char *strategy, *symbol, *params, *status;
    double reward;
    const char *prediction, *description, *ops;
    int64_t created_at;
    double duration_ms;
};

static inline int ins_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    const struct row *r = arg;
    sqlite3_stmt *st;
    char uuid[32];
    int rc;
    snprintf(uuid, sizeof uuid, "u%lld", (long long)r->id);
    sqlite3_prepare_v2(db,
                       "INSERT INTO trajectories(id, uuid, strategy, symbol, params, provider, "
                       "status, created_at, reward, prediction, description, op_sequence, "
                       "duration_ms) VALUES(?1, ?2, ?3, ?4, ?5, 'local', ?6, ?7, ?8, ?9, ?10, "
                       "?11, ?12)",
                       -1, &st, NULL);
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->strategy, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->params ? r->params : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, r->created_at ? r->created_at : 1700000000000LL + r->id * 1000);
    sqlite3_bind_double(st, 8, r->reward);
    sqlite3_bind_text(st, 9, r->prediction, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, r->description, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, r->ops ? r->ops : "create,upload,start,stream,collect,destroy", -1,
                      SQLITE_STATIC);
    sqlite3_bind_double(st, 12, r->duration_ms ? r->duration_ms : 100);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sd_err_set(err, SD_EENV, "insert: %s", sqlite3_errmsg(db));
}

static inline void ins(struct store *s, const struct row *r)
{
    struct sd_err err = {0};
    if (store_call(s, ins_job, (void *)r, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
}

static inline struct learn *open_learn(struct store *s)
{
    struct sd_err err = {0};
    struct sd_err ferr = {0};
    struct learn *l;
    store_flush(s, &ferr);
    l = learn_open_defs(s, defs, 2, &err);
    if (l == NULL) {
        fprintf(stderr, "learn_open: %s\n", err.msg);
        exit(1);
    }
    return l;
}

static inline double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static uint64_t rng_state = 42;
static inline double rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static inline void fill_patterns(struct store *s)
{
    for (int i = 1; i <= 8; i++)
        ins(s, &(struct row){.id = i,
                             .strategy = "momentum",
                             .symbol = "SPY",
                             .params = i <= 4 || i == 8 ? "{\"threshold\":0.05,\"lookback\":20}"
                                                        : "{\"threshold\":0.01,\"lookback\":20}",
                             .status = i <= 3 ? "succeeded" : "failed",
                             .reward = i <= 3 ? 0.5 + 0.1 * i : 0,
                             .ops = i == 8 ? "create" : NULL,
                             .description =
                                 i <= 4 || i == 8 ? "breakout on tech" : "fading bond spikes"});
}

static inline int has_id(json_t *pats, int64_t id)
{
    size_t i, k;
    json_t *p, *v;
    json_array_foreach(pats, i, p) json_array_foreach(json_object_get(p, "evidence"), k,
                                                      v) if (json_integer_value(v) == id) return 1;
    return 0;
}

/* Success depends on threshold only: 0.9 in [0.04, 0.08], 0.15 elsewhere. */
static inline int sim_ok(double threshold)
{
    return rnd() < (threshold >= 0.04 && threshold <= 0.08 ? 0.9 : 0.15);
}

#endif
