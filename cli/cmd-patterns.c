/*
 * cmd-patterns.c: the patterns learned from past deployments: runs grouped
 * by strategy, parameter region and operation sequence, ranked by the Wilson
 * lower bound of their success rate, optionally only those matching a task
 * (engine/learn/learn.h, docs/learning.md).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "learn.h"

static const struct cli_opt opts[] = {
    {"task", 't', "TEXT", "only runs whose strategy, parameters or description match these words"},
    {"strategy", 0, "NAME", "only this strategy"},
    {"limit", 'n', "N", "show at most N patterns (default 20; JSON: all)"},
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

/* Does text name strategy `name` as a word? "mean-reversion" also matches
 * "mean reversion". Case-insensitive. */
static int names(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *t = text; *t; t++) {
        size_t k = 0;
        while (k < n && t[k] &&
               (tolower((unsigned char)t[k]) == tolower((unsigned char)name[k]) ||
                (name[k] == '-' && t[k] == ' ')))
            k++;
        if (k == n && (t == text || !isalnum((unsigned char)t[-1])) &&
            !isalnum((unsigned char)t[n]))
            return 1;
    }
    return 0;
}

/* The strategy a task is about: --strategy, else one the text names, else
 * the strategy of the best matching pattern. NULL when none. */
static const struct strategy_def *task_strategy(const struct catalog *cat, const char *task,
                                                json_t *pats, const char **why)
{
    const char *top;
    for (size_t i = 0; i < catalog_count(cat); i++) {
        const struct strategy_def *d = catalog_at(cat, i);
        if (names(task, d->name)) {
            *why = "named in the task";
            return d;
        }
    }
    top = json_string_value(json_object_get(json_array_get(pats, 0), "strategyName"));
    for (size_t i = 0; top && i < catalog_count(cat); i++) {
        const struct strategy_def *d = catalog_at(cat, i);
        if (strcmp(d->name, top) == 0) {
            *why = "the best matching pattern's strategy";
            return d;
        }
    }
    return NULL;
}

static void print_table(json_t *j, long limit);

static int exec_patterns(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_patterns;
    const struct cli_cmd *me = &cmd_patterns;
    const char *task = cli_val(me, a, "task"), *strategy = cli_val(me, a, "strategy");
    struct catalog *cat = NULL;
    struct learn *l = NULL;
    struct sd_err err = {0};
    json_t *j = NULL, *sug = NULL;
    long limit;
    int status;

    if (cli_parse_long("limit", cli_val_def(me, a, "limit"), 1, 1000000, &limit))
        return 2;
    if ((status = cli_open_store_reading(ctx)) != 0)
        return status;
    if (catalog_load(&cat, cli_runner_path(), ctx->store, &err) != 0 ||
        (strategy != NULL && catalog_find(cat, strategy, &err) == NULL) ||
        (l = learn_open(ctx->store, cat, &err)) == NULL ||
        (j = learn_patterns(l, strategy, task, &err)) == NULL) {
        status = cli_fail_err(&err);
        goto out;
    }
    if (task != NULL) { /* a task gets a suggestion too, for its strategy's defaults */
        const char *why = NULL;
        const struct strategy_def *d =
            strategy ? catalog_find(cat, strategy, &err) : task_strategy(cat, task, j, &why);
        if (d != NULL && (sug = learn_suggest(l, d, NULL, NULL, &err)) == NULL) {
            status = cli_fail_err(&err);
            goto out;
        }
        if (sug != NULL)
            json_object_set_new(sug, "chosenBecause",
                                json_string(why ? why : "given with --strategy"));
    }
    if (cli_flag(me, a, "json")) {
        json_t *o = json_pack("{s:O}", "patterns", j), *origins = cli_fleet_origins(ctx, strategy);
        if (origins != NULL) /* the fleet's share of what was learned from (docs/fleet.md) */
            json_object_set_new(o, "origins", origins);
        if (task != NULL) {
            json_object_set_new(o, "task", json_string(task));
            json_object_set(o, "suggestion", sug ? sug : json_null());
        }
        cli_print_json(o);
        goto out;
    }
    if (json_array_size(j) == 0)
        cli_printf("no patterns yet%s: deploy some strategies first\n",
                   task ? " matching the task" : "");
    else
        print_table(j, limit);
    if (sug != NULL) {
        cli_printf("\nsuggestion for %s (%s), at its default parameters:\n",
                   json_string_value(json_object_get(sug, "strategyName")),
                   json_string_value(json_object_get(sug, "chosenBecause")));
        cli_print_suggestion(sug);
    } else if (task != NULL) {
        cli_printf("\nno suggestion: the task names no strategy and matches no pattern\n");
    }
out:
    json_decref(sug);
    json_decref(j);
    learn_free(l);
    catalog_free(cat);
    return status;
}

static void print_table(json_t *j, long limit)
{
    json_t *p;
    size_t i;

    /* LOW: the 95 % lower bound on reward (out of sample where the runs
     * have it), the order patterns come in; success is 100 % by
     * construction for a backtest that runs, so it does not rank them. */
    cli_printf("%-48s %8s %6s %7s %6s  %s\n", "PATTERN", "SUCCESS", "RUNS", "REWARD", "LOW",
               "EVIDENCE");
    json_array_foreach(j, i, p)
    {
        json_t *ev = json_object_get(p, "evidence"), *id;
        char ids[64] = "";
        size_t k, used = 0;
        if ((long)i >= limit)
            break;
        json_array_foreach(ev, k, id)
        {
            if (k == 3) {
                snprintf(ids + used, sizeof ids - used, " ...");
                break;
            }
            used += (size_t)snprintf(ids + used, sizeof ids - used, "%s#%lld", k ? " " : "",
                                     (long long)json_integer_value(id));
        }
        cli_printf("%-48s %7.0f%% %6lld %7.3f %6.2f  %s\n",
                   json_string_value(json_object_get(p, "name")),
                   100 * json_number_value(json_object_get(p, "successRate")),
                   (long long)json_integer_value(json_object_get(p, "observationCount")),
                   json_number_value(json_object_get(p, "meanReward")),
                   json_number_value(json_object_get(p, "rewardLowerBound")), ids);
    }
}

const struct cli_cmd cmd_patterns = {
    .name = "patterns",
    .usage = "[-t TASK] [--strategy S] [-n N] [--json]",
    .summary = "list the patterns learned from past deployments, best first",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_patterns,
};
