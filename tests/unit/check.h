/*
 * check.h: the unit tests' CHECK: count a check, and on failure print
 * file:line and the expression, count the failure and go on (the test's
 * main reports `failures` and exits non-zero). Include once per test file.
 */
#ifndef SD_TEST_CHECK_H
#define SD_TEST_CHECK_H

#include <stdio.h>

static int failures, checks __attribute__((unused));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#endif
