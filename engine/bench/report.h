/*
 * report.h: the benchmark's report files, rendered from its JSON report
 * (bench.h, run.h, docs/benchmark.md).
 *
 * DESIGN
 * The JSON report is the single source: every other file is a rendering of
 * it, so the files cannot disagree. One run writes, under one timestamp:
 *   benchmark-<ts>.json   the report itself
 *   benchmark-<ts>.txt    a human summary
 *   benchmark-<ts>.csv    one row per scenario and per (scenario, strategy);
 *                         the original's columns first
 *   benchmark-<ts>.html   a self-contained page: inline CSS and SVG charts
 *                         (latency histogram per scenario, p50/p95/p99 per
 *                         scenario, throughput, operation breakdown); no
 *                         script, no external resource
 *   coordinator-<ts>.txt  the learner's stats and patterns
 * Every file is written to a temporary name (mode 0600) and renamed into
 * place, so a reader never sees half a report. Text taken from the report
 * (scenario and strategy names, messages) is escaped for HTML and quoted for
 * CSV.
 *
 * THREADS
 * Any thread; no shared state.
 */
#ifndef SD_REPORT_H
#define SD_REPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* Render one format of report r to f. Return 0, or -1 if a write failed. */
int report_json(FILE *f, const json_t *r);
int report_txt(FILE *f, const json_t *r);
int report_csv(FILE *f, const json_t *r);
int report_html(FILE *f, const json_t *r);
int report_coordinator(FILE *f, const json_t *r);

/* A timestamp for file names from epoch ms (UTC, "20261121T105505Z"), made
 * unique in dir by a "-2", "-3", ... suffix when benchmark-<ts>.json already
 * exists. buf must hold 32 bytes. */
void report_stamp(const char *dir, int64_t ms, char *buf, size_t n);

/* Create dir (0700, with parents) and write the five files for stamp ts.
 * Returns 0, or -1 with err set (SD_EENV, naming the file); a file that
 * failed is not left behind, files already written stay. */
int report_write_all(const json_t *r, const char *dir, const char *ts, struct sd_err *err);

#endif
