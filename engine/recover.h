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
 * Output captured before a crash stays in the store: it was committed by the
 * writer thread as it arrived.
 */
#ifndef SD_RECOVER_H
#define SD_RECOVER_H

#include "store.h"

struct recover_report {
    int leases_reaped;
    int helpers_killed;
    int trajectories_interrupted;
    int workdirs_removed;
    int cgroups_removed;
};

/* Returns 0 (r filled) or -1 with err set. helper_path may be NULL (no
 * cgroup sweep). */
int recover_orphans(struct store *s, const char *helper_path, int all, struct recover_report *r,
                    struct sd_err *err);

#endif
