/*
 * metrics.c: /metrics in Prometheus' text format (metrics.h has the
 * contract). One MHD daemon with its own polling thread; each scrape reads
 * the coordinator's views under its lock (coord_list copies them) and
 * formats them, so a scrape costs the engine one copy of the table.
 */
#define _GNU_SOURCE
#include "metrics.h"

#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "learn.h"

struct metrics {
    struct coord *c;
    struct MHD_Daemon *d;
};

struct out {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->oom = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        {
            size_t cap = o->cap * 2 + (size_t)n + 64;
            char *g = realloc(o->p, cap);
            if (g == NULL) {
                o->oom = 1;
                return;
            }
            o->p = g;
            o->cap = cap;
        }
    }
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Upper bounds (seconds) of the latency and duration histograms. */
static const double start_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                  0.25,  0.5,    1,     2.5,  5,     10};
static const double dur_le[] = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};
#define NLE(a) (sizeof(a) / sizeof((a)[0]))

struct hist {
    const double *le;
    size_t n;
    uint64_t bucket[16], count;
    double sum;
};

static void hist_add(struct hist *h, double v)
{
    for (size_t i = 0; i < h->n; i++)
        if (v <= h->le[i])
            h->bucket[i]++;
    h->count++;
    h->sum += v;
}

static void hist_put(struct out *o, const char *name, const struct hist *h)
{
    for (size_t i = 0; i < h->n; i++)
        put(o, "%s_bucket{le=\"%g\"} %llu\n", name, h->le[i], (unsigned long long)h->bucket[i]);
    put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    put(o, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
}

char *metrics_text(struct coord *c)
{
    struct out o = {.cap = 8192};
    struct deploy_view *v;
    size_t n;
    int counts[TS_COUNT];
    struct provider_health ph[16];
    size_t np = coord_providers(c, ph, 16);
    struct store_stats ss;
    struct hist start = {start_le, NLE(start_le), {0}, 0, 0};
    struct hist dur = {dur_le, NLE(dur_le), {0}, 0, 0};
    uint64_t out_bytes = 0;

    if ((o.p = malloc(o.cap)) == NULL)
        return NULL;
    v = coord_list_all(c, &n);
    coord_counts(c, counts);
    for (size_t i = 0; i < n; i++) {
        out_bytes += v[i].output_bytes;
        if (v[i].started_at > 0 && v[i].created_at > 0)
            hist_add(&start, (double)(v[i].started_at - v[i].created_at) / 1000.0);
        if (traj_state_terminal(v[i].state) && v[i].started_at > 0 && v[i].ended_at > 0)
            hist_add(&dur, (double)(v[i].ended_at - v[i].started_at) / 1000.0);
    }
    free(v);

    head(&o, "swarmdeck_deployments_total", "counter",
         "Deployments this daemon ran to a final state, by state.");
    for (int s = 0; s < TS_COUNT; s++)
        if (traj_state_terminal(s))
            put(&o, "swarmdeck_deployments_total{state=\"%s\"} %d\n", traj_state_name(s),
                counts[s]);
    head(&o, "swarmdeck_deployments_running", "gauge", "Deployments running now.");
    put(&o, "swarmdeck_deployments_running %d\n", counts[TS_RUNNING]);
    head(&o, "swarmdeck_deployments_queued", "gauge", "Deployments waiting for a worker.");
    put(&o, "swarmdeck_deployments_queued %d\n", counts[TS_QUEUED]);
    head(&o, "swarmdeck_deployment_start_seconds", "histogram",
         "Time from submission to a running sandbox (queue wait, create and start).");
    hist_put(&o, "swarmdeck_deployment_start_seconds", &start);
    head(&o, "swarmdeck_deployment_duration_seconds", "histogram",
         "Time from a running sandbox to the deployment's final state.");
    hist_put(&o, "swarmdeck_deployment_duration_seconds", &dur);
    head(&o, "swarmdeck_output_bytes_total", "counter",
         "Output bytes the deployments of this daemon wrote.");
    put(&o, "swarmdeck_output_bytes_total %llu\n", (unsigned long long)out_bytes);

    store_get_stats(coord_store(c), &ss);
    head(&o, "swarmdeck_store_commit_seconds", "histogram",
         "Time the store writer takes to commit a batch (sealing, counters, COMMIT and its sync).");
    for (int i = 0; i < STORE_COMMIT_BUCKETS; i++)
        put(&o, "swarmdeck_store_commit_seconds_bucket{le=\"%g\"} %llu\n", store_commit_le[i],
            (unsigned long long)ss.commit_le[i]);
    put(&o, "swarmdeck_store_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
        (unsigned long long)ss.commits);
    put(&o, "swarmdeck_store_commit_seconds_sum %.9g\nswarmdeck_store_commit_seconds_count %llu\n",
        ss.commit_seconds, (unsigned long long)ss.commits);
    head(&o, "swarmdeck_store_commits_total", "counter", "Store writer transactions committed.");
    put(&o, "swarmdeck_store_commits_total %llu\n", (unsigned long long)ss.commits);
    head(&o, "swarmdeck_store_jobs_total", "counter", "Store writer jobs run.");
    put(&o, "swarmdeck_store_jobs_total %llu\n", (unsigned long long)ss.jobs);
    head(&o, "swarmdeck_store_errors_total", "counter",
         "Store writer jobs or commits that failed.");
    put(&o, "swarmdeck_store_errors_total %llu\n",
        (unsigned long long)(ss.job_errors + ss.commit_errors));

    head(&o, "swarmdeck_breaker_state", "gauge",
         "Circuit breaker of each provider instance: 0 closed, 1 half-open, 2 open.");
    for (size_t i = 0; i < np; i++)
        put(&o, "swarmdeck_breaker_state{provider=\"%s\",kind=\"%s\"} %d\n", ph[i].name, ph[i].kind,
            strcmp(ph[i].breaker, "open") == 0        ? 2
            : strcmp(ph[i].breaker, "half-open") == 0 ? 1
                                                      : 0);
    head(&o, "swarmdeck_provider_create_seconds", "histogram",
         "Sandbox create latency of each provider instance, every create since start.");
    for (size_t i = 0; i < np; i++) {
        for (int k = 0; k < COORD_CREATE_BUCKETS; k++)
            put(&o,
                "swarmdeck_provider_create_seconds_bucket{provider=\"%s\",kind=\"%s\",le=\"%g\"} "
                "%llu\n",
                ph[i].name, ph[i].kind, coord_create_le[k], (unsigned long long)ph[i].create_le[k]);
        put(&o,
            "swarmdeck_provider_create_seconds_bucket{provider=\"%s\",kind=\"%s\",le=\"+Inf\"} "
            "%llu\n",
            ph[i].name, ph[i].kind, (unsigned long long)ph[i].creates);
        put(&o, "swarmdeck_provider_create_seconds_sum{provider=\"%s\",kind=\"%s\"} %.9g\n",
            ph[i].name, ph[i].kind, ph[i].create_seconds);
        put(&o, "swarmdeck_provider_create_seconds_count{provider=\"%s\",kind=\"%s\"} %llu\n",
            ph[i].name, ph[i].kind, (unsigned long long)ph[i].creates);
    }
    head(&o, "swarmdeck_provider_create_recent_seconds", "gauge",
         "Recent sandbox create latency of each provider instance (moving average).");
    for (size_t i = 0; i < np; i++)
        put(&o, "swarmdeck_provider_create_recent_seconds{provider=\"%s\",kind=\"%s\"} %.6f\n",
            ph[i].name, ph[i].kind, ph[i].create_ms / 1000.0);

    if (coord_learn(c) != NULL) {
        struct sd_err err = {0};
        json_t *st = learn_stats(coord_learn(c), NULL, &err);
        json_t *sr = json_object_get(st, "avgSuccessRate"), *rw = json_object_get(st, "avgReward");
        head(&o, "swarmdeck_learning_success_ratio", "gauge",
             "Share of the store's trajectories that succeeded (the learner's index).");
        if (json_is_number(sr))
            put(&o, "swarmdeck_learning_success_ratio %.6f\n", json_number_value(sr));
        head(&o, "swarmdeck_learning_reward_mean", "gauge",
             "Mean reward of the store's trajectories (the learner's index).");
        if (json_is_number(rw))
            put(&o, "swarmdeck_learning_reward_mean %.6f\n", json_number_value(rw));
        json_decref(st);
    }
    {
        struct fleet_counters fc;
        fleet_counters(&fc);
        if (fc.running) {
            head(&o, "swarmdeck_fleet_connected", "gauge",
                 "1 while connected to NATS with the fleet's stream set up (serve --fleet).");
            put(&o, "swarmdeck_fleet_connected %d\n", fc.connected);
            head(&o, "swarmdeck_fleet_published_total", "counter",
                 "Finished trajectories published to the fleet and acknowledged by JetStream.");
            put(&o, "swarmdeck_fleet_published_total %llu\n", (unsigned long long)fc.published);
            head(&o, "swarmdeck_fleet_records_total", "counter",
                 "Trajectories received from the fleet, by what the merge did with them.");
            put(&o, "swarmdeck_fleet_records_total{result=\"added\"} %llu\n",
                (unsigned long long)fc.added);
            put(&o, "swarmdeck_fleet_records_total{result=\"skipped\"} %llu\n",
                (unsigned long long)fc.skipped);
            put(&o, "swarmdeck_fleet_records_total{result=\"refused\"} %llu\n",
                (unsigned long long)fc.refused);
        }
    }
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    return o.p;
}

static enum MHD_Result scrape(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct metrics *m = cls;
    struct MHD_Response *r;
    enum MHD_Result rc;
    unsigned status = MHD_HTTP_OK;
    char *body;

    (void)version, (void)upload, (void)upload_size, (void)con_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        body = strdup("only GET\n");
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") != 0) {
        body = strdup("swarmdeck: see /metrics\n");
        status = MHD_HTTP_NOT_FOUND;
    } else if ((body = metrics_text(m->c)) == NULL) {
        return MHD_NO;
    }
    if (body == NULL)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

int metrics_parse(const char *addr, struct sockaddr_in *sa, struct sd_err *err)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    char *end;
    long port;

    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
        return sd_err_set(err, SD_EUSAGE, "--metrics %s: expected HOST:PORT, e.g. 127.0.0.1:9464",
                          addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return sd_err_set(err, SD_EUSAGE,
                          "--metrics %s: expected an IPv4 HOST:PORT, e.g. 127.0.0.1:9464", addr);
    sa->sin_port = htons((uint16_t)port);
    return 0;
}

struct metrics *metrics_start(struct coord *c, const char *addr, struct sd_err *err)
{
    struct metrics *m;
    struct sockaddr_in sa;

    if (metrics_parse(addr, &sa, err) != 0)
        return NULL;
    if ((m = calloc(1, sizeof *m)) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    m->c = c;
    m->d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, ntohs(sa.sin_port), NULL, NULL, scrape, m,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
                         32u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (m->d == NULL) {
        sd_err_set(err, SD_EENV, "--metrics: cannot listen on %s (in use?)", addr);
        free(m);
        return NULL;
    }
    return m;
}

void metrics_stop(struct metrics *m)
{
    if (m == NULL)
        return;
    MHD_stop_daemon(m->d);
    free(m);
}
