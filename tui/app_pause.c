/*
 * app_pause.c: the console's `p` (lazydocker's pause): pause the tagged, else the selected,
 * running deployments, every process of their sandboxes stopped (coord_pause); when every one
 * of them is paused already, resume them. The work is a job (app_job_pause), so the UI thread
 * never waits on the daemon; the rows say `paused` when the state event comes back.
 *
 * UI thread only.
 */
#include "app_int.h"

int app_c_pause_dep(struct app *a, const char *x)
{
    int64_t ids[1024], run[1024];
    size_t n = table_targets(&a->tbl, ids, 1024), nrun = 0, npaused = 0;

    (void)x;
    for (size_t i = 0; i < n; i++) {
        const struct deploy_view *v = app_live_view(a, ids[i]);
        if (v == NULL || v->state != TS_RUNNING)
            continue;
        run[nrun++] = ids[i];
        npaused += v->paused != 0;
    }
    if (nrun == 0) {
        app_notify(a, 1, "pause: nothing selected is running");
        return -1;
    }
    /* All paused: resume them. Else pause those that run (a paused one stays paused). */
    return app_job_pause(a, run, nrun, npaused < nrun);
}

int app_paused_count(const struct app *a)
{
    int n = 0;
    for (size_t i = 0; i < a->nviews; i++)
        n += a->views[i].state == TS_RUNNING && a->views[i].paused;
    return n;
}
