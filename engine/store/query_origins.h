/*
 * query_origins.h: where one strategy's finished trajectories came from
 * (query_origins.c), for `suggest --json` and `patterns --json` on a cold
 * start (issue 15): answered from the index traj_strategy_origin alone.
 */
#ifndef SD_QUERY_ORIGINS_H
#define SD_QUERY_ORIGINS_H

#include <jansson.h>

#include "store.h"

/* The finished trajectories (succeeded, failed, timeout, cancelled,
 * interrupted) of strategy (NULL: of every strategy) counted by origin: a new array of
 * {"origin": name or null (made here), "trajectories": n}, the local ones
 * first, then by count down and name; the same answer as
 * store_fleet_origins(db, strategy) (fleet_store.h). Opens and closes its
 * own reader. NULL with err set on failure. */
json_t *store_strategy_origins(struct store *s, const char *strategy, struct sd_err *err);

/* Its statements (one strategy; every strategy), for the tests that SQLite
 * answers them from the index (EXPLAIN QUERY PLAN: no scan of the table,
 * no sort). */
extern const char store_strategy_origins_sql[];
extern const char store_all_origins_sql[];

#endif
