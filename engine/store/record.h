/*
 * record.h: one trajectory as JSON, the one description of what a
 * trajectory "is": export bundles write it, `show` prints it and the
 * fingerprint chain (chain.h) hashes its canonical form, so the three agree
 * by construction.
 *
 * The fields are those of `swarmdeck export` (export.h): id, uuid, runId,
 * strategyName, symbol, params, provider, sandboxId, status, exitCode, error,
 * createdAt, startedAt, endedAt, duration, result, reward, prediction,
 * description, operationSequence, isolation, autoOptimized, outputBytes,
 * outputDropped, fingerprint, prevFingerprint, operations and, when asked,
 * output (base64 chunks with seq and stream).
 *
 * THREADS: uses only the connection it is given.
 */
#ifndef SD_RECORD_H
#define SD_RECORD_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "util.h"

/* Trajectory id as JSON (new reference), read through the tables
 * <prefix>trajectories, <prefix>operations and <prefix>output: "" for a
 * reader (whose TEMP views decrypt), "sd_plain_" for the writer
 * (store_crypt.h). With with_output its output chunks are included.
 * Returns NULL with err set (err may be NULL): SD_EUSAGE when there is no
 * such id, SD_EENV when a read failed, for example a value that fails
 * authentication. */
json_t *record_trajectory(sqlite3 *db, const char *prefix, int64_t id, int with_output,
                          struct sd_err *err);

/* The same with its statements from the writer's cache when s is not NULL
 * (the writer thread, db its connection: store_stmt_get). */
struct store;
json_t *record_trajectory_on(struct store *s, sqlite3 *db, const char *prefix, int64_t id,
                             int with_output, struct sd_err *err);

#endif
