/*
 * cmd-suggest.c: the learned suggestion for a deployment, before making it
 * (from the daemon serving the store when one runs, whose index is warm):
 * expected success and reward, confidence, the evidence and reasoning, and
 * recommended parameter, timeout or provider changes (engine/learn/learn.h).
 */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"
#include "client.h"
#include "config.h"
#include "learn.h"

static const struct cli_opt opts[] = {
    {"strategy", 's', "NAME", "the strategy to deploy (required)"},
    {"params", 'p', "JSON", "strategy parameters as a JSON object"},
    {"symbol", 0, "SYM", "the market symbol (default SPY)"},
    {"min-trades", 0, "N",
     "fewest round trips a recommended parameter set needs (default 10, or the config file's "
     "min-trades)"},
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

void cli_print_suggestion(json_t *j)
{
    size_t i;
    json_t *v, *iv = json_object_get(j, "rewardInterval");
    double fails = json_number_value(json_object_get(json_object_get(j, "posterior"), "beta")) - 1;
    /* Reward first, with the model's interval. A success chance is shown
     * only when similar runs have failed: otherwise it is 100 % by
     * construction (a backtest that runs succeeds) and says nothing.
     * "evidence" is the weight of similar runs, not an accuracy. */
    cli_printf("%s: expected reward %.3f", json_string_value(json_object_get(j, "strategyName")),
               json_number_value(json_object_get(j, "expectedReward")));
    if (json_array_size(iv) == 2)
        cli_printf(" (90%% interval %.3f to %.3f)", json_number_value(json_array_get(iv, 0)),
                   json_number_value(json_array_get(iv, 1)));
    if (fails > 1e-6)
        cli_printf(", success chance %.0f%%",
                   100 * json_number_value(json_object_get(j, "expectedSuccessRate")));
    cli_printf(
        ", evidence %.2f from %lld similar runs\n",
        json_number_value(json_object_get(j, "confidence")),
        (long long)json_integer_value(json_object_get(json_object_get(j, "evidence"), "runs")));
    json_array_foreach(json_object_get(j, "reasoning"), i, v)
        cli_printf("  - %s\n", json_string_value(v));
    json_array_foreach(json_object_get(j, "recommendedOperations"), i, v)
    {
        const char *op = json_string_value(json_object_get(v, "op"));
        char *val = json_dumps(json_object_get(v, "value"), JSON_ENCODE_ANY);
        if (strcmp(op, "set_param") == 0)
            cli_printf("recommend: set %s = %s\n", json_string_value(json_object_get(v, "name")),
                       val ? val : "?");
        else if (strcmp(op, "raise_timeout") == 0)
            cli_printf("recommend: --timeout %lld\n",
                       (long long)(json_integer_value(json_object_get(v, "timeoutMs")) + 999) /
                           1000);
        else if (json_is_string(json_object_get(v, "prefer")))
            cli_printf("recommend: avoid provider %s, use --provider %s\n",
                       json_string_value(json_object_get(v, "provider")),
                       json_string_value(json_object_get(v, "prefer")));
        else
            cli_printf("recommend: avoid provider %s\n",
                       json_string_value(json_object_get(v, "provider")));
        free(val);
    }
}

static double jnum_or_nan(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

void cli_print_skill(json_t *st, const char *indent)
{
    json_t *r = json_object_get(st, "reward"), *s = json_object_get(st, "success");
    if (json_integer_value(json_object_get(r, "predictions")) > 0)
        cli_printf(
            "%sreward predictions: MAE %.3f vs %.3f for the running mean (skill %+.2f), rank "
            "correlation %.2f, calibration slope %.2f, 90%% interval held %.0f%% of %lld\n",
            indent, jnum_or_nan(r, "mae"), jnum_or_nan(r, "baselineMae"), jnum_or_nan(r, "skill"),
            jnum_or_nan(r, "rankCorrelation"), jnum_or_nan(r, "calibrationSlope"),
            100 * jnum_or_nan(r, "intervalCoverage"),
            (long long)json_integer_value(json_object_get(r, "intervals")));
    else
        cli_printf("%sreward predictions: none recorded yet\n", indent);
    if (json_is_number(json_object_get(s, "accuracy")))
        cli_printf(
            "%ssuccess predictions: %.1f%% right vs %.1f%% for the majority so far, Brier %.3f "
            "vs %.3f, over %lld\n",
            indent, 100 * jnum_or_nan(s, "accuracy"), 100 * jnum_or_nan(s, "majorityAccuracy"),
            jnum_or_nan(s, "brierScore"), jnum_or_nan(s, "baselineBrier"),
            (long long)json_integer_value(json_object_get(s, "predictions")));
    else
        cli_printf("%ssuccess predictions: not scored (no run failed, so any would be right by "
                   "construction)\n",
                   indent);
}

/* The minimum trades: --min-trades, else the config file's min-trades, else
 * -1 (the learner's default). 0, or the exit status of a bad value or a
 * config file that is refused. */
static int min_trades(const struct cli_cmd *me, struct cli_args *a, long *n)
{
    struct cli_config cf;
    struct sd_err err = {0};
    const char *v = cli_val(me, a, "min-trades");
    *n = -1;
    if (v != NULL)
        return cli_parse_long("min-trades", v, 0, 1000000, n) ? 2 : 0;
    if (cli_config_load(NULL, &cf, &err) != 0)
        return cli_fail_err(&err);
    if (cli_config_get(&cf, CFG_MIN_TRADES) != NULL)
        *n = cf.num[CFG_MIN_TRADES];
    cli_config_free(&cf);
    return 0;
}

static int exec_suggest(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_suggest;
    const struct cli_cmd *me = &cmd_suggest;
    const char *name = cli_val(me, a, "strategy"), *ptext = cli_val(me, a, "params");
    const char *symbol = cli_val(me, a, "symbol");
    const struct strategy_def *def;
    struct catalog *cat = NULL;
    struct learn *l = NULL;
    struct sd_err err = {0};
    json_error_t jerr;
    json_t *params = NULL, *j = NULL;
    long mintr;
    int status;

    if (name == NULL)
        return cli_fail(SD_EUSAGE, "missing -s STRATEGY (see `swarmdeck strategies`)");
    if ((status = min_trades(me, a, &mintr)) != 0)
        return status;
    if (ptext != NULL && (params = json_loads(ptext, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        return cli_fail(SD_EUSAGE, "-p is not valid JSON: %s (column %d)", jerr.text, jerr.column);
    if (params != NULL && !json_is_object(params)) {
        json_decref(params);
        return cli_fail(SD_EUSAGE, "-p must be a JSON object, e.g. '{\"threshold\":0.03}'");
    }
    if (symbol == NULL)
        symbol = json_string_value(json_object_get(params, "symbol"));
    if (symbol != NULL && !catalog_symbol_ok(symbol)) {
        json_decref(params);
        return cli_fail(SD_EUSAGE, "bad symbol \"%s\"", symbol);
    }
    {
        /* A daemon serving the store keeps its learning index warm: ask it,
         * unless another minimum of trades is asked for (the daemon's
         * learner has the default): then the store answers here. */
        struct client *cl = NULL;
        int k = mintr >= 0 ? 0 : cli_daemon(ctx, 0, NULL, &cl, &status);
        if (k < 0)
            goto out;
        if (k == 1) {
            json_t *req = json_pack("{s:s}", "strategy", name);
            if (params != NULL)
                json_object_set(req, "params", params);
            if (symbol != NULL)
                json_object_set_new(req, "symbol", json_string(symbol));
            if (client_do(cl, "POST", "/suggest", req, &j, &err) != 0)
                status = cli_fail_err(&err);
            json_decref(req);
            client_close(cl);
            if (status != 0)
                goto out;
            goto print;
        }
    }
    if ((status = cli_open_store_reading(ctx)) != 0)
        goto out;
    if (catalog_load(&cat, cli_runner_path(), ctx->store, &err) != 0 ||
        (def = catalog_find(cat, name, &err)) == NULL ||
        (l = learn_open(ctx->store, cat, &err)) == NULL ||
        (learn_set_min_trades(l, (int)mintr), 0) ||
        (j = learn_suggest(l, def, params, symbol ? symbol : "SPY", &err)) == NULL) {
        status = cli_fail_err(&err);
        goto out;
    }
print:
    if (cli_flag(me, a, "json")) {
        json_t *o = cli_fleet_origins(ctx, name);
        if (o != NULL) /* the fleet's share of the evidence (docs/fleet.md) */
            json_object_set_new(j, "origins", o);
        cli_print_json(json_incref(j));
    } else
        cli_print_suggestion(j);
out:
    json_decref(j);
    json_decref(params);
    learn_free(l);
    catalog_free(cat);
    return status;
}

const struct cli_cmd cmd_suggest = {
    .name = "suggest",
    .usage = "-s STRATEGY [-p JSON] [--symbol SYM] [--min-trades N] [--json]",
    .summary = "show what past deployments predict for a deployment, and what to change",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_suggest,
};
