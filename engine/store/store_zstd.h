/*
 * store_zstd.h: compressed output chunks (private to the store's files).
 *
 * DESIGN
 * Each row of `output` has a codec column z (schema v4): 0 the bytes as
 * written, 1 one zstd frame of them. The writer compresses a chunk before it
 * is sealed (store_output.c), so an encrypted store holds the box of the
 * compressed bytes; it keeps the raw bytes when compression does not make
 * them smaller (short chunks, random data). Readers decompress in SQL:
 * sd_unz(data, z) is registered on every connection next to sd_seal and
 * sd_open (skey_register), so `SELECT sd_unz(data, z) FROM output` returns
 * the bytes as written whatever the codec, and rows of older stores (z 0,
 * or no z column before the migration fills the default) pass unchanged.
 *
 * THREADS: a struct store_zc belongs to one thread (the writer); sd_unz's
 * context belongs to its connection.
 */
#ifndef SD_STORE_ZSTD_H
#define SD_STORE_ZSTD_H

#include <sqlite3.h>
#include <stddef.h>

/* The codecs of output.z. */
enum { STORE_Z_RAW = 0, STORE_Z_ZSTD = 1 };

/* Chunks shorter than this are stored raw (a frame's header would eat the
 * gain). */
#define STORE_Z_MIN 64

/* zstd level for output: fast, and runner output still shrinks 4-10x. */
#define STORE_Z_LEVEL 1

struct store_zc;

/* A compression context (NULL when out of memory). Free with store_zc_free
 * (accepts NULL). */
struct store_zc *store_zc_new(void);
void store_zc_free(struct store_zc *zc);

/* Compress len bytes of data into zc's buffer. Returns a pointer to the
 * bytes to store (zc's buffer, valid until the next call, or data itself)
 * with *out_len and *codec set: STORE_Z_ZSTD when the frame is smaller,
 * else STORE_Z_RAW and data. Never fails: on any error the raw bytes are
 * kept. */
const void *store_zc_pack(struct store_zc *zc, const void *data, size_t len, size_t *out_len,
                          int *codec);

/* Register sd_unz(data, z) on db. 0, or -1 (out of memory). */
int store_z_register(sqlite3 *db);

#endif
