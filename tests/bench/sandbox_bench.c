/*
 * sandbox_bench.c: start-latency and density benchmark of swarmdeck-sandbox (target
 * bench-sandbox; results in docs/benchmarks/sandbox.md).
 *
 * Part 1, start latency: the full cycle of one sandbox running /usr/bin/true, exactly as the
 * engine starts it: posix_spawn of the helper with stdout/stderr pipes, a status fd and a
 * lifeline fd, read until every pipe reaches EOF, waitpid. The same cycle is timed in the same
 * run for bubblewrap with a comparable configuration and for a plain posix_spawn of
 * /usr/bin/true (the floor). Configurations are interleaved run by run so drift in the machine
 * affects all of them alike. Reports p50/p90/p99 and the ratios.
 *
 * Part 2, density: N helpers each running `/usr/bin/sleep 1000` in a full sandbox, started
 * one after the other (each waits for its "started" event), then MemAvailable / Slab /
 * SUnreclaim / PageTables deltas per sandbox, and the time to tear all of them down by closing
 * the one lifeline pipe they share, until the last helper is reaped.
 *
 * With --breakdown, three more configurations join the interleaved loop: the same helper with
 * its cgroups turned off, with its network namespace turned off, and with both (through the
 * SWARMDECK_SANDBOX_DISABLE test hook), so the cost of each layer is a difference measured in
 * the same run (docs/benchmarks/sandbox.md has the profile).
 *
 * The pooled configuration's helpers are forked by one pool master (--pool-master), as the
 * engine's are; --pool-exec execs each one instead (the way before the master).
 *
 * Usage: bench-sandbox [--runs N] [--warmup N] [--concurrent N] [--no-bwrap] [--breakdown]
 *                      [--pool-exec]
 * Needs root (uid ranges and cgroups), like the sandbox tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Move fd above the range posix_spawn dup2s into (0-4), keeping it close-on-exec, so the
 * file actions never overwrite one pipe with another. */
static int high(int fd)
{
    int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    close(fd);
    return h;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, int n, double p)
{
    int i = (int)(p * (n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

/* posix_spawn argv with stdout/stderr on a pipe (and, for the helper, status on fd 3 and the
 * lifeline on fd 4); read all pipes to EOF and reap. Returns the cycle time in ns, 0 on error. */
static uint64_t cycle(char **argv, int lifeline_r, bool status)
{
    int out[2], st[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    if (pipe2(out, O_CLOEXEC) < 0 || (status && pipe2(st, O_CLOEXEC) < 0))
        return 0;
    out[0] = high(out[0]);
    out[1] = high(out[1]);
    if (status) {
        st[0] = high(st[0]);
        st[1] = high(st[1]);
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    if (status) {
        posix_spawn_file_actions_adddup2(&fa, st[1], 3);
        posix_spawn_file_actions_adddup2(&fa, lifeline_r, 4);
    }
    uint64_t t0 = now_ns();
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (status)
        close(st[1]);
    if (rc != 0) {
        close(out[0]);
        if (status)
            close(st[0]);
        return 0;
    }
    char buf[4096];
    struct pollfd pf[2] = {{.fd = out[0], .events = POLLIN}, {.fd = st[0], .events = POLLIN}};
    int open_fds = status ? 2 : 1;
    while (open_fds) {
        poll(pf, 2, -1);
        for (int i = 0; i < 2; i++)
            if (pf[i].fd >= 0 && pf[i].revents && read(pf[i].fd, buf, sizeof buf) <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
            }
    }
    int ws;
    waitpid(pid, &ws, 0);
    uint64_t t = now_ns() - t0;
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        fprintf(stderr, "%s exited with status 0x%x\n", argv[0], ws);
        return 0;
    }
    return t;
}

/* A helper of a warm pool (swarmdeck-sandbox --pool), spawned ahead of its use, untimed: our
 * ends of its output pipe (stdout and stderr), status pipe and job socket. */
struct pooled {
    pid_t pid;
    int out, st, ctl;
};

/* The pool master (swarmdeck-sandbox --pool-master), as the engine runs it: our end of its
 * SOCK_SEQPACKET control socket and its pid; -1 when --pool-exec asked for exec'd helpers. */
static int master_fd = -1;
static pid_t master_pid;

static int master_start(int lifeline_r)
{
    int sp[2];
    posix_spawn_file_actions_t fa;
    char *argv[] = {SBX_HELPER, "--pool-master", "--control-fd", "5", "--lifeline-fd", "4", NULL};
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        return -1;
    sp[1] = high(sp[1]);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, lifeline_r, 4);
    posix_spawn_file_actions_adddup2(&fa, sp[1], 5);
    int rc = posix_spawn(&master_pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(sp[1]);
    master_fd = high(sp[0]);
    return rc == 0 ? 0 : -1;
}

/* Ask the master for a member with fds (stdout, stderr, status, job socket): its pid, or -1. */
static pid_t master_member(const char *id, const int fds[4])
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * 4)];
    } u;
    struct iovec iov = {.iov_base = (void *)id, .iov_len = strlen(id)};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    int32_t pid = -1;
    memset(u.buf, 0, sizeof u.buf);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * 4);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * 4);
    if (sendmsg(master_fd, &m, MSG_NOSIGNAL) != (ssize_t)iov.iov_len ||
        recv(master_fd, &pid, sizeof pid, 0) != (ssize_t)sizeof pid)
        return -1;
    return pid > 0 ? pid : -1;
}

static int pool_spawn(struct pooled *e, const char *id, int lifeline_r)
{
    int out[2], st[2], ctl[2];
    posix_spawn_file_actions_t fa;
    char *argv[] = {SBX_HELPER,      "--pool", "--id",        (char *)id,
                    "--control-fd",  "5",      "--status-fd", "3",
                    "--lifeline-fd", "4",      NULL};
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0)
        return -1;
    out[1] = high(out[1]);
    st[1] = high(st[1]);
    ctl[1] = high(ctl[1]);
    if (master_fd >= 0) {
        e->pid = master_member(id, (int[]){out[1], out[1], st[1], ctl[1]});
        close(out[1]);
        close(st[1]);
        close(ctl[1]);
        e->out = high(out[0]);
        e->st = high(st[0]);
        e->ctl = high(ctl[0]);
        return e->pid > 0 ? 0 : -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    posix_spawn_file_actions_adddup2(&fa, st[1], 3);
    posix_spawn_file_actions_adddup2(&fa, lifeline_r, 4);
    posix_spawn_file_actions_adddup2(&fa, ctl[1], 5);
    int rc = posix_spawn(&e->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(st[1]);
    close(ctl[1]);
    e->out = high(out[0]);
    e->st = high(st[0]);
    e->ctl = high(ctl[0]);
    return rc == 0 ? 0 : -1;
}

/* The timed part of a pooled start, what the engine waits for: send the job (NUL-separated
 * arguments, then EOF), read output and status to EOF, reap. Returns ns, 0 on error. */
static uint64_t pool_cycle(struct pooled *e, char **job)
{
    char msg[2048];
    size_t n = 0;
    for (char **a = job; *a; a++) {
        size_t l = strlen(*a) + 1;
        memcpy(msg + n, *a, l);
        n += l;
    }
    uint64_t t0 = now_ns();
    if (send(e->ctl, msg, n, MSG_NOSIGNAL) != (ssize_t)n)
        return 0;
    close(e->ctl);
    char buf[4096];
    struct pollfd pf[2] = {{.fd = e->out, .events = POLLIN}, {.fd = e->st, .events = POLLIN}};
    int open_fds = 2;
    while (open_fds) {
        poll(pf, 2, -1);
        for (int i = 0; i < 2; i++)
            if (pf[i].fd >= 0 && pf[i].revents && read(pf[i].fd, buf, sizeof buf) <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
            }
    }
    int ws;
    waitpid(e->pid, &ws, 0);
    uint64_t t = now_ns() - t0;
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        fprintf(stderr, "pooled helper exited with status 0x%x\n", ws);
        return 0;
    }
    return t;
}

static long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = atol(line + n + 1);
    if (f)
        fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    int runs = 500, warmup = 50, conc = 1000;
    bool bwrap = access("/usr/bin/bwrap", X_OK) == 0, breakdown = false, pool_exec = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--concurrent") && i + 1 < argc)
            conc = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-bwrap"))
            bwrap = false;
        else if (!strcmp(argv[i], "--pool-exec"))
            pool_exec = true;
        else if (!strcmp(argv[i], "--breakdown"))
            breakdown = true;
        else {
            fprintf(stderr, "usage: bench-sandbox [--runs N] [--warmup N] [--concurrent N] "
                            "[--no-bwrap] [--breakdown]\n");
            return 2;
        }
    }
    if (geteuid() != 0) {
        fprintf(stderr, "bench-sandbox: needs root (uid ranges, cgroups)\n");
        return 2;
    }
    struct rlimit rl = {65536, 65536};
    setrlimit(RLIMIT_NOFILE, &rl);
    char wd[] = "/tmp/sbxbench-XXXXXX";
    if (!mkdtemp(wd))
        return 1;
    int life[2];
    if (pipe2(life, O_CLOEXEC) < 0)
        return 1;
    life[0] = high(life[0]);
    life[1] = high(life[1]);

    char id[64];
    char *helper[] = {SBX_HELPER,
                      "--id",
                      id,
                      "--workdir",
                      wd,
                      "--status-fd",
                      "3",
                      "--lifeline-fd",
                      "4",
                      "--memory-mb",
                      "512",
                      "--timeout-ms",
                      "60000",
                      "--",
                      "/usr/bin/true",
                      NULL};
    char *bw[] = {"/usr/bin/bwrap",
                  "--unshare-user",
                  "--uid",
                  "1000",
                  "--gid",
                  "1000",
                  "--unshare-pid",
                  "--unshare-ipc",
                  "--unshare-uts",
                  "--unshare-net",
                  "--unshare-cgroup-try",
                  "--ro-bind",
                  "/usr",
                  "/usr",
                  "--symlink",
                  "usr/bin",
                  "/bin",
                  "--symlink",
                  "usr/lib",
                  "/lib",
                  "--symlink",
                  "usr/lib64",
                  "/lib64",
                  "--symlink",
                  "usr/sbin",
                  "/sbin",
                  "--proc",
                  "/proc",
                  "--dev",
                  "/dev",
                  "--tmpfs",
                  "/tmp",
                  "--die-with-parent",
                  "--new-session",
                  "/usr/bin/true",
                  NULL};
    char *plain[] = {"/usr/bin/true", NULL};
    char *job[] = {"--id",  id,   "--workdir",     wd,  "--memory-mb", "512", "--timeout-ms",
                   "60000", "--", "/usr/bin/true", NULL};
    enum { NCONF = 7, POOLED = 6, AHEAD = 2 };
    const char *names[NCONF] = {
        "swarmdeck-sandbox (full isolation + cgroups)",
        "bwrap (userns,pid,ipc,uts,net, ro /usr, proc, dev, tmpfs)",
        "posix_spawn /usr/bin/true (floor)",
        "helper without cgroups (breakdown)",
        "helper without netns (breakdown)",
        "helper without cgroups and netns (breakdown)",
        "pooled swarmdeck-sandbox (same isolation, warm pool: job to exit)"};
    /* SWARMDECK_SANDBOX_DISABLE of each configuration (NULL: unset). */
    const char *disable[NCONF] = {NULL,    NULL,
                                  NULL,    "cg-memory,cg-cpu,cg-pids,cg-track",
                                  "netns", "cg-memory,cg-cpu,cg-pids,cg-track,netns",
                                  NULL};
    /* The pooled configuration takes a helper spawned AHEAD rounds earlier (as the engine's
     * refill thread does, its preparation overlaps the other configurations' runs) and spawns
     * its replacement after the timed part. */
    struct pooled ahead[AHEAD];
    int nconf = NCONF;
    unsetenv("SWARMDECK_SANDBOX_DISABLE");
    if (!pool_exec && master_start(life[0]) < 0)
        return 1;
    for (int a = 0; a < AHEAD; a++) {
        char pid_[64];
        snprintf(pid_, sizeof pid_, "benchpool-%d-%d", (int)getpid(), a);
        if (pool_spawn(&ahead[a], pid_, life[0]) < 0)
            return 1;
    }
    uint64_t *t[NCONF];
    for (int k = 0; k < NCONF; k++)
        t[k] = calloc((size_t)runs, sizeof(uint64_t));
    for (int i = -warmup; i < runs; i++) {
        for (int k = 0; k < nconf; k++) {
            if ((k == 1 && !bwrap) || (!breakdown && k >= 3 && k < POOLED))
                continue;
            snprintf(id, sizeof id, "bench-%d-%d", (int)getpid(), i + warmup);
            if (disable[k])
                setenv("SWARMDECK_SANDBOX_DISABLE", disable[k], 1);
            else
                unsetenv("SWARMDECK_SANDBOX_DISABLE");
            uint64_t d;
            if (k == POOLED) {
                char pid_[64];
                struct pooled e = ahead[0];
                memmove(&ahead[0], &ahead[1], (AHEAD - 1) * sizeof ahead[0]);
                d = pool_cycle(&e, job);
                snprintf(pid_, sizeof pid_, "benchpool-%d-%d", (int)getpid(), i + warmup + AHEAD);
                if (pool_spawn(&ahead[AHEAD - 1], pid_, life[0]) < 0)
                    d = 0;
            } else {
                d = cycle(k == 1 ? bw : k == 2 ? plain : helper, life[0], k != 1 && k != 2);
            }
            if (!d) {
                fprintf(stderr, "bench-sandbox: run of %s failed\n", names[k]);
                return 1;
            }
            if (i >= 0)
                t[k][i] = d;
        }
    }
    printf("## start latency: full cycle of /usr/bin/true, %d runs after %d warm-up, "
           "interleaved\n\n",
           runs, warmup);
    printf("| what | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|\n");
    unsetenv("SWARMDECK_SANDBOX_DISABLE");
    double p50[NCONF] = {0};
    for (int k = 0; k < nconf; k++) {
        if ((k == 1 && !bwrap) || (!breakdown && k >= 3 && k < POOLED))
            continue;
        qsort(t[k], (size_t)runs, sizeof(uint64_t), cmp_u64);
        p50[k] = pct(t[k], runs, 0.5);
        printf("| %s | %.2f | %.2f | %.2f | %.2f |\n", names[k], p50[k], pct(t[k], runs, 0.9),
               pct(t[k], runs, 0.99), (double)t[k][runs - 1] / 1e6);
    }
    printf("\nratios at p50: helper / floor = %.2f", p50[0] / p50[2]);
    if (bwrap)
        printf(", helper / bwrap = %.2f, bwrap / floor = %.2f", p50[0] / p50[1], p50[1] / p50[2]);
    printf("; helper p99 / bwrap p99 = %.2f\n\n",
           bwrap ? pct(t[0], runs, 0.99) / pct(t[1], runs, 0.99) : 0.0);
    printf("warm pool: pooled helper p50 %.2f ms, p99 %.2f ms; pooled / bwrap at p50 = %.2f, "
           "pooled p99 / bwrap p99 = %.2f, pooled / cold helper at p50 = %.2f\n\n",
           p50[POOLED], pct(t[POOLED], runs, 0.99), bwrap ? p50[POOLED] / p50[1] : 0.0,
           bwrap ? pct(t[POOLED], runs, 0.99) / pct(t[1], runs, 0.99) : 0.0, p50[POOLED] / p50[0]);
    for (int a = 0; a < AHEAD; a++) { /* the unused ones: EOF without a job */
        close(ahead[a].ctl);
        close(ahead[a].out);
        close(ahead[a].st);
        waitpid(ahead[a].pid, NULL, 0);
    }
    if (master_fd >= 0) { /* EOF: the master exits */
        close(master_fd);
        master_fd = -1;
        waitpid(master_pid, NULL, 0);
    }
    if (breakdown)
        printf("breakdown at p50 (same run): cgroups %.2f ms, netns %.2f ms, both %.2f ms; the "
               "helper without both / bwrap = %.2f\n\n",
               p50[0] - p50[3], p50[0] - p50[4], p50[0] - p50[5], bwrap ? p50[5] / p50[1] : 0.0);

    if (conc <= 0)
        return 0;
    /* ---- density ---- */
    pid_t *pids = calloc((size_t)conc, sizeof(pid_t));
    int *stfd = calloc((size_t)conc, sizeof(int));
    uint64_t *lat = calloc((size_t)conc, sizeof(uint64_t));
    char *sleeper[] = {SBX_HELPER,
                       "--id",
                       id,
                       "--workdir",
                       wd,
                       "--status-fd",
                       "3",
                       "--lifeline-fd",
                       "4",
                       "--memory-mb",
                       "64",
                       "--",
                       "/usr/bin/sleep",
                       "1000",
                       NULL};
    int devnull = high(open("/dev/null", O_WRONLY | O_CLOEXEC));
    sync();
    long avail0 = meminfo("MemAvailable"), slab0 = meminfo("Slab"), sunr0 = meminfo("SUnreclaim"),
         pt0 = meminfo("PageTables");
    uint64_t fill0 = now_ns();
    for (int i = 0; i < conc; i++) {
        int st[2];
        posix_spawn_file_actions_t fa;
        if (pipe2(st, O_CLOEXEC) < 0) {
            perror("pipe");
            return 1;
        }
        st[0] = high(st[0]);
        st[1] = high(st[1]);
        snprintf(id, sizeof id, "dense-%d-%d", (int)getpid(), i);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, devnull, 1);
        posix_spawn_file_actions_adddup2(&fa, devnull, 2);
        posix_spawn_file_actions_adddup2(&fa, st[1], 3);
        posix_spawn_file_actions_adddup2(&fa, life[0], 4);
        uint64_t a = now_ns();
        if (posix_spawn(&pids[i], sleeper[0], &fa, NULL, sleeper, environ) != 0) {
            fprintf(stderr, "spawn %d failed\n", i);
            return 1;
        }
        posix_spawn_file_actions_destroy(&fa);
        close(st[1]);
        stfd[i] = st[0];
        char buf[4096];
        ssize_t n = read(st[0], buf, sizeof buf - 1); /* the "started" line */
        if (n <= 0 || !memmem(buf, (size_t)n, "\"started\"", 9)) {
            fprintf(stderr, "sandbox %d did not start\n", i);
            return 1;
        }
        lat[i] = now_ns() - a;
    }
    uint64_t fill = now_ns() - fill0;
    struct timespec settle = {2, 0};
    nanosleep(&settle, NULL); /* let per-cpu caches and RCU frees settle before reading */
    long avail1 = meminfo("MemAvailable"), slab1 = meminfo("Slab"), sunr1 = meminfo("SUnreclaim"),
         pt1 = meminfo("PageTables");
    qsort(lat, (size_t)conc, sizeof(uint64_t), cmp_u64);
    printf("## %d concurrent sandboxes (/usr/bin/sleep 1000, full isolation, memory 64 MiB)\n\n",
           conc);
    printf("- filled in %.2f s (%.0f/s serial); until-started latency while filling p50 %.2f ms, "
           "p99 %.2f ms\n",
           (double)fill / 1e9, conc / ((double)fill / 1e9), pct(lat, conc, 0.5),
           pct(lat, conc, 0.99));
    printf("- per sandbox (helper + init + sleep): MemAvailable -%ld KiB, Slab +%ld KiB, "
           "SUnreclaim +%ld KiB, PageTables +%ld KiB\n",
           (avail0 - avail1) / conc, (slab1 - slab0) / conc, (sunr1 - sunr0) / conc,
           (pt1 - pt0) / conc);
    uint64_t k0 = now_ns();
    close(life[1]); /* the engine "dies": every helper sees POLLHUP */
    for (int i = 0; i < conc; i++)
        waitpid(pids[i], NULL, 0);
    uint64_t kill_all = now_ns() - k0;
    printf("- teardown of all %d via the lifeline until the last helper is reaped "
           "(cgroups removed): %.0f ms (%.2f ms each)\n",
           conc, (double)kill_all / 1e6, (double)kill_all / 1e6 / conc);
    for (int i = 0; i < conc; i++)
        close(stfd[i]);
    rmdir(wd);
    return 0;
}
