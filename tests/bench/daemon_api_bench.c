/*
 * daemon_api_bench.c: what the daemon's API adds to one deployment, without
 * process start: the same coordinator, in one process, driven directly
 * (coord_submit + coord_wait) and through its HTTP API on the Unix socket
 * (POST /v1/deployments, then the deployment's terminal state from a
 * persistent /v1/events stream, as an attached console or `deploy` sees
 * it), alternating the two so drifts in load hit both.
 *
 * The strategy is the no-op (engine_noop.c), so the engine's own work is
 * the same on both paths and the difference is the API: the request, its
 * validation and run record, and the event's way out.
 *
 * A third path is what `swarmdeck deploy --no-daemon` does in process
 * (cli_run_deployments): the launch is a run there too, so it writes the
 * run's row first and its end (made durable) last. Every launch through
 * the API is a run, so this is the in-process path to compare it with;
 * the bare coordinator shows what the run record itself costs.
 *
 * Two ends are timed on the run paths: the deployment's terminal state,
 * and its run's end committed (in process: run_end + store_flush; through
 * the API: the run's "run" event, which `swarmdeck deploy` waits for).
 * Besides the medians of each path, each triple's difference (API minus
 * in process, measured back to back) and the process's CPU per deployment.
 *
 * Built with -DSD_SPANS (span.h: cmake -S . -B build-spans
 * -DCMAKE_C_FLAGS=-DSD_SPANS), it also prints the p50 of every step of a
 * deployment's way (request thread, validation, run row, worker, flush,
 * pump, event log, stream thread, watcher), docs/benchmarks/daemon.md.
 *
 * usage: daemon_api_bench RUNNER HELPER NOOP [N]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "coord.h"
#include "noop.h"
#include "server.h"
#include "span.h"
#include "traj.h"

/* CPU time of this process (every thread: the engine's, the daemon's, the
 * client's; not the sandboxes'), in ms. */
static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    printf("%-44s n=%-4d p50 %7.3f ms  p90 %7.3f ms  p99 %7.3f ms\n", what, n, v[n / 2],
           v[(int)(n * 0.9)], v[(int)(n * 0.99)]);
}

/* The watcher: the newest terminal deployment id seen on the stream. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int64_t ended_hi, run_hi;
static uint64_t run_seen_ns[SPAN_KEYS]; /* when the watcher got run's "run" event */
static int stop;
static uint64_t seen_ns[SPAN_KEYS]; /* when the watcher got id's terminal event */

/* The breakdown (a build with SD_SPANS, span.h): for each path, the time
 * between consecutive points of one deployment, p50 over the run. The
 * client's own points: t0 (start), posted (the POST answered), seen (the
 * watcher parsed the terminal event), woke (the measuring thread woke). */
enum { X_T0 = SPAN_COUNT, X_POSTED, X_SEEN, X_WOKE, X_RUN_SEEN, X_COUNT };
static const char *const xname[X_COUNT] = {
    "request thread entered the route",
    "who asked is known",
    "validated (coord_check)",
    "run id known",
    "coord_submit returned",
    "201 answer queued",
    "worker took it",
    "worker classified the exit",
    "records committed (flush)",
    "terminal event pushed",
    "pump took it",
    "pump logged it",
    "stream thread sent it",
    "run: its last end counted",
    "run: its end committed",
    "run: its event logged",
    "start",
    "POST answered (client)",
    "watcher parsed the event",
    "measuring thread woke",
    "the run's end seen (committed)",
};
static const int path_api[] = {X_T0,
                               SPAN_REQUEST,
                               SPAN_LAUNCH_IN,
                               SPAN_CHECKED,
                               SPAN_RUN_ROW,
                               SPAN_SUBMITTED,
                               SPAN_ANSWERED,
                               X_POSTED,
                               -1,
                               SPAN_SUBMITTED,
                               SPAN_TAKEN,
                               SPAN_FINISH,
                               SPAN_RECORDED,
                               SPAN_PUSHED,
                               SPAN_PUMPED,
                               SPAN_LOGGED,
                               SPAN_STREAMED,
                               X_SEEN,
                               X_WOKE,
                               -1,
                               SPAN_LOGGED,
                               SPAN_RUN_LAST,
                               SPAN_RUN_COMMITTED,
                               SPAN_RUN_LOGGED,
                               X_RUN_SEEN,
                               -2};
static const int path_direct[] = {X_T0,        SPAN_TAKEN, SPAN_FINISH, SPAN_RECORDED,
                                  SPAN_PUSHED, X_WOKE,     -2};
static const int path_cli[] = {X_T0,        SPAN_TAKEN, SPAN_FINISH, SPAN_RECORDED,
                               SPAN_PUSHED, X_WOKE,     X_RUN_SEEN,  -2};
static const int *const paths[3] = {path_direct, path_cli, path_api};
#define NSEG 32
static double seg[3][NSEG][2000];

/* Record the segments of deployment id measured on path (0 direct, 1 cli, 2 api) as sample i. */
static void spans_note(int path, int i, int64_t id, int64_t run, uint64_t t0, uint64_t posted,
                       uint64_t woke, uint64_t end)
{
    const int *pts = paths[path];
    uint64_t at[X_COUNT];
    int k = 0;

    if (i >= 2000)
        return;
    for (int p = 0; p < SPAN_COUNT; p++)
        at[p] = sd_span_get(p, p >= SPAN_RUN_LAST ? run : id);
    at[X_T0] = t0;
    at[X_POSTED] = posted;
    pthread_mutex_lock(&lock);
    at[X_SEEN] = seen_ns[id % SPAN_KEYS];
    at[X_RUN_SEEN] = run > 0 ? run_seen_ns[run % SPAN_KEYS] : end;
    pthread_mutex_unlock(&lock);
    at[X_WOKE] = woke;
    for (int j = 1; pts[j] != -2; j++, k++) {
        if (pts[j] == -1 || pts[j - 1] == -1) {
            seg[path][k][i] = -1;
            continue;
        }
        seg[path][k][i] =
            at[pts[j]] && at[pts[j - 1]] ? ((double)at[pts[j]] - (double)at[pts[j - 1]]) / 1e3 : -1;
    }
}

static void spans_report(int path, const char *what, int n)
{
    const int *pts = paths[path];
    int k = 0;

    if (sd_span_get(SPAN_TAKEN, 1) == 0)
        return; /* a build without SD_SPANS */
    printf("%s: p50 of each step, us\n", what);
    for (int j = 1; pts[j] != -2; j++, k++) {
        if (pts[j] == -1 || pts[j - 1] == -1)
            continue;
        qsort(seg[path][k], (size_t)(n < 2000 ? n : 2000), sizeof(double), cmp_d);
        printf("  %-34s -> %-34s %9.1f\n", xname[pts[j - 1]], xname[pts[j]],
               seg[path][k][(n < 2000 ? n : 2000) / 2]);
    }
}

static int on_event(json_t *ev, void *arg)
{
    const char *type, *state;
    (void)arg;
    if (ev == NULL) {
        int s;
        pthread_mutex_lock(&lock);
        s = stop;
        pthread_mutex_unlock(&lock);
        return s;
    }
    type = json_string_value(json_object_get(ev, "type"));
    state = json_string_value(json_object_get(ev, "state"));
    if (type && strcmp(type, "state") == 0 && state &&
        traj_state_terminal(traj_state_from_name(state))) {
        pthread_mutex_lock(&lock);
        seen_ns[json_integer_value(json_object_get(ev, "id")) % SPAN_KEYS] = sd_mono_ns();
        if (json_integer_value(json_object_get(ev, "id")) > ended_hi)
            ended_hi = json_integer_value(json_object_get(ev, "id"));
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    } else if (type && strcmp(type, "run") == 0) {
        int64_t run = json_integer_value(json_object_get(ev, "run"));
        pthread_mutex_lock(&lock);
        run_seen_ns[run % SPAN_KEYS] = sd_mono_ns();
        if (run > run_hi)
            run_hi = run;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    return 0;
}

static void *watch(void *arg)
{
    struct client *cl = arg;
    struct sd_err err = {0};
    json_t *st = NULL;
    uint64_t since = 0;

    if (client_do(cl, "GET", "/status", NULL, &st, &err) == 0)
        since = (uint64_t)json_integer_value(json_object_get(st, "seq"));
    json_decref(st);
    client_events(cl, since, on_event, NULL, &err);
    return NULL;
}

static double direct(struct coord *c, int sample)
{
    struct deploy_req r = {.strategy = "noop", .symbol = "SPY"};
    struct deploy_view v;
    struct sd_err err = {0};
    uint64_t t0 = sd_mono_ns();
    int64_t id;

    if (coord_submit(c, &r, &id, &err) != 0) {
        fprintf(stderr, "submit: %s\n", err.msg);
        exit(1);
    }
    coord_wait(c, id, &v);
    if (v.state != TS_SUCCEEDED) {
        fprintf(stderr, "deployment %lld: %s\n", (long long)id, v.error);
        exit(1);
    }
    if (sample >= 0)
        spans_note(0, sample, id, 0, t0, 0, sd_mono_ns(), 0);
    return (double)(sd_mono_ns() - t0) / 1e6;
}

/* As deploy --no-daemon: returns the time to the run's end committed, and
 * *to_state the time to the deployment's terminal state. */
static double cli_like(struct coord *c, struct store *s, int sample, double *to_state)
{
    struct sd_err err = {0};
    uint64_t t0 = sd_mono_ns();
    int64_t run = run_begin(s, "deploy", "{\"strategy\":\"noop\"}", &err);
    struct deploy_req r = {.strategy = "noop", .symbol = "SPY", .run_id = run};
    struct deploy_view v;
    int64_t id;
    uint64_t t_state;

    if (run <= 0 || coord_submit(c, &r, &id, &err) != 0) {
        fprintf(stderr, "run: %s\n", err.msg);
        exit(1);
    }
    coord_wait(c, id, &v);
    t_state = sd_mono_ns();
    run_end(s, run, v.state == TS_SUCCEEDED ? "succeeded" : "failed", NULL);
    if (v.state != TS_SUCCEEDED || store_flush(s, &err) != 0) {
        fprintf(stderr, "deployment %lld: %s\n", (long long)id, v.error);
        exit(1);
    }
    if (sample >= 0)
        spans_note(1, sample, id, 0, t0, 0, t_state, sd_mono_ns());
    *to_state = (double)(t_state - t0) / 1e6;
    return (double)(sd_mono_ns() - t0) / 1e6;
}

/* One deployment through the API; *to_run gets the time to its run's "run"
 * event (what `swarmdeck deploy` waits for: the run's end committed). */
static double api(struct client *cl, json_t *body, int sample, double *to_run)
{
    struct sd_err err = {0};
    uint64_t t0 = sd_mono_ns();
    json_t *out = NULL;
    int64_t id, run;
    uint64_t posted, t_state;

    if (client_do(cl, "POST", "/deployments", body, &out, &err) != 0) {
        fprintf(stderr, "POST: %s\n", err.msg);
        exit(1);
    }
    posted = sd_mono_ns();
    id = json_integer_value(json_array_get(json_object_get(out, "ids"), 0));
    run = json_integer_value(json_object_get(out, "run"));
    json_decref(out);
    pthread_mutex_lock(&lock);
    while (ended_hi < id)
        pthread_cond_wait(&cond, &lock);
    t_state = sd_mono_ns();
    while (run_hi < run)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    *to_run = (double)(sd_mono_ns() - t0) / 1e6;
    if (sample >= 0)
        spans_note(2, sample, id, run, t0, posted, t_state, 0);
    return (double)(t_state - t0) / 1e6;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/daemon-api-bench-XXXXXX", db[256], manifest[256], run[300];
    int n = argc > 4 ? atoi(argv[4]) : 200;
    struct server_opts so = {0};
    struct coord_opts o;
    struct store *s = NULL;
    struct server *srv = NULL;
    struct client *cl = NULL, *ev = NULL;
    struct coord *c;
    struct sd_err err = {0};
    double *vd, *va, *vc, *vcs, *var, *pd, *pr, sd = 0, sa = 0, sc = 0, cpu[3] = {0, 0, 0}, t;
    json_t *body = json_pack("{s:s, s:s}", "strategy", "noop", "symbol", "SPY");
    pthread_t w;

    if (argc < 4) {
        fprintf(stderr, "usage: daemon_api_bench RUNNER HELPER NOOP [N]\n");
        return 2;
    }
    vd = calloc((size_t)n, sizeof *vd);
    va = calloc((size_t)n, sizeof *va);
    vc = calloc((size_t)n, sizeof *vc);
    pd = calloc((size_t)n, sizeof *pd);
    pr = calloc((size_t)n, sizeof *pr);
    vcs = calloc((size_t)n, sizeof *vcs);
    var = calloc((size_t)n, sizeof *var);
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(db, sizeof db, "%s/bench.db", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    mkdir(run, 0700);
    setenv("XDG_RUNTIME_DIR", run, 1); /* the sockets: private to this run */
    if (noop_manifest(dir, argv[3], manifest, sizeof manifest) != 0)
        return 1;
    if (store_open(db, STORE_CREATE, &s, &err) != 0) {
        fprintf(stderr, "store: %s\n", err.msg);
        return 1;
    }
    coord_opts_default(&o);
    o.max_agents = 1;
    o.learning = 0;
    c = coord_new(s, &o, argv[1], argv[2], &err);
    if (c == NULL || catalog_add_manifest_flags(coord_catalog(c), s, manifest,
                                                CATALOG_ALLOW_OUTSIDE, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    so.store_path = db;
    if (server_start(c, &so, &srv, &err) != 0 ||
        client_open(server_socket(srv, 0), &cl, &err) != 0 || client_clone(cl, &ev, &err) != 0) {
        fprintf(stderr, "server: %s\n", err.msg);
        return 1;
    }
    pthread_create(&w, NULL, watch, ev);
    for (int i = 0; i < 20; i++) /* warm up both paths */
        direct(c, -1), cli_like(c, s, -1, &t), api(cl, body, -1, &t);
    for (int i = 0; i < n; i++) {
        t = cpu_ms();
        vd[i] = direct(c, i);
        cpu[0] += cpu_ms() - t;
        t = cpu_ms();
        vc[i] = cli_like(c, s, i, &vcs[i]);
        cpu[1] += cpu_ms() - t;
        t = cpu_ms();
        va[i] = api(cl, body, i, &var[i]);
        cpu[2] += cpu_ms() - t;
        pd[i] = va[i] - vcs[i];
        pr[i] = var[i] - vc[i];
        sd += vd[i];
        sc += vc[i];
        sa += var[i];
    }
    printf("daemon API benchmark: %d no-op deployments each way, alternating\n", n);
    printf("to the deployment's terminal state:\n");
    report("  in process (coord_submit + coord_wait)", vd, n);
    report("  in process as deploy --no-daemon", vcs, n);
    report("  through the API (POST + event stream)", va, n);
    printf("to the run's end committed (what deploy waits for):\n");
    report("  in process as deploy --no-daemon", vc, n);
    report("  through the API (its \"run\" event)", var, n);
    printf("API - coordinator, to the state: medians %+.3f ms (means %+.3f ms)\n",
           va[n / 2] - vd[n / 2], (sa - sd) / n);
    printf("API - deploy in process, to the state: medians %+.3f ms\n", va[n / 2] - vcs[n / 2]);
    printf("API - deploy in process, to the run's end: medians %+.3f ms (means %+.3f ms)\n",
           var[n / 2] - vc[n / 2], (sa - sc) / n);
    printf("  (earlier rounds compared the API to the state with deploy to the run's end: %+.3f "
           "ms)\n",
           va[n / 2] - vc[n / 2]);
    qsort(pd, (size_t)n, sizeof *pd, cmp_d);
    qsort(pr, (size_t)n, sizeof *pr, cmp_d);
    printf("each pair's difference, API - deploy in process: to the state p50 %+.3f ms (p25 "
           "%+.3f, p75 %+.3f); to the run's end p50 %+.3f ms (p25 %+.3f, p75 %+.3f)\n",
           pd[n / 2], pd[n / 4], pd[3 * n / 4], pr[n / 2], pr[n / 4], pr[3 * n / 4]);
    printf("CPU of this process per deployment (ms): in process %.3f, as deploy %.3f, API %.3f\n",
           cpu[0] / n, cpu[1] / n, cpu[2] / n);
    spans_report(0, "in process (coord_submit + coord_wait)", n);
    spans_report(1, "in process as deploy --no-daemon", n);
    spans_report(2, "through the API", n);
    pthread_mutex_lock(&lock);
    stop = 1;
    pthread_mutex_unlock(&lock);
    pthread_join(w, NULL);
    client_close(ev);
    client_close(cl);
    server_stop(srv);
    coord_free(c);
    store_close(s);
    sd_rm_rf(dir);
    json_decref(body);
    free(vd);
    free(va);
    free(vc);
    free(pd);
    free(pr);
    free(vcs);
    free(var);
    return 0;
}
