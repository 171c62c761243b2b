/*
 * store_zstd.c: compressed output chunks (store_zstd.h has the contract).
 */
#include "store_zstd.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

struct store_zc {
    ZSTD_CCtx *cc;
    unsigned char *buf;
    size_t cap;
};

struct store_zc *store_zc_new(void)
{
    struct store_zc *zc = calloc(1, sizeof *zc);

    if (zc != NULL && (zc->cc = ZSTD_createCCtx()) == NULL) {
        free(zc);
        return NULL;
    }
    if (zc != NULL)
        ZSTD_CCtx_setParameter(zc->cc, ZSTD_c_compressionLevel, STORE_Z_LEVEL);
    return zc;
}

void store_zc_free(struct store_zc *zc)
{
    if (zc == NULL)
        return;
    ZSTD_freeCCtx(zc->cc);
    free(zc->buf);
    free(zc);
}

const void *store_zc_pack(struct store_zc *zc, const void *data, size_t len, size_t *out_len,
                          int *codec)
{
    size_t bound = ZSTD_compressBound(len), n;

    *out_len = len;
    *codec = STORE_Z_RAW;
    if (zc == NULL || len < STORE_Z_MIN)
        return data;
    if (bound > zc->cap) {
        unsigned char *b = realloc(zc->buf, bound);
        if (b == NULL)
            return data;
        zc->buf = b;
        zc->cap = bound;
    }
    n = ZSTD_compress2(zc->cc, zc->buf, zc->cap, data, len);
    if (ZSTD_isError(n) || n >= len)
        return data;
    *out_len = n;
    *codec = STORE_Z_ZSTD;
    return zc->buf;
}

/* sd_unz(data, z): data decompressed when z is STORE_Z_ZSTD, else data
 * unchanged. A frame that does not decompress (or claims more than a chunk
 * can hold) is an SQL error, as a box that fails to open is. */
static void fn_unz(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    ZSTD_DCtx *dc = sqlite3_user_data(ctx);
    const void *src;
    size_t len, n;
    unsigned long long size;
    void *out;

    (void)argc;
    if (sqlite3_value_int(argv[1]) != STORE_Z_ZSTD || sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    src = sqlite3_value_blob(argv[0]);
    len = (size_t)sqlite3_value_bytes(argv[0]);
    size = ZSTD_getFrameContentSize(src, len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > 0x7fffffff) {
        sqlite3_result_error(ctx, "store: a compressed output chunk is damaged", -1);
        return;
    }
    if ((out = malloc(size ? (size_t)size : 1)) == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    n = ZSTD_decompressDCtx(dc, out, (size_t)size, src, len);
    if (ZSTD_isError(n) || n != size) {
        free(out);
        sqlite3_result_error(ctx, "store: a compressed output chunk is damaged", -1);
        return;
    }
    sqlite3_result_blob(ctx, out, (int)n, free);
}

static void dctx_free(void *p)
{
    ZSTD_freeDCtx(p);
}

int store_z_register(sqlite3 *db)
{
    ZSTD_DCtx *dc = ZSTD_createDCtx();

    if (dc == NULL)
        return -1;
    /* The destructor runs on failure too (sqlite3_create_function_v2). */
    return sqlite3_create_function_v2(db, "sd_unz", 2,
                                      SQLITE_UTF8 | SQLITE_DIRECTONLY | SQLITE_DETERMINISTIC, dc,
                                      fn_unz, NULL, NULL, dctx_free) == SQLITE_OK
               ? 0
               : -1;
}
