/*
 * coord_mem_test.c: what a finished deployment keeps in memory is bounded
 * (issue 14, item 10: a 10,000-deployment swarm held about 4 MB per finished
 * deployment, most of it its output ring).
 *
 * A fake provider (no sandboxes) runs deployments whose program writes
 * OUT_LINES short lines (far more than the store's head and tail and the
 * console's window) and one @@result. A first batch warms every cache (the
 * store's pages, the writer's queue, the allocator's arenas); then the heap
 * in use (glibc mallinfo2: every arena's allocated chunks plus mmapped
 * blocks) is read before and after a second batch of N deployments has
 * finished, and the growth per deployment must be under 50 KB. Each
 * finished ring's own count (logring_footprint) must be under its tail
 * budget too. Nothing is timed: the numbers are the allocator's.
 *
 * In a sanitizer build the allocator is the sanitizer's and mallinfo2 says
 * nothing; there only the footprint checks run.
 *
 * Usage: coord_mem_test RUNNER HELPER
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "coord_int.h"
#include "logring.h"

#define TMPSTORE_PREFIX "swarmdeck-coord-mem"
#include "check.h"
#include "tmpstore.h"

#define OUT_LINES 8192 /* 32 bytes each: 256 KiB a deployment */
#define N         100  /* deployments measured */
#define PER_MAX   (50 * 1024)

static char *out; /* what every fake program writes */

static int fake_create(struct provider *p, const struct sbx_spec *spec, struct sbx **o,
                       struct sd_err *err)
{
    (void)p, (void)spec, (void)err;
    *o = (struct sbx *)xcalloc(1, 16);
    return 0;
}

static int fake_upload(struct sbx *b, const char *local, const char *name, int x,
                       struct sd_err *err)
{
    (void)b, (void)local, (void)name, (void)x, (void)err;
    return 0;
}

static int fake_start(struct sbx *sb, char *const argv[], const struct sbx_callbacks *cb,
                      struct sbx_exit *ex, struct sd_err *err)
{
    size_t len = strlen(out), off = 0;

    (void)sb, (void)argv, (void)err;
    cb->started(cb->arg, "{}", "fake");
    while (off < len) { /* in pipe-sized chunks, as a real stream comes */
        size_t n = len - off < 65536 ? len - off : 65536;
        cb->output(cb->arg, 1, out + off, n);
        off += n;
    }
    ex->code = 0;
    return 0;
}

static int fake_signal(struct sbx *sb, int sig)
{
    (void)sb, (void)sig;
    return 0;
}

static int fake_destroy(struct sbx *sb)
{
    free(sb);
    return 0;
}

static int fake_lease_info(struct sbx *b, int *pid, uint64_t *pid_start, char *workdir, size_t n)
{
    (void)b;
    *pid = 0;
    *pid_start = 0;
    if (n > 0)
        workdir[0] = '\0';
    return 0;
}

static void fake_free(struct provider *p)
{
    free(p);
}

static const struct provider_ops fake_ops = {
    .name = "fake",
    .create = fake_create,
    .upload = fake_upload,
    .start = fake_start,
    .signal = fake_signal,
    .destroy = fake_destroy,
    .lease_info = fake_lease_info,
    .free = fake_free,
};

/* Run n deployments to their end; their ids into ids. */
static void run_batch(struct coord *c, int64_t *ids, size_t n)
{
    struct deploy_req r = {.strategy = "momentum", .symbol = "SPY", .provider = "fake"};
    struct sd_err err = {0};
    struct ev evs[256];

    for (size_t i = 0; i < n; i++)
        if (coord_submit(c, &r, &ids[i], &err) != 0) {
            fprintf(stderr, "coord_submit: %s\n", err.msg);
            exit(1);
        }
    for (size_t i = 0; i < n; i++) {
        struct deploy_view v;
        CHECK(coord_wait(c, ids[i], &v) == 0);
        CHECK(v.state == TS_SUCCEEDED);
        evq_drain(coord_events(c), evs, sizeof evs / sizeof evs[0]);
    }
    while (evq_drain(coord_events(c), evs, sizeof evs / sizeof evs[0]) > 0)
        ;
}

static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

int main(int argc, char **argv)
{
    struct coord_opts o;
    struct sd_err err = {0};
    struct store *s;
    struct coord *c;
    struct provider *p = xcalloc(1, sizeof *p);
    static int64_t warm[N], ids[N];
    size_t before, after, used = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: coord_mem_test RUNNER HELPER\n");
        return 2;
    }
    out = xcalloc((size_t)OUT_LINES * 32 + 64, 1);
    for (int i = 0; i < OUT_LINES; i++)
        used += (size_t)sprintf(out + used, "line %08d of the output ...\n", i);
    sprintf(out + used, "@@result {\"total_return\":0.1,\"sharpe\":1}\n");

    coord_opts_default(&o);
    o.max_agents = 2;
    o.learning = 0;
    o.provider = "fake";
    s = store_new();
    if ((c = coord_new(s, &o, argv[1], argv[2], &err)) == NULL) {
        fprintf(stderr, "coord_new: %s\n", err.msg);
        return 1;
    }
    p->ops = &fake_ops;
    snprintf(p->name, sizeof p->name, "fake");
    if (coord_add_provider(c, p, "fake", "memory test", &err) != 0) {
        fprintf(stderr, "coord_add_provider: %s\n", err.msg);
        return 1;
    }

    run_batch(c, warm, N);
    store_flush(s, &err);
    before = heap_in_use();
    run_batch(c, ids, N);
    store_flush(s, &err);
    after = heap_in_use();

    for (size_t i = 0; i < N; i++) {
        struct logring *r = coord_log(c, ids[i]);
        size_t fp = r ? logring_footprint(r) : 0;
        CHECK(r != NULL);
        CHECK(fp <=
              COORD_RING_DONE_BYTES + COORD_RING_DONE_LINES * (sizeof(struct logline) + 1) + 256);
        CHECK(r != NULL && logring_last_seq(r) == OUT_LINES + 1); /* every line was seen */
        if (i == 0)
            printf("finished ring: %zu bytes held, lines %llu..%llu\n", fp,
                   (unsigned long long)logring_first_seq(r),
                   (unsigned long long)logring_last_seq(r));
    }
    {
        long long per = ((long long)after - (long long)before) / N;
        printf("heap in use: %zu before, %zu after %d finished deployments: %lld bytes each "
               "(limit %d)\n",
               before, after, N, per, PER_MAX);
#ifndef SWARMDECK_SANITIZED
        CHECK(per < PER_MAX);
#endif
    }
    coord_free(c);
    store_gone(s);
    free(out);
    printf("coord_mem: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
