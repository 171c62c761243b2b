/*
 * protocol.h: the runner's output protocol on stdout.
 *
 * DESIGN. stdout carries free-form human lines plus machine lines that start with "@@" and a
 * tag, then one compact JSON object: @@progress, @@trade, @@result (exactly one, on success)
 * and @@error (on failure, with the same message also written to stderr in plain words).
 * stdout is line buffered, so every line reaches a pipe as soon as it is complete and a
 * consumer can parse the stream live. All JSON is written by jansson with
 * JSON_COMPACT | JSON_REAL_PRECISION(17) (doubles round-trip exactly); non-finite numbers are
 * written as null. Main thread only.
 */
#ifndef RUNNER_PROTOCOL_H
#define RUNNER_PROTOCOL_H

#include <jansson.h>

#include "error.h"

#define PROTOCOL_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

/* Make stdout line buffered. Call once, before any output. */
void protocol_init(void);

/* Print "@@tag {json}\n". Steals the reference to obj. */
void protocol_emit(const char *tag, json_t *obj);

/* Print a JSON document (list, metrics) on its own line. Steals the reference to obj. */
void protocol_print(json_t *obj);

/* A JSON real for v, or JSON null when v is NaN or infinite. Caller owns the reference. */
json_t *protocol_number(double v);

/* Report e as @@error on stdout and in plain words on stderr. Returns e->code. */
int protocol_fail(const struct err *e);

#endif
