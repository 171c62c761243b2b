/*
 * traj.h: writing runs, trajectories and operations to the store.
 *
 * Every function queues a job on the store's writer thread (store.h) except
 * traj_insert and run_begin, which wait for the new row's id. Strings are
 * copied; callers keep ownership of what they pass.
 *
 * Trajectory states, in order: queued -> running -> one terminal state
 * (succeeded, failed, timeout, cancelled, interrupted). traj_finish is called
 * exactly once per trajectory by its owner.
 */
#ifndef SD_TRAJ_H
#define SD_TRAJ_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum traj_state {
    TS_QUEUED,
    TS_RUNNING,
    TS_SUCCEEDED,
    TS_FAILED,
    TS_TIMEOUT,
    TS_CANCELLED,
    TS_INTERRUPTED,
    TS_COUNT
};

const char *traj_state_name(int state);
int traj_state_from_name(const char *name); /* -1 when unknown */
int traj_state_terminal(int state);

struct traj_new {
    const char *uuid;
    int64_t run_id; /* 0 = none */
    const char *strategy, *symbol, *params, *provider, *description;
    const char *prediction; /* JSON or NULL */
    int auto_optimized;
};

/* Insert a queued trajectory; returns its id (> 0) or -1 with err set. */
int64_t traj_insert(struct store *s, const struct traj_new *t, struct sd_err *err);

void traj_running(struct store *s, int64_t id, const char *sandbox_id, int64_t started_at);

/* Record one operation (seq counts from 1 per trajectory). */
void traj_op(struct store *s, int64_t id, int seq, const char *name, int64_t started_at,
             double duration_ms, int ok, const char *detail);

struct traj_final {
    int state;
    int exit_code; /* -1 = none */
    const char *error;
    int64_t ended_at;
    double duration_ms;
    const char *result; /* JSON or NULL */
    double reward;
    const char *isolation; /* JSON or NULL */
    const char *op_sequence;
};
void traj_finish(struct store *s, int64_t id, const struct traj_final *f);

/* The state trajectory id has in the store once everything queued before
 * the call is committed (it flushes first): enum traj_state, or -1 with err
 * (SD_EENV) when a write failed since the last flush, the row is missing or
 * the store cannot be read. Flushes once and reads on a pooled reader
 * (store_reader_borrow). Any thread but the writer. */
int traj_committed_state(struct store *s, int64_t id, struct sd_err *err);

/* Runs group deployments: kind is deploy, swarm or benchmark. */
int64_t run_begin(struct store *s, const char *kind, const char *spec, struct sd_err *err);
void run_end(struct store *s, int64_t id, const char *status, const char *summary);

/* Mark every queued or running trajectory whose owning process is gone (or,
 * with all, every one) as interrupted, and close the runs such a process
 * left 'running' as 'interrupted' too. Synchronous (flushes); returns how
 * many trajectories, or -1 with err. */
int traj_mark_orphans_interrupted(struct store *s, int all, struct sd_err *err);

/* Take over the E2B deployments a process that died left running: every
 * running trajectory holding a lease of an E2B sandbox (workdir "e2b:...")
 * whose owner is gone gets this process as the owner of its lease, its row
 * and its run (a run still 'running'), so recovery (recover_orphans) leaves
 * them to this process to re-adopt (coord_adopt) instead of marking them
 * interrupted. Synchronous (flushes). *ids (malloc'ed, the caller frees it)
 * gets the trajectories taken, *n their count. A second process claiming at
 * the same time takes none of the same. Returns 0, or -1 with err. */
int traj_claim_e2b(struct store *s, int64_t **ids, size_t *n, struct sd_err *err);

/* Close run `run` as a daemon closes the runs it launched (succeeded when
 * every deployment succeeded, else failed, with the same summary JSON) once
 * none of its trajectories is queued or running, if this process owns it
 * and it is still 'running'; else nothing. For runs taken over with
 * traj_claim_e2b, which no launcher tracks. Asynchronous. */
void run_end_if_done(struct store *s, int64_t run);

/* The id the next traj_insert of this process will get unless another
 * insert comes first (the writer sees its own uncommitted rows). For
 * seeding: the auto-optimiser mixes it into its seed. Returns it (> 0), or
 * -1 with err. */
int64_t traj_next_id(struct store *s, struct sd_err *err);

/* A fresh random UUID (v4) into buf (37 bytes). */
void traj_uuid(char buf[37]);

#endif
