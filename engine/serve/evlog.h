/*
 * evlog.h: the daemon's event log: every change a client may watch (a
 * deployment's state, progress, new output, a run ending, a breaker moving),
 * numbered in order, so a client resumes from the last number it saw with no
 * gap and no duplicate (Kubernetes' list+watch from a resourceVersion).
 *
 * Design: a ring of the newest `cap` events, each an owned JSON text. The
 * producer (the daemon's pump thread) never blocks: when the ring is full the
 * oldest event falls off. A reader that asks for events after a number that
 * already fell off is told to resync (list again, then watch from the
 * number the list carries), never handed a stream with a hole in it. So a
 * slow client costs the engine nothing: it only falls behind and resyncs.
 *
 * Thread safety: any thread; one mutex, and a condition variable that
 * readers wait on for new events.
 */
#ifndef SD_EVLOG_H
#define SD_EVLOG_H

#include <stddef.h>
#include <stdint.h>

struct evlog;

struct evlog_item {
    uint64_t seq;
    char *json; /* malloc'd copy: free with evlog_items_free */
};

/* A log holding the newest cap (>= 1) events. NULL on allocation failure. */
struct evlog *evlog_new(size_t cap);
void evlog_free(struct evlog *l); /* accepts NULL; no reader may be waiting */

/* Append a copy of json (one JSON object, no newline) and wake readers.
 * Returns its sequence number (1, 2, ...), or 0 when out of memory (the
 * event is then lost and readers past it resync, as for an overflow). */
uint64_t evlog_append(struct evlog *l, const char *json);

/* The newest sequence number (0 before the first event). */
uint64_t evlog_last(struct evlog *l);

/* Copy up to max events with seq > since into out, oldest first, waiting up
 * to timeout_ms (0: not at all, -1: until one comes or the log closes) for
 * at least one. Returns the count (0 on timeout), -1 when closed.
 * *resync is set to 1, and nothing copied, when an event after `since` has
 * already fallen off (or since is ahead of the log: a daemon restarted):
 * the caller must re-read the state and continue from evlog_last. */
int evlog_read(struct evlog *l, uint64_t since, struct evlog_item *out, size_t max, int timeout_ms,
               int *resync);
void evlog_items_free(struct evlog_item *items, int n);

/* Wake every reader and make later reads return -1 (the daemon stops). */
void evlog_close(struct evlog *l);

#endif
