/*
 * status.c: the isolation layers' table and how a sandbox's status is told: the feature
 * table, the SWARMDECK_SANDBOX_DISABLE test hook, the level ("strict", "standard",
 * "degraded"), one layer's state as text, and a JSON string writer.
 *
 * It is the bottom of the helper: cgroup.c, probe.c and main.c use it and it uses none of
 * them, so the helper's files call downward only (status < cgroup, filter, child < probe <
 * main).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

const struct sbx_feature_info sbx_features[SBX_F_COUNT] = {
    [SBX_F_USERNS] = {"userns", true,
                      "sysctl user.max_user_namespaces=15000 (and "
                      "kernel.unprivileged_userns_clone=1 on Debian kernels)"},
    [SBX_F_UIDMAP] = {"uidmap", false, "run the engine as root for a 65536-id range"},
    [SBX_F_PIDNS] = {"pidns", true, "kernel with CONFIG_PID_NS"},
    [SBX_F_MNTNS] = {"mntns", true, "allow mount namespaces (no seccomp/AppArmor block)"},
    [SBX_F_NETNS] = {"netns", true, "kernel with CONFIG_NET_NS; sysctl user.max_net_namespaces"},
    [SBX_F_IPCNS] = {"ipcns", false, "kernel with CONFIG_IPC_NS"},
    [SBX_F_UTSNS] = {"utsns", false, "kernel with CONFIG_UTS_NS"},
    [SBX_F_CGROUPNS] = {"cgroupns", false, "kernel with CONFIG_CGROUPS namespaces (>= 4.6)"},
    [SBX_F_SECCOMP] = {"seccomp", true, "kernel with CONFIG_SECCOMP_FILTER"},
    [SBX_F_NNP] = {"nnp", true, "kernel >= 3.5"},
    [SBX_F_CG_MEMORY] = {"cg-memory", true,
                         "mount the memory controller (v1 or v2) and run as "
                         "root or with a delegated cgroup"},
    [SBX_F_CG_CPU] = {"cg-cpu", false, "mount the cpu controller (v1 or v2)"},
    [SBX_F_CG_PIDS] = {"cg-pids", false, "mount the pids controller (v1 or v2)"},
    [SBX_F_CG_TRACK] = {"cg-track", false,
                        "mount cgroup2 (/sys/fs/cgroup or /sys/fs/cgroup/unified)"},
    [SBX_F_DISK] = {"disk-cap", true,
                    "allow mount namespaces, so /work is a size-limited tmpfs (--disk-mb)"},
};

bool sbx_disabled(const char *name)
{
    const char *d = getenv("SWARMDECK_SANDBOX_DISABLE");
    size_t n = strlen(name);
    for (const char *p = d; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncmp(p, name, n))
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

const char *sbx_level(const struct sbx_status *st)
{
    const char *lvl = "strict";
    for (int f = 0; f < SBX_F_COUNT; f++) {
        if (st->state[f] == SBX_ON || st->state[f] == SBX_NOT_WANTED)
            continue;
        if (sbx_features[f].essential)
            return "degraded";
        lvl = "standard";
    }
    return lvl;
}

const char *sbx_state_str(const struct sbx_status *st, int f, char *buf, size_t len)
{
    switch (st->state[f]) {
    case SBX_ON:
        snprintf(buf, len, "on");
        break;
    case SBX_DEGRADED:
        snprintf(buf, len, "degraded: %s", st->why[f]);
        break;
    default:
        snprintf(buf, len, "off: %s", st->why[f]);
    }
    return buf;
}

size_t sbx_json_str(char *buf, size_t len, const char *s)
{
    size_t o = 0;
    if (len < 3)
        return 0;
    buf[o++] = '"';
    for (; *s && o + 8 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch < 0x20) {
            o += (size_t)snprintf(buf + o, len - o, "\\u%04x", ch);
        } else {
            buf[o++] = (char)ch;
        }
    }
    buf[o++] = '"';
    buf[o] = 0;
    return o;
}
