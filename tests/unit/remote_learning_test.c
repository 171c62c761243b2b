/*
 * remote_learning_test.c: the console keeps a daemon's learning snapshot
 * (tui/remote.h remote_learning), against a real server (engine/serve) in
 * this process over its Unix socket, with a real coordinator that learns,
 * running the momentum strategy without a sandbox (so the case also runs in
 * the sanitizer trees: the checks compare the remote's copy with the
 * daemon's own learner, whatever the deployments' outcome).
 *
 * Case:
 *   keep   on connect the remote lists the snapshot (empty store: zero
 *          trajectories); a launch of three ends; the remote's copy becomes
 *          the daemon's learner's snapshot (pump_learning), brought by a
 *          "learning" event (its number > 0), and the caller owns a copy;
 *          its one-line summary for the learning pane names the host;
 *   summary  remote_learning_summary alone: exact text, cut, bad input.
 * Every wait is on the remote's event fd against a deadline: no sleep
 * decides anything. Labelled tsan: the remote's threads and the pump.
 *
 * Usage: remote_learning_test CASE RUNNER HELPER
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pump.h"
#include "remote.h"
#include "server.h"
#include "sock.h"

#define TMPSTORE_PREFIX "swarmdeck-remote-learning-test"
#include "check.h"
#include "tmpstore.h"

static const char *runner, *helper;

static int dial(void *arg, int start, struct client **out, struct sd_err *err)
{
    char sock[4096];
    (void)arg;
    (void)start;
    if (serve_sockpath(path, 0, sock, sizeof sock, err) != 0)
        return -1;
    return client_open(sock, out, err);
}

/* Does the remote's snapshot equal the daemon learner's, brought by an
 * event? */
static int same_as_daemon(struct remote *r, struct coord *c, int want_total)
{
    json_t *mine = NULL, *theirs = pump_learning(coord_learn(c));
    uint64_t seq = 0;
    int same = remote_learning(r, &mine, &seq) == 0 && json_equal(mine, theirs) && seq > 0 &&
               json_integer_value(json_object_get(mine, "totalTrajectories")) == want_total;
    json_decref(mine);
    json_decref(theirs);
    return same;
}

static void test_keep(void)
{
    struct store *s = store_new();
    struct coord_opts o;
    struct server_opts so = {.store_path = path};
    struct remote_conf rc = {.dial = dial};
    struct sd_err err = {0};
    struct client *cl = NULL;
    struct server *srv = NULL;
    struct coord *c;
    struct remote *r;
    json_t *snap = NULL, *body, *out = NULL;
    char run[128];
    int64_t deadline;
    int done = 0, ended = 0;

    snprintf(run, sizeof run, "%s/run", dir);
    mkdir(run, 0700);
    setenv("XDG_RUNTIME_DIR", run, 1);
    coord_opts_default(&o);
    o.unsandboxed = 1;
    o.learning = 1;
    o.max_agents = 2;
    c = coord_new(s, &o, runner, helper, &err);
    if (c == NULL || coord_learn(c) == NULL || server_start(c, &so, &srv, &err) != 0) {
        fprintf(stderr, "up: %s\n", err.msg);
        exit(1);
    }
    CHECK(dial(NULL, 0, &cl, &err) == 0);
    if ((r = remote_start(&rc, cl, &err)) == NULL) {
        fprintf(stderr, "remote_start: %s\n", err.msg);
        exit(1);
    }

    /* Listed on connect: the empty store's snapshot. */
    CHECK(remote_learning(r, &snap, NULL) == 0);
    CHECK(json_integer_value(json_object_get(snap, "totalTrajectories")) == 0);
    CHECK(json_array_size(json_object_get(snap, "strategies")) == 0);
    json_decref(snap);

    body = json_pack("{s:s, s:s, s:i}", "strategy", "momentum", "symbol", "SPY", "agents", 3);
    CHECK(remote_call(r, "POST", "/deployments", body, &out, &err) == 0);
    json_decref(body);
    json_decref(out);

    /* Wait for three terminal states, then for the snapshot to match. */
    deadline = sd_now_ms() + 90000;
    while (!done && sd_now_ms() < deadline) {
        struct evq *q = remote_events(r);
        struct pollfd pf = {.fd = evq_fd(q), .events = POLLIN};
        struct ev evs[256];
        size_t n;
        poll(&pf, 1, 100);
        while ((n = evq_drain(q, evs, 256)) > 0)
            for (size_t i = 0; i < n; i++)
                ended += evs[i].type == EV_STATE && traj_state_terminal(evs[i].state);
        done = ended >= 3 && same_as_daemon(r, c, 3);
    }
    CHECK(ended >= 3);
    CHECK(done);

    /* The copy is the caller's: changing it changes nothing kept. */
    CHECK(remote_learning(r, &snap, NULL) == 0);
    json_object_set_new(snap, "totalTrajectories", json_integer(-1));
    json_decref(snap);
    CHECK(same_as_daemon(r, c, 3));

    /* The pane's line for this host. */
    CHECK(remote_learning(r, &snap, NULL) == 0);
    {
        char line[160];
        CHECK(remote_learning_summary(snap, "hostA", line, sizeof line) == 0);
        CHECK(strncmp(line, "hostA: 3 learned, ", 18) == 0);
        CHECK(strstr(line, "1 strategy, most momentum") != NULL);
    }
    json_decref(snap);

    remote_stop(r);
    server_stop(srv);
    coord_free(c);
    store_gone(s);
}

/* The summary line alone: exact text, cut to fit, bad input. */
static void test_summary(void)
{
    json_t *snap = json_loads(
        "{\"totalTrajectories\":20,\"succeeded\":19,\"successRatio\":0.95,\"rewardMean\":0.5842,"
        "\"strategies\":[{\"name\":\"momentum\",\"n\":12,\"successRatio\":1,\"rewardMean\":0.6},"
        "{\"name\":\"meanrev\",\"n\":8,\"successRatio\":0.875,\"rewardMean\":0.55}]}",
        0, NULL);
    json_t *empty = json_loads("{\"totalTrajectories\":0,\"successRatio\":null,\"rewardMean\":null,"
                               "\"strategies\":[]}",
                               0, NULL);
    char line[160], small[12];

    CHECK(remote_learning_summary(snap, "gpu1", line, sizeof line) == 0);
    CHECK(strcmp(line,
                 "gpu1: 20 learned, 95% succeeded, reward 0.584, 2 strategies, most momentum") ==
          0);
    CHECK(remote_learning_summary(snap, "gpu1", small, sizeof small) == 0);
    CHECK(strcmp(small, "gpu1: 20 le") == 0);
    CHECK(remote_learning_summary(empty, "b", line, sizeof line) == 0);
    CHECK(strcmp(line, "b: nothing learned yet") == 0);
    CHECK(remote_learning_summary(NULL, "b", line, sizeof line) == -1 && line[0] == '\0');
    json_decref(snap);
    json_decref(empty);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"keep", test_keep},
        {"summary", test_summary},
    };
    if (argc < 4) {
        fprintf(stderr, "usage: remote_learning_test CASE RUNNER HELPER\n");
        return 2;
    }
    runner = argv[2];
    helper = argv[3];
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
