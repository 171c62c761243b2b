/*
 * sandbox.h: internals shared by the files of the swarmdeck-sandbox helper binary.
 *
 * The helper is a small, single-threaded program that the engine starts with posix_spawn for
 * every sandbox (docs/sandbox.md has the command-line contract). It is split by concern:
 *
 *   main.c    options table, main(), the monitor loop (poll on signalfd, lifeline, report pipes),
 *             the JSON status events, and the --pool mode (prepare, then wait for one job)
 *   child.c   everything that runs inside the new namespaces: the root file system, the init
 *             (PID 1) and the payload's final privilege drop, seccomp and execve
 *   cgroup.c  v1 memory/cpu/pids and v2 (unified) cgroups: create, limit, attach, read, kill,
 *             remove, and --sweep of stale ones
 *   filter.c  the seccomp deny-list, compiled once to classic BPF in the helper
 *   master.c  --pool-master: one exec per engine that forks each pool member (a zygote), and
 *             its reusable cgroup slots
 *   netshare.c the opt-in shared empty network namespace and Landlock scoping
 *   probe.c   the plan for one sandbox and --probe: what is on, degraded or off and why
 *   status.c  the isolation feature table, the level, a layer's state as text, JSON strings
 *
 * Files call downward only: status.c < cgroup.c, filter.c, child.c < probe.c < main.c.
 *
 * Invariants: the helper never runs the payload without the isolation the feature table
 * reports; every layer that is not fully on is reported with a reason; all cgroups the helper
 * creates are removed before it exits (or found by --sweep after a crash). Single-threaded:
 * nothing here takes locks.
 */
#ifndef SD_SANDBOX_H
#define SD_SANDBOX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SBX_EXIT_TIMEOUT 124
#define SBX_EXIT_SETUP   125
#define SBX_EXIT_NOEXEC  126
#define SBX_EXIT_NOENT   127

#define SBX_INSIDE_UID 1000
#define SBX_MAX_BINDS  32

/* Isolation layers, in the order they are reported. */
enum sbx_feature {
    SBX_F_USERNS,
    SBX_F_UIDMAP,
    SBX_F_PIDNS,
    SBX_F_MNTNS,
    SBX_F_NETNS,
    SBX_F_IPCNS,
    SBX_F_UTSNS,
    SBX_F_CGROUPNS,
    SBX_F_SECCOMP,
    SBX_F_NNP,
    SBX_F_CG_MEMORY,
    SBX_F_CG_CPU,
    SBX_F_CG_PIDS,
    SBX_F_CG_TRACK,
    SBX_F_DISK,
    SBX_F_COUNT
};

enum sbx_state {
    SBX_ON,
    SBX_DEGRADED,   /* works with a weaker substitute */
    SBX_OFF,        /* unavailable and no substitute */
    SBX_NOT_WANTED, /* not requested (e.g. no --memory-mb): "off: not requested", not a degradation
                     */
};

struct sbx_feature_info {
    const char *name;
    bool essential;  /* a degradation makes the level "degraded" instead of "standard" */
    const char *fix; /* what the user can do when it is not on */
};

extern const struct sbx_feature_info sbx_features[SBX_F_COUNT];

struct sbx_status {
    enum sbx_state state[SBX_F_COUNT];
    char why[SBX_F_COUNT][160];
};

struct sbx_bind {
    const char *src;
    const char *dst;
};

struct sbx_config {
    char id[65];
    const char *workdir;
    struct sbx_bind binds[SBX_MAX_BINDS];
    int nbinds;
    uint64_t timeout_ms;
    uint64_t grace_ms;
    uint64_t memory_mb;
    double cpus;
    uint64_t pids;
    uint64_t disk_mb;     /* size cap of the writable /work (a tmpfs), default 256 */
    uint64_t disk_inodes; /* inode cap of /work and /tmp, default 65536 */
    int nice;
    uid_t uid_base;
    bool uid_base_set;
    int status_fd;
    int lifeline_fd;
    uint64_t sample_ms;
    bool strict;
    bool unsandboxed;
    bool pool;         /* --pool: prepare up to the go byte, then take one job from control_fd */
    int control_fd;    /* --control-fd: where a pooled helper reads its job (-1 otherwise) */
    bool pool_master;  /* --pool-master: fork pool members on request (master.c) */
    char slot[48];     /* pool member: its master's reusable cgroup slot ("" = none, master.c) */
    int slot_alive_fd; /* pool member: read end that hangs up when the master is gone, or -1 */
    int slot_busy_fd;  /* pool member: write end the master watches for the slot, or -1 */
    char **argv;       /* PROGRAM [ARG...], NULL-terminated */

    /* Decided by the helper before clone. */
    bool is_root;
    uid_t outside_uid; /* the helper's uid/gid, for the non-root single mapping */
    gid_t outside_gid;
    int clone_flags;       /* namespace flags actually used */
    bool inet_filter;      /* netns missing: seccomp denies AF_INET/AF_INET6 sockets */
    bool unix_only;        /* shared netns: seccomp denies every socket family but AF_UNIX */
    bool landlock_scope;   /* shared netns: the payload scopes abstract unix sockets, signals */
    int shared_netns_fd;   /* pool member: the master's shared empty netns, or -1 */
    bool netns_joined;     /* this helper setns()ed into it */
    bool rlimit_as;        /* memory limit through RLIMIT_AS (no memory cgroup) */
    uid_t run_uid;         /* uid/gid the payload runs as, inside its user namespace */
    bool drop_outside_uid; /* no userns as root: drop to uid_base+1000 on the host */
    struct sock_fprog filter;
};

/* child.c: the body of the cloned process (PID 1 of the new pid namespace). release_fd is
 * the read end of the go pipe, report_fd the CLOEXEC write end of the exec-status pipe,
 * result_fd the write end the init reports the payload's wait status on. Never returns. */
void sbx_child_main(struct sbx_config *c, int release_fd, int report_fd, int result_fd)
    __attribute__((noreturn));

/* master.c: --pool-master. Serves member requests on c->control_fd (a SOCK_SEQPACKET socket)
 * until EOF or a lifeline hang-up, then exits 0; never returns in the master. Returns 0 only in
 * a freshly forked member, with c->id set to the member's id, c->status_fd 3, c->control_fd 5
 * and pool_master false: the caller goes on as a pooled helper (`--pool`). */
int sbx_master_run(struct sbx_config *c);

/* Pool mode: a job's largest size on the control fd, and its largest argument count. */
#define SBX_JOB_MAX     (128 * 1024)
#define SBX_JOB_MAXARGS 4096

/* Pool mode: what the helper sends its waiting init on the go pipe when the job has come: this
 * header, then len bytes: argc NUL-terminated argv strings, then nbinds pairs of NUL-terminated
 * source and destination paths. Replaces the second go byte of a cold start. */
struct sbx_job_hdr {
    char id[65];
    char workdir[4096];
    uint64_t timeout_ms, disk_mb, pids, memory_mb;
    int rlimit_as;
    int argc, nbinds;
    uint32_t len;
};

/* Messages on the exec-status pipe: a setup or exec failure, one fixed-size record. */
struct sbx_report {
    int kind; /* SBX_REP_SETUP or SBX_REP_EXEC */
    int err;  /* errno */
    char what[96];
};
enum { SBX_REP_SETUP = 1, SBX_REP_EXEC = 2 };

/* What the init sends on the result pipe when the payload has exited: its wait status and
 * whether /work ever reached its size (SBX_DISK_BYTES) or inode (SBX_DISK_INODES) cap. */
struct sbx_result {
    int status;
    int disk_full;
};
enum { SBX_DISK_BYTES = 1, SBX_DISK_INODES = 2 };

/* pause.c: a running sandbox paused or resumed (SIGUSR1/SIGUSR2 to the helper). init is the
 * sandbox's init as the helper sees it; pid_ns whether it is PID 1 of its own namespace. */
struct sbx_pause {
    pid_t init;
    bool pid_ns;
    bool paused;
    uint64_t left_ns; /* the timeout's time left while paused, 0 = none */
};
/* Stop (on) or continue every process of the sandbox, moving the timeout deadline *term_at
 * (monotonic ns, 0 = none) so that only running time counts, and report it on status_fd (if
 * >= 0). A request for the state it is in does nothing. Cannot fail. */
void sbx_pause_set(struct sbx_pause *p, bool on, uint64_t *term_at, int status_fd);

/* filter.c: build the deny-list as classic BPF into c->filter (heap memory owned by c).
 * Returns 0, or -1 with a message in err (state unchanged). */
int sbx_filter_build(struct sbx_config *c, char *err, size_t errlen);

/* filter_prebuilt.c: the same program as sbx_filter_build, compiled at build time (filter_gen.c)
 * and copied into c->filter (heap memory owned by c): what every sandbox start uses. Returns 0,
 * or -1 with a message in err (out of memory). */
int sbx_filter_prebuilt(struct sbx_config *c, char *err, size_t errlen);

/* cgroup.c */
struct sbx_cgroup {
    char path[4][300]; /* memory, cpu, pids, unified; "" when not used */
    int dirfd[4];      /* flocked for the helper's lifetime so --sweep skips live sandboxes */
    bool v1_memsw;
    char slot[48];       /* a reusable slot's name (sbx_cgroup_take), "" otherwise */
    int64_t base_cpu_us; /* cpu.stat usage_usec when a reused slot was taken (else 0) */
    int64_t base_oom;    /* oom_kill count when a reused slot was taken (else 0) */
};
enum { SBX_CG_MEMORY, SBX_CG_CPU, SBX_CG_PIDS, SBX_CG_UNIFIED, SBX_CG_N };

/* Which controllers this host offers (writable and mounted); fills st for the cgroup
 * features. Does not create anything. */
void sbx_cgroup_detect(const struct sbx_config *c, struct sbx_status *st);

/* Create swarmdeck/sbx-<id> in each usable hierarchy and write the limits. Controllers that
 * fail are reported in st and skipped. Returns 0, or -1 with err filled when nothing sane can
 * be done (e.g. the cgroup already exists: a duplicate id). */
int sbx_cgroup_create(struct sbx_cgroup *cg, const struct sbx_config *c, struct sbx_status *st,
                      char *err, size_t errlen);

/* Pool mode, when the job has come: rename every v1 cgroup directory to swarmdeck/sbx-<c->id>
 * (a duplicate id fails as in sbx_cgroup_create; cgroup2 refuses renames, so a v2 directory
 * keeps the pooled helper's name) and write the job's limits (memory, pids, cpu: a pooled
 * helper always made its cpu cgroup, and lifts its quota when the job wants none). A memory limit
 * without a memory cgroup sets c->rlimit_as and is reported degraded in st. Returns 0, or -1 with
 * err filled. */
int sbx_cgroup_job(struct sbx_cgroup *cg, struct sbx_config *c, struct sbx_status *st, char *err,
                   size_t errlen);

/* Pool member of a master (c->slot set): like sbx_cgroup_create, but the directories are named
 * swarmdeck/sbx-<c->slot> and, when they exist from an earlier sandbox of the same slot, are
 * reused instead of made: each is locked, made empty (whatever is left in it killed, waited for)
 * and reset (v1 memory: limits lifted, max_usage and failcnt zeroed; cpu quota lifted; the cpu
 * usage and oom_kill counters taken as the baseline sbx_cgroup_read subtracts), then the limits
 * are written as sbx_cgroup_create writes them. Not done where the memory controller is in
 * cgroup v2 (memory.peak cannot be reset there before 6.12's per-fd reset): returns -2. Returns
 * 0; -2 when the slot cannot be used (nothing taken, cg zeroed: the caller falls back to
 * sbx_cgroup_create); or -1 with err filled. */
int sbx_cgroup_take(struct sbx_cgroup *cg, const struct sbx_config *c, struct sbx_status *st,
                    char *err, size_t errlen);

/* The end of a sandbox in a taken slot: kill what is left, wait until every directory is empty,
 * rename the v1 directories back to sbx-<slot>, and release them (unlocked, still there) for
 * the master's next member. Returns 0 (cg zeroed), or -1 when it could not (cg as it was, the
 * caller then calls sbx_cgroup_destroy). */
int sbx_cgroup_keep(struct sbx_cgroup *cg);

/* Start time of process pid (field 22 of /proc/PID/stat, clock ticks since boot), or 0 when it
 * is gone. With the pid it names a process for good: slot names carry both (master.c). */
unsigned long long sbx_proc_start(int pid);

/* The master at its exit: remove the slot's directories (sbx-<slot> in every hierarchy), killing
 * whatever is in them, unless a live helper holds one. Returns 0, -1 when one was left. */
int sbx_cgroup_remove_slot(const char *slot);

/* Move pid into every created v1 cgroup (the unified one is joined by CLONE_INTO_CGROUP, or
 * here when that was not possible). Returns 0 or -1 with err filled. */
int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid, bool unified_too, char *err, size_t errlen);

struct sbx_usage {
    int64_t cpu_ms, mem_kb, mem_peak_kb, pids;
    bool oom;
};
/* Read usage counters; fields are -1 when unknown. Can't fail. */
void sbx_cgroup_read(const struct sbx_cgroup *cg, struct sbx_usage *u);

/* Kill everything left in the cgroups and remove them (retrying briefly while populated).
 * Safe to call on a partly created or zeroed struct, and twice. Returns 0 when every
 * directory is gone (so no process of the sandbox still runs), -1 otherwise. */
int sbx_cgroup_destroy(struct sbx_cgroup *cg);

/* --sweep: remove stale sbx-* cgroups not locked by a live helper. Returns the exit status. */
int sbx_sweep(bool json);

/* probe.c: decide the namespaces and fill st for the namespace/seccomp/uid features. With
 * probe false every layer not disabled by SWARMDECK_SANDBOX_DISABLE is assumed to work (the
 * fast path); with probe true each is tested in a throwaway child. Returns 0, or -1 with err
 * filled when the caller cannot be isolated at all (non-root without user namespaces). */
int sbx_plan(struct sbx_config *c, struct sbx_status *st, bool probe, char *err, size_t errlen);

/* clone(flags) in a child that exits at once: 0 when it works, -errno otherwise. */
int sbx_probe_clone(int flags);

/* Write setgroups=deny, uid_map and gid_map of pid ("0 <base> 65536" as root, else
 * "0 <uid> 1"). Returns 0 or -1 with errno set. */
int sbx_write_maps(const struct sbx_config *c, pid_t pid);

/* probe.c: --probe. Returns the exit status (0 when every layer is on, 1 otherwise). */
int sbx_probe(bool json);

/* netshare.c: the shared empty network namespace (see there for when it is used). */
/* --netns MODE ("shared" or "per-sandbox"), NULL when not given: SWARMDECK_SANDBOX_NETNS then. */
extern const char *sbx_netns_mode;
/* Landlock's ABI version, or -errno when Landlock is unavailable. */
int sbx_landlock_abi(void);
/* Restrict the calling thread (no_new_privs set) to its own Landlock domain for abstract unix
 * sockets and signals. Returns 0 or -1 with errno. */
int sbx_landlock_scope(void);
/* Whether a shared namespace is as isolated as one per sandbox here; why gets the mode as text
 * ("shared ..." or "one per sandbox: reason"), what --probe and doctor print. */
bool sbx_netshare_possible(bool seccomp_on, char *why, size_t len);
/* Pool master: make the shared empty namespace (lo down) without staying in it. Returns its fd
 * (>= 10, close-on-exec), or -1 when not possible here (members then make their own). */
int sbx_netshare_make(void);
/* Pool member, after sbx_plan: with a shared namespace fd and the conditions met, join it and
 * plan the sandbox without CLONE_NEWNET, with the AF_UNIX-only filter and Landlock scoping;
 * otherwise leave c as it is. Cannot fail (a failed setns keeps a namespace per sandbox). */
void sbx_netshare_apply(struct sbx_config *c, struct sbx_status *st);

/* Test hook: true when SWARMDECK_SANDBOX_DISABLE (comma list of feature names) names f. */
bool sbx_disabled(const char *name);

/* Level from the states: "strict", "standard" or "degraded" (or "none" when unsandboxed). */
const char *sbx_level(const struct sbx_status *st);

/* "on", "degraded: why", "off: why" for feature f into buf. */
const char *sbx_state_str(const struct sbx_status *st, int f, char *buf, size_t len);

/* Write s to fd as a JSON string literal (with quotes). Returns bytes formatted into buf. */
size_t sbx_json_str(char *buf, size_t len, const char *s);

#endif
