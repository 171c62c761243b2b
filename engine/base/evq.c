/*
 * evq.c: bounded MPSC event queue with a coalesced eventfd wake-up (evq.h).
 *
 * A ring of `cap` events under one mutex. Pushes are short critical sections
 * (a struct copy); the eventfd is written only on the empty -> non-empty
 * transition, which is what coalesces wake-ups.
 */
#define _GNU_SOURCE
#include "evq.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct evq {
    pthread_mutex_t lock;
    struct ev *ring;
    size_t cap, head, len;
    int overflow;
    uint64_t dropped;
    int fd;
    int signalled;
};

struct evq *evq_new(size_t cap)
{
    struct evq *q = calloc(1, sizeof *q);

    if (q == NULL || cap == 0)
        goto fail;
    q->ring = calloc(cap, sizeof *q->ring);
    if (q->ring == NULL)
        goto fail;
    q->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->fd < 0)
        goto fail;
    q->cap = cap;
    pthread_mutex_init(&q->lock, NULL);
    return q;
fail:
    if (q != NULL)
        free(q->ring);
    free(q);
    return NULL;
}

void evq_free(struct evq *q)
{
    if (q == NULL)
        return;
    close(q->fd);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
}

int evq_push(struct evq *q, const struct ev *e)
{
    int wake = 0, rc = 0;

    pthread_mutex_lock(&q->lock);
    if (q->len == q->cap) {
        q->overflow = 1;
        q->dropped++;
        rc = -1;
    } else {
        q->ring[(q->head + q->len) % q->cap] = *e;
        q->len++;
    }
    if (!q->signalled) {
        q->signalled = 1;
        wake = 1;
    }
    pthread_mutex_unlock(&q->lock);
    if (wake) {
        uint64_t one = 1;
        ssize_t n = write(q->fd, &one, sizeof one);
        (void)n; /* EAGAIN only if the counter is saturated: already readable */
    }
    return rc;
}

size_t evq_drain(struct evq *q, struct ev *out, size_t max)
{
    size_t n = 0;

    pthread_mutex_lock(&q->lock);
    if (q->overflow && max > 0) {
        out[n].type = EV_RESYNC;
        out[n].traj_id = 0;
        n++;
        q->overflow = 0;
    }
    while (n < max && q->len > 0) {
        out[n++] = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
    if (q->len == 0 && !q->overflow) {
        uint64_t v;
        ssize_t r = read(q->fd, &v, sizeof v);
        (void)r;
        q->signalled = 0;
    }
    pthread_mutex_unlock(&q->lock);
    return n;
}

int evq_fd(const struct evq *q)
{
    return q->fd;
}

uint64_t evq_dropped(struct evq *q)
{
    uint64_t d;
    pthread_mutex_lock(&q->lock);
    d = q->dropped;
    pthread_mutex_unlock(&q->lock);
    return d;
}
