/*
 * day_pause_test.c: coord_pause (engine/coord/pause.c) through a fake provider, no sandboxes.
 *
 * Two fake instances of the rig (rig.h): "loc" has a pause op that counts what it was asked,
 * "vm" (kind e2b) has none, as the E2B provider. A fake sandbox's start says "started" and is
 * then held until it is signalled (a cancel), so a case acts on a deployment that is exactly
 * running; nothing here depends on timing. The process-level part (every process of
 * the sandbox stopped, the timeout not running while paused) is tests/e2e/day_pause.py.
 *
 * Usage: day_pause_test CASE RUNNER HELPER.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "coord_int.h"

#define TMPSTORE_PREFIX "swarmdeck-pause-test"
#include "check.h"
#include "tmpstore.h"
#include "rig.h"

static struct store *s;
static struct coord *c;

/* A coordinator on two fakes (rig.h) whose starts are held until cancelled. */
static void up(void)
{
    struct coord_opts o;

    coord_opts_default(&o);
    o.max_agents = 2;
    o.learning = 0;
    o.backoff_ms = 0;
    o.provider = "loc";
    rig_hold(1);
    s = store_new();
    c = rig_coord(s, &o);
    rig_fake(c, "loc", "local", 1);
    rig_fake(c, "vm", "e2b", 0);
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
    rig_wait_held(1);
    return id;
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
    CHECK(rig_pause_calls(1) == 1);
    CHECK(coord_view(c, id, &v) == 0 && v.paused && v.state == TS_RUNNING);
    CHECK(strcmp(coord_view_state(&v), "paused") == 0);
    j = coord_view_json(&v);
    CHECK(strcmp(json_string_value(json_object_get(j, "state")), "paused") == 0);
    CHECK(coord_view_from_json(j, &back) == 0 && back.paused && back.state == TS_RUNNING);
    json_decref(j);
    CHECK(coord_pause(c, id, 1, &err) == 0); /* already paused: nothing more */
    CHECK(rig_pause_calls(1) == 1);
    CHECK(coord_pause(c, id, 0, &err) == 0);
    CHECK(rig_pause_calls(0) == 1);
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

    return rig_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
