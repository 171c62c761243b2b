/*
 * scenario.h: the benchmark's scenarios: the built-in table, custom
 * scenario files, choosing which run, and the deployment requests they make
 * (docs/benchmark.md, "Scenarios").
 *
 * DESIGN
 * A plan is everything a benchmark run needs to know before anything runs:
 * the scenarios, the thresholds and the regression tolerance. It is built in
 * steps, each of which validates what it adds, so a bad input is refused
 * before the first deployment:
 *
 *   bench_plan_init         the built-in scenarios and the default thresholds
 *   bench_plan_load         a custom file's scenarios and thresholds (-f)
 *   (the caller may now override thresholds and tolerance: the command line)
 *   bench_plan_select       keep one scenario (-s), else the file's, else the
 *                           built-ins
 *   bench_plan_strategies   give every scenario without its own list the
 *                           run's strategies
 *   bench_plan_check        validate every distinct request through
 *                           coord_check, without running or storing anything
 *
 * A scenario is `agents` x `iterations`. Deployment k (k = iteration x agents
 * + agent) runs strategy k mod n of the scenario's n strategies on symbol
 * k mod m of the scenario's symbols (else the strategy's default symbols),
 * with the scenario's params and, for agent a, agentParams[a] merged over
 * them: bench_scen_request builds exactly that request, for the check and
 * for the run (run.h) alike.
 *
 * Every error is SD_EUSAGE with the message the command line prints after
 * "swarmdeck: ", naming the file and scenario.
 *
 * THREADS
 * A plan belongs to one thread; nothing here blocks except bench_plan_load
 * (reads the file).
 */
#ifndef SD_BENCH_SCENARIO_H
#define SD_BENCH_SCENARIO_H

#include <jansson.h>
#include <stdint.h>

#include "bench.h"
#include "coord.h"

#define BENCH_MAX_SCENARIOS 64

/* One scenario as it will run. The JSON members are owned (one reference
 * each) and NULL when not given. */
struct bench_scen {
    char name[64];
    int agents, iterations;
    json_t *strategies;   /* array of names; set by bench_plan_strategies at the latest */
    json_t *params;       /* object given to every deployment */
    json_t *agent_params; /* array of objects: entry a is merged over params for agent a */
    json_t *symbols;      /* array of symbols, round robin */
    int64_t timeout_ms;   /* 0 = the coordinator's */
};

struct bench_plan {
    struct bench_scen sc[BENCH_MAX_SCENARIOS];
    size_t nsc;
    int from_file; /* bench_plan_load added sc[BENCH_BUILTINS..nsc) */
    struct bench_thresholds th;
    double tolerance;     /* relative regression tolerance: 0.2 = 20 % */
    const char *provider; /* the provider asked for (borrowed), NULL = local */
};

/* The number of built-in scenarios, first in every plan. */
#define BENCH_BUILTINS 5

/* Fill p with the built-in scenarios, the default thresholds and a 20 %
 * tolerance. p's previous content is not freed. This function can't fail. */
void bench_plan_init(struct bench_plan *p);

/* Free what the scenarios hold and empty p. Accepts NULL. */
void bench_plan_clear(struct bench_plan *p);

/* Add the scenarios of a custom scenario file (after the built-ins; at most
 * BENCH_MAX_SCENARIOS in all) and apply its "thresholds". Returns 0, or -1
 * with err set (SD_EUSAGE); the scenarios added before the bad one stay in
 * p (bench_plan_clear frees them). Call at most once, after bench_plan_init. */
int bench_plan_load(struct bench_plan *p, const char *file, struct sd_err *err);

/* Keep the scenario named only (built-in or from the file), or when only is
 * NULL the file's scenarios if one was loaded, else the built-ins; free the
 * rest. Returns 0, or -1 with err set (SD_EUSAGE: no such scenario; p is then
 * empty). */
int bench_plan_select(struct bench_plan *p, const char *only, struct sd_err *err);

/* The most agents of any scenario (at least 1): the workers that let an
 * iteration launch all its agents at once. */
int bench_plan_max_agents(const struct bench_plan *p);

/* The run's strategies: the comma-separated list (empty names skipped), or
 * when list is NULL every built-in strategy of cat (cat may be NULL when
 * list is not). Every scenario without
 * its own list gets them. Returns a new array, or NULL with err set
 * (SD_EUSAGE: a list without a name). Names are not checked here:
 * bench_plan_check does. */
json_t *bench_plan_strategies(struct bench_plan *p, const struct catalog *cat, const char *list,
                              struct sd_err *err);

/* Validate every distinct request (agent parameters, strategy, symbol) of
 * every scenario with coord_check, without queueing or storing anything.
 * Returns 0, or -1 with err set (SD_EUSAGE, naming scenario and agent). */
int bench_plan_check(const struct bench_plan *p, struct coord *c, struct sd_err *err);

/* The scenarios as run, the runs table's spec: {scenarios: [{name, agents,
 * iterations, strategies, params?, agentParams?, symbols?, timeoutMs?}],
 * maxAgents, provider}. New reference. */
json_t *bench_plan_spec(const struct bench_plan *p, int max_agents);

/* The parameters of agent a of s: params with agentParams[a] merged over
 * them. New reference (an empty object when s has neither). */
json_t *bench_scen_params(const struct bench_scen *s, int a);

/* The request for deployment k of s in run (0 = none): strategy and symbol
 * round robin as above, params borrowed, provider p->provider. Every string
 * in it is borrowed from s or cat; cat is only asked for a strategy's
 * default symbols (it may be NULL when s has symbols). */
struct deploy_req bench_scen_request(const struct bench_plan *p, const struct bench_scen *s,
                                     const struct catalog *cat, size_t k, json_t *params,
                                     int64_t run);

#endif
