/*
 * cmd-patterns.c: the patterns learned from past deployments: runs grouped
 * by strategy, parameter region and operation sequence, ranked by the Wilson
 * lower bound of their success rate, optionally only those matching a task
 * (engine/learn.h, docs/learning.md).
 */
#define _GNU_SOURCE
#include <string.h>

#include "cli.h"
#include "learn.h"

static const struct cli_opt opts[] = {
    {"task", 't', "TEXT", "only runs whose strategy, parameters or description match these words"},
    {"strategy", 0, "NAME", "only this strategy"},
    {"limit", 'n', "N", "show at most N patterns (default 20; JSON: all)"},
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

static int exec_patterns(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_patterns;
    const struct cli_cmd *me = &cmd_patterns;
    const char *task = cli_val(me, a, "task"), *strategy = cli_val(me, a, "strategy"), *v;
    struct catalog *cat = NULL;
    struct learn *l = NULL;
    struct sd_err err = {0};
    json_t *j = NULL, *p;
    long limit = 20;
    size_t i;
    int status;

    if ((v = cli_val(me, a, "limit")) != NULL && cli_parse_long("limit", v, 1, 1000000, &limit))
        return 2;
    if ((status = cli_open_store(ctx, ctx->readonly)) != 0)
        return status;
    if (catalog_load(&cat, cli_runner_path(), ctx->store, &err) != 0 ||
        (strategy != NULL && catalog_find(cat, strategy, &err) == NULL) ||
        (l = learn_open(ctx->store, cat, &err)) == NULL ||
        (j = learn_patterns(l, strategy, task, &err)) == NULL) {
        status = cli_fail_err(&err);
        goto out;
    }
    if (cli_flag(me, a, "json")) {
        cli_print_json(json_pack("{s:O}", "patterns", j));
        goto out;
    }
    if (json_array_size(j) == 0) {
        printf("no patterns yet%s: deploy some strategies first\n",
               task ? " matching the task" : "");
        goto out;
    }
    printf("%-48s %8s %6s %7s %6s  %s\n", "PATTERN", "SUCCESS", "RUNS", "REWARD", "CONF",
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
        printf("%-48s %7.0f%% %6lld %7.3f %6.2f  %s\n",
               json_string_value(json_object_get(p, "name")),
               100 * json_number_value(json_object_get(p, "successRate")),
               (long long)json_integer_value(json_object_get(p, "observationCount")),
               json_number_value(json_object_get(p, "meanReward")),
               json_number_value(json_object_get(p, "confidence")), ids);
    }
out:
    json_decref(j);
    learn_free(l);
    catalog_free(cat);
    return status;
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
