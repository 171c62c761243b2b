/*
 * worker.h: one background thread for slow work, with one mutex, one
 * condition variable, a job queue and a wake-up pipe the owner polls (the
 * shape of redis's bio.c). Every thread the console runs beside its UI
 * thread is one of these: the store reader (tui/fetch.c), the learning
 * snapshots (tui/learnsnap.c) and the console's jobs (tui/jobs.c).
 *
 * DESIGN
 * The thread sleeps on the condition variable until there is something to
 * do, and there are two kinds of something:
 *   - Jobs (worker_submit): closures run in FIFO order; a finished job goes
 *     to a done list and the pipe becomes readable; the owner takes it
 *     (worker_take) and shows its outcome. Jobs are for work asked for once
 *     that must not be lost or merged (clean up, deploy, cancel).
 *   - Requests kept by the user of the worker in its own fields ("slots":
 *     only the newest of a kind matters, requests coalesce). The ops say
 *     when there is one (pick, under the lock) and do it (run, without the
 *     lock); run publishes its result under worker_lock and calls
 *     worker_notify. pick can ask to be asked again at a time (due_ns), for
 *     rate limits.
 * Jobs go before requests. The owner sets its request fields under
 * worker_lock and calls worker_signal; the thread then calls pick again.
 *
 * The clock of due times and worker_sleep is sd_mono_ns (CLOCK_MONOTONIC),
 * and the condition variable waits on the same clock.
 *
 * worker_stop sets the stop flag, wakes the thread and joins it: the job or
 * run under way finishes first (long ones poll worker_stopping), jobs not
 * run and jobs not taken are freed unrun. After it returns nothing of the
 * worker remains (no thread, no fd, no memory).
 *
 * THREADS: worker_start, worker_stop, worker_take, worker_drain, worker_fd:
 * the owner; worker_submit, worker_notify, worker_lock/unlock and the
 * rest: any thread. Functions that say "lock held" assert it.
 */
#ifndef SD_WORKER_H
#define SD_WORKER_H

#include <stdint.h>

#include "util.h"

struct worker;

/* A job: embed it as the first member of the caller's struct. */
struct worker_job {
    void (*run)(struct worker_job *job);  /* on the worker thread, without the lock */
    void (*free)(struct worker_job *job); /* frees the whole job; NULL: free(job) */
    struct worker_job *next;              /* the worker's */
};

/* The request side (any member may be NULL; ops NULL: jobs only). */
struct worker_ops {
    /* On the thread, before anything else, without the lock. */
    void (*enter)(void *arg);
    /* Lock held: 1 = a request is taken, run it now; 0 = nothing now. On 0,
     * *due_ns (sd_mono_ns, 0 on entry) set non-zero asks for another pick
     * then, even if nobody signals. */
    int (*pick)(void *arg, uint64_t *due_ns);
    /* Without the lock: do what pick took. */
    void (*run)(void *arg);
    /* On the thread, last, without the lock. */
    void (*leave)(void *arg);
};

/* Start the thread. *wp is set to the worker before the thread starts, so
 * the ops may read it from arg's fields (pass &arg->w). name is for error
 * messages ("store reader"); ops and arg must outlive the worker (ops may
 * be NULL: jobs only). Returns 0, or -1 with err set (SD_ENOMEM, SD_EENV)
 * and *wp NULL when memory, the pipe or the thread cannot be had; nothing
 * is left behind then. */
int worker_start(struct worker **wp, const char *name, const struct worker_ops *ops, void *arg,
                 struct sd_err *err);

/* Stop and join the thread (the job or run under way finishes first), free
 * every job not run or not taken with its free callback, close the pipe,
 * free w. Accepts NULL. May block as long as the work under way. */
void worker_stop(struct worker *w);

/* The read end of the wake-up pipe: readable when the worker notified. */
int worker_fd(const struct worker *w);

/* Make worker_fd readable (coalesced: a full pipe already is). Any thread,
 * with or without the lock. Can't fail. */
void worker_notify(struct worker *w);

/* Empty the wake-up pipe. The owner calls it before looking at what the
 * worker published, so a notification after that is never lost. */
void worker_drain(struct worker *w);

/* Queue a job (FIFO). Returns 0, or -1 when the worker is stopping (the
 * job is not taken: the caller still owns it). Any thread. */
int worker_submit(struct worker *w, struct worker_job *job);

/* The oldest finished job, or NULL; the caller owns it (and frees it with
 * its free callback). Drains the pipe: once worker_fd was readable, call it
 * until NULL. Owner thread. */
struct worker_job *worker_take(struct worker *w);

/* The worker's lock, for the fields a worker_ops user shares with its
 * thread. Not recursive. */
void worker_lock(struct worker *w);
void worker_unlock(struct worker *w);

/* Lock held: abort unless the calling thread holds w's lock. */
void worker_assert_locked(struct worker *w);

/* Lock held: wake the thread so it picks again (and whoever waits in
 * worker_sleep). */
void worker_signal(struct worker *w);

/* Lock held: whether worker_stop was called. */
int worker_stopping(struct worker *w);

/* Lock held: wait up to ns, or until signalled or stopped (the lock is
 * released meanwhile and held again on return). For retry loops in run. */
void worker_sleep(struct worker *w, uint64_t ns);

/* Whether worker_stop was called, taking the lock (for long work without
 * it to poll). */
int worker_should_stop(struct worker *w);

#endif
