/*
 * pump_test.c: the daemon's run table (engine/serve/pump.c) never shows a
 * run as neither open nor ended.
 *
 * `swarmdeck wait` asks the daemon for a run (/v1/runs/ID: the store's row
 * and pump_run_open) and takes one that is neither open in this daemon nor
 * ended in the store, with nothing live, for a run whose process died: it
 * reports it "interrupted". The pump used to drop a run from its table as
 * soon as its last deployment ended, before recording the run's end, so a
 * wait asking in between saw exactly that (the flake of daemon_e2e's
 * test_killed_clients_leave_work_running). Here the check runs inside the
 * --on-finish hook, which the pump calls after the end is committed and
 * before it forgets the run: the run must read as open there, and as ended
 * in the store; once the hook returned, as closed.
 *
 * A fake provider runs every deployment at once (a @@result line, exit 0).
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-pump"
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tmpstore.h"
#include "rig.h"

/* --- the case -------------------------------------------------------------- */

static void test_open_until_recorded(void)
{
    struct rig g;
    int64_t ids[3], run;
    char status[32], summary[200];

    rig_start(&g, 3);
    run = rig_submit(&g, 3, ids);
    CHECK(pump_run_open(g.p, run) == 0); /* not told yet */
    rig_tell(&g, run, ids, 3);
    rig_wait_hook(&g, 1);
    /* In the hook: its end is in the store, and the pump still holds it open. */
    pthread_mutex_lock(&g.mu);
    CHECK(strcmp(g.status, "succeeded") == 0);
    CHECK(g.open_in_hook == 1);
    pthread_mutex_unlock(&g.mu);
    /* Then it is forgotten (the hook returns before this becomes true). */
    for (int i = 0; i < 60000 && pump_run_open(g.p, run); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(pump_run_open(g.p, run) == 0);
    rig_run_row(g.s, run, status, sizeof status, summary, sizeof summary);
    CHECK(strcmp(status, "succeeded") == 0);
    rig_stop(&g);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"open_until_recorded", test_open_until_recorded},
    };

    return rig_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
