/*
 * span.h: timestamps at named points of one deployment's way through the
 * engine, for the daemon benchmark's breakdown (docs/benchmarks/daemon.md).
 *
 * Compiled out unless the build defines SD_SPANS (a bench build:
 * `cmake -S . -B build-spans -DCMAKE_C_FLAGS=-DSD_SPANS`): then sd_span
 * costs nothing and records nothing. With it, each point of each
 * deployment id keeps its newest CLOCK_MONOTONIC time (sd_mono_ns) in a
 * fixed table (ids modulo SPAN_KEYS), which the benchmark reads after the
 * deployment ended.
 *
 * Thread safety: any thread (relaxed atomics; one writer per point and id).
 */
#ifndef SD_SPAN_H
#define SD_SPAN_H

#include <stdint.h>

enum sd_span_point {
    SPAN_REQUEST,   /* the daemon's request thread had the whole request */
    SPAN_LAUNCH_IN, /* ... and entered launch_submit (who asked is known) */
    SPAN_CHECKED,   /* the launch was validated (coord_check) */
    SPAN_RUN_ROW,   /* the run's id is known (its row written or queued) */
    SPAN_SUBMITTED, /* coord_submit returned (the trajectory row written) */
    SPAN_ANSWERED,  /* the request thread queued its 201 answer */
    SPAN_TAKEN,     /* a worker took the deployment off the FIFO */
    SPAN_FINISH,    /* its worker classified the exit (work_finish entered) */
    SPAN_RECORDED,  /* its records were committed (the worker's flush returned) */
    SPAN_PUSHED,    /* the terminal state event was pushed */
    SPAN_PUMPED,    /* the daemon's pump took the terminal event */
    SPAN_LOGGED,    /* ... and appended it to the event log */
    SPAN_STREAMED,  /* a stream thread handed it to libmicrohttpd */
    /* keyed by the run's id: */
    SPAN_RUN_LAST,      /* the daemon counted the run's last deployment's end */
    SPAN_RUN_COMMITTED, /* the run's end is committed */
    SPAN_RUN_LOGGED,    /* its "run" event is in the event log */
    SPAN_COUNT
};

#define SPAN_KEYS 16384

#ifdef SD_SPANS
/* Record now (or ns) as point p of deployment id. */
void sd_span(int p, int64_t id);
void sd_span_at(int p, int64_t id, uint64_t ns);
/* The newest time of point p of id, 0 when none. */
uint64_t sd_span_get(int p, int64_t id);
#else
/* The arguments are still evaluated (and so count as used). */
#define sd_span(p, id)        ((void)(p), (void)(id))
#define sd_span_at(p, id, ns) ((void)(p), (void)(id), (void)(ns))
#define sd_span_get(p, id)    ((void)(p), (void)(id), (uint64_t)0)
#endif

#endif
