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
 * usage: daemon_api_bench RUNNER HELPER NOOP [N]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "coord.h"
#include "noop.h"
#include "server.h"
#include "traj.h"

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
static int64_t ended_hi;
static int stop;

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
        if (json_integer_value(json_object_get(ev, "id")) > ended_hi)
            ended_hi = json_integer_value(json_object_get(ev, "id"));
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

static double direct(struct coord *c)
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
    return (double)(sd_mono_ns() - t0) / 1e6;
}

static double cli_like(struct coord *c, struct store *s)
{
    struct sd_err err = {0};
    uint64_t t0 = sd_mono_ns();
    int64_t run = run_begin(s, "deploy", "{\"strategy\":\"noop\"}", &err);
    struct deploy_req r = {.strategy = "noop", .symbol = "SPY", .run_id = run};
    struct deploy_view v;
    int64_t id;

    if (run <= 0 || coord_submit(c, &r, &id, &err) != 0) {
        fprintf(stderr, "run: %s\n", err.msg);
        exit(1);
    }
    coord_wait(c, id, &v);
    run_end(s, run, v.state == TS_SUCCEEDED ? "succeeded" : "failed", NULL);
    if (v.state != TS_SUCCEEDED || store_flush(s, &err) != 0) {
        fprintf(stderr, "deployment %lld: %s\n", (long long)id, v.error);
        exit(1);
    }
    return (double)(sd_mono_ns() - t0) / 1e6;
}

static double api(struct client *cl, json_t *body)
{
    struct sd_err err = {0};
    uint64_t t0 = sd_mono_ns();
    json_t *out = NULL;
    int64_t id;

    if (client_do(cl, "POST", "/deployments", body, &out, &err) != 0) {
        fprintf(stderr, "POST: %s\n", err.msg);
        exit(1);
    }
    id = json_integer_value(json_array_get(json_object_get(out, "ids"), 0));
    json_decref(out);
    pthread_mutex_lock(&lock);
    while (ended_hi < id)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return (double)(sd_mono_ns() - t0) / 1e6;
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
    double *vd, *va, *vc, sd = 0, sa = 0, sc = 0;
    json_t *body = json_pack("{s:s, s:s}", "strategy", "noop", "symbol", "SPY");
    pthread_t w;

    if (argc < 4) {
        fprintf(stderr, "usage: daemon_api_bench RUNNER HELPER NOOP [N]\n");
        return 2;
    }
    vd = calloc((size_t)n, sizeof *vd);
    va = calloc((size_t)n, sizeof *va);
    vc = calloc((size_t)n, sizeof *vc);
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
        direct(c), cli_like(c, s), api(cl, body);
    for (int i = 0; i < n; i++) {
        vd[i] = direct(c);
        vc[i] = cli_like(c, s);
        va[i] = api(cl, body);
        sd += vd[i];
        sc += vc[i];
        sa += va[i];
    }
    printf("daemon API benchmark: %d no-op deployments each way, alternating\n", n);
    report("in process (coord_submit + coord_wait)", vd, n);
    report("in process as deploy --no-daemon (run + submit + wait + run end)", vc, n);
    report("through the API (POST + event stream)", va, n);
    printf("API - coordinator: medians %+.3f ms (means %+.3f ms)\n", va[n / 2] - vd[n / 2],
           (sa - sd) / n);
    printf("API - deploy in process: medians %+.3f ms (means %+.3f ms)\n", va[n / 2] - vc[n / 2],
           (sa - sc) / n);
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
    return 0;
}
