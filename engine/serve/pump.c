/*
 * pump.c: coordinator events into the daemon's event log, and run endings
 * (pump.h has the contract).
 *
 * Runs: a small table of open runs, each with its deployment ids and a
 * "counted" flag per id, under p->lock. An id is counted once, either here
 * when its terminal EV_STATE arrives or in pump_run_add when coord_view
 * already shows it terminal; a terminal state never changes, so both paths
 * see the same final state and the flag stops the second.
 *
 * A run stays in the table (closing) until its end is committed to the
 * store: pump_run_open says "open" until then, so a client asking about it
 * (swarmdeck wait reads /v1/runs/ID) never finds it neither open nor ended,
 * which it would take for a run whose process died.
 *
 * A run's end rides on its last deployment's commit. The coordinator calls
 * pump_final (coord_on_final) on the thread that ends a deployment, before
 * that deployment's worker flushes its records; when the deployment is the
 * last of its run not yet counted, the run's end is queued there (with the
 * counts it will have), so the worker's flush commits both. When the pump
 * then counts that end from the event and finds the same counts, the row
 * is already written: it only checks that it is committed (store_settled)
 * and logs the "run" event at once, with no commit of its own in between;
 * otherwise (an end the worker does not flush, a cancelled queued one, or
 * a success the store could not record, which ends failed) it writes the
 * end again as counted and flushes, as before. So the "run" event still
 * comes only after the run's end is committed, and the pump no longer
 * waits for a commit per run on the common path (bench: 94 us at p50, and
 * every later event waited behind it).
 */
#define _GNU_SOURCE
#include "pump.h"

#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "learn.h"
#include "span.h"

struct prun {
    int64_t run;
    int64_t *ids;
    char *counted;
    size_t n, left;
    int succeeded, failed, cancelled;
    int closing; /* its last deployment ended; its end is being recorded */
    /* Its end as queued by pump_final before the last deployment's flush:
     * the counts it wrote, and the store's mark and failure count then. */
    int queued, q_succeeded, q_failed, q_cancelled;
    uint64_t q_mark, q_gen;
};

struct pump {
    struct coord *c;
    struct evlog *log;
    pump_finish_fn on_finish;
    void *arg;
    pump_tap_fn tap; /* set before the thread starts, never changed */
    void *tap_arg;
    pthread_t thread;
    int stop_pipe[2];
    pthread_mutex_t lock; /* guards runs */
    struct prun *runs;
    size_t nruns;
    char health_sig[512]; /* the breakers as last told (pump thread only) */
    /* Learning events: learn_version when the last snapshot was taken (pump
     * thread only). A different value means rows were added by any path (a
     * deployment's end, a fleet POST, the fleet's background merge), so a
     * snapshot is due: at most one a second, the last change always (a
     * trailing event). */
    uint64_t learn_ver;
    int64_t learn_sent_ms; /* when the last one was sent (pump thread only) */
    char *learn_sent;      /* its JSON text, to skip one that says nothing new */
};

/* Log o (stolen); with tap >= 0 the tap sees it too (tap = terminal). */
static void log_json_tap(struct pump *p, json_t *o, int tap)
{
    char *txt = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (txt != NULL)
        evlog_append(p->log, txt);
    if (txt != NULL && tap >= 0 && p->tap != NULL)
        p->tap(txt, tap, p->tap_arg);
    free(txt);
    json_decref(o);
}

static void log_json(struct pump *p, json_t *o)
{
    log_json_tap(p, o, -1);
}

/* Add one end in state to the counts. */
static void count_state(int state, int *succeeded, int *failed, int *cancelled)
{
    if (state == TS_SUCCEEDED)
        (*succeeded)++;
    else if (state == TS_CANCELLED || state == TS_INTERRUPTED)
        (*cancelled)++;
    else
        (*failed)++;
}

/* Count deployment i of run r as ending in state. Caller holds p->lock.
 * Returns 1 when that was the run's last one. */
static int count_end(struct prun *r, size_t i, int state)
{
    if (r->counted[i])
        return 0;
    r->counted[i] = 1;
    r->left--;
    count_state(state, &r->succeeded, &r->failed, &r->cancelled);
    return r->left == 0;
}

/* Run `run`'s "run" event with these counts (new reference), its status in
 * *status (static). */
static json_t *run_json(int64_t run, int succeeded, int failed, int cancelled, const char **status)
{
    char summary[160];

    *status = failed || cancelled ? "failed" : "succeeded";
    if (cancelled)
        snprintf(summary, sizeof summary, "run %lld: %d succeeded, %d failed, %d cancelled",
                 (long long)run, succeeded, failed, cancelled);
    else
        snprintf(summary, sizeof summary, "run %lld: %d succeeded, %d failed", (long long)run,
                 succeeded, failed);
    return json_pack("{s:s, s:I, s:s, s:i, s:i, s:i, s:s}", "type", "run", "run", (json_int_t)run,
                     "status", *status, "succeeded", succeeded, "failed", failed, "cancelled",
                     cancelled, "summary", summary);
}

/* coord_on_final: deployment id of run `run` ends in state, on the thread
 * that ends it, before its worker's flush. When it is the last of a
 * tracked run not yet counted, queue the run's end with the counts it will
 * have (the pump counts it from the event later, and checks). */
static void pump_final(int64_t id, int64_t run, int state, void *arg)
{
    struct pump *p = arg;

    if (run <= 0)
        return;
    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; k < p->nruns; k++) {
        struct prun *r = &p->runs[k];
        size_t i;
        if (r->run != run || r->closing || r->queued || r->left != 1)
            continue;
        for (i = 0; i < r->n && (r->ids[i] != id || r->counted[i]); i++)
            ;
        if (i < r->n) {
            const char *status;
            json_t *o;
            char *txt;
            r->q_succeeded = r->succeeded;
            r->q_failed = r->failed;
            r->q_cancelled = r->cancelled;
            count_state(state, &r->q_succeeded, &r->q_failed, &r->q_cancelled);
            o = run_json(run, r->q_succeeded, r->q_failed, r->q_cancelled, &status);
            txt = json_dumps(o, JSON_COMPACT);
            if (txt != NULL) {
                run_end(coord_store(p->c), run, status, txt);
                r->q_mark = store_mark(coord_store(p->c), &r->q_gen);
                r->queued = 1;
            }
            free(txt);
            json_decref(o);
        }
        break;
    }
    pthread_mutex_unlock(&p->lock);
}

/* Record run r's end and tell everyone. Caller holds no lock; r is owned. */
static void finish_run(struct pump *p, struct prun *r)
{
    const char *status;
    struct sd_err e = {0};
    json_t *o = run_json(r->run, r->succeeded, r->failed, r->cancelled, &status);
    char *txt = json_dumps(o, JSON_COMPACT);
    int same = r->queued && r->q_succeeded == r->succeeded && r->q_failed == r->failed &&
               r->q_cancelled == r->cancelled;

    sd_span(SPAN_RUN_LAST, r->run);
    /* Committed before anyone hears of it: a client that reads the store on
     * this event (swarmdeck wait) must find the run ended. Already so when
     * pump_final queued this very end and the last deployment's flush
     * committed it. */
    if (!same)
        run_end(coord_store(p->c), r->run, status, txt);
    if ((!same || !store_settled(coord_store(p->c), r->q_mark, r->q_gen)) &&
        store_flush(coord_store(p->c), &e) != 0)
        fprintf(stderr, "swarmdeck: run %lld: %s\n", (long long)r->run, e.msg);
    sd_span(SPAN_RUN_COMMITTED, r->run);
    if (p->on_finish != NULL && txt != NULL)
        p->on_finish(txt, p->arg);
    free(txt);
    log_json(p, o);
    sd_span(SPAN_RUN_LOGGED, r->run);
}

/* Drop run `run` (closing, its end recorded) from the table and free it.
 * Caller holds no lock. */
static void drop_run(struct pump *p, int64_t run)
{
    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; k < p->nruns; k++) {
        if (p->runs[k].run != run || !p->runs[k].closing)
            continue;
        free(p->runs[k].ids);
        free(p->runs[k].counted);
        p->runs[k] = p->runs[--p->nruns];
        break;
    }
    pthread_mutex_unlock(&p->lock);
}

/* A deployment reached a terminal state: count it in its run. */
static void ended(struct pump *p, int64_t id, int state)
{
    struct prun done;
    int last = 0;

    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; k < p->nruns && !last; k++) {
        struct prun *r = &p->runs[k];
        for (size_t i = 0; i < r->n; i++) {
            if (r->ids[i] != id)
                continue;
            if (count_end(r, i, state)) {
                r->closing = 1;
                done = *r; /* shares ids and counted, freed by drop_run */
                last = 1;
            }
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (last) {
        finish_run(p, &done);
        drop_run(p, done.run);
    }
}

static void forward(struct pump *p, const struct ev *e)
{
    switch (e->type) {
    case EV_RESYNC:
        log_json(p, json_pack("{s:s}", "type", "relist"));
        break;
    case EV_STATE: {
        /* The view as it is now rides along (error, exit code, times and
         * results change with the state): a client keeps its copy without
         * asking again. */
        struct deploy_view v;
        json_t *o;
        if (traj_state_terminal(e->state))
            sd_span(SPAN_PUMPED, e->traj_id);
        o = json_pack("{s:s, s:I, s:s}", "type", "state", "id", (json_int_t)e->traj_id, "state",
                      traj_state_name(e->state));
        if (coord_view(p->c, e->traj_id, &v) == 0)
            json_object_set_new(o, "view", coord_view_json(&v));
        log_json_tap(p, o, traj_state_terminal(e->state) != 0);
        if (traj_state_terminal(e->state)) {
            sd_span(SPAN_LOGGED, e->traj_id);
            ended(p, e->traj_id, e->state);
        }
        break;
    }
    case EV_OUTPUT:
        log_json(p, json_pack("{s:s, s:I, s:I}", "type", "output", "id", (json_int_t)e->traj_id,
                              "line", (json_int_t)e->seq));
        break;
    case EV_PROGRESS:
        log_json(p,
                 json_pack("{s:s, s:I, s:f, s:f}", "type", "progress", "id", (json_int_t)e->traj_id,
                           "progress", e->progress, "equity", e->equity));
        break;
    case EV_SAMPLE:
        log_json(p,
                 json_pack("{s:s, s:I, s:I, s:I}", "type", "sample", "id", (json_int_t)e->traj_id,
                           "cpuMs", (json_int_t)e->cpu_ms, "memKb", (json_int_t)e->mem_kb));
        break;
    }
}

/* A "providers" event when a breaker changed (state or failure count):
 * consoles show the health line without polling. */
static void providers(struct pump *p)
{
    struct provider_health h[16];
    size_t n = coord_providers(p->c, h, 16);
    char sig[sizeof p->health_sig];
    size_t off = 0;

    sig[0] = '\0';
    for (size_t i = 0; i < n && off < sizeof sig; i++)
        off += (size_t)snprintf(sig + off, sizeof sig - off, "%s=%s/%d;", h[i].name, h[i].breaker,
                                h[i].failures);
    if (strcmp(sig, p->health_sig) == 0)
        return;
    memcpy(p->health_sig, sig, sizeof sig);
    log_json_tap(
        p, json_pack("{s:s, s:o}", "type", "providers", "providers", coord_health_json(h, n)), 0);
}

json_t *pump_learning(struct learn *l)
{
    struct sd_err err = {0};
    json_t *st, *by, *v, *out, *strats;
    const char *name;

    if (l == NULL || (st = learn_stats(l, NULL, &err)) == NULL)
        return NULL;
    strats = json_array();
    out = json_pack(
        "{s:O, s:O, s:O, s:O}", "totalTrajectories", json_object_get(st, "totalTrajectories"),
        "succeeded", json_object_get(st, "succeeded"), "successRatio",
        json_object_get(st, "avgSuccessRate"), "rewardMean", json_object_get(st, "avgReward"));
    by = json_object_get(st, "byStrategy");
    json_object_foreach(by, name, v)
    {
        json_t *n = json_object_get(v, "totalTrajectories");
        if (json_integer_value(n) <= 0)
            continue;
        json_array_append_new(strats,
                              json_pack("{s:s, s:O, s:O, s:O}", "name", name, "n", n,
                                        "successRatio", json_object_get(v, "avgSuccessRate"),
                                        "rewardMean", json_object_get(v, "avgReward")));
    }
    json_decref(st);
    if (out == NULL || strats == NULL) {
        json_decref(out);
        json_decref(strats);
        return NULL;
    }
    json_object_set_new(out, "strategies", strats);
    return out;
}

/* Send a "learning" event when the learner changed and the last one is a
 * second old. Returns how long (ms) the pump may sleep before it must look
 * again: a change held back by the throttle is sent when that time is up. */
static int learning(struct pump *p)
{
    struct learn *l = coord_learn(p->c);
    int64_t now = (int64_t)(sd_mono_ns() / 1000000), wait;
    json_t *snap;
    char *txt;

    if (l == NULL || learn_version(l) == p->learn_ver)
        return 1000;
    wait = p->learn_sent_ms + 1000 - now;
    if (wait > 0)
        return (int)(wait < 1000 ? wait : 1000);
    p->learn_ver = learn_version(l); /* before reading: a later change is seen next time */
    if ((snap = pump_learning(l)) == NULL)
        return 1000;
    txt = json_dumps(snap, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (txt != NULL && (p->learn_sent == NULL || strcmp(txt, p->learn_sent) != 0)) {
        free(p->learn_sent);
        p->learn_sent = txt;
        p->learn_sent_ms = now;
        /* Full precision, as GET /v1/learning answers: the same numbers. */
        json_t *o = json_pack("{s:s, s:O}", "type", "learning", "learning", snap);
        char *ev = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
        if (ev != NULL)
            evlog_append(p->log, ev);
        free(ev);
        json_decref(o);
    } else {
        free(txt);
    }
    json_decref(snap);
    return 1000;
}

static void *pump_main(void *arg)
{
    struct pump *p = arg;
    struct evq *q = coord_events(p->c);
    struct pollfd pf[2] = {{.fd = evq_fd(q), .events = POLLIN},
                           {.fd = p->stop_pipe[0], .events = POLLIN}};
    struct ev evs[256];
    int timeout = 1000;

    for (;;) {
        size_t n;
        int stopping;
        /* Woken by events, else once a second (sooner for a held-back
         * learning event): a breaker turns half-open by the clock, with no
         * event to say so. */
        if (poll(pf, 2, timeout) < 0)
            continue;
        /* On stop, drain once more: the cancellations that stopping made
         * must still end their runs (recorded in the store). */
        stopping = pf[1].revents != 0;
        /* Output events of one deployment coalesce: only the newest line
         * number of a drained batch is logged, since clients pull ranges. */
        while ((n = evq_drain(q, evs, sizeof evs / sizeof evs[0])) > 0)
            for (size_t i = 0; i < n; i++) {
                int newer = 0;
                if (evs[i].type == EV_OUTPUT)
                    for (size_t j = i + 1; j < n && !newer; j++)
                        newer = evs[j].type == EV_OUTPUT && evs[j].traj_id == evs[i].traj_id;
                if (!newer)
                    forward(p, &evs[i]);
            }
        providers(p);
        timeout = learning(p);
        if (stopping)
            break;
    }
    return NULL;
}

struct pump *pump_start(struct coord *c, struct evlog *l, pump_finish_fn on_finish, void *arg,
                        pump_tap_fn tap, void *tap_arg, struct sd_err *err)
{
    struct pump *p = calloc(1, sizeof *p);

    if (p == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    p->c = c;
    p->log = l;
    p->on_finish = on_finish;
    p->arg = arg;
    p->tap = tap;
    p->tap_arg = tap_arg;
    p->learn_ver = learn_version(coord_learn(c)); /* what was loaded is no news */
    pthread_mutex_init(&p->lock, NULL);
    if (pipe2(p->stop_pipe, O_CLOEXEC) != 0 ||
        pthread_create(&p->thread, NULL, pump_main, p) != 0) {
        sd_err_set(err, SD_EENV, "cannot start the event pump");
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    coord_on_final(c, pump_final, p);
    return p;
}

void pump_stop(struct pump *p)
{
    if (p == NULL)
        return;
    if (write(p->stop_pipe[1], "x", 1) != 1) {
        /* a pipe that cannot take one byte: nothing better to do than join */
    }
    pthread_join(p->thread, NULL);
    coord_on_final(p->c, NULL, NULL); /* waits for a call in progress */
    close(p->stop_pipe[0]);
    close(p->stop_pipe[1]);
    for (size_t k = 0; k < p->nruns; k++) {
        free(p->runs[k].ids);
        free(p->runs[k].counted);
    }
    free(p->runs);
    free(p->learn_sent);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int pump_run_add(struct pump *p, int64_t run, json_t *ids)
{
    size_t n = json_array_size(ids);
    struct prun r = {.run = run, .n = n, .left = n};
    struct prun *grown;
    int last = 0;

    r.ids = malloc((n ? n : 1) * sizeof *r.ids);
    r.counted = calloc(n ? n : 1, 1);
    if (r.ids == NULL || r.counted == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++)
        r.ids[i] = json_integer_value(json_array_get(ids, i));
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < n; i++) {
        struct deploy_view v;
        if (coord_view(p->c, r.ids[i], &v) == 0 && traj_state_terminal(v.state))
            last |= count_end(&r, i, v.state);
    }
    grown = realloc(p->runs, (p->nruns + 1) * sizeof *p->runs);
    if (grown == NULL) {
        pthread_mutex_unlock(&p->lock);
        goto oom;
    }
    p->runs = grown;
    r.closing = n == 0 || last;
    p->runs[p->nruns++] = r;
    pthread_mutex_unlock(&p->lock);
    if (r.closing) { /* every deployment had already ended */
        finish_run(p, &r);
        drop_run(p, run);
    }
    return 0;
oom:
    free(r.ids);
    free(r.counted);
    return -1;
}

size_t pump_runs_open(struct pump *p)
{
    size_t n;
    pthread_mutex_lock(&p->lock);
    n = p->nruns;
    pthread_mutex_unlock(&p->lock);
    return n;
}

int pump_run_open(struct pump *p, int64_t run)
{
    int open = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; k < p->nruns && !open; k++)
        open = p->runs[k].run == run;
    pthread_mutex_unlock(&p->lock);
    return open;
}
