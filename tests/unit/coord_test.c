/*
 * coord_test.c: the coordinator driven through a FAKE provider, no sandboxes.
 *
 * The fake is a `struct provider` whose ops do what the case scripts: the
 * next N creates or starts fail with a provider error (SD_EENV), start
 * writes scripted output and exits with a scripted code, and any of the
 * steps create, start (before the program runs), run (after it started) and
 * destroy can be held at a gate, so a case can act (cancel, submit more)
 * while a worker sits exactly there. The gate is a condition variable, not a
 * sleep: no assertion depends on timing. Retries use a backoff of 0 ms (or
 * an hour, where a cancel must end the wait), and the breakers run on a fake
 * clock (coord_set_clock) that the case advances.
 *
 * Every case checks the event stream of each deployment it ran: first
 * QUEUED, then RUNNING at most once, then exactly one terminal state, which
 * is the view's. The race this suite was written for: coord_submit pushed
 * its QUEUED event by reading d->v.state after unlocking, while a worker was
 * already writing RUNNING (ThreadSanitizer reports it in `deploy_five`; in
 * a normal build the symptom is a first event that is not QUEUED).
 *
 * Usage: coord_test CASE RUNNER HELPER (the runner lists the strategies;
 * the helper makes the built-in local provider, which no case uses).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coord_int.h"

#define TMPSTORE_PREFIX "swarmdeck-coord-test"
#include "check.h"
#include "tmpstore.h"

static const char *runner, *helper;

/* --- the fake provider ------------------------------------------------------ */

enum gate { AT_NONE, AT_CREATE, AT_START, AT_RUN, AT_DESTROY };

struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* The script. */
    int create_fail;    /* the next N creates fail (SD_EENV) */
    int start_fail;     /* the next N starts fail (SD_EENV) */
    int fail_after_out; /* start writes its output, then fails (SD_EENV) */
    int exit_code;      /* the program's exit code */
    const char *out;    /* what the program writes on stdout */
    enum gate hold;     /* hold the next worker reaching this step */
    int drop_early;     /* a signal before the program runs is lost (a local
                           sandbox has no process to signal until it starts) */
    /* What happened. */
    enum gate at; /* where a held worker waits now */
    int released;
    int creates, starts, signals, destroys;
};

struct fsbx {
    struct fake *f;
    int signalled;
    int running; /* the program started (drop_early) */
};

static struct fake fa = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER},
                   fb = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static const char result_out[] = "hello\n@@progress {\"bar\":5,\"of\":10,\"equity\":1}\n"
                                 "@@result {\"total_return\":0.1,\"sharpe\":1}\n";

static void fake_reset(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    f->create_fail = f->start_fail = f->fail_after_out = f->exit_code = 0;
    f->out = result_out;
    f->hold = f->at = AT_NONE;
    f->released = f->drop_early = 0;
    f->creates = f->starts = f->signals = f->destroys = 0;
    pthread_mutex_unlock(&f->mu);
}

/* f->mu held. If step is the held one, wait there until released (or, with
 * b, until the sandbox is signalled); returns 1 when signalled. */
static int gate(struct fake *f, enum gate step, struct fsbx *b)
{
    int sig;

    if (f->hold != step)
        return b != NULL && b->signalled;
    f->hold = AT_NONE;
    f->at = step;
    f->released = 0;
    pthread_cond_broadcast(&f->cv);
    while (!f->released && !(b != NULL && b->signalled))
        pthread_cond_wait(&f->cv, &f->mu);
    sig = b != NULL && b->signalled;
    f->at = AT_NONE;
    pthread_cond_broadcast(&f->cv);
    return sig;
}

/* Wait (at most 30 s, a safety net, not a timing assertion) until a worker
 * is held at step. Returns 0, or -1 if none came. */
static int fake_wait_at(struct fake *f, enum gate step)
{
    struct timespec ts;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 30;
    pthread_mutex_lock(&f->mu);
    while (f->at != step && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&f->cv, &f->mu, &ts);
    rc = f->at == step ? 0 : -1;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static void fake_release(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    f->released = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void fake_hold(struct fake *f, enum gate step)
{
    pthread_mutex_lock(&f->mu);
    f->hold = step;
    pthread_mutex_unlock(&f->mu);
}

static int fake_count(struct fake *f, const int *counter)
{
    int n;
    pthread_mutex_lock(&f->mu);
    n = *counter;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static int fake_create(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                       struct sd_err *err)
{
    struct fake *f = p->impl;
    int fail;

    (void)spec;
    pthread_mutex_lock(&f->mu);
    f->creates++;
    gate(f, AT_CREATE, NULL);
    fail = f->create_fail > 0;
    if (fail)
        f->create_fail--;
    pthread_mutex_unlock(&f->mu);
    if (fail)
        return sd_err_set(err, SD_EENV, "fake: create failed");
    struct fsbx *b = xcalloc(1, sizeof *b);
    b->f = f;
    *out = (struct sbx *)b;
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
    struct fsbx *b = (struct fsbx *)sb;
    struct fake *f = b->f;
    const char *out;
    int fail, after;

    (void)argv;
    pthread_mutex_lock(&f->mu);
    f->starts++;
    if (gate(f, AT_START, b)) { /* stopped before the program ran */
        pthread_mutex_unlock(&f->mu);
        ex->code = -1;
        ex->signal = SIGTERM;
        return 0;
    }
    fail = f->start_fail > 0;
    if (fail)
        f->start_fail--;
    after = f->fail_after_out;
    out = f->out;
    pthread_mutex_unlock(&f->mu);
    if (fail)
        return sd_err_set(err, SD_EENV, "fake: start failed");
    pthread_mutex_lock(&f->mu);
    b->running = 1;
    pthread_mutex_unlock(&f->mu);
    cb->started(cb->arg, "{}", "fake");
    if (out != NULL && out[0])
        cb->output(cb->arg, 1, out, strlen(out));
    if (after)
        return sd_err_set(err, SD_EENV, "fake: lost the sandbox");
    pthread_mutex_lock(&f->mu);
    if (gate(f, AT_RUN, b)) {
        ex->code = -1;
        ex->signal = SIGTERM;
    } else {
        ex->code = f->exit_code;
    }
    pthread_mutex_unlock(&f->mu);
    return 0;
}

static int fake_signal(struct sbx *sb, int sig)
{
    struct fsbx *b = (struct fsbx *)sb;

    (void)sig;
    pthread_mutex_lock(&b->f->mu);
    if (b->f->drop_early && !b->running) {
        pthread_mutex_unlock(&b->f->mu);
        return -1; /* no process yet: lost, as kill() of no pid */
    }
    b->f->signals++;
    b->signalled = 1;
    pthread_cond_broadcast(&b->f->cv);
    pthread_mutex_unlock(&b->f->mu);
    return 0;
}

static int fake_destroy(struct sbx *sb)
{
    struct fsbx *b = (struct fsbx *)sb;

    if (b == NULL)
        return 0;
    pthread_mutex_lock(&b->f->mu);
    b->f->destroys++;
    gate(b->f, AT_DESTROY, NULL);
    pthread_mutex_unlock(&b->f->mu);
    free(b);
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

static struct provider *fake_provider(struct fake *f, const char *name)
{
    struct provider *p = xcalloc(1, sizeof *p);
    p->ops = &fake_ops;
    p->impl = f;
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

/* --- the rig: a store, a coordinator with fakes "fa" and "fb" -------------- */

static _Atomic int64_t now_ms = 1000000;

static int64_t fake_clock(void)
{
    return atomic_load(&now_ms);
}

struct rig {
    struct store *s;
    struct coord *c;
    /* Every event drained so far, per the ids of this case. */
    struct ev ev[4096];
    size_t nev;
};

static struct rig rig;

/* Options every case starts from: fast retries, fakes only, learning off. */
static void opts_base(struct coord_opts *o)
{
    coord_opts_default(o);
    o->max_agents = 2;
    o->learning = 0;
    o->backoff_ms = 0;
    o->retries = 3;
    o->provider = "fa";
    o->breaker_failures = 100;
    o->breaker_cooldown_ms = 1000;
}

static void rig_up(const struct coord_opts *o)
{
    struct sd_err err = {0};

    fake_reset(&fa);
    fake_reset(&fb);
    memset(&rig, 0, sizeof rig);
    rig.s = store_new();
    rig.c = coord_new(rig.s, o, runner, helper, &err);
    if (rig.c == NULL) {
        fprintf(stderr, "coord_new: %s\n", err.msg);
        exit(1);
    }
    coord_set_clock(rig.c, fake_clock);
    if (coord_add_provider(rig.c, fake_provider(&fa, "fa"), "fake", "A", &err) != 0 ||
        coord_add_provider(rig.c, fake_provider(&fb, "fb"), "fake", "B", &err) != 0) {
        fprintf(stderr, "coord_add_provider: %s\n", err.msg);
        exit(1);
    }
}

static void rig_down(void)
{
    coord_free(rig.c);
    store_gone(rig.s);
}

static int64_t submit(const char *provider)
{
    struct deploy_req r = {.strategy = "momentum", .symbol = "SPY", .provider = provider};
    struct sd_err err = {0};
    int64_t id = -1;

    if (coord_submit(rig.c, &r, &id, &err) != 0)
        fprintf(stderr, "coord_submit: %s\n", err.msg);
    return id;
}

static struct deploy_view wait_for(int64_t id)
{
    struct deploy_view v;
    memset(&v, 0, sizeof v);
    CHECK(coord_wait(rig.c, id, &v) == 0);
    return v;
}

static void drain(void)
{
    rig.nev += evq_drain(coord_events(rig.c), rig.ev + rig.nev,
                         sizeof rig.ev / sizeof rig.ev[0] - rig.nev);
}

/* The events of id tell one story: QUEUED first, RUNNING at most once,
 * exactly one terminal state, last, and it is the view's. */
static void check_story(int64_t id)
{
    int n = 0, running = 0, terminal = 0, first = -1, last = -1;
    struct deploy_view v;

    drain();
    CHECK(coord_view(rig.c, id, &v) == 0);
    for (size_t i = 0; i < rig.nev; i++) {
        const struct ev *e = &rig.ev[i];
        CHECK(e->type != EV_RESYNC);
        if (e->type != EV_STATE || e->traj_id != id)
            continue;
        if (n++ == 0)
            first = e->state;
        last = e->state;
        running += e->state == TS_RUNNING;
        terminal += traj_state_terminal(e->state);
    }
    CHECK(first == TS_QUEUED);
    CHECK(running <= 1);
    CHECK(terminal == 1);
    CHECK(last == v.state);
    CHECK(traj_state_terminal(v.state));
}

/* How many lines of id's log ring are exactly text. */
static int log_count(int64_t id, const char *text)
{
    struct logline l[64];
    struct logring *r = coord_log(rig.c, id);
    size_t n = logring_get(r, 0, l, 64);
    int k = 0;

    for (size_t i = 0; i < n; i++)
        k += strcmp(l[i].text, text) == 0;
    logline_free_all(l, n);
    return k;
}

/* --- cases -------------------------------------------------------------------- */

/* Five agents, many deployments at once: each succeeds, streams its output
 * once and tells one story. The race of coord_submit's QUEUED event lived
 * here. */
static void test_deploy_five(void)
{
    struct coord_opts o;
    int64_t id[40];

    opts_base(&o);
    o.max_agents = 5;
    rig_up(&o);
    for (int i = 0; i < 40; i++)
        id[i] = submit(NULL);
    coord_wait_idle(rig.c);
    for (int i = 0; i < 40; i++) {
        struct deploy_view v = wait_for(id[i]);
        CHECK(v.state == TS_SUCCEEDED);
        CHECK(strcmp(v.provider, "fa") == 0);
        CHECK(v.progress == 1);
        CHECK(log_count(id[i], "hello") == 1);
        check_story(id[i]);
    }
    CHECK(fake_count(&fa, &fa.creates) == 40);
    CHECK(fake_count(&fa, &fa.destroys) == 40);
    rig_down();
}

/* Provider errors are retried: two failed creates, then success. */
static void test_retry(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    rig_up(&o);
    fa.create_fail = 2;
    id = submit(NULL);
    v = wait_for(id);
    CHECK(v.state == TS_SUCCEEDED);
    CHECK(fake_count(&fa, &fa.creates) == 3);
    CHECK(log_count(id, "hello") == 1);
    check_story(id);
    rig_down();
}

/* At most `retries` retries, then the deployment fails saying so; a failed
 * start is retried like a failed create. */
static void test_retry_gives_up(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    o.retries = 2;
    rig_up(&o);
    fa.create_fail = 1;
    fa.start_fail = 100;
    id = submit(NULL);
    v = wait_for(id);
    CHECK(v.state == TS_FAILED);
    CHECK(strstr(v.error, "fake: start failed") != NULL);
    CHECK(strstr(v.error, "gave up after retries") != NULL);
    CHECK(fake_count(&fa, &fa.creates) == 3);
    CHECK(fake_count(&fa, &fa.starts) == 2);
    CHECK(fake_count(&fa, &fa.destroys) == 2); /* every sandbox made is destroyed */
    check_story(id);
    rig_down();
}

/* A deployment that already streamed output is never retried, so its output
 * is stored once. */
static void test_no_retry_after_output(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    rig_up(&o);
    fa.fail_after_out = 1;
    id = submit(NULL);
    v = wait_for(id);
    CHECK(v.state == TS_FAILED);
    CHECK(fake_count(&fa, &fa.starts) == 1);
    CHECK(log_count(id, "hello") == 1);
    check_story(id);
    rig_down();
}

/* What the strategy does is never retried and never counts against the
 * breaker. */
static void test_strategy_failure(void)
{
    struct coord_opts o;
    struct provider_health h[4];
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    o.breaker_failures = 1;
    rig_up(&o);
    fa.exit_code = 3;
    id = submit(NULL);
    v = wait_for(id);
    CHECK(v.state == TS_FAILED);
    CHECK(v.exit_code == 3);
    CHECK(fake_count(&fa, &fa.creates) == 1);
    CHECK(coord_providers(rig.c, h, 4) == 3);
    CHECK(strcmp(h[1].name, "fa") == 0 && strcmp(h[1].breaker, "closed") == 0);
    CHECK(h[1].failures == 0);
    check_story(id);
    rig_down();
}

/* A cancel ends a backoff wait at once (the backoff here is an hour). */
static void test_backoff_cancel(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    o.backoff_ms = 3600 * 1000;
    rig_up(&o);
    fa.create_fail = 1;
    fake_hold(&fa, AT_CREATE);
    id = submit(NULL);
    CHECK(fake_wait_at(&fa, AT_CREATE) == 0);
    fake_release(&fa); /* this create fails; the worker backs off for an hour */
    CHECK(coord_cancel(rig.c, id) == 0);
    v = wait_for(id);
    CHECK(v.state == TS_CANCELLED);
    CHECK(fake_count(&fa, &fa.creates) == 1);
    check_story(id);
    rig_down();
}

static const char *breaker_of(const char *name)
{
    static struct provider_health h[MAX_PROVIDERS];
    size_t n = coord_providers(rig.c, h, MAX_PROVIDERS);
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, name) == 0)
            return h[i].breaker;
    return "?";
}

/* The breaker opens after breaker_failures provider failures and then fails
 * deployments at once; after the cool-down it is half-open and lets exactly
 * one trial through; a failed trial opens it again, a good one closes it. */
static void test_breaker(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id, other;

    opts_base(&o);
    o.retries = 0;
    o.breaker_failures = 2;
    o.breaker_cooldown_ms = 1000;
    rig_up(&o);
    fa.create_fail = 3;
    for (int i = 0; i < 2; i++) {
        id = submit(NULL);
        v = wait_for(id);
        CHECK(v.state == TS_FAILED);
        check_story(id);
    }
    CHECK(strcmp(breaker_of("fa"), "open") == 0);
    CHECK(strcmp(breaker_of("fb"), "closed") == 0);

    /* Open: fails fast, without a create. */
    id = submit(NULL);
    v = wait_for(id);
    CHECK(v.state == TS_FAILED);
    CHECK(strstr(v.error, "circuit breaker is open") != NULL);
    CHECK(strstr(v.error, "--failover") != NULL);
    CHECK(fake_count(&fa, &fa.creates) == 2);
    check_story(id);

    /* Half-open: one trial (the third scripted failure) opens it again. */
    atomic_fetch_add(&now_ms, 1000);
    CHECK(strcmp(breaker_of("fa"), "half-open") == 0);
    id = submit(NULL);
    v = wait_for(id);
    CHECK(v.state == TS_FAILED);
    CHECK(fake_count(&fa, &fa.creates) == 3);
    CHECK(strcmp(breaker_of("fa"), "open") == 0);
    check_story(id);

    /* Half-open again: while the trial is held in create, another
     * deployment is refused; the trial succeeds and closes the breaker. */
    atomic_fetch_add(&now_ms, 1000);
    fake_hold(&fa, AT_CREATE);
    id = submit(NULL);
    CHECK(fake_wait_at(&fa, AT_CREATE) == 0);
    other = submit(NULL);
    v = wait_for(other);
    CHECK(v.state == TS_FAILED);
    CHECK(strstr(v.error, "circuit breaker") != NULL);
    fake_release(&fa);
    v = wait_for(id);
    CHECK(v.state == TS_SUCCEEDED);
    CHECK(strcmp(breaker_of("fa"), "closed") == 0);
    check_story(id);
    check_story(other);
    rig_down();
}

/* With failover allowed, a deployment whose provider's breaker opens moves
 * to the failover and succeeds there, saying so. */
static void test_failover(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    o.retries = 2;
    o.breaker_failures = 1;
    o.failover = "fb";
    rig_up(&o);
    fa.create_fail = 100;
    id = submit(NULL);
    v = wait_for(id);
    CHECK(v.state == TS_SUCCEEDED);
    CHECK(strcmp(v.provider, "fb") == 0);
    CHECK(fake_count(&fa, &fa.creates) == 1);
    CHECK(fake_count(&fb, &fb.creates) == 1);
    CHECK(strcmp(breaker_of("fa"), "open") == 0);
    CHECK(log_count(id, "hello") == 1);
    check_story(id);
    rig_down();
}

/* Cancel while queued: at once, without a sandbox. */
static void test_cancel_queued(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t first, id;

    opts_base(&o);
    o.max_agents = 1;
    rig_up(&o);
    fake_hold(&fa, AT_CREATE);
    first = submit(NULL);
    CHECK(fake_wait_at(&fa, AT_CREATE) == 0);
    id = submit(NULL); /* the only worker is busy: this one waits in the FIFO */
    CHECK(coord_cancel(rig.c, id) == 0);
    v = wait_for(id);
    CHECK(v.state == TS_CANCELLED);
    CHECK(strstr(v.error, "before it started") != NULL);
    CHECK(coord_cancel(rig.c, id) == -1); /* already terminal */
    fake_release(&fa);
    v = wait_for(first);
    CHECK(v.state == TS_SUCCEEDED);
    CHECK(fake_count(&fa, &fa.creates) == 1);
    check_story(id);
    check_story(first);
    rig_down();
}

/* Cancel in a step where a worker is held: it ends cancelled, its sandbox
 * (if one was made) destroyed. */
static void cancel_at(enum gate step, int signals)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    rig_up(&o);
    fake_hold(&fa, step);
    id = submit(NULL);
    CHECK(fake_wait_at(&fa, step) == 0);
    CHECK(coord_cancel(rig.c, id) == 0);
    if (!signals)
        fake_release(&fa); /* no sandbox to signal yet: let the step end */
    v = wait_for(id);
    CHECK(v.state == TS_CANCELLED);
    CHECK(strstr(v.error, "cancelled") != NULL);
    CHECK(fake_count(&fa, &fa.signals) == signals);
    CHECK(fake_count(&fa, &fa.destroys) == 1);
    CHECK(fake_count(&fa, &fa.starts) == (step == AT_CREATE ? 0 : 1));
    check_story(id);
    rig_down();
}

static void test_cancel_creating(void)
{
    cancel_at(AT_CREATE, 0);
}

static void test_cancel_starting(void)
{
    cancel_at(AT_START, 1);
}

static void test_cancel_running(void)
{
    cancel_at(AT_RUN, 1);
}

/* A cancel the provider drops (the sandbox exists, its program has no
 * process yet) is sent again once the program starts: the deployment ends
 * cancelled instead of running to its end (the daemon_e2e_attribution
 * timeout). Without the resend the worker waits at AT_RUN for good. */
static void test_cancel_unstarted(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    rig_up(&o);
    pthread_mutex_lock(&fa.mu);
    fa.drop_early = 1;
    pthread_mutex_unlock(&fa.mu);
    fake_hold(&fa, AT_START);
    id = submit(NULL);
    CHECK(fake_wait_at(&fa, AT_START) == 0);
    CHECK(coord_cancel(rig.c, id) == 0); /* dropped: nothing runs yet */
    CHECK(fake_count(&fa, &fa.signals) == 0);
    fake_hold(&fa, AT_RUN); /* the program runs until signalled */
    fake_release(&fa);
    v = wait_for(id);
    CHECK(v.state == TS_CANCELLED);
    CHECK(fake_count(&fa, &fa.signals) >= 1);
    check_story(id);
    rig_down();
}

/* Cancel while finishing (the program has exited, the sandbox is being
 * destroyed): too late to change the outcome; still one terminal state. */
static void test_cancel_finishing(void)
{
    struct coord_opts o;
    struct deploy_view v;
    int64_t id;

    opts_base(&o);
    rig_up(&o);
    fake_hold(&fa, AT_DESTROY);
    id = submit(NULL);
    CHECK(fake_wait_at(&fa, AT_DESTROY) == 0);
    CHECK(coord_cancel(rig.c, id) == 0);
    fake_release(&fa);
    v = wait_for(id);
    CHECK(v.state == TS_SUCCEEDED);
    CHECK(fake_count(&fa, &fa.signals) == 0); /* the sandbox was already released */
    CHECK(coord_cancel(rig.c, id) == -1);
    check_story(id);
    rig_down();
}

/* "Caller holds c->lock" is asserted: coord_sleep without the lock aborts
 * (in builds with assertions; with NDEBUG there is nothing to check). */
static void test_assert_locked(void)
{
#ifndef NDEBUG
    struct coord c;
    struct timespec past = {0, 0};
    int status = 0;
    pid_t pid;

    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.cond, NULL);
    coord_lock(&c);
    CHECK(coord_sleep(&c, &past) == ETIMEDOUT); /* held: fine */
    coord_unlock(&c);
    pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr); /* the assertion's message is expected */
        coord_sleep(&c, &past);
        _exit(0);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
#endif
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"deploy_five", test_deploy_five},
        {"retry", test_retry},
        {"retry_gives_up", test_retry_gives_up},
        {"no_retry_after_output", test_no_retry_after_output},
        {"strategy_failure", test_strategy_failure},
        {"backoff_cancel", test_backoff_cancel},
        {"breaker", test_breaker},
        {"failover", test_failover},
        {"cancel_queued", test_cancel_queued},
        {"cancel_creating", test_cancel_creating},
        {"cancel_starting", test_cancel_starting},
        {"cancel_running", test_cancel_running},
        {"cancel_finishing", test_cancel_finishing},
        {"cancel_unstarted", test_cancel_unstarted},
        {"assert_locked", test_assert_locked},
    };

    if (argc < 4) {
        fprintf(stderr, "usage: coord_test CASE RUNNER HELPER\n");
        return 2;
    }
    runner = argv[2];
    helper = argv[3];
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
