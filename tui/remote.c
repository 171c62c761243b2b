/*
 * remote.c: the console's engine when a daemon runs it (remote.h).
 *
 * State under r->lock: the views (sorted by id), the provider health, the
 * daemon's info, the output rings, the notices and the pool of request
 * connections. The watcher thread owns the event stream's connection; the
 * output thread owns none of its own (it borrows from the pool).
 */
#define _GNU_SOURCE
#include "remote.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "traj.h"
#include "util.h"

#define RING_LINES  5000 /* as the coordinator's own ring (coord.c) */
#define RING_BYTES  (4 << 20)
#define PULL_MAX    5000 /* lines asked in one output request */
#define PULL_WINDOW 250  /* further behind than this: skip to the newest lines */
#define PULL_EVERY  100  /* ms between two pulls of a deployment that keeps writing */
#define POOL_MAX    4
#define NOTICE_MAX  16
#define REDIAL_MS   500
#define BACKOFF_MAX 30000
#define RESTART_MS  3000
#define CATCH_UP    UINT64_MAX /* "pull until the daemon has no more" */

struct rring {
    int64_t id;
    struct logring *ring;
    uint64_t have; /* the daemon's number of the last line copied */
    uint64_t want; /* the newest it announced (CATCH_UP: ask) */
    int gone;      /* the daemon no longer knows it: nothing more to pull */
};

struct notice {
    char text[200];
    int run;
};

struct remote {
    struct remote_conf conf;
    char name[64]; /* conf.name, copied */
    uint64_t seed; /* the backoff's jitter (watcher only) */
    int ever_up;   /* the stream was up once (watcher only) */
    struct evq *q;
    int own_q; /* q is ours to free */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* the output thread's work, and stop */
    int stop;

    struct deploy_view *views; /* sorted by id */
    size_t nviews, capviews;
    struct provider_health prov[8];
    size_t nprov;
    struct remote_info info;
    int need_list; /* the watcher lists again before it watches */
    struct client
        *streaming;     /* r->ev while the watcher is in client_events (remote_stop wakes it) */
    json_t *learning;   /* the daemon's newest learning snapshot, or NULL */
    uint64_t learn_at;  /* its event's number (0: listed) */
    uint64_t learn_gen; /* bumped each time learning is replaced (remote_learning_gen) */

    struct rring *rings;
    size_t nrings;
    int64_t watch; /* whose lines the output thread pulls (0: none) */
    struct remote_pulls pulls;

    struct notice notices[NOTICE_MAX];
    size_t nhead, nnotices;

    struct client *pool[POOL_MAX];
    size_t npool;

    struct client *ev; /* the event stream's connection (watcher only) */
    uint64_t since;    /* the last event number seen (watcher only) */
    char instance[17]; /* the daemon's run (GET /version's "instance"), whose numbers since are */
    pthread_t watcher, puller;
    int threads;
    int watching; /* set before the watcher starts: a listing from now on is the watcher's */
};

static const char *str_or(json_t *o, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : def;
}

/* --- small helpers (caller holds r->lock where it says so) ---------------- */

static void push(struct remote *r, int type, int64_t id, int state)
{
    struct ev e = {.type = type, .traj_id = id, .state = state};
    evq_push(r->q, &e);
}

static void notice(struct remote *r, int run, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void notice(struct remote *r, int run, const char *fmt, ...)
{
    va_list ap;
    struct notice *n;

    pthread_mutex_lock(&r->lock);
    if (r->nnotices == NOTICE_MAX) { /* the oldest gives way */
        r->nhead = (r->nhead + 1) % NOTICE_MAX;
        r->nnotices--;
    }
    n = &r->notices[(r->nhead + r->nnotices++) % NOTICE_MAX];
    n->run = run;
    {
        int k = r->name[0] ? snprintf(n->text, sizeof n->text, "%s: ", r->name) : 0;
        va_start(ap, fmt);
        vsnprintf(n->text + k, sizeof n->text - (size_t)k, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&r->lock);
    push(r, EV_NOTICE, 0, 0);
}

/* The view of id, or NULL. Caller holds the lock. */
static struct deploy_view *find_view(struct remote *r, int64_t id)
{
    size_t lo = 0, hi = r->nviews;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->views[mid].id == id)
            return &r->views[mid];
        if (r->views[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Insert or replace v. Caller holds the lock. */
static void put_view(struct remote *r, const struct deploy_view *v)
{
    struct deploy_view *have = find_view(r, v->id);
    size_t at;

    if (have != NULL) {
        *have = *v;
        return;
    }
    if (r->nviews == r->capviews) {
        r->capviews = r->capviews ? 2 * r->capviews : 256;
        r->views = xrealloc(r->views, r->capviews * sizeof *r->views);
    }
    for (at = r->nviews; at > 0 && r->views[at - 1].id > v->id; at--)
        ;
    memmove(&r->views[at + 1], &r->views[at], (r->nviews - at) * sizeof *r->views);
    r->views[at] = *v;
    r->nviews++;
}

static struct rring *find_ring(struct remote *r, int64_t id)
{
    for (size_t i = 0; i < r->nrings; i++)
        if (r->rings[i].id == id)
            return &r->rings[i];
    return NULL;
}

/* Deployment id wrote output the daemon does not announce line by line
 * (progress lines come as progress events, a state change may follow a
 * last chunk): when it is the one shown, pull until caught up. Caller holds
 * the lock. */
static void poke(struct remote *r, int64_t id)
{
    struct rring *g;
    if (id != r->watch || (g = find_ring(r, id)) == NULL || g->gone)
        return;
    g->want = CATCH_UP;
    pthread_cond_broadcast(&r->cond);
}

static int stopping(struct remote *r)
{
    int s;
    pthread_mutex_lock(&r->lock);
    s = r->stop;
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* Wait ms on the condition, or less when stopped. Caller holds the lock. */
static void nap_locked(struct remote *r, int ms)
{
    struct timespec ts = sd_timespec_after(0, ms);
    if (!r->stop)
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
}

/* --- connections ----------------------------------------------------------- */

static struct client *pool_take(struct remote *r, struct sd_err *err)
{
    struct client *c = NULL;

    pthread_mutex_lock(&r->lock);
    if (r->npool > 0)
        c = r->pool[--r->npool];
    pthread_mutex_unlock(&r->lock);
    if (c == NULL && r->conf.dial(r->conf.arg, 0, &c, err) != 0)
        return NULL;
    return c;
}

static void pool_give(struct remote *r, struct client *c)
{
    pthread_mutex_lock(&r->lock);
    if (r->npool < POOL_MAX) {
        r->pool[r->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    client_close(c);
}

int remote_call(struct remote *r, const char *method, const char *path, json_t *body, json_t **out,
                struct sd_err *err)
{
    struct client *c = pool_take(r, err);
    long status = 0;
    json_t *o = NULL;

    *out = NULL;
    if (c == NULL)
        return -1;
    if (client_call(c, method, path, body, &status, &o, err) != 0) {
        client_close(c); /* no answer: this connection is done */
        return -1;
    }
    pool_give(r, c);
    if (status < 200 || status > 299) {
        const char *e = json_string_value(json_object_get(o, "error"));
        sd_err_set(err, status >= 400 && status < 500 ? SD_EUSAGE : SD_EENV, "the daemon: %s",
                   e ? e : "an answer without an error text");
        json_decref(o);
        return -1;
    }
    *out = o;
    return 0;
}

/* --- listing ------------------------------------------------------------------ */

static void take_providers(struct remote *r, json_t *a)
{
    size_t i;
    json_t *p;

    r->nprov = 0;
    json_array_foreach(a, i, p)
    {
        struct provider_health *h;
        if (r->nprov == sizeof r->prov / sizeof r->prov[0])
            break;
        h = &r->prov[r->nprov++];
        memset(h, 0, sizeof *h);
        snprintf(h->name, sizeof h->name, "%s", str_or(p, "name", ""));
        snprintf(h->kind, sizeof h->kind, "%s", str_or(p, "kind", ""));
        snprintf(h->breaker, sizeof h->breaker, "%s", str_or(p, "breaker", ""));
        snprintf(h->detail, sizeof h->detail, "%s", str_or(p, "detail", ""));
        snprintf(h->region, sizeof h->region, "%s", str_or(p, "region", ""));
        h->failures = (int)json_integer_value(json_object_get(p, "failures"));
        h->create_ms = json_number_value(json_object_get(p, "createMs"));
        h->open_until_ms = json_integer_value(json_object_get(p, "openUntil"));
    }
}

/* GET /v1/learning on c: the daemon's learning snapshot (new reference; the
 * list of list+watch: later changes come as "learning" events), or NULL for
 * a daemon without learning, or an older one that does not know the path. */
static json_t *get_learning(struct client *c)
{
    json_t *o = NULL, *snap;
    struct sd_err err = {0};

    if (client_do(c, "GET", "/learning", NULL, &o, &err) != 0)
        return NULL;
    snap = json_object_get(o, "learning");
    snap = json_is_object(snap) ? json_incref(snap) : NULL;
    json_decref(o);
    return snap;
}

/* GET /v1/status on c: every view, the health, the options, and the event
 * number to watch from. Returns 0, or -1 (the connection is bad). */
static int list(struct remote *r, struct client *c, struct sd_err *err)
{
    json_t *o = NULL, *ver = client_version(c), *v;
    size_t i;

    json_t *learning;

    if (client_do(c, "GET", "/status", NULL, &o, err) != 0)
        return -1;
    /* After the status: at least as new as its seq, so no change is lost. */
    learning = get_learning(c);
    pthread_mutex_lock(&r->lock);
    if (r->conf.keep_ended) { /* only what may still change is listed again */
        size_t k = 0;
        for (size_t j = 0; j < r->nviews; j++)
            if (traj_state_terminal(r->views[j].state))
                r->views[k++] = r->views[j];
        r->nviews = k;
    } else {
        r->nviews = 0;
    }
    json_array_foreach(json_object_get(o, "deployments"), i, v)
    {
        struct deploy_view dv;
        if (coord_view_from_json(v, &dv) == 0) {
            dv.id = REMOTE_ID(r->conf.host, dv.id);
            put_view(r, &dv);
        }
    }
    take_providers(r, json_object_get(o, "providers"));
    json_decref(r->learning);
    r->learning = learning;
    r->learn_at = 0;
    r->learn_gen++;
    r->info.pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
    r->info.learning = json_is_true(json_object_get(o, "learning"));
    r->info.timeout_ms = json_integer_value(json_object_get(o, "timeoutMs"));
    r->info.readonly = json_is_true(json_object_get(ver, "readonly"));
    snprintf(r->info.default_provider, sizeof r->info.default_provider, "%s",
             str_or(o, "defaultProvider", "local"));
    snprintf(r->info.version, sizeof r->info.version, "%s", str_or(ver, "version", "?"));
    r->since = (uint64_t)json_integer_value(json_object_get(o, "seq"));
    r->need_list = 0;
    /* Rings of deployments the daemon no longer knows stop being pulled. */
    for (size_t k = 0; k < r->nrings; k++)
        if (find_view(r, r->rings[k].id) == NULL)
            r->rings[k].gone = 1;
    pthread_mutex_unlock(&r->lock);
    json_decref(o);
    /* Listed again (the watcher): the console reads everything again. Not
     * for remote_start's first listing: the console reads it as it starts,
     * and a resync then would only repeat its first snapshot and chain
     * check a second later (an idle console woke for them). */
    if (r->watching)
        push(r, EV_RESYNC, 0, 0);
    return 0;
}

/* --- the event stream ------------------------------------------------------- */

static int on_event(json_t *ev, void *arg)
{
    struct remote *r = arg;
    const char *type;
    int64_t id;
    struct deploy_view *v;

    if (ev == NULL)
        return stopping(r);
    type = json_string_value(json_object_get(ev, "type"));
    id = REMOTE_ID(r->conf.host, json_integer_value(json_object_get(ev, "id")));
    if (type == NULL)
        return 0;
    pthread_mutex_lock(&r->lock);
    r->since = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
    if (strcmp(type, "resync") == 0 || strcmp(type, "relist") == 0) {
        r->need_list = 1;
        pthread_mutex_unlock(&r->lock);
        return 1; /* the watcher lists, then watches on */
    }
    if (strcmp(type, "state") == 0) {
        struct deploy_view dv;
        int state = traj_state_from_name(json_string_value(json_object_get(ev, "state")));
        if (coord_view_from_json(json_object_get(ev, "view"), &dv) == 0) {
            dv.id = REMOTE_ID(r->conf.host, dv.id);
            put_view(r, &dv);
        } else if ((v = find_view(r, id)) != NULL && state >= 0) {
            v->state = state;
        }
        poke(r, id);
        pthread_mutex_unlock(&r->lock);
        if (state >= 0)
            push(r, EV_STATE, id, state);
        return 0;
    }
    if (strcmp(type, "progress") == 0) {
        struct ev e = {.type = EV_PROGRESS, .traj_id = id};
        e.progress = json_number_value(json_object_get(ev, "progress"));
        e.equity = json_number_value(json_object_get(ev, "equity"));
        if ((v = find_view(r, id)) != NULL) {
            v->progress = e.progress;
            v->equity = e.equity;
        }
        poke(r, id);
        pthread_mutex_unlock(&r->lock);
        evq_push(r->q, &e);
        return 0;
    }
    if (strcmp(type, "sample") == 0) {
        struct ev e = {.type = EV_SAMPLE, .traj_id = id};
        e.cpu_ms = json_integer_value(json_object_get(ev, "cpuMs"));
        e.mem_kb = json_integer_value(json_object_get(ev, "memKb"));
        if ((v = find_view(r, id)) != NULL) {
            v->cpu_ms = e.cpu_ms;
            v->mem_kb = e.mem_kb;
        }
        pthread_mutex_unlock(&r->lock);
        evq_push(r->q, &e);
        return 0;
    }
    if (strcmp(type, "output") == 0) {
        struct rring *g = find_ring(r, id);
        if (g != NULL) {
            uint64_t line = (uint64_t)json_integer_value(json_object_get(ev, "line"));
            if (g->want != CATCH_UP && line > g->want)
                g->want = line;
            if (id == r->watch)
                pthread_cond_broadcast(&r->cond);
        }
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    if (strcmp(type, "providers") == 0) {
        take_providers(r, json_object_get(ev, "providers"));
        pthread_mutex_unlock(&r->lock);
        push(r, EV_SAMPLE, 0, 0); /* the header redraws */
        return 0;
    }
    if (strcmp(type, "learning") == 0) {
        json_t *snap = json_object_get(ev, "learning");
        if (json_is_object(snap)) {
            json_decref(r->learning);
            r->learning = json_incref(snap);
            r->learn_at = r->since;
            r->learn_gen++;
        }
        pthread_mutex_unlock(&r->lock);
        push(r, EV_SAMPLE, 0, 0); /* the learning pane redraws */
        return 0;
    }
    pthread_mutex_unlock(&r->lock);
    if (strcmp(type, "run") == 0) {
        const char *s = json_string_value(json_object_get(ev, "summary"));
        notice(r, 1, "%s", s ? s : "a run ended");
    }
    return 0; /* bookmark, and types this console does not know */
}

int64_t remote_backoff_ms(int attempt, uint64_t *seed)
{
    int64_t ms = REDIAL_MS;
    uint64_t x = *seed ? *seed : 0x9e3779b97f4a7c15ull;

    for (int i = 1; i < attempt && ms < BACKOFF_MAX; i++)
        ms *= 2;
    if (ms > BACKOFF_MAX)
        ms = BACKOFF_MAX;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *seed = x;
    /* [0.75, 1.25): hosts lost together do not all dial at once */
    return ms * 3 / 4 + (int64_t)((x >> 11) % (uint64_t)(ms / 2 > 0 ? ms / 2 : 1));
}

/* A dial (or the stream) failed with err: say so in the info and wait the
 * backoff's delay (less when stopped). Watcher only. */
static void back_off(struct remote *r, const struct sd_err *err)
{
    int64_t ms;

    pthread_mutex_lock(&r->lock);
    r->info.attempts++;
    ms = remote_backoff_ms(r->info.attempts, &r->seed);
    r->info.retry_at = (int64_t)(sd_mono_ns() / 1000000) + ms;
    r->info.link = r->ever_up ? REMOTE_RETRY : REMOTE_UNREACHABLE;
    if (err != NULL && err->msg[0])
        snprintf(r->info.error, sizeof r->info.error, "%.159s", err->msg);
    pthread_mutex_unlock(&r->lock);
    push(r, EV_SAMPLE, 0, 0); /* the header redraws */
    pthread_mutex_lock(&r->lock);
    nap_locked(r, (int)ms);
    r->info.retry_at = 0;
    pthread_mutex_unlock(&r->lock);
}

/* Keep ver's daemon run; 1 when it is another than the one kept (a restart, even under the same
 * pid). Caller holds r->lock. */
static int remember_instance(struct remote *r, json_t *ver)
{
    const char *inst = json_string_value(json_object_get(ver, "instance"));
    int other = inst != NULL && strcmp(inst, r->instance) != 0;

    if (inst != NULL)
        snprintf(r->instance, sizeof r->instance, "%s", inst);
    return other;
}

/* (Re)connect the event stream. Returns 0, or -1 after the backoff. The
 * notice to give is written to said (len bytes): the caller gives it once the
 * list is fresh, so that "reconnected" means the view is in step again (a
 * launch made on that word is then seen from its first event). */
static int redial(struct remote *r, int64_t lost_at, pid_t old_pid, char *said, size_t len)
{
    struct sd_err err = {0};
    int start = r->conf.may_start && (int64_t)(sd_mono_ns() / 1000000) - lost_at >= RESTART_MS;
    json_t *ver;
    pid_t pid;
    int other;

    if (r->conf.dial(r->conf.arg, start, &r->ev, &err) != 0) {
        back_off(r, &err);
        return -1;
    }
    ver = client_version(r->ev);
    pid = (pid_t)json_integer_value(json_object_get(ver, "pid"));
    pthread_mutex_lock(&r->lock);
    other = remember_instance(r, ver);
    if (pid != old_pid || other)
        r->need_list = 1; /* another daemon: its numbers start again */
    r->info.attempts = 0;
    r->info.error[0] = '\0';
    pthread_mutex_unlock(&r->lock);
    if (old_pid == 0)
        snprintf(said, len, "connected to the daemon (pid %d)", (int)pid);
    else if (pid != old_pid)
        snprintf(said, len, "reconnected: the daemon restarted (pid %d, was %d)", (int)pid,
                 (int)old_pid);
    else if (other)
        snprintf(said, len, "reconnected: the daemon restarted (pid %d)", (int)pid);
    else
        snprintf(said, len, "reconnected to the daemon (pid %d)", (int)pid);
    return 0;
}

static void *watcher_main(void *arg)
{
    struct remote *r = arg;
    int64_t lost_at = 0;
    char said[200] = "";

    pthread_setname_np(pthread_self(), "sd-events"); /* tests/bench/console_idle.sh counts it */

    while (!stopping(r)) {
        struct sd_err err = {0};
        int rc, relist, go;
        uint64_t since;

        if (r->ev == NULL) {
            pid_t old;
            pthread_mutex_lock(&r->lock);
            old = r->info.pid;
            pthread_mutex_unlock(&r->lock);
            if (redial(r, lost_at, old, said, sizeof said) != 0)
                continue;
        }
        pthread_mutex_lock(&r->lock);
        relist = r->need_list;
        since = r->since;
        pthread_mutex_unlock(&r->lock);
        if (relist && list(r, r->ev, &err) == 0) {
            pthread_mutex_lock(&r->lock);
            since = r->since;
            pthread_mutex_unlock(&r->lock);
        } else if (relist) {
            rc = -1;
            goto broken;
        }
        if (said[0]) { /* up, and the view in step: both said at once */
            pthread_mutex_lock(&r->lock);
            r->info.connected = 1;
            r->info.link = REMOTE_UP;
            r->ever_up = 1;
            pthread_mutex_unlock(&r->lock);
            notice(r, 0, "%s", said);
            said[0] = '\0';
        }
        /* No tick: an idle stream sleeps until an event, the daemon's
         * bookmark or remote_stop's client_wake. */
        client_set_tick(r->ev, 0);
        pthread_mutex_lock(&r->lock);
        go = !r->stop;
        r->streaming = go ? r->ev : NULL;
        pthread_mutex_unlock(&r->lock);
        rc = go ? client_events(r->ev, since, on_event, r, &err) : 0;
        pthread_mutex_lock(&r->lock);
        r->streaming = NULL;
        pthread_mutex_unlock(&r->lock);
        if (rc >= 0)
            continue; /* stop, or list again */
    broken:
        client_close(r->ev);
        r->ev = NULL;
        lost_at = (int64_t)(sd_mono_ns() / 1000000);
        pthread_mutex_lock(&r->lock);
        r->info.connected = 0;
        r->info.link = r->ever_up ? REMOTE_RETRY : REMOTE_UNREACHABLE;
        snprintf(r->info.error, sizeof r->info.error, "%.159s", err.msg);
        pthread_mutex_unlock(&r->lock);
        if (!stopping(r))
            notice(r, 0, "lost the daemon (%s): reconnecting...", err.msg);
        push(r, EV_RESYNC, 0, 0); /* the header says so at once */
    }
    return NULL;
}

/* --- output ---------------------------------------------------------------- */

/* Copy the lines of answer o into g. Caller holds the lock. Returns how
 * many. */
static size_t take_lines(struct rring *g, json_t *o)
{
    json_t *l;
    size_t i, n = 0;
    uint64_t last = (uint64_t)json_integer_value(json_object_get(o, "last"));

    json_array_foreach(json_object_get(o, "lines"), i, l)
    {
        uint64_t seq = (uint64_t)json_integer_value(json_object_get(l, "seq"));
        const char *text = json_string_value(json_object_get(l, "text"));
        if (seq <= g->have || text == NULL)
            continue;
        logring_put(g->ring, (int)json_integer_value(json_object_get(l, "stream")),
                    json_is_true(json_object_get(l, "partial")),
                    json_integer_value(json_object_get(l, "time")), text);
        g->have = seq;
        n++;
    }
    if (n == 0 && last > g->have)
        g->have = last; /* what we asked for fell off the daemon's ring */
    /* Caught up, or a flood outran the catch-up: from now on the newest
     * line is a number, so the next pull skips to the window (a catch-up
     * that never ends would copy the flood PULL_MAX lines at a time). */
    if (g->want == CATCH_UP && (g->have >= last || last - g->have > PULL_WINDOW))
        g->want = g->have >= last ? g->have : last;
    return n;
}

static void count_pull(struct remote_pulls *p, int catching, size_t got)
{
    if (catching) {
        p->catch_up++;
    } else {
        p->windowed++;
        p->most = got > p->most ? got : p->most;
    }
    p->lines += got;
}

/* The output thread. A console shows a window of lines, so it need not
 * copy a flood line by line: it pulls at most every PULL_EVERY ms, and
 * when the deployment is more than PULL_WINDOW lines ahead it skips to the
 * newest ones and says how many it skipped (the store keeps them all).
 * That bounds what ten consoles cost the daemon during a flood. */
static void *puller_main(void *arg)
{
    struct remote *r = arg;
    uint64_t last_pull = 0;
    int64_t last_id = 0;

    pthread_setname_np(pthread_self(), "sd-output");
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        struct rring *g = r->watch ? find_ring(r, r->watch) : NULL;
        struct sd_err err = {0};
        uint64_t now = sd_mono_ns(), from;
        char path[96];
        json_t *o = NULL;
        int64_t id;
        int rc, catching;
        size_t got;

        if (g == NULL || g->gone || g->want <= g->have) {
            pthread_cond_wait(&r->cond, &r->lock);
            continue;
        }
        id = g->id;
        if (id == last_id && now - last_pull < (uint64_t)PULL_EVERY * 1000000u) {
            nap_locked(r,
                       (int)((last_pull + (uint64_t)PULL_EVERY * 1000000u - now) / 1000000u) + 1);
            continue;
        }
        last_id = id;
        last_pull = now;
        from = g->have + 1;
        if (g->want != CATCH_UP && g->want - g->have > PULL_WINDOW) {
            char note[200];
            from = g->want - PULL_WINDOW + 1;
            snprintf(note, sizeof note,
                     "[swarmdeck: %" PRIu64 " line(s) not shown: they came faster than this "
                     "console follows; the store has them all (S saves, `swarmdeck logs %" PRId64
                     "` prints)]",
                     from - 1 - g->have, REMOTE_LOCAL(id));
            logring_put(g->ring, 2, 0, sd_now_ms(), note);
            g->have = from - 1;
        }
        /* Up to the newest line announced, not what the daemon wrote since:
         * in a flood that is thousands more, and the next notice brings them. */
        snprintf(path, sizeof path, "/deployments/%" PRId64 "/output?from=%" PRIu64 "&max=%d",
                 REMOTE_LOCAL(id), from, g->want == CATCH_UP ? PULL_MAX : PULL_WINDOW);
        pthread_mutex_unlock(&r->lock);
        rc = remote_call(r, "GET", path, NULL, &o, &err);
        pthread_mutex_lock(&r->lock);
        g = find_ring(r, id); /* rings only grow, but the array moves */
        if (rc != 0) {
            if (err.code == SD_EUSAGE)
                g->gone = 1; /* 404: a daemon that does not know it */
            else
                nap_locked(r, REDIAL_MS);
            continue;
        }
        catching = g->want == CATCH_UP;
        got = take_lines(g, o);
        count_pull(&r->pulls, catching, got);
        if (got > 0 || g->want <= g->have) {
            pthread_mutex_unlock(&r->lock);
            push(r, EV_OUTPUT, id, 0);
            pthread_mutex_lock(&r->lock);
        }
        json_decref(o);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int remote_sync(struct remote *r, struct sd_err *err)
{
    json_t *o = NULL, *v;
    size_t i;

    if (remote_call(r, "GET", "/deployments", NULL, &o, err) != 0)
        return -1;
    pthread_mutex_lock(&r->lock);
    json_array_foreach(json_object_get(o, "deployments"), i, v)
    {
        struct deploy_view dv;
        if (coord_view_from_json(v, &dv) != 0)
            continue;
        dv.id = REMOTE_ID(r->conf.host, dv.id);
        if (find_view(r, dv.id) == NULL)
            put_view(r, &dv);
    }
    pthread_mutex_unlock(&r->lock);
    json_decref(o);
    return 0;
}

void remote_pull_stats(struct remote *r, struct remote_pulls *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->pulls;
    pthread_mutex_unlock(&r->lock);
}

struct logring *remote_log(struct remote *r, int64_t id)
{
    struct rring *g;
    struct logring *ring = NULL;

    pthread_mutex_lock(&r->lock);
    if ((g = find_ring(r, id)) == NULL && find_view(r, id) != NULL) {
        struct logring *n = logring_new(RING_LINES, RING_BYTES);
        if (n != NULL) {
            r->rings = xrealloc(r->rings, (r->nrings + 1) * sizeof *r->rings);
            g = &r->rings[r->nrings++];
            *g = (struct rring){.id = id, .ring = n};
        }
    }
    if (g != NULL) {
        ring = g->ring;
        r->watch = id;
        if (!g->gone)
            g->want = CATCH_UP;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return ring;
}

/* --- the rest of the API ------------------------------------------------------ */

struct remote *remote_start(const struct remote_conf *conf, struct client *c, struct sd_err *err)
{
    struct remote *r = xcalloc(1, sizeof *r);

    r->conf = *conf;
    r->conf.name = NULL; /* copied below */
    snprintf(r->name, sizeof r->name, "%s", conf->name ? conf->name : "");
    r->seed = sd_mono_ns() ^ ((uint64_t)conf->host << 32) ^ (uint64_t)(uintptr_t)r;
    r->ev = c;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->q = conf->q;
    if (r->q == NULL) {
        r->own_q = 1;
        if ((r->q = evq_new(4096)) == NULL) {
            sd_err_set(err, SD_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (c == NULL) {
        /* Unreachable for now: the watcher dials with backoff. */
        r->info.link = REMOTE_UNREACHABLE;
        snprintf(r->info.error, sizeof r->info.error, "%.159s",
                 err->msg[0] ? err->msg : "no answer");
        r->need_list = 1;
        memset(err, 0, sizeof *err);
    } else if (list(r, c, err) != 0) {
        goto fail;
    } else {
        remember_instance(r, client_version(c));
        r->info.connected = 1;
        r->info.link = REMOTE_UP;
        r->ever_up = 1;
    }
    r->watching = 1;
    if (pthread_create(&r->watcher, NULL, watcher_main, r) != 0) {
        sd_err_set(err, SD_EENV, "cannot start the daemon's watcher");
        goto fail;
    }
    if (pthread_create(&r->puller, NULL, puller_main, r) != 0) {
        pthread_mutex_lock(&r->lock);
        r->stop = 1;
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->watcher, NULL);
        sd_err_set(err, SD_EENV, "cannot start the output reader");
        goto fail;
    }
    r->threads = 1;
    return r;
fail:
    remote_stop(r);
    return NULL;
}

void remote_stop(struct remote *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_broadcast(&r->cond);
    if (r->streaming != NULL)
        client_wake(r->streaming); /* the watcher's stream returns at once */
    pthread_mutex_unlock(&r->lock);
    if (r->threads) {
        pthread_join(r->puller, NULL);
        pthread_join(r->watcher, NULL);
    }
    client_close(r->ev);
    for (size_t i = 0; i < r->npool; i++)
        client_close(r->pool[i]);
    for (size_t i = 0; i < r->nrings; i++)
        logring_free(r->rings[i].ring);
    free(r->rings);
    free(r->views);
    json_decref(r->learning);
    if (r->own_q)
        evq_free(r->q);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

struct evq *remote_events(struct remote *r)
{
    return r->q;
}

size_t remote_list(struct remote *r, struct deploy_view *out, size_t max)
{
    size_t n;
    pthread_mutex_lock(&r->lock);
    n = r->nviews < max ? r->nviews : max;
    if (n > 0) /* none listed yet: views may be NULL */
        memcpy(out, r->views, n * sizeof *out);
    if (r->nviews > max)
        n = max; /* the caller grows its array and asks again (coord_list's rule) */
    pthread_mutex_unlock(&r->lock);
    return n;
}

void remote_counts(struct remote *r, int counts[TS_COUNT])
{
    memset(counts, 0, sizeof(int) * TS_COUNT);
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nviews; i++)
        if (r->views[i].state >= 0 && r->views[i].state < TS_COUNT)
            counts[r->views[i].state]++;
    pthread_mutex_unlock(&r->lock);
}

size_t remote_providers(struct remote *r, struct provider_health *out, size_t max)
{
    size_t n;
    pthread_mutex_lock(&r->lock);
    n = r->nprov < max ? r->nprov : max;
    memcpy(out, r->prov, n * sizeof *out);
    pthread_mutex_unlock(&r->lock);
    return n;
}

void remote_info(struct remote *r, struct remote_info *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->info;
    pthread_mutex_unlock(&r->lock);
}

int remote_notice(struct remote *r, char *buf, size_t len, int *run)
{
    int got = 0;
    pthread_mutex_lock(&r->lock);
    if (r->nnotices > 0) {
        struct notice *n = &r->notices[r->nhead];
        snprintf(buf, len, "%s", n->text);
        *run = n->run;
        r->nhead = (r->nhead + 1) % NOTICE_MAX;
        r->nnotices--;
        got = 1;
    }
    pthread_mutex_unlock(&r->lock);
    return got;
}

int remote_learning(struct remote *r, json_t **out, uint64_t *seq)
{
    int rc = -1;

    *out = NULL;
    pthread_mutex_lock(&r->lock);
    if (r->learning != NULL && (*out = json_deep_copy(r->learning)) != NULL)
        rc = 0;
    if (seq != NULL)
        *seq = r->learn_at;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

uint64_t remote_learning_gen(struct remote *r)
{
    uint64_t g;
    pthread_mutex_lock(&r->lock);
    g = r->learn_gen;
    pthread_mutex_unlock(&r->lock);
    return g;
}

int remote_learning_summary(const json_t *snap, const char *host, char *buf, size_t len)
{
    json_int_t n = json_integer_value(json_object_get(snap, "totalTrajectories"));
    const json_t *sr = json_object_get(snap, "successRatio"),
                 *rw = json_object_get(snap, "rewardMean");
    const json_t *strats = json_object_get(snap, "strategies"), *s;
    const char *top = NULL;
    json_int_t topn = 0;
    size_t i;
    int w;

    if (len == 0)
        return -1;
    buf[0] = '\0';
    if (!json_is_object(snap))
        return -1;
    if (n <= 0) {
        w = snprintf(buf, len, "%s: nothing learned yet", host ? host : "?");
        return w < 0 ? -1 : 0;
    }
    json_array_foreach(strats, i, s)
    {
        json_int_t sn = json_integer_value(json_object_get(s, "n"));
        if (sn > topn) {
            topn = sn;
            top = json_string_value(json_object_get(s, "name"));
        }
    }
    w = snprintf(buf, len, "%s: %lld learned, %.0f%% succeeded, reward %.3f, %zu %s%s%s",
                 host ? host : "?", (long long)n,
                 json_is_number(sr) ? 100 * json_number_value(sr) : 0.0,
                 json_is_number(rw) ? json_number_value(rw) : 0.0, json_array_size(strats),
                 json_array_size(strats) == 1 ? "strategy" : "strategies", top ? ", most " : "",
                 top ? top : "");
    return w < 0 ? -1 : 0;
}
