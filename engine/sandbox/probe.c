/*
 * probe.c: the isolation feature table, the plan for one sandbox, and --probe (the doctor).
 *
 * Design: a run assumes every namespace is available and only probes when clone() fails, so
 * the common path costs nothing; --probe tests every layer in a throwaway child and prints the
 * same table the "started" event carries. Each layer is "on", "degraded: why" (a weaker
 * substitute is in force) or "off: why". The level is "strict" when everything the host could
 * offer is on, "standard" when only non-essential layers are missing, "degraded" otherwise.
 *
 * SWARMDECK_SANDBOX_DISABLE=netns,seccomp,... makes the named layers behave as if the kernel
 * lacked them. It can only remove isolation, and what it removes is reported like a real
 * degradation (so --strict refuses); the tests use it to reach the fallback paths.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "sandbox.h"

/* Does clone(flags) work here? Runs a child that exits at once. */
int sbx_probe_clone(int flags)
{
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0)
        return -errno;
    if (pid == 0)
        _exit(0);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

static const struct {
    int feature;
    int flag;
    const char *why;
} nsflags[] = {
    {SBX_F_PIDNS, CLONE_NEWPID, "no pid namespace: tree kill through the cgroup"},
    {SBX_F_MNTNS, CLONE_NEWNS, "no mount namespace: the payload sees the host file system"},
    {SBX_F_NETNS, CLONE_NEWNET, "no network namespace: seccomp denies AF_INET/AF_INET6 sockets"},
    {SBX_F_IPCNS, CLONE_NEWIPC, "no ipc namespace: host SysV IPC visible"},
    {SBX_F_UTSNS, CLONE_NEWUTS, "no uts namespace: host hostname"},
    {SBX_F_CGROUPNS, CLONE_NEWCGROUP, "no cgroup namespace: host cgroup paths visible"},
};

int sbx_plan(struct sbx_config *c, struct sbx_status *st, bool probe, char *err, size_t errlen)
{
    c->clone_flags = 0;
    c->inet_filter = false;
    c->unix_only = c->landlock_scope = false;
    c->drop_outside_uid = false;
    if (c->unsandboxed) {
        for (int f = 0; f < SBX_F_COUNT; f++) {
            st->state[f] = SBX_OFF;
            snprintf(st->why[f], sizeof st->why[f], "--unsandboxed");
        }
        c->run_uid = c->outside_uid;
        return 0;
    }
    /* User namespace first: without it, as non-root, nothing else is possible. */
    bool userns = !sbx_disabled("userns") && (!probe || sbx_probe_clone(CLONE_NEWUSER) == 0);
    int base = userns ? CLONE_NEWUSER : 0;
    st->state[SBX_F_USERNS] = SBX_ON;
    if (!userns) {
        if (!c->is_root) {
            st->state[SBX_F_USERNS] = SBX_OFF;
            snprintf(st->why[SBX_F_USERNS], sizeof st->why[SBX_F_USERNS],
                     "user namespaces unavailable");
            snprintf(err, errlen,
                     "no user namespaces for a non-root caller: cannot isolate (fix: %s; or "
                     "pass --unsandboxed to run without isolation)",
                     sbx_features[SBX_F_USERNS].fix);
            return -1;
        }
        st->state[SBX_F_USERNS] = SBX_DEGRADED;
        snprintf(st->why[SBX_F_USERNS], sizeof st->why[SBX_F_USERNS],
                 "no user namespace: root-owned namespaces, payload runs as host uid %u",
                 (unsigned)(c->uid_base + SBX_INSIDE_UID));
        c->drop_outside_uid = true;
    }
    if (userns && c->is_root) {
        st->state[SBX_F_UIDMAP] = SBX_ON;
        c->run_uid = SBX_INSIDE_UID;
    } else if (userns) {
        st->state[SBX_F_UIDMAP] = SBX_DEGRADED;
        snprintf(st->why[SBX_F_UIDMAP], sizeof st->why[SBX_F_UIDMAP],
                 "not root: single mapping 0 %u 1, payload is inside-root without capabilities",
                 (unsigned)c->outside_uid);
        c->run_uid = 0;
    } else {
        st->state[SBX_F_UIDMAP] = SBX_OFF;
        snprintf(st->why[SBX_F_UIDMAP], sizeof st->why[SBX_F_UIDMAP], "no user namespace");
        c->run_uid = c->uid_base + SBX_INSIDE_UID;
    }
    c->clone_flags = base;
    for (size_t i = 0; i < sizeof nsflags / sizeof nsflags[0]; i++) {
        int f = nsflags[i].feature;
        bool ok = !sbx_disabled(sbx_features[f].name) &&
                  (!probe || sbx_probe_clone(base | nsflags[i].flag) == 0);
        st->state[f] = ok ? SBX_ON : (f == SBX_F_MNTNS ? SBX_OFF : SBX_DEGRADED);
        st->why[f][0] = 0;
        if (ok)
            c->clone_flags |= nsflags[i].flag;
        else
            snprintf(st->why[f], sizeof st->why[f], "%s%s", nsflags[i].why,
                     sbx_disabled(sbx_features[f].name) ? " (disabled by SWARMDECK_SANDBOX_DISABLE)"
                                                        : "");
    }
    c->inet_filter = !(c->clone_flags & CLONE_NEWNET);
    bool seccomp = !sbx_disabled("seccomp") && prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    st->state[SBX_F_SECCOMP] = seccomp ? SBX_ON : SBX_OFF;
    snprintf(st->why[SBX_F_SECCOMP], sizeof st->why[SBX_F_SECCOMP], "%s",
             seccomp ? "" : "seccomp unavailable: no syscall filter");
    if (!seccomp && c->inet_filter) {
        st->state[SBX_F_NETNS] = SBX_OFF;
        snprintf(st->why[SBX_F_NETNS], sizeof st->why[SBX_F_NETNS],
                 "no network namespace and no seccomp: host network reachable");
    }
    st->state[SBX_F_NNP] = SBX_ON;
    /* The writable /work is a tmpfs of --disk-mb inside the mount namespace; without one the
     * payload writes straight into the host directory. */
    st->state[SBX_F_DISK] = c->clone_flags & CLONE_NEWNS ? SBX_ON : SBX_OFF;
    snprintf(st->why[SBX_F_DISK], sizeof st->why[SBX_F_DISK], "%s",
             c->clone_flags & CLONE_NEWNS
                 ? ""
                 : "no mount namespace: /work is the host directory, no size or inode cap");
    return 0;
}

/* Write setgroups=deny and the uid/gid maps for pid. Returns 0 or -1 with errno set. */
int sbx_write_maps(const struct sbx_config *c, pid_t pid)
{
    char p[64], m[64];
    static const char *const files[] = {"setgroups", "uid_map", "gid_map"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, files[i]);
        if (i == 0)
            snprintf(m, sizeof m, "deny");
        else if (c->is_root)
            snprintf(m, sizeof m, "0 %u 65536\n", (unsigned)c->uid_base);
        else
            snprintf(m, sizeof m, "0 %u 1\n",
                     i == 1 ? (unsigned)c->outside_uid : (unsigned)c->outside_gid);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            if (i == 0 && errno == ENOENT)
                continue; /* kernels before 3.19 */
            return -1;
        }
        ssize_t n = write(fd, m, strlen(m));
        int e = errno;
        close(fd);
        if (n != (ssize_t)strlen(m)) {
            errno = n < 0 ? e : EIO;
            return -1;
        }
    }
    return 0;
}

/* A throwaway child in a new userns that becomes root of it and tries the seccomp filter. */
static int probe_child(struct sbx_config *c, bool filter)
{
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0)
        return -errno;
    int flags = c->clone_flags & CLONE_NEWUSER;
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        close(go[0]);
        close(go[1]);
        return -errno;
    }
    if (pid == 0) {
        char b;
        close(go[1]);
        if (read(go[0], &b, 1) != 1)
            _exit(2);
        if (flags && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
            _exit(3);
        if (filter && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                       prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &c->filter, 0, 0) < 0))
            _exit(4);
        if (filter && syscall(SYS_unshare, CLONE_NEWUSER) == 0)
            _exit(5); /* the filter did not deny unshare */
        _exit(0);
    }
    close(go[0]);
    int rc = flags ? sbx_write_maps(c, pid) : 0;
    int e = errno;
    if (write(go[1], "x", 1) != 1)
        rc = -1;
    close(go[1]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (rc < 0)
        return -e;
    return WIFEXITED(st) ? -WEXITSTATUS(st) : -ECHILD;
}

int sbx_probe(bool json)
{
    struct sbx_config c;
    struct sbx_status st;
    char err[256];
    memset(&c, 0, sizeof c);
    memset(&st, 0, sizeof st);
    c.is_root = geteuid() == 0;
    c.outside_uid = geteuid();
    c.outside_gid = getegid();
    c.uid_base = 100000;
    c.memory_mb = 64; /* pretend limits are wanted, to test them */
    c.cpus = 1;
    c.pids = 256;
    snprintf(c.id, sizeof c.id, "probe-%d", (int)getpid());
    int prc = sbx_plan(&c, &st, true, err, sizeof err);
    if (prc == 0) {
        int r = probe_child(&c, false);
        if (r < 0 && (c.clone_flags & CLONE_NEWUSER)) {
            st.state[SBX_F_UIDMAP] = SBX_OFF;
            snprintf(st.why[SBX_F_UIDMAP], sizeof st.why[0], "writing the uid/gid map failed (%d)",
                     r);
        }
        if (st.state[SBX_F_SECCOMP] == SBX_ON) {
            if (sbx_filter_build(&c, err, sizeof err) < 0 || probe_child(&c, true) < 0) {
                st.state[SBX_F_SECCOMP] = SBX_OFF;
                snprintf(st.why[SBX_F_SECCOMP], sizeof st.why[0], "loading the deny-list failed");
            }
        }
        int nnp = sbx_probe_clone(0); /* prctl is tested in the child above */
        (void)nnp;
    }
    if (!c.unsandboxed) {
        struct sbx_cgroup cg;
        sbx_cgroup_detect(&c, &st);
        if (sbx_cgroup_create(&cg, &c, &st, err, sizeof err) == 0)
            sbx_cgroup_destroy(&cg);
    }
    const char *lvl = prc < 0 ? "degraded" : sbx_level(&st);
    char mode[200], mq[260];
    bool shared = st.state[SBX_F_NETNS] == SBX_ON &&
                  sbx_netshare_possible(st.state[SBX_F_SECCOMP] == SBX_ON, mode, sizeof mode);
    if (st.state[SBX_F_NETNS] != SBX_ON)
        snprintf(mode, sizeof mode, "none: %s", st.why[SBX_F_NETNS]);
    if (json) {
        sbx_json_str(mq, sizeof mq, mode);
        printf("{\"level\":\"%s\",\"netnsMode\":\"%s\",\"netnsDetail\":%s,\"features\":{", lvl,
               shared                            ? "shared"
               : st.state[SBX_F_NETNS] == SBX_ON ? "per-sandbox"
                                                 : "none",
               mq);
    } else
        printf("%-10s %-9s %s\n", "FEATURE", "STATE", "DETAIL / FIX");
    for (int f = 0; f < SBX_F_COUNT; f++) {
        static const char *const names[] = {"on", "degraded", "off", "off"};
        char a[256], b[256], why[200];
        const char *w = st.state[f] == SBX_ON ? "" : st.why[f];
        const char *fix =
            st.state[f] == SBX_ON || st.state[f] == SBX_NOT_WANTED ? "" : sbx_features[f].fix;
        if (json) {
            sbx_json_str(a, sizeof a, w);
            sbx_json_str(b, sizeof b, fix);
            printf("%s\"%s\":{\"state\":\"%s\",\"why\":%s,\"fix\":%s}", f ? "," : "",
                   sbx_features[f].name, names[st.state[f]], a, b);
        } else {
            snprintf(why, sizeof why, "%s%s%s", w, fix[0] ? "; fix: " : "", fix);
            printf("%-10s %-9s %s\n", sbx_features[f].name, names[st.state[f]], why);
        }
    }
    if (json)
        printf("}}\n");
    else
        printf("netns mode: %s\nlevel: %s\n", mode, lvl);
    free(c.filter.filter);
    return strcmp(lvl, "strict") == 0 ? 0 : 1;
}
