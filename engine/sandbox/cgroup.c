/*
 * cgroup.c: per-sandbox cgroups for limits (memory, cpu, pids) and tracking (usage, tree kill).
 *
 * Layout: <hierarchy>/swarmdeck/sbx-<id>, one directory per hierarchy that is used. Each
 * controller goes to cgroup v2 when the v2 hierarchy (/sys/fs/cgroup or, on hybrid hosts,
 * /sys/fs/cgroup/unified) offers it, otherwise to its v1 hierarchy (/sys/fs/cgroup/<ctrl>).
 * The v2 directory is created even without controllers: it gives cpu.stat usage, cgroup.kill
 * and a target for CLONE_INTO_CGROUP at no cost.
 *
 * Liveness: the helper keeps every sbx-<id> directory open with an exclusive flock(2) for its
 * whole life. --sweep removes only directories whose lock it can take, so it never touches a
 * running sandbox, and a helper killed by SIGKILL leaves a directory that the next sweep
 * removes. Between a helper's mkdir and its flock a sweep could take the lock of the newborn
 * directory and remove it (the helper then failed to attach: seen under parallel test runs,
 * where every command start sweeps), so birth and sweep exclude each other on the parent
 * directory: a helper holds a shared flock on <hierarchy>/swarmdeck from mkdir to its own
 * flock (microseconds), a sweep an exclusive one while it scans that hierarchy.
 *
 * Memory: the limit goes to memory.limit_in_bytes and memory.memsw.limit_in_bytes (v1) or
 * memory.max with memory.swap.max=0 and memory.oom.group=1 (v2), so swap cannot evade it.
 * OOM kills are read back from memory.oom_control / memory.events, the peak from
 * memory.max_usage_in_bytes / memory.peak.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

#define CG_ROOT "/sys/fs/cgroup"

static const char *const v1name[SBX_CG_N] = {"memory", "cpu", "pids", NULL};
static const int feat[SBX_CG_N] = {SBX_F_CG_MEMORY, SBX_F_CG_CPU, SBX_F_CG_PIDS, SBX_F_CG_TRACK};

static int write_file(const char *dir, const char *file, const char *val)
{
    char p[320];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, val, strlen(val));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(val) ? 0 : -1;
}

static ssize_t read_file(const char *dir, const char *file, char *buf, size_t len)
{
    char p[320];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return n;
}

static int64_t read_num(const char *dir, const char *file)
{
    char b[64];
    if (!dir[0] || read_file(dir, file, b, sizeof b) <= 0)
        return -1;
    return strtoll(b, NULL, 10);
}

/* Value of "key N" in a flat keyed file, or -1. */
static int64_t read_key(const char *dir, const char *file, const char *key)
{
    char b[2048];
    if (!dir[0] || read_file(dir, file, b, sizeof b) <= 0)
        return -1;
    size_t kl = strlen(key);
    for (char *l = b; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, key, kl) && l[kl] == ' ')
            return strtoll(l + kl + 1, NULL, 10);
    return -1;
}

/* The v2 hierarchy: pure v2 at CG_ROOT, or the hybrid "unified" mount; NULL when absent. */
static const char *v2_root(void)
{
    if (access(CG_ROOT "/cgroup.controllers", F_OK) == 0)
        return CG_ROOT;
    if (access(CG_ROOT "/unified/cgroup.controllers", F_OK) == 0)
        return CG_ROOT "/unified";
    return NULL;
}

static bool v2_has(const char *ctrl)
{
    const char *r = v2_root();
    char b[512];
    if (!r || read_file(r, "cgroup.controllers", b, sizeof b) < 0)
        return false;
    size_t n = strlen(ctrl);
    for (char *p = b; (p = strstr(p, ctrl)); p += n)
        if ((p == b || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
            return true;
    return false;
}

/* Hierarchy root for slot i, or NULL when this host cannot provide it. */
static const char *hier(int i, char *buf, size_t len)
{
    const char *r = v2_root();
    if (i == SBX_CG_UNIFIED)
        return r;
    if (v2_has(v1name[i]))
        return r;
    snprintf(buf, len, CG_ROOT "/%s/cgroup.procs", v1name[i]);
    if (access(buf, W_OK) != 0)
        return NULL;
    snprintf(buf, len, CG_ROOT "/%s", v1name[i]);
    return buf;
}

void sbx_cgroup_detect(const struct sbx_config *c, struct sbx_status *st)
{
    static const char *const dis[SBX_CG_N] = {"cg-memory", "cg-cpu", "cg-pids", "cg-track"};
    for (int i = 0; i < SBX_CG_N; i++) {
        char b[128];
        int f = feat[i];
        bool have = hier(i, b, sizeof b) != NULL && !sbx_disabled(dis[i]);
        if (!c->is_root && have) {
            /* Non-root: usable only if we may create directories (delegation). */
            char p[160];
            snprintf(p, sizeof p, "%s", hier(i, b, sizeof b));
            have = access(p, W_OK) == 0;
        }
        st->state[f] = SBX_ON;
        st->why[f][0] = 0;
        if (i == SBX_CG_CPU && c->cpus <= 0) {
            st->state[f] = SBX_NOT_WANTED;
            snprintf(st->why[f], sizeof st->why[f], "not requested");
        } else if (!have) {
            static const char *const deg[SBX_CG_N] = {
                "no memory cgroup: limit through RLIMIT_AS (approximate), no oom report",
                "no cpu cgroup: no cpu limit",
                "no pids cgroup: RLIMIT_NPROC backstop only",
                "no cgroup v2 hierarchy: no cgroup usage tracking",
            };
            st->state[f] =
                (i == SBX_CG_MEMORY && c->memory_mb) || i == SBX_CG_PIDS ? SBX_DEGRADED : SBX_OFF;
            snprintf(st->why[f], sizeof st->why[f], "%s",
                     i == SBX_CG_MEMORY && !c->memory_mb ? "no memory cgroup: no accounting"
                                                         : deg[i]);
        }
    }
}

/* Write the limit of slot i (memory, cpu or pids; nothing for the unified slot) from c into
 * cg->path[i]. v2 says the slot lives in the unified hierarchy. Returns 0, or -1 with errno. */
static int write_limit(struct sbx_cgroup *cg, int i, const struct sbx_config *c, bool v2)
{
    char v[64];
    if (i == SBX_CG_MEMORY && c->memory_mb) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)c->memory_mb << 20);
        if (write_file(cg->path[i], v2 ? "memory.max" : "memory.limit_in_bytes", v) < 0)
            return -1;
        if (v2) {
            write_file(cg->path[i], "memory.swap.max", "0");
            write_file(cg->path[i], "memory.oom.group", "1");
        } else if (write_file(cg->path[i], "memory.memsw.limit_in_bytes", v) == 0) {
            cg->v1_memsw = true;
        }
    } else if (i == SBX_CG_CPU) {
        int64_t period = v2 ? 100000 : read_num(cg->path[i], "cpu.cfs_period_us");
        if (period <= 0)
            period = 100000;
        int64_t quota = (int64_t)(c->cpus * (double)period);
        if (quota < 1000)
            quota = 1000;
        if (v2)
            snprintf(v, sizeof v, "%lld %lld", (long long)quota, (long long)period);
        else
            snprintf(v, sizeof v, "%lld", (long long)quota);
        if (write_file(cg->path[i], v2 ? "cpu.max" : "cpu.cfs_quota_us", v) < 0)
            return -1;
    } else if (i == SBX_CG_PIDS) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)c->pids);
        if (write_file(cg->path[i], "pids.max", v) < 0)
            return -1;
    }
    return 0;
}

static int kill_all(const char *dir, bool is_v2);

/* Wait, killing what is in it, until dir has no process: 0, or -1 after ~0.5 s. */
static int make_empty(const char *dir, bool v2)
{
    char b[64];
    for (int i = 0; i < 250; i++) {
        ssize_t n = read_file(dir, "cgroup.procs", b, sizeof b);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        kill_all(dir, v2);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* A reused slot directory of slot i, locked and empty: reset what the last sandbox left. v2 says
 * it is in the unified hierarchy. Returns 0, -1 (not reusable here). */
static int reset_dir(struct sbx_cgroup *cg, int i, bool v2)
{
    const char *d = cg->path[i];
    if (make_empty(d, v2) < 0)
        return -1;
    if (i == SBX_CG_MEMORY) {
        if (v2)
            return -1;                                      /* memory.peak has no global reset */
        write_file(d, "memory.memsw.limit_in_bytes", "-1"); /* lifted first: memsw >= mem */
        if (write_file(d, "memory.limit_in_bytes", "-1") < 0 ||
            write_file(d, "memory.max_usage_in_bytes", "0") < 0)
            return -1;
        write_file(d, "memory.memsw.max_usage_in_bytes", "0");
        write_file(d, "memory.failcnt", "0");
        write_file(d, "memory.memsw.failcnt", "0");
        cg->base_oom = read_key(d, "memory.oom_control", "oom_kill");
    } else if (i == SBX_CG_CPU) {
        if (write_file(d, v2 ? "cpu.max" : "cpu.cfs_quota_us", v2 ? "max" : "-1") < 0)
            return -1;
    } else if (i == SBX_CG_UNIFIED) {
        cg->base_cpu_us = read_key(d, "cpu.stat", "usage_usec");
    }
    if (cg->base_oom < 0 || cg->base_cpu_us < 0)
        return -1;
    return 0;
}

/* sbx_cgroup_create and sbx_cgroup_take: directories sbx-<name>; slot says an existing one is
 * reused (reset_dir) rather than refused. Returns 0, -1 with err, or -2 (slot: not reusable,
 * everything undone). */
static int create_in(struct sbx_cgroup *cg, const struct sbx_config *c, struct sbx_status *st,
                     const char *name, bool slot, char *err, size_t errlen)
{
    for (int i = 0; i < SBX_CG_N; i++) {
        cg->path[i][0] = 0;
        cg->dirfd[i] = -1;
    }
    cg->v1_memsw = false;
    cg->slot[0] = 0;
    cg->base_cpu_us = cg->base_oom = 0;
    bool reused[SBX_CG_N] = {false};
    for (int i = 0; i < SBX_CG_N; i++) {
        char b[128], parent[160];
        const char *h;
        if (st->state[feat[i]] != SBX_ON || !(h = hier(i, b, sizeof b)))
            continue;
        /* Controllers that live in v2 share the unified directory. */
        int same = -1;
        for (int j = 0; j < i; j++)
            if (cg->path[j][0] && !strncmp(cg->path[j], h, strlen(h)) &&
                cg->path[j][strlen(h)] == '/')
                same = j;
        snprintf(parent, sizeof parent, "%s/swarmdeck", h);
        if (same >= 0) {
            /* same != i: two distinct slots of one array. */
            memcpy(cg->path[i], cg->path[same], sizeof cg->path[i]);
            if (reused[same] && reset_dir(cg, i, h == v2_root()) < 0)
                goto unusable;
        } else {
            if (mkdir(parent, 0755) < 0 && errno != EEXIST)
                goto degrade;
            if (h == v2_root() && i != SBX_CG_UNIFIED) {
                char en[16];
                snprintf(en, sizeof en, "+%s", v1name[i]);
                write_file(h, "cgroup.subtree_control", en);
                write_file(parent, "cgroup.subtree_control", en);
            }
            snprintf(cg->path[i], sizeof cg->path[i], "%s/sbx-%s", parent, name);
            int birth = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (birth >= 0)
                flock(birth, LOCK_SH); /* no sweep between mkdir and our flock */
            if (mkdir(cg->path[i], 0755) < 0) {
                int e = errno;
                if (e == EEXIST && slot) {
                    /* The slot's directory from an earlier sandbox: ours once locked. */
                    cg->dirfd[i] = open(cg->path[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                    bool ok = cg->dirfd[i] >= 0 && flock(cg->dirfd[i], LOCK_EX | LOCK_NB) == 0;
                    if (birth >= 0)
                        close(birth);
                    reused[i] = true;
                    if (!ok || reset_dir(cg, i, h == v2_root()) < 0)
                        goto unusable;
                    if (write_limit(cg, i, c, h == v2_root()) < 0)
                        goto unusable;
                    continue;
                }
                if (birth >= 0)
                    close(birth);
                errno = e;
                if (errno == EEXIST) {
                    snprintf(err, errlen, "sandbox id %s is in use (%s exists; --sweep if stale)",
                             c->id, cg->path[i]);
                    cg->path[i][0] = 0;
                    sbx_cgroup_destroy(cg);
                    return -1;
                }
                cg->path[i][0] = 0;
                goto degrade;
            }
            cg->dirfd[i] = open(cg->path[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (cg->dirfd[i] >= 0)
                flock(cg->dirfd[i], LOCK_EX | LOCK_NB);
            if (birth >= 0)
                close(birth); /* releases the shared lock */
        }
        if (write_limit(cg, i, c, h == v2_root()) < 0)
            goto degrade;
        continue;
    degrade:;
        int e = errno;
        if (slot)
            goto unusable; /* a plain create reports the degradation */
        if (cg->path[i][0] && same < 0) {
            rmdir(cg->path[i]);
            if (cg->dirfd[i] >= 0)
                close(cg->dirfd[i]);
            cg->dirfd[i] = -1;
        }
        cg->path[i][0] = 0;
        st->state[feat[i]] = i == SBX_CG_MEMORY && c->memory_mb ? SBX_DEGRADED : SBX_OFF;
        if (i == SBX_CG_PIDS)
            st->state[feat[i]] = SBX_DEGRADED;
        snprintf(st->why[feat[i]], sizeof st->why[feat[i]], "cannot set up %s cgroup: %s%s",
                 i == SBX_CG_UNIFIED ? "v2" : v1name[i], strerror(e),
                 i == SBX_CG_MEMORY && c->memory_mb ? "; limit through RLIMIT_AS" : "");
    }
    if (c->memory_mb && !cg->path[SBX_CG_MEMORY][0])
        ((struct sbx_config *)c)->rlimit_as = true;
    if (cg->path[SBX_CG_MEMORY][0] && c->memory_mb && !cg->v1_memsw &&
        strcmp(cg->path[SBX_CG_MEMORY], cg->path[SBX_CG_UNIFIED]) != 0 &&
        access("/proc/swaps", R_OK) == 0) {
        /* No memsw files: swap is off or unaccounted. Only a problem if swap exists. */
        char b[256];
        int fd = open("/proc/swaps", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, b, sizeof b - 1) : 0;
        if (fd >= 0)
            close(fd);
        if (n > 0 && memchr(b, '\n', (size_t)n) && strchr(b, '\n') + 1 < b + n) {
            st->state[SBX_F_CG_MEMORY] = SBX_DEGRADED;
            snprintf(st->why[SBX_F_CG_MEMORY], sizeof st->why[SBX_F_CG_MEMORY],
                     "no memory.memsw (swap accounting off): swap can exceed the limit");
        }
    }
    if (slot)
        snprintf(cg->slot, sizeof cg->slot, "%s", name);
    return 0;
unusable:
    /* Undo: directories made here go, reused ones stay (unlocked) for a later try or --sweep. */
    for (int i = 0; i < SBX_CG_N; i++) {
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= cg->path[j][0] && !strcmp(cg->path[j], cg->path[i]);
        if (cg->path[i][0] && !dup && !reused[i])
            rmdir(cg->path[i]);
        if (cg->dirfd[i] >= 0)
            close(cg->dirfd[i]);
        cg->dirfd[i] = -1;
        cg->path[i][0] = 0;
    }
    cg->v1_memsw = false;
    cg->base_cpu_us = cg->base_oom = 0;
    return -2;
}

int sbx_cgroup_create(struct sbx_cgroup *cg, const struct sbx_config *c, struct sbx_status *st,
                      char *err, size_t errlen)
{
    return create_in(cg, c, st, c->id, false, err, errlen);
}

int sbx_cgroup_take(struct sbx_cgroup *cg, const struct sbx_config *c, struct sbx_status *st,
                    char *err, size_t errlen)
{
    struct sbx_status saved = *st;
    int rc = create_in(cg, c, st, c->slot, true, err, errlen);
    if (rc == -2)
        *st = saved;
    return rc;
}

int sbx_cgroup_job(struct sbx_cgroup *cg, struct sbx_config *c, struct sbx_status *st, char *err,
                   size_t errlen)
{
    const char *r = v2_root();
    char old[SBX_CG_N][300];
    memcpy(old, cg->path, sizeof old);
    for (int i = 0; i < SBX_CG_N; i++) {
        if (!old[i][0])
            continue;
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= !strcmp(old[j], old[i]);
        bool v2 = r && !strncmp(old[i], r, strlen(r)) && old[i][strlen(r)] == '/';
        if (v2)
            continue; /* cgroup2 directories cannot be renamed: it keeps the pooled name */
        char *slash = strrchr(old[i], '/'), to[300];
        snprintf(to, sizeof to, "%.*s/sbx-%s", (int)(slash - old[i]), old[i], c->id);
        if (!dup && rename(old[i], to) < 0) {
            if (errno == EEXIST || errno == ENOTEMPTY)
                snprintf(err, errlen, "sandbox id %s is in use (%s exists; --sweep if stale)",
                         c->id, to);
            else
                snprintf(err, errlen, "rename %s: %s", old[i], strerror(errno));
            return -1;
        }
        memcpy(cg->path[i], to, sizeof cg->path[i]);
    }
    for (int i = 0; i < SBX_CG_N; i++) {
        bool v2 = r && !strncmp(cg->path[i], r, strlen(r)) && cg->path[i][strlen(r)] == '/';
        if (!cg->path[i][0] || i == SBX_CG_UNIFIED)
            continue;
        if (i == SBX_CG_CPU && c->cpus <= 0) {
            /* Made for a possible limit; this job wants none. */
            if (write_file(cg->path[i], v2 ? "cpu.max" : "cpu.cfs_quota_us", v2 ? "max" : "-1") <
                0) {
                snprintf(err, errlen, "cannot lift the cpu limit in %s: %s", cg->path[i],
                         strerror(errno));
                return -1;
            }
            st->state[SBX_F_CG_CPU] = SBX_NOT_WANTED;
            snprintf(st->why[SBX_F_CG_CPU], sizeof st->why[SBX_F_CG_CPU], "not requested");
            continue;
        }
        if (write_limit(cg, i, c, v2) < 0) {
            snprintf(err, errlen, "cannot set the %s limit in %s: %s", v1name[i], cg->path[i],
                     strerror(errno));
            return -1;
        }
    }
    if (c->memory_mb && !cg->path[SBX_CG_MEMORY][0]) {
        c->rlimit_as = true;
        st->state[SBX_F_CG_MEMORY] = SBX_DEGRADED;
        snprintf(st->why[SBX_F_CG_MEMORY], sizeof st->why[SBX_F_CG_MEMORY], "%s",
                 "no memory cgroup: limit through RLIMIT_AS (approximate), no oom report");
    }
    return 0;
}

int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid, bool unified_too, char *err, size_t errlen)
{
    char v[24];
    snprintf(v, sizeof v, "%d", (int)pid);
    for (int i = 0; i < SBX_CG_N; i++) {
        if (!cg->path[i][0] || (i == SBX_CG_UNIFIED && !unified_too))
            continue;
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= !strcmp(cg->path[j], cg->path[i]);
        if (i != SBX_CG_UNIFIED && !strcmp(cg->path[i], cg->path[SBX_CG_UNIFIED]) && !unified_too)
            continue; /* joined through CLONE_INTO_CGROUP */
        if (!dup && write_file(cg->path[i], "cgroup.procs", v) < 0) {
            snprintf(err, errlen, "attach to %s: %s", cg->path[i], strerror(errno));
            return -1;
        }
    }
    return 0;
}

void sbx_cgroup_read(const struct sbx_cgroup *cg, struct sbx_usage *u)
{
    const char *m = cg->path[SBX_CG_MEMORY];
    bool mv2 = m[0] && !strcmp(m, cg->path[SBX_CG_UNIFIED]);
    int64_t us = read_key(cg->path[SBX_CG_UNIFIED], "cpu.stat", "usage_usec");
    u->cpu_ms = us >= 0 ? (us - cg->base_cpu_us) / 1000 : -1; /* base: a reused slot's */
    int64_t b = read_num(m, mv2 ? "memory.current" : "memory.usage_in_bytes");
    u->mem_kb = b >= 0 ? b / 1024 : -1;
    b = read_num(m, mv2 ? "memory.peak" : "memory.max_usage_in_bytes");
    u->mem_peak_kb = b >= 0 ? b / 1024 : -1;
    u->pids = read_num(cg->path[SBX_CG_PIDS], "pids.current");
    int64_t k = read_key(m, mv2 ? "memory.events" : "memory.oom_control", "oom_kill");
    u->oom = k > cg->base_oom;
}

/* Kill every process in dir; returns how many were signalled. */
static int kill_all(const char *dir, bool is_v2)
{
    int n = 0;
    char b[4096];
    if (is_v2 && write_file(dir, "cgroup.kill", "1") == 0) {
        if (read_file(dir, "cgroup.procs", b, sizeof b) > 0)
            for (char *p = b; *p; p++)
                n += *p == '\n';
        return n;
    }
    /* v1: no atomic kill. Processes inside a pid namespace die with its init, so a few
     * rounds converge even against a fork loop (pids.max bounds it). */
    for (int round = 0; round < 50; round++) {
        if (read_file(dir, "cgroup.procs", b, sizeof b) <= 0)
            break;
        int k = 0;
        for (char *p = b; *p;) {
            pid_t pid = (pid_t)strtol(p, &p, 10);
            if (pid > 0 && kill(pid, SIGKILL) == 0)
                k++;
            while (*p == '\n')
                p++;
        }
        if (!k)
            break;
        n += k;
    }
    return n;
}

/* rmdir, retrying for up to ~0.5 s while the last processes are being reaped. */
static int rmdir_retry(const char *dir)
{
    for (int i = 0; i < 250; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return -1;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int sbx_cgroup_destroy(struct sbx_cgroup *cg)
{
    const char *r = v2_root();
    int rc = 0;
    for (int i = 0; i < SBX_CG_N; i++) {
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= cg->path[j][0] && !strcmp(cg->path[j], cg->path[i]);
        if (cg->path[i][0] && !dup) {
            bool v2 = r && !strncmp(cg->path[i], r, strlen(r)) && cg->path[i][strlen(r)] == '/';
            if (rmdir(cg->path[i]) < 0 && errno == EBUSY) {
                kill_all(cg->path[i], v2);
                if (rmdir_retry(cg->path[i]) < 0)
                    rc = -1;
            }
        }
    }
    for (int i = 0; i < SBX_CG_N; i++) {
        if (cg->dirfd[i] >= 0)
            close(cg->dirfd[i]);
        cg->dirfd[i] = -1;
        cg->path[i][0] = 0;
    }
    return rc;
}

unsigned long long sbx_proc_start(int pid)
{
    char p[64], b[1024];
    snprintf(p, sizeof p, "/proc/%d", pid);
    if (read_file(p, "stat", b, sizeof b) <= 0)
        return 0;
    char *s = strrchr(b, ')'); /* the command may hold spaces and parentheses */
    if (!s)
        return 0;
    for (int field = 2; field < 22 && s; field++)
        s = strchr(s + 1, ' ');
    return s ? strtoull(s + 1, NULL, 10) : 0;
}

/* A free slot (sbx-slot.PID.START.N, unlocked between two sandboxes) of a master that still
 * lives: not stale. */
static bool slot_master_alive(const char *name)
{
    int pid;
    unsigned long long start;
    if (sscanf(name, "sbx-slot.%d.%llu.", &pid, &start) != 2 || pid <= 0)
        return false;
    return start != 0 && sbx_proc_start(pid) == start;
}

int sbx_cgroup_keep(struct sbx_cgroup *cg)
{
    const char *r = v2_root();
    if (!cg->slot[0])
        return -1;
    for (int i = 0; i < SBX_CG_N; i++) {
        bool v2 = r && !strncmp(cg->path[i], r, strlen(r)) && cg->path[i][strlen(r)] == '/';
        if (cg->path[i][0] && make_empty(cg->path[i], v2) < 0)
            return -1;
    }
    /* Back to the slot's name (sbx_cgroup_job renamed the v1 ones to the job's id). */
    for (int i = 0; i < SBX_CG_N; i++) {
        if (!cg->path[i][0])
            continue;
        char *slash = strrchr(cg->path[i], '/'), to[300];
        snprintf(to, sizeof to, "%.*s/sbx-%s", (int)(slash - cg->path[i]), cg->path[i], cg->slot);
        if (strcmp(to, cg->path[i]) != 0) {
            if (rename(cg->path[i], to) < 0)
                return -1;
            for (int j = SBX_CG_N - 1; j >= i; j--) /* slots sharing the directory */
                if (j == i || !strcmp(cg->path[j], cg->path[i]))
                    memcpy(cg->path[j], to, sizeof to);
        }
    }
    for (int i = 0; i < SBX_CG_N; i++) {
        if (cg->dirfd[i] >= 0)
            close(cg->dirfd[i]); /* the lock goes with it */
        cg->dirfd[i] = -1;
        cg->path[i][0] = 0;
    }
    cg->slot[0] = 0;
    cg->base_cpu_us = cg->base_oom = 0;
    return 0;
}

int sbx_cgroup_remove_slot(const char *slot)
{
    const char *r = v2_root();
    char roots[SBX_CG_N][48];
    int nroots = 0, rc = 0;
    for (int i = 0; i < 3; i++)
        snprintf(roots[nroots++], sizeof roots[0], CG_ROOT "/%s", v1name[i]);
    if (r)
        snprintf(roots[nroots++], sizeof roots[0], "%s", r);
    for (int h = 0; h < nroots; h++) {
        char parent[320], p[400];
        snprintf(parent, sizeof parent, "%s/swarmdeck", roots[h]);
        snprintf(p, sizeof p, "%s/sbx-%s", parent, slot);
        int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
            continue;
        flock(pfd, LOCK_EX); /* as a sweep: no birth meanwhile */
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                kill_all(p, r && !strcmp(roots[h], r));
                if (rmdir_retry(p) < 0)
                    rc = -1;
            } else {
                rc = -1; /* a live helper holds it: it removes it (or a sweep does) */
            }
            close(fd);
        }
        close(pfd);
    }
    return rc;
}

int sbx_sweep(bool json)
{
    const char *r = v2_root();
    int removed = 0, live = 0, failed = 0;
    char roots[SBX_CG_N + 1][48];
    int nroots = 0;
    for (int i = 0; i < 3; i++)
        snprintf(roots[nroots++], sizeof roots[0], CG_ROOT "/%s", v1name[i]);
    if (r)
        snprintf(roots[nroots++], sizeof roots[0], "%s", r);
    if (json)
        printf("{\"removed\":[");
    for (int h = 0; h < nroots; h++) {
        char parent[320];
        snprintf(parent, sizeof parent, "%s/swarmdeck", roots[h]);
        DIR *d = opendir(parent);
        if (!d)
            continue;
        /* Exclusive against births (see the top): a directory seen here is locked by
         * its helper already, or stale. */
        flock(dirfd(d), LOCK_EX);
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strncmp(de->d_name, "sbx-", 4) != 0 || de->d_type != DT_DIR)
                continue;
            if (slot_master_alive(de->d_name)) {
                live++; /* a live pool master's free slot */
                continue;
            }
            char p[600];
            snprintf(p, sizeof p, "%s/%s", parent, de->d_name);
            int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0)
                continue;
            if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                live++; /* a running helper holds it */
                close(fd);
                continue;
            }
            bool v2 = r && !strcmp(roots[h], r);
            int killed = kill_all(p, v2);
            int rc = rmdir_retry(p);
            close(fd);
            if (rc < 0) {
                failed++;
                fprintf(stderr, "swarmdeck-sandbox: cannot remove %s: %s\n", p, strerror(errno));
                continue;
            }
            if (json) {
                char q[512];
                sbx_json_str(q, sizeof q, p);
                printf("%s{\"path\":%s,\"killed\":%d}", removed ? "," : "", q, killed);
            } else {
                printf("removed %s (killed %d process%s)\n", p, killed, killed == 1 ? "" : "es");
            }
            removed++;
        }
        closedir(d);
    }
    if (json)
        printf("],\"live\":%d,\"failed\":%d}\n", live, failed);
    else
        printf("sweep: %d removed, %d live skipped, %d failed\n", removed, live, failed);
    return failed ? 1 : 0;
}
