/*
 * worker_test.c: the worker-thread skeleton (engine/base/worker.h).
 *
 * Jobs run in order and come back through the wake-up fd; requests kept in
 * the caller's fields coalesce and honour the due time pick asks for;
 * stopping with jobs queued, running and not taken frees them all (ASan
 * sees a leak or a use after free); worker_sleep returns early when
 * signalled; the lock assertion holds. Waits are poll() on the fd with a
 * deadline, never a sleep that guesses the machine's speed.
 *
 * Usage: test-worker CASE (see the table at the end); no argument runs all.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

#include "check.h"

/* The next finished job, waiting up to 10 s for the fd. */
static struct worker_job *wait_job(struct worker *w)
{
    uint64_t end = sd_mono_ns() + 10000000000ull;
    struct worker_job *j;
    while ((j = worker_take(w)) == NULL && sd_mono_ns() < end) {
        struct pollfd pf = {worker_fd(w), POLLIN, 0};
        poll(&pf, 1, 100);
    }
    return j;
}

struct add_job {
    struct worker_job job;
    int n, out;
    int *order, *norder; /* run order, written by the worker only */
};

static void add_run(struct worker_job *j)
{
    struct add_job *a = (struct add_job *)j;
    a->out = a->n * 2;
    a->order[(*a->norder)++] = a->n;
}

static atomic_int freed;

static void add_free(struct worker_job *j)
{
    atomic_fetch_add(&freed, 1);
    free(j);
}

static struct add_job *add_new(int n, int *order, int *norder)
{
    struct add_job *a = calloc(1, sizeof *a);
    a->job.run = add_run;
    a->job.free = add_free;
    a->n = n;
    a->order = order;
    a->norder = norder;
    return a;
}

/* Jobs run in FIFO order, each comes back once, with its result. */
static void t_jobs(void)
{
    struct sd_err err = {0};
    struct worker *w;
    int order[16], norder = 0;

    CHECK(worker_start(&w, "test", NULL, NULL, &err) == 0 && worker_fd(w) >= 0);
    for (int i = 0; i < 16; i++)
        CHECK(worker_submit(w, &add_new(i, order, &norder)->job) == 0);
    for (int i = 0; i < 16; i++) {
        struct add_job *a = (struct add_job *)wait_job(w);
        CHECK(a != NULL && a->n == i && a->out == 2 * i);
        if (a != NULL)
            a->job.free(&a->job);
    }
    CHECK(worker_take(w) == NULL);
    worker_stop(w);
    CHECK(norder == 16);
    for (int i = 0; i < norder; i++)
        CHECK(order[i] == i);
    worker_stop(NULL); /* accepts NULL */
}

/* A job that blocks until told, to stop a worker with work in every state. */
struct gate_job {
    struct worker_job job;
    atomic_int *started, *open;
};

static void gate_run(struct worker_job *j)
{
    struct gate_job *g = (struct gate_job *)j;
    atomic_store(g->started, 1);
    while (!atomic_load(g->open)) {
        struct pollfd none = {-1, 0, 0};
        poll(&none, 0, 1);
    }
}

static void gate_free(struct worker_job *j)
{
    atomic_fetch_add(&freed, 1);
    free(j);
}

/* Stopping frees the jobs not taken and not run; the one running finishes
 * first. Submitting after stop is refused and leaves the job to the
 * caller. */
static void t_stop_frees(void)
{
    struct sd_err err = {0};
    struct worker *w;
    atomic_int started = 0, open = 0;
    int order[8], norder = 0;
    struct gate_job *g = calloc(1, sizeof *g);
    struct add_job *first = add_new(1, order, &norder);

    atomic_store(&freed, 0);
    CHECK(worker_start(&w, "test", NULL, NULL, &err) == 0);
    CHECK(worker_submit(w, &first->job) == 0);
    /* Wait until the first is done and not taken. */
    {
        uint64_t end = sd_mono_ns() + 10000000000ull;
        struct pollfd pf = {worker_fd(w), POLLIN, 0};
        while (poll(&pf, 1, 100) == 0 && sd_mono_ns() < end)
            ;
    }
    g->job.run = gate_run;
    g->job.free = gate_free;
    g->started = &started;
    g->open = &open;
    CHECK(worker_submit(w, &g->job) == 0);
    for (int i = 2; i < 5; i++)
        CHECK(worker_submit(w, &add_new(i, order, &norder)->job) == 0);
    while (!atomic_load(&started)) {
        struct pollfd none = {-1, 0, 0};
        poll(&none, 0, 1);
    }
    atomic_store(&open, 1);
    worker_stop(w); /* 1 done, the gate running, 3 queued */
    CHECK(atomic_load(&freed) == 5);
    CHECK(norder == 1);
}

/* A request slot: the caller's fields under the worker's lock. */
struct slot {
    struct worker *w;
    int pending;                 /* under lock */
    int runs;                    /* under lock */
    uint64_t not_before, ran_at; /* under lock */
    int entered, left;           /* the thread's */
};

static void slot_enter(void *arg)
{
    ((struct slot *)arg)->entered = 1;
}

static void slot_leave(void *arg)
{
    ((struct slot *)arg)->left = 1;
}

static int slot_pick(void *arg, uint64_t *due)
{
    struct slot *s = arg;
    worker_assert_locked(s->w);
    if (!s->pending)
        return 0;
    if (sd_mono_ns() < s->not_before) {
        *due = s->not_before;
        return 0;
    }
    s->pending = 0;
    return 1;
}

static void slot_run(void *arg)
{
    struct slot *s = arg;
    worker_lock(s->w);
    s->runs++;
    s->ran_at = sd_mono_ns();
    worker_unlock(s->w);
    worker_notify(s->w);
}

static const struct worker_ops slot_ops = {slot_enter, slot_pick, slot_run, slot_leave};

static void wait_fd(struct worker *w)
{
    struct pollfd pf = {worker_fd(w), POLLIN, 0};
    CHECK(poll(&pf, 1, 10000) == 1);
    worker_drain(w);
}

/* Requests made while one is pending coalesce; a due time is kept without
 * anyone signalling; enter and leave run on the thread. */
static void t_requests(void)
{
    struct sd_err err = {0};
    struct slot s = {0};
    uint64_t asked;

    CHECK(worker_start(&s.w, "slot", &slot_ops, &s, &err) == 0);
    /* Ten requests under one lock: one run. */
    worker_lock(s.w);
    for (int i = 0; i < 10; i++) {
        s.pending = 1;
        worker_signal(s.w);
    }
    worker_unlock(s.w);
    wait_fd(s.w);
    worker_lock(s.w);
    CHECK(s.runs == 1 && !s.pending);
    /* Not before 200 ms from now: pick asks to be woken then. */
    asked = sd_mono_ns();
    s.not_before = asked + 200000000ull;
    s.pending = 1;
    worker_signal(s.w);
    worker_unlock(s.w);
    wait_fd(s.w);
    worker_lock(s.w);
    CHECK(s.runs == 2 && s.ran_at >= s.not_before);
    worker_unlock(s.w);
    worker_stop(s.w);
    CHECK(s.entered && s.left);
}

/* worker_sleep ends at its time, or early when signalled, and at once
 * when stopping. */
static void *signaller(void *arg)
{
    struct worker *w = arg;
    struct pollfd none = {-1, 0, 0};
    poll(&none, 0, 50);
    worker_lock(w);
    worker_signal(w);
    worker_unlock(w);
    return NULL;
}

static void t_sleep(void)
{
    struct sd_err err = {0};
    struct worker *w;
    pthread_t t;
    uint64_t t0;

    CHECK(worker_start(&w, "sleep", NULL, NULL, &err) == 0);
    worker_lock(w);
    t0 = sd_mono_ns();
    worker_sleep(w, 20000000ull);
    CHECK(sd_mono_ns() - t0 >= 20000000ull);
    pthread_create(&t, NULL, signaller, w);
    t0 = sd_mono_ns();
    worker_sleep(w, 60000000000ull); /* a minute, unless signalled */
    CHECK(sd_mono_ns() - t0 < 30000000000ull);
    CHECK(!worker_stopping(w));
    worker_unlock(w);
    pthread_join(t, NULL);
    CHECK(!worker_should_stop(w));
    worker_stop(w);
}

static const struct check_case tests[] = {
    {"jobs", t_jobs},
    {"stop_frees", t_stop_frees},
    {"requests", t_requests},
    {"sleep", t_sleep},
};

int main(int argc, char **argv)
{
    return check_main(tests, sizeof tests / sizeof tests[0], argc, argv);
}
