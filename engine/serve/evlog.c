/*
 * evlog.c: the daemon's numbered event ring (evlog.h has the contract).
 *
 * Sequence numbers are dense: the event with number s sits at slot
 * (s - 1) % cap while first <= s <= last. A read from `since` is complete
 * only if since + 1 >= first (nothing after since fell off) and
 * since <= last (since is a number this log gave out).
 */
#define _GNU_SOURCE
#include "evlog.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct evlog {
    pthread_mutex_t lock;
    pthread_cond_t more;
    char **slot;
    size_t cap;
    uint64_t first, last; /* first held and newest number; first > last when empty */
    int closed;
};

struct evlog *evlog_new(size_t cap)
{
    struct evlog *l;
    pthread_condattr_t ca;

    if (cap == 0 || (l = calloc(1, sizeof *l)) == NULL)
        return NULL;
    if ((l->slot = calloc(cap, sizeof *l->slot)) == NULL) {
        free(l);
        return NULL;
    }
    l->cap = cap;
    l->first = 1;
    pthread_mutex_init(&l->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->more, &ca);
    pthread_condattr_destroy(&ca);
    return l;
}

void evlog_free(struct evlog *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->cap; i++)
        free(l->slot[i]);
    free(l->slot);
    pthread_cond_destroy(&l->more);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

uint64_t evlog_append(struct evlog *l, const char *json)
{
    char *copy = strdup(json);
    uint64_t seq;
    size_t at;

    pthread_mutex_lock(&l->lock);
    seq = ++l->last;
    at = (size_t)((seq - 1) % l->cap);
    free(l->slot[at]);
    l->slot[at] = copy;
    if (seq - l->first >= l->cap)
        l->first = seq - l->cap + 1;
    if (copy == NULL)
        l->first = seq + 1; /* a hole: whoever is before it must resync */
    pthread_cond_broadcast(&l->more);
    pthread_mutex_unlock(&l->lock);
    return copy != NULL ? seq : 0;
}

uint64_t evlog_last(struct evlog *l)
{
    uint64_t s;
    pthread_mutex_lock(&l->lock);
    s = l->last;
    pthread_mutex_unlock(&l->lock);
    return s;
}

int evlog_read(struct evlog *l, uint64_t since, struct evlog_item *out, size_t max, int timeout_ms,
               int *resync)
{
    struct timespec dl;
    int n = 0;

    *resync = 0;
    if (timeout_ms > 0)
        dl = sd_timespec_after(1, timeout_ms);
    pthread_mutex_lock(&l->lock);
    for (;;) {
        if (l->closed) {
            n = -1;
            break;
        }
        if (since > l->last || since + 1 < l->first) {
            *resync = 1;
            break;
        }
        if (since < l->last || timeout_ms == 0)
            break;
        if (timeout_ms < 0)
            pthread_cond_wait(&l->more, &l->lock);
        else if (pthread_cond_timedwait(&l->more, &l->lock, &dl) == ETIMEDOUT)
            break;
    }
    if (n == 0 && !*resync) {
        for (uint64_t s = since + 1; s <= l->last && (size_t)n < max; s++) {
            char *copy = strdup(l->slot[(s - 1) % l->cap]);
            if (copy == NULL)
                break; /* the caller reads the rest next time */
            out[n].seq = s;
            out[n].json = copy;
            n++;
        }
    }
    pthread_mutex_unlock(&l->lock);
    return n;
}

void evlog_items_free(struct evlog_item *items, int n)
{
    for (int i = 0; i < n; i++) {
        free(items[i].json);
        items[i].json = NULL;
    }
}

void evlog_close(struct evlog *l)
{
    pthread_mutex_lock(&l->lock);
    l->closed = 1;
    pthread_cond_broadcast(&l->more);
    pthread_mutex_unlock(&l->lock);
}
