/*
 * cmprun.h: a run's deployments summed up, for comparing two runs side by side (the compare
 * overlay, issue 16). Pure: no store, no screen; the console's job worker reads the details.
 */
#ifndef SD_CMPRUN_H
#define SD_CMPRUN_H

#include <jansson.h>
#include <stdint.h>

/* The summary of run's deployments, details an array of store_console_detail objects (not
 * taken). A new object: {"run", "count", "succeeded", "failed" (failed and timed out),
 * "cancelled" (cancelled and interrupted), "running" (not ended), "returnMean", "returnBest",
 * "sharpeMean", "sharpeBest", "drawdownWorst" (each null when no deployment stored it; returns
 * and drawdowns as fractions), "values": {name: "v1, v2"} (each parameter's distinct values,
 * and the strategies' and symbols', sorted, joined), "equity": [the mean curve, point by
 * point over the curves that reach it]}. NULL when out of memory. */
json_t *cmprun_summary(int64_t run, const json_t *details);

#endif
