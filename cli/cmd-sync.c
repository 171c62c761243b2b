/*
 * cmd-sync.c: `swarmdeck sync PEER`, a one-shot pull and push of finished
 * trajectories with another host's daemon over SSH (docs/fleet.md).
 *
 * PEER is ssh://[user@]host[:port][/path/to/store]: the same transport as
 * --host (`ssh … swarmdeck dial-stdio --start` on the peer, which starts its
 * daemon on demand). Pull: the peer's finished trajectories past our
 * cursor (GET /v1/fleet/records), merged here by fleet_merge, the one
 * verify-and-insert of the fleet. Push: ours past the other cursor (POST
 * /v1/fleet/records), merged there the same way. Each page moves its
 * cursor (fleet_cursor, in the store), so an interrupted sync resumes and
 * a second one moves only what is new. Records that came from the peer are
 * not pushed back, nor ours pulled back (the `skip` of each side's name).
 * The peer is reached before the local store is opened: when it cannot be,
 * nothing here changes.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "fleet_store.h"
#include "merge.h"
#include "query_origins.h"

#define PAGE       200
#define PUSH_BYTES (8 << 20) /* the body of one push, well under the daemon's limit */

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print the counts as JSON"},
    {NULL, 0, NULL, NULL},
};

struct tally {
    int added, skipped, refused;
    char why[256];
};

static void tally_add(struct tally *t, int added, int skipped, int refused, const char *why)
{
    t->added += added;
    t->skipped += skipped;
    t->refused += refused;
    if (t->why[0] == '\0' && why != NULL && why[0] != '\0')
        snprintf(t->why, sizeof t->why, "%.250s", why);
}

/* Pull the peer's records past *pulled into the store. Returns 0 or -1
 * with err; *pulled and the stored cursor move with every page merged. */
static int pull(struct cli_ctx *ctx, struct client *cl, const char *peer, const char *self,
                int64_t *pulled, int64_t pushed, char *remote, size_t rn, struct tally *t,
                struct sd_err *err)
{
    for (;;) {
        char path[256];
        json_t *o = NULL, *recs;
        struct fleet_merge_report r;
        int64_t last;

        snprintf(path, sizeof path, "/fleet/records?after=%" PRId64 "&max=%d&skip=%s", *pulled,
                 PAGE, self);
        if (client_do(cl, "GET", path, NULL, &o, err) != 0)
            return -1;
        recs = json_object_get(o, "records");
        last = json_integer_value(json_object_get(o, "last"));
        if (!fleet_name_ok(json_string_value(json_object_get(o, "name"))) || !json_is_array(recs) ||
            last < *pulled) {
            json_decref(o);
            return sd_err_set(err, SD_EENV, "the peer's answer is not a page of records");
        }
        snprintf(remote, rn, "%s", json_string_value(json_object_get(o, "name")));
        if (fleet_merge(ctx->store, recs, &r, NULL, NULL, NULL, NULL, NULL, err) != 0) {
            json_decref(o);
            return -1;
        }
        tally_add(t, r.added, r.skipped, r.refused, r.why);
        json_decref(o);
        if (last == *pulled)
            return 0;
        *pulled = last;
        if (store_fleet_cursor_set(ctx->store, peer, *pulled, pushed, err) != 0)
            return -1;
    }
}

/* Push ours past *pushed to the peer (not what came from it). */
static int push(struct cli_ctx *ctx, struct client *cl, const char *peer, const char *self,
                const char *remote, int64_t pulled, int64_t *pushed, struct tally *t,
                struct sd_err *err)
{
    for (;;) {
        sqlite3 *db = store_reader(ctx->store, err);
        json_t *recs, *body, *o = NULL, *page;
        int64_t last;
        size_t bytes = 0, n;

        if (db == NULL)
            return -1;
        recs = store_fleet_after(db, *pushed, PAGE, self, remote, &last, err);
        sqlite3_close_v2(db);
        if (recs == NULL)
            return -1;
        if (last == *pushed) {
            json_decref(recs);
            return 0;
        }
        /* Pages under PUSH_BYTES: the records of one reply go in as many
         * bodies as their output needs. */
        n = json_array_size(recs);
        page = json_array();
        for (size_t i = 0; i <= n; i++) {
            json_t *env = i < n ? json_array_get(recs, i) : NULL;
            size_t sz = 0;
            if (env != NULL) {
                char *txt = json_dumps(env, JSON_COMPACT);
                sz = txt ? strlen(txt) : 0;
                free(txt);
            }
            if (json_array_size(page) > 0 && (env == NULL || bytes + sz > PUSH_BYTES)) {
                body = json_pack("{s:O}", "records", page);
                if (client_do(cl, "POST", "/fleet/records", body, &o, err) != 0) {
                    json_decref(body);
                    json_decref(page);
                    json_decref(recs);
                    return -1;
                }
                tally_add(t, (int)json_integer_value(json_object_get(o, "added")),
                          (int)json_integer_value(json_object_get(o, "skipped")),
                          (int)json_integer_value(json_object_get(o, "refused")),
                          json_string_value(json_object_get(o, "why")));
                json_decref(o);
                json_decref(body);
                json_array_clear(page);
                bytes = 0;
            }
            if (env != NULL) {
                json_array_append(page, env);
                bytes += sz;
            }
        }
        json_decref(page);
        json_decref(recs);
        *pushed = last;
        if (store_fleet_cursor_set(ctx->store, peer, pulled, *pushed, err) != 0)
            return -1;
    }
}

json_t *cli_fleet_origins(struct cli_ctx *ctx, const char *strategy)
{
    struct sd_err err = {0};
    if (ctx->host != NULL || cli_open_store(ctx, 1) != 0)
        return NULL;
    return store_strategy_origins(ctx->store, strategy, &err);
}

static int exec_sync(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_sync;
    const char *peer = a->argv[0], *saved = ctx->host;
    struct client *cl = NULL;
    struct tally in = {0}, out = {0};
    struct sd_err err = {0};
    char self[FLEET_NAME_MAX], remote[FLEET_NAME_MAX] = "";
    int64_t pulled = 0, pushed = 0;
    int status = 0, rc;
    sqlite3 *db;

    if (strncmp(peer, "ssh://", 6) != 0)
        return cli_fail(SD_EUSAGE, "sync %s: expected ssh://[user@]host[:port][/path/to/store]",
                        peer);
    /* The peer first: unreachable, and nothing here is touched. */
    ctx->host = peer;
    rc = cli_daemon(ctx, 1, NULL, &cl, &status);
    ctx->host = saved;
    if (rc <= 0) {
        fprintf(stderr, "swarmdeck: sync: cannot reach %s: nothing changed\n", peer);
        return status ? status : sd_err_exit_status(SD_EENV);
    }
    if ((status = cli_open_store(ctx, 0)) != 0)
        goto done;
    if ((db = store_reader(ctx->store, &err)) == NULL) {
        status = cli_fail_err(&err);
        goto done;
    }
    store_fleet_name(db, store_id(ctx->store), self, sizeof self);
    rc = store_fleet_cursor_get(db, peer, &pulled, &pushed, &err);
    sqlite3_close_v2(db);
    if (rc != 0 ||
        pull(ctx, cl, peer, self, &pulled, pushed, remote, sizeof remote, &in, &err) != 0 ||
        push(ctx, cl, peer, self, remote, pulled, &pushed, &out, &err) != 0) {
        status = cli_fail(err.code, "sync %s: %s (what moved before is kept; sync again to resume)",
                          peer, err.msg);
        goto done;
    }
    if (cli_flag(&cmd_sync, a, "json")) {
        cli_print_json(json_pack("{s:s, s:s, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}, s:s}", "peer",
                                 peer, "name", remote, "pulled", "added", in.added, "skipped",
                                 in.skipped, "refused", in.refused, "pushed", "added", out.added,
                                 "skipped", out.skipped, "refused", out.refused, "why",
                                 in.why[0] ? in.why : out.why));
    } else {
        cli_printf("sync %s (%s): pulled %d new (%d already here), pushed %d new (%d already "
                   "there)\n",
                   peer, remote, in.added, in.skipped, out.added, out.skipped);
        if (in.refused > 0)
            cli_eprintf("swarmdeck: sync: refused %d record(s) from the peer: %s\n", in.refused,
                        in.why);
        if (out.refused > 0)
            cli_eprintf("swarmdeck: sync: the peer refused %d record(s): %s\n", out.refused,
                        out.why);
    }
    status = in.refused + out.refused > 0 ? 1 : 0;
done:
    client_close(cl);
    return status;
}

const struct cli_cmd cmd_sync = {
    .name = "sync",
    .usage = "ssh://[user@]host[:port][/path/to/store] [--json]",
    .summary = "pull and push finished trajectories with another host's daemon over ssh",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CLI_WRITES,
    .exec = exec_sync,
};
