/*
 * learn.h: the learning engine: stats, patterns, suggestions and
 * auto-optimisation from past trajectories (design.md §6, docs/learning.md).
 *
 * DESIGN
 * The original's learning was decorative: it stored "patterns" and never let
 * them change anything. Here every number is a stated function of the
 * finished trajectories in the store, and two of them change what happens:
 * the suggestion shown (and stored as the prediction) before a deployment,
 * and the parameters auto-optimise chooses.
 *
 * The index is in memory and rebuilt from the store at every start
 * (learn_open); the coordinator keeps it in step with learn_observe when a
 * trajectory becomes terminal. Only outcomes teach: trajectories that
 * succeeded, failed or timed out are learned from; cancelled and interrupted
 * ones (an operator's or a crash's decision) are not.
 *
 * Definitions (the file essays of learn.c and learn_query.c say how):
 * - success: status succeeded. reward: as stored (0 on failure, else
 *   0.5 + 0.5 * tanh(sharpe / 2)).
 * - parameter space: each schema parameter is mapped to a unit u. A number
 *   or integer with a positive default on a non-negative range is compared on
 *   a log scale: u = log2(x / default) / 4, so the "search range"
 *   [default/4, default*4] (clipped to the schema's bounds) spans one unit.
 *   Any other number is linear over its schema range; booleans are 0 or 1.
 * - regions: per parameter, the search range is cut into 4 equal bins of u
 *   (a factor 2 each on the log scale), plus one bin below and one above it
 *   (up to the schema's bounds); booleans have 2 bins. A region is one bin
 *   per parameter.
 *
 * THREADS
 * learn_open/learn_free: the owner. Every other function: any thread; they
 * take l->lock, so observing and querying may run concurrently.
 */
#ifndef SD_LEARN_H
#define SD_LEARN_H

#include <jansson.h>
#include <stdint.h>

#include "catalog.h"
#include "store.h"
#include "util.h"

struct learn;

/* Build the index from the store's finished trajectories of the strategies
 * in cat (trajectories of other strategies are skipped; a strategy added to
 * the catalog later is indexed from its first learn_observe). Reads through
 * its own store_reader connection; does not keep it. Returns NULL with err
 * set (SD_EENV for a store error, SD_ENOMEM). The learn does not own s or
 * cat; both must outlive it. */
struct learn *learn_open(struct store *s, const struct catalog *cat, struct sd_err *err);

/* The same over an explicit array of strategy definitions (copied: defs need
 * not outlive the call). For tests and tools that have no catalog. */
struct learn *learn_open_defs(struct store *s, const struct strategy_def *defs, size_t ndefs,
                              struct sd_err *err);

void learn_free(struct learn *l); /* accepts NULL */

/* One terminal trajectory, as the coordinator knows it at finish. Every
 * pointer is borrowed for the duration of the call. */
struct learn_obs {
    int64_t id; /* trajectories.id */
    const char *strategy;
    const char *symbol;   /* may be NULL */
    const char *provider; /* may be NULL ("local") */
    json_t *params;       /* the resolved parameters (as stored) */
    int state;            /* enum traj_state: TS_SUCCEEDED, TS_FAILED, TS_TIMEOUT learn */
    double reward;        /* as stored */
    int64_t created_at;   /* ms since the epoch */
    double duration_ms;
    const char *op_sequence; /* may be NULL */
    json_t *prediction;      /* the suggestion stored before launch, or NULL */
    json_t *result;          /* the @@result object, or NULL: trades, bars, sharpe,
                                outOfSample.sharpe and synthetic are read from it */
};

/* Add o to the index. Non-learning states (queued, running, cancelled,
 * interrupted), unknown strategies without a known schema and ids already
 * indexed are ignored. Can't fail: on allocation failure the observation is
 * dropped (the next start rebuilds from the store). Takes l->lock. */
void learn_observe(struct learn *l, const struct learn_obs *o);

/* The suggestion for deploying def with params (object or NULL; `symbol` and
 * `symbols` are ignored; validated with catalog_validate, so a value outside
 * the schema is SD_EUSAGE) on symbol (may be NULL). Returns a new reference:
 *   {strategyName, expectedSuccessRate, expectedReward, confidence,
 *    evidence:{runs, weight, similar:[ids]}, posterior:{alpha, beta},
 *    reasoning:[strings], recommendedOperations:[{op:"set_param", name,
 *    value, why} | {op:"raise_timeout", timeoutMs, why} |
 *    {op:"avoid_provider", provider, prefer, why}]}
 * or NULL with err set. With no evidence confidence is 0 and the first
 * reasoning line says so. O(runs of def) with no allocation per run. */
json_t *learn_suggest(struct learn *l, const struct strategy_def *def, json_t *params,
                      const char *symbol, struct sd_err *err);

/* Stats over every strategy (strategy NULL) or one (SD_EUSAGE if unknown):
 *   {totalTrajectories, succeeded, avgSuccessRate, avgReward, improvementRate,
 *    improvementWindow:{first, recent}, predictionAccuracy, brierScore,
 *    predictions, series:[{t, n, successRate, avgReward}], byStrategy:{name:
 *    {the same without byStrategy and series}}}
 * Rates that need data they do not have are null. New reference, or NULL
 * with err set. */
json_t *learn_stats(struct learn *l, const char *strategy, struct sd_err *err);

/* Patterns of one strategy (or all: strategy NULL), optionally restricted to
 * the trajectories whose strategy, symbol, parameters or description match
 * task (ranked task search over traj_fts: docs/learning.md "Task search";
 * NULL = no restriction; a task with no word in it is SD_EUSAGE). A new reference to an array of
 *   {name, strategyName, region:{param:[lo, hi]}, successRate,
 *    observationCount, meanReward, confidence, operationSequence,
 *    evidence:[ids]}
 * ranked by their reward's lower bound (docs/learning.md "Patterns"), then
 * observationCount. Region and name list the parameters that vary in the
 * strategy's runs; evidence holds at most the 20 newest ids. NULL with err
 * set on error (SD_EENV for a store error). */
json_t *learn_patterns(struct learn *l, const char *strategy, const char *task, struct sd_err *err);

/* Choose parameters for def with the reward model over whole parameter
 * vectors (learn_opt.c: a randomised upper confidence bound over candidates
 * inside the schema's bounds, pending sets of a batch counted). pinned
 * (object or NULL) values are kept as given; parameters in the untuned table
 * (capital, commission, seed) keep their defaults unless pinned. Returns the
 * resolved parameters (new reference, valid for catalog_validate) and, if
 * why is not NULL, *why (new reference: the method, seed, chosen values and
 * the model's prediction, as docs/learning.md "autoOptimize" lists them).
 * Deterministic for a given index and seed. NULL with err
 * set (SD_EUSAGE: pinned not an object or outside the schema). */
json_t *learn_optimize(struct learn *l, const struct strategy_def *def, json_t *pinned,
                       uint64_t seed, json_t **why, struct sd_err *err);

/* The same for a deployment on symbol (NULL: none named; the model then
 * treats every run as another symbol's). */
json_t *learn_optimize_on(struct learn *l, const struct strategy_def *def, json_t *pinned,
                          const char *symbol, uint64_t seed, json_t **why, struct sd_err *err);

/* The seed of one auto-optimised deployment, from the operator's seed, the
 * submitter's count n and `unlearned`: how many deployments the store has
 * that the index does not (the id the deployment will get, less one, less
 * the index's newest id: cancelled, interrupted or still running ones).
 * learn_optimize_on hashes the index's own state (its size, newest id,
 * pending sets) into every choice, so with unlearned 0 the seed is the
 * operator's as it always was (seed * golden ratio + n); otherwise a
 * splitmix64 hash of unlearned is mixed in, so a repeated --seed after a
 * deploy that taught the index nothing does not choose the same point.
 * Pure. */
uint64_t learn_seed_mix(uint64_t seed, uint64_t unlearned, uint64_t n);

/* The fewest round trips (result.trades) a parameter set needs to be
 * recommended (docs/learning.md "Suggestions"): n >= 0; a negative n
 * restores the default, 10. Runs that report no trade count are not held
 * to it. Takes l->lock; can't fail. */
void learn_set_min_trades(struct learn *l, int n);

/* A re-optimising walk-forward (learn_wf.c): per fold k, `runs`
 * auto-optimised choices by a fresh learner, each evaluated on fold k's
 * training window, then the model's recommended set (else the defaults)
 * and the defaults evaluated on fold k's test window. */
struct learn_wf {
    const struct strategy_def *def;
    json_t *pinned;     /* parameters kept as given (object or NULL), borrowed */
    const char *symbol; /* the runs' symbol (may be NULL) */
    size_t folds, runs; /* both >= 1 */
    uint64_t seed;      /* the optimiser's (mixed with the fold and run) */
    int min_trades;     /* learn_set_min_trades for the fold's learner; -1: default */
    /* Run params on fold's training window (test 0) or test window (test
     * 1); *result: the @@result object (new reference, or NULL), from which
     * sharpe, trades, bars are read. 0, or -1 when the run failed. */
    int (*eval)(void *arg, size_t fold, int test, json_t *params, json_t **result);
    void *arg;
};

/* Run w (docs/learning.md "Walk-forward"). A new reference:
 *   {folds:[{fold, runs, succeeded, params, chosenBy, significant,
 *            deflatedSharpe, inSample, outOfSample:{sharpe, reward, trades},
 *            defaults:{params, outOfSampleSharpe}}],
 *    aggregate:{folds, inSampleSharpe, outOfSampleSharpe, outOfSampleReward,
 *               defaultsOutOfSampleSharpe, overfitGap, beatDefaults, compared}}
 * (means over the folds that have the number; null when none), or NULL
 * with err set (SD_EUSAGE: a bad w; SD_ENOMEM). */
json_t *learn_walk_forward(const struct learn_wf *w, struct sd_err *err);

/* A counter bumped every time a trajectory enters the index (learn_open's
 * load, learn_observe from the coordinator or a fleet merge): equal values
 * mean nothing was learned in between. The daemon's pump compares it to
 * decide whether to send a "learning" event, whatever path added the rows.
 * Any thread, lock-free; 0 for NULL. */
uint64_t learn_version(struct learn *l);

/* How many times the reward model has been fitted (any strategy, any
 * basis) since learn_open: past 256 runs of a class it is refitted once
 * every 64 new runs, not per observation (docs/learning.md "The reward
 * model"). For tests and benchmarks. Takes l->lock. */
uint64_t learn_model_fits(struct learn *l);

/* The id of the newest trajectory in the index (0 when empty). Any thread. */
int64_t learn_newest_id(struct learn *l);

#endif
