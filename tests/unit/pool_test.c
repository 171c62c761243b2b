/*
 * pool_test.c: the local provider's warm pool under concurrent use (engine/provider/
 * provider_local.c), for the normal, ASan+UBSan and ThreadSanitizer trees: THREADS worker
 * threads each run ROUNDS sandboxes of `/bin/sh -c 'echo $((K*K))'` through
 * create/upload/start/destroy while the refill thread spawns pooled helpers, then the provider
 * is freed with helpers still in the pool. Every start must succeed with its own output (no
 * sandbox serves two deployments: each prints its own K*K and nothing else), and after the free
 * no helper of ours is left (they are our children: waitpid reports none).
 *
 * Usage: pool_test HELPER (needs root, like the sandbox tests; skips otherwise).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "provider.h"

#define THREADS 3
#define ROUNDS  6

static struct provider *prov;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int ok_runs, bad_runs;

struct outbuf {
    char data[256];
    size_t len;
};

static void on_output(void *arg, int stream, const char *data, size_t len)
{
    struct outbuf *o = arg;
    if (stream == 1 && o->len + len < sizeof o->data) {
        memcpy(o->data + o->len, data, len);
        o->len += len;
    }
}

static void *work(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int r = 0; r < ROUNDS; r++) {
        int k = t * 100 + r;
        char id[64], cmd[64], want[32];
        struct sd_err err = {0};
        struct sbx *b = NULL;
        struct sbx_exit ex;
        struct outbuf o = {.len = 0};
        struct sbx_callbacks cb = {.output = on_output, .arg = &o};
        snprintf(id, sizeof id, "pooltest-%d-%d", (int)getpid(), k);
        snprintf(cmd, sizeof cmd, "echo $((%d*%d))", k, k);
        snprintf(want, sizeof want, "%d\n", k * k);
        struct sbx_spec spec = {.id = id, .timeout_ms = 30000, .memory_mb = 256, .cpus = 1};
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        int good = prov->ops->create(prov, &spec, &b, &err) == 0 &&
                   prov->ops->start(b, argv, &cb, &ex, &err) == 0 && !ex.setup_failed &&
                   ex.code == 0 && o.len == strlen(want) && memcmp(o.data, want, o.len) == 0;
        if (!good)
            fprintf(stderr, "run %s: %s (code %d, output %.*s)\n", id, err.msg, ex.code, (int)o.len,
                    o.data);
        if (b)
            prov->ops->destroy(b);
        pthread_mutex_lock(&mu);
        if (good)
            ok_runs++;
        else
            bad_runs++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct sd_err err = {0};
    char root[] = "/tmp/pooltest-XXXXXX";
    pthread_t th[THREADS];

    if (argc != 2)
        return 2;
    if (geteuid() != 0) {
        printf("SKIP: needs root (uid ranges, cgroups)\n");
        return 0;
    }
    if (!mkdtemp(root))
        return 1;
    setenv("SWARMDECK_SANDBOX_POOL", "2", 1);
    prov = provider_local_new(argv[1], root, &err);
    CHECK(prov != NULL);
    if (prov == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, work, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    CHECK(ok_runs == THREADS * ROUNDS);
    CHECK(bad_runs == 0);
    prov->ops->free(prov); /* the pool still holds ready helpers: let go and reaped */
    errno = 0;
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
    sd_rm_rf(root);
    printf("%d runs, %d failed\n", ok_runs + bad_runs, bad_runs);
    return failures ? 1 : 0;
}
