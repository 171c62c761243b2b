/*
 * cmd-swarm.c: deploy a list of strategies from a JSON file.
 *
 * The file is the original's deployment list: a JSON array of
 * {"strategyName": "momentum", "params": {...}, "description": "...",
 *  "agents": N}. `params.symbol` picks one symbol; `params.symbols` a list
 * (spread round robin; `agents` defaults to its length). Every entry is
 * validated before anything runs.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"

static const struct cli_opt opts[] = {
    {"file", 'f', "FILE", "the deployment list (JSON array)"},
    {"detach", 0, NULL, "queue on the daemon (started if none runs), print the run id, return"},
    CLI_DEPLOY_OPTS,
    {NULL, 0, NULL, NULL},
};

struct item {
    const char *strategy, *symbol, *description;
    json_t *params;
};

static int exec_swarm(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_swarm;
    const struct cli_cmd *me = &cmd_swarm;
    const char *file = cli_val(me, a, "file");
    struct coord_opts o;
    struct coord *c = NULL;
    struct sd_err err = {0};
    struct item *items = NULL;
    size_t n = 0;
    json_error_t je;
    json_t *list = NULL;
    struct deploy_req *reqs = NULL;
    int status = 0;

    if (file == NULL)
        return cli_fail(SD_EUSAGE, "swarm needs -f DEPLOYMENTS.json");
    list = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (list == NULL)
        return cli_fail(SD_EUSAGE, "%s:%d:%d: %s", file, je.line, je.column, je.text);
    if (!json_is_array(list) || json_array_size(list) == 0) {
        status = cli_fail(SD_EUSAGE, "%s: expected a non-empty JSON array of deployments", file);
        goto out;
    }
    if ((status = cli_coord_opts(me, a, &o)) != 0)
        goto out;
    /* Expand entries into one item per agent, checking shapes. */
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i), *p = json_object_get(e, "params");
        json_t *syms = json_object_get(p, "symbols"), *sym = json_object_get(p, "symbol");
        json_t *ag = json_object_get(e, "agents");
        const char *name = json_string_value(json_object_get(e, "strategyName"));
        long agents = 1;

        if (!json_is_object(e) || name == NULL) {
            status = cli_fail(SD_EUSAGE, "%s: entry %zu needs \"strategyName\"", file, i);
            goto out;
        }
        if (p != NULL && !json_is_object(p)) {
            status = cli_fail(SD_EUSAGE, "%s: entry %zu: \"params\" must be an object", file, i);
            goto out;
        }
        if (syms != NULL && (!json_is_array(syms) || json_array_size(syms) == 0)) {
            status = cli_fail(SD_EUSAGE, "%s: entry %zu: \"symbols\" must be a non-empty array",
                              file, i);
            goto out;
        }
        if (sym != NULL && !json_is_string(sym)) {
            status = cli_fail(SD_EUSAGE, "%s: entry %zu: \"symbol\" must be a string", file, i);
            goto out;
        }
        if (syms != NULL)
            agents = (long)json_array_size(syms);
        if (ag != NULL) {
            if (!json_is_integer(ag) || json_integer_value(ag) < 1 ||
                json_integer_value(ag) > 10000) {
                status = cli_fail(SD_EUSAGE, "%s: entry %zu: \"agents\" must be 1..10000", file, i);
                goto out;
            }
            agents = (long)json_integer_value(ag);
        }
        items = xrealloc(items, (n + (size_t)agents) * sizeof *items);
        for (long k = 0; k < agents; k++) {
            struct item *it = &items[n++];
            it->strategy = name;
            it->params = p;
            it->description = json_string_value(json_object_get(e, "description"));
            it->symbol =
                syms  ? json_string_value(json_array_get(syms, (size_t)k % json_array_size(syms)))
                : sym ? json_string_value(sym)
                      : NULL;
            if (syms && it->symbol == NULL) {
                status = cli_fail(SD_EUSAGE, "%s: entry %zu: symbols must be strings", file, i);
                goto out;
            }
        }
    }
    {
        /* A daemon serving this store runs the swarm (cmd-deploy.c says why). */
        struct client *cl = NULL;
        int k, detach = cli_flag(me, a, "detach");

        if ((k = cli_daemon_launcher(ctx, me, a, &cl, &status)) < 0)
            goto out;
        if (k == 1) {
            json_t *deps = json_array(), *spec;
            for (size_t i = 0; i < n; i++) {
                json_t *d = json_pack("{s:s}", "strategy", items[i].strategy);
                if (items[i].params != NULL)
                    json_object_set(d, "params", items[i].params);
                if (items[i].symbol != NULL)
                    json_object_set_new(d, "symbol", json_string(items[i].symbol));
                if (items[i].description != NULL)
                    json_object_set_new(d, "description", json_string(items[i].description));
                json_array_append_new(deps, d);
            }
            spec = json_pack("{s:o}", "deployments", deps);
            status = cli_daemon_launch(cl, "swarm", spec, detach, cli_flag(me, a, "json"));
            json_decref(spec);
            client_close(cl);
            goto out;
        }
    }
    if ((c = cli_coord(ctx, &o, &status)) == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct deploy_req r = {
            .strategy = items[i].strategy, .params = items[i].params, .symbol = items[i].symbol};
        if (coord_check(c, &r, &err) != 0) {
            status = cli_fail(SD_EUSAGE, "%s: deployment %zu (%s): %s", file, i, items[i].strategy,
                              err.msg);
            goto out;
        }
    }
    reqs = xcalloc(n, sizeof *reqs);
    for (size_t i = 0; i < n; i++)
        reqs[i] = (struct deploy_req){.strategy = items[i].strategy,
                                      .params = items[i].params,
                                      .symbol = items[i].symbol,
                                      .description = items[i].description};
    {
        char *spec = json_dumps(list, JSON_COMPACT);
        status = cli_run_deployments(ctx, c, "swarm", spec, reqs, n, cli_flag(me, a, "json"));
        free(spec);
    }
out:
    status = cli_close(ctx, c, status);
    free(reqs);
    free(items);
    json_decref(list);
    return status;
}

const struct cli_cmd cmd_swarm = {
    .name = "swarm",
    .usage = "-f DEPLOYMENTS.json [options]",
    .summary = "deploy every entry of a deployment list and wait for the results",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CLI_WRITES,
    .exec = exec_swarm,
};
