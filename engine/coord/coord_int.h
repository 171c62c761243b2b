/*
 * coord_int.h: the coordinator's private header, shared by its files and by
 * the tests that reach inside it (tests/unit/coord_test.c, the protocol
 * fuzzer). Nothing else includes it; coord.h is the interface.
 *
 * FILES
 *   coord.c    the public face: options, new/free, submit, views, waits, cancel
 *   worker.c   the FIFO's worker threads: one deployment's attempts, retries
 *              with backoff, operation timing, its one terminal state
 *   choose.c   provider instances: circuit breakers, the create-latency
 *              choice, failover, the health kept in the store
 *   output.c   a running program's callbacks: the `@@` stdout protocol
 *              (progress, result, error), stderr, the output limit
 *   recover.c  reaping what a crashed process left (recover.h)
 *   adopt.c    re-adopting the E2B deployments a dead process left running
 *              (coord_adopt; a worker then runs them with run_adopted)
 *
 * LOCKING
 * One mutex, c->lock, guards the deployment table, the FIFO, every
 * deployment's view (d->v, d->result, d->sbx, d->pi) and every instance's
 * breaker and latency. One condition variable, c->cond, wakes workers for new
 * work, backoff waits for a cancel, and waiters for state changes. Take the
 * lock with coord_lock and wait with coord_sleep only, so that a function
 * whose contract says "caller holds c->lock" can assert it (ASSERT_LOCKED,
 * checked in builds without NDEBUG). Workers hold no lock while they talk to a
 * provider or the store.
 *
 * A deployment's other fields are either fixed before it is queued (read
 * anywhere without the lock) or private to the one worker running it (the
 * "worker-private" block below); `cancel` is atomic.
 */
#ifndef SD_COORD_INT_H
#define SD_COORD_INT_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "breaker.h"
#include "coord.h"

/* How many provider instances a coordinator holds ("local" and 8 more). */
#define MAX_PROVIDERS 9

/* A deployment's output ring: while it runs, the newest RUN_LINES lines and
 * RUN_BYTES bytes (the console's live view); once it has ended, only a tail
 * of DONE_LINES and DONE_BYTES, so what a finished deployment holds stays
 * far under 50 KB however much it wrote (issue 14; the store has it all). */
#define COORD_RING_RUN_LINES  5000
#define COORD_RING_RUN_BYTES  (4 << 20)
#define COORD_RING_DONE_LINES 100
#define COORD_RING_DONE_BYTES (8 << 10)

struct dep {
    struct deploy_view v; /* under c->lock (id and sandbox_id fixed at submit) */
    char uuid[37];
    const struct strategy_def *def;
    json_t *params; /* resolved */
    char *params_s;
    char *description;
    struct data_source data;
    int64_t timeout_ms;
    int pace;
    char pace_s[16];
    char train_until[16], validate_s[32], folds_s[12]; /* the window's flags ("" none) */
    char win_from[11], win_to[11]; /* a user strategy's window: --from, --to ("" none) */
    struct logring *log;
    json_t *result;     /* under c->lock once published */
    json_t *prediction; /* the suggestion made before launch, or NULL */
    _Atomic int cancel;
    char cancel_by[160]; /* who cancelled it (set before cancel, then fixed) */
    struct sbx *sbx;     /* under c->lock */
    struct pinst *pi;    /* the instance of sbx, under c->lock */
    int64_t run_id;
    char want[32]; /* the provider asked for: instance name or kind */
    /* Taken over from a process that died (adopt.c): its lease's workdir,
     * naming the E2B sandbox to reattach to; "" for a deployment of ours. */
    char adopt[512];
    struct dep *qnext;

    /* Worker-private while it runs. */
    struct coord *c;
    char *line;
    size_t linelen;
    int line_skip;
    int nresults;
    json_t *pending_result;
    char errmsg[256];
    char last_stderr[256];
    char *isolation;
    uint64_t t_started_ns;
    int opseq;
    char ops[256];
    int64_t last_ev_ms;
    int output_killed;
    uint64_t out_bytes;
};

/* One provider instance and its health; br and create_ms under c->lock. */
struct pinst {
    struct provider *p;
    char kind[16];
    char detail[64];
    struct breaker br;
    double create_ms;                         /* moving average of create latency, 0 = unknown */
    uint64_t create_le[COORD_CREATE_BUCKETS]; /* the histogram of every create (coord.h) */
    uint64_t creates;
    double create_seconds;
};

struct coord {
    struct store *store;
    struct coord_opts o;
    struct catalog *cat;
    struct pinst prov[MAX_PROVIDERS]; /* [0] is local */
    int nprov;
    char want[32];       /* default provider (name or kind) */
    char failover[32];   /* "" = none */
    struct learn *learn; /* NULL when learning and auto-optimize are off */
    struct evq *evq;
    char tmpdir[600];
    json_t *health0; /* the health a previous process left (meta), or NULL */
    /* The breakers' clock (ms); tests replace it (coord_set_clock). */
    int64_t (*clock_ms)(void);

    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t lock_owner; /* valid while locked: for ASSERT_LOCKED */
    int locked;
    struct dep **deps; /* every deployment, in id order */
    size_t ndeps, capdeps;
    struct dep *qhead, *qtail;
    int stopping;
    int active;                 /* queued + running */
    _Atomic uint64_t submitted; /* coord_submit calls, for reproducible seeds */
    pthread_t *workers;
    int nworkers;
    coord_final_fn on_final; /* coord_on_final (under lock) */
    void *on_final_arg;
    int final_busy; /* calls of on_final in progress (under lock) */
};

/* --- the lock (coord.c) ------------------------------------------------- */

#define ASSERT_LOCKED(c) assert((c)->locked &&pthread_equal((c)->lock_owner, pthread_self()))

static inline void coord_lock(struct coord *c)
{
    pthread_mutex_lock(&c->lock);
    c->lock_owner = pthread_self();
    c->locked = 1;
}

static inline void coord_unlock(struct coord *c)
{
    ASSERT_LOCKED(c);
    c->locked = 0;
    pthread_mutex_unlock(&c->lock);
}

/* Caller holds c->lock. Wait on c->cond (until deadline, CLOCK_REALTIME, if
 * not NULL); the lock is held again after. Returns pthread_cond_*wait's
 * result (ETIMEDOUT when the deadline passed). */
int coord_sleep(struct coord *c, const struct timespec *deadline);

/* --- the workers (worker.c) --------------------------------------------- */

/* The worker thread's body: take deployments from the FIFO and run each to
 * its terminal state; returns when c->stopping and the FIFO is empty. */
void *coord_work_thread(void *arg);

/* Caller holds c->lock, and has just changed d->v.state: tell the console
 * (an EV_STATE event). Pushed under the lock, so the events of one
 * deployment are queued in the order of its states, and the state pushed is
 * the one set (read outside the lock, a worker may have moved it on). */
void coord_work_push_state(struct coord *c, struct dep *d);

/* Add d to c's table of deployments, kept in id order. Caller holds c->lock
 * (coord.c; adopt.c for a deployment taken over from a dead process). */
void coord_dep_add_locked(struct coord *c, struct dep *d);

/* The deployment id in c's table, or NULL. Caller holds c->lock (coord.c). */
struct dep *coord_dep_find_locked(struct coord *c, int64_t id);

/* Make d terminal: record it in the store and the learner, publish the view,
 * wake waiters and push the event. Called once per deployment, by its worker
 * or (queued, never run) by coord_cancel. Caller does not hold c->lock. */
void coord_work_finish(struct coord *c, struct dep *d, int state, int exit_code, const char *error,
                       json_t *result);

/* Record one operation of d (in the store and in d's sequence). Its worker,
 * or coord_submit before d is queued. */
void coord_work_op(struct dep *d, const char *name, int64_t wall_ms, double ms, int ok,
                   const char *detail);

/* --- provider choice and failover (choose.c) ---------------------------- */

/* The breakers' clock now (c->clock_ms; monotonic unless a test set it). */
int64_t coord_clock(struct coord *c);

/* A test hook: drive the breakers with clock_ms instead of the monotonic
 * clock (NULL restores it). Call before the first coord_submit. */
void coord_set_clock(struct coord *c, int64_t (*clock_ms)(void));

/* Does instance pi answer to want (its name or its kind)? */
int coord_choose_matches(const struct pinst *pi, const char *want);

/* The first instance matching want, or NULL. Instances are fixed after the
 * first submit, so no lock is needed then. */
struct pinst *coord_choose_planned(struct coord *c, const char *want);

/* Set up instance pi (breaker from the options, then the health a previous
 * process left in c->health0). Caller holds c->lock. */
void coord_choose_init(struct coord *c, struct pinst *pi);

/* Choose the instance for one attempt of d: its own request, else the
 * failover, the lowest recent create latency first; the breaker's trial is
 * taken. Returns NULL with err set (SD_EFAIL: not worth a retry) when every
 * candidate's breaker is open. Takes c->lock. */
struct pinst *coord_choose_pick(struct coord *c, struct dep *d, struct sd_err *err);

/* d runs on pi from now on: its view, its trajectory and (when it moved off
 * what it asked for) a "failover" operation. Takes c->lock. */
void coord_choose_use(struct coord *c, struct dep *d, struct pinst *pi);

/* A create on pi took ms: fold it into pi's moving average. Takes c->lock. */
void coord_choose_created(struct coord *c, struct pinst *pi, double ms);

/* Feed one attempt's outcome to pi's breaker: 1 success, -1 a provider
 * failure, 0 neither (only releases a half-open trial). A change is saved in
 * the store. Takes c->lock. */
void coord_choose_report(struct coord *c, struct pinst *pi, int outcome);

/* Save every instance's health in the store (meta provider_health), for
 * `status` and the next process. Takes c->lock. */
void coord_choose_persist(struct coord *c);

/* Add {op:"avoid_provider"} advice to suggestion sug when every instance r
 * asks for has an open breaker. Takes c->lock. */
void coord_choose_advise(struct coord *c, const struct deploy_req *r, json_t *sug);

/* --- output (output.c) -------------------------------------------------- */

/* The callbacks a provider's start calls for d (arg = d). */
void coord_output_callbacks(struct dep *d, struct sbx_callbacks *cb);

/* Feed a chunk of d's stdout to the `@@` protocol parser: complete lines
 * starting "@@" are machine lines (@@progress updates the view and pushes
 * EV_PROGRESS, @@result is kept in d->pending_result when it is the first,
 * @@error sets d->errmsg); lines over 1 MiB are skipped. Chunks may split
 * anywhere. d's worker only (takes c->lock for the view). */
void coord_output_parse(struct dep *d, const char *data, size_t len);

/* Keep the last non-empty line of a stderr chunk in d->last_stderr. */
void coord_output_stderr(struct dep *d, const char *data, size_t len);

/* Forget the parser's partial line and pending result (after an attempt).
 * d's worker only. */
void coord_output_reset(struct dep *d);

#endif
