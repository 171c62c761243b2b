/*
 * learn_int.h: the learning index shared by learn.c (index, stats) and
 * learn_query.c (suggestions, patterns, optimisation). Not a public header.
 *
 * Representation (learn.c explains why):
 * - `struct learn_row`: one learned trajectory in the global array l->rows,
 *   kept sorted by id, which is creation order: stats, windows and series
 *   are one pass over it.
 * - `struct lstrat`: per strategy, column arrays over the same trajectories
 *   in arrival order: u (the normalised parameters, float, np per row) for
 *   the kernel scan of a suggestion, one column per parameter so the scan
 *   vectorises, x (the raw values) to cite them, the
 *   region key, outcome, reward, time, symbol, provider and operation
 *   sequence ids. Region aggregates (a small hash table) and per-parameter
 *   bin tallies are updated as rows arrive, so a suggestion never groups.
 * All of it is guarded by l->lock.
 */
#ifndef SD_LEARN_INT_H
#define SD_LEARN_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "learn.h"

#define LEARN_MAXP       21 /* parameters that take part in a region key (3 bits each) */
#define LEARN_NBINS      6  /* below, 4 inner bins, above */
#define LEARN_MAXPROV    8
#define LEARN_MIN_TRADES 10   /* default of learn_set_min_trades */
#define LEARN_DSR_MIN    0.95 /* deflated Sharpe needed to recommend a change */
#define LEARN_OOS_MIN    5    /* runs with an out-of-sample Sharpe before a model of it */
/* Recency: weights halve every 30 days (learn_query.c). */
#define LEARN_HALF_LIFE_MS (30.0 * 86400e3)

enum { LK_LOG, LK_LIN, LK_BOOL };

struct learn_param {
    char name[64];
    int type, kind;
    double def, min, max;
};

/* The Gaussian-process model of learn_gp.c. X: n rows of d u values; y the
 * standardised rewards; L the Cholesky factor of C + eta I; alpha = (C + eta
 * I)^-1 y; ymean/ysd the standardisation; sf2 the signal variance. */
struct learn_gp {
    size_t n, d;
    double *X, *y, *L, *alpha, *tmp;
    int32_t *sym;
    double ell, eta, sf2, sf2_fixed, ymean, ysd;
};
#define LEARN_GP_MAX 256
/* Past LEARN_GP_MAX rows of a class, the model is refitted once every
 * LEARN_GP_EPOCH new rows (learn_opt.c model_fit: it rests on the first
 * LEARN_GP_MAX + k * LEARN_GP_EPOCH rows), not at every observation. */
#define LEARN_GP_EPOCH 64

struct learn_region {
    uint64_t key;
    uint32_t n, ok;
    double rsum;
    int64_t best_row; /* row index (in the strategy) with the highest reward */
};

/* A model of a strategy's rewards (learn_opt.c), refitted when n, the symbol or the basis
 * change: gp_ok 1 when fitted; gp_oos 1 when it models the out-of-sample reward; gp_rows maps
 * its rows to the strategy's rows. Its anchor (learn_opt.c model_fit): the rows of its class it
 * had when fitted (gp_count) and how many of them it rests on (gp_anchor, LEARN_GP_EPOCH).
 * gp_searched: training rows at the last hyperparameter search. rec caches the recommendation
 * made from it. */
struct lmodel {
    struct learn_gp gp;
    size_t gp_n, *gp_rows;
    int32_t gp_sym;
    int gp_ok, gp_oos, gp_synth;
    size_t gp_count, gp_anchor;
    size_t gp_searched;
    json_t *rec;
};

struct lstrat {
    char name[64];
    struct learn_param *p;
    size_t np;
    size_t n, cap;
    int64_t *id, *t;
    double *x;
    float **uc;     /* np columns of u: uc[j][i] is parameter j of row i */
    uint8_t *uvary; /* per column: rows hold more than one value */
    float *dur;
    double *reward;
    uint8_t *state;
    int32_t *sym, *ops, *prov;
    uint64_t *key;
    int64_t tmax;
    double rsum;
    size_t ok;
    /* per parameter and bin: runs, reward sum (Thompson), occupancy */
    double (*mr)[LEARN_NBINS];
    uint32_t (*mn)[LEARN_NBINS];
    /* regions: open addressing over rtab (indices into reg, -1 empty) */
    struct learn_region *reg;
    size_t nreg, capreg;
    int32_t *rtab;
    size_t rtabn;
    float *scratch; /* learn_suggest's log-weights, then weights, cap entries */
    /* Float copies for the suggestion's vectorised passes: tl = lam * (t -
     * t0) (the recency term's per-run part), okf = 1 when succeeded, rwf =
     * reward. */
    float *tl, *okf, *rwf;
    uint8_t *heavy;  /* learn_suggest's flags: weight >= SIMILAR_W, 4 runs a byte */
    size_t ntimeout; /* rows that timed out */
    int64_t t0;      /* time of the first row */
    int32_t prov0;   /* provider of the first row */
    int multiprov;   /* rows name more than one provider */
    /* From the result (learn.c): round trips (NAN unknown), bars, the
     * (in-sample) Sharpe ratio and the out-of-sample one (NAN when the run
     * had no held-out window), and whether the series was synthetic. */
    float *trades, *bars;
    double *sharpe, *oos;
    uint8_t *synth;
    int mixsynth;    /* rows of both classes */
    struct lmodel m; /* the model asked for last */
    size_t noos[2];  /* rows with an out-of-sample Sharpe, per class (real, synthetic) */
    /* The other of the two models (in-sample, out-of-sample: gp_oos says which), kept while
     * m holds the one asked for last (learn_opt.c model_fit swaps them), so a
     * suggestion that consults both does not refit both each time. */
    struct lmodel spare;
};

/* A parameter set auto-optimise chose whose run has not finished yet
 * (learn_opt.c): counted as evidence at its predicted reward (the "kriging
 * believer" form of a constant liar), so the next agent of a batch looks
 * elsewhere. */
struct learn_pending {
    uint16_t strat;
    int32_t sym;
    int64_t at; /* wall ms: forgotten after LEARN_PENDING_MS */
    double *x;  /* np raw values */
};
#define LEARN_PENDING_MAX 64
#define LEARN_PENDING_MS  (6 * 3600 * 1000LL)

/* Fit g to n rows (X n x d, rewards r, symbol ids sym). mode
 * LEARN_GP_SEARCH: choose the length scale and noise by the marginal
 * likelihood and standardise r; LEARN_GP_KEEP: keep g's length scale and
 * noise, standardise r; LEARN_GP_BELIEVER: keep hyperparameters,
 * standardisation and signal variance (the batch's refit). 0, or -1 (no
 * memory or a singular matrix). The caller frees with learn_gp_free. */
enum { LEARN_GP_SEARCH, LEARN_GP_KEEP, LEARN_GP_BELIEVER };
int learn_gp_fit(struct learn_gp *g, const double *X, const double *r, const int32_t *sym, size_t n,
                 size_t d, int mode);
/* Posterior mean and latent variance at x, in standardised units (reward =
 * ymean + ysd * mean; the predictive variance adds sf2 * eta). var NULL:
 * the mean alone (the same value), without the O(n^2) solve. */
void learn_gp_predict(const struct learn_gp *g, const double *x, int32_t sym, double *mean,
                      double *var);
void learn_gp_free(struct learn_gp *g);

/* Parameters that describe the account or the randomness (capital,
 * commission, seed): never tuned and never part of a distance. */
int learn_untuned(const char *name);
/* Validate params against def (symbol/symbols stripped): new ref or NULL. */
json_t *learn_resolve(const struct strategy_def *def, json_t *params, struct sd_err *err);
json_t *learn_param_json(const struct learn_param *p, double v);
/* 1 when the runs of s on symbol sym used a synthetic series (the latest
 * such run says), 0 otherwise or without any: synthetic series are never
 * pooled with real ones. */
int learn_symbol_synthetic(const struct learn *l, const struct lstrat *s, int32_t sym);
/* Drop the pending entry that matches (strategy s, values x), if any. */
void learn_pending_done(struct learn *l, const struct lstrat *s, const double *x);
/* The model's reward at raw values x on symbol sym: mean and 90 %
 * predictive interval. 0, or -1 (no runs, no memory). */
int learn_model_predict(struct learn *l, struct lstrat *s, const double *x, int32_t sym,
                        double *mean, double *lo, double *hi);
/* The recommended whole parameter set (new reference): {params, run,
 * predictedReward, interval, restsOn, basis, tooFewTrades, trades?,
 * sharpe?:{value, trials, expectedMaxOfTrials, deflated}, significant}, or {params:
 * null, tooFewTrades} when no run qualifies; NULL without a model. */
json_t *learn_model_recommend(struct learn *l, struct lstrat *s, int32_t sym);
/* The deflated Sharpe ratio (Bailey and Lopez de Prado 2014) of an
 * annualised Sharpe sr over `bars` daily returns, best of `trials` whose
 * annualised Sharpe ratios vary with variance var, returns assumed normal:
 * the probability that the true Sharpe exceeds the expected maximum of
 * trials unskilled ones (*sr0, annualised). NAN without enough bars. */
double learn_deflated_sharpe(double sr, double bars, double trials, double var, double *sr0);

struct learn_row {
    int64_t id, t;
    double reward, pred;             /* pred: NaN when no prediction was stored */
    double pred_r, pred_lo, pred_hi; /* expectedReward and its interval, NaN when none */
    uint16_t strat;
    uint8_t ok;
};

struct learn {
    pthread_mutex_t lock;
    struct store *store;
    struct lstrat *st;
    size_t nst;
    struct learn_row *rows;
    size_t nrows, caprows;
    /* interned strings (symbols, providers, operation sequences) */
    char **str;
    size_t nstr, capstr;
    int32_t *stab;
    size_t stabn;
    struct learn_pending pend[LEARN_PENDING_MAX];
    size_t npend;
    uint64_t chosen; /* parameter sets auto-optimise has chosen (mixed into its seed) */
    int min_trades;  /* fewer round trips: never recommended (learn_set_min_trades) */
    int64_t maxseen; /* the highest id read from the store, learned or not */
    /* The saved index: learning rows the store had at load (-1: unknown),
     * and whether the reward model searched hyperparameters since while no
     * row was observed (then learn_free saves them for the next start). */
    int64_t seen;
    int model_searched, observed;
    /* Bumped by every row added (load, learn_observe from a deployment or a
     * fleet merge): learn_version. Read without the lock. */
    atomic_uint_fast64_t version;
    uint64_t fits; /* reward-model fits (model_fit), learn_model_fits */
};

/* What a row knows beyond its parameters (learn.c). */
struct learn_facts {
    double pred_r, pred_lo, pred_hi; /* the prediction's reward and interval */
    double trades, bars, sharpe, oos;
    int synthetic;
};

/* Lock held for all of these. */
/* Add one trajectory of s (x: s->np values). 0, or -1 (no memory: the index
 * is unchanged). An id already indexed is skipped (0). */
int learn_add_row(struct learn *l, struct lstrat *s, int64_t id, int64_t t, int state,
                  double reward, double pred, double dur, int32_t sym, int32_t prov, int32_t ops,
                  const double *x, const struct learn_facts *f);
/* The saved index (learn_cache.c): learn_cache_load fills an empty l from
 * it and the rows it lacks and returns 0; 1 when there is none usable (l
 * untouched: the caller loads from the store); 2 when a torn file left l
 * half filled (the caller starts afresh without it); -1 with err on a store
 * error. learn_cache_save writes it (failures are ignored: it is only a
 * cache). *seen: learning rows the store had. */
int learn_cache_load(struct learn *l, int64_t *seen, struct sd_err *err);
void learn_cache_save(struct learn *l, int64_t seen);
/* Index the store's learning rows with id > after (learn.c); *seen counts
 * them all, also those of strategies without a schema. 0 or -1 with err. */
int learn_load_rows(struct learn *l, int64_t after, int64_t *seen, struct sd_err *err);
struct lstrat *learn_strat(struct learn *l, const char *name);
struct lstrat *learn_strat_for(struct learn *l, const struct strategy_def *def);
int32_t learn_intern(struct learn *l, const char *s); /* -1 for NULL or no memory */
const char *learn_str(const struct learn *l, int32_t id);

/* Map x to u for p, and u to its bin. */
double learn_u(const struct learn_param *p, double x);
int learn_bin(const struct learn_param *p, double u);
/* The x interval [lo, hi] of bin b (clipped to the schema's bounds). */
void learn_bin_range(const struct learn_param *p, int b, double *lo, double *hi);
/* Parameter values of params (missing: the default). */
void learn_values(const struct lstrat *s, json_t *params, double *x);
uint64_t learn_key(const struct lstrat *s, const double *x);
int learn_key_bin(uint64_t key, size_t j);
struct learn_region *learn_region_find(const struct lstrat *s, uint64_t key);

/* Wilson score interval lower bound, 95 % (z = 1.96); 0 when n = 0. */
double learn_wilson(double ok, double n);

#endif
