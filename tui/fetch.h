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
 * One worker thread (engine/base/worker.h: one mutex, one condition
 * variable, one wake-up pipe, like redis's bio.c). There are three kinds of request, each a slot
 * rather than a queue, because only the newest one matters:
 *   - history: the newest `history_limit` trajectories. Requests made while
 *     one is pending coalesce into it.
 *   - output of one trajectory: a new request replaces the pending one, and
 *     a read under way for another id is abandoned at its next row, so
 *     scrolling through a hundred past runs reads at most two of them.
 *   - details of one trajectory (the Details pane): a slot like the
 *     output's, a new request replacing the pending one.
 *   - chain: the fingerprint chain's state for the header
 *     (store_chain_summary), optionally after a full verification
 *     (chain_verify on the reader's connection). Requests coalesce; a
 *     verification asked for joins the pending request.
 * Output goes first (the operator is looking at it), then history, then the
 * chain. A result is put in its slot (replacing one not yet taken) and a
 * byte is written to the pipe.
 *
 * VERIFYING THE CHAIN
 * At most one verification is under way (there is one thread) and at most
 * one more is pending, however often it is asked for. A verification starts
 * no sooner than max(verify_gap_ms, 5 x the previous one's duration) after
 * the previous one ended, so it takes at most a sixth of the reader's time
 * on a large store; a request made meanwhile waits (the summary part of it
 * is answered at once) while other reads go on. Before verifying, the
 * reader waits for what was already submitted to the store to be committed
 * (store_flush), so a deployment reported finished is in the chain it
 * checks. Unless `record` is 0 the outcome is recorded like `swarmdeck
 * verify` does (store_chain_verified: "N:HEAD", "broken:ID" or
 * "broken:head"; nothing on a read-only store). The summary then shows it;
 * when it was not recorded (read-only) the reader keeps it and shows
 * "ok (N)" while the chain's head is the one it verified, and
 * "BROKEN at #ID" after a failed verification, instead of "unverified".
 * A verification cannot be abandoned for an output read: output asked for
 * meanwhile waits for it. fetch_stop interrupts it.
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
 * fetch_output, fetch_chain: any thread. fetch_stop waits for an SQLite call under way
 * (bounded by SQLite's own lock retries, at most about ten seconds).
 */
#ifndef SD_TUI_FETCH_H
#define SD_TUI_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "logring.h"
#include "query.h"
#include "query_console2.h"
#include "store.h"
#include "util.h"

enum fetch_kind { FETCH_HISTORY = 1, FETCH_OUTPUT = 2, FETCH_CHAIN = 3, FETCH_DETAIL = 4 };

#define FETCH_CHAIN_LEN 64

struct fetch_result {
    int kind;
    int64_t id;                /* FETCH_OUTPUT: the trajectory */
    struct console_traj *rows; /* FETCH_HISTORY: newest first (query.h) */
    size_t nrows;              /* FETCH_HISTORY */
    json_t *failovers;         /* FETCH_HISTORY: {"ID": reason} (query_console2.h), or NULL */
    json_t *runmap;            /* FETCH_HISTORY: {"ID": run} (query_console2.h), or NULL */
    json_t *detail;            /* FETCH_DETAIL: store_console_detail's object (NULL: none) */
    struct logring *ring;      /* FETCH_OUTPUT: the output, finished (NULL on error) */
    uint64_t bytes;            /* FETCH_OUTPUT: bytes read */
    int waited_busy;           /* the store was busy or locked at least once */
    double ms;                 /* how long the read took, retries included */
    char error[256];           /* "" or why there is no result */
    /* FETCH_CHAIN: */
    char chain[FETCH_CHAIN_LEN]; /* the header's chain state: "ok (12)", "BROKEN at #3", ... */
    int verified;                /* a verification ran for this result: report is its outcome */
    struct chain_report report;  /* when verified */
    double verify_ms;            /* how long the verification took (what the spacing counts) */
    uint64_t verify_start_ns;    /* when it started and ended (sd_mono_ns) */
    uint64_t verify_end_ns;
    unsigned verifies; /* verifications run by this reader so far, this one included */
};

struct fetch_conf {
    struct store *store; /* required; must outlive the worker */
    int history_limit;   /* 0 = 2000 */
    size_t ring_lines;   /* 0 = 20000 */
    size_t ring_bytes;   /* 0 = 4 MiB */
    int verify_gap_ms;   /* least time between verifications; 0 = 3000 */
    int record;          /* record verification outcomes in the store (not --readonly) */
    int verify_cost_ms;  /* tests: count each verification as costing this long in the
                            spacing and verify_ms (0: measure it) */
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

/* Ask for trajectory id's details (store_console_detail), replacing any
 * other details request (id <= 0: only cancel). Read after an output, before
 * the history. Can't fail. */
void fetch_detail(struct fetch *f, int64_t id);

/* Ask for the chain state (coalesced); verify != 0: verify the whole chain
 * first, when the rate limit allows (see VERIFYING THE CHAIN). Can't fail. */
void fetch_chain(struct fetch *f, int verify);

/* The next result not yet taken (output, history, chain), or NULL. Drains
 * the pipe, so once the fd was readable call it until it returns NULL (one
 * wake-up may announce two results). The caller frees it with
 * fetch_result_free. */
struct fetch_result *fetch_take(struct fetch *f);

/* Free a result and what it holds (the ring too, unless the caller took it
 * and set it to NULL). Accepts NULL. */
void fetch_result_free(struct fetch_result *r);

#endif
