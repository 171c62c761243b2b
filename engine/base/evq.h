/*
 * evq.h: a bounded multi-producer, single-consumer event queue with a
 * coalesced wake-up fd, from the engine to the console (design.md §2).
 *
 * Producers (worker threads) never block: when the queue is full the event is
 * dropped and the queue remembers it overflowed; the consumer's next drain
 * starts with an EV_RESYNC event telling it to re-read state from the engine
 * instead of trusting deltas. The wake-up fd (an eventfd) becomes readable
 * once per batch of pushes, not per push, so a chatty engine costs the UI one
 * wake-up per frame at most.
 *
 * Thread safety: evq_push from any thread; evq_drain and evq_fd from the one
 * consumer thread.
 */
#ifndef SD_EVQ_H
#define SD_EVQ_H

#include <stddef.h>
#include <stdint.h>

enum ev_type {
    EV_RESYNC = 0,   /* events were dropped: re-read everything */
    EV_STATE = 1,    /* a deployment changed state (state field) */
    EV_OUTPUT = 2,   /* new output lines (seq = last line's sequence number) */
    EV_PROGRESS = 3, /* progress = bar/of, equity */
    EV_SAMPLE = 4,   /* cpu_ms, mem_kb */
    EV_NOTICE = 5,   /* a message for the operator is waiting (a console of a daemon) */
};

struct ev {
    int type;
    int state;
    int64_t traj_id;
    uint64_t seq;
    double progress;
    double equity;
    int64_t cpu_ms;
    int64_t mem_kb;
};

struct evq;

/* A queue holding at most cap events. Returns NULL on allocation failure. */
struct evq *evq_new(size_t cap);
void evq_free(struct evq *q); /* accepts NULL */

/* Append a copy of e. Never blocks; returns 0, or -1 if it was dropped. */
int evq_push(struct evq *q, const struct ev *e);

/* Move up to max events into out, oldest first; returns how many. Clears the
 * wake-up fd when the queue is empty afterwards. */
size_t evq_drain(struct evq *q, struct ev *out, size_t max);

/* The fd to poll for POLLIN. */
int evq_fd(const struct evq *q);

/* Events dropped since creation. */
uint64_t evq_dropped(struct evq *q);

#endif
