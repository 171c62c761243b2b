/*
 * engine_test.c: unit tests for the engine's small modules: the event queue,
 * the log ring, parameter validation against the runner's schema table, and
 * trajectory state names. Pure logic, no sandboxes.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "evq.h"
#include "logring.h"
#include "traj.h"

#include "check.h"

static int readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

static void test_evq(void)
{
    struct evq *q = evq_new(4);
    struct ev e = {.type = EV_STATE}, out[8];
    size_t n;

    CHECK(q != NULL);
    CHECK(!readable(evq_fd(q)));
    for (int i = 0; i < 3; i++) {
        e.traj_id = i + 1;
        CHECK(evq_push(q, &e) == 0);
    }
    CHECK(readable(evq_fd(q)));
    n = evq_drain(q, out, 8);
    CHECK(n == 3);
    CHECK(out[0].traj_id == 1 && out[2].traj_id == 3);
    CHECK(!readable(evq_fd(q))); /* drained: wake-up cleared */

    /* Overflow: 6 pushes into 4 slots drop 2 and the next drain says resync. */
    for (int i = 0; i < 6; i++) {
        e.traj_id = 10 + i;
        evq_push(q, &e);
    }
    CHECK(evq_dropped(q) == 2);
    n = evq_drain(q, out, 8);
    CHECK(n == 5);
    CHECK(out[0].type == EV_RESYNC);
    CHECK(out[1].traj_id == 10 && out[4].traj_id == 13);
    CHECK(!readable(evq_fd(q)));

    /* A partial drain leaves the fd readable. */
    for (int i = 0; i < 3; i++)
        evq_push(q, &e);
    n = evq_drain(q, out, 2);
    CHECK(n == 2);
    CHECK(readable(evq_fd(q)));
    CHECK(evq_drain(q, out, 8) == 1);
    evq_free(q);
}

static void test_logring(void)
{
    struct logring *r = logring_new(3, 1 << 20);
    struct logline l[8];
    char big[LOGRING_MAX_LINE + 10];
    size_t n;

    CHECK(logring_append(r, 1, "hel", 3) == 0); /* no newline yet: no line */
    CHECK(logring_append(r, 1, "lo\nwor", 6) == 1);
    CHECK(logring_append(r, 2, "err\n", 4) == 2);
    n = logring_get(r, 1, l, 8);
    CHECK(n == 2);
    CHECK(strcmp(l[0].text, "hello") == 0 && l[0].stream == 1 && l[0].seq == 1);
    CHECK(strcmp(l[1].text, "err") == 0 && l[1].stream == 2);
    logline_free_all(l, n);

    /* Capacity 3: the oldest falls off; sequence numbers keep counting. */
    logring_append(r, 1, "ld\na\nb\n", 7);
    CHECK(logring_last_seq(r) == 5);
    CHECK(logring_first_seq(r) == 3);
    n = logring_get(r, 0, l, 8);
    CHECK(n == 3 && strcmp(l[0].text, "world") == 0 && strcmp(l[2].text, "b") == 0);
    logline_free_all(l, n);
    n = logring_get(r, 5, l, 8);
    CHECK(n == 1 && l[0].seq == 5);
    logline_free_all(l, n);

    /* A line longer than the maximum is cut into a partial line. */
    memset(big, 'x', sizeof big);
    logring_append(r, 1, big, sizeof big);
    n = logring_get(r, 6, l, 8);
    CHECK(n == 1 && l[0].partial && strlen(l[0].text) == LOGRING_MAX_LINE);
    logline_free_all(l, n);
    logring_finish(r); /* the remaining 10 bytes */
    n = logring_get(r, 7, l, 8);
    CHECK(n == 1 && strlen(l[0].text) == 10 && l[0].partial);
    logline_free_all(l, n);
    logring_free(r);

    /* Byte budget: lines are dropped to stay within it. */
    r = logring_new(100, 10);
    logring_append(r, 1, "12345\n67890\nabc\n", 16);
    n = logring_get(r, 0, l, 8);
    CHECK(n == 2 && strcmp(l[0].text, "67890") == 0);
    logline_free_all(l, n);
    logring_free(r);
}

static void test_validate(const char *runner)
{
    struct catalog *c = NULL;
    struct sd_err err = {0};
    const struct strategy_def *d;
    json_error_t je;
    json_t *in, *out;

    CHECK(catalog_load(&c, runner, NULL, &err) == 0);
    if (c == NULL) {
        fprintf(stderr, "catalog_load: %s\n", err.msg);
        return;
    }
    CHECK(catalog_count(c) >= 3);
    CHECK(catalog_find(c, "nope", &err) == NULL && err.code == SD_EUSAGE &&
          strstr(err.msg, "momentum") != NULL);
    d = catalog_find(c, "momentum", &err);
    CHECK(d != NULL);
    if (d == NULL)
        goto out;

    /* Defaults are filled in; given values kept with their types. */
    in = json_loads("{\"lookback\": 10}", 0, &je);
    out = catalog_validate(d, in, &err);
    CHECK(out != NULL);
    CHECK(json_integer_value(json_object_get(out, "lookback")) == 10);
    CHECK(fabs(json_number_value(json_object_get(out, "threshold")) - 0.02) < 1e-12);
    CHECK(json_is_false(json_object_get(out, "allowShort")));
    json_decref(in);
    json_decref(out);

    /* Each kind of bad parameter is refused with its name and range. */
    {
        static const char *const bad[][2] = {
            {"{\"lookback\": 0}", "lookback"},      {"{\"lookback\": 2.5}", "integer"},
            {"{\"lookback\": \"10\"}", "lookback"}, {"{\"allowShort\": 1}", "true or false"},
            {"{\"nope\": 1}", "unknown parameter"}, {"[1]", "object"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            memset(&err, 0, sizeof err);
            in = json_loads(bad[i][0], JSON_DECODE_ANY, &je);
            out = catalog_validate(d, in, &err);
            CHECK(out == NULL);
            CHECK(err.code == SD_EUSAGE);
            CHECK(strstr(err.msg, bad[i][1]) != NULL);
            if (strstr(err.msg, bad[i][1]) == NULL)
                fprintf(stderr, "  for %s got: %s\n", bad[i][0], err.msg);
            json_decref(in);
            json_decref(out);
        }
    }
    CHECK(catalog_symbol_ok("SPY") && catalog_symbol_ok("^GSPC") && !catalog_symbol_ok("") &&
          !catalog_symbol_ok("../etc") && !catalog_symbol_ok("A B"));
out:
    catalog_free(c);
}

static void test_states(void)
{
    for (int i = 0; i < TS_COUNT; i++)
        CHECK(traj_state_from_name(traj_state_name(i)) == i);
    CHECK(traj_state_from_name("bogus") == -1);
    CHECK(!traj_state_terminal(TS_QUEUED) && !traj_state_terminal(TS_RUNNING));
    CHECK(traj_state_terminal(TS_SUCCEEDED) && traj_state_terminal(TS_INTERRUPTED));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: engine_test PATH-TO-swarmdeck-runner\n");
        return 2;
    }
    test_evq();
    test_logring();
    test_validate(argv[1]);
    test_states();
    printf("engine_test: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
