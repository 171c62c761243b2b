/*
 * coord.c: the coordinator (coord.h).
 *
 * One mutex (c->lock) guards the deployment table, the FIFO and every
 * deployment's view; one condition variable (c->cond) wakes workers for new
 * work and waiters for state changes. Workers hold no lock while they talk
 * to a provider: a deployment's sandbox pointer is published under the lock
 * only so coord_cancel can signal it.
 */
#define _GNU_SOURCE
#include "coord.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "breaker.h"
#include "learn.h"

struct dep {
    struct deploy_view v; /* under c->lock */
    char uuid[37];
    const struct strategy_def *def;
    json_t *params; /* resolved */
    char *params_s;
    char *description;
    struct data_source data;
    int64_t timeout_ms;
    int pace;
    char pace_s[16];
    struct logring *log;
    json_t *result;     /* under c->lock once published */
    json_t *prediction; /* the suggestion made before launch, or NULL */
    _Atomic int cancel;
    struct sbx *sbx;  /* under c->lock */
    struct pinst *pi; /* the instance of sbx, under c->lock */
    int64_t run_id;
    char want[32]; /* the provider asked for: instance name or kind */
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

#define MAX_PROVIDERS 9

/* One provider instance and its health; breaker and create_ms under c->lock. */
struct pinst {
    struct provider *p;
    char kind[16];
    char detail[64];
    struct breaker br;
    double create_ms; /* moving average of create latency, 0 = unknown */
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

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct dep **deps;
    size_t ndeps, capdeps;
    struct dep *qhead, *qtail;
    int stopping;
    int active;                 /* queued + running */
    _Atomic uint64_t submitted; /* coord_submit calls, for reproducible seeds */
    pthread_t *workers;
    int nworkers;
};

static struct dep *find(struct coord *c, int64_t id);
static int validate(struct coord *c, const struct deploy_req *r, const struct strategy_def **def,
                    json_t **params, json_t **given, struct sd_err *err);

void coord_opts_default(struct coord_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_agents = 10;
    o->timeout_ms = 300000;
    o->memory_mb = 512;
    o->cpus = 1;
    o->pids = 256;
    o->learning = 1;
    o->retries = 3;
    o->max_output = 256ll << 20;
    o->backoff_ms = 100;
}

static void push_state(struct coord *c, struct dep *d)
{
    struct ev e = {.type = EV_STATE, .state = d->v.state, .traj_id = d->v.id};
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

/* Record one operation: in the store, and in the trajectory's sequence. */
static void op_record(struct dep *d, const char *name, int64_t wall_ms, double ms, int ok,
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
    op_record(d, name, t->wall_ms, (double)(sd_mono_ns() - t->t0) / 1e6, ok, detail);
}

/* --- output --------------------------------------------------------------- */

static void machine_line(struct dep *d, const char *line)
{
    struct coord *c = d->c;
    json_error_t je;
    json_t *j;

    if (strncmp(line, "@@progress ", 11) == 0) {
        j = json_loads(line + 11, 0, &je);
        if (json_is_object(j)) {
            double bar = json_number_value(json_object_get(j, "bar"));
            double of = json_number_value(json_object_get(j, "of"));
            double eq = json_number_value(json_object_get(j, "equity"));
            int64_t now = sd_now_ms();
            struct ev e = {.type = EV_PROGRESS, .traj_id = d->v.id};
            pthread_mutex_lock(&c->lock);
            d->v.progress = of > 0 ? bar / of : 0;
            d->v.equity = eq;
            e.progress = d->v.progress;
            e.equity = eq;
            pthread_mutex_unlock(&c->lock);
            if (now - d->last_ev_ms >= 50 || bar >= of) {
                d->last_ev_ms = now;
                evq_push(c->evq, &e);
            }
        }
        json_decref(j);
    } else if (strncmp(line, "@@result ", 9) == 0) {
        d->nresults++;
        j = json_loads(line + 9, 0, &je);
        if (d->nresults == 1 && json_is_object(j))
            d->pending_result = j;
        else
            json_decref(j);
    } else if (strncmp(line, "@@error ", 8) == 0) {
        j = json_loads(line + 8, 0, &je);
        const char *m = json_string_value(json_object_get(j, "message"));
        snprintf(d->errmsg, sizeof d->errmsg, "%s", m ? m : line + 8);
        json_decref(j);
    }
}

/* Split stdout into lines to find machine lines; lines over 1 MiB are not
 * protocol lines and are skipped (they are still stored byte for byte). */
static void parse_stdout(struct dep *d, const char *data, size_t len)
{
    const size_t max = 1 << 20;

    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;

        if (!d->line_skip) {
            if (d->linelen + take > max) {
                d->line_skip = 1;
                d->linelen = 0;
            } else {
                char *p = realloc(d->line, d->linelen + take + 1);
                if (p == NULL) {
                    d->line_skip = 1;
                } else {
                    d->line = p;
                    memcpy(d->line + d->linelen, data, take);
                    d->linelen += take;
                }
            }
        }
        if (nl == NULL)
            return;
        if (!d->line_skip && d->line != NULL) {
            d->line[d->linelen] = '\0';
            if (d->linelen > 2 && d->line[0] == '@' && d->line[1] == '@')
                machine_line(d, d->line);
        }
        d->linelen = 0;
        d->line_skip = 0;
        data += take + 1;
        len -= take + 1;
    }
}

static void note_stderr(struct dep *d, const char *data, size_t len)
{
    /* Keep the last complete non-empty line for error messages. */
    const char *end = data + len, *p = end;
    while (p > data && (p[-1] == '\n' || p[-1] == '\r'))
        p--;
    end = p;
    while (p > data && p[-1] != '\n')
        p--;
    if (end > p) {
        size_t n = (size_t)(end - p);
        if (n >= sizeof d->last_stderr)
            n = sizeof d->last_stderr - 1;
        memcpy(d->last_stderr, p, n);
        d->last_stderr[n] = '\0';
    }
}

static void on_output(void *arg, int stream, const char *data, size_t len)
{
    struct dep *d = arg;
    struct coord *c = d->c;
    uint64_t seq;
    int64_t now;

    store_output_append(c->store, d->v.id, stream, data, len);
    seq = logring_append(d->log, stream, data, len);
    d->out_bytes += len;
    if (stream == 1)
        parse_stdout(d, data, len);
    else
        note_stderr(d, data, len);
    pthread_mutex_lock(&c->lock);
    d->v.output_bytes = d->out_bytes;
    if (!d->output_killed && (int64_t)d->out_bytes > c->o.max_output) {
        d->output_killed = 1;
        if (d->sbx != NULL)
            d->pi->p->ops->signal(d->sbx, SIGTERM);
    }
    pthread_mutex_unlock(&c->lock);
    now = sd_now_ms();
    if (now - d->last_ev_ms >= 50) {
        struct ev e = {.type = EV_OUTPUT, .traj_id = d->v.id, .seq = seq};
        d->last_ev_ms = now;
        evq_push(c->evq, &e);
    }
}

struct lease_pid_job {
    char sandbox_id[80];
    int pid;
    uint64_t pid_start;
};

static int lease_pid_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct lease_pid_job *j = arg;
    sqlite3_stmt *st =
        store_stmt(s, "UPDATE leases SET pid = ?2, pid_start = ?3 WHERE sandbox_id = ?1", err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, j->sandbox_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, j->pid);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)j->pid_start);
    if (sqlite3_step(st) != SQLITE_DONE)
        return sd_err_set(err, SD_EENV, "store: %s", sqlite3_errmsg(db));
    return 0;
}

static void on_started(void *arg, const char *iso, const char *level)
{
    struct dep *d = arg;
    struct coord *c = d->c;
    struct lease_pid_job *j = xcalloc(1, sizeof *j);
    char workdir[8];
    struct sbx *b;

    d->t_started_ns = sd_mono_ns();
    free(d->isolation);
    d->isolation = xstrdup(iso);
    pthread_mutex_lock(&c->lock);
    snprintf(d->v.isolation_level, sizeof d->v.isolation_level, "%s", level);
    if (strcmp(d->pi->kind, "local") == 0) /* the header shows the local isolation level */
        snprintf(d->pi->detail, sizeof d->pi->detail, "%s", level);
    b = d->sbx;
    pthread_mutex_unlock(&c->lock);
    /* Record the helper's pid in the lease so recovery can reap it. The lease
     * itself was committed before the start; this update rides the next
     * batch (if we crash before it commits, the helper dies with us through
     * its lifeline, and the cgroup sweep finds any remains). */
    snprintf(j->sandbox_id, sizeof j->sandbox_id, "%s", d->v.sandbox_id);
    d->pi->p->ops->lease_info(b, &j->pid, &j->pid_start, workdir, sizeof workdir);
    store_submit(c->store, lease_pid_fn, j, free);
}

static void on_sample(void *arg, int64_t cpu_ms, int64_t mem_kb)
{
    struct dep *d = arg;
    struct coord *c = d->c;
    struct ev e = {.type = EV_SAMPLE, .traj_id = d->v.id, .cpu_ms = cpu_ms, .mem_kb = mem_kb};

    pthread_mutex_lock(&c->lock);
    d->v.cpu_ms = cpu_ms;
    d->v.mem_kb = mem_kb;
    pthread_mutex_unlock(&c->lock);
    evq_push(c->evq, &e);
}

/* --- one deployment -------------------------------------------------------- */

static char **build_cmd(struct dep *d)
{
    size_t n = 0, i = 0;
    char **v;

    while (d->def->command[n] != NULL)
        n++;
    v = xcalloc(n + 8, sizeof *v);
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
    v[i] = NULL;
    return v;
}

/* Wait up to ms unless the deployment is cancelled; returns 1 if cancelled. */
static int backoff_wait(struct coord *c, struct dep *d, int64_t ms)
{
    struct timespec ts;
    int cancelled;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&c->lock);
    while (!atomic_load(&d->cancel) && pthread_cond_timedwait(&c->cond, &c->lock, &ts) != ETIMEDOUT)
        ;
    cancelled = atomic_load(&d->cancel);
    pthread_mutex_unlock(&c->lock);
    return cancelled;
}

/* --- providers and breakers ---------------------------------------------- */

/* The breakers' clock: monotonic, so a fixed SWARMDECK_CLOCK cannot freeze them. */
static int64_t mono_ms(void)
{
    return (int64_t)(sd_mono_ns() / 1000000);
}

static int matches(const struct pinst *pi, const char *want)
{
    return strcmp(pi->p->name, want) == 0 || strcmp(pi->kind, want) == 0;
}

/* Caller holds c->lock. The healthy instance matching want with the lowest
 * recent create latency (untried ones first), its breaker's trial taken; or
 * NULL. */
static struct pinst *pick_locked(struct coord *c, const char *want, int64_t now)
{
    struct pinst *best = NULL;

    for (int i = 0; i < c->nprov; i++) {
        struct pinst *pi = &c->prov[i];
        int st;
        if (!matches(pi, want))
            continue;
        st = breaker_state(&pi->br, now);
        if (st == BREAKER_OPEN || (st == BREAKER_HALF_OPEN && pi->br.trial))
            continue;
        if (best == NULL || pi->create_ms < best->create_ms)
            best = pi;
    }
    if (best != NULL)
        breaker_allow(&best->br, now);
    return best;
}

/* Choose the instance for one attempt of d: its own request, else the
 * failover. Returns NULL with err set (SD_EFAIL: not worth a retry) when
 * every candidate's breaker is open and failover is not allowed. */
static struct pinst *pick(struct coord *c, struct dep *d, struct sd_err *err)
{
    int64_t now = mono_ms();
    struct pinst *pi, *open = NULL;

    pthread_mutex_lock(&c->lock);
    pi = pick_locked(c, d->want, now);
    if (pi == NULL && c->failover[0] && strcmp(c->failover, d->want) != 0)
        pi = pick_locked(c, c->failover, now);
    for (int i = 0; pi == NULL && i < c->nprov; i++)
        if (matches(&c->prov[i], d->want) && open == NULL)
            open = &c->prov[i];
    if (pi == NULL && open != NULL) {
        int64_t left = breaker_open_until(&open->br) - now;
        sd_err_set(err, SD_EFAIL,
                   "provider %s unavailable: its circuit breaker is open after %d consecutive "
                   "failures (half-open in %lld s)%s",
                   open->p->name, open->br.failures,
                   (long long)(left > 0 ? (left + 999) / 1000 : 0),
                   c->failover[0] ? "; the failover provider is unavailable too"
                                  : "; allow failover with --failover local");
    }
    pthread_mutex_unlock(&c->lock);
    return pi;
}

static int health_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    sqlite3_stmt *st =
        store_stmt(s, "INSERT OR REPLACE INTO meta(key, value) VALUES('provider_health', ?1)", err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return sd_err_set(err, SD_EENV, "store: %s", sqlite3_errmsg(db));
    return 0;
}

json_t *coord_health_json(const struct provider_health *h, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:I}", "name", h[i].name,
                                           "kind", h[i].kind, "breaker", h[i].breaker, "detail",
                                           h[i].detail, "failures", h[i].failures, "createMs",
                                           h[i].create_ms, "openUntil",
                                           (json_int_t)h[i].open_until_ms));
    return a;
}

/* Keep the providers' health in the store (meta provider_health), so
 * `status` shows it and the next process starts with the same breakers. */
static void persist_health(struct coord *c)
{
    struct provider_health h[MAX_PROVIDERS];
    size_t n = coord_providers(c, h, MAX_PROVIDERS);
    json_t *j = coord_health_json(h, n);
    char *text = json_dumps(j, JSON_COMPACT);

    json_decref(j);
    if (text != NULL)
        store_submit(c->store, health_fn, text, free);
}

/* Start with the breakers a previous process left: an open one stays open
 * for the rest of its cool-down (then half-open); counts carry over. */
static void restore_health(struct coord *c, struct pinst *pi)
{
    sqlite3 *db = store_reader(c->store, NULL);
    sqlite3_stmt *st = NULL;
    json_t *a = NULL, *v;
    json_error_t je;
    size_t i;

    if (db == NULL)
        return;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'provider_health'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        a = json_loads((const char *)sqlite3_column_text(st, 0), 0, &je);
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    json_array_foreach(a, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *br = json_string_value(json_object_get(v, "breaker"));
        int64_t left = json_integer_value(json_object_get(v, "openUntil")) - sd_now_ms();
        if (name == NULL || br == NULL || strcmp(name, pi->p->name) != 0)
            continue;
        pi->br.failures = (int)json_integer_value(json_object_get(v, "failures"));
        pi->create_ms = json_number_value(json_object_get(v, "createMs"));
        if (strcmp(br, "closed") != 0) {
            if (left > pi->br.cooldown_ms)
                left = pi->br.cooldown_ms;
            pi->br.state = BREAKER_OPEN;
            pi->br.opened_at = mono_ms() - pi->br.cooldown_ms + (left > 0 ? left : 0);
        }
    }
    json_decref(a);
}

/* Feed one attempt's outcome to its instance's breaker: 1 success, -1 a
 * provider failure, 0 neither (bad input, cancelled): only release a trial. */
static void report(struct coord *c, struct pinst *pi, int outcome)
{
    int64_t now = mono_ms();
    int before, changed;

    pthread_mutex_lock(&c->lock);
    before = pi->br.state * 100000 + pi->br.failures;
    if (outcome > 0)
        breaker_success(&pi->br, now);
    else if (outcome < 0)
        breaker_failure(&pi->br, now);
    else
        pi->br.trial = 0;
    changed = before != pi->br.state * 100000 + pi->br.failures;
    pthread_mutex_unlock(&c->lock);
    if (changed)
        persist_health(c);
}

struct provider_job {
    int64_t id;
    char name[32];
};

static int provider_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct provider_job *j = arg;
    sqlite3_stmt *st = store_stmt(s, "UPDATE trajectories SET provider = ?2 WHERE id = ?1", err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, j->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return sd_err_set(err, SD_EENV, "store: %s", sqlite3_errmsg(db));
    return 0;
}

/* d runs on pi from now on: its view, its trajectory and (when it moved to
 * another instance than planned) an operation saying so. */
static void use_instance(struct coord *c, struct dep *d, struct pinst *pi)
{
    int moved;

    pthread_mutex_lock(&c->lock);
    moved = strcmp(d->v.provider, pi->p->name) != 0;
    d->pi = pi;
    if (moved)
        snprintf(d->v.provider, sizeof d->v.provider, "%s", pi->p->name);
    pthread_mutex_unlock(&c->lock);
    if (moved) {
        struct provider_job *j = xcalloc(1, sizeof *j);
        j->id = d->v.id;
        snprintf(j->name, sizeof j->name, "%s", pi->p->name);
        store_submit(c->store, provider_fn, j, free);
    }
    if (moved && !matches(pi, d->want)) {
        char why[96];
        snprintf(why, sizeof why, "%s unavailable: now on %s", d->want, pi->p->name);
        op_record(d, "failover", sd_now_ms(), 0, 1, why);
    }
}

/* Destroy a sandbox and drop its lease, as the "destroy" operation. */
static void teardown(struct coord *c, struct dep *d, struct sbx *b)
{
    struct op_timer t;

    pthread_mutex_lock(&c->lock);
    d->sbx = NULL;
    pthread_mutex_unlock(&c->lock);
    op_begin(&t);
    d->pi->p->ops->destroy(b);
    store_lease_remove(c->store, d->v.sandbox_id);
    op_end(d, &t, "destroy", 1, NULL);
}

/* One attempt: create, upload, start+stream. Returns 0 when the program ran
 * (whatever its outcome; ex filled, the sandbox left in *keep for collect and
 * destroy), -1 on a provider error (err set; retryable when err->code ==
 * SD_EENV; the sandbox already destroyed). */
static int attempt(struct coord *c, struct dep *d, struct pinst *pi, struct sbx_exit *ex,
                   struct sbx **keep, struct sd_err *err)
{
    struct provider *p = pi->p;
    struct sbx_spec spec = {
        .id = d->v.sandbox_id,
        .timeout_ms = d->timeout_ms,
        .memory_mb = c->o.memory_mb,
        .cpus = c->o.cpus,
        .pids = c->o.pids,
        .strict = c->o.strict,
        .unsandboxed = c->o.unsandboxed,
        .traj_id = d->v.id,
        .run_id = d->run_id,
    };
    struct sbx_callbacks cb = {on_output, on_started, on_sample, d};
    struct store_lease lease;
    struct op_timer t;
    struct sbx *b = NULL;
    char **cmd = NULL;
    int rc = -1;

    op_begin(&t);
    if (p->ops->create(p, &spec, &b, err) != 0) {
        op_end(d, &t, "create", 0, err->msg);
        return -1;
    }
    {
        double ms = (double)(sd_mono_ns() - t.t0) / 1e6;
        pthread_mutex_lock(&c->lock);
        pi->create_ms = pi->create_ms > 0 ? 0.7 * pi->create_ms + 0.3 * ms : ms;
        pthread_mutex_unlock(&c->lock);
    }
    memset(&lease, 0, sizeof lease);
    snprintf(lease.sandbox_id, sizeof lease.sandbox_id, "%s", d->v.sandbox_id);
    lease.traj_id = d->v.id;
    snprintf(lease.provider, sizeof lease.provider, "%s", p->name);
    p->ops->lease_info(b, &lease.pid, &lease.pid_start, lease.workdir, sizeof lease.workdir);
    lease.owner_pid = (int)getpid();
    lease.owner_start = proc_start_time(lease.owner_pid);
    lease.created_at = sd_now_ms();
    if (store_lease_add(c->store, &lease, err) != 0) {
        op_end(d, &t, "create", 0, err->msg);
        p->ops->destroy(b);
        return -1;
    }
    op_end(d, &t, "create", 1, NULL);
    pthread_mutex_lock(&c->lock);
    d->sbx = b;
    pthread_mutex_unlock(&c->lock);

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
        op_record(d, "start", t.wall_ms, (double)(d->t_started_ns - t.t0) / 1e6, 1, NULL);
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

static void finish(struct coord *c, struct dep *d, int state, int exit_code, const char *error,
                   json_t *result)
{
    struct traj_final f;
    char *result_s = result ? json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    int64_t now = sd_now_ms();

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
        };
        learn_observe(c->learn, &o);
    }

    pthread_mutex_lock(&c->lock);
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
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    push_state(c, d);
}

static void run_dep(struct coord *c, struct dep *d)
{
    struct sbx_exit ex;
    struct sd_err err;
    struct sbx *b = NULL;
    char msg[600], last[512] = "";
    int tries = 0, rc;

    pthread_mutex_lock(&c->lock);
    d->v.state = TS_RUNNING;
    d->v.started_at = sd_now_ms();
    pthread_mutex_unlock(&c->lock);
    traj_running(c->store, d->v.id, d->v.sandbox_id, d->v.started_at);
    push_state(c, d);

    for (;;) {
        struct pinst *pi;
        memset(&err, 0, sizeof err);
        memset(&ex, 0, sizeof ex);
        b = NULL;
        d->nresults = 0;
        d->errmsg[0] = d->last_stderr[0] = '\0';
        if ((pi = pick(c, d, &err)) == NULL) {
            /* The breaker opened on our own failures: say what they were. */
            if (last[0]) {
                char why[200];
                snprintf(why, sizeof why, "%.190s", err.msg);
                snprintf(err.msg, sizeof err.msg, "%.300s; then %s", last, why);
            }
            rc = -1;
            break;
        }
        use_instance(c, d, pi);
        rc = attempt(c, d, pi, &ex, &b, &err);
        /* Provider errors feed the breaker; what the strategy did does not. */
        report(c, pi, rc == 0 ? 1 : err.code == SD_EENV && !atomic_load(&d->cancel) ? -1 : 0);
        snprintf(last, sizeof last, "%s", rc != 0 ? err.msg : "");
        /* Output already streamed (and stored) must not be streamed twice. */
        if (rc == 0 || err.code != SD_EENV || tries >= c->o.retries || atomic_load(&d->cancel) ||
            d->out_bytes > 0)
            break;
        tries++;
        if (backoff_wait(c, d, c->o.backoff_ms << (tries - 1)))
            break;
    }
    if (rc != 0) {
        if (atomic_load(&d->cancel))
            finish(c, d, TS_CANCELLED, -1, "cancelled by the operator", NULL);
        else {
            snprintf(msg, sizeof msg, "%s%s", err.msg, tries > 0 ? " (gave up after retries)" : "");
            finish(c, d, TS_FAILED, -1, msg, NULL);
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
        teardown(c, d, b);
        finish(c, d, state, ex.signal || ex.code < 0 ? -1 : ex.code, msg,
               state == TS_SUCCEEDED ? d->pending_result : NULL);
    }
out:
    json_decref(d->pending_result);
    d->pending_result = NULL;
    free(d->line);
    d->line = NULL;
}

static void *worker(void *arg)
{
    struct coord *c = arg;

    for (;;) {
        struct dep *d;
        pthread_mutex_lock(&c->lock);
        while (c->qhead == NULL && !c->stopping)
            pthread_cond_wait(&c->cond, &c->lock);
        if (c->qhead == NULL) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        d = c->qhead;
        c->qhead = d->qnext;
        if (c->qhead == NULL)
            c->qtail = NULL;
        pthread_mutex_unlock(&c->lock);
        run_dep(c, d);
    }
}

/* --- public ---------------------------------------------------------------- */

struct coord *coord_new(struct store *s, const struct coord_opts *o, const char *runner_path,
                        const char *helper_path, struct sd_err *err)
{
    struct coord *c = xcalloc(1, sizeof *c);

    c->store = s;
    c->o = *o;
    if (c->o.max_agents < 1)
        c->o.max_agents = 1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (catalog_load(&c->cat, runner_path, s, err) != 0)
        goto fail;
    c->prov[0].p = provider_local_new(helper_path, sd_runtime_dir(), err);
    if (c->prov[0].p == NULL)
        goto fail;
    snprintf(c->prov[0].kind, sizeof c->prov[0].kind, "local");
    breaker_init(&c->prov[0].br, c->o.breaker_failures, c->o.breaker_cooldown_ms);
    restore_health(c, &c->prov[0]);
    c->nprov = 1;
    snprintf(c->want, sizeof c->want, "%s", c->o.provider ? c->o.provider : "local");
    snprintf(c->failover, sizeof c->failover, "%s", c->o.failover ? c->o.failover : "");
    c->o.provider = c->o.failover = NULL; /* the caller's strings need not outlive this call */
    if (c->o.learning || c->o.auto_optimize) {
        c->learn = learn_open(s, c->cat, err);
        if (c->learn == NULL)
            goto fail;
    }
    snprintf(c->tmpdir, sizeof c->tmpdir, "%s", sd_runtime_dir());
    c->evq = evq_new(4096);
    if (c->evq == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    c->workers = xcalloc((size_t)c->o.max_agents, sizeof *c->workers);
    for (int i = 0; i < c->o.max_agents; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 * 1024);
        if (pthread_create(&c->workers[i], &a, worker, c) != 0) {
            pthread_attr_destroy(&a);
            sd_err_set(err, SD_EENV, "cannot start worker threads: %s", strerror(errno));
            break;
        }
        pthread_attr_destroy(&a);
        c->nworkers++;
    }
    if (c->nworkers == 0)
        goto fail;
    return c;
fail:
    coord_free(c);
    return NULL;
}

void coord_free(struct coord *c)
{
    if (c == NULL)
        return;
    coord_cancel_all(c);
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < c->nworkers; i++)
        pthread_join(c->workers[i], NULL);
    free(c->workers);
    for (size_t i = 0; i < c->ndeps; i++) {
        struct dep *d = c->deps[i];
        json_decref(d->params);
        json_decref(d->result);
        json_decref(d->prediction);
        free(d->params_s);
        free(d->description);
        free(d->isolation);
        logring_free(d->log);
        free(d);
    }
    free(c->deps);
    /* The latest latencies and isolation level, for `status`; a coordinator
     * that ran nothing (bad input) leaves the store as it was. */
    if (c->nprov > 0 && c->ndeps > 0)
        persist_health(c);
    for (int i = 0; i < c->nprov; i++)
        c->prov[i].p->ops->free(c->prov[i].p);
    learn_free(c->learn);
    catalog_free(c->cat);
    evq_free(c->evq);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int coord_add_provider(struct coord *c, struct provider *p, const char *kind, const char *detail,
                       struct sd_err *err)
{
    if (p == NULL)
        return sd_err_set(err, SD_EUSAGE, "no provider");
    for (int i = 0; i < c->nprov; i++)
        if (strcmp(c->prov[i].p->name, p->name) == 0) {
            sd_err_set(err, SD_EUSAGE, "two providers are named \"%s\"", p->name);
            p->ops->free(p);
            return -1;
        }
    if (c->nprov == MAX_PROVIDERS) {
        sd_err_set(err, SD_EUSAGE, "at most %d providers", MAX_PROVIDERS);
        p->ops->free(p);
        return -1;
    }
    pthread_mutex_lock(&c->lock);
    memset(&c->prov[c->nprov], 0, sizeof c->prov[c->nprov]);
    c->prov[c->nprov].p = p;
    snprintf(c->prov[c->nprov].kind, sizeof c->prov[c->nprov].kind, "%s", kind);
    snprintf(c->prov[c->nprov].detail, sizeof c->prov[c->nprov].detail, "%s", detail ? detail : "");
    breaker_init(&c->prov[c->nprov].br, c->o.breaker_failures, c->o.breaker_cooldown_ms);
    restore_health(c, &c->prov[c->nprov]);
    c->nprov++;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

struct learn *coord_learn(struct coord *c)
{
    return c->learn;
}

/* When every instance of the requested provider has an open breaker, the
 * suggestion says so and recommends the healthy alternative (the failover,
 * else any healthy instance): {op:"avoid_provider", provider, prefer, why}. */
static void advise_breakers(struct coord *c, const struct deploy_req *r, json_t *sug)
{
    const char *want = r->provider && r->provider[0] ? r->provider : c->want;
    const struct pinst *open = NULL, *alt = NULL;
    int64_t now = mono_ms();
    char why[256];

    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->nprov; i++) {
        const struct pinst *pi = &c->prov[i];
        int st = breaker_state(&pi->br, now);
        if (matches(pi, want)) {
            if (st != BREAKER_OPEN) {
                open = NULL;
                alt = NULL;
                break;
            }
            open = open ? open : pi;
        } else if (st != BREAKER_OPEN &&
                   (alt == NULL || (c->failover[0] && matches(pi, c->failover)))) {
            alt = pi;
        }
    }
    if (open != NULL) {
        int64_t left = breaker_open_until(&open->br) - now;
        snprintf(why, sizeof why,
                 "provider %s's circuit breaker is open after %d consecutive failures (half-open "
                 "in %lld s)",
                 open->p->name, open->br.failures, (long long)(left > 0 ? (left + 999) / 1000 : 0));
        json_array_append_new(json_object_get(sug, "reasoning"), json_string(why));
        json_array_append_new(json_object_get(sug, "recommendedOperations"),
                              json_pack("{s:s, s:s, s:s?, s:s}", "op", "avoid_provider", "provider",
                                        open->p->name, "prefer", alt ? alt->p->name : NULL, "why",
                                        why));
    }
    pthread_mutex_unlock(&c->lock);
}

json_t *coord_suggest(struct coord *c, const struct deploy_req *r, struct sd_err *err)
{
    const struct strategy_def *def;
    json_t *params, *pred;

    if (c->learn == NULL) {
        sd_err_set(err, SD_EUSAGE, "learning is off");
        return NULL;
    }
    if (validate(c, r, &def, &params, NULL, err) != 0)
        return NULL;
    pred = learn_suggest(c->learn, def, params, r->symbol ? r->symbol : "SPY", err);
    json_decref(params);
    if (pred != NULL)
        advise_breakers(c, r, pred);
    return pred;
}

json_t *coord_prediction(struct coord *c, int64_t id)
{
    json_t *p = NULL;
    struct dep *d;
    pthread_mutex_lock(&c->lock);
    d = find(c, id);
    if (d && d->prediction)
        p = json_incref(d->prediction);
    pthread_mutex_unlock(&c->lock);
    return p;
}

struct catalog *coord_catalog(struct coord *c)
{
    return c->cat;
}

struct store *coord_store(struct coord *c)
{
    return c->store;
}

struct evq *coord_events(struct coord *c)
{
    return c->evq;
}

const struct coord_opts *coord_options(struct coord *c)
{
    return &c->o;
}

const char *coord_default_provider(struct coord *c)
{
    return c->want;
}

/* The first instance matching want (a name or a kind), or NULL. */
static struct pinst *planned(struct coord *c, const char *want)
{
    for (int i = 0; i < c->nprov; i++)
        if (matches(&c->prov[i], want))
            return &c->prov[i];
    return NULL;
}

/* Validate r; on success *def and *params (new reference) are set. */
static int validate(struct coord *c, const struct deploy_req *r, const struct strategy_def **def,
                    json_t **params, json_t **given, struct sd_err *err)
{
    const char *symbol = r->symbol ? r->symbol : "SPY";
    json_t *clean;

    if (planned(c, r->provider ? r->provider : c->want) == NULL) {
        char names[256] = "";
        for (int i = 0; i < c->nprov; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     c->prov[i].p->name);
        return sd_err_set(err, SD_EUSAGE,
                          "provider \"%s\" is not configured (configured: %s; docs/e2b.md says "
                          "how to add E2B)",
                          r->provider ? r->provider : c->want, names);
    }
    if (c->failover[0] && planned(c, c->failover) == NULL)
        return sd_err_set(err, SD_EUSAGE, "failover provider \"%s\" is not configured",
                          c->failover);
    if (!catalog_symbol_ok(symbol))
        return sd_err_set(err, SD_EUSAGE, "invalid symbol \"%s\"", symbol);
    if (r->timeout_ms < 0)
        return sd_err_set(err, SD_EUSAGE, "timeout must be positive");
    *def = catalog_find(c->cat, r->strategy, err);
    if (*def == NULL)
        return -1;
    if (r->params != NULL && !json_is_object(r->params))
        return sd_err_set(err, SD_EUSAGE, "parameters must be a JSON object");
    clean = r->params ? json_deep_copy(r->params) : json_object();
    json_object_del(clean, "symbol");
    json_object_del(clean, "symbols");
    *params = catalog_validate(*def, clean, err);
    if (given != NULL && *params != NULL)
        *given = clean;
    else
        json_decref(clean);
    return *params ? 0 : -1;
}

int coord_check(struct coord *c, const struct deploy_req *r, struct sd_err *err)
{
    const struct strategy_def *def;
    struct data_source ds;
    json_t *params;

    if (validate(c, r, &def, &params, NULL, err) != 0)
        return -1;
    json_decref(params);
    return catalog_data_resolve(c->store, r->symbol ? r->symbol : "SPY", NULL, &ds, err);
}

int coord_submit(struct coord *c, const struct deploy_req *r, int64_t *id, struct sd_err *err)
{
    const char *symbol = r->symbol ? r->symbol : "SPY";
    const struct strategy_def *def;
    json_t *params = NULL, *given = NULL, *pred = NULL, *why = NULL;
    int64_t sugg_wall = sd_now_ms();
    uint64_t sugg_t0 = sd_mono_ns();
    double sugg_ms = 0;
    struct traj_new t;
    char *pred_s = NULL;
    struct dep *d;

    if (validate(c, r, &def, &params, &given, err) != 0)
        return -1;
    if (c->learn != NULL && c->o.auto_optimize) {
        /* Parameters given by the operator are pinned; the learner picks the
         * rest inside the schema's bounds and says why. */
        uint64_t n = atomic_fetch_add(&c->submitted, 1);
        uint64_t seed = c->o.seed ? c->o.seed * 0x9e3779b97f4a7c15ull + n
                                  : sd_mono_ns() ^ ((uint64_t)getpid() << 32);
        json_t *chosen = learn_optimize(c->learn, def, given, seed, &why, err);
        if (chosen == NULL) {
            json_decref(params);
            json_decref(given);
            return -1;
        }
        json_decref(params);
        params = chosen;
    }
    json_decref(given);
    if (c->learn != NULL) {
        pred = learn_suggest(c->learn, def, params, symbol, err);
        if (pred == NULL) {
            json_decref(params);
            json_decref(why);
            return -1;
        }
        if (why != NULL)
            json_object_set_new(pred, "autoOptimize", why);
        sugg_ms = (double)(sd_mono_ns() - sugg_t0) / 1e6;
    }

    d = xcalloc(1, sizeof *d);
    d->c = c;
    d->def = def;
    d->params = params;
    d->prediction = pred;
    d->params_s = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    d->description = r->description ? xstrdup(r->description) : NULL;
    d->timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : c->o.timeout_ms;
    d->pace = r->pace;
    snprintf(d->pace_s, sizeof d->pace_s, "%d", r->pace);
    d->log = logring_new(5000, 4 << 20);
    if (catalog_data_resolve(c->store, symbol, c->tmpdir, &d->data, err) != 0)
        goto fail;
    traj_uuid(d->uuid);
    memset(&t, 0, sizeof t);
    t.uuid = d->uuid;
    t.run_id = r->run_id;
    t.strategy = def->name;
    t.symbol = symbol;
    t.params = d->params_s;
    snprintf(d->want, sizeof d->want, "%s", r->provider ? r->provider : c->want);
    d->run_id = r->run_id;
    t.provider = planned(c, d->want)->p->name;
    t.description = d->description;
    t.auto_optimized = why != NULL;
    if (pred != NULL)
        t.prediction = pred_s = json_dumps(pred, JSON_COMPACT | JSON_REAL_PRECISION(17));
    d->v.id = traj_insert(c->store, &t, err);
    free(pred_s);
    if (d->v.id < 0)
        goto fail;
    if (pred != NULL)
        op_record(d, "suggest", sugg_wall, sugg_ms, 1, NULL); /* timed before the row existed */
    d->v.state = TS_QUEUED;
    d->v.exit_code = -1;
    d->v.total_return = NAN;
    d->v.sharpe = NAN;
    d->v.created_at = sd_now_ms();
    d->v.synthetic = d->data.synthetic;
    snprintf(d->v.strategy, sizeof d->v.strategy, "%s", def->name);
    snprintf(d->v.symbol, sizeof d->v.symbol, "%s", symbol);
    snprintf(d->v.provider, sizeof d->v.provider, "%s", t.provider);
    snprintf(d->v.sandbox_id, sizeof d->v.sandbox_id, "sd%lld-%.8s", (long long)d->v.id, d->uuid);

    pthread_mutex_lock(&c->lock);
    if (c->ndeps == c->capdeps) {
        c->capdeps = c->capdeps ? c->capdeps * 2 : 64;
        c->deps = xrealloc(c->deps, c->capdeps * sizeof *c->deps);
    }
    c->deps[c->ndeps++] = d;
    if (c->qtail)
        c->qtail->qnext = d;
    else
        c->qhead = d;
    c->qtail = d;
    c->active++;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    push_state(c, d);
    if (id)
        *id = d->v.id;
    return 0;
fail:
    if (d->data.from_store && d->data.path[0])
        unlink(d->data.path);
    json_decref(d->params);
    json_decref(d->prediction);
    free(d->params_s);
    free(d->description);
    logring_free(d->log);
    free(d);
    return -1;
}

/* Caller holds c->lock. */
static struct dep *find(struct coord *c, int64_t id)
{
    for (size_t i = c->ndeps; i-- > 0;)
        if (c->deps[i]->v.id == id)
            return c->deps[i];
    return NULL;
}

int coord_view(struct coord *c, int64_t id, struct deploy_view *v)
{
    struct dep *d;
    pthread_mutex_lock(&c->lock);
    d = find(c, id);
    if (d)
        *v = d->v;
    pthread_mutex_unlock(&c->lock);
    return d ? 0 : -1;
}

size_t coord_list(struct coord *c, struct deploy_view *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->ndeps && n < max; i++)
        out[n++] = c->deps[i]->v;
    pthread_mutex_unlock(&c->lock);
    return n;
}

json_t *coord_result(struct coord *c, int64_t id)
{
    json_t *r = NULL;
    struct dep *d;
    pthread_mutex_lock(&c->lock);
    d = find(c, id);
    if (d && d->result)
        r = json_incref(d->result);
    pthread_mutex_unlock(&c->lock);
    return r;
}

struct logring *coord_log(struct coord *c, int64_t id)
{
    struct dep *d;
    pthread_mutex_lock(&c->lock);
    d = find(c, id);
    pthread_mutex_unlock(&c->lock);
    return d ? d->log : NULL;
}

int coord_wait(struct coord *c, int64_t id, struct deploy_view *v)
{
    struct dep *d;
    pthread_mutex_lock(&c->lock);
    d = find(c, id);
    while (d && !traj_state_terminal(d->v.state))
        pthread_cond_wait(&c->cond, &c->lock);
    if (d && v)
        *v = d->v;
    pthread_mutex_unlock(&c->lock);
    return d ? 0 : -1;
}

void coord_wait_idle(struct coord *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->active > 0)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

/* Caller holds c->lock. Returns 1 if d was queued and is now cancelled. */
static int unqueue(struct coord *c, struct dep *d)
{
    struct dep **pp = &c->qhead, *prev = NULL;
    while (*pp && *pp != d) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp == NULL)
        return 0;
    *pp = d->qnext;
    if (c->qtail == d)
        c->qtail = prev;
    d->qnext = NULL;
    return 1;
}

int coord_cancel(struct coord *c, int64_t id)
{
    struct dep *d;
    int was_queued = 0;

    pthread_mutex_lock(&c->lock);
    d = find(c, id);
    if (d == NULL || traj_state_terminal(d->v.state)) {
        pthread_mutex_unlock(&c->lock);
        return -1;
    }
    atomic_store(&d->cancel, 1);
    if (d->v.state == TS_QUEUED)
        was_queued = unqueue(c, d);
    if (d->sbx != NULL)
        d->pi->p->ops->signal(d->sbx, SIGTERM);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (was_queued)
        finish(c, d, TS_CANCELLED, -1, "cancelled by the operator before it started", NULL);
    return 0;
}

void coord_cancel_all(struct coord *c)
{
    int64_t *ids;
    size_t n = 0;

    pthread_mutex_lock(&c->lock);
    ids = xcalloc(c->ndeps + 1, sizeof *ids);
    for (size_t i = 0; i < c->ndeps; i++)
        if (!traj_state_terminal(c->deps[i]->v.state))
            ids[n++] = c->deps[i]->v.id;
    pthread_mutex_unlock(&c->lock);
    /* Queued ones first so no worker picks them up meanwhile. */
    for (size_t i = n; i-- > 0;)
        coord_cancel(c, ids[i]);
    free(ids);
}

void coord_counts(struct coord *c, int counts[TS_COUNT])
{
    memset(counts, 0, sizeof(int) * TS_COUNT);
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->ndeps; i++)
        counts[c->deps[i]->v.state]++;
    pthread_mutex_unlock(&c->lock);
}

size_t coord_providers(struct coord *c, struct provider_health *out, size_t max)
{
    int64_t now = mono_ms(), wall = sd_now_ms();
    size_t n = 0;

    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->nprov && n < max; i++, n++) {
        struct pinst *pi = &c->prov[i];
        struct provider_health *h = &out[n];
        int st = breaker_state(&pi->br, now);
        memset(h, 0, sizeof *h);
        snprintf(h->name, sizeof h->name, "%s", pi->p->name);
        snprintf(h->kind, sizeof h->kind, "%s", pi->kind);
        snprintf(h->breaker, sizeof h->breaker, "%s", breaker_state_name(st));
        snprintf(h->detail, sizeof h->detail, "%s", pi->detail);
        h->failures = pi->br.failures;
        h->create_ms = pi->create_ms;
        if (st == BREAKER_OPEN)
            h->open_until_ms = wall + (breaker_open_until(&pi->br) - now);
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}
