/*
 * day_pause_test.c: coord_pause (engine/coord/pause.c) through a fake provider, no sandboxes.
 *
 * Two fake instances: "loc" has a pause op that records what it was asked, "vm" (kind e2b)
 * has none, as the E2B provider. A fake sandbox's start says "started" and then waits on a
 * condition variable until it is signalled (a cancel), so a case acts on a deployment that is
 * exactly running; nothing here depends on timing. The process-level part (every process of
 * the sandbox stopped, the timeout not running while paused) is tests/e2e/day_pause.py.
 *
 * Usage: day_pause_test CASE RUNNER HELPER.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "coord_int.h"

#define TMPSTORE_PREFIX "swarmdeck-pause-test"
#include "check.h"
#include "tmpstore.h"

static const char *runner, *helper;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int running, signalled, pauses, resumes;

struct fsbx {
    int unused;
};

static int f_create(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                    struct sd_err *err)
{
    (void)p, (void)spec, (void)err;
    *out = (struct sbx *)xcalloc(1, sizeof(struct fsbx));
    return 0;
}

static int f_upload(struct sbx *b, const char *local, const char *name, int x, struct sd_err *err)
{
    (void)b, (void)local, (void)name, (void)x, (void)err;
    return 0;
}

static int f_start(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
                   struct sbx_exit *ex, struct sd_err *err)
{
    (void)b, (void)argv, (void)err;
    cb->started(cb->arg, "{}", "fake");
    pthread_mutex_lock(&mu);
    running++;
    pthread_cond_broadcast(&cv);
    while (!signalled)
        pthread_cond_wait(&cv, &mu);
    signalled = 0;
    running--;
    pthread_mutex_unlock(&mu);
    ex->code = -1;
    ex->signal = SIGTERM;
    return 0;
}

static int f_signal(struct sbx *b, int sig)
{
    (void)b, (void)sig;
    pthread_mutex_lock(&mu);
    signalled = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return 0;
}

static int f_pause(struct sbx *b, int on, struct sd_err *err)
{
    (void)b, (void)err;
    pthread_mutex_lock(&mu);
    if (on)
        pauses++;
    else
        resumes++;
    pthread_mutex_unlock(&mu);
    return 0;
}

static int f_destroy(struct sbx *b)
{
    free(b);
    return 0;
}

static int f_lease_info(struct sbx *b, int *pid, uint64_t *pid_start, char *workdir, size_t n)
{
    (void)b;
    *pid = 0;
    *pid_start = 0;
    if (n > 0)
        workdir[0] = '\0';
    return 0;
}

static void f_free(struct provider *p)
{
    free(p);
}

static const struct provider_ops loc_ops = {
    .name = "fake",
    .create = f_create,
    .upload = f_upload,
    .start = f_start,
    .signal = f_signal,
    .destroy = f_destroy,
    .lease_info = f_lease_info,
    .free = f_free,
    .pause = f_pause,
};

static const struct provider_ops vm_ops = {
    .name = "fake-vm",
    .create = f_create,
    .upload = f_upload,
    .start = f_start,
    .signal = f_signal,
    .destroy = f_destroy,
    .lease_info = f_lease_info,
    .free = f_free,
};

static struct provider *fake(const struct provider_ops *ops, const char *name)
{
    struct provider *p = xcalloc(1, sizeof *p);
    p->ops = ops;
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

static struct store *s;
static struct coord *c;

static void up(void)
{
    struct coord_opts o;
    struct sd_err err = {0};

    coord_opts_default(&o);
    o.max_agents = 2;
    o.learning = 0;
    o.backoff_ms = 0;
    o.provider = "loc";
    running = signalled = pauses = resumes = 0;
    s = store_new();
    c = coord_new(s, &o, runner, helper, &err);
    if (c == NULL || coord_add_provider(c, fake(&loc_ops, "loc"), "local", "", &err) != 0 ||
        coord_add_provider(c, fake(&vm_ops, "vm"), "e2b", "", &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        exit(1);
    }
}

static void down(void)
{
    coord_free(c);
    store_gone(s);
}

/* Submit one deployment to provider and wait until its fake sandbox runs. */
static int64_t run_one(const char *provider)
{
    struct deploy_req r = {.strategy = "momentum", .symbol = "SPY", .provider = provider};
    struct sd_err err = {0};
    int64_t id = -1;

    if (coord_submit(c, &r, &id, &err) != 0) {
        fprintf(stderr, "coord_submit: %s\n", err.msg);
        exit(1);
    }
    pthread_mutex_lock(&mu);
    while (running == 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return id;
}

static int counter(const int *x)
{
    pthread_mutex_lock(&mu);
    int v = *x;
    pthread_mutex_unlock(&mu);
    return v;
}

/* Pause, pause again (nothing), resume, and the view's state on the way (JSON both ways). */
static void test_pause_resume(void)
{
    struct sd_err err = {0};
    struct deploy_view v, back;
    json_t *j;

    up();
    int64_t id = run_one("loc");
    CHECK(coord_pause(c, id, 1, &err) == 0);
    CHECK(counter(&pauses) == 1);
    CHECK(coord_view(c, id, &v) == 0 && v.paused && v.state == TS_RUNNING);
    CHECK(strcmp(coord_view_state(&v), "paused") == 0);
    j = coord_view_json(&v);
    CHECK(strcmp(json_string_value(json_object_get(j, "state")), "paused") == 0);
    CHECK(coord_view_from_json(j, &back) == 0 && back.paused && back.state == TS_RUNNING);
    json_decref(j);
    CHECK(coord_pause(c, id, 1, &err) == 0); /* already paused: nothing more */
    CHECK(counter(&pauses) == 1);
    CHECK(coord_pause(c, id, 0, &err) == 0);
    CHECK(counter(&resumes) == 1);
    CHECK(coord_view(c, id, &v) == 0 && !v.paused);
    CHECK(strcmp(coord_view_state(&v), "running") == 0);
    /* Paused, then cancelled: it ends cancelled, and no longer says paused. */
    CHECK(coord_pause(c, id, 1, &err) == 0);
    CHECK(coord_cancel(c, id) == 0);
    CHECK(coord_wait(c, id, &v) == 0 && v.state == TS_CANCELLED);
    CHECK(strcmp(coord_view_state(&v), "cancelled") == 0);
    /* Ended: refused, saying so. */
    CHECK(coord_pause(c, id, 1, &err) == -1 && err.code == SD_EUSAGE);
    CHECK(strstr(err.msg, "not running") != NULL);
    down();
}

/* A provider without pause (E2B) refuses clearly; an unknown id too. */
static void test_pause_refused(void)
{
    struct sd_err err = {0};
    struct deploy_view v;

    up();
    int64_t id = run_one("vm");
    CHECK(coord_pause(c, id, 1, &err) == -1 && err.code == SD_EUSAGE);
    CHECK(strstr(err.msg, "not supported on e2b") != NULL);
    CHECK(coord_view(c, id, &v) == 0 && !v.paused);
    memset(&err, 0, sizeof err);
    CHECK(coord_pause(c, id + 1000, 1, &err) == -1 && strstr(err.msg, "not live") != NULL);
    CHECK(coord_cancel(c, id) == 0);
    CHECK(coord_wait(c, id, &v) == 0 && v.state == TS_CANCELLED);
    down();
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"pause_resume", test_pause_resume},
        {"pause_refused", test_pause_refused},
    };

    if (argc < 4) {
        fprintf(stderr, "usage: day_pause_test CASE RUNNER HELPER\n");
        return 2;
    }
    runner = argv[2];
    helper = argv[3];
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
