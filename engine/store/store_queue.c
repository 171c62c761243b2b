/*
 * store_queue.c: the front of the store's writer: store_submit, store_call,
 * store_flush and store_get_stats (store.h has the contracts).
 *
 * DESIGN
 * Other threads hand the writer jobs through a FIFO (s->head, s->tail)
 * guarded by s->lock; the writer sleeps on s->wcond when it has nothing to
 * do (an async job queued while it waits out the queue's window does not
 * wake it; store_int.h: batched wake-ups), and callers of store_call and store_flush sleep on
 * s->cond (store_int.h, LOCKING).
 *
 * Sequence numbers. Each job gets s->submitted + 1 at submit. s->settled is
 * the highest sequence number whose batch has ended (committed or failed).
 * store_flush waits for settled >= its target. A failed batch bumps
 * s->fail_gen (so does any other write failure, store_writer.c); the next
 * flush to return reports it (once); store_write_failures and
 * store_write_failing read it at any time.
 *
 * A store_call job lives on the caller's stack with a struct call; the
 * writer sets call->done and broadcasts once the job has run. Called from a
 * job (on the writer thread) store_call runs the function at once instead,
 * inside the current batch, since waiting for itself would never end.
 *
 * store_submit_stamped also stamps the job's argument with the time, under the lock, so the
 * stamps never go back along the queue (the order jobs are stored in).
 *
 * It calls nothing else in engine/store (store_writer.c takes the jobs).
 *
 * THREADS
 * Any thread, taking s->lock briefly (store_call and store_flush wait on
 * s->cond).
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static int is_writer(const struct store *s)
{
    return s->writer_started && pthread_equal(s->writer, pthread_self());
}

/* --- submit, call, flush -------------------------------------------------- */

/* Append j to the queue; the caller holds the lock. */
static void enqueue(struct store *s, struct job *j)
{
    ASSERT_LOCKED(s);
    j->seq = ++s->submitted;
    j->next = NULL;
    if (s->tail != NULL) {
        s->tail->next = j;
    } else {
        s->head = j;
        s->queue_since_ns = sd_mono_ns(); /* the batch window starts */
    }
    s->tail = j;
    s->queued++;
    if (j->call != NULL)
        s->queue_urgent = 1;
    /* A writer waiting out the queue's window runs async jobs at its end
     * (store_int.h: batched wake-ups); a call, a flush or a whole batch
     * wakes it, and the first job of an empty queue starts its timer. */
    if (s->writer_waiting && (!s->writer_timed || j->call != NULL || s->flush_waiters > 0 ||
                              s->queued >= STORE_BATCH_ROWS))
        pthread_cond_signal(&s->wcond);
}

/* store_submit, and with t_ms not NULL store_submit_stamped. */
static int submit(struct store *s, store_job_fn fn, void *arg, void (*free_arg)(void *),
                  int64_t *t_ms)
{
    struct job *j;

    if (s->flags & STORE_READONLY || (j = malloc(sizeof *j)) == NULL) {
        if (free_arg != NULL)
            free_arg(arg);
        return -1;
    }
    *j = (struct job){.fn = fn, .arg = arg, .free_arg = free_arg};
    store_lock(s);
    if (s->stopping) {
        store_unlock(s);
        free(j);
        if (free_arg != NULL)
            free_arg(arg);
        return -1;
    }
    if (t_ms != NULL) {
        /* Taken with the job's place in the queue, and never before the last one: the
         * stamps follow the order the writer stores the jobs in (runlog.h relies on it). */
        *t_ms = sd_now_ms();
        if (*t_ms < s->stamp_ms)
            *t_ms = s->stamp_ms;
        s->stamp_ms = *t_ms;
    }
    enqueue(s, j);
    store_unlock(s);
    return 0;
}

int store_submit(struct store *s, store_job_fn fn, void *arg, void (*free_arg)(void *))
{
    return submit(s, fn, arg, free_arg, NULL);
}

int store_submit_stamped(struct store *s, store_job_fn fn, void *arg, void (*free_arg)(void *),
                         int64_t *t_ms)
{
    return submit(s, fn, arg, free_arg, t_ms);
}

int store_call(struct store *s, store_job_fn fn, void *arg, struct sd_err *err)
{
    struct call c = {.err = err};
    struct job j = {.fn = fn, .arg = arg, .call = &c};

    if (s->flags & STORE_READONLY)
        return sd_err_set(err, SD_EUSAGE, "%s: the store is open read-only", s->path);
    if (is_writer(s))
        return fn(s, s->db, arg, err); /* already inside a batch */
    store_lock(s);
    if (s->stopping) {
        store_unlock(s);
        return sd_err_set(err, SD_EUSAGE, "%s: the store is closing", s->path);
    }
    enqueue(s, &j);
    while (!c.done)
        store_wait(s, NULL);
    store_unlock(s);
    return c.rc;
}

int store_flush(struct store *s, struct sd_err *err)
{
    uint64_t target;
    int rc = 0;

    if (s->flags & STORE_READONLY)
        return 0;
    if (is_writer(s))
        return sd_err_set(err, SD_EUSAGE, "store_flush called from a store job");
    store_lock(s);
    target = s->submitted;
    s->stats.flushes++;
    if (s->settled < target) {
        s->flush_waiters++;
        pthread_cond_signal(&s->wcond);
        while (s->settled < target)
            store_wait(s, NULL);
        s->flush_waiters--;
    }
    if (s->fail_gen != s->fail_reported) {
        s->fail_reported = s->fail_gen;
        rc = sd_err_set(err, SD_EENV, "%s: cannot write the store: %s", s->path, s->fail_msg);
    }
    store_unlock(s);
    return rc;
}

uint64_t store_mark(struct store *s, uint64_t *gen)
{
    uint64_t mark;

    *gen = 0;
    if (s->flags & STORE_READONLY)
        return 0;
    store_lock(s);
    mark = s->submitted;
    *gen = s->fail_gen;
    store_unlock(s);
    return mark;
}

int store_settled(struct store *s, uint64_t mark, uint64_t gen)
{
    int ok;

    if (s->flags & STORE_READONLY)
        return 0;
    store_lock(s);
    ok = s->settled >= mark && s->fail_gen == gen;
    store_unlock(s);
    return ok;
}

uint64_t store_write_failures(struct store *s, struct sd_err *err)
{
    uint64_t n;

    if (s->flags & STORE_READONLY)
        return 0;
    store_lock(s);
    n = s->fail_gen;
    if (n > 0 && err != NULL)
        sd_err_set(err, SD_EENV, "%s: cannot write the store: %s", s->path, s->fail_msg);
    store_unlock(s);
    return n;
}

int store_write_failing(struct store *s, struct sd_err *err)
{
    int f;

    if (s->flags & STORE_READONLY)
        return 0;
    store_lock(s);
    f = s->failing;
    if (f && err != NULL)
        sd_err_set(err, SD_EENV, "%s: cannot write the store: %s", s->path, s->fail_msg);
    store_unlock(s);
    return f;
}

void store_get_stats(struct store *s, struct store_stats *out)
{
    if (s->flags & STORE_READONLY) {
        memset(out, 0, sizeof *out);
        return;
    }
    store_lock(s);
    *out = s->stats;
    store_unlock(s);
}
