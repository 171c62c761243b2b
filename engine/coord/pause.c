/*
 * pause.c: pausing and resuming a running deployment (coord_pause, coord.h).
 *
 * A pause is the provider's: the local provider stops every process of the sandbox with
 * SIGSTOP through its helper (engine/sandbox/pause.c), and the helper's timeout counts running
 * time only. E2B is refused: pausing a microVM drops the process stream the worker reads
 * (envd answers 502 while paused, docs/e2b.md), so its worker would lose the deployment. The
 * store keeps a paused deployment `running` (a crash while paused recovers it as any running
 * one); only the live view says `paused`, which the API, the event stream and the console
 * show (coord_view_state).
 *
 * Any thread; takes c->lock. The provider call is a signal, so it runs under the lock, as
 * coord_cancel's does.
 */
#include <stdio.h>
#include <string.h>

#include "coord_int.h"

const char *coord_view_state(const struct deploy_view *v)
{
    return v->state == TS_RUNNING && v->paused ? "paused" : traj_state_name(v->state);
}

int coord_pause(struct coord *c, int64_t id, int on, struct sd_err *err)
{
    struct dep *d;
    int rc = 0;

    coord_lock(c);
    d = coord_dep_find_locked(c, id);
    if (d == NULL) {
        rc = sd_err_set(err, SD_EUSAGE, "deployment %lld is not live here", (long long)id);
    } else if (d->v.state != TS_RUNNING || atomic_load(&d->cancel)) {
        rc = sd_err_set(err, SD_EUSAGE, "deployment %lld is %s, not running", (long long)id,
                        atomic_load(&d->cancel) && d->v.state == TS_RUNNING
                            ? "being cancelled"
                            : traj_state_name(d->v.state));
    } else if (d->sbx == NULL || d->pi == NULL) {
        rc = sd_err_set(err, SD_EUSAGE, "deployment %lld: its sandbox has not started yet",
                        (long long)id);
    } else if (d->pi->p->ops->pause == NULL) {
        rc = sd_err_set(err, SD_EUSAGE, "deployment %lld: pause is not supported on %s",
                        (long long)id, d->pi->kind);
    } else if (!d->v.paused != !on) {
        struct sd_err perr = {0};
        if (d->pi->p->ops->pause(d->sbx, on, &perr) != 0) {
            rc = sd_err_set(err, SD_EUSAGE, "deployment %lld: %s", (long long)id, perr.msg);
        } else {
            d->v.paused = on ? 1 : 0;
            coord_work_push_state(c, d);
            pthread_cond_broadcast(&c->cond);
        }
    }
    coord_unlock(c);
    return rc;
}
