/*
 * coord.h: the coordinator: deploys strategies into sandboxes.
 *
 * DESIGN
 * A deployment is one strategy run on one symbol in one sandbox, recorded as
 * one trajectory. coord_submit validates the request (strategy, parameters,
 * symbol) synchronously, inserts a queued trajectory and appends it to a FIFO
 * served by max_agents worker threads. A worker drives the deployment through
 * its operations, each timed and recorded:
 *     create -> upload -> start -> stream -> collect -> destroy
 * Provider failures (the sandbox could not be made or started) are retried
 * with exponential backoff, at most `retries` times; what the strategy does is
 * never retried. Every deployment ends in exactly one terminal state:
 * succeeded (exit 0 and exactly one valid @@result within the timeout),
 * failed, timeout, cancelled, or (after a crash, see recover.h) interrupted.
 *
 * Output: every chunk goes to the store byte for byte (store_output_append)
 * and, split into lines, to the deployment's log ring for the console.
 * Machine lines (@@progress, @@result, @@error) are parsed from stdout.
 * A deployment that writes more than max_output bytes is stopped and fails.
 *
 * Leases: the sandbox is leased in the store before it starts and the lease
 * is removed after destroy (crash recovery: recover.h).
 *
 * Providers: a list of instances ("local" first, then those added with
 * coord_add_provider), each with a circuit breaker (breaker.h) fed by
 * provider errors (SD_EENV from create, upload or start; never by what the
 * strategy does). Each attempt picks, among the instances matching the
 * request (by name or kind) whose breaker lets it through, the one with the
 * lowest recent create latency. When none does, the deployment fails over
 * to opts.failover if the operator allowed it, else fails at once saying
 * why. A retry never re-runs a deployment that already streamed output.
 *
 * THREADS
 * coord_new/coord_free: the owner thread. Everything else: any thread.
 * Events (evq.h) are pushed from worker threads; the console drains them.
 */
#ifndef SD_COORD_H
#define SD_COORD_H

#include <jansson.h>
#include <stdint.h>

#include "catalog.h"
#include "evq.h"
#include "logring.h"
#include "provider.h"
#include "store.h"
#include "traj.h"

struct coord_opts {
    int max_agents;     /* worker threads (10) */
    int64_t timeout_ms; /* per deployment (300000) */
    int64_t memory_mb;  /* per sandbox (512; 0 = none) */
    double cpus;        /* per sandbox (1; 0 = none) */
    int pids;           /* per sandbox (256) */
    int64_t disk_mb;    /* writable work dir cap per sandbox (256 MiB) */
    int learning;       /* record predictions and learn (issue: learning) */
    int auto_optimize;  /* choose unpinned parameters (issue: learning) */
    int strict;         /* refuse degraded isolation */
    int internet;       /* E2B sandboxes may reach the internet (explicit opt-in; default none) */
    int unsandboxed;    /* explicit opt-in to no isolation */
    int retries;        /* provider-error retries (3) */
    int64_t max_output; /* bytes per deployment before it is stopped (256 MiB) */
    int64_t backoff_ms; /* first retry delay, doubled each time (100) */
    uint64_t seed;      /* auto-optimize's random seed (0 = from the clock) */
    /* Providers (see coord_add_provider). provider: the instance name or kind
     * new deployments go to (NULL = "local"); failover: where they go when
     * every matching instance's breaker is open (NULL = fail fast). */
    const char *provider;
    const char *failover;
    int breaker_failures;        /* consecutive provider failures that open a breaker (3) */
    int64_t breaker_cooldown_ms; /* open -> half-open (30000) */
    /* Take over the E2B deployments a process that died left running and
     * re-adopt them (traj_claim_e2b, coord_adopt; the daemon sets it, as a
     * long-lived engine that will not cancel them when a command ends). */
    int adopt_e2b;
    /* Long-lived (the daemon): the local provider's warm pool fills from the start
     * (provider_local_warm), not only once more sandboxes than its size were asked for. */
    int warm_pool;
};

void coord_opts_default(struct coord_opts *o);

struct coord;

/* Start a coordinator over store s with the local provider. runner_path and
 * helper_path are swarmdeck-runner and swarmdeck-sandbox. Returns NULL with
 * err set. The coordinator does not own s. */
struct coord *coord_new(struct store *s, const struct coord_opts *o, const char *runner_path,
                        const char *helper_path, struct sd_err *err);

/* Add a provider instance (after the built-in "local"), with its own circuit
 * breaker. kind is "local" or "e2b"; detail is shown beside it (the domain).
 * The coordinator owns p from now on, even on failure. Call before the first
 * coord_submit. Returns 0, or -1 with err set (a duplicate name, too many). */
int coord_add_provider(struct coord *c, struct provider *p, const char *kind, const char *detail,
                       struct sd_err *err);

/* Cancel everything still queued or running, wait for the workers, free. */
void coord_free(struct coord *c);

struct catalog *coord_catalog(struct coord *c);
/* The learning engine (learn.h), or NULL when learning is off. */
struct learn *coord_learn(struct coord *c);
struct store *coord_store(struct coord *c);
struct evq *coord_events(struct coord *c);
const struct coord_opts *coord_options(struct coord *c);
/* The provider new deployments ask for by default (instance name or kind:
 * "local" unless the options said otherwise). Owned by c. */
const char *coord_default_provider(struct coord *c);

struct deploy_req {
    const char *strategy;
    json_t *params; /* strategy parameters (may hold symbol/symbols: ignored here) */
    const char *symbol;
    const char *description;
    const char *provider; /* instance name or kind; NULL = the coordinator's */
    int64_t run_id;       /* 0 = none */
    int64_t timeout_ms;   /* 0 = the coordinator's */
    int pace;             /* built-ins: bars per second to replay (0 = full speed) */
    const char *by;       /* who asked, recorded as the "submit" operation (NULL: none) */
    /* Walk-forward (docs/learning.md): train on the bars up to train_until
     * (YYYY-MM-DD) or on all but the last `validate` fraction, score the
     * rest out of sample; folds (2..50) cuts the held-out part into blocks.
     * Built-in strategies only (the runner's --train-until, --validate,
     * --folds); NULL / 0 / 0 = none. */
    const char *train_until;
    double validate;
    int folds;
};

/* Validate r exactly as coord_submit would, without queueing or storing
 * anything. Returns 0 or -1 with err set. */
int coord_check(struct coord *c, const struct deploy_req *r, struct sd_err *err);

/* The suggestion the learner makes for r (what coord_submit stores as the
 * prediction), without queueing anything. New reference, or NULL with err
 * set (learning off, or bad input). */
json_t *coord_suggest(struct coord *c, const struct deploy_req *r, struct sd_err *err);

/* The prediction stored for deployment id (new reference) or NULL. */
json_t *coord_prediction(struct coord *c, int64_t id);

/* Validate and queue one deployment. On success *id is its trajectory id.
 * On failure nothing is queued or stored and err says why (SD_EUSAGE for bad
 * input). */
int coord_submit(struct coord *c, const struct deploy_req *r, int64_t *id, struct sd_err *err);

/* A consistent copy of one deployment's live state. */
struct deploy_view {
    int64_t id;
    int state;
    char strategy[64];
    char symbol[32];
    char sandbox_id[80];
    char provider[32];
    char error[512];
    int exit_code; /* -1 = none */
    int synthetic;
    int64_t created_at, started_at, ended_at; /* ms since the epoch; 0 = not yet */
    double progress;                          /* 0..1 */
    double equity;
    int64_t cpu_ms, mem_kb;
    double total_return, sharpe; /* from the result when succeeded, else NaN */
    double reward;
    char isolation_level[32];
    uint64_t output_bytes;
    /* What a running deployment waits for before its sandbox exists, e.g.
     * "waiting for E2B capacity on e2b (429: ...); next try in 4 s"; "" when
     * it waits for nothing. */
    char waiting[256];
    /* A running deployment whose sandbox the operator paused (coord_pause): its state stays
     * TS_RUNNING in the store; views, the API and the console say "paused". */
    int paused;
};

/* The state name a view shows: traj_state_name(v->state), or "paused" for a running
 * deployment that is paused. A static string. */
const char *coord_view_state(const struct deploy_view *v);

/* v as the JSON object the daemon's API speaks (docs/daemon.md; times in
 * ms since the epoch, a number that is not finite is null). New reference. */
json_t *coord_view_json(const struct deploy_view *v);
/* The reverse: fill v from o. Returns 0, or -1 when o is not a view (no
 * integer id, unknown state). */
int coord_view_from_json(json_t *o, struct deploy_view *v);

/* The error of a deployment that succeeded but whose records the store did
 * not commit (worker.c): a client of a daemon ends with the store's exit
 * status when it sees one. */
#define COORD_NOT_RECORDED "succeeded, but not recorded in the store: "

/* Fill v for deployment id; returns 0, or -1 if this coordinator does not
 * know it. */
int coord_view(struct coord *c, int64_t id, struct deploy_view *v);

/* Copy up to max views (every deployment this coordinator has run, oldest
 * first); returns the count. */
size_t coord_list(struct coord *c, struct deploy_view *out, size_t max);

/* Every view (as coord_list), in a malloc'd array the caller frees, with
 * *n its length; NULL with *n = 0 when there are none or no memory. */
struct deploy_view *coord_list_all(struct coord *c, size_t *n);

/* The result JSON of a finished deployment (new reference) or NULL. */
json_t *coord_result(struct coord *c, int64_t id);

/* The deployment's log ring (valid until coord_free), or NULL. */
struct logring *coord_log(struct coord *c, int64_t id);

/* Block until deployment id is terminal; fills v. Returns 0 or -1 (unknown). */
int coord_wait(struct coord *c, int64_t id, struct deploy_view *v);

/* Block until no deployment is queued or running. */
void coord_wait_idle(struct coord *c);

/* Re-adopt the deployments ids, taken over with traj_claim_e2b from a
 * process that died while their E2B sandboxes ran (adopt.c): each is
 * rebuilt from the store as running, with the output the store holds, and
 * a worker reattaches to its sandbox and resumes its stream; one whose
 * provider instance is not configured here ends interrupted at once. Call
 * after the providers are added. Returns how many were queued, or -1 with
 * err when the store cannot be read. */
int coord_adopt(struct coord *c, const int64_t *ids, size_t n, struct sd_err *err);

/* Cancel one deployment (queued: at once; running: SIGTERM then SIGKILL).
 * Returns 0, or -1 if unknown or already terminal. */
int coord_cancel(struct coord *c, int64_t id);
void coord_cancel_all(struct coord *c);
/* coord_cancel, recording by (who asked: "pid P uid U user NAME tty T") as
 * the deployment's "cancel" operation (the first asker's, when several
 * cancel it). */
int coord_cancel_by(struct coord *c, int64_t id, const char *by);

/* Pause (on = 1) or resume (on = 0) a running deployment: every process of its sandbox
 * stops (SIGSTOP) or continues, and its timeout counts running time only (docs/sandbox.md).
 * The view says paused and a state event is pushed. Asking for the state it is in already
 * succeeds and changes nothing. A paused deployment can be cancelled (coord_cancel). Returns
 * 0, or -1 with err set: SD_EUSAGE when unknown here, not running (queued, ended, or its
 * sandbox not started yet), or on a provider that cannot pause (E2B). Any thread. */
int coord_pause(struct coord *c, int64_t id, int on, struct sd_err *err);

#define COORD_CREATE_BUCKETS 12
extern const double coord_create_le[COORD_CREATE_BUCKETS];

/* Health of one configured provider instance, for the console header,
 * `status` and the learner's recommendations. */
struct provider_health {
    char name[32];         /* instance name: "local", "e2b", "e2b-eu", ... */
    char kind[16];         /* "local" or "e2b" */
    char breaker[12];      /* "closed", "open" or "half-open" */
    char detail[64];       /* local: isolation level; e2b: domain */
    char region[32];       /* the instance's region label (provider.region), "" = none */
    int failures;          /* consecutive failures counted by the breaker */
    double create_ms;      /* recent create latency (moving average), 0 = unknown */
    int64_t open_until_ms; /* when open: half-open after this time (epoch ms) */
    /* Every create since start, as a histogram (Prometheus buckets, cumulative):
     * create_le[i] counts creates of at most coord_create_le[i] seconds. */
    uint64_t create_le[COORD_CREATE_BUCKETS];
    uint64_t creates;
    double create_seconds; /* their sum */
};

/* Copy the health of up to max provider instances, in configuration order;
 * returns the count. */
size_t coord_providers(struct coord *c, struct provider_health *out, size_t max);

/* The health array as JSON (new reference): [{name, kind, breaker, detail,
 * failures, createMs, openUntil}], the shape `status --json` prints and the
 * store keeps (meta provider_health) for the next process. */
json_t *coord_health_json(const struct provider_health *h, size_t n);

/* Counts by state. */
void coord_counts(struct coord *c, int counts[TS_COUNT]);

/* fn(id, run_id, state, arg) is called on the thread that ends a deployment
 * (its worker, or coord_cancel's caller for one still queued), once, after
 * its final record is queued in the store and before its worker makes it
 * durable (a success is flushed, and so is whatever fn queued), and before
 * its terminal state event. state is the one it ends in, except when that
 * flush fails: the deployment then ends failed (the event says so). fn
 * must not call back into the coordinator. The daemon queues a run's end
 * here, so it is committed with the run's last deployment. One hook at a
 * time, set or cleared (fn NULL) from any thread but fn's own; setting it
 * waits for a call in progress to return, so after clearing, arg may be
 * freed. */
typedef void (*coord_final_fn)(int64_t id, int64_t run_id, int state, void *arg);
void coord_on_final(struct coord *c, coord_final_fn fn, void *arg);

#endif
