/*
 * error.c: filling `struct err` (see error.h). Kept separate so every module, the tests and
 * the benchmark share one definition.
 */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

int err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return -1;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}
