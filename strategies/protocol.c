/*
 * protocol.c: writing protocol lines (see protocol.h). One place decides how JSON is
 * formatted, so every line of every subcommand looks the same, and one place decides when
 * stdout reaches the pipe.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"

/* stdout's buffer when it is not a terminal: big enough that a whole momentum run (~40 KiB)
 * is a handful of writes. Static: stdio keeps it until exit. */
static char out_buf[64 * 1024];
static int out_batched;           /* 1: block buffered, flushed by time (protocol_tick) */
static struct timespec out_flush; /* when stdout was last flushed (CLOCK_MONOTONIC) */

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

void protocol_init(void)
{
    if (isatty(STDOUT_FILENO)) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        return;
    }
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    out_batched = 1;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &out_flush);
}

void protocol_tick(void)
{
    if (out_batched && elapsed_ms(&out_flush) >= PROTOCOL_FLUSH_MS)
        protocol_flush();
}

void protocol_flush(void)
{
    fflush(stdout);
    if (out_batched)
        clock_gettime(CLOCK_MONOTONIC_COARSE, &out_flush);
}

static void print_json(const char *tag, json_t *obj)
{
    char *text = json_dumps(obj, PROTOCOL_JSON_FLAGS);

    if (tag != NULL)
        printf("@@%s %s\n", tag, text != NULL ? text : "{}");
    else
        printf("%s\n", text != NULL ? text : "{}");
    free(text);
    json_decref(obj);
    protocol_tick();
}

void protocol_emit(const char *tag, json_t *obj)
{
    print_json(tag, obj);
}

void protocol_print(json_t *obj)
{
    print_json(NULL, obj);
}

json_t *protocol_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

int protocol_fail(const struct err *e)
{
    protocol_emit("error", json_pack("{s:s}", "message", e->msg));
    protocol_flush();
    fprintf(stderr, "swarmdeck-runner: %s\n", e->msg);
    return e->code;
}
