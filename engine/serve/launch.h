/*
 * launch.h: one launch (a `deploy` of N agents, or a `swarm` list) from its
 * JSON description to queued deployments in one run: the work the CLI's
 * deploy and swarm commands do in process, done by the daemon for a client.
 *
 * A launch is either
 *   {"strategy":S, "params":{...}, "agents":N, "symbol":SYM, "description":D,
 *    "pace":P, "provider":NAME, "timeoutMs":T}
 * or {"deployments":[{"strategy":..., "params":..., "symbol":..., ...}, ...]}
 * (each entry one deployment). Agent i of a deploy runs on symbols[i mod
 * len], where symbols is SYM, else params.symbols, else params.symbol, else
 * the strategy's default symbols (cmd-deploy.c's rule).
 *
 * Every request is validated (coord_check) before any is queued: bad input
 * runs nothing and stores nothing.
 *
 * Thread safety: any thread (the coordinator locks).
 */
#ifndef SD_LAUNCH_H
#define SD_LAUNCH_H

#include <jansson.h>
#include <stdint.h>

#include "coord.h"

#define LAUNCH_MAX 100000 /* deployments in one launch */

/* Validate and queue the launch `spec` (borrowed) as run kind `kind`
 * ("deploy" or "swarm"), with `by` (borrowed, may be NULL) recorded in the
 * run's spec as who asked. On success *run is the run id and *ids a new
 * JSON array of deployment ids; returns 0. Returns -1 with err set (SD_EUSAGE
 * for bad input) and nothing queued or stored. May block on the store. */
/* by ({pid, uid, user, tty}, as the server reads its peer) as the one line
 * the store's operations keep: "pid P uid U user NAME tty T". */
void launch_by_text(json_t *by, char *buf, size_t len);

int launch_submit(struct coord *c, const char *kind, json_t *spec, json_t *by, int64_t *run,
                  json_t **ids, struct sd_err *err);

#endif
