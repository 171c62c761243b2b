/*
 * sandbox_filter_test.c: the seccomp program compiled at build time (filter_prebuilt.c, what
 * every sandbox start loads) is instruction for instruction the one libseccomp builds now
 * (sbx_filter_build, what doctor's probe loads), with and without the inet deny rules.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

int main(void)
{
    int failures = 0;
    char err[256];

    for (int inet = 0; inet < 2; inet++) {
        struct sbx_config a = {.inet_filter = inet}, b = {.inet_filter = inet};
        if (sbx_filter_build(&a, err, sizeof err) != 0 ||
            sbx_filter_prebuilt(&b, err, sizeof err) != 0) {
            fprintf(stderr, "inet %d: %s\n", inet, err);
            return 1;
        }
        if (a.filter.len == 0 || a.filter.len != b.filter.len ||
            memcmp(a.filter.filter, b.filter.filter, a.filter.len * sizeof *a.filter.filter)) {
            fprintf(stderr,
                    "inet %d: prebuilt program (%u instructions) differs from libseccomp's "
                    "(%u)\n",
                    inet, b.filter.len, a.filter.len);
            failures++;
        }
        free(a.filter.filter);
        free(b.filter.filter);
    }
    printf("sandbox_filter_prebuilt: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
