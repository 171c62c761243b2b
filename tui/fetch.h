/*
 * fetch.h: the console's store reader: reads what the Sandboxes and Output
 * panes show from the store (the past trajectories, a past run's output) on
 * a thread of its own, so the UI thread never waits for SQLite.
 *
 * WHY A THREAD
 * A read can take as long as the store makes it: a store with a large
 * output, a cold page cache, or another process holding the store's read
 * locks (SQLite then retries for up to ten seconds before it gives up). The
 * UI must keep answering keys meanwhile (design.md §2); it shows
 * "loading..." until the result arrives.
 *
 * HOW
 * One thread, one mutex, one condition variable, one wake-up pipe, like
 * learnsnap.h (redis's bio.c). There are two kinds of request, each a slot
 * rather than a queue, because only the newest one matters:
 *   - history: the newest `history_limit` trajectories. Requests made while
 *     one is pending coalesce into it.
 *   - output of one trajectory: a new request replaces the pending one, and
 *     a read under way for another id is abandoned at its next row, so
 *     scrolling through a hundred past runs reads at most two of them.
 * Output goes first (the operator is looking at it). A result is put in its
 * slot (replacing one not yet taken) and a byte is written to the pipe.
 *
 * The output of a trajectory is read newest chunk first, only as far back
 * as the ring can hold (ring_bytes), then fed to a fresh log ring in order:
 * the cost is bounded by what is shown, not by what the store holds.
 *
 * A read that fails because the store is busy or locked (SQLITE_BUSY,
 * SQLITE_LOCKED, SQLITE_PROTOCOL) is retried every 100 ms until it succeeds,
 * is superseded, or the worker stops; the result's `waited_busy` says it
 * happened. A reader connection that cannot be opened is retried the same
 * way for 30 seconds, then reported. Other errors are reported in the
 * result.
 *
 * THREADS: fetch_start/stop/take/fd: the owner (UI) thread; fetch_history,
 * fetch_output: any thread. fetch_stop waits for an SQLite call under way
 * (bounded by SQLite's own lock retries, at most about ten seconds).
 */
#ifndef SD_TUI_FETCH_H
#define SD_TUI_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "logring.h"
#include "store.h"
#include "util.h"

/* A past trajectory, as the Sandboxes table shows it. */
struct fetch_hrow {
    int64_t id, created_at, started_at, ended_at;
    char strategy[64], symbol[32], provider[32], state[16];
    double ret, sharpe; /* NaN when the result has none */
    int synthetic;
};

enum fetch_kind { FETCH_HISTORY = 1, FETCH_OUTPUT = 2 };

struct fetch_result {
    int kind;
    int64_t id;              /* FETCH_OUTPUT: the trajectory */
    struct fetch_hrow *rows; /* FETCH_HISTORY: newest first */
    size_t nrows;            /* FETCH_HISTORY */
    struct logring *ring;    /* FETCH_OUTPUT: the output, finished (NULL on error) */
    uint64_t bytes;          /* FETCH_OUTPUT: bytes read */
    int waited_busy;         /* the store was busy or locked at least once */
    double ms;               /* how long the read took, retries included */
    char error[256];         /* "" or why there is no result */
};

struct fetch_conf {
    struct store *store; /* required; must outlive the worker */
    int history_limit;   /* 0 = 2000 */
    size_t ring_lines;   /* 0 = 20000 */
    size_t ring_bytes;   /* 0 = 4 MiB */
};

struct fetch;

/* Start the thread (it opens its own reader connection). Returns NULL with
 * err set if the thread or pipe cannot be created. */
struct fetch *fetch_start(const struct fetch_conf *conf, struct sd_err *err);

/* Stop and join the thread; free everything, results not taken included.
 * Accepts NULL. */
void fetch_stop(struct fetch *f);

/* Readable when a result is ready. */
int fetch_fd(const struct fetch *f);

/* Ask for the history (coalesced). Can't fail. */
void fetch_history(struct fetch *f);

/* Ask for trajectory id's output, replacing any other output request
 * (id <= 0: only cancel). Can't fail. */
void fetch_output(struct fetch *f, int64_t id);

/* The next result not yet taken (output before history), or NULL. Drains
 * the pipe, so once the fd was readable call it until it returns NULL (one
 * wake-up may announce two results). The caller frees it with
 * fetch_result_free. */
struct fetch_result *fetch_take(struct fetch *f);

/* Free a result and what it holds (the ring too, unless the caller took it
 * and set it to NULL). Accepts NULL. */
void fetch_result_free(struct fetch_result *r);

#endif
