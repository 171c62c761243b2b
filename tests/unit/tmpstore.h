/*
 * tmpstore.h: a temporary store for one test case: store_new makes a fresh
 * directory under /tmp (named TMPSTORE_PREFIX-XXXXXX) holding t.db, and
 * store_gone closes the store and removes the directory. `dir` and `path`
 * stay visible for tests that open the file themselves. Include once per
 * test file, after defining TMPSTORE_PREFIX.
 */
#ifndef SD_TEST_TMPSTORE_H
#define SD_TEST_TMPSTORE_H

#include <stdio.h>
#include <stdlib.h>

#include "store.h"
#include "util.h"

#ifndef TMPSTORE_PREFIX
#define TMPSTORE_PREFIX "swarmdeck-test"
#endif

static char dir[64], path[128];

static struct store *store_new(void)
{
    struct store *s = NULL;
    struct sd_err err = {0};
    snprintf(dir, sizeof dir, "/tmp/" TMPSTORE_PREFIX "-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof path, "%s/t.db", dir);
    if (store_open(path, STORE_CREATE, &s, &err) != 0) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        exit(1);
    }
    return s;
}

static void store_gone(struct store *s)
{
    store_close(s);
    if (sd_rm_rf(dir) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
