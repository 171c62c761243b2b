/*
 * recover.h: reaping what a crashed swarmdeck left behind.
 *
 * Every sandbox is leased in the store before it starts (coord.h). A lease
 * whose owning swarmdeck process is gone (pid and start time no longer match)
 * is an orphan: its helper is killed (which kills its whole pid namespace),
 * its work dir removed, its lease dropped, and its trajectory marked
 * interrupted. Then the sandbox helper sweeps stale cgroups. With `all`,
 * live owners' sandboxes are reaped too (`swarmdeck cleanup --all`).
 *
 * E2B sandboxes live elsewhere and do not die with us: recover_e2b lists
 * those tagged with this store's id and destroys the ones nobody owns. A
 * daemon first takes over the running E2B deployments of a dead owner
 * (traj_claim_e2b), so recovery leaves them and the daemon re-adopts them
 * (coord_adopt) instead of marking them interrupted.
 *
 * Output captured before a crash stays in the store: it was committed by the
 * writer thread as it arrived.
 */
#ifndef SD_RECOVER_H
#define SD_RECOVER_H

#include "e2b.h"
#include "store.h"

struct recover_report {
    int leases_reaped;
    int helpers_killed;
    int trajectories_interrupted;
    int workdirs_removed;
    int cgroups_removed;
    int e2b_leases;    /* of the leases reaped, those of E2B sandboxes */
    int e2b_found;     /* E2B sandboxes tagged with this store's id */
    int e2b_destroyed; /* of those, destroyed: no live deployment owned them */
};

/* Returns 0 (r filled) or -1 with err set. helper_path may be NULL (no
 * cgroup sweep). */
int recover_orphans(struct store *s, const char *helper_path, int all, struct recover_report *r,
                    struct sd_err *err);

/* The E2B leak sweep: list every E2B sandbox tagged with this store's id on
 * every configured instance and destroy each one that no live deployment
 * owns (no lease of a live owner, and the owning process named in its
 * metadata is gone); with `all`, every one. Call after recover_orphans (which
 * drops dead owners' leases). Fills r->e2b_found and r->e2b_destroyed.
 * Returns 0, or -1 with err set if an instance could not be listed. */
int recover_e2b(struct store *s, const struct e2b_config *cfg, int all, struct recover_report *r,
                struct sd_err *err);

#endif
