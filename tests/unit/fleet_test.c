/*
 * fleet_test.c: the fleet's store side and its one merge (engine/fleet/merge.h,
 * engine/store/fleet_store.h), without NATS: tests/e2e/fleet_e2e.py runs the
 * daemons with a real nats-server and sshd.
 *
 * `test-fleet NAME` runs one case (fleet.cmake registers each):
 *   merge     records of one store merged into an encrypted one: added once,
 *             skipped the second time, marked with their origin, sealed at
 *             rest, the chain of the receiver intact
 *   refused   a changed record, a bad origin, an unfinished record, a reward
 *             out of range, a non-object: each refused, counted, nothing stored
 *   outbox    filled once from the chain, only local trajectories, emptied
 *   cursor    a sync cursor kept; a page leaves out what the peer sent
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "check.h"
#include "fleet_store.h"
#include "merge.h"
#include "store.h"
#include "store_schema.h"
#include "traj.h"

#define TMPSTORE_PREFIX "swarmdeck-fleet"
#include "tmpstore.h"

static const char KEY[] = "fleet test passphrase";

static struct store *open_at(const char *p, const char *key)
{
    struct store *s = NULL;
    struct sd_err err = {0};
    if (store_open_key(p, STORE_CREATE, key, &s, &err) != 0) {
        fprintf(stderr, "store_open_key %s: %s\n", p, err.msg);
        exit(1);
    }
    return s;
}

/* One finished trajectory with operations and output. */
static void add_traj(struct store *s, const char *uuid)
{
    struct sd_err err = {0};
    struct traj_new t = {.uuid = uuid,
                         .strategy = "momentum",
                         .symbol = "SPY",
                         .params = "{\"lookback\":17,\"tag\":\"fleet-SENTINEL\"}",
                         .provider = "local"};
    int64_t id = traj_insert(s, &t, &err);
    struct traj_final f = {.state = TS_SUCCEEDED,
                           .exit_code = 0,
                           .ended_at = 2000,
                           .duration_ms = 1000,
                           .result = "{\"sharpe\":1.25}",
                           .reward = 0.75,
                           .op_sequence = "create,start"};
    CHECK(id > 0);
    traj_running(s, id, "sbx", 1000);
    traj_op(s, id, 1, "create", 1000, 1.5, 1, NULL);
    CHECK(store_output_append(s, id, 1, "out-SENTINEL\n", 13) == 0);
    traj_finish(s, id, &f);
    store_output_end(s, id);
    CHECK(store_flush(s, &err) == 0);
}

/* Every finished trajectory of s as envelopes from origin name. */
static json_t *envelopes(struct store *s, const char *name)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    int64_t last;
    json_t *a = db ? store_fleet_after(db, 0, 100, name, NULL, &last, &err) : NULL;
    if (a == NULL)
        fprintf(stderr, "envelopes: %s\n", err.msg);
    sqlite3_close_v2(db);
    return a;
}

static int64_t count(struct store *s, const char *sql)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (db != NULL && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return n;
}

/* Occurrences of needle in the file at p and its -wal. */
static int file_has(const char *p, const char *needle)
{
    char w[256];
    int hits = 0;
    for (int k = 0; k < 2; k++) {
        FILE *f;
        char buf[1 << 16];
        size_t n, nl = strlen(needle);
        snprintf(w, sizeof w, "%s%s", p, k ? "-wal" : "");
        if ((f = fopen(w, "rb")) == NULL)
            continue;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            for (size_t i = 0; i + nl <= n; i++)
                hits += memcmp(buf + i, needle, nl) == 0;
        fclose(f);
    }
    return hits;
}

static void t_merge(void)
{
    struct store *a = store_new(), *b;
    char bpath[200];
    struct fleet_merge_report r;
    struct sd_err err = {0};
    json_t *envs;
    int status[2];
    struct chain_report cr;
    sqlite3 *db;

    add_traj(a, "11111111-1111-4111-8111-111111111111");
    add_traj(a, "22222222-2222-4222-8222-222222222222");
    envs = envelopes(a, "alpha");
    CHECK(json_array_size(envs) == 2);
    snprintf(bpath, sizeof bpath, "%s/b.db", dir);
    b = open_at(bpath, KEY);
    CHECK(fleet_merge(b, envs, &r, status, NULL, NULL, NULL, NULL, &err) == 0);
    CHECK(r.added == 2 && r.skipped == 0 && r.refused == 0);
    CHECK(status[0] == 1 && status[1] == 1);
    /* Union: the same again adds nothing. */
    CHECK(fleet_merge(b, envs, &r, status, NULL, NULL, NULL, NULL, &err) == 0);
    CHECK(r.added == 0 && r.skipped == 2 && r.refused == 0);
    CHECK(count(b, "SELECT count(*) FROM trajectories WHERE origin = 'alpha'") == 2);
    CHECK(count(b, "SELECT count(*) FROM trajectories") == 2);
    /* They joined b's chain, which still holds. */
    db = store_reader(b, &err);
    CHECK(db != NULL && chain_verify(db, &cr, &err) == 0 && cr.ok && cr.sealed == 2);
    sqlite3_close_v2(db);
    /* b is encrypted: what arrived is sealed at rest (the plaintext store a
     * has it in the clear, the control that the needle is findable). */
    store_close(b);
    CHECK(file_has(path, "fleet-SENTINEL") > 0);
    CHECK(file_has(bpath, "fleet-SENTINEL") == 0);
    CHECK(file_has(bpath, "out-SENTINEL") == 0);
    json_decref(envs);
    store_gone(a);
}

static void refused_count(size_t i, const char *why, void *arg)
{
    (void)i;
    CHECK(why != NULL && why[0] != '\0');
    (*(int *)arg)++;
}

static void t_refused(void)
{
    struct store *a = store_new(), *c;
    char cpath[200];
    struct fleet_merge_report r;
    struct sd_err err = {0};
    json_t *envs, *good, *bad = json_array();
    int status[6], calls = 0;

    add_traj(a, "33333333-3333-4333-8333-333333333333");
    envs = envelopes(a, "alpha");
    good = json_array_get(envs, 0);
    /* changed on the way: the reward no longer matches the fingerprint */
    json_array_append_new(bad, json_deep_copy(good));
    json_object_set_new(json_object_get(json_array_get(bad, 0), "record"), "reward",
                        json_real(0.5));
    /* an origin that is no host name */
    json_array_append_new(bad, json_deep_copy(good));
    json_object_set_new(json_array_get(bad, 1), "origin", json_string("../etc"));
    /* not finished */
    json_array_append_new(bad, json_deep_copy(good));
    json_object_set_new(json_object_get(json_array_get(bad, 2), "record"), "status",
                        json_string("running"));
    /* a reward far out of range (the learner's sums) */
    json_array_append_new(bad, json_deep_copy(good));
    json_object_set_new(json_object_get(json_array_get(bad, 3), "record"), "reward",
                        json_real(1e308));
    /* not an envelope at all */
    json_array_append_new(bad, json_string("hello"));
    snprintf(cpath, sizeof cpath, "%s/c.db", dir);
    c = open_at(cpath, NULL);
    CHECK(fleet_merge(c, bad, &r, status, refused_count, &calls, NULL, NULL, &err) == 0);
    CHECK(r.added == 0 && r.skipped == 0 && r.refused == 5 && calls == 5);
    CHECK(strstr(r.why, "fingerprint") != NULL);
    for (int i = 0; i < 5; i++)
        CHECK(status[i] == -1);
    CHECK(count(c, "SELECT count(*) FROM trajectories") == 0);
    /* The intact one beside the bad ones is taken. */
    json_array_append(bad, good);
    CHECK(fleet_merge(c, bad, &r, status, NULL, NULL, NULL, NULL, &err) == 0);
    CHECK(r.added == 1 && r.refused == 5 && status[5] == 1);
    CHECK(count(c, "SELECT count(*) FROM trajectories") == 1);
    store_close(c);
    json_decref(bad);
    json_decref(envs);
    store_gone(a);
}

static void t_outbox(void)
{
    struct store *a = store_new(), *b;
    char bpath[200];
    struct fleet_merge_report r;
    struct sd_err err = {0};
    int64_t q, ids[8];
    size_t n;
    json_t *envs;
    sqlite3 *db;

    add_traj(a, "44444444-4444-4444-8444-444444444444");
    add_traj(a, "55555555-5555-4555-8555-555555555555");
    CHECK(store_fleet_outbox_fill(a, &q, &err) == 0 && q == 2);
    CHECK(store_fleet_outbox_fill(a, &q, &err) == 0 && q == 0); /* once, never twice */
    db = store_reader(a, &err);
    CHECK(store_fleet_outbox_next(db, ids, 8, &n, &err) == 0 && n == 2);
    CHECK(store_fleet_outbox_done(a, ids, 1, 0, &err) == 0);
    CHECK(store_fleet_outbox_done(a, ids + 1, 1, 1, &err) == 0); /* too big: kept, not tried */
    CHECK(store_fleet_outbox_next(db, ids, 8, &n, &err) == 0 && n == 0);
    CHECK(store_fleet_outbox_size(db) == 1);
    sqlite3_close_v2(db);
    /* What a store received is not its own to publish. */
    envs = envelopes(a, "alpha");
    snprintf(bpath, sizeof bpath, "%s/b.db", dir);
    b = open_at(bpath, NULL);
    CHECK(fleet_merge(b, envs, &r, NULL, NULL, NULL, NULL, NULL, &err) == 0 && r.added == 2);
    CHECK(store_fleet_outbox_fill(b, &q, &err) == 0 && q == 0);
    add_traj(b, "66666666-6666-4666-8666-666666666666");
    CHECK(store_fleet_outbox_fill(b, &q, &err) == 0 && q == 1);
    store_close(b);
    json_decref(envs);
    store_gone(a);
}

static void t_cursor(void)
{
    struct store *a = store_new();
    struct sd_err err = {0};
    int64_t pulled, pushed, last;
    json_t *page;
    sqlite3 *db;
    char name[FLEET_NAME_MAX];

    add_traj(a, "77777777-7777-4777-8777-777777777777");
    CHECK(store_fleet_cursor_set(a, "ssh://h/p", 5, 7, &err) == 0);
    db = store_reader(a, &err);
    CHECK(store_fleet_cursor_get(db, "ssh://h/p", &pulled, &pushed, &err) == 0);
    CHECK(pulled == 5 && pushed == 7);
    CHECK(store_fleet_cursor_get(db, "ssh://other", &pulled, &pushed, &err) == 0);
    CHECK(pulled == 0 && pushed == 0);
    /* The default name: hostname-storeid8, a valid fleet name. */
    CHECK(store_fleet_name(db, store_id(a), name, sizeof name) == 0 && fleet_name_ok(name));
    CHECK(strstr(name, "-") != NULL);
    page = store_fleet_after(db, 0, 10, "me", NULL, &last, &err);
    CHECK(json_array_size(page) == 1 && last == 1);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(page, 0), "origin")), "me") == 0);
    json_decref(page);
    page = store_fleet_after(db, 1, 10, "me", NULL, &last, &err);
    CHECK(json_array_size(page) == 0 && last == 1);
    json_decref(page);
    sqlite3_close_v2(db);
    CHECK(store_fleet_name_set(a, "bad name", &err) == -1 && err.code == SD_EUSAGE);
    CHECK(fleet_name_ok("gamma.crypt") && !fleet_name_ok("-x") && !fleet_name_ok("a/b"));
    store_gone(a);
}

/* A store made before the fleet (schema version 3) is upgraded when opened:
 * migrations 4 and 5 run once, the version says 5, and a second process opening
 * it meanwhile does not run it again. */
static void t_upgrade(void)
{
    struct store *a = store_new(), *b, *c;
    char old[200];
    sqlite3 *db;
    struct sd_err err = {0};

    store_close(a);
    snprintf(old, sizeof old, "%s/v3.db", dir);
    CHECK(sqlite3_open(old, &db) == SQLITE_OK);
    for (int v = 0; v < 3; v++)
        CHECK(sqlite3_exec(db, store_migrations[v], NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "INSERT OR REPLACE INTO meta VALUES('schema_version', '3'),"
                       " ('store_id', '0123456789abcdef0123456789abcdef'),"
                       " ('created_at', '1')",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    b = open_at(old, NULL);
    c = open_at(old, NULL); /* a second opener finds it done */
    add_traj(b, "88888888-8888-4888-8888-888888888888");
    CHECK(count(b, "SELECT count(*) FROM trajectories WHERE origin IS NULL") == 1);
    CHECK(count(b, "SELECT value FROM meta WHERE key = 'schema_version'") == STORE_SCHEMA_VERSION);
    CHECK(store_fleet_outbox_fill(c, NULL, &err) == 0);
    store_close(c);
    store_close(b);
    sd_rm_rf(dir);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {{"merge", t_merge},
                                              {"refused", t_refused},
                                              {"outbox", t_outbox},
                                              {"cursor", t_cursor},
                                              {"upgrade", t_upgrade}};
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
