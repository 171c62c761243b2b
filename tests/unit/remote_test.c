/*
 * remote_test.c: the console's engine when a daemon runs it (tui/remote.h),
 * against a real server (engine/serve) in this process over its Unix
 * socket, with a real coordinator running the momentum strategy without a
 * sandbox (so the case also runs in the sanitizer trees, where the
 * sanitized runner may abort: the checks compare the remote's copy with
 * the coordinator's, whatever the outcome).
 *
 * Cases:
 *   follow    a launch of three: the remote's copy of the views reaches
 *             the daemon's, in order (queued, running, terminal events),
 *             the run's end comes as a notice, and the shown deployment's
 *             output is pulled line for line into the local ring;
 *   flood     a deployment writing 400,000 lines as fast as it can, its
 *             output shown: after one catch-up the remote follows the
 *             newest line the daemon announces, at most 250 lines a pull
 *             (it skips what it cannot show), and catches up once more at
 *             the end: a console costs the daemon a window, not the flood;
 *   restart   the server stops (the remote says it lost it) and another
 *             starts on the same socket with a new event log: the remote
 *             reconnects, is told to resync, lists again and follows the
 *             new server's deployments.
 * Every wait is on the remote's event fd against a deadline: no sleep
 * decides anything. Labelled tsan: three threads share the remote.
 *
 * Usage: remote_test CASE RUNNER HELPER [PROBE-LINES-MANIFEST]
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote.h"
#include "server.h"
#include "sock.h"

#define TMPSTORE_PREFIX "swarmdeck-remote-test"
#include "check.h"
#include "tmpstore.h"

static const char *runner, *helper, *probe_manifest;

struct rig {
    struct store *s;
    struct coord *c;
    struct server *srv;
    struct remote *r;
};

static int dial(void *arg, int start, struct client **out, struct sd_err *err)
{
    char sock[4096];
    (void)arg;
    (void)start; /* nobody starts servers here but the case itself */
    if (serve_sockpath(path, 0, sock, sizeof sock, err) != 0)
        return -1;
    return client_open(sock, out, err);
}

static void up(struct rig *g)
{
    struct coord_opts o;
    struct server_opts so = {.store_path = path};
    struct sd_err err = {0};

    coord_opts_default(&o);
    o.unsandboxed = 1; /* the strategy runs as a plain child: any build tree */
    o.learning = 0;
    o.max_agents = 2;
    g->c = coord_new(g->s, &o, runner, helper, &err);
    CHECK(g->c != NULL);
    if (g->c == NULL || server_start(g->c, &so, &g->srv, &err) != 0) {
        fprintf(stderr, "up: %s\n", err.msg);
        exit(1);
    }
}

static void down(struct rig *g)
{
    server_stop(g->srv);
    coord_free(g->c);
    g->srv = NULL;
    g->c = NULL;
}

/* Drain the remote's events until fn says done (it sees each event), or
 * 60 s pass. Returns whether fn said done. */
static int until(struct rig *g, int (*fn)(struct rig *, const struct ev *, void *), void *arg)
{
    struct evq *q = remote_events(g->r);
    int64_t deadline = sd_now_ms() + 60000;

    while (sd_now_ms() < deadline) {
        struct pollfd pf = {.fd = evq_fd(q), .events = POLLIN};
        struct ev evs[256];
        size_t n;
        poll(&pf, 1, 100);
        while ((n = evq_drain(q, evs, 256)) > 0)
            for (size_t i = 0; i < n; i++)
                if (fn(g, &evs[i], arg))
                    return 1;
        if (fn(g, NULL, arg))
            return 1;
    }
    return 0;
}

struct follow {
    int64_t ids[8];
    size_t n;
    int seen_queued[8], seen_terminal[8], order_ok;
    int run_notice;
    char notice[200];
};

static int follow_fn(struct rig *g, const struct ev *e, void *arg)
{
    struct follow *f = arg;
    int terminal = 0;
    char text[200];
    int run;

    if (e != NULL && e->type == EV_STATE)
        for (size_t i = 0; i < f->n; i++) {
            if (e->traj_id != f->ids[i])
                continue;
            if (e->state == TS_QUEUED)
                f->seen_queued[i] = 1;
            if (traj_state_terminal(e->state)) {
                if (!f->seen_queued[i] || f->seen_terminal[i])
                    f->order_ok = 0;
                f->seen_terminal[i] = 1;
            }
        }
    if (e != NULL && e->type == EV_NOTICE)
        while (remote_notice(g->r, text, sizeof text, &run))
            if (run) {
                f->run_notice = 1;
                snprintf(f->notice, sizeof f->notice, "%s", text);
            }
    for (size_t i = 0; i < f->n; i++)
        terminal += f->seen_terminal[i];
    return (size_t)terminal == f->n && f->run_notice;
}

/* POST a launch of n momentum agents; fills f->ids. */
static void launch(struct rig *g, int n, struct follow *f)
{
    json_t *body =
               json_pack("{s:s, s:s, s:i}", "strategy", "momentum", "symbol", "SPY", "agents", n),
           *out = NULL, *v;
    struct sd_err err = {0};
    size_t i;

    memset(f, 0, sizeof *f);
    f->order_ok = 1;
    CHECK(remote_call(g->r, "POST", "/deployments", body, &out, &err) == 0);
    json_array_foreach(json_object_get(out, "ids"), i, v) if (f->n < 8) f->ids[f->n++] =
        json_integer_value(v);
    CHECK(f->n == (size_t)n);
    json_decref(body);
    json_decref(out);
}

/* Whether one of the first or last 32 lines of r starts with prefix. */
static int ring_has(struct logring *r, const char *prefix)
{
    struct logline l[64];
    uint64_t last = logring_last_seq(r);
    size_t n = logring_get(r, logring_first_seq(r), l, 32);
    n += logring_get(r, last > 32 ? last - 31 : 1, l + n, 32);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= strncmp(l[i].text, prefix, strlen(prefix)) == 0;
    logline_free_all(l, n);
    return found;
}

struct out_wait {
    struct logring *ring, *theirs;
};

static char *last_text(struct logring *r)
{
    struct logline l;
    char *t = NULL;
    if (logring_last_seq(r) > 0 && logring_get(r, logring_last_seq(r), &l, 1) == 1) {
        t = l.text;
        l.text = NULL;
        logline_free_all(&l, 1);
    }
    return t;
}

/* The local ring holds the daemon's lines: as many, the same last one. */
static int output_fn(struct rig *g, const struct ev *e, void *arg)
{
    struct out_wait *w = arg;
    char *a = last_text(w->ring), *b = last_text(w->theirs);
    int same = (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0) &&
               logring_last_seq(w->ring) - logring_first_seq(w->ring) ==
                   logring_last_seq(w->theirs) - logring_first_seq(w->theirs);
    (void)g;
    (void)e;
    free(a);
    free(b);
    return same;
}

static struct rig rig_new(void)
{
    struct rig g = {0};
    struct remote_conf rc = {.dial = dial};
    struct client *cl = NULL;
    struct sd_err err = {0};
    char run[128];

    g.s = store_new();
    snprintf(run, sizeof run, "%s/run", dir);
    mkdir(run, 0700);
    setenv("XDG_RUNTIME_DIR", run, 1);
    up(&g);
    CHECK(dial(NULL, 0, &cl, &err) == 0);
    g.r = remote_start(&rc, cl, &err);
    if (g.r == NULL) {
        fprintf(stderr, "remote_start: %s\n", err.msg);
        exit(1);
    }
    return g;
}

static void rig_free(struct rig *g)
{
    remote_stop(g->r);
    if (g->c != NULL)
        down(g);
    store_gone(g->s);
}

static void test_follow(void)
{
    struct rig g = rig_new();
    struct follow f;
    struct deploy_view v[8];
    struct out_wait w;
    int counts[TS_COUNT];
    size_t n;

    launch(&g, 3, &f);
    CHECK(until(&g, follow_fn, &f));
    CHECK(f.order_ok);
    n = remote_list(g.r, v, 8);
    CHECK(n == 3);
    {
        int ok = 0;
        char want[64];
        for (size_t i = 0; i < n; i++) {
            struct deploy_view d;
            CHECK(coord_view(g.c, v[i].id, &d) == 0);
            CHECK(v[i].state == d.state && traj_state_terminal(v[i].state));
            CHECK(v[i].ended_at == d.ended_at && v[i].exit_code == d.exit_code);
            CHECK(strcmp(v[i].error, d.error) == 0);
            ok += v[i].state == TS_SUCCEEDED;
        }
        snprintf(want, sizeof want, "run 1: %d succeeded", ok);
        CHECK(strncmp(f.notice, want, strlen(want)) == 0);
        remote_counts(g.r, counts);
        CHECK(counts[TS_SUCCEEDED] == ok);
    }
    /* The output of the second one, pulled into the local ring, line for
     * line as the daemon's ring holds it. */
    w.ring = remote_log(g.r, f.ids[1]);
    CHECK(w.ring != NULL);
    if (w.ring != NULL) {
        w.theirs = coord_log(g.c, f.ids[1]);
        CHECK(until(&g, output_fn, &w));
        if (v[1].state == TS_SUCCEEDED) /* a finished one keeps its tail: the result */
            CHECK(ring_has(w.ring, "@@result"));
    }
    CHECK(remote_log(g.r, 999) == NULL); /* not the daemon's: the store has it */
    rig_free(&g);
}

/* The flood's view is terminal and its ring ends with the daemon's last line
 * (the numbers differ: the local ring skipped). */
static int flood_fn(struct rig *g, const struct ev *e, void *arg)
{
    struct out_wait *w = arg;
    struct deploy_view v;
    char *a, *b;
    int same;
    (void)e;
    if (remote_list(g->r, &v, 1) != 1 || !traj_state_terminal(v.state))
        return 0;
    a = last_text(w->ring);
    b = last_text(w->theirs);
    same = a != NULL && b != NULL && strcmp(a, b) == 0;
    free(a);
    free(b);
    return same;
}

static void test_flood(void)
{
    struct rig g = rig_new();
    struct sd_err err = {0};
    json_t *body, *out = NULL;
    struct out_wait w;
    struct remote_pulls p;
    int64_t id;

    if (probe_manifest == NULL) {
        fprintf(stderr, "flood: needs the probe-lines manifest\n");
        exit(2);
    }
    CHECK(catalog_add_manifest_flags(coord_catalog(g.c), g.s, probe_manifest, CATALOG_ALLOW_OUTSIDE,
                                     &err) == 0);
    body = json_pack("{s:s, s:{s:i, s:i}}", "strategy", "probe-lines", "params", "n", 400000,
                     "rate", 0);
    CHECK(remote_call(g.r, "POST", "/deployments", body, &out, &err) == 0);
    id = json_integer_value(json_array_get(json_object_get(out, "ids"), 0));
    json_decref(body);
    json_decref(out);
    CHECK(id > 0);
    CHECK(remote_sync(g.r, &err) == 0);
    w.ring = remote_log(g.r, id);
    CHECK(w.ring != NULL);
    if (w.ring != NULL) {
        w.theirs = coord_log(g.c, id);
        CHECK(until(&g, flood_fn, &w));
        remote_pull_stats(g.r, &p);
        fprintf(stderr, "flood: %llu catch-up and %llu windowed pulls, %llu lines, most %llu\n",
                (unsigned long long)p.catch_up, (unsigned long long)p.windowed,
                (unsigned long long)p.lines, (unsigned long long)p.most);
        CHECK(p.most <= 250);
        /* One on showing it, a few around its state changes (queued,
         * running, ended): never a catch-up that the flood keeps open. */
        CHECK(p.catch_up <= 12);
        CHECK(p.lines < 400000);
    }
    rig_free(&g);
}

struct notice_wait {
    const char *want;
};

static int notice_fn(struct rig *g, const struct ev *e, void *arg)
{
    struct notice_wait *w = arg;
    char text[200];
    int run, hit = 0;
    (void)e;
    while (remote_notice(g->r, text, sizeof text, &run))
        hit |= strstr(text, w->want) != NULL;
    return hit;
}

static void test_restart(void)
{
    struct rig g = rig_new();
    struct follow f;
    struct notice_wait lost = {"lost the daemon"}, back = {"reconnected: the daemon restarted"};
    struct remote_info info;
    struct deploy_view v[8];

    launch(&g, 1, &f);
    CHECK(until(&g, follow_fn, &f));
    down(&g);
    CHECK(until(&g, notice_fn, &lost));
    remote_info(g.r, &info);
    CHECK(!info.connected);
    up(&g); /* another run under the same pid: a new event log, its numbers from 0 again */
    CHECK(until(&g, notice_fn, &back));
    launch(&g, 2, &f);
    CHECK(until(&g, follow_fn, &f));
    CHECK(f.order_ok);
    CHECK(strncmp(f.notice, "run 2: ", 7) == 0);
    remote_info(g.r, &info);
    CHECK(info.connected);
    /* The list is the new coordinator's: the first one is not live there. */
    CHECK(remote_list(g.r, v, 8) == 2);
    rig_free(&g);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"follow", test_follow},
        {"restart", test_restart},
        {"flood", test_flood},
    };
    if (argc < 4) {
        fprintf(stderr, "usage: remote_test CASE RUNNER HELPER\n");
        return 2;
    }
    runner = argv[2];
    helper = argv[3];
    probe_manifest = argc > 4 ? argv[4] : NULL;
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
