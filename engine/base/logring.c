/*
 * logring.c: a line ring per sandbox (logring.h).
 *
 * Representation: a circular array of struct logline with a byte total;
 * appending past max_lines or max_bytes drops the oldest. The array starts
 * small and doubles up to max_lines (cap is its size now, max_lines its
 * limit). Two partial-line buffers, one per stream, made on first use, hold
 * text until its newline.
 */
#define _GNU_SOURCE
#include "logring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct logring {
    pthread_mutex_t lock;
    struct logline *lines;
    size_t cap, head, len, bytes, max_bytes, max_lines;
    uint64_t next_seq;
    char *part[2];
    size_t partlen[2];
    int64_t part_t[2]; /* when the held partial line last grew */
};

#define LOGRING_FIRST_CAP 16

struct logring *logring_new(size_t max_lines, size_t max_bytes)
{
    struct logring *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->max_lines = max_lines ? max_lines : 1;
    r->max_bytes = max_bytes;
    r->next_seq = 1;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void logring_free(struct logring *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->len; i++)
        free(r->lines[(r->head + i) % r->cap].text);
    free(r->lines);
    free(r->part[0]);
    free(r->part[1]);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Move the held lines into a new array of cap entries (>= r->len), oldest
 * first. Caller holds the lock. Returns 0, or -1 with r unchanged. */
static int resize(struct logring *r, size_t cap)
{
    struct logline *l;

    if (cap == 0) { /* only when empty */
        free(r->lines);
        r->lines = NULL;
        r->cap = r->head = 0;
        return 0;
    }
    if ((l = malloc(cap * sizeof *l)) == NULL)
        return -1;
    for (size_t i = 0; i < r->len; i++)
        l[i] = r->lines[(r->head + i) % r->cap];
    free(r->lines);
    r->lines = l;
    r->cap = cap;
    r->head = 0;
    return 0;
}

static void drop_oldest(struct logring *r)
{
    struct logline *l = &r->lines[r->head];
    r->bytes -= strlen(l->text);
    free(l->text);
    l->text = NULL;
    r->head = (r->head + 1) % r->cap;
    r->len--;
}

/* Caller holds the lock. */
static void push_line(struct logring *r, int stream, const char *text, size_t n, int partial,
                      int64_t time_ms)
{
    struct logline *l;
    char *copy = malloc(n + 1);

    if (copy == NULL)
        return;
    memcpy(copy, text, n);
    copy[n] = '\0';
    if (r->len == r->cap && r->cap < r->max_lines) {
        size_t cap = r->cap ? r->cap * 2 : LOGRING_FIRST_CAP;
        resize(r, cap < r->max_lines ? cap : r->max_lines); /* on failure the oldest goes */
    }
    while (r->len > 0 && (r->len == r->cap || r->bytes + n > r->max_bytes))
        drop_oldest(r);
    if (r->cap == 0) { /* the very first line, and no array could be made */
        free(copy);
        return;
    }
    l = &r->lines[(r->head + r->len) % r->cap];
    l->seq = r->next_seq++;
    l->stream = stream;
    l->partial = partial;
    l->time_ms = time_ms;
    l->text = copy;
    r->len++;
    r->bytes += n;
}

uint64_t logring_append(struct logring *r, int stream, const char *data, size_t len)
{
    return logring_append_at(r, stream, data, len, sd_now_ms());
}

uint64_t logring_append_at(struct logring *r, int stream, const char *data, size_t len,
                           int64_t time_ms)
{
    int s = stream == 2 ? 1 : 0;
    uint64_t last;

    pthread_mutex_lock(&r->lock);
    if (r->part[s] == NULL && (r->part[s] = malloc(LOGRING_MAX_LINE + 1)) == NULL)
        len = 0; /* no memory for the line: the store still has it */
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        size_t room = LOGRING_MAX_LINE - r->partlen[s];

        if (take > room) {
            /* The line is too long: emit what fits as a partial line. */
            memcpy(r->part[s] + r->partlen[s], data, room);
            push_line(r, stream, r->part[s], LOGRING_MAX_LINE, 1, time_ms);
            r->partlen[s] = 0;
            data += room;
            len -= room;
            continue;
        }
        memcpy(r->part[s] + r->partlen[s], data, take);
        r->partlen[s] += take;
        r->part_t[s] = time_ms;
        data += take;
        len -= take;
        if (nl != NULL) {
            push_line(r, stream, r->part[s], r->partlen[s], 0, time_ms);
            r->partlen[s] = 0;
            data++;
            len--;
        }
    }
    last = r->next_seq - 1;
    pthread_mutex_unlock(&r->lock);
    return last;
}

uint64_t logring_put(struct logring *r, int stream, int partial, int64_t time_ms, const char *text)
{
    size_t n = strnlen(text, LOGRING_MAX_LINE);
    uint64_t seq;

    pthread_mutex_lock(&r->lock);
    push_line(r, stream == 2 ? 2 : 1, text, n, partial || text[n] != '\0', time_ms);
    seq = r->next_seq - 1;
    pthread_mutex_unlock(&r->lock);
    return seq;
}

/* Caller holds the lock. */
static void finish_locked(struct logring *r)
{
    for (int s = 0; s < 2; s++) {
        if (r->partlen[s] > 0) {
            push_line(r, s + 1, r->part[s], r->partlen[s], 1, r->part_t[s]);
            r->partlen[s] = 0;
        }
    }
}

void logring_finish(struct logring *r)
{
    pthread_mutex_lock(&r->lock);
    finish_locked(r);
    pthread_mutex_unlock(&r->lock);
}

void logring_trim(struct logring *r, size_t max_lines, size_t max_bytes)
{
    pthread_mutex_lock(&r->lock);
    finish_locked(r);
    for (int s = 0; s < 2; s++) {
        free(r->part[s]);
        r->part[s] = NULL;
    }
    r->max_lines = max_lines ? max_lines : 1;
    r->max_bytes = max_bytes;
    while (r->len > 0 && (r->len > r->max_lines || r->bytes > r->max_bytes))
        drop_oldest(r);
    if (r->cap > r->max_lines || r->cap > r->len)
        resize(r, r->len < r->max_lines ? r->len : r->max_lines);
    pthread_mutex_unlock(&r->lock);
}

size_t logring_footprint(struct logring *r)
{
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = sizeof *r + r->cap * sizeof *r->lines + r->bytes + r->len;
    for (int s = 0; s < 2; s++)
        if (r->part[s] != NULL)
            n += LOGRING_MAX_LINE + 1;
    pthread_mutex_unlock(&r->lock);
    return n;
}

uint64_t logring_last_seq(struct logring *r)
{
    uint64_t v;
    pthread_mutex_lock(&r->lock);
    v = r->next_seq - 1;
    pthread_mutex_unlock(&r->lock);
    return v;
}

uint64_t logring_first_seq(struct logring *r)
{
    uint64_t v;
    pthread_mutex_lock(&r->lock);
    v = r->len ? r->lines[r->head].seq : r->next_seq;
    pthread_mutex_unlock(&r->lock);
    return v;
}

size_t logring_get(struct logring *r, uint64_t from, struct logline *out, size_t max)
{
    size_t n = 0;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->len && n < max; i++) {
        struct logline *l = &r->lines[(r->head + i) % r->cap];
        if (l->seq < from)
            continue;
        out[n] = *l;
        out[n].text = strdup(l->text);
        if (out[n].text == NULL)
            break;
        n++;
    }
    pthread_mutex_unlock(&r->lock);
    return n;
}

void logline_free_all(struct logline *lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(lines[i].text);
        lines[i].text = NULL;
    }
}
