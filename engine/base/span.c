/*
 * span.c: the span table (span.h). Empty unless SD_SPANS is defined.
 */
#include "span.h"

#ifdef SD_SPANS
#include <stdatomic.h>

#include "util.h"

static _Atomic uint64_t table[SPAN_KEYS][SPAN_COUNT];

void sd_span_at(int p, int64_t id, uint64_t ns)
{
    if (p >= 0 && p < SPAN_COUNT && id > 0)
        atomic_store_explicit(&table[id % SPAN_KEYS][p], ns, memory_order_relaxed);
}

void sd_span(int p, int64_t id)
{
    sd_span_at(p, id, sd_mono_ns());
}

uint64_t sd_span_get(int p, int64_t id)
{
    if (p < 0 || p >= SPAN_COUNT || id <= 0)
        return 0;
    return atomic_load_explicit(&table[id % SPAN_KEYS][p], memory_order_relaxed);
}
#else
typedef int sd_span_empty; /* ISO C wants a translation unit to declare something */
#endif
