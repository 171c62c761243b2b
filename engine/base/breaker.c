/*
 * breaker.c: the circuit breaker state machine (breaker.h).
 */
#include "breaker.h"

#include <string.h>

void breaker_init(struct breaker *b, int threshold, int64_t cooldown_ms)
{
    memset(b, 0, sizeof *b);
    b->state = BREAKER_CLOSED;
    b->threshold = threshold > 0 ? threshold : BREAKER_DEFAULT_FAILURES;
    b->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : BREAKER_DEFAULT_COOLDOWN_MS;
}

int breaker_state(const struct breaker *b, int64_t now)
{
    if (b->state == BREAKER_OPEN && now - b->opened_at >= b->cooldown_ms)
        return BREAKER_HALF_OPEN;
    return b->state;
}

int breaker_allow(struct breaker *b, int64_t now)
{
    switch (breaker_state(b, now)) {
    case BREAKER_CLOSED:
        return 1;
    case BREAKER_HALF_OPEN:
        b->state = BREAKER_HALF_OPEN;
        if (b->trial)
            return 0;
        b->trial = 1;
        return 1;
    default:
        return 0;
    }
}

void breaker_success(struct breaker *b, int64_t now)
{
    (void)now;
    b->state = BREAKER_CLOSED;
    b->failures = 0;
    b->trial = 0;
}

void breaker_failure(struct breaker *b, int64_t now)
{
    b->failures++;
    if (b->state == BREAKER_HALF_OPEN || b->failures >= b->threshold) {
        b->state = BREAKER_OPEN;
        b->opened_at = now;
    }
    b->trial = 0;
}

int64_t breaker_open_until(const struct breaker *b)
{
    return b->state == BREAKER_OPEN ? b->opened_at + b->cooldown_ms : 0;
}

const char *breaker_state_name(int state)
{
    switch (state) {
    case BREAKER_OPEN:
        return "open";
    case BREAKER_HALF_OPEN:
        return "half-open";
    default:
        return "closed";
    }
}
