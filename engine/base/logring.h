/*
 * logring.h: the live output of one sandbox as lines, for the console.
 *
 * The store keeps every byte (up to its cap); this ring keeps the most recent
 * lines in memory so the console can pull the visible window without touching
 * SQLite (design.md §2: bulk data is pulled, events carry small copies).
 * Lines are split per stream; a partial line is held until its newline or
 * until it exceeds LOGRING_MAX_LINE, when it is emitted as a partial line.
 * Every line gets the next sequence number (starting at 1); old lines fall
 * off when the ring exceeds its line or byte budget.
 *
 * Memory: a ring costs what it holds, not its budget. The line array grows
 * by doubling up to max_lines and the partial-line buffers are made on first
 * use, so a queued deployment's ring is a few dozen bytes; when a stream has
 * ended, logring_trim shrinks the ring to a small tail (a swarm of 10,000
 * deployments keeps 10,000 finished rings; the store has every byte).
 *
 * Thread safety: any thread (one mutex per ring).
 */
#ifndef SD_LOGRING_H
#define SD_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#define LOGRING_MAX_LINE 4096

struct logline {
    uint64_t seq;
    int stream;      /* 1 stdout, 2 stderr */
    int partial;     /* cut at LOGRING_MAX_LINE or at end of stream */
    int64_t time_ms; /* when the line completed */
    char *text;      /* NUL-terminated, without the newline */
};

struct logring;

/* A ring that keeps at most max_lines lines and max_bytes bytes of text;
 * it allocates as lines come, not up front. NULL when out of memory. */
struct logring *logring_new(size_t max_lines, size_t max_bytes);
void logring_free(struct logring *r); /* accepts NULL */

/* Feed a chunk of stream output. Returns the last sequence number assigned. */
uint64_t logring_append(struct logring *r, int stream, const char *data, size_t len);

/* As logring_append, the lines completed by this chunk stamped time_ms
 * instead of now (a stored chunk's receive time; 0: not known). */
uint64_t logring_append_at(struct logring *r, int stream, const char *data, size_t len,
                           int64_t time_ms);

/* Append one whole line as another ring numbered it (a console copying a
 * daemon's lines): text without its newline, cut at LOGRING_MAX_LINE (then
 * partial), time_ms kept. Held partial lines of logring_append are not
 * touched. Returns the sequence number assigned here. */
uint64_t logring_put(struct logring *r, int stream, int partial, int64_t time_ms, const char *text);

/* Emit any held partial lines (at end of stream). */
void logring_finish(struct logring *r);

/* The output has ended: emit any held partial line (as logring_finish),
 * drop the oldest lines until at most max_lines lines of at most max_bytes
 * bytes of text remain, free the partial-line buffers and shrink the line
 * array to fit, and keep that smaller budget from now on. Sequence numbers
 * are unchanged, so a reader sees the dropped lines as fallen off. If the
 * smaller array cannot be allocated the old one is kept. Can't fail. */
void logring_trim(struct logring *r, size_t max_lines, size_t max_bytes);

/* The heap bytes r holds now: the ring itself, its line array, its
 * partial-line buffers and every line's text with its terminator (malloc's
 * own overhead not counted). */
size_t logring_footprint(struct logring *r);

/* The newest sequence number (0 when empty) and the oldest still held. */
uint64_t logring_last_seq(struct logring *r);
uint64_t logring_first_seq(struct logring *r);

/* Copy up to max lines with seq >= from into out (texts are malloc'ed copies:
 * free them with logline_free_all). Returns the count. */
size_t logring_get(struct logring *r, uint64_t from, struct logline *out, size_t max);
void logline_free_all(struct logline *lines, size_t n);

#endif
