/*
 * filter_prebuilt.c: the deny-list as compiled at build time (filter_gen.c), see sandbox.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "sbx_filter_prog.h"

int sbx_filter_prebuilt(struct sbx_config *c, char *err, size_t errlen)
{
    const struct sock_filter *src = c->unix_only     ? sbx_filter_prog2
                                    : c->inet_filter ? sbx_filter_prog1
                                                     : sbx_filter_prog0;
    size_t n = c->unix_only     ? sizeof sbx_filter_prog2 / sizeof sbx_filter_prog2[0]
               : c->inet_filter ? sizeof sbx_filter_prog1 / sizeof sbx_filter_prog1[0]
                                : sizeof sbx_filter_prog0 / sizeof sbx_filter_prog0[0];
    struct sock_filter *prog = malloc(n * sizeof *prog);

    if (prog == NULL) {
        snprintf(err, errlen, "seccomp filter: out of memory");
        return -1;
    }
    memcpy(prog, src, n * sizeof *prog);
    c->filter.filter = prog;
    c->filter.len = (unsigned short)n;
    return 0;
}
