/*
 * worker.c: one background thread, its lock, its queue and its wake-up pipe
 * (worker.h).
 *
 * The thread's loop, under the lock: stop? leave. A job queued? Run it
 * without the lock, put it on the done list, notify. A request (ops->pick)?
 * Run it without the lock. Else wait on the condition variable, until the
 * due time pick asked for if any. The lock's holder is kept in an atomic
 * (a per-thread token's address) so "lock held" is asserted, not only
 * written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

struct worker {
    char name[48];
    const struct worker_ops *ops;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int pipe[2];
    _Atomic(const void *) holder; /* the lock holder's token, or NULL */
    /* Under lock: */
    int stop;
    struct worker_job *queue, **queue_tail; /* to run, oldest first */
    struct worker_job *done, **done_tail;   /* run, not taken, oldest first */
};

static _Thread_local char self_token; /* its address names the calling thread */

void worker_lock(struct worker *w)
{
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->holder, (const void *)&self_token);
}

void worker_unlock(struct worker *w)
{
    worker_assert_locked(w);
    atomic_store(&w->holder, NULL);
    pthread_mutex_unlock(&w->lock);
}

void worker_assert_locked(struct worker *w)
{
    if (atomic_load(&w->holder) != (const void *)&self_token) {
        fprintf(stderr, "%s: lock not held by this thread\n", w->name);
        abort();
    }
}

/* pthread_cond_*wait releases and retakes the mutex behind our back: the
 * holder token follows. */
static void wait_until(struct worker *w, const struct timespec *ts)
{
    atomic_store(&w->holder, NULL);
    if (ts != NULL)
        pthread_cond_timedwait(&w->cond, &w->lock, ts);
    else
        pthread_cond_wait(&w->cond, &w->lock);
    atomic_store(&w->holder, (const void *)&self_token);
}

static struct timespec mono_ts(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    return ts;
}

void worker_signal(struct worker *w)
{
    worker_assert_locked(w);
    pthread_cond_broadcast(&w->cond);
}

int worker_stopping(struct worker *w)
{
    worker_assert_locked(w);
    return w->stop;
}

int worker_should_stop(struct worker *w)
{
    int r;
    worker_lock(w);
    r = w->stop;
    worker_unlock(w);
    return r;
}

void worker_sleep(struct worker *w, uint64_t ns)
{
    struct timespec ts;
    worker_assert_locked(w);
    if (w->stop)
        return;
    ts = mono_ts(sd_mono_ns() + ns);
    wait_until(w, &ts);
}

void worker_notify(struct worker *w)
{
    if (write(w->pipe[1], "w", 1) < 0) {
        /* full: the owner has a wake-up pending already */
    }
}

void worker_drain(struct worker *w)
{
    char b[64];
    while (read(w->pipe[0], b, sizeof b) > 0)
        ;
}

int worker_fd(const struct worker *w)
{
    return w ? w->pipe[0] : -1;
}

static void job_free(struct worker_job *j)
{
    if (j->free != NULL)
        j->free(j);
    else
        free(j);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct worker_ops *ops = w->ops;

    if (ops && ops->enter)
        ops->enter(w->arg);
    worker_lock(w);
    while (!w->stop) {
        uint64_t due = 0;
        if (w->queue != NULL) {
            struct worker_job *j = w->queue;
            if ((w->queue = j->next) == NULL)
                w->queue_tail = &w->queue;
            j->next = NULL;
            worker_unlock(w);
            j->run(j);
            worker_lock(w);
            *w->done_tail = j;
            w->done_tail = &j->next;
            worker_notify(w);
        } else if (ops && ops->pick && ops->pick(w->arg, &due)) {
            worker_unlock(w);
            if (ops->run)
                ops->run(w->arg);
            worker_lock(w);
        } else if (due != 0) {
            struct timespec ts = mono_ts(due);
            wait_until(w, &ts);
        } else {
            wait_until(w, NULL);
        }
    }
    worker_unlock(w);
    if (ops && ops->leave)
        ops->leave(w->arg);
    return NULL;
}

int worker_start(struct worker **wp, const char *name, const struct worker_ops *ops, void *arg,
                 struct sd_err *err)
{
    struct worker *w = calloc(1, sizeof *w);
    pthread_condattr_t ca;

    *wp = NULL;
    if (w == NULL)
        return sd_err_set(err, SD_ENOMEM, "%s: out of memory", name);
    snprintf(w->name, sizeof w->name, "%s", name);
    w->ops = ops;
    w->arg = arg;
    w->queue_tail = &w->queue;
    w->done_tail = &w->done;
    atomic_init(&w->holder, NULL);
    if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        sd_err_set(err, SD_EENV, "%s: pipe: %s", name, strerror(errno));
        free(w);
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    *wp = w; /* before the thread: it may read it through arg */
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        *wp = NULL;
        close(w->pipe[0]);
        close(w->pipe[1]);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return sd_err_set(err, SD_EENV, "%s: cannot start a thread", name);
    }
    return 0;
}

void worker_stop(struct worker *w)
{
    struct worker_job *j, *next;

    if (w == NULL)
        return;
    worker_lock(w);
    w->stop = 1;
    pthread_cond_broadcast(&w->cond);
    worker_unlock(w);
    pthread_join(w->thread, NULL);
    for (j = w->queue; j != NULL; j = next) {
        next = j->next;
        job_free(j);
    }
    for (j = w->done; j != NULL; j = next) {
        next = j->next;
        job_free(j);
    }
    close(w->pipe[0]);
    close(w->pipe[1]);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int worker_submit(struct worker *w, struct worker_job *job)
{
    int rc = -1;
    worker_lock(w);
    if (!w->stop) {
        job->next = NULL;
        *w->queue_tail = job;
        w->queue_tail = &job->next;
        pthread_cond_broadcast(&w->cond);
        rc = 0;
    }
    worker_unlock(w);
    return rc;
}

struct worker_job *worker_take(struct worker *w)
{
    struct worker_job *j;
    if (w == NULL)
        return NULL;
    worker_drain(w);
    worker_lock(w);
    if ((j = w->done) != NULL) {
        if ((w->done = j->next) == NULL)
            w->done_tail = &w->done;
        j->next = NULL;
    }
    worker_unlock(w);
    return j;
}
