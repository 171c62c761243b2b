/*
 * query_console2.h: more of the console's reads (query_console.c's kind:
 * read-only, on a console worker thread's reader connection, never the UI
 * thread): one deployment's whole details for the Details pane, the
 * deployments a failover moved, and a run's or a deployment's whole output.
 */
#ifndef SD_STORE_QUERY_CONSOLE2_H
#define SD_STORE_QUERY_CONSOLE2_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "util.h"

/* Trajectory id's details as a new JSON object: id, runId, strategy,
 * symbol, provider, status, exitCode, error, description, params (an
 * object), createdAt, startedAt, endedAt (ms since the epoch), failover
 * (the failover operation's reason, or null), result (the stored result
 * object: total_return, sharpe, max_drawdown, ...; or null) and equity (at most
 * max_points values of the equity its "@@progress" output lines reported,
 * evenly thinned, oldest first). Absent values are null. Returns 0 with
 * *out set, 1 when there is no such trajectory (*out NULL), or -1 with err
 * set ("details: ..."). */
int store_console_detail(sqlite3 *db, int64_t id, int max_points, json_t **out, struct sd_err *err);

/* The failovers among the newest `limit` trajectories: a new object
 * {"ID": "reason"} of those with a failover operation. NULL with err set
 * ("failovers: ...") when a statement failed. */
json_t *store_console_failovers(sqlite3 *db, int limit, struct sd_err *err);

/* The runs of the newest `limit` trajectories: a new object {"ID": run} of
 * those that belong to a run. NULL with err set ("runs: ...") when a
 * statement failed. */
json_t *store_console_runs(sqlite3 *db, int limit, struct sd_err *err);

/* Write trajectory id's whole stored output to f, oldest chunk first, with
 * "[stderr] " at the start of each stderr line (logview_save's format).
 * Returns the lines written (a last line without a newline counts), or -1
 * with err set ("output: ..."): a statement failed or f could not be
 * written. */
long store_console_save_output(sqlite3 *db, int64_t id, FILE *f, struct sd_err *err);

#endif
