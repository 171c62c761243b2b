/*
 * fuzz_import.c: the export importer (engine/store/export.c, bundle_check.c)
 * on hostile bundles, into a real store.
 *
 * The first byte picks what an attacker who edits a bundle can recompute
 * (the digest and the fingerprints are unkeyed): bit 1 re-chains the
 * finished trajectories' fingerprints (chain_fingerprint_json, in bundle
 * order), bit 0 reseals the digest. So mutated bundles get past those checks
 * and reach the field checks, the inserts and the re-verification of what
 * was stored.
 *
 * Invariants, whatever the bundle:
 * - a refused bundle leaves the store exactly as it was (trajectory and
 *   strategy counts) and says why;
 * - an accepted one adds exactly r.added trajectories, all finished, each
 *   with a reward in [0, 1] or none, each sealed into this store's chain;
 * - no import ever adds a runnable strategy, nor any named like a built-in.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "export.h"
#include "traj.h"

static const char *const builtins[] = {"momentum", "mean-reversion", "neural-forecast", NULL};

static long long q(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Recompute the fingerprints of b's finished trajectories, as an attacker
 * who edited them would. */
static void rechain(json_t *b)
{
    json_t *trajs = json_object_get(b, "trajectories"), *t;
    char prev[CHAIN_HEX_LEN] = "", fp[CHAIN_HEX_LEN];
    struct sd_err e = {0};
    size_t i;

    json_array_foreach(trajs, i, t)
    {
        const char *st = json_string_value(json_object_get(t, "status"));
        if (!json_is_object(t) || st == NULL || !traj_state_terminal(traj_state_from_name(st)))
            continue;
        if (chain_fingerprint_json(t, prev, fp, &e) != 0)
            return;
        json_object_set_new(t, "prevFingerprint", prev[0] ? json_string(prev) : json_null());
        json_object_set_new(t, "fingerprint", json_string(fp));
        memcpy(prev, fp, sizeof prev);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct store *s;
    static sqlite3 *rd;
    struct import_report r;
    struct sd_err err = {0};
    json_error_t je;
    json_t *b;
    long long before, runnable;
    int rc;

    if (s == NULL) {
        char dir[] = "/tmp/sd-fuzz-import-XXXXXX", path[64];
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(path, sizeof path, "%s/s.db", dir);
        if (store_open(path, STORE_CREATE, &s, &err) != 0 || (rd = store_reader(s, &err)) == NULL)
            abort();
    }
    if (size < 1)
        return 0;
    if ((b = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je)) == NULL)
        return 0;
    if ((data[0] & 2) && json_is_object(b))
        rechain(b);
    if ((data[0] & 1) && json_is_object(b))
        export_seal_bundle(b, &err);
    before = q(rd, "SELECT count(*) FROM trajectories");
    runnable = q(rd, "SELECT count(*) FROM strategies WHERE builtin = 0");
    rc = import_bundle_reserved(s, b, builtins, &r, &err);
    if (rc != 0 && (q(rd, "SELECT count(*) FROM trajectories") != before || err.msg[0] == '\0'))
        abort();
    if (rc == 0 && q(rd, "SELECT count(*) FROM trajectories") != before + r.added)
        abort();
    if (q(rd, "SELECT count(*) FROM strategies WHERE builtin = 0") != runnable ||
        q(rd, "SELECT count(*) FROM strategies WHERE name IN ('momentum', 'mean-reversion',"
              " 'neural-forecast')") != 0)
        abort();
    if (q(rd, "SELECT count(*) FROM trajectories WHERE reward < 0 OR reward > 1 OR status IN"
              " ('queued', 'running') OR chain_seq IS NULL") != 0)
        abort();
    json_decref(b);
    return 0;
}
