/*
 * runlog.h: the output of several deployments as one stream of lines, in the order they were
 * written (`swarmdeck logs --run`, the console's run output view).
 *
 * A runlog follows a set of trajectories (runlog_add). Each round (runlog_round) reads, for
 * every one of them, the chunks stored since its last round (store_output_read_timed), sorts
 * them all by their stored time (then trajectory, then sequence), and hands out the lines they
 * complete, one call per line: a line cut across chunks is handed out once, whole, with the
 * time of the chunk that ended it. runlog_flush hands out what is left unterminated. Chunks
 * stored before the store kept times (t_ms -1) sort first. The caller decides when to read
 * again (a daemon's events, a timer).
 *
 * Memory: owned by the runlog; a line passed to fn lives only during the call. One thread at a
 * time per runlog; db is a reader connection of the caller's.
 */
#ifndef SD_RUNLOG_H
#define SD_RUNLOG_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct runlog;

/* A line of trajectory id on stream (1 stdout, 2 stderr), with its newline when it has one
 * (only a flushed tail has none). Return 0 to go on; a positive value stops the round, which
 * returns it. */
typedef int (*runlog_line_fn)(void *arg, int64_t id, int stream, int64_t t_ms, const char *line,
                              size_t len);

/* A new runlog keeping the streams in want (1 stdout, 2 stderr, 3 both). NULL when out of
 * memory. */
struct runlog *runlog_new(int want);
/* Accepts NULL. */
void runlog_free(struct runlog *r);

/* Follow trajectory id from its first chunk (again: nothing). Returns its index (the order
 * added, for a colour), or -1 when out of memory. */
int runlog_add(struct runlog *r, int64_t id);

/* How long a round holds back the chunks of its latest millisecond (runlog_round). */
#define RUNLOG_HOLD_MS 1000

/* One round, as the file comment says, read in one transaction of db's (unless the caller
 * has one open). Unless last (nothing more will be stored: the deployments have ended, or the
 * caller reads only once), the chunks of the round's latest millisecond are held back for the
 * next round while that millisecond is less than RUNLOG_HOLD_MS old: another deployment's
 * chunk of the same millisecond may not be committed yet, and it may come first. So rounds
 * hand out lines in the same order as one round over the whole output. Returns 0, fn's
 * non-zero value, or -1 with err set (a read failed or no memory: the lines of this round are
 * not handed out). */
int runlog_round(struct runlog *r, sqlite3 *db, int last, runlog_line_fn fn, void *arg,
                 struct sd_err *err);

/* Hand out every unterminated tail, in the order the trajectories were added (stdout first).
 * Returns 0 or fn's non-zero value. */
int runlog_flush(struct runlog *r, runlog_line_fn fn, void *arg);

#endif
