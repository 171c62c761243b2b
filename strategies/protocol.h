/*
 * protocol.h: the runner's output protocol on stdout.
 *
 * DESIGN. stdout carries free-form human lines plus machine lines that start with "@@" and a
 * tag, then one compact JSON object: @@progress, @@trade, @@result (exactly one, on success)
 * and @@error (on failure, with the same message also written to stderr in plain words).
 * On a terminal stdout is line buffered. Into a pipe or file it is block buffered and
 * flushed by time: a complete line reaches the pipe at most PROTOCOL_FLUSH_MS after it was
 * written as long as the runner keeps working (protocol_tick runs at every line and every
 * bar), before every pace sleep, before @@error and at exit; so a consumer still parses the
 * stream live, and a fast run costs a few write() calls instead of one per line (the engine
 * woke once per line). Only whole lines are ever split across writes by a full buffer, which
 * a reader of a byte stream must handle anyway. All JSON is written by jansson with
 * JSON_COMPACT | JSON_REAL_PRECISION(17) (doubles round-trip exactly); non-finite numbers are
 * written as null. Main thread only.
 */
#ifndef RUNNER_PROTOCOL_H
#define RUNNER_PROTOCOL_H

#include <jansson.h>

#include "error.h"

#define PROTOCOL_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

/* How long a written line may wait in stdout's buffer while the runner works. */
#define PROTOCOL_FLUSH_MS 50

/* Buffer stdout (line buffered on a terminal, else by time, above). Call once, before any
 * output. */
void protocol_init(void);

/* Flush stdout if PROTOCOL_FLUSH_MS passed since the last flush. Cheap (a coarse clock
 * read); call at every line and in long loops. */
void protocol_tick(void);

/* Flush stdout now (before sleeping, before reporting an error). */
void protocol_flush(void);

/* Print "@@tag {json}\n". Steals the reference to obj. */
void protocol_emit(const char *tag, json_t *obj);

/* Print a JSON document (list, metrics) on its own line. Steals the reference to obj. */
void protocol_print(json_t *obj);

/* A JSON real for v, or JSON null when v is NaN or infinite. Caller owns the reference. */
json_t *protocol_number(double v);

/* Report e as @@error on stdout and in plain words on stderr. Returns e->code. */
int protocol_fail(const struct err *e);

#endif
