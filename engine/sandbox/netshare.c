/*
 * netshare.c: one shared empty network namespace for a pool master's members, where it is
 * provably as isolated as a namespace per sandbox (docs/sandbox.md "Network").
 *
 * A network namespace per sandbox costs its creation (lo, sysctl tables, the per-net init of
 * every protocol) and a teardown in the kernel's workers: ~2 ms of CPU per sandbox. What it
 * gives a sandbox whose seccomp filter already denies every socket family but AF_UNIX: no
 * loopback, netlink or host network (the filter alone closes those), and a private namespace
 * of abstract unix socket names. The name space is the one thing a shared empty namespace would
 * join, so it is shared only when Landlock scoping (ABI >= 6) closes that and signals too: each
 * sandbox's payload restricts itself with LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET and
 * LANDLOCK_SCOPE_SIGNAL, so it can neither connect to an abstract socket bound outside its own
 * Landlock domain (another sandbox's) nor signal a process outside it.
 *
 * NOT THE DEFAULT: it is not as isolated as a namespace per sandbox. /proc/<pid>/net shows the
 * reading task's network namespace, so in a shared one /proc/net/unix lists every sandbox's
 * unix sockets (abstract names, paths, inodes) to every other, and /proc/net/protocols their
 * counts: an information channel between sandboxes that a namespace each does not have, and
 * that neither Landlock (no rule can exclude a subtree of an allowed /proc) nor seccomp (no
 * paths) can close. So it is used only when SWARMDECK_SANDBOX_NETNS=shared opts in (the engine
 * passes it to its pool master as --netns shared: helpers get a clean environment).
 *
 * Conditions, all of them, else a namespace per sandbox as before: SWARMDECK_SANDBOX_NETNS is
 * "shared", the helper runs as root (a namespace owned by the initial user namespace can be
 * joined only from there), Landlock ABI >= 6, seccomp on, the netns layer not disabled. The pool
 * master makes the namespace once (its loopback stays down) and keeps an fd of it that its members
 * inherit; a member setns()es into it before it clones the sandbox init without CLONE_NEWNET.
 *
 * Raw syscalls (the libc headers may predate ABI 6): no library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

struct ll_attr { /* struct landlock_ruleset_attr as of ABI 6 */
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};
#define LL_CREATE_VERSION (1u << 0)
#define LL_SCOPE_ABSTRACT (1ull << 0)
#define LL_SCOPE_SIGNAL   (1ull << 1)
#define LL_ABI_SCOPING    6

int sbx_landlock_abi(void)
{
    long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
    return v < 0 ? -errno : (int)v;
}

int sbx_landlock_scope(void)
{
    struct ll_attr a = {.scoped = LL_SCOPE_ABSTRACT | LL_SCOPE_SIGNAL};
    long fd = syscall(__NR_landlock_create_ruleset, &a, sizeof a, 0);
    if (fd < 0)
        return -1;
    long rc = syscall(__NR_landlock_restrict_self, (int)fd, 0);
    int e = errno;
    close((int)fd);
    errno = e;
    return rc < 0 ? -1 : 0;
}

const char *sbx_netns_mode;

bool sbx_netshare_possible(bool seccomp_on, char *why, size_t len)
{
    const char *knob = sbx_netns_mode ? sbx_netns_mode : getenv("SWARMDECK_SANDBOX_NETNS");
    int abi = sbx_landlock_abi();
    if (knob && !strcmp(knob, "per-sandbox"))
        snprintf(why, len, "one per sandbox: SWARMDECK_SANDBOX_NETNS=per-sandbox");
    else if (!knob || strcmp(knob, "shared") != 0)
        snprintf(why, len,
                 "one per sandbox (a shared one would list each sandbox's unix sockets "
                 "to the others in /proc/net/unix; SWARMDECK_SANDBOX_NETNS=shared)");
    else if (geteuid() != 0)
        snprintf(why, len, "one per sandbox: not root (a shared one could not be joined)");
    else if (sbx_disabled("netns"))
        snprintf(why, len, "none: disabled by SWARMDECK_SANDBOX_DISABLE");
    else if (!seccomp_on)
        snprintf(why, len, "one per sandbox: no seccomp (it must deny all but AF_UNIX)");
    else if (abi < LL_ABI_SCOPING)
        snprintf(why, len,
                 "one per sandbox: Landlock scoping needs ABI >= %d (%s%d); a kernel >= 6.12 "
                 "with lsm=landlock shares one",
                 LL_ABI_SCOPING, abi < 0 ? "unavailable: errno " : "ABI ", abi < 0 ? -abi : abi);
    else {
        snprintf(why, len,
                 "shared empty namespace for pooled sandboxes (Landlock ABI %d scopes abstract "
                 "unix sockets and signals; seccomp allows AF_UNIX only)",
                 abi);
        return true;
    }
    return false;
}

int sbx_netshare_make(void)
{
    char why[200];
    if (!sbx_netshare_possible(!sbx_disabled("seccomp"), why, sizeof why))
        return -1;
    int old = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (old < 0)
        return -1;
    int fd = -1;
    if (unshare(CLONE_NEWNET) == 0) {
        fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (setns(old, CLONE_NEWNET) < 0) {
            /* Cannot go back: this process must not go on in the wrong namespace. */
            fprintf(stderr, "swarmdeck-sandbox: setns back: %s\n", strerror(errno));
            exit(SBX_EXIT_SETUP);
        }
    }
    close(old);
    if (fd >= 0 && fd < 10) {
        int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
        close(fd);
        fd = h;
    }
    return fd;
}

void sbx_netshare_apply(struct sbx_config *c, struct sbx_status *st)
{
    char why[200];
    if (c->shared_netns_fd < 0 || !(c->clone_flags & CLONE_NEWNET))
        return;
    if (!sbx_netshare_possible(st->state[SBX_F_SECCOMP] == SBX_ON, why, sizeof why))
        return;
    if (!c->netns_joined) {
        if (setns(c->shared_netns_fd, CLONE_NEWNET) < 0)
            return; /* a namespace of its own, as without a master */
        c->netns_joined = true;
    }
    c->clone_flags &= ~CLONE_NEWNET;
    c->inet_filter = true;
    c->unix_only = true;
    c->landlock_scope = true;
    snprintf(st->why[SBX_F_NETNS], sizeof st->why[SBX_F_NETNS], "%.150s", why);
}
