/*
 * bundle_check.h: an import bundle's fields, checked as hostile input before
 * anything is written (export.c's import; engine/store only).
 *
 * A bundle comes from another machine or another person, and its digest and
 * fingerprints are unkeyed: whoever edits a bundle can recompute them. So
 * import never relies on them alone. Every field a trajectory, operation,
 * output chunk or strategy manifest may carry is checked for its type and
 * range here: names are short runs of safe characters (no "../", no
 * escapes, no control bytes), numbers are finite and bounded (a reward is in
 * [0, 1], so a 1e308 can never poison the learner's sums), timestamps are
 * plausible, nested JSON (params, result, prediction, isolation) has bounded
 * depth, size and magnitudes, and a strategy manifest may not take a
 * built-in's name.
 *
 * THREADS: pure functions of their arguments.
 */
#ifndef SD_BUNDLE_CHECK_H
#define SD_BUNDLE_CHECK_H

#include <jansson.h>

#include "util.h"

/* Limits a bundle's values must keep (also documented in docs/security.md). */
#define BUNDLE_MAX_TRAJECTORIES 1000000
#define BUNDLE_MAX_OPERATIONS   1000  /* per trajectory */
#define BUNDLE_MAX_TEXT         65536 /* error, description, detail: bytes */
#define BUNDLE_MAX_MAGNITUDE    1e15  /* any number inside params, result, ... */
#define BUNDLE_MAX_TIME_MS      (1LL << 53)

/* 1 when name is a strategy name a bundle may carry: 1-48 characters of
 * a-z, 0-9 and '-' (the rule of `strategies add`). */
int bundle_strategy_name_ok(const char *name);

/* Check every field of bundle b (the whole object, any version fields
 * aside): its trajectories, their operations and output, its strategy
 * manifests. reserved (may be NULL) is a NULL-terminated list of names no
 * manifest may take (the built-in strategies). Returns 0, or -1 with err
 * (SD_EUSAGE) naming the first bad field: "bundle: trajectory 3 (UUID):
 * \"reward\" must be a number in [0, 1]". Does not check the digest or the
 * fingerprints (export.c and chain.c do). */
int bundle_check_fields(json_t *b, const char *const *reserved, struct sd_err *err);

#endif
