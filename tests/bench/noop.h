/*
 * noop.h: the no-op strategy's manifest for the engine benchmarks
 * (engine_bench.c, daemon_api_bench.c): dir/noop.json naming the
 * engine_noop binary at `noop`. Fills out with its path; returns 0 or -1.
 */
#ifndef SD_BENCH_NOOP_H
#define SD_BENCH_NOOP_H

#include <stdio.h>
#include <string.h>

static int noop_manifest(const char *dir, const char *noop, char *out, size_t n)
{
    const char *base = strrchr(noop, '/') ? strrchr(noop, '/') + 1 : noop;
    FILE *f;

    snprintf(out, n, "%s/noop.json", dir);
    if ((f = fopen(out, "w")) == NULL)
        return -1;
    fprintf(f,
            "{\"name\":\"noop\",\"description\":\"does nothing\",\"command\":[\"./%s\"],"
            "\"files\":[\"%s\"],\"params\":[]}\n",
            base, noop);
    return fclose(f) == 0 ? 0 : -1;
}

#endif
