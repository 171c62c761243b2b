/*
 * util.c: error values, aborting allocators, clocks and paths (see util.h).
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sd_err_set(struct sd_err *e, int code, const char *fmt, ...)
{
    if (e != NULL) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void sd_err_prefix(struct sd_err *e, const char *fmt, ...)
{
    char pre[256], old[sizeof e->msg];
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", pre, old);
}

int sd_err_exit_status(int code)
{
    switch (code) {
    case SD_OK:
        return 0;
    case SD_EFAIL:
        return 1;
    case SD_EUSAGE:
        return 2;
    default:
        return 3;
    }
}

static void oom(size_t n)
{
    fprintf(stderr, "swarmdeck: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        oom(strlen(s) + 1);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return p;
}

uint64_t sd_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t sd_now_ms(void)
{
    const char *fixed = getenv("SWARMDECK_CLOCK");
    struct timespec ts;

    if (fixed != NULL && strncmp(fixed, "fixed:", 6) == 0)
        return strtoll(fixed + 6, NULL, 10);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *sd_exe_dir(void)
{
    static char dir[PATH_MAX];
    static int done;

    /* Benign race: every thread computes the same value. */
    if (!done) {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        char *slash;
        if (n <= 0) {
            strcpy(dir, ".");
        } else {
            dir[n] = '\0';
            slash = strrchr(dir, '/');
            if (slash == dir)
                slash[1] = '\0';
            else if (slash != NULL)
                *slash = '\0';
        }
        done = 1;
    }
    return dir;
}

int sd_mkdir_p(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}
