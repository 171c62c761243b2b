/*
 * learnsnap.h: the learning snapshot worker: computes what the Learning and
 * Patterns panes show on a thread of its own, so the UI never waits for the
 * learner or the store.
 *
 * WHY A THREAD
 * learn_stats and learn_patterns are in-memory but O(trajectories) under the
 * learner's lock (6 ms and 205 ms at 1 M trajectories, docs/benchmarks/
 * learn.md), the evidence rows of each pattern come from SQLite, and a
 * read-only console has to build its own index first (learn_open: 450 ms at
 * 100 k). None of that may run on the UI thread (design.md §2).
 *
 * HOW
 * One worker thread (engine/base/worker.h: one mutex, one condition
 * variable, one wake-up pipe, like redis's bio.c). learnsnap_request sets a flag; the thread
 * computes a snapshot, swaps it in as the newest and writes a byte to the pipe, which the UI polls.
 * Requests that arrive while a snapshot is computed coalesce into one more. Between two snapshots
 * the thread waits at least min_gap_ms or five times the last computation, so a swarm finishing a
 * thousand deployments costs a few snapshots, and a huge store never takes more than a sixth of a
 * core.
 *
 * A snapshot (JSON, owned by whoever takes it):
 *   {seq, computeMs, error?: "why there is no learning",
 *    stats: learn_stats(NULL),
 *    strategies: [{name, stats: learn_stats(name)}] (most runs first),
 *    patterns: learn_patterns(NULL, NULL)[0 .. max_patterns) each with
 *      runs: [{id, symbol, status, provider, reward, totalReturn, sharpe,
 *              params}] for its evidence ids (a missing row is skipped),
 *    patternsTotal}
 *
 * THREADS: learnsnap_start/stop/take/fd: the owner (UI) thread;
 * learnsnap_request: any thread.
 */
#ifndef SD_TUI_LEARNSNAP_H
#define SD_TUI_LEARNSNAP_H

#include <jansson.h>

#include "learn.h"
#include "store.h"
#include "util.h"

struct learnsnap_conf {
    struct learn *learn;     /* the coordinator's index, or NULL */
    struct store *store;     /* required; read through the thread's own reader */
    const char *runner_path; /* learn == NULL: build a private index with the
                                catalog from this runner (read-only console);
                                both NULL: snapshots only carry `error` */
    int max_patterns;        /* 0 = 500 */
    int min_gap_ms;          /* 0 = 1000 */
};

struct learnsnap;

/* Start the thread (it computes a first snapshot at once). Returns NULL with
 * err set if the thread or pipe cannot be created. conf->store (and learn)
 * must outlive the worker; runner_path is copied. */
struct learnsnap *learnsnap_start(const struct learnsnap_conf *conf, struct sd_err *err);

/* Stop and join the thread, free everything. Accepts NULL. May block until
 * the snapshot under way is computed (a read-only console: its index). */
void learnsnap_stop(struct learnsnap *ls);

/* Readable when a new snapshot is ready. */
int learnsnap_fd(const struct learnsnap *ls);

/* Ask for a fresh snapshot (coalesced, rate-limited). Can't fail. */
void learnsnap_request(struct learnsnap *ls);

/* The newest snapshot not yet taken (new reference), or NULL. Drains the
 * pipe. */
json_t *learnsnap_take(struct learnsnap *ls);

/* Compute one snapshot on the calling thread (what the worker runs; exposed
 * for tests and the benchmark). db: a reader connection (NULL: no evidence
 * rows). New reference; never NULL except on allocation failure. */
json_t *learnsnap_compute(struct learn *l, sqlite3 *db, int max_patterns);

#endif
