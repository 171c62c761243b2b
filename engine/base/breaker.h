/*
 * breaker.h: a circuit breaker for one provider instance.
 *
 * DESIGN
 * Closed: requests go through; `failures` consecutive provider failures open
 * the breaker. Open: requests are refused (the coordinator fails over or
 * fails fast) until `cooldown_ms` has passed, then the breaker is half-open.
 * Half-open: exactly one trial request is let through at a time; its success
 * closes the breaker, its failure opens it again for another cool-down.
 * Successes in the closed state reset the failure count.
 *
 * The breaker is a pure state machine: every call takes the current time
 * (milliseconds on any monotonic or wall clock, as long as the caller is
 * consistent), so tests drive it with a fake clock. It holds no lock; the
 * caller serialises calls (the coordinator holds its lock).
 */
#ifndef SD_BREAKER_H
#define SD_BREAKER_H

#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
    int state;
    int threshold;       /* consecutive failures that open it (>= 1) */
    int64_t cooldown_ms; /* open -> half-open after this long */
    int failures;        /* consecutive failures */
    int64_t opened_at;   /* when it last opened */
    int trial;           /* half-open: a trial request is in flight */
};

/* Defaults used when a threshold or cool-down of 0 is given. */
#define BREAKER_DEFAULT_FAILURES    3
#define BREAKER_DEFAULT_COOLDOWN_MS 30000

void breaker_init(struct breaker *b, int threshold, int64_t cooldown_ms);

/* The state at time now (an open breaker whose cool-down has passed reports
 * half-open). Does not change b. */
int breaker_state(const struct breaker *b, int64_t now);

/* May a request go to this provider now? Returns 1 and, when half-open,
 * marks the trial as taken (so concurrent callers get 0 until it reports);
 * returns 0 when open (or half-open with a trial in flight). */
int breaker_allow(struct breaker *b, int64_t now);

/* Report the outcome of a request that breaker_allow let through. */
void breaker_success(struct breaker *b, int64_t now);
void breaker_failure(struct breaker *b, int64_t now);

/* When an open breaker turns half-open (0 when not open). */
int64_t breaker_open_until(const struct breaker *b);

/* "closed", "open" or "half-open". */
const char *breaker_state_name(int state);

#endif
