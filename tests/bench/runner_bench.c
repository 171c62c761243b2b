/*
 * runner_bench.c: how long each strategy's computation takes (design.md 8: 5,000 daily bars,
 * momentum and mean-reversion <= 1 ms, neural-forecast <= 50 ms).
 *
 * Usage: bench-runner SPX.csv [path/to/swarmdeck-runner] [REPS]
 *
 * In process: the series is loaded once (parsing is not timed); each repetition times one
 * backtest_run() with the default parameters and no output callbacks, which is the whole
 * strategy computation: signal precomputation (indicators, network training), the fill/equity
 * loop and the metrics. Reports the median and p95 over REPS repetitions (default 200) after
 * 5 warm-up runs. With a runner binary, it also times the whole process `swarmdeck-runner run`
 * (exec, parsing, computing, writing the protocol to /dev/null) for context, 30 times each.
 * Prints a Markdown table. Exit 0 unless something failed to run; targets are reported, not
 * enforced, because a loaded CI machine is not a benchmark.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "backtest.h"
#include "series.h"
#include "strategy.h"

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Sort t[0..n-1]; return the median and the nearest-rank p95. */
static void summarise(double *t, size_t n, double *median, double *p95)
{
    size_t k = (size_t)(0.95 * n + 0.999999);

    qsort(t, n, sizeof *t, cmp_double);
    *median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    *p95 = t[(k > 0 ? k : 1) - 1];
}

static int time_process(const char *runner, const char *name, const char *data, double *ms)
{
    char *argv[] = {(char *)runner, "run",        "--strategy", (char *)name,
                    "--data",       (char *)data, NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status, rc;
    double t0 = now_ms();

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, runner, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *ms = now_ms() - t0;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        double target_ms;
    } cases[] = {{"momentum", 1}, {"mean-reversion", 1}, {"neural-forecast", 50}};
    const char *runner = argc > 2 && strcmp(argv[2], "-") != 0 ? argv[2] : NULL;
    size_t reps = argc > 3 ? (size_t)atol(argv[3]) : 200, c, i;
    double p[STRATEGY_MAX_PARAMS], *t, med, p95, t0;
    struct series s;
    struct bt_result r;
    struct err e = {0};

    if (argc < 2 || reps < 1) {
        fprintf(stderr, "usage: bench-runner SPX.csv [swarmdeck-runner|-] [REPS]\n");
        return 2;
    }
    if (series_load(&s, argv[1], &e) != 0) {
        fprintf(stderr, "bench-runner: %s\n", e.msg);
        return 1;
    }
    t = malloc((reps > 30 ? reps : 30) * sizeof *t);
    printf("%zu bars (%s .. %s), %zu repetitions, default parameters\n\n", s.n, s.date[0],
           s.date[s.n - 1], reps);
    printf("| strategy | in-process median | in-process p95 | target | trades |%s\n",
           runner ? " whole process median | whole process p95 |" : "");
    printf("|---|---|---|---|---|%s\n", runner ? "---|---|" : "");
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const struct strategy *st = strategy_find(cases[c].name);

        strategy_defaults(st, p);
        for (i = 0; i < 5 + reps; i++) {
            t0 = now_ms();
            if (backtest_run(st, p, &s, NULL, &r, &e) != 0) {
                fprintf(stderr, "bench-runner: %s\n", e.msg);
                return 1;
            }
            if (i >= 5)
                t[i - 5] = now_ms() - t0;
        }
        summarise(t, reps, &med, &p95);
        printf("| %s | %.3f ms | %.3f ms | <= %g ms %s | %ld |", st->name, med, p95,
               cases[c].target_ms, p95 <= cases[c].target_ms ? "(met)" : "(MISSED)", r.m.trades);
        if (runner != NULL) {
            for (i = 0; i < 30; i++) {
                if (time_process(runner, st->name, argv[1], &t[i]) != 0) {
                    fprintf(stderr, "bench-runner: %s run --strategy %s failed\n", runner,
                            st->name);
                    return 1;
                }
            }
            summarise(t, 30, &med, &p95);
            printf(" %.2f ms | %.2f ms |", med, p95);
        }
        printf("\n");
    }
    free(t);
    series_free(&s);
    return 0;
}
