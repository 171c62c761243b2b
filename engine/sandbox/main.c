/*
 * main.c: swarmdeck-sandbox, the setuid-free helper that runs one payload in a fresh sandbox.
 *
 * The engine starts it with posix_spawn (so the large threaded engine never forks) and gives it
 * stdout/stderr pipes that the payload inherits directly: the helper never touches the
 * payload's output. The contract (options, status events, exit codes) is in docs/sandbox.md.
 *
 * Flow: parse options from the table below, plan the isolation (probe.c), create cgroups
 * (cgroup.c), compile the seccomp filter (filter.c), clone the sandbox init into new namespaces
 * (clone3 with CLONE_INTO_CGROUP when possible), write its uid/gid maps, attach it to the v1
 * cgroups, release it through the go pipe, and wait on the report pipe: EOF means the payload
 * was exec'd, a record means setup or exec failed. Then the monitor loop: one ppoll on a
 * signalfd (SIGCHLD and the stop signals) and the lifeline fd, with the deadline of the next
 * timer (timeout, grace, sample) as its timeout. No busy loops, no sleeps.
 *
 * --pool-master (master.c): exec'd once per engine, forks each pooled helper, which returns
 * here from sbx_master_run and goes on exactly as an exec'd --pool helper.
 *
 * --pool (docs/sandbox.md "Warm pool"): the same flow up to the attach, then the helper waits
 * for one job on --control-fd (pool_wait_job), renames the v1 cgroups to the job's id, writes its
 * limits and hands it to the init on the go pipe in place of the second go byte
 * (pool_send_job); from there on as above.
 *
 * Stopping: timeout or SIGTERM/SIGINT/SIGHUP sends SIGTERM to the init, which forwards it to
 * the whole pid namespace; after the grace period the init gets SIGKILL, which kills the
 * namespace. A lifeline POLLHUP (the engine died) SIGKILLs at once. The init reports the
 * payload's wait status on the result pipe before it exits. Invariant: when the helper exits,
 * no process of the sandbox is left and its cgroups are removed.
 *
 * Single-threaded. Errors before the payload runs exit 125 with one line on stderr starting
 * "swarmdeck-sandbox: ".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>

#include "sandbox.h"

static struct sbx_config cfg;
static char **pool_argv; /* the helper's own argv, for pool_cmdline */
static int pool_argc;
static struct sbx_status status;
static struct sbx_cgroup cgroup = {.dirfd = {-1, -1, -1, -1}};
static bool cgroup_made;

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
    char msg[512], q[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "swarmdeck-sandbox: %s\n", msg);
    if (cfg.status_fd >= 0) {
        sbx_json_str(q, sizeof q, msg);
        dprintf(cfg.status_fd, "{\"event\":\"error\",\"message\":%s}\n", q);
    }
    if (cgroup_made)
        sbx_cgroup_destroy(&cgroup);
    exit(SBX_EXIT_SETUP);
}

/* The sandbox is over (every process of it killed or about to be): its cgroups go, or, in a
 * slot of the pool master (sbx_cgroup_take), are emptied and kept for the master's next member
 * while the master lives (master.c: 'k' on the busy pipe first, then the alive check, so a
 * master exiting meanwhile either sees the 'k' and waits for us, or we see it gone). Returns 0
 * when no process of the sandbox is left in them, -1 otherwise (as sbx_cgroup_destroy). */
static int cgroup_end(void)
{
    if (!cgroup.slot[0])
        return sbx_cgroup_destroy(&cgroup);
    if (cfg.slot_busy_fd >= 0 && write(cfg.slot_busy_fd, "k", 1) == 1) {
        struct pollfd pf = {.fd = cfg.slot_alive_fd, .events = 0};
        if (poll(&pf, 1, 0) == 0 && sbx_cgroup_keep(&cgroup) == 0)
            return 0;
    }
    return sbx_cgroup_destroy(&cgroup);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- options ---------------------------------------------------------------------------- */

static uint64_t parse_u64(const char *opt, const char *s, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max)
        die("%s: bad number '%s' (0..%llu)", opt, s, (unsigned long long)max);
    return v;
}

static int parse_fd(const char *opt, const char *s)
{
    int fd = (int)parse_u64(opt, s, INT_MAX);
    if (fcntl(fd, F_GETFD) < 0)
        die("%s: fd %d is not open", opt, fd);
    return fd;
}

static void opt_id(const char *o, const char *v)
{
    size_t n = strlen(v);
    if (n < 1 || n > 64 ||
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_-") != n)
        die("%s: '%s' must match [a-zA-Z0-9_-]{1,64}", o, v);
    memcpy(cfg.id, v, n + 1);
}
static void opt_workdir(const char *o, const char *v)
{
    static char path[PATH_MAX];
    struct stat sb;
    if (!realpath(v, path) || stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
        die("%s: '%s' is not a directory", o, v);
    cfg.workdir = path;
}
static void opt_ro_bind(const char *o, const char *v)
{
    if (cfg.nbinds == SBX_MAX_BINDS)
        die("%s: at most %d", o, SBX_MAX_BINDS);
    char *s = strdup(v), *colon = strchr(s, ':');
    if (colon)
        *colon = 0;
    char *src = realpath(s, NULL);
    const char *dst = colon ? colon + 1 : src;
    if (!src)
        die("%s: '%s': %s", o, s, strerror(errno));
    if (dst[0] != '/' || !dst[1] || strstr(dst, "/..") || strstr(dst, "//"))
        die("%s: destination '%s' must be an absolute path other than / without '..'", o, dst);
    cfg.binds[cfg.nbinds].src = src;
    cfg.binds[cfg.nbinds++].dst = dst;
}
static void opt_timeout(const char *o, const char *v)
{
    cfg.timeout_ms = parse_u64(o, v, UINT32_MAX * 1000ull);
}
static void opt_grace(const char *o, const char *v)
{
    cfg.grace_ms = parse_u64(o, v, 3600000);
}
static void opt_memory(const char *o, const char *v)
{
    cfg.memory_mb = parse_u64(o, v, 1ull << 30);
}
static void opt_cpus(const char *o, const char *v)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !(d >= 0) || d > 4096)
        die("%s: bad number '%s'", o, v);
    cfg.cpus = d;
}
static void opt_pids(const char *o, const char *v)
{
    cfg.pids = parse_u64(o, v, 4194304);
    if (!cfg.pids)
        die("%s: must be at least 1", o);
}
static void opt_disk(const char *o, const char *v)
{
    cfg.disk_mb = parse_u64(o, v, 1ull << 20);
    if (!cfg.disk_mb)
        die("%s: must be at least 1", o);
}
static void opt_disk_inodes(const char *o, const char *v)
{
    cfg.disk_inodes = parse_u64(o, v, 1ull << 30);
    if (cfg.disk_inodes < 64)
        die("%s: must be at least 64", o);
}
static void opt_nice(const char *o, const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < -20 || n > 19)
        die("%s: bad value '%s' (-20..19)", o, v);
    cfg.nice = (int)n;
}
static void opt_uid_base(const char *o, const char *v)
{
    cfg.uid_base = (uid_t)parse_u64(o, v, UINT32_MAX - 65536ull);
    cfg.uid_base_set = true;
}
static void opt_status_fd(const char *o, const char *v)
{
    cfg.status_fd = parse_fd(o, v);
}
static void opt_lifeline(const char *o, const char *v)
{
    cfg.lifeline_fd = parse_fd(o, v);
}
static void opt_sample(const char *o, const char *v)
{
    cfg.sample_ms = parse_u64(o, v, 86400000);
}
static void opt_strict(const char *o, const char *v)
{
    cfg.strict = true;
}
static void opt_unsandboxed(const char *o, const char *v)
{
    cfg.unsandboxed = true;
}
static void opt_pool(const char *o, const char *v)
{
    cfg.pool = true;
}
static void opt_pool_master(const char *o, const char *v)
{
    cfg.pool = cfg.pool_master = true;
}
static void opt_control(const char *o, const char *v)
{
    cfg.control_fd = parse_fd(o, v);
}
static void opt_netns(const char *o, const char *v)
{
    if (strcmp(v, "shared") != 0 && strcmp(v, "per-sandbox") != 0)
        die("%s: '%s' must be shared or per-sandbox", o, v);
    static char mode[16]; /* a copy: a pool member writes its job over the argv strings */
    snprintf(mode, sizeof mode, "%s", v);
    sbx_netns_mode = mode;
}
static void opt_reserve(const char *o, const char *v)
{
    /* only room in the command line (pool_cmdline) */
}

/* The options table: --help and docs/sandbox.md follow it. */
static const struct option_entry {
    const char *name;
    const char *arg; /* NULL: a flag */
    void (*set)(const char *opt, const char *val);
    const char *help;
    bool job; /* may be part of a pooled helper's job */
} options[] = {
    {"--id", "NAME", opt_id, "sandbox id [a-zA-Z0-9_-]{1,64}: cgroups sbx-NAME, hostname sbx-NAME",
     true},
    {"--workdir", "DIR", opt_workdir, "host dir bound read-write at /work, the cwd (required)",
     true},
    {"--ro-bind", "SRC[:DST]", opt_ro_bind,
     "extra read-only bind (repeatable), DST defaults to SRC", true},
    {"--timeout-ms", "N", opt_timeout, "wall-clock limit: SIGTERM, grace, SIGKILL; 0 = none", true},
    {"--grace-ms", "N", opt_grace, "time between SIGTERM and SIGKILL (default 1000)", true},
    {"--memory-mb", "N", opt_memory, "memory limit (cgroup; fallback RLIMIT_AS, reported)", true},
    {"--cpus", "F", opt_cpus, "CPU limit in cores; 0 = none", true},
    {"--pids", "N", opt_pids, "pids limit (default 256)", true},
    {"--disk-mb", "N", opt_disk, "size cap of the writable /work, a tmpfs (default 256)", true},
    {"--disk-inodes", "N", opt_disk_inodes, "inode cap of /work and /tmp (default 65536)", false},
    {"--nice", "N", opt_nice, "niceness of the sandbox (default 10)", false},
    {"--uid-base", "N", opt_uid_base,
     "root only: outside base of the inside range (default 100000)", false},
    {"--status-fd", "N", opt_status_fd, "write JSON status events to fd N", false},
    {"--sample-ms", "N", opt_sample, "emit a usage sample every N ms (default 0 = off)", false},
    {"--lifeline-fd", "N", opt_lifeline, "tear down at once when this pipe reports POLLHUP", false},
    {"--strict", NULL, opt_strict, "refuse to start (125) if any isolation layer is degraded",
     true},
    {"--unsandboxed", NULL, opt_unsandboxed, "no isolation at all (only rlimits and timeout)",
     false},
    {"--pool", NULL, opt_pool,
     "prepare the sandbox, then run the one job read from --control-fd (docs/sandbox.md)", false},
    {"--pool-master", NULL, opt_pool_master,
     "fork a pooled helper per request on --control-fd (docs/sandbox.md \"Pool master\")", false},
    {"--control-fd", "N", opt_control, "with --pool: read the job (NUL-separated arguments) here",
     false},
    {"--netns", "MODE", opt_netns,
     "with --pool-master: shared (opt-in: one empty network namespace for every member, "
     "docs/sandbox.md \"Network\") or per-sandbox (the default; overrides "
     "SWARMDECK_SANDBOX_NETNS)",
     false},
    {"--reserve", "TEXT", opt_reserve,
     "with --pool: ignored; room in /proc/PID/cmdline where the job's arguments are shown", false},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: swarmdeck-sandbox [options] -- PROGRAM [ARG...]\n"
               "       swarmdeck-sandbox --pool --control-fd N [options]\n"
               "       swarmdeck-sandbox --pool-master --control-fd N [options]\n"
               "       swarmdeck-sandbox --probe [--json]\n"
               "       swarmdeck-sandbox --sweep [--json]\n\n");
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        char head[40];
        snprintf(head, sizeof head, "%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(f, "  %-24s %s\n", head, options[i].help);
    }
}

/* Parse argv[1..argc) into cfg. job: the arguments of a pooled helper's job (only the options
 * marked job; -- PROGRAM and --workdir required); else the command line, where --pool needs
 * --control-fd and takes neither. Exits 125 through die() on any error. */
static void parse(int argc, char **argv, bool job)
{
    int i = job ? 0 : 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            break;
        if (!job && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            usage(stdout);
            exit(0);
        }
        const struct option_entry *o = NULL;
        const char *val = NULL;
        size_t n = strcspn(a, "=");
        for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
            if (strlen(options[k].name) == n && !strncmp(options[k].name, a, n))
                o = &options[k];
        if (!o)
            die("unknown option '%s' (see --help)", a);
        if (job && !o->job)
            die("%s cannot be part of a pooled helper's job", o->name);
        if (o->arg) {
            if (a[n] == '=')
                val = a + n + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                die("%s needs %s", o->name, o->arg);
        }
        o->set(o->name, val);
    }
    if (cfg.pool && !job) {
        if (i < argc)
            die("--pool takes its PROGRAM from the job, not the command line");
        if (cfg.control_fd < 0)
            die("--pool needs --control-fd");
        if (cfg.unsandboxed)
            die("--pool cannot be combined with --unsandboxed");
        cfg.cpus = 1; /* make the cpu cgroup now; the job writes its quota (or none) */
        if (cfg.workdir)
            die("--pool takes --workdir from the job");
        return;
    }
    if (i >= argc - 1)
        die("missing -- PROGRAM (see --help)");
    cfg.argv = argv + i + 1;
    if (!cfg.workdir)
        die("--workdir is required");
    if (cfg.uid_base_set && geteuid() != 0)
        die("--uid-base needs root (non-root maps only its own uid)");
}

/* ---- status events ---------------------------------------------------------------------- */

static void emit_started(pid_t pid)
{
    if (cfg.status_fd < 0)
        return;
    char buf[8192];
    size_t o = (size_t)snprintf(buf, sizeof buf,
                                "{\"event\":\"started\",\"pid\":%d,\"isolation\":{", (int)pid);
    for (int f = 0; f < SBX_F_COUNT; f++) {
        char s[256];
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s\"%s\":", f ? "," : "",
                              sbx_features[f].name);
        o += sbx_json_str(buf + o, sizeof buf - o, sbx_state_str(&status, f, s, sizeof s));
    }
    snprintf(buf + o, sizeof buf - o, "},\"level\":\"%s\"}\n",
             cfg.unsandboxed ? "none" : sbx_level(&status));
    if (write(cfg.status_fd, buf, strlen(buf)) < 0) {
        /* the engine stopped listening; the sandbox still runs to its end */
    }
}

static void num(char *b, size_t len, int64_t v)
{
    if (v < 0)
        snprintf(b, len, "null");
    else
        snprintf(b, len, "%lld", (long long)v);
}

/* /proc fallback for samples when there is no cgroup: the init's own counters only. */
static void proc_usage(pid_t pid, struct sbx_usage *u)
{
    char p[64], b[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0)
        return;
    b[n] = 0;
    char *s = strrchr(b, ')');
    unsigned long long ut, st, cut, cst;
    long rss;
    if (s && sscanf(s + 2,
                    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu %*d "
                    "%*d %*d %*d %*u %*u %ld",
                    &ut, &st, &cut, &cst, &rss) == 5) {
        long hz = sysconf(_SC_CLK_TCK);
        if (u->cpu_ms < 0)
            u->cpu_ms = (int64_t)((ut + st + cut + cst) * 1000 / (unsigned long long)hz);
        if (u->mem_kb < 0)
            u->mem_kb = rss * (sysconf(_SC_PAGESIZE) / 1024);
    }
}

static void emit_sample(pid_t pid)
{
    struct sbx_usage u;
    char a[24], b[24], c[24];
    sbx_cgroup_read(&cgroup, &u);
    proc_usage(pid, &u);
    num(a, sizeof a, u.cpu_ms);
    num(b, sizeof b, u.mem_kb);
    num(c, sizeof c, u.pids);
    dprintf(cfg.status_fd, "{\"event\":\"sample\",\"cpu_ms\":%s,\"mem_kb\":%s,\"pids\":%s}\n", a, b,
            c);
}

/* ---- spawning --------------------------------------------------------------------------- */

/* clone3 with CLONE_INTO_CGROUP when a v2 cgroup exists, falling back to clone. Sets *joined
 * when the child is already in the unified cgroup. Returns the pid, 0 in the child, -errno. */
static pid_t spawn(int flags, bool *joined)
{
    struct clone_args ca;
    int cgfd = cgroup.dirfd[SBX_CG_UNIFIED];
    *joined = false;
    memset(&ca, 0, sizeof ca);
    ca.flags = (uint64_t)(unsigned)flags;
    ca.exit_signal = SIGCHLD;
    if (cgfd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)cgfd;
    }
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0 && cgfd >= 0 && errno != ENOSYS) {
        ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
        ca.cgroup = 0;
        pid = syscall(SYS_clone3, &ca, sizeof ca);
    } else if (pid > 0 && cgfd >= 0) {
        *joined = true;
    }
    if (pid < 0 && (errno == ENOSYS || errno == E2BIG))
        pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
    return pid < 0 ? -errno : (pid_t)pid;
}

static void prepare_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            fcntl(fds[i], F_SETFD, FD_CLOEXEC);
}

/* ---- pool mode ---------------------------------------------------------------------------- */

/* A pooled helper that is not wanted any more (its control fd reached EOF without a job, the
 * lifeline hung up, or it was told to stop): kill the waiting init, remove the cgroups, exit. */
static void __attribute__((noreturn)) pool_quit(pid_t pid, int code)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (cgroup_made)
        cgroup_end();
    exit(code);
}

/* The init failed while it prepared (a report on rep_fd, or it died): tell why, as a cold start
 * would. */
static void __attribute__((noreturn)) pool_setup_failed(pid_t pid, int rep_fd)
{
    struct sbx_report r;
    ssize_t n = read(rep_fd, &r, sizeof r);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (n == (ssize_t)sizeof r) {
        r.what[sizeof r.what - 1] = 0;
        die("setup failed: %s: %s", r.what, strerror(r.err));
    }
    die("setup failed: the sandbox init ended before its job");
}

/* Pool mode: make /proc/PID/cmdline read as a cold start's would (the helper's path, then the
 * job's arguments: --id, --workdir, ..., -- PROGRAM), so ps, pgrep and whoever looks for a
 * sandbox by its id or work dir find the helper that runs it. The job is written over the
 * helper's own argument strings (contiguous from argv[0] on; the spawner leaves room with
 * --reserve), cut at the last whole argument that fits, the rest zeroed. */
static void pool_cmdline(const char *job, size_t len)
{
    static char *start;
    static size_t room; /* measured once: a rewrite changes the strings (a pool member's twice) */
    if (start == NULL) {
        char *end = pool_argv[0];
        for (int i = 0; i < pool_argc; i++) {
            if (pool_argv[i] != end)
                return; /* not contiguous: leave it */
            end = pool_argv[i] + strlen(pool_argv[i]) + 1;
        }
        start = pool_argv[0];
        room = (size_t)(end - start);
    }
    size_t n = strlen(start) + 1, fit = 0;
    for (size_t off = 0; off < len && n + off + strlen(job + off) + 1 <= room;
         off += strlen(job + off) + 1)
        fit = off + strlen(job + off) + 1;
    memcpy(start + n, job, fit);
    memset(start + n + fit, 0, room - n - fit);
}

/* Pool mode: wait, with the init prepared and waiting on the go pipe, for the job on the control
 * fd: NUL-separated arguments (the options marked job, then -- PROGRAM [ARG...]) up to EOF.
 * Parses it into cfg, renames the cgroups to the job's id and writes its limits, applies
 * --strict, chowns the work dir. Exits (through pool_quit or die) on EOF without a job, a
 * lifeline hang-up, a stop signal, or a failure of the init or of the job. */
static void pool_wait_job(pid_t pid, int sfd, int rep_fd)
{
    static char job[SBX_JOB_MAX + 1];
    static char *jargv[SBX_JOB_MAXARGS + 1];
    size_t len = 0;
    struct pollfd pf[4] = {{.fd = cfg.control_fd, .events = POLLIN},
                           {.fd = sfd, .events = POLLIN},
                           {.fd = rep_fd, .events = POLLIN},
                           {.fd = cfg.lifeline_fd, .events = 0}};
    for (;;) {
        if (ppoll(pf, cfg.lifeline_fd >= 0 ? 4 : 3, NULL, NULL) < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (pf[3].revents & (POLLHUP | POLLERR | POLLNVAL))
            pool_quit(pid, 0);
        if (pf[2].revents)
            pool_setup_failed(pid, rep_fd);
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGCHLD && waitpid(pid, NULL, WNOHANG) == pid)
                pool_setup_failed(pid, rep_fd);
            if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP)
                pool_quit(pid, 0);
        }
        if (!pf[0].revents)
            continue;
        ssize_t n = read(cfg.control_fd, job + len, SBX_JOB_MAX - len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            die("read the job: %s", strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == SBX_JOB_MAX)
            die("the job is larger than %d bytes", SBX_JOB_MAX);
    }
    if (len == 0)
        pool_quit(pid, 0); /* released unused */
    close(cfg.control_fd);
    cfg.control_fd = -1;
    if (job[len - 1] != 0)
        die("the job does not end with a NUL byte");
    int jargc = 0;
    for (size_t off = 0; off < len; off += strlen(job + off) + 1) {
        if (jargc == SBX_JOB_MAXARGS)
            die("the job has more than %d arguments", SBX_JOB_MAXARGS);
        jargv[jargc++] = job + off;
    }
    jargv[jargc] = NULL;
    pool_cmdline(job, len);
    cfg.cpus = 0; /* what a job does not say is not wanted */
    cfg.memory_mb = 0;
    cfg.timeout_ms = 0;
    parse(jargc, jargv, true);
    char err[512];
    if (cgroup_made && sbx_cgroup_job(&cgroup, &cfg, &status, err, sizeof err) < 0)
        die("%s", err);
    if (cfg.strict && strcmp(sbx_level(&status), "strict") != 0)
        die("--strict: isolation is %s", sbx_level(&status));
    if (cfg.is_root &&
        chown(cfg.workdir, cfg.uid_base + SBX_INSIDE_UID, cfg.uid_base + SBX_INSIDE_UID) < 0)
        die("chown %s: %s", cfg.workdir, strerror(errno));
}

/* Pool mode: hand the parsed job to the waiting init on the go pipe (struct sbx_job_hdr, then
 * argv and the binds, see sandbox.h). */
static void pool_send_job(int go_fd)
{
    static char blob[SBX_JOB_MAX + sizeof(struct sbx_job_hdr)];
    struct sbx_job_hdr *h = (struct sbx_job_hdr *)(void *)blob;
    memset(h, 0, sizeof *h);
    snprintf(h->id, sizeof h->id, "%s", cfg.id);
    if (snprintf(h->workdir, sizeof h->workdir, "%s", cfg.workdir) >= (int)sizeof h->workdir)
        die("--workdir: path too long");
    h->timeout_ms = cfg.timeout_ms;
    h->disk_mb = cfg.disk_mb;
    h->pids = cfg.pids;
    h->memory_mb = cfg.memory_mb;
    h->rlimit_as = cfg.rlimit_as;
    size_t off = sizeof *h;
    for (char **a = cfg.argv; *a; a++, h->argc++) {
        size_t n = strlen(*a) + 1;
        if (off + n > sizeof blob)
            die("the job is too large");
        memcpy(blob + off, *a, n);
        off += n;
    }
    for (int i = 0; i < cfg.nbinds; i++, h->nbinds++) {
        for (int k = 0; k < 2; k++) {
            const char *p = k ? cfg.binds[i].dst : cfg.binds[i].src;
            size_t n = strlen(p) + 1;
            if (off + n > sizeof blob)
                die("the job is too large");
            memcpy(blob + off, p, n);
            off += n;
        }
    }
    h->len = (uint32_t)(off - sizeof *h);
    for (size_t w = 0; w < off;) {
        ssize_t n = write(go_fd, blob + w, off - w);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("release: %s", strerror(errno));
        w += (size_t)n;
    }
}

int main(int argc, char **argv)
{
    cfg.status_fd = cfg.lifeline_fd = cfg.control_fd = -1;
    cfg.slot_alive_fd = cfg.slot_busy_fd = cfg.shared_netns_fd = -1;
    pool_argv = argv;
    pool_argc = argc;
    if (argc >= 2 && (!strcmp(argv[1], "--probe") || !strcmp(argv[1], "--sweep"))) {
        bool json = argc >= 3 && !strcmp(argv[2], "--json");
        if (argc > 3 || (argc == 3 && !json))
            die("usage: swarmdeck-sandbox %s [--json]", argv[1]);
        return !strcmp(argv[1], "--probe") ? sbx_probe(json) : sbx_sweep(json);
    }
    cfg.grace_ms = 1000;
    cfg.pids = 256;
    cfg.disk_mb = 256;
    cfg.disk_inodes = 65536;
    cfg.nice = 10;
    cfg.uid_base = 100000;
    parse(argc, argv, false);
    if (cfg.pool_master) {
        /* Returns only in a forked member, which goes on as `--pool --id ID`. */
        sbx_master_run(&cfg);
        static const char head[] = "--pool\0--id";
        char cmd[sizeof head + sizeof cfg.id];
        memcpy(cmd, head, sizeof head);
        memcpy(cmd + sizeof head, cfg.id, strlen(cfg.id) + 1);
        pool_cmdline(cmd, sizeof head + strlen(cfg.id) + 1);
    }
    if (!cfg.id[0])
        snprintf(cfg.id, sizeof cfg.id, "p%d", (int)getpid());
    cfg.is_root = geteuid() == 0;
    cfg.outside_uid = geteuid();
    cfg.outside_gid = getegid();

    /* Signals arrive through the signalfd only; SIGPIPE is blocked (not ignored, which would
     * be inherited across exec by the payload). The child inherits this mask; the init keeps
     * it, the payload clears it. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGPIPE);
    sigaddset(&mask, SIGUSR1); /* pause (sbx_pause) */
    sigaddset(&mask, SIGUSR2); /* resume */
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        die("signalfd: %s", strerror(errno));
    prepare_fds((int[]){cfg.status_fd, cfg.lifeline_fd, cfg.control_fd}, 3);

    /* Root's supplementary groups (gid 0!) would otherwise follow the payload into the
     * user namespace, where setgroups is denied. */
    if (cfg.is_root && setgroups(0, NULL) < 0)
        die("setgroups: %s", strerror(errno));

    /* Orphans of a payload without a pid namespace come back to us to be reaped. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    char err[512];
    if (sbx_plan(&cfg, &status, false, err, sizeof err) < 0)
        die("%s", err);
    sbx_netshare_apply(&cfg, &status);
    if (!cfg.unsandboxed) {
        sbx_cgroup_detect(&cfg, &status);
        int rc = cfg.slot[0] ? sbx_cgroup_take(&cgroup, &cfg, &status, err, sizeof err) : -2;
        if (rc == -2)
            rc = sbx_cgroup_create(&cgroup, &cfg, &status, err, sizeof err);
        if (rc < 0)
            die("%s", err);
        cgroup_made = true;
    } else {
        cfg.rlimit_as = cfg.memory_mb > 0;
    }
    if (status.state[SBX_F_SECCOMP] == SBX_ON && !cfg.unsandboxed &&
        sbx_filter_prebuilt(&cfg, err, sizeof err) < 0)
        die("seccomp filter: %s", err);
    if (!cfg.pool && cfg.is_root && !cfg.unsandboxed &&
        chown(cfg.workdir, cfg.uid_base + SBX_INSIDE_UID, cfg.uid_base + SBX_INSIDE_UID) < 0)
        die("chown %s: %s", cfg.workdir, strerror(errno));

    int go[2], rep[2], res[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
        die("pipe: %s", strerror(errno));
    uint64_t t0 = now_ns();
    bool joined;
    pid_t pid;
    for (int attempt = 0;; attempt++) {
        if (cfg.strict && strcmp(sbx_level(&status), "strict") != 0) {
            char list[1024] = "";
            for (int f = 0; f < SBX_F_COUNT; f++) {
                char s[200];
                if (status.state[f] == SBX_DEGRADED || status.state[f] == SBX_OFF)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s %s",
                             list[0] ? "; " : "", sbx_features[f].name,
                             sbx_state_str(&status, f, s, sizeof s));
            }
            die("--strict: isolation is %s (%s)", sbx_level(&status), list);
        }
        pid = spawn(cfg.clone_flags, &joined);
        if (pid >= 0 || attempt > 0 || !cfg.clone_flags)
            break;
        /* Some namespace is refused: find which ones, report them, try once more. */
        int old = cfg.clone_flags;
        if (sbx_plan(&cfg, &status, true, err, sizeof err) < 0)
            die("%s", err);
        sbx_netshare_apply(&cfg, &status);
        if (cfg.clone_flags == old)
            break;
        free(cfg.filter.filter);
        cfg.filter.filter = NULL;
        cfg.filter.len = 0;
        if (status.state[SBX_F_SECCOMP] == SBX_ON && sbx_filter_prebuilt(&cfg, err, sizeof err) < 0)
            die("seccomp filter: %s", err);
    }
    if (pid < 0)
        die("clone: %s", strerror(-pid));
    if (pid == 0) {
        close(go[1]);
        close(rep[0]);
        close(res[0]);
        sbx_child_main(&cfg, go[0], rep[1], res[1]);
    }
    close(go[0]);
    close(rep[1]);
    close(res[1]);
    if (cfg.clone_flags & CLONE_NEWUSER && sbx_write_maps(&cfg, pid) < 0) {
        int e = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        die("uid/gid map: %s", strerror(e));
    }
    /* Two go bytes: the first lets the child build its root while the helper attaches it to
     * the v1 cgroups (a cgroup.procs write waits for an RCU grace period, often several ms);
     * the second lets it fork the payload, which then inherits the cgroups. */
    if (write(go[1], "g", 1) != 1)
        die("release: %s", strerror(errno));
    if (cgroup_made && sbx_cgroup_attach(&cgroup, pid, !joined, err, sizeof err) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        die("%s", err);
    }
    if (cfg.pool) {
        /* Everything above ran ahead of time; the deployment's wait starts here. */
        pool_wait_job(pid, sfd, rep[0]);
        t0 = now_ns();
        pool_send_job(go[1]);
    } else if (write(go[1], "g", 1) != 1) {
        die("release: %s", strerror(errno));
    }

    /* EOF: the payload was exec'd. A record: setup or exec failed. */
    struct sbx_report r;
    ssize_t n;
    while ((n = read(rep[0], &r, sizeof r)) < 0 && errno == EINTR)
        ;
    close(rep[0]);
    if (n == (ssize_t)sizeof r) {
        int st;
        waitpid(pid, &st, 0);
        r.what[sizeof r.what - 1] = 0;
        if (r.kind == SBX_REP_EXEC) {
            int code = r.err == ENOENT ? SBX_EXIT_NOENT : SBX_EXIT_NOEXEC;
            fprintf(stderr, "swarmdeck-sandbox: %s: %s\n", r.what, strerror(r.err));
            if (cfg.status_fd >= 0)
                dprintf(cfg.status_fd,
                        "{\"event\":\"exit\",\"code\":%d,\"signal\":null,\"timeout\":false,"
                        "\"oom\":false,\"mem_peak_kb\":null,\"cpu_ms\":0,\"wall_ms\":%llu,"
                        "\"exec_error\":\"%s\"}\n",
                        code, (unsigned long long)((now_ns() - t0) / 1000000), strerror(r.err));
            cgroup_end();
            return code;
        }
        die("setup failed: %s: %s", r.what, strerror(r.err));
    }
    emit_started(pid);

    /* ---- monitor loop ---- */
    uint64_t term_at = cfg.timeout_ms ? t0 + cfg.timeout_ms * 1000000 : 0, kill_at = 0;
    uint64_t sample_at = cfg.sample_ms ? now_ns() + cfg.sample_ms * 1000000 : 0;
    bool timed_out = false, stopping = false, reaped = false;
    struct sbx_pause pause = {.init = pid, .pid_ns = (cfg.clone_flags & CLONE_NEWPID) != 0};
    int init_status = 0;
    struct pollfd pf[2] = {{.fd = sfd, .events = POLLIN}, {.fd = cfg.lifeline_fd, .events = 0}};
    while (!reaped) {
        uint64_t now = now_ns(), next = UINT64_MAX;
        if (term_at && now >= term_at) {
            term_at = 0;
            timed_out = stopping = true;
            kill(pid, SIGTERM);
            kill_at = now + cfg.grace_ms * 1000000;
        }
        if (kill_at && now >= kill_at) {
            kill_at = 0;
            kill(pid, SIGKILL);
            if (!(cfg.clone_flags & CLONE_NEWPID))
                kill(-pid, SIGKILL); /* its session; the cgroup catches the rest at the end */
        }
        if (sample_at && now >= sample_at) {
            emit_sample(pid);
            sample_at = now + cfg.sample_ms * 1000000;
        }
        if (term_at && term_at < next)
            next = term_at;
        if (kill_at && kill_at < next)
            next = kill_at;
        if (sample_at && sample_at < next)
            next = sample_at;
        struct timespec ts, *tp = NULL;
        if (next != UINT64_MAX) {
            uint64_t d = next > now ? next - now : 0;
            ts.tv_sec = (time_t)(d / 1000000000u);
            ts.tv_nsec = (long)(d % 1000000000u);
            tp = &ts;
        }
        if (ppoll(pf, pf[1].fd >= 0 ? 2 : 1, tp, NULL) < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        if (pf[1].fd >= 0 && (pf[1].revents & (POLLHUP | POLLERR | POLLNVAL))) {
            /* The engine is gone: nobody wants the result, tear down now. */
            kill(pid, SIGKILL);
            if (!(cfg.clone_flags & CLONE_NEWPID))
                kill(-pid, SIGKILL);
            pf[1].fd = -1;
            stopping = true;
            kill_at = 0;
            term_at = 0;
        }
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGCHLD) {
                if (waitpid(pid, &init_status, WNOHANG) == pid)
                    reaped = true;
            } else if (si.ssi_signo == SIGUSR1 || si.ssi_signo == SIGUSR2) {
                if (!stopping)
                    sbx_pause_set(&pause, si.ssi_signo == SIGUSR1, &term_at, cfg.status_fd);
            } else if (si.ssi_signo != SIGPIPE && !stopping) {
                /* A paused sandbox runs again first: a stopped init could not forward. */
                sbx_pause_set(&pause, false, &term_at, cfg.status_fd);
                stopping = true;
                term_at = 0;
                kill(pid, SIGTERM);
                kill_at = now_ns() + cfg.grace_ms * 1000000;
            }
        }
    }
    uint64_t wall = now_ns() - t0;

    /* The payload's own status from the init; if the init was killed, its status. */
    struct sbx_result res_msg = {.status = init_status};
    if (read(res[0], &res_msg, sizeof res_msg) != (ssize_t)sizeof res_msg)
        res_msg = (struct sbx_result){.status = init_status};
    int st = res_msg.status;
    if (!(cfg.clone_flags & CLONE_NEWPID))
        kill(-pid, SIGKILL); /* leftovers of the payload's session without a pid namespace */
    struct sbx_usage u;
    sbx_cgroup_read(&cgroup, &u);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    if (u.cpu_ms < 0)
        u.cpu_ms = (int64_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
                   (int64_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
    if (u.mem_peak_kb < 0)
        u.mem_peak_kb = ru.ru_maxrss;
    int gone = cgroup_end();
    if (!(cfg.clone_flags & CLONE_NEWPID)) {
        /* Without a pid namespace the helper is the subreaper of the payload's orphans: reap
         * them. Block only when the cgroups proved they are all dead (no cgroup: escapable). */
        bool block = gone == 0 && cgroup_made && !cfg.unsandboxed;
        while (waitpid(-1, NULL, block ? __WALL : WNOHANG | __WALL) > 0)
            ;
    }

    int code = -1, sig = -1, exit_status;
    if (WIFEXITED(st)) {
        code = WEXITSTATUS(st);
        exit_status = code;
    } else {
        sig = WTERMSIG(st);
        exit_status = 128 + sig;
    }
    if (timed_out)
        exit_status = SBX_EXIT_TIMEOUT;
    if (cfg.status_fd >= 0) {
        char a[24], b[24], p[24];
        num(a, sizeof a, code);
        num(b, sizeof b, sig);
        num(p, sizeof p, u.mem_peak_kb);
        const char *full = res_msg.disk_full & SBX_DISK_BYTES    ? "\"bytes\""
                           : res_msg.disk_full & SBX_DISK_INODES ? "\"inodes\""
                                                                 : "null";
        dprintf(cfg.status_fd,
                "{\"event\":\"exit\",\"code\":%s,\"signal\":%s,\"timeout\":%s,\"oom\":%s,"
                "\"mem_peak_kb\":%s,\"cpu_ms\":%lld,\"wall_ms\":%llu,\"disk_full\":%s,"
                "\"disk_mb\":%llu,\"disk_inodes\":%llu}\n",
                a, b, timed_out ? "true" : "false", u.oom ? "true" : "false", p,
                (long long)u.cpu_ms, (unsigned long long)(wall / 1000000), full,
                (unsigned long long)cfg.disk_mb, (unsigned long long)cfg.disk_inodes);
    }
    return exit_status;
}
