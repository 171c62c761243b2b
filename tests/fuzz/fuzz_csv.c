/*
 * fuzz_csv.c: the runner's strict CSV reader (strategies/csv.c) on hostile
 * files. Beyond not crashing, an accepted table must keep the reader's
 * promises: dates strictly increasing, every wanted number finite.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct csv_column cols[] = {{"date", 1}, {"open", 0},  {"high", 0},
                                             {"low", 0},  {"close", 1}, {"volume", 0}};
    static char path[64];
    static int fd = -1;
    struct csv_table t;
    struct err e;

    if (fd < 0) {
        if ((fd = memfd_create("fuzz.csv", 0)) < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    memset(&t, 0, sizeof t);
    if (csv_load(path, cols, sizeof cols / sizeof cols[0], &t, &e) == 0) {
        for (size_t i = 0; i < t.n; i++) {
            if (i > 0 && strcmp(t.date[i - 1], t.date[i]) >= 0)
                abort();
            for (size_t c = 1; c < sizeof cols / sizeof cols[0]; c++)
                if (t.col[c] != NULL && !isfinite(t.col[c][i]))
                    abort();
        }
    } else if (e.msg[0] == '\0') {
        abort(); /* every refusal says why */
    }
    csv_free(&t);
    return 0;
}
