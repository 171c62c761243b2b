/*
 * error.h: errors as values for swarmdeck-runner.
 *
 * Every fallible runner function takes a `struct err *` and, on failure, fills it with the exit
 * code the process should end with (2 for bad usage or parameters, 3 for bad data) and a
 * one-line, lowercase message for the user. The caller decides how to report it (the protocol
 * module prints it as `@@error` on stdout and in plain words on stderr). No allocation: the
 * message lives in the struct, so reporting an error can never fail.
 */
#ifndef RUNNER_ERROR_H
#define RUNNER_ERROR_H

#include <stddef.h>

enum {
    EXIT_USAGE = 2, /* bad command line or parameters */
    EXIT_DATA = 3,  /* bad or unreadable data file */
};

struct err {
    int code;
    char msg[1024];
};

/*
 * Record an error: exit code and printf-style message. Always returns -1, so callers can write
 * `return err_set(e, EXIT_DATA, ...)`. e may be NULL (the error is then dropped). Can't fail;
 * an over-long message is truncated.
 */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
