/*
 * remote_hosts_test.c: several daemons in one console (tui/remote.h's
 * SEVERAL HOSTS, tui/app_hosts.c), against real servers (engine/serve) in
 * this process over their Unix sockets, each with its own store and
 * coordinator running the momentum strategy without a sandbox.
 *
 * Cases:
 *   ids          REMOTE_ID / REMOTE_HOST / REMOTE_LOCAL round trip, host 0
 *                the identity;
 *   backoff      remote_backoff_ms: half a second doubling to 30 s, each
 *                delay within [0.75, 1.25) of its base, jittered;
 *   health       app_host_health's texts: connected, connecting, reconnecting
 *                in Ns, unreachable: why;
 *   app          whose row is whose on a console's state: the remote of an
 *                id, host names by prefix, "#5 on lab-2"; one daemon as before;
 *   two          two daemons whose stores both number their first deployment
 *                1, two remotes on one queue: each view, event and ring
 *                carries its host's id, each remote pulls its own output;
 *   unreachable  a remote started without a connection (the daemon is not
 *                up) says unreachable with the dial's reason and dials again
 *                with backoff; the daemon comes up: it connects and lists;
 *   keep         keep_ended: a restarted daemon lists only its own
 *                deployments, the ended ones of the one before stay, once.
 * Every wait is on the queue's fd against a deadline: no sleep decides
 * anything. Labelled tsan: each remote's threads share it with the test.
 *
 * Usage: remote_hosts_test CASE RUNNER HELPER
 */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app_int.h"
#include "remote.h"
#include "server.h"
#include "sock.h"
#include "traj.h"

#include "check.h"

static const char *runner, *helper;

struct host {
    char dir[64], path[128];
    struct store *s;
    struct coord *c;
    struct server *srv;
};

static struct host hosts[2];
static char rundir[128];

static void host_new(struct host *h)
{
    struct sd_err err = {0};
    snprintf(h->dir, sizeof h->dir, "/tmp/swarmdeck-hosts-test-XXXXXX");
    if (mkdtemp(h->dir) == NULL)
        abort();
    snprintf(h->path, sizeof h->path, "%s/t.db", h->dir);
    if (store_open(h->path, STORE_CREATE, &h->s, &err) != 0) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        exit(1);
    }
}

static void up(struct host *h)
{
    struct coord_opts o;
    struct server_opts so = {.store_path = h->path};
    struct sd_err err = {0};

    coord_opts_default(&o);
    o.unsandboxed = 1; /* the strategy runs as a plain child: any build tree */
    o.learning = 0;
    o.max_agents = 2;
    h->c = coord_new(h->s, &o, runner, helper, &err);
    if (h->c == NULL || server_start(h->c, &so, &h->srv, &err) != 0) {
        fprintf(stderr, "up: %s\n", err.msg);
        exit(1);
    }
}

static void down(struct host *h)
{
    server_stop(h->srv);
    coord_free(h->c);
    h->srv = NULL;
    h->c = NULL;
}

static void host_gone(struct host *h)
{
    if (h->c != NULL)
        down(h);
    store_close(h->s);
    sd_rm_rf(h->dir);
}

static void env_init(void)
{
    snprintf(rundir, sizeof rundir, "/tmp/swarmdeck-hosts-run-XXXXXX");
    if (mkdtemp(rundir) == NULL)
        abort();
    setenv("XDG_RUNTIME_DIR", rundir, 1);
    host_new(&hosts[0]);
    host_new(&hosts[1]);
}

static void env_free(void)
{
    host_gone(&hosts[0]);
    host_gone(&hosts[1]);
    sd_rm_rf(rundir);
}

/* remote.h's dial: host arg's daemon, or why not. */
static int dial(void *arg, int start, struct client **out, struct sd_err *err)
{
    struct host *h = arg;
    char sock[4096];
    (void)start; /* nobody starts servers here but the case itself */
    if (serve_sockpath(h->path, 0, sock, sizeof sock, err) != 0)
        return -1;
    return client_open(sock, out, err);
}

static struct remote *follow(struct host *h, int index, struct evq *q, int keep, int connected)
{
    struct remote_conf rc = {.dial = dial,
                             .arg = h,
                             .host = index,
                             .name = index ? "b" : "a",
                             .q = q,
                             .keep_ended = keep};
    struct client *cl = NULL;
    struct sd_err err = {0};
    struct remote *r;

    if (connected)
        CHECK(dial(h, 0, &cl, &err) == 0);
    else
        sd_err_set(&err, SD_EENV, "connecting");
    r = remote_start(&rc, cl, &err);
    if (r == NULL) {
        fprintf(stderr, "remote_start: %s\n", err.msg);
        exit(1);
    }
    return r;
}

/* Drain q until fn says done (it sees each event, and NULL between), or
 * 60 s pass. Returns whether fn said done. */
static int until(struct evq *q, int (*fn)(const struct ev *, void *), void *arg)
{
    int64_t deadline = sd_now_ms() + 60000;

    while (sd_now_ms() < deadline) {
        struct pollfd pf = {.fd = evq_fd(q), .events = POLLIN};
        struct ev evs[256];
        size_t n;
        poll(&pf, 1, 100);
        while ((n = evq_drain(q, evs, 256)) > 0)
            for (size_t i = 0; i < n; i++)
                if (fn(&evs[i], arg))
                    return 1;
        if (fn(NULL, arg))
            return 1;
    }
    return 0;
}

/* POST one momentum deployment to r's daemon; returns the daemon's id. */
static int64_t launch(struct remote *r)
{
    json_t *body =
               json_pack("{s:s, s:s, s:i}", "strategy", "momentum", "symbol", "SPY", "agents", 1),
           *out = NULL;
    struct sd_err err = {0};
    int64_t id = 0;

    CHECK(remote_call(r, "POST", "/deployments", body, &out, &err) == 0);
    id = json_integer_value(json_array_get(json_object_get(out, "ids"), 0));
    CHECK(id > 0);
    json_decref(body);
    json_decref(out);
    return id;
}

/* --- pure ------------------------------------------------------------------- */

static void test_ids(void)
{
    CHECK(REMOTE_ID(0, 42) == 42);
    CHECK(REMOTE_HOST(REMOTE_ID(3, 42)) == 3);
    CHECK(REMOTE_LOCAL(REMOTE_ID(3, 42)) == 42);
    CHECK(REMOTE_ID(1, 1) != REMOTE_ID(2, 1));
    CHECK(REMOTE_HOST(REMOTE_ID(REMOTE_MAX_HOSTS - 1, (INT64_C(1) << 39))) == REMOTE_MAX_HOSTS - 1);
}

static void test_backoff(void)
{
    uint64_t seed = 12345, seed2 = 999;
    int64_t base = 500, differ = 0;

    for (int attempt = 1; attempt <= 12; attempt++) {
        int64_t d = remote_backoff_ms(attempt, &seed), e = remote_backoff_ms(attempt, &seed2);
        CHECK(d >= base * 3 / 4 && d < base * 5 / 4);
        differ += d != e;
        base = base * 2 > 30000 ? 30000 : base * 2;
    }
    CHECK(differ > 0); /* jittered: two remotes do not dial in step */
    CHECK(remote_backoff_ms(1000, &seed) < 37500);
}

static void test_health(void)
{
    struct remote_info ri;
    char f[128], c[64];

    memset(&ri, 0, sizeof ri);
    ri.link = REMOTE_UP;
    CHECK(app_host_health("b", &ri, 1000, f, sizeof f, c, sizeof c) == 0);
    CHECK(strcmp(f, "b: connected") == 0);
    ri.link = REMOTE_UNREACHABLE;
    CHECK(app_host_health("b", &ri, 1000, f, sizeof f, c, sizeof c) == 2);
    CHECK(strcmp(f, "b: connecting...") == 0);
    ri.attempts = 2;
    snprintf(ri.error, sizeof ri.error, "ssh: connect to host b port 22: Connection refused");
    CHECK(app_host_health("b", &ri, 1000, f, sizeof f, c, sizeof c) == 2);
    CHECK(strcmp(f, "b: unreachable: ssh: connect to host b port 22: Connection refused") == 0);
    CHECK(strcmp(c, "b down") == 0);
    ri.link = REMOTE_RETRY;
    ri.retry_at = 5200; /* 4.2 s from now: says 5 */
    CHECK(app_host_health("b", &ri, 1000, f, sizeof f, c, sizeof c) == 1);
    CHECK(strcmp(f, "b: reconnecting in 5s") == 0);
    ri.retry_at = 0; /* a dial under way */
    app_host_health("b", &ri, 1000, f, sizeof f, c, sizeof c);
    CHECK(strcmp(f, "b: reconnecting...") == 0);
    {
        /* per-host provider health: this host's open breakers in its segment */
        struct provider_health ph[3];
        memset(ph, 0, sizeof ph);
        snprintf(ph[0].name, sizeof ph[0].name, "local");
        snprintf(ph[0].breaker, sizeof ph[0].breaker, "closed");
        snprintf(ph[1].name, sizeof ph[1].name, "e2b");
        snprintf(ph[1].breaker, sizeof ph[1].breaker, "open");
        snprintf(ph[2].name, sizeof ph[2].name, "e2b-eu");
        snprintf(ph[2].breaker, sizeof ph[2].breaker, "half-open");
        ri.link = REMOTE_UP;
        app_host_health("lab-2", &ri, 1000, f, sizeof f, c, sizeof c);
        CHECK(app_host_breakers(ph, 1, f, sizeof f, c, sizeof c) == 0);
        CHECK(strcmp(f, "lab-2: connected") == 0);
        CHECK(app_host_breakers(ph, 3, f, sizeof f, c, sizeof c) == 1);
        CHECK(strcmp(f, "lab-2: connected, e2b open, e2b-eu half-open") == 0);
        CHECK(strcmp(c, "lab-2 ok e2b open e2b-eu half") == 0);
    }
}

/* Whose row is whose (app_hosts.c), on a console's state without a
 * terminal: the remotes are only compared, never called. */
static void test_app(void)
{
    static char r1, r2; /* stand-ins: app_hosts.c only compares them here */
    struct remote *rs[3] = {NULL, (struct remote *)(void *)&r1, (struct remote *)(void *)&r2};
    const char *names[3] = {NULL, "lab-1", "lab-2"};
    struct tui_conf conf;
    struct app *a = calloc(1, sizeof *a);
    char b[96];

    memset(&conf, 0, sizeof conf);
    conf.remotes = rs;
    conf.names = names;
    conf.nhosts = 3;
    conf.remote = rs[1];
    app_hosts_init(a, &conf);
    CHECK(a->multi && a->host_col && a->nrem == 3 && a->host_filter == -1);
    CHECK(a->deploy_host == 1); /* the first host shown: local is not */
    CHECK(app_remote_of(a, REMOTE_ID(2, 5)) == rs[2]);
    CHECK(app_remote_of(a, REMOTE_ID(1, 5)) == rs[1]);
    CHECK(app_remote_of(a, 5) == NULL); /* the local daemon is not one of them */
    CHECK(app_host_find(a, "lab-2") == 2);
    CHECK(app_host_find(a, "lab-1") == 1);
    CHECK(app_host_find(a, "lab") == -1); /* two match: none */
    CHECK(app_host_find(a, "local") == -1);
    app_id_label(a, REMOTE_ID(2, 5), b, sizeof b);
    CHECK(strcmp(b, "#5 on lab-2") == 0);
    free(a);
    /* One other host: no HOST column of one name, but its name in labels. */
    a = calloc(1, sizeof *a);
    rs[2] = NULL;
    conf.nhosts = 2;
    app_hosts_init(a, &conf);
    CHECK(a->multi && !a->host_col && a->deploy_host == 1);
    app_id_label(a, REMOTE_ID(1, 7), b, sizeof b);
    CHECK(strcmp(b, "#7 on lab-1") == 0);
    free(a);
    /* One daemon, as before: its own numbers, no host names. */
    a = calloc(1, sizeof *a);
    memset(&conf, 0, sizeof conf);
    conf.remote = rs[1];
    app_hosts_init(a, &conf);
    CHECK(!a->multi && a->nrem == 1 && app_remote_of(a, 5) == rs[1]);
    app_id_label(a, 5, b, sizeof b);
    CHECK(strcmp(b, "#5") == 0);
    free(a);
}

/* --- against servers ---------------------------------------------------------- */

struct ended {
    int64_t want[2];
    int seen[2];
};

static int ended_fn(const struct ev *e, void *arg)
{
    struct ended *w = arg;
    if (e != NULL && e->type == EV_STATE && traj_state_terminal(e->state))
        for (int i = 0; i < 2; i++)
            if (e->traj_id == w->want[i])
                w->seen[i] = 1;
    return w->seen[0] && w->seen[1];
}

struct pulled {
    struct logring *ring;
};

static int pulled_fn(const struct ev *e, void *arg)
{
    struct pulled *p = arg;
    (void)e;
    return logring_last_seq(p->ring) > 0;
}

static void test_two(void)
{
    struct evq *q = evq_new(4096);
    struct remote *r0, *r1;
    struct deploy_view v[4];
    struct ended w = {{0, 0}, {0, 0}};
    struct pulled p;
    int64_t a, b;

    env_init();
    up(&hosts[0]);
    up(&hosts[1]);
    r0 = follow(&hosts[0], 0, q, 0, 1);
    r1 = follow(&hosts[1], 1, q, 1, 1);
    a = launch(r0);
    b = launch(r1);
    CHECK(a == 1 && b == 1); /* both stores number it 1 */
    w.want[0] = REMOTE_ID(0, a);
    w.want[1] = REMOTE_ID(1, b);
    CHECK(until(q, ended_fn, &w)); /* both on the one queue, told apart */
    CHECK(remote_list(r0, v, 4) == 1 && v[0].id == a);
    CHECK(remote_list(r1, v, 4) == 1 && v[0].id == REMOTE_ID(1, b));
    CHECK(REMOTE_LOCAL(v[0].id) == b && strcmp(v[0].strategy, "momentum") == 0);
    /* Each remote pulls its own deployment's output, asked by its own id. */
    CHECK(remote_log(r1, b) == NULL);
    p.ring = remote_log(r1, REMOTE_ID(1, b));
    CHECK(p.ring != NULL);
    if (p.ring != NULL)
        CHECK(until(q, pulled_fn, &p));
    remote_stop(r0);
    remote_stop(r1);
    evq_free(q);
    env_free();
}

struct linkwait {
    struct remote *r;
    int link, min_attempts, saw_retry_at;
    char error[160];
};

static int link_fn(const struct ev *e, void *arg)
{
    struct linkwait *w = arg;
    struct remote_info ri;
    (void)e;
    remote_info(w->r, &ri);
    w->saw_retry_at |= ri.retry_at > 0;
    snprintf(w->error, sizeof w->error, "%s", ri.error);
    return ri.link == w->link && ri.attempts >= w->min_attempts;
}

struct viewwait {
    struct remote *r;
    size_t n;
};

static int views_fn(const struct ev *e, void *arg)
{
    struct viewwait *w = arg;
    struct deploy_view v[8];
    size_t n = remote_list(w->r, v, 8), ended = 0;
    (void)e;
    for (size_t i = 0; i < n; i++)
        ended += traj_state_terminal(v[i].state) != 0;
    return n == w->n && ended == n;
}

static void test_unreachable(void)
{
    struct evq *q = evq_new(4096);
    struct remote *r;
    struct linkwait lw;
    struct viewwait vw;
    struct remote_info ri;
    char text[200];
    int run, connected = 0;

    env_init();
    r = follow(&hosts[1], 1, q, 1, 0); /* nothing listens yet */
    remote_info(r, &ri);
    CHECK(!ri.connected && ri.link == REMOTE_UNREACHABLE);
    lw = (struct linkwait){.r = r, .link = REMOTE_UNREACHABLE, .min_attempts = 2};
    CHECK(until(q, link_fn, &lw)); /* it keeps dialing, with backoff */
    CHECK(lw.saw_retry_at);
    CHECK(lw.error[0] != '\0' && strcmp(lw.error, "connecting") != 0); /* the dial's own reason */
    up(&hosts[1]);
    lw = (struct linkwait){.r = r, .link = REMOTE_UP};
    CHECK(until(q, link_fn, &lw));
    while (remote_notice(r, text, sizeof text, &run))
        connected |= strncmp(text, "b: connected to the daemon", 26) == 0;
    CHECK(connected);
    launch(r);
    vw = (struct viewwait){r, 1};
    CHECK(until(q, views_fn, &vw));
    remote_stop(r);
    evq_free(q);
    env_free();
}

static void test_keep(void)
{
    struct evq *q = evq_new(4096);
    struct remote *r;
    struct linkwait lw;
    struct viewwait vw;
    struct deploy_view v[8];
    int64_t first, second;

    env_init();
    up(&hosts[1]);
    r = follow(&hosts[1], 1, q, 1, 1);
    first = launch(r);
    vw = (struct viewwait){r, 1};
    CHECK(until(q, views_fn, &vw));
    down(&hosts[1]);
    lw = (struct linkwait){.r = r, .link = REMOTE_RETRY};
    CHECK(until(q, link_fn, &lw));
    CHECK(remote_list(r, v, 8) == 1); /* its last views stay while it is away */
    up(&hosts[1]);                    /* another daemon: it lists only what it runs */
    lw = (struct linkwait){.r = r, .link = REMOTE_UP};
    CHECK(until(q, link_fn, &lw));
    second = launch(r);
    CHECK(second > first);
    vw = (struct viewwait){r, 2};
    CHECK(until(q, views_fn, &vw)); /* the ended one once, and the new one */
    CHECK(remote_list(r, v, 8) == 2);
    CHECK(v[0].id == REMOTE_ID(1, first) && v[1].id == REMOTE_ID(1, second));
    remote_stop(r);
    evq_free(q);
    env_free();
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"ids", test_ids},   {"backoff", test_backoff}, {"health", test_health},
        {"app", test_app},   {"two", test_two},         {"unreachable", test_unreachable},
        {"keep", test_keep},
    };
    if (argc < 4) {
        fprintf(stderr, "usage: remote_hosts_test CASE RUNNER HELPER\n");
        return 2;
    }
    runner = argv[2];
    helper = argv[3];
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
