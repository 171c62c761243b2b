/*
 * check.h: the unit tests' CHECK: count a check, and on failure print
 * file:line and the expression, count the failure and go on (the test's
 * main reports `failures` and exits non-zero). Include once per test file.
 */
#ifndef SD_TEST_CHECK_H
#define SD_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int failures, checks __attribute__((unused));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* One test case of a table that check_main runs. */
struct check_case {
    const char *name;
    void (*fn)(void);
};

/* Run the case named argv[1], or every case without an argument. Returns
 * the exit status: 0, 1 when a check failed, 2 for an unknown case. */
static inline int check_main(const struct check_case *c, size_t n, int argc, char **argv)
{
    int ran = 0;
    for (size_t i = 0; i < n; i++)
        if (argc < 2 || strcmp(argv[1], c[i].name) == 0) {
            c[i].fn();
            ran++;
        }
    if (ran == 0) {
        fprintf(stderr, "unknown case %s\n", argv[1]);
        return 2;
    }
    if (failures)
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return failures ? 1 : 0;
}

#endif
