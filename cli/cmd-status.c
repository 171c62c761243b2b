/*
 * cmd-status.c: what the store holds and what is running.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "query.h"

static const struct cli_opt opts[] = {
    {"learning", 0, NULL,
     "add the learning stats (success, reward, improvement, prediction accuracy)"},
    {"patterns", 0, NULL, "add the learned patterns, most confident first"},
    {"json", 0, NULL, "print as JSON"},
    {NULL, 0, NULL, NULL},
};

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void print_learning(json_t *st)
{
    json_t *by = json_object_get(st, "byStrategy"), *w = json_object_get(st, "improvementWindow");
    const char *k;
    json_t *v;

    cli_printf(
        "\nlearning: %lld learned trajectories (known schemas), success %.1f%%, avg reward %.3f, "
        "improvement %+.1f%% (first %lld vs recent %lld runs)\n",
        (long long)json_integer_value(json_object_get(st, "totalTrajectories")),
        100 * num(st, "avgSuccessRate"), num(st, "avgReward"), 100 * num(st, "improvementRate"),
        (long long)json_integer_value(json_object_get(w, "first")),
        (long long)json_integer_value(json_object_get(w, "recent")));
    cli_print_skill(st, "          ");
    json_object_foreach(by, k, v)
    {
        cli_printf("  %-16s %5lld runs  success %5.1f%%  reward %.3f\n", k,
                   (long long)json_integer_value(json_object_get(v, "totalTrajectories")),
                   100 * num(v, "avgSuccessRate"), num(v, "avgReward"));
        cli_print_skill(v, "    ");
    }
}

static void print_patterns(json_t *pats)
{
    size_t i;
    json_t *p;

    cli_printf("\npatterns (most confident first):\n");
    json_array_foreach(pats, i, p)
    {
        if (i >= 10) {
            cli_printf("  ... %zu more (swarmdeck patterns)\n", json_array_size(pats) - 10);
            break;
        }
        cli_printf("  %-50s %4lld runs  success %5.1f%%  confidence %.2f\n",
                   json_string_value(json_object_get(p, "name")),
                   (long long)json_integer_value(json_object_get(p, "observationCount")),
                   100 * num(p, "successRate"), num(p, "confidence"));
    }
}

/* Add the E2B instances configured with a key that the recorded health did
 * not know, shown closed, and every E2B instance's configured region (the
 * health an older process recorded may not carry it). */
static int add_configured(const struct e2b_config *ec, int k, void *arg)
{
    json_t *a = arg;

    for (size_t i = 0; k == 1 && i < ec->n; i++) {
        size_t j;
        json_t *v;
        int known = 0;
        json_array_foreach(a, j, v)
        {
            const char *n = json_string_value(json_object_get(v, "name"));
            if (n != NULL && strcmp(n, ec->inst[i].name) == 0) {
                known = 1;
                json_object_set_new(v, "region", json_string(ec->inst[i].region));
            }
        }
        if (!known)
            json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:i}", "name",
                                               ec->inst[i].name, "kind", "e2b", "breaker", "closed",
                                               "detail", ec->inst[i].domain, "region",
                                               ec->inst[i].region, "failures", 0, "createMs", 0.0,
                                               "openUntil", 0));
    }
    return 0;
}

/* Provider instances and their breakers: what the last coordinator on this
 * store recorded (store_provider_health), plus the E2B instances configured
 * with a key that it did not know. New reference. */
static json_t *providers(sqlite3 *db)
{
    json_t *a = store_provider_health(db);

    if (a == NULL)
        a = json_pack("[{s:s, s:s, s:s, s:s, s:i, s:f, s:i}]", "name", "local", "kind", "local",
                      "breaker", "closed", "detail", "", "failures", 0, "createMs", 0.0,
                      "openUntil", 0);
    cli_e2b_use(CLI_E2B_QUIET, add_configured, a);
    return a;
}

static void print_providers(json_t *a)
{
    size_t i;
    json_t *v;

    cli_printf("providers    ");
    json_array_foreach(a, i, v)
    {
        const char *br = json_string_value(json_object_get(v, "breaker"));
        const char *detail = json_string_value(json_object_get(v, "detail"));
        const char *region = json_string_value(json_object_get(v, "region"));
        int64_t until = json_integer_value(json_object_get(v, "openUntil"));
        cli_printf("%s%s", i ? ", " : "", json_string_value(json_object_get(v, "name")));
        if (region != NULL && region[0])
            cli_printf(" (region %s)", region);
        cli_printf(" breaker %s", br ? br : "?");
        if (br != NULL && strcmp(br, "closed") != 0)
            cli_printf(" (%lld failures%s)",
                       (long long)json_integer_value(json_object_get(v, "failures")),
                       until > sd_now_ms() ? ", cooling down" : "");
        if (detail != NULL && detail[0])
            cli_printf(" [%s]", detail);
    }
    cli_printf("\n");
}

/* The daemon serving this store, when one runs: {pid, socket, clients,
 * runsOpen, queued, running, providers} from its /v1/status (new reference),
 * else null. Its providers are live, so they replace the stored ones. */
static json_t *daemon_status(struct cli_ctx *ctx, json_t **provs)
{
    struct client *cl = NULL;
    struct sd_err err = {0};
    json_t *st = NULL, *o;
    int status;

    if (cli_daemon(ctx, 0, NULL, &cl, &status) != 1)
        return json_null();
    if (client_do(cl, "GET", "/status", NULL, &st, &err) != 0) {
        client_close(cl);
        return json_null();
    }
    o = json_pack("{s:O, s:s, s:O, s:O, s:O, s:O}", "pid", json_object_get(st, "pid"), "socket",
                  client_socket(cl), "clients", json_object_get(st, "clients"), "runsOpen",
                  json_object_get(st, "runsOpen"), "queued",
                  json_object_get(json_object_get(st, "counts"), "queued"), "running",
                  json_object_get(json_object_get(st, "counts"), "running"));
    if (o != NULL) /* of the running, those paused (swarmdeck pause) */
        json_object_set_new(o, "paused",
                            json_integer(json_integer_value(
                                json_object_get(json_object_get(st, "counts"), "paused"))));
    if (json_is_array(json_object_get(st, "providers"))) {
        json_decref(*provs);
        *provs = json_incref(json_object_get(st, "providers"));
    }
    json_decref(st);
    client_close(cl);
    return o ? o : json_null();
}

/* status --host: what the remote daemon says (its store stays there). */
static int status_remote(struct cli_ctx *ctx, int json)
{
    struct client *cl = NULL;
    struct sd_err err = {0};
    json_t *st = NULL, *counts;
    const char *k;
    json_t *v;
    int status;

    if (cli_daemon(ctx, 0, NULL, &cl, &status) != 1)
        return status;
    if (client_do(cl, "GET", "/status", NULL, &st, &err) != 0) {
        client_close(cl);
        return cli_fail_err(&err);
    }
    if (json) {
        json_object_set(st, "store", json_object_get(client_version(cl), "store"));
        json_object_set_new(st, "host", json_string(ctx->host));
        cli_print_json(st);
        client_close(cl);
        return 0;
    }
    cli_printf("host         %s\nstore        %s\n", ctx->host,
               json_string_value(json_object_get(client_version(cl), "store")));
    cli_printf("daemon       pid %lld: ",
               (long long)json_integer_value(json_object_get(st, "pid")));
    counts = json_object_get(st, "counts");
    json_object_foreach(counts, k, v) if (json_integer_value(v) > 0)
        cli_printf("%lld %s ", (long long)json_integer_value(v), k);
    cli_printf("(this daemon's deployments), %lld client(s)\n",
               (long long)json_integer_value(json_object_get(st, "clients")));
    print_providers(json_object_get(st, "providers"));
    json_decref(st);
    client_close(cl);
    return 0;
}

static int exec_status(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_status;
    int json = cli_flag(&cmd_status, a, "json"), status;
    int want_l = cli_flag(&cmd_status, a, "learning"),
        want_p = cli_flag(&cmd_status, a, "patterns");
    json_t *lstats = NULL, *pats = NULL, *provs = NULL, *daemon;
    struct sd_err err = {0};
    struct store_counts n;
    sqlite3 *db;
    double succ;
    int64_t decided;
    struct stat sb;
    char chain[64];

    if (ctx->host != NULL)
        return status_remote(ctx, json);

    if (access(ctx->db, F_OK) != 0) {
        /* A missing store: exit 3 as history, show and logs do (a script
         * must not read "nothing here" as "an empty store is fine"). */
        cli_eprintf("swarmdeck: no store yet at %s: deploy something first "
                    "(`swarmdeck deploy -s momentum`)\n",
                    ctx->db);
        return SD_EENV;
    }
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    if (store_traj_counts(db, &n, &err) != 0) {
        sqlite3_close_v2(db);
        return cli_fail_err(&err);
    }
    provs = providers(db);
    sqlite3_close_v2(db);
    daemon = daemon_status(ctx, &provs);
    /* The learner's definition (learn.c): succeeded over succeeded, failed
     * and timed out; what the operator cancelled or a crash interrupted
     * says nothing about the strategy and is left out. */
    decided = n.by_state[TS_SUCCEEDED] + n.by_state[TS_FAILED] + n.by_state[TS_TIMEOUT];
    succ = decided > 0 ? (double)n.by_state[TS_SUCCEEDED] / (double)decided : 0;
    if ((want_l || want_p) &&
        (status = cli_learning(ctx, want_l ? &lstats : NULL, want_p ? &pats : NULL)) != 0)
        return status;
    store_chain_summary(ctx->store, chain, sizeof chain);
    if (json) {
        json_t *by = json_object();
        for (int i = 0; i < TS_COUNT; i++)
            json_object_set_new(by, traj_state_name(i), json_integer(n.by_state[i]));
        json_t *o =
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:f, s:f, s:o, s:o, s:o}", "store",
                      store_path(ctx->store), "storeId", store_id(ctx->store), "storeBytes",
                      (json_int_t)(stat(ctx->db, &sb) == 0 ? sb.st_size : 0), "totalTrajectories",
                      (json_int_t)n.total, "runs", (json_int_t)n.runs, "liveSandboxes",
                      (json_int_t)n.leases, "byStatus", by, "successRate", succ, "avgReward",
                      n.avg_reward, "learning", lstats ? lstats : json_null(), "patterns",
                      pats ? pats : json_null(), "providers", provs);
        json_object_set_new(o, "encrypted", json_boolean(store_encrypted(ctx->store)));
        json_object_set_new(o, "chain", json_string(chain));
        json_object_set_new(o, "daemon", daemon);
        cli_print_json(o);
        return 0;
    }
    cli_printf("store        %s\n", store_path(ctx->store));
    cli_printf("trajectories %lld in %lld run(s)", (long long)n.total, (long long)n.runs);
    if (n.total > 0) {
        cli_printf(":");
        for (int i = 0; i < TS_COUNT; i++)
            if (n.by_state[i] > 0)
                cli_printf(" %lld %s", (long long)n.by_state[i], traj_state_name(i));
    }
    cli_printf("\n");
    if (decided > 0)
        cli_printf("success rate %.1f%% of %lld finished (cancelled and interrupted not "
                   "counted)   avg reward %.3f\n",
                   succ * 100, (long long)decided, n.avg_reward);
    else if (n.total > 0)
        cli_printf("success rate -  (none succeeded, failed or timed out yet)\n");
    cli_printf("sandboxes    %lld live (leased)\n", (long long)n.leases);
    cli_printf("security     %s; fingerprint chain %s\n",
               store_encrypted(ctx->store) ? "encrypted at rest" : "not encrypted", chain);
    if (json_is_object(daemon))
        cli_printf("daemon       pid %lld on %s: %lld running (%lld paused), %lld queued, %lld "
                   "client(s)\n",
                   (long long)json_integer_value(json_object_get(daemon, "pid")),
                   json_string_value(json_object_get(daemon, "socket")),
                   (long long)json_integer_value(json_object_get(daemon, "running")),
                   (long long)json_integer_value(json_object_get(daemon, "paused")),
                   (long long)json_integer_value(json_object_get(daemon, "queued")),
                   (long long)json_integer_value(json_object_get(daemon, "clients")));
    else
        cli_printf("daemon       none (`swarmdeck serve`, or `deploy --detach` starts one)\n");
    json_decref(daemon);
    print_providers(provs);
    json_decref(provs);
    if (lstats != NULL)
        print_learning(lstats);
    if (pats != NULL)
        print_patterns(pats);
    json_decref(lstats);
    json_decref(pats);
    return 0;
}

const struct cli_cmd cmd_status = {
    .name = "status",
    .usage = "[--learning] [--patterns] [--json]",
    .summary = "show what the store holds, what is running and what was learned",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_status,
};
