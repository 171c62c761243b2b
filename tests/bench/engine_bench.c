/*
 * engine_bench.c: what the engine costs per deployment, and how many it
 * sustains.
 *
 * 1. floor: posix_spawn + wait of the no-op strategy binary, serially.
 * 2. overhead: one deployment at a time of the no-op strategy through the
 *    coordinator (create, upload, sandboxed start, stream, collect, destroy,
 *    store writes): request-to-result latency. The strategy computes nothing,
 *    so this is the engine's own cost; the floor above is the part any
 *    process launch pays.
 * 3. momentum: the same for the built-in momentum on SPX (5,105 bars), minus
 *    nothing: its compute is < 1 ms (docs/benchmarks/runner.md).
 * 4. sustained: N no-op deployments queued at once, max_agents workers;
 *    deployments per second over the wall time, once with learning on (the
 *    default: a suggestion at submit, an observation at the end) and once
 *    with it off, so the engine's own cost shows beside the learner's.
 *
 * usage: engine_bench [--no-learning] RUNNER HELPER NOOP [N_SERIAL] [N_SUSTAINED] [AGENTS]
 *   --no-learning  every phase with learning off (coord_opts.learning = 0),
 *                  for profiling the engine alone; the sustained phase then
 *                  runs once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coord.h"
#include "noop.h"

extern char **environ;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    printf("%-34s n=%-5d p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", what, n,
           v[n / 2], v[(int)(n * 0.9)], v[(int)(n * 0.99)], v[n - 1]);
}

static double floor_spawn(const char *noop)
{
    char *argv[] = {(char *)noop, NULL};
    posix_spawn_file_actions_t fa;
    uint64_t t0 = sd_mono_ns();
    pid_t pid;
    int st;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn(&pid, noop, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    waitpid(pid, &st, 0);
    return (double)(sd_mono_ns() - t0) / 1e6;
}

static double one(struct coord *c, const char *strategy, const char *symbol)
{
    struct deploy_req r = {.strategy = strategy, .symbol = symbol};
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
        fprintf(stderr, "deployment %lld: %s: %s\n", (long long)id, traj_state_name(v.state),
                v.error);
        exit(1);
    }
    return (double)(sd_mono_ns() - t0) / 1e6;
}

/* CPU seconds (user + system) of who: RUSAGE_SELF (the engine: every
 * thread of this process) or RUSAGE_CHILDREN (the helpers and what they
 * ran, once reaped). */
static double cpu_s(int who)
{
    struct rusage ru;

    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* N no-op deployments queued at once on a new coordinator with o (agents
 * workers), timed until the last ends; prints one line with the rate and
 * one with the CPU per deployment of the engine's process and of its
 * reaped children (the sandbox helpers: less load-dependent than the rate
 * on a shared machine); returns 0 or -1. */
static int sustained(struct store *s, struct coord_opts *o, char **argv, const char *manifest,
                     int nsust, const char *label)
{
    struct deploy_req r = {.strategy = "noop", .symbol = "SPY"};
    struct sd_err err = {0};
    struct coord *c = coord_new(s, o, argv[1], argv[2], &err);
    int counts[TS_COUNT];
    uint64_t t0;
    double secs;

    if (c == NULL || catalog_add_manifest_flags(coord_catalog(c), s, manifest,
                                                CATALOG_ALLOW_OUTSIDE, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    double self0 = cpu_s(RUSAGE_SELF), kids0 = cpu_s(RUSAGE_CHILDREN);
    t0 = sd_mono_ns();
    for (int i = 0; i < nsust; i++)
        if (coord_submit(c, &r, NULL, &err) != 0) {
            fprintf(stderr, "submit: %s\n", err.msg);
            return -1;
        }
    coord_wait_idle(c);
    secs = (double)(sd_mono_ns() - t0) / 1e9;
    coord_counts(c, counts);
    printf("sustained%s: %d no-op deployments in %.2f s = %.0f deployments/s (%d succeeded)\n",
           label, nsust, secs, nsust / secs, counts[TS_SUCCEEDED]);
    printf("  CPU per deployment%s: engine process %.2f ms, sandbox helpers %.2f ms\n", label,
           (cpu_s(RUSAGE_SELF) - self0) * 1e3 / nsust,
           (cpu_s(RUSAGE_CHILDREN) - kids0) * 1e3 / nsust);
    coord_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/engine-bench-XXXXXX", db[256], manifest[256];
    int no_learning = argc > 1 && strcmp(argv[1], "--no-learning") == 0;
    int nserial, nsust, agents;
    struct coord_opts o;
    struct store *s = NULL;
    struct coord *c;
    struct sd_err err = {0};
    double *v;

    if (no_learning)
        argv++, argc--;
    nserial = argc > 4 ? atoi(argv[4]) : 300;
    nsust = argc > 5 ? atoi(argv[5]) : 2000;
    agents = argc > 6 ? atoi(argv[6]) : 8;
    if (argc < 4) {
        fprintf(stderr, "usage: engine_bench [--no-learning] RUNNER HELPER NOOP [N] [N_SUSTAINED] "
                        "[AGENTS]\n");
        return 2;
    }
    v = calloc((size_t)(nserial > nsust ? nserial : nsust) + 1, sizeof *v);
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(db, sizeof db, "%s/bench.db", dir);
    if (noop_manifest(dir, argv[3], manifest, sizeof manifest) != 0)
        return 1;
    if (store_open(db, STORE_CREATE, &s, &err) != 0) {
        fprintf(stderr, "store: %s\n", err.msg);
        return 1;
    }
    coord_opts_default(&o);
    o.max_agents = 1;
    o.learning = !no_learning;
    c = coord_new(s, &o, argv[1], argv[2], &err);
    if (c == NULL || catalog_add_manifest_flags(coord_catalog(c), s, manifest,
                                                CATALOG_ALLOW_OUTSIDE, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    printf("engine benchmark: %d serial deployments, %d sustained with %d workers, learning %s\n",
           nserial, nsust, agents, no_learning ? "off" : "on");
    for (int i = 0; i < 20; i++)
        floor_spawn(argv[3]), one(c, "noop", "SPY");
    for (int i = 0; i < nserial; i++)
        v[i] = floor_spawn(argv[3]);
    report("floor: posix_spawn + wait (no-op)", v, nserial);
    for (int i = 0; i < nserial; i++)
        v[i] = one(c, "noop", "SPY");
    report("deploy no-op (engine overhead)", v, nserial);
    for (int i = 0; i < nserial / 3; i++)
        v[i] = one(c, "momentum", "SPX");
    report("deploy momentum on SPX", v, nserial / 3);
    coord_free(c);

    o.max_agents = agents;
    /* Learning on first: its line is the one the tables have always read. */
    if (!no_learning && sustained(s, &o, argv, manifest, nsust, "") != 0)
        return 1;
    o.learning = 0;
    if (sustained(s, &o, argv, manifest, nsust, ", learning off") != 0)
        return 1;
    store_close(s);
    sd_rm_rf(dir);
    free(v);
    return 0;
}
