/*
 * cmd-verify.c: check the whole trajectory fingerprint chain (chain.h) and
 * name the first record that does not match.
 *
 * Exit 0 when the chain holds, 1 when it does not, 3 when the store cannot
 * be read. The outcome is recorded in the store (unless --readonly) so the
 * console and `status` can show the chain state without walking it.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "chain.h"
#include "cli.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print the report as JSON"},
    {NULL, 0, NULL, NULL},
};

static int exec_verify(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_verify;
    struct chain_report r;
    struct sd_err err = {0};
    char state[CHAIN_HEX_LEN + 32];
    sqlite3 *db;
    int status;

    if ((status = cli_open_store(ctx, 0)) != 0)
        return status;
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    status = chain_verify(db, &r, &err);
    sqlite3_close_v2(db);
    if (status != 0)
        return cli_fail_err(&err);
    if (r.ok)
        snprintf(state, sizeof state, "%lld:%s", (long long)r.sealed, r.head);
    else if (r.bad_id > 0)
        snprintf(state, sizeof state, "broken:%lld", (long long)r.bad_id);
    else
        snprintf(state, sizeof state, "broken:head");
    if (store_chain_verified(ctx->store, state, &err) != 0)
        fprintf(stderr, "swarmdeck: could not record the result: %s\n", err.msg);
    if (cli_flag(&cmd_verify, a, "json")) {
        cli_print_json(json_pack("{s:b, s:I, s:I, s:s, s:o, s:o, s:o}", "ok", r.ok, "records",
                                 (json_int_t)r.sealed, "unsealed", (json_int_t)r.unsealed, "head",
                                 r.head, "firstBad",
                                 r.bad_id > 0 ? json_integer(r.bad_id) : json_null(), "uuid",
                                 r.bad_uuid[0] ? json_string(r.bad_uuid) : json_null(), "reason",
                                 r.ok ? json_null() : json_string(r.why)));
    } else if (r.ok) {
        printf("chain ok: %lld record(s)%s%.16s%s\n", (long long)r.sealed,
               r.sealed ? ", head " : "", r.head, r.sealed ? "..." : "");
    } else if (r.bad_id > 0) {
        printf("chain BROKEN at #%lld (%s): %s\n", (long long)r.bad_id, r.bad_uuid, r.why);
        printf("%lld record(s) before it verified\n", (long long)r.sealed);
    } else {
        printf("chain BROKEN: %s\n", r.why);
    }
    return r.ok ? 0 : 1;
}

const struct cli_cmd cmd_verify = {
    .name = "verify",
    .usage = "[--json]",
    .summary = "check every trajectory's fingerprint chain and name the first that does not "
               "match",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_verify,
};
