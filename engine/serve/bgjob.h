/*
 * bgjob.h: commands the daemon runs for its clients as children of its own,
 * so they outlive the client's terminal as deployments do (docs/daemon.md).
 *
 * Today that is `benchmark`: it must own its engine (a coordinator with a
 * worker for every agent of its largest scenario, its own options), which a
 * daemon's shared coordinator is not; so the daemon runs
 * `swarmdeck --db STORE --no-daemon benchmark ARGS...` in the client's
 * directory, with stdout and stderr into a 0600 log under the state dir,
 * and the client follows the log through the API. The child is in a
 * session of its own: the client's SIGHUP never reaches it; a client's
 * Ctrl-C asks the daemon to send it SIGINT (the benchmark then stops its
 * deployments and writes its partial report, as in a terminal).
 *
 * When a job ends, one event says so: {"type":"job","job":N,"exitCode":X}.
 *
 * Thread safety: any thread.
 */
#ifndef SD_BGJOB_H
#define SD_BGJOB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "evlog.h"
#include "util.h"

struct bgjobs;

/* Jobs for the store at store_path, their end logged to l (borrowed).
 * Returns NULL on allocation failure. */
struct bgjobs *bgjobs_new(const char *store_path, struct evlog *l);
/* SIGTERM every running job, wait for them, free. Accepts NULL. */
void bgjobs_free(struct bgjobs *b);

/* Start `swarmdeck --db STORE --no-daemon COMMAND ARGS...` in cwd (an
 * absolute path). command is "benchmark"; args a JSON array of strings
 * (borrowed). Returns 0 with *id, or -1 with err set (SD_EUSAGE: bad
 * input). */
int bgjob_start(struct bgjobs *b, const char *command, json_t *args, const char *cwd, int64_t *id,
                struct sd_err *err);

/* Job id's log from byte `from` (at most max bytes), whether it ended and
 * its exit status, as a new JSON object {job, from, text, ended, exitCode,
 * pid}; NULL with err set for an unknown job. */
json_t *bgjob_log(struct bgjobs *b, int64_t id, uint64_t from, size_t max, struct sd_err *err);

/* SIGINT to a running job. Returns 0, or -1 with err set (unknown, ended). */
int bgjob_interrupt(struct bgjobs *b, int64_t id, struct sd_err *err);

/* Jobs still running (the daemon is busy while any is). */
size_t bgjobs_running(struct bgjobs *b);

#endif
