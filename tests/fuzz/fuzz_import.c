/*
 * fuzz_import.c: the export importer (engine/store/export.c) on hostile bundles,
 * into a real store. The first byte's low bit says whether to seal the
 * bundle's digest first, so mutated bundles get past the digest check and
 * reach the fingerprint checks and the inserts. A refused bundle must leave
 * the store exactly as it was (the trajectory count is compared).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"

static long long count(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM trajectories", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct store *s;
    static sqlite3 *rd;
    struct import_report r;
    struct sd_err err = {0};
    json_error_t je;
    json_t *b;
    long long before;
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
    if ((data[0] & 1) && json_is_object(b))
        export_seal_bundle(b, &err);
    before = count(rd);
    rc = import_bundle(s, b, &r, &err);
    if (rc != 0 && (count(rd) != before || err.msg[0] == '\0'))
        abort();
    if (rc == 0 && count(rd) != before + r.added)
        abort();
    json_decref(b);
    return 0;
}
