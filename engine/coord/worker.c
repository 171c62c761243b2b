/*
 * worker.c: the coordinator's worker threads (coord_int.h: coord_work_*).
 *
 * DESIGN
 * coord_submit appends deployments to a FIFO (c->qhead..c->qtail) and
 * max_agents workers take them in order. A worker drives one deployment
 * through its operations, each timed and recorded in the store:
 *
 *     create -> upload -> start -> stream -> collect -> destroy
 *
 * One attempt is create, upload and start+stream on the instance choose.c
 * picked. A provider error (SD_EENV: the sandbox could not be made or
 * started) is retried after a backoff of backoff_ms, doubled each time, at
 * most `retries` times, unless the deployment already streamed output (so
 * stored output is never duplicated) or was cancelled. The wait is a timed
 * wait on c->cond, so a cancel ends it at once. What the strategy does is
 * never retried: the program's exit is classified into one terminal state
 * (succeeded needs exit 0 and exactly one valid @@result).
 *
 * The store's failures are never the provider's (issue 14): an attempt
 * during which a store write failed (the lease could not be recorded, say,
 * on a full disk) is neither counted against the instance's breaker nor
 * retried, and no attempt starts while the store is failing. A deployment
 * is reported succeeded only when its records are committed: its worker
 * flushes, and a write failure since it started, or a committed state other
 * than succeeded, makes it failed ("not recorded") instead; the command then
 * ends with the store's error (store_write_failures).
 *
 * Every deployment ends in coord_work_finish exactly once: its worker calls
 * it, or coord_cancel does for a deployment that never left the FIFO (the
 * two cannot both happen: the worker only runs what it took off the FIFO
 * under the lock, and cancel only finishes what it took off itself).
 *
 * THREADS
 * Worker threads; coord_work_finish also from coord_cancel's caller.
 * No lock is held while a provider or the store is called.
 */
#define _GNU_SOURCE
#include "coord_int.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn.h"
#include "span.h"

void coord_work_push_state(struct coord *c, struct dep *d)
{
    struct ev e = {.type = EV_STATE, .traj_id = d->v.id};

    ASSERT_LOCKED(c);
    e.state = d->v.state;
    evq_push(c->evq, &e);
}

/* --- operations timing ---------------------------------------------------- */

struct op_timer {
    int64_t wall_ms;
    uint64_t t0;
};

static void op_begin(struct op_timer *t)
{
    t->wall_ms = sd_now_ms();
    t->t0 = sd_mono_ns();
}

void coord_work_op(struct dep *d, const char *name, int64_t wall_ms, double ms, int ok,
                   const char *detail)
{
    size_t used = strlen(d->ops);

    traj_op(d->c->store, d->v.id, ++d->opseq, name, wall_ms, ms, ok, detail);
    if (used + strlen(name) + 2 < sizeof d->ops)
        snprintf(d->ops + used, sizeof d->ops - used, "%s%s", used ? "," : "", name);
}

/* Record an operation timed from t until now. */
static void op_end(struct dep *d, const struct op_timer *t, const char *name, int ok,
                   const char *detail)
{
    coord_work_op(d, name, t->wall_ms, (double)(sd_mono_ns() - t->t0) / 1e6, ok, detail);
}

/* --- one attempt ------------------------------------------------------------ */

static char **build_cmd(struct dep *d)
{
    size_t n = 0, i = 0;
    char **v;

    while (d->def->command[n] != NULL)
        n++;
    v = xcalloc(n + 14, sizeof *v);
    for (; i < n; i++)
        v[i] = d->def->command[i];
    v[i++] = "--data";
    v[i++] = "data.csv";
    v[i++] = "--params";
    v[i++] = d->params_s;
    if (d->pace > 0 && d->def->builtin) {
        v[i++] = "--pace";
        v[i++] = d->pace_s;
    }
    if (d->win_from[0]) { /* a user strategy's window, which it may ignore */
        v[i++] = "--from";
        v[i++] = d->win_from;
        v[i++] = "--to";
        v[i++] = d->win_to;
        v[i] = NULL;
        return v;
    }
    if (d->train_until[0]) { /* the built-in runner's window */
        v[i++] = "--train-until";
        v[i++] = d->train_until;
    }
    if (d->validate_s[0]) {
        v[i++] = "--validate";
        v[i++] = d->validate_s;
    }
    if (d->folds_s[0]) {
        v[i++] = "--folds";
        v[i++] = d->folds_s;
    }
    v[i] = NULL;
    return v;
}

/* Wait up to ms unless the deployment is cancelled; returns 1 if cancelled. */
static int backoff_wait(struct coord *c, struct dep *d, int64_t ms)
{
    struct timespec ts = sd_timespec_after(0, ms);
    int cancelled;

    coord_lock(c);
    while (!atomic_load(&d->cancel) && coord_sleep(c, &ts) != ETIMEDOUT)
        ;
    cancelled = atomic_load(&d->cancel);
    coord_unlock(c);
    return cancelled;
}

/* Destroy a sandbox and drop its lease, as the "destroy" operation. */
static void teardown(struct coord *c, struct dep *d, struct sbx *b)
{
    struct op_timer t;

    coord_lock(c);
    d->sbx = NULL;
    d->v.paused = 0; /* a paused sandbox is gone with it (pause.c) */
    coord_unlock(c);
    op_begin(&t);
    int rc = d->pi->p->ops->destroy(b);
    store_lease_remove(c->store, d->v.sandbox_id);
    /* A leftover the provider could not remove is reported here, never fatal. */
    op_end(d, &t, "destroy", rc == 0,
           rc == 0 ? NULL
                   : "teardown incomplete: left behind (a local work dir's files, or an E2B "
                     "sandbox until its time-to-live ends)");
}

/* sbx_spec.note: the provider says what its create waits for (E2B
 * capacity), shown in the deployment's view; NULL clears it. */
static void create_note(void *arg, const char *status)
{
    struct dep *d = arg;

    coord_lock(d->c);
    snprintf(d->v.waiting, sizeof d->v.waiting, "%s", status ? status : "");
    coord_work_push_state(d->c, d);
    coord_unlock(d->c);
}

/* Create a sandbox on pi and lease it. Returns it, or NULL with err set. */
static struct sbx *create(struct coord *c, struct dep *d, struct pinst *pi, struct sd_err *err)
{
    struct provider *p = pi->p;
    struct sbx_spec spec = {
        .id = d->v.sandbox_id,
        .timeout_ms = d->timeout_ms,
        .memory_mb = c->o.memory_mb,
        .cpus = c->o.cpus,
        .pids = c->o.pids,
        .disk_mb = c->o.disk_mb,
        .strict = c->o.strict,
        .unsandboxed = c->o.unsandboxed,
        .traj_id = d->v.id,
        .run_id = d->run_id,
        .internet = c->o.internet,
        .cancel = &d->cancel,
        .note = create_note,
        .note_arg = d,
    };
    struct store_lease lease;
    struct op_timer t;
    struct sbx *b = NULL;

    op_begin(&t);
    if (p->ops->create(p, &spec, &b, err) != 0) {
        op_end(d, &t, "create", 0, err->msg);
        return NULL;
    }
    coord_choose_created(c, pi, (double)(sd_mono_ns() - t.t0) / 1e6);
    memset(&lease, 0, sizeof lease);
    snprintf(lease.sandbox_id, sizeof lease.sandbox_id, "%s", d->v.sandbox_id);
    lease.traj_id = d->v.id;
    snprintf(lease.provider, sizeof lease.provider, "%s", p->name);
    p->ops->lease_info(b, &lease.pid, &lease.pid_start, lease.workdir, sizeof lease.workdir);
    lease.owner_pid = (int)getpid();
    lease.owner_start = proc_self_start_time();
    lease.created_at = sd_now_ms();
    if (store_lease_add(c->store, &lease, err) != 0) {
        op_end(d, &t, "create", 0, err->msg);
        p->ops->destroy(b);
        return NULL;
    }
    op_end(d, &t, "create", 1, NULL);
    coord_lock(c);
    d->sbx = b; /* from now on coord_cancel can signal it */
    coord_unlock(c);
    return b;
}

/* One attempt: create, upload, start+stream. Returns 0 when the program ran
 * (whatever its outcome; ex filled, the sandbox left in *keep for collect and
 * destroy), -1 on a provider error (err set; retryable when err->code ==
 * SD_EENV; the sandbox already destroyed). */
static int attempt(struct coord *c, struct dep *d, struct pinst *pi, struct sbx_exit *ex,
                   struct sbx **keep, struct sd_err *err)
{
    struct provider *p = pi->p;
    struct sbx_callbacks cb;
    struct op_timer t;
    struct sbx *b;
    char **cmd = NULL;
    int rc = -1;

    if ((b = create(c, d, pi, err)) == NULL)
        return -1;
    op_begin(&t);
    for (size_t i = 0; d->def->files[i] != NULL; i++) {
        const char *base = strrchr(d->def->files[i], '/');
        base = base ? base + 1 : d->def->files[i];
        if (p->ops->upload(b, d->def->files[i], base, 1, err) != 0)
            break;
    }
    if (err->msg[0] == '\0' && p->ops->upload(b, d->data.path, "data.csv", 0, err) == 0) {
        op_end(d, &t, "upload", 1, NULL);
    } else {
        op_end(d, &t, "upload", 0, err->msg);
        goto out;
    }

    if (atomic_load(&d->cancel)) {
        rc = 0;
        ex->code = -1;
        goto out;
    }
    cmd = build_cmd(d);
    coord_output_callbacks(d, &cb);
    op_begin(&t);
    d->t_started_ns = 0;
    if (p->ops->start(b, cmd, &cb, ex, err) != 0) {
        op_end(d, &t, "start", 0, err->msg);
        goto out;
    }
    if (ex->setup_failed || d->t_started_ns == 0) {
        char why[300];
        snprintf(why, sizeof why, "sandbox setup failed%s%s", d->last_stderr[0] ? ": " : "",
                 d->last_stderr);
        op_end(d, &t, "start", 0, why);
        sd_err_set(err, c->o.strict && ex->code == 125 ? SD_EUSAGE : SD_EENV, "%s", why);
        goto out;
    }
    {
        /* start: spawn until the program runs; stream: until it exits. */
        struct op_timer s2 = {t.wall_ms + (int64_t)((d->t_started_ns - t.t0) / 1000000),
                              d->t_started_ns};
        coord_work_op(d, "start", t.wall_ms, (double)(d->t_started_ns - t.t0) / 1e6, 1, NULL);
        op_end(d, &s2, "stream", 1, NULL);
    }
    rc = 0;
out:
    logring_finish(d->log);
    free(cmd);
    if (rc == 0)
        *keep = b;
    else
        teardown(c, d, b);
    return rc;
}

/* --- the terminal state ------------------------------------------------------ */

/* A user strategy given a window (--from, --to) may ignore it: the result
 * says which. It honoured the window when its own result echoes it as
 * "window": {"from": ..., "to": ...}; either way the stored result's
 * "window" becomes {"from", "to", "mode", "value", "honoured"}, and the
 * "window" operation records it too. */
static void window_note(struct dep *d, json_t *result)
{
    json_t *w = json_object_get(result, "window");
    int honoured = json_is_object(w) && json_string_value(json_object_get(w, "from")) != NULL &&
                   json_string_value(json_object_get(w, "to")) != NULL &&
                   strcmp(json_string_value(json_object_get(w, "from")), d->win_from) == 0 &&
                   strcmp(json_string_value(json_object_get(w, "to")), d->win_to) == 0;
    char detail[160];

    snprintf(detail, sizeof detail, "--from %s --to %s: %s", d->win_from, d->win_to,
             honoured ? "honoured (echoed in the result)" : "ignored (not echoed in the result)");
    coord_work_op(d, "window", sd_now_ms(), 0, honoured, detail);
    json_object_set_new(result, "window",
                        json_pack("{s:s, s:s, s:s, s:s, s:b}", "from", d->win_from, "to", d->win_to,
                                  "mode", d->train_until[0] ? "train-until" : "validate", "value",
                                  d->train_until[0] ? d->train_until : d->validate_s, "honoured",
                                  honoured));
}

/* Decide the terminal state of a program that ran; msg gets the reason. */
static int classify(struct coord *c, struct dep *d, const struct sbx_exit *ex, char *msg, size_t n)
{
    msg[0] = '\0';
    if (ex->timed_out) {
        snprintf(msg, n, "timed out after %lld ms", (long long)d->timeout_ms);
        return TS_TIMEOUT;
    }
    if (d->output_killed)
        snprintf(msg, n, "output limit of %lld bytes exceeded", (long long)c->o.max_output);
    else if (ex->oom)
        snprintf(msg, n, "killed: memory limit %lld MB exceeded (peak %lld MB)",
                 (long long)c->o.memory_mb, (long long)(ex->mem_peak_kb / 1024));
    else if (ex->disk_full)
        snprintf(msg, n, "work dir full: the sandbox's %s cap was reached (--disk %lld MB)",
                 ex->disk_full == SBX_DISK_FULL_INODES ? "file count" : "size",
                 (long long)c->o.disk_mb);
    else if (ex->signal != 0)
        snprintf(msg, n, "killed by signal %d (%s)", ex->signal, strsignal(ex->signal));
    else if (ex->code != 0)
        snprintf(msg, n, "exit code %d: %s", ex->code, d->errmsg[0] ? d->errmsg : d->last_stderr);
    else if (d->nresults > 1)
        snprintf(msg, n, "protocol error: %d @@result lines", d->nresults);
    else if (d->pending_result == NULL)
        snprintf(msg, n, "exited 0 without a valid @@result line");
    else
        return TS_SUCCEEDED;
    return TS_FAILED;
}

static double reward_of(json_t *result)
{
    json_t *sh = json_object_get(result, "sharpe");
    if (!json_is_number(sh))
        return 0.5;
    return 0.5 + 0.5 * tanh(json_number_value(sh) / 2);
}

/* 1 when d's records are committed with the state succeeded and no store
 * write failed since gen0 (store_write_failures when its worker started);
 * else 0 with why saying what the store reported. Flushes once
 * (traj_committed_state does), then reads the state as committed. */
static int recorded(struct coord *c, struct dep *d, uint64_t gen0, char *why, size_t n)
{
    struct sd_err e = {0};
    int st = traj_committed_state(c->store, d->v.id, &e);

    if (st >= 0 && store_write_failures(c->store, &e) == gen0) {
        if (st == TS_SUCCEEDED)
            return 1;
        sd_err_set(&e, SD_EENV, "%s: the store holds it as %s", store_path(c->store),
                   traj_state_name(st));
    }
    snprintf(why, n, COORD_NOT_RECORDED "%.400s", e.msg);
    return 0;
}

void coord_on_final(struct coord *c, coord_final_fn fn, void *arg)
{
    coord_lock(c);
    c->on_final = fn;
    c->on_final_arg = arg;
    /* A call already made finishes before its arg may be freed. */
    while (c->final_busy > 0)
        coord_sleep(c, NULL);
    coord_unlock(c);
}

/* Call the coord_on_final hook, without the lock (it takes its own). */
static void call_final(struct coord *c, struct dep *d, int state)
{
    coord_final_fn fn;
    void *arg;

    coord_lock(c);
    fn = c->on_final;
    arg = c->on_final_arg;
    c->final_busy += fn != NULL;
    coord_unlock(c);
    if (fn == NULL)
        return;
    fn(d->v.id, d->run_id, state, arg);
    coord_lock(c);
    if (--c->final_busy == 0)
        pthread_cond_broadcast(&c->cond);
    coord_unlock(c);
}

/* coord_work_finish; gen0 (not NULL: from the worker) asks that a success
 * be checked as committed (recorded) before it is reported. */
static void work_finish(struct coord *c, struct dep *d, int state, int exit_code, const char *error,
                        json_t *result, const uint64_t *gen0)
{
    struct traj_final f;
    char *result_s = result ? json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    char why[sizeof d->v.error];
    int64_t now = sd_now_ms();

    sd_span(SPAN_FINISH, d->v.id);

    if (state == TS_CANCELLED && d->cancel_by[0])
        coord_work_op(d, "cancel", now, 0, 1, d->cancel_by);
    memset(&f, 0, sizeof f);
    f.state = state;
    f.exit_code = exit_code;
    f.error = error && error[0] ? error : NULL;
    f.ended_at = now;
    f.duration_ms = (double)(now - d->v.created_at);
    f.result = result_s;
    f.reward = state == TS_SUCCEEDED ? reward_of(result) : 0;
    f.isolation = d->isolation;
    f.op_sequence = d->ops[0] ? d->ops : NULL;
    traj_finish(c->store, d->v.id, &f);
    store_output_end(c->store, d->v.id);
    /* Before the flush: what the hook queues (a run's end) is committed
     * with this deployment's records, not in a commit of its own. */
    call_final(c, d, state);
    if (gen0 != NULL && state == TS_SUCCEEDED && !recorded(c, d, *gen0, why, sizeof why)) {
        /* Never rewritten in the store: a sealed record must not change.
         * Recovery marks a row left running as interrupted. */
        state = f.state = TS_FAILED;
        error = why;
        result = NULL;
        f.reward = 0;
    }
    sd_span(SPAN_RECORDED, d->v.id);
    if (d->data.from_store && d->data.path[0]) { /* the sandbox had its own copy */
        unlink(d->data.path);
        d->data.path[0] = '\0';
    }
    free(result_s);
    if (c->learn != NULL) {
        struct learn_obs o = {
            .id = d->v.id,
            .strategy = d->v.strategy,
            .symbol = d->v.symbol,
            .provider = d->v.provider,
            .params = d->params,
            .state = state,
            .reward = f.reward,
            .created_at = d->v.created_at,
            .duration_ms = f.duration_ms,
            .op_sequence = f.op_sequence,
            .prediction = d->prediction,
            .result = result, /* trades, Sharpe, out of sample: in the index at once */
        };
        learn_observe(c->learn, &o);
    }
    logring_trim(d->log, COORD_RING_DONE_LINES, COORD_RING_DONE_BYTES);

    coord_lock(c);
    d->v.state = state;
    d->v.exit_code = exit_code;
    d->v.ended_at = now;
    d->v.reward = f.reward;
    snprintf(d->v.error, sizeof d->v.error, "%s", error ? error : "");
    if (result != NULL) {
        d->result = json_incref(result);
        d->v.total_return = json_number_value(json_object_get(result, "total_return"));
        d->v.sharpe = json_is_number(json_object_get(result, "sharpe"))
                          ? json_number_value(json_object_get(result, "sharpe"))
                          : NAN;
        if (json_is_true(json_object_get(result, "synthetic")))
            d->v.synthetic = 1;
        d->v.progress = 1;
    }
    c->active--;
    coord_work_push_state(c, d);
    sd_span(SPAN_PUSHED, d->v.id);
    pthread_cond_broadcast(&c->cond);
    coord_unlock(c);
}

void coord_work_finish(struct coord *c, struct dep *d, int state, int exit_code, const char *error,
                       json_t *result)
{
    work_finish(c, d, state, exit_code, error, result, NULL);
}

/* Run d to its terminal state. */
static void run(struct coord *c, struct dep *d)
{
    struct sbx_exit ex;
    struct sd_err err;
    struct sbx *b = NULL;
    char msg[600], last[512] = "";
    int64_t started_at = sd_now_ms();
    uint64_t gen0 = store_write_failures(c->store, NULL), gen;
    int tries = 0, rc, store_fault = 0;

    coord_lock(c);
    d->v.state = TS_RUNNING;
    d->v.started_at = started_at;
    coord_work_push_state(c, d);
    coord_unlock(c);
    traj_running(c->store, d->v.id, d->v.sandbox_id, started_at);

    for (;;) {
        struct pinst *pi;
        memset(&err, 0, sizeof err);
        memset(&ex, 0, sizeof ex);
        b = NULL;
        d->nresults = 0;
        d->errmsg[0] = d->last_stderr[0] = '\0';
        /* Its records could not be kept: do not start it. */
        if (store_write_failing(c->store, &err)) {
            sd_err_prefix(&err, "not started");
            rc = -1;
            break;
        }
        if ((pi = coord_choose_pick(c, d, &err)) == NULL) {
            /* The breaker opened on our own failures: say what they were. */
            if (last[0]) {
                char why[200];
                snprintf(why, sizeof why, "%.190s", err.msg);
                snprintf(err.msg, sizeof err.msg, "%.300s; then %s", last, why);
            }
            rc = -1;
            break;
        }
        coord_choose_use(c, d, pi);
        gen = store_write_failures(c->store, NULL);
        rc = attempt(c, d, pi, &ex, &b, &err);
        /* A store write that failed meanwhile (the lease, say) is not the
         * provider's fault: neither counted nor retried. */
        store_fault = rc != 0 && store_write_failures(c->store, NULL) != gen;
        /* Provider errors feed the breaker; what the strategy did does not. */
        coord_choose_report(c, pi,
                            rc == 0                                                           ? 1
                            : err.code == SD_EENV && !store_fault && !atomic_load(&d->cancel) ? -1
                                                                                              : 0);
        snprintf(last, sizeof last, "%s", rc != 0 ? err.msg : "");
        /* Output already streamed (and stored) must not be streamed twice. */
        if (rc == 0 || err.code != SD_EENV || store_fault || tries >= c->o.retries ||
            atomic_load(&d->cancel) || d->out_bytes > 0)
            break;
        tries++;
        if (backoff_wait(c, d, c->o.backoff_ms << (tries - 1)))
            break;
    }
    if (rc != 0) {
        if (atomic_load(&d->cancel))
            coord_work_finish(c, d, TS_CANCELLED, -1, "cancelled by the operator", NULL);
        else {
            snprintf(msg, sizeof msg, "%s%s", err.msg, tries > 0 ? " (gave up after retries)" : "");
            coord_work_finish(c, d, TS_FAILED, -1, msg, NULL);
        }
        goto out;
    }
    {
        struct op_timer t;
        int state;
        op_begin(&t);
        state = classify(c, d, &ex, msg, sizeof msg);
        if (atomic_load(&d->cancel) && state != TS_SUCCEEDED) {
            state = TS_CANCELLED;
            snprintf(msg, sizeof msg, "cancelled by the operator");
        }
        op_end(d, &t, "collect", state == TS_SUCCEEDED, msg[0] ? msg : NULL);
        if (state == TS_SUCCEEDED && d->win_from[0])
            window_note(d, d->pending_result);
        teardown(c, d, b);
        work_finish(c, d, state, ex.signal || ex.code < 0 ? -1 : ex.code, msg,
                    state == TS_SUCCEEDED ? d->pending_result : NULL, &gen0);
    }
out:
    coord_output_reset(d);
}

/* --- a deployment taken over from a process that died (adopt.c) ----------- */

/* Reattach to d's sandbox (d->adopt is its lease's workdir, d->pi its
 * instance), resume the program's stream, and end d as run() does. The
 * output the store already held was fed to the parser by coord_adopt, so a
 * @@result written before the crash still counts. A sandbox that is gone,
 * or a program that could not be reattached, ends d interrupted; d's run,
 * which no launcher tracks any more, is closed once nothing of it is live. */
static void run_adopted(struct coord *c, struct dep *d)
{
    struct provider *p = d->pi->p;
    struct sbx_spec spec = {.id = d->v.sandbox_id,
                            .timeout_ms = d->timeout_ms,
                            .traj_id = d->v.id,
                            .run_id = d->run_id,
                            .cancel = &d->cancel};
    uint64_t gen0 = store_write_failures(c->store, NULL), bytes0 = d->out_bytes;
    struct sbx_callbacks cb;
    struct sbx_exit ex;
    struct sd_err err;
    struct op_timer t;
    struct sbx *b = NULL;
    char msg[700];
    int rc = -1, state;

    memset(&ex, 0, sizeof ex);
    op_begin(&t);
    for (int tries = 0;; tries++) { /* a network error is retried; a gone sandbox is not */
        memset(&err, 0, sizeof err);
        rc = p->ops->reattach(p, &spec, d->adopt, &b, &err);
        if (rc == 0 || err.code != SD_EENV || tries >= c->o.retries ||
            backoff_wait(c, d, c->o.backoff_ms << tries))
            break;
    }
    op_end(d, &t, "reattach", rc == 0, rc == 0 ? NULL : err.msg);
    if (rc != 0) {
        /* Its TTL, or the next sweep (the lease is gone), ends a sandbox
         * that is still there but could not be reached. */
        store_lease_remove(c->store, d->v.sandbox_id);
        snprintf(msg, sizeof msg,
                 "interrupted: the swarmdeck process that ran it stopped, and its E2B sandbox "
                 "could not be reattached: %.500s",
                 err.msg);
        work_finish(c, d, atomic_load(&d->cancel) ? TS_CANCELLED : TS_INTERRUPTED, -1,
                    atomic_load(&d->cancel) ? "cancelled by the operator" : msg, NULL, NULL);
        goto out;
    }
    coord_lock(c);
    d->sbx = b; /* from now on coord_cancel can signal it */
    coord_unlock(c);
    if (atomic_load(&d->cancel))
        p->ops->signal(b, SIGTERM);
    coord_output_callbacks(d, &cb);
    op_begin(&t);
    rc = p->ops->resume(b, &cb, &ex, &err);
    op_end(d, &t, "resume", rc == 0, rc == 0 ? NULL : err.msg);
    logring_finish(d->log);
    if (rc != 0) {
        int got = d->out_bytes > bytes0; /* it streamed again before it was lost */
        snprintf(msg, sizeof msg, "%s%.500s",
                 got ? ""
                     : "interrupted: the swarmdeck process that ran it stopped, and its "
                       "program could not be reattached: ",
                 err.msg);
        teardown(c, d, b);
        state = atomic_load(&d->cancel) ? TS_CANCELLED : got ? TS_FAILED : TS_INTERRUPTED;
        work_finish(c, d, state, -1, state == TS_CANCELLED ? "cancelled by the operator" : msg,
                    NULL, NULL);
        goto out;
    }
    op_begin(&t);
    state = classify(c, d, &ex, msg, sizeof msg);
    if (atomic_load(&d->cancel) && state != TS_SUCCEEDED) {
        state = TS_CANCELLED;
        snprintf(msg, sizeof msg, "cancelled by the operator");
    }
    op_end(d, &t, "collect", state == TS_SUCCEEDED, msg[0] ? msg : NULL);
    teardown(c, d, b);
    work_finish(c, d, state, ex.signal || ex.code < 0 ? -1 : ex.code, msg,
                state == TS_SUCCEEDED ? d->pending_result : NULL, &gen0);
out:
    if (d->run_id > 0)
        run_end_if_done(c->store, d->run_id);
    coord_output_reset(d);
}

void *coord_work_thread(void *arg)
{
    struct coord *c = arg;

    for (;;) {
        struct dep *d;
        coord_lock(c);
        while (c->qhead == NULL && !c->stopping)
            coord_sleep(c, NULL);
        if (c->qhead == NULL) {
            coord_unlock(c);
            return NULL;
        }
        d = c->qhead;
        c->qhead = d->qnext;
        if (c->qhead == NULL)
            c->qtail = NULL;
        coord_unlock(c);
        sd_span(SPAN_TAKEN, d->v.id);
        if (d->adopt[0])
            run_adopted(c, d);
        else
            run(c, d);
    }
}
