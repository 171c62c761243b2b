/*
 * child.c: the sandbox side of swarmdeck-sandbox. Runs in the process the helper cloned into
 * new namespaces; it becomes the sandbox's init (PID 1) and forks the payload.
 *
 * Order (docs/sandbox.md and sandbox-notes.md §5.1 step 3; each step needs the one before):
 *   1. wait for the helper's first go byte (the uid/gid maps are written; the helper attaches
 *      the cgroups while we build the root, and a second go byte before the fork of the
 *      payload says they are in place)
 *   2. setresgid/setresuid(0): become the mapped root of the user namespace; before this the
 *      kernel uid is unmapped inside and creating files fails with EOVERFLOW
 *   3. PR_SET_PDEATHSIG(SIGKILL), then check the go pipe for POLLHUP: a helper that died
 *      before the prctl is noticed, one that dies after it kills us (getppid() is 0 in a new
 *      pid namespace, so the pipe is the re-check)
 *   4. the root: / MS_REC|MS_PRIVATE, a 1 MiB tmpfs, ro /usr with bin/lib/lib64/sbin symlinks,
 *      /dev/{null,zero,urandom}, a 64 MiB tmpfs /tmp, /work a tmpfs capped at --disk-mb and
 *      --disk-inodes with the uploaded files bound read-only into it, --ro-bind extras, a
 *      fresh /proc (sys, sysrq-trigger, irq, bus read-only), pivot_root, detach the old root,
 *      remount / read-only
 *   5. lo up, hostname, nice, rlimits, setsid
 *   6. drop the bounding set and ambient caps, switch to the run uid/gid (clears the caps),
 *      no_new_privs: the init keeps no privilege either; then PR_SET_PDEATHSIG again, since
 *      the uid switch cleared it, and the go pipe re-checked for a helper that died meanwhile
 *   7. fork the payload: stdin /dev/null, default signals, seccomp last, close_range, execve
 *   8. the init waits: SIGTERM/SIGINT/SIGHUP are forwarded to the whole namespace, every child
 *      is reaped, /work is checked for its caps every 250 ms, and when the payload exits its
 *      wait status and whether /work was ever full go to the helper and the init exits, which
 *      makes the kernel kill whatever the payload left behind
 *
 * Failures before execve are sent as one struct sbx_report on the CLOEXEC report pipe, so the
 * helper reads EOF exactly when the payload's image was exec'd, and a record otherwise. After
 * the raw clone this process is a fork of the helper: only async-signal-safe calls plus
 * malloc-free libc (no raise/abort: glibc's cached tid belongs to the helper).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/securebits.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <limits.h>

#include "sandbox.h"

#define NEWROOT "/tmp"

/* How many 1 ms waits an execve that meets ETXTBSY makes (about 5 s in all). */
#define SBX_TXTBSY_TRIES 5000

static int report_fd = -1;

static void __attribute__((noreturn)) fail(int kind, const char *what, int err)
{
    struct sbx_report r = {.kind = kind, .err = err};
    snprintf(r.what, sizeof r.what, "%s", what);
    if (write(report_fd, &r, sizeof r) < 0) {
        /* nothing left to tell */
    }
    _exit(kind == SBX_REP_EXEC ? (err == ENOENT ? SBX_EXIT_NOENT : SBX_EXIT_NOEXEC)
                               : SBX_EXIT_SETUP);
}

#define CHECK(expr, what)                                                                          \
    do {                                                                                           \
        if ((expr) < 0)                                                                            \
            fail(SBX_REP_SETUP, what, errno);                                                      \
    } while (0)

/* Close every fd >= 3 except the sorted list keep[0..n). */
static void close_except(const int *keep, int n)
{
    unsigned lo = 3;
    for (int i = 0; i <= n; i++) {
        unsigned hi = i < n ? (unsigned)keep[i] : ~0U;
        if (i < n && keep[i] < 3)
            continue;
        if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) < 0)
            for (unsigned fd = lo; fd < hi && fd < 4096; fd++)
                close((int)fd);
        lo = hi + 1;
        if (i == n)
            break;
    }
}

static void sort_fds(int *a, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            int t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
}

/* Mount flags a user namespace may not clear on a bind remount (they are locked). */
static unsigned long locked_flags(const char *path)
{
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) < 0)
        return 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

static void bind_ro_rw(const char *src, const char *dst, bool ro, unsigned long extra)
{
    CHECK(mount(src, dst, NULL, MS_BIND | MS_REC, NULL), src);
    unsigned long fl = MS_REMOUNT | MS_BIND | extra | (ro ? MS_RDONLY : 0) | locked_flags(dst);
    CHECK(mount(NULL, dst, NULL, fl, NULL), dst);
}

/* mkdir -p of a path relative to the new root (no leading slash). */
static void mkdirs(const char *rel, bool last_is_file)
{
    char p[512];
    snprintf(p, sizeof p, "%s", rel);
    for (char *s = p;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (!c && last_is_file) {
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0 && errno != EEXIST)
                    fail(SBX_REP_SETUP, rel, errno);
                if (fd >= 0)
                    close(fd);
            } else if (p[0] && mkdir(p, 0755) < 0 && errno != EEXIST) {
                fail(SBX_REP_SETUP, rel, errno);
            }
            if (!c)
                break;
            *s = c;
        }
    }
}

/* Host paths are reached through the old root, which stays at /oldroot until the end: the
 * new root's tmpfs is mounted on /tmp, which would hide sources under the host's /tmp. */
static const char *host(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "/oldroot%s", path);
    return buf;
}

/* /work: a tmpfs capped at --disk-mb bytes and --disk-inodes inodes, owned by the run uid, so
 * what a payload writes never reaches the host's disk and vanishes with the mount namespace
 * (nothing is left for the engine to remove). Every regular file the engine uploaded into the
 * host work dir is bound read-only onto an empty file of the same name: the payload reads
 * them in place, cannot change them, and they do not count against the cap. The host dir is
 * read with getdents64 into a stack buffer (no malloc after the raw clone). Called with the
 * old root at /oldroot and the new root as cwd. */
static void setup_work(const struct sbx_config *c)
{
    char opts[128], h[PATH_MAX + 16], src[PATH_MAX + 300], dst[300];
    char buf[4096] __attribute__((aligned(8)));
    ssize_t n;

    snprintf(opts, sizeof opts, "size=%llum,nr_inodes=%llu,mode=0700,uid=%u,gid=%u",
             (unsigned long long)c->disk_mb, (unsigned long long)c->disk_inodes,
             (unsigned)c->run_uid, (unsigned)c->run_uid);
    CHECK(mount("tmpfs", "work", "tmpfs", MS_NOSUID | MS_NODEV, opts), "tmpfs /work");
    host(c->workdir, h, sizeof h);
    int dfd = open(h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dfd, c->workdir);
    while ((n = getdents64(dfd, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            struct dirent64 *e = (struct dirent64 *)(void *)(buf + off);
            struct stat sb;
            off += e->d_reclen;
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
                fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
                continue;
            if (snprintf(dst, sizeof dst, "work/%s", e->d_name) >= (int)sizeof dst)
                fail(SBX_REP_SETUP, "upload name too long", ENAMETOOLONG);
            int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            CHECK(fd, "upload mount point in /work");
            close(fd);
            snprintf(src, sizeof src, "%s/%s", h, e->d_name);
            bind_ro_rw(src, dst, true, MS_NOSUID | MS_NODEV);
        }
    }
    CHECK(n, "read the work dir");
    close(dfd);
}

/* The first half of the root, the same for every deployment: / private, a tmpfs root with
 * pivot_root (the old root stays at /oldroot), ro /usr and its symlinks, /dev, /tmp, the mount
 * points of /work and /proc, and /proc itself. A pooled helper's init runs it ahead of time. */
static void setup_root_base(const struct sbx_config *c)
{
    static const char *const devs[] = {"null", "zero", "urandom"};
    static const char *const links[][2] = {
        {"usr/bin", "bin"},
        {"usr/lib", "lib"},
        {"usr/sbin", "sbin"},
        {"/proc/self/fd", "dev/fd"},
        {"/proc/self/fd/0", "dev/stdin"},
        {"/proc/self/fd/1", "dev/stdout"},
        {"/proc/self/fd/2", "dev/stderr"},
    };
    char h[PATH_MAX + 16];
    CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "make / private");
    CHECK(mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755"),
          "tmpfs root");
    CHECK(mkdir(NEWROOT "/oldroot", 0700), "mkdir oldroot");
    CHECK(syscall(SYS_pivot_root, NEWROOT, NEWROOT "/oldroot"), "pivot_root");
    CHECK(chdir("/"), "chdir new root");
    CHECK(mkdir("usr", 0755), "mkdir usr");
    bind_ro_rw(host("/usr", h, sizeof h), "usr", true, MS_NOSUID | MS_NODEV);
    CHECK(mkdir("dev", 0755), "mkdir dev");
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        CHECK(symlink(links[i][0], links[i][1]), links[i][1]);
    if (access("/oldroot/usr/lib64", F_OK) == 0)
        CHECK(symlink("usr/lib64", "lib64"), "lib64");
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        char src[32], dst[32];
        snprintf(src, sizeof src, "/oldroot/dev/%s", devs[i]);
        snprintf(dst, sizeof dst, "dev/%s", devs[i]);
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        CHECK(fd, dst);
        close(fd);
        CHECK(mount(src, dst, NULL, MS_BIND, NULL), src);
    }
    CHECK(mkdir("tmp", 01777), "mkdir tmp");
    {
        char opts[96];
        snprintf(opts, sizeof opts, "size=64m,nr_inodes=%llu,mode=1777",
                 (unsigned long long)c->disk_inodes);
        CHECK(mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts), "tmpfs /tmp");
    }
    CHECK(mkdir("work", 0755), "mkdir work");
    CHECK(mkdir("proc", 0555), "mkdir proc");
    if (c->clone_flags & CLONE_NEWPID) {
        CHECK(mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "mount proc");
        /* As bwrap: the kernel knobs under /proc stay read-only even to the userns root. */
        static const char *const ro[] = {"proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus"};
        for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
            if (access(ro[i], F_OK) == 0)
                bind_ro_rw(ro[i], ro[i], true, MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
}

/* The second half of the root, which needs the deployment's files: /work with the uploaded
 * files, the --ro-bind extras; then the old root is detached and / made read-only. Called
 * after setup_root_base, with the old root still at /oldroot. */
static void setup_root_job(const struct sbx_config *c)
{
    char h[PATH_MAX + 16];
    setup_work(c);
    for (int i = 0; i < c->nbinds; i++) {
        struct stat sb;
        const char *rel = c->binds[i].dst + 1; /* validated absolute at parse time */
        host(c->binds[i].src, h, sizeof h);
        CHECK(stat(h, &sb), c->binds[i].src);
        mkdirs(rel, !S_ISDIR(sb.st_mode));
        bind_ro_rw(h, rel, true, MS_NOSUID | MS_NODEV);
    }
    CHECK(umount2("/oldroot", MNT_DETACH), "detach old root");
    CHECK(rmdir("/oldroot"), "rmdir oldroot");
    CHECK(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL),
          "remount / read-only");
    CHECK(chdir("/work"), "chdir /work");
}

static void lo_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(s, "socket for lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    CHECK(ioctl(s, SIOCGIFFLAGS, &ifr), "get lo flags");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    CHECK(ioctl(s, SIOCSIFFLAGS, &ifr), "lo up");
    close(s);
}

static void set_rlimits(const struct sbx_config *c)
{
    struct {
        int res;
        rlim_t val;
    } lim[] = {
        {RLIMIT_FSIZE, (rlim_t)1 << 30},
        {RLIMIT_NOFILE, 1024},
        {RLIMIT_CORE, 0},
        {RLIMIT_MEMLOCK, 64 << 10},
        {RLIMIT_MSGQUEUE, 0},
        {RLIMIT_NPROC, c->pids},
        {RLIMIT_CPU, c->timeout_ms ? (c->timeout_ms + c->grace_ms) / 1000 + 1 : RLIM_INFINITY},
        {RLIMIT_AS, c->rlimit_as ? (rlim_t)c->memory_mb << 20 : RLIM_INFINITY},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        if (lim[i].val == RLIM_INFINITY)
            continue;
        struct rlimit r = {lim[i].val, lim[i].val};
        struct rlimit cur;
        /* Never raise a limit the engine already lowered. */
        if (getrlimit(lim[i].res, &cur) == 0 && cur.rlim_max < r.rlim_max)
            r.rlim_cur = r.rlim_max = cur.rlim_max;
        CHECK(setrlimit(lim[i].res, &r), "setrlimit");
    }
}

static void drop_privileges(const struct sbx_config *c)
{
    if (c->clone_flags & CLONE_NEWUSER || c->drop_outside_uid) {
        for (int cap = 0; cap <= 63; cap++)
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
                break;
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (c->run_uid == 0)
            /* Inside root (the non-root single mapping): exec must not grant capabilities. */
            CHECK(prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
                                               SECBIT_NO_SETUID_FIXUP |
                                               SECBIT_NO_SETUID_FIXUP_LOCKED),
                  "securebits");
        if (c->drop_outside_uid)
            CHECK(setgroups(0, NULL), "setgroups");
        if (c->run_uid != 0) {
            CHECK(setresgid(c->run_uid, c->run_uid, c->run_uid), "setresgid");
            CHECK(setresuid(c->run_uid, c->run_uid, c->run_uid), "setresuid");
        }
    }
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs");
}

static void __attribute__((noreturn))
payload(struct sbx_config *c, const sigset_t *oldmask, pid_t init)
{
    /* Without a pid namespace the init's death does not end the payload: die with it. */
    CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "payload pdeathsig");
    if (getppid() != init)
        _exit(SBX_EXIT_SETUP);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(fd, "open /dev/null");
    CHECK(dup2(fd, 0), "stdin");
    close(fd);
    /* A shared network namespace (netshare.c): abstract unix sockets and signals scoped to
     * this sandbox's own Landlock domain; no_new_privs is set already. */
    if (c->landlock_scope)
        CHECK(sbx_landlock_scope(), "landlock scope");
    if (c->filter.len)
        CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &c->filter, 0, 0), "seccomp");
    int keep[1] = {report_fd};
    close_except(keep, 1);
    const char *prog = c->argv[0];
    if (strchr(prog, '/')) {
        /* ETXTBSY: the payload's file is open for writing somewhere; with the engine that is a
         * helper being spawned while the engine copied this file, holding the copy's O_CLOEXEC
         * fd until its own execve (a window of microseconds to milliseconds). Wait for it to
         * let go, a bounded time, rather than fail the deployment. */
        for (int i = 0; i < SBX_TXTBSY_TRIES; i++) {
            struct timespec ts = {0, 1000 * 1000};
            execv(prog, c->argv);
            if (errno != ETXTBSY)
                break;
            nanosleep(&ts, NULL);
        }
    } else {
        /* PATH search inside the sandbox; the engine's PATH means nothing here. */
        static const char *const path[] = {"/usr/local/bin", "/usr/bin", "/bin"};
        int err = ENOENT;
        for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", path[i], prog);
            execv(p, c->argv);
            if (errno != ENOENT)
                err = errno;
        }
        errno = err;
    }
    fail(SBX_REP_EXEC, prog, errno);
}

/* Which caps /work (the cwd) has reached: SBX_DISK_BYTES when no block is free,
 * SBX_DISK_INODES when no inode is; tmpfs allocates whole pages, so a write that met ENOSPC
 * leaves no free block. 0 when neither or unknown. */
static int work_full(void)
{
    struct statvfs sv;
    if (statvfs(".", &sv) < 0)
        return 0;
    return (sv.f_bavail == 0 ? SBX_DISK_BYTES : 0) | (sv.f_favail == 0 ? SBX_DISK_INODES : 0);
}

/* Read exactly n bytes from fd into buf; _exit when the helper is gone. */
static void read_full(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            _exit(SBX_EXIT_SETUP);
        got += (size_t)r;
    }
}

/* Pool mode: take the job from the go pipe (struct sbx_job_hdr, then argv and the binds) into
 * c, whose strings then point into static buffers of this process (no malloc after the clone).
 * _exit when the helper is gone; a malformed job is a setup failure. */
static void read_job(struct sbx_config *c, int fd)
{
    static struct sbx_job_hdr h;
    static char blob[SBX_JOB_MAX];
    static char *argv[SBX_JOB_MAXARGS + 1];
    read_full(fd, &h, sizeof h);
    if (h.len > sizeof blob || h.argc < 1 || h.argc > SBX_JOB_MAXARGS || h.nbinds < 0 ||
        h.nbinds > SBX_MAX_BINDS)
        fail(SBX_REP_SETUP, "malformed job", EINVAL);
    read_full(fd, blob, h.len);
    size_t off = 0;
    for (int i = 0; i < h.argc + 2 * h.nbinds; i++) {
        const char *end = off < h.len ? memchr(blob + off, 0, h.len - off) : NULL;
        if (!end)
            fail(SBX_REP_SETUP, "malformed job", EINVAL);
        if (i < h.argc)
            argv[i] = blob + off;
        else if ((i - h.argc) % 2 == 0)
            c->binds[(i - h.argc) / 2].src = blob + off;
        else
            c->binds[(i - h.argc) / 2].dst = blob + off;
        off = (size_t)(end - blob) + 1;
    }
    argv[h.argc] = NULL;
    h.id[sizeof h.id - 1] = 0;
    h.workdir[sizeof h.workdir - 1] = 0;
    memcpy(c->id, h.id, sizeof c->id);
    c->workdir = h.workdir;
    c->timeout_ms = h.timeout_ms;
    c->disk_mb = h.disk_mb;
    c->pids = h.pids;
    c->memory_mb = h.memory_mb;
    c->rlimit_as = h.rlimit_as;
    c->nbinds = h.nbinds;
    c->argv = argv;
}

void sbx_child_main(struct sbx_config *c, int release_fd, int rep_fd, int result_fd)
{
    report_fd = rep_fd;
    int keep[3] = {release_fd, rep_fd, result_fd};
    sort_fds(keep, 3);
    close_except(keep, 3);

    char go;
    if (read(release_fd, &go, 1) != 1)
        _exit(SBX_EXIT_SETUP); /* the helper is gone */
    if (c->clone_flags & CLONE_NEWUSER) {
        CHECK(setresgid(0, 0, 0), "setresgid(0) in userns");
        CHECK(setresuid(0, 0, 0), "setresuid(0) in userns");
    }
    CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "pdeathsig");
    struct pollfd pf = {.fd = release_fd, .events = POLLIN};
    if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR)) && !(pf.revents & POLLIN))
        _exit(SBX_EXIT_SETUP);

    if (c->clone_flags & CLONE_NEWNS)
        setup_root_base(c);
    if (c->clone_flags & CLONE_NEWNET)
        lo_up();
    if (c->pool) {
        /* Prepared: wait for the job (it replaces the second go byte of a cold start). */
        read_job(c, release_fd);
        if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR)) && !(pf.revents & POLLIN))
            _exit(SBX_EXIT_SETUP);
    }
    if (c->clone_flags & CLONE_NEWNS)
        setup_root_job(c);
    else
        CHECK(chdir(c->workdir), c->workdir);
    if (c->clone_flags & CLONE_NEWUTS) {
        char host[80];
        snprintf(host, sizeof host, "sbx-%s", c->id);
        CHECK(sethostname(host, strlen(host)), "sethostname");
    }
    if (c->nice)
        CHECK(setpriority(PRIO_PROCESS, 0, c->nice), "nice");
    set_rlimits(c);
    CHECK(setsid(), "setsid");
    if (!(c->clone_flags & CLONE_NEWPID))
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (!c->unsandboxed)
        drop_privileges(c);
    /* The uid switch just cleared the parent-death signal (the kernel resets it whenever the
     * effective ids change, commit_creds): set it again now that no id change follows, so a
     * SIGKILLed helper still takes the whole sandbox with it. */
    CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "pdeathsig after the uid switch");

    /* The second go byte: the helper has attached us to every cgroup. EOF, or a hang-up seen
     * after the byte (the helper died before the prctl above could arm), ends the sandbox.
     * A pooled init had its job instead. */
    if (!c->pool && read(release_fd, &go, 1) != 1)
        _exit(SBX_EXIT_SETUP);
    pf.revents = 0;
    if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR)))
        _exit(SBX_EXIT_SETUP);
    close(release_fd);

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1); /* pause and resume, from the helper (pause.c) */
    sigaddset(&set, SIGUSR2);
    /* The helper blocked these already; the payload gets an empty mask. */
    sigprocmask(SIG_BLOCK, &set, &old);
    sigemptyset(&old);
    pid_t init = getpid();
    pid_t pid = fork();
    CHECK(pid, "fork payload");
    if (pid == 0)
        payload(c, &old, init);
    close(rep_fd);

    /* /work is the sandbox's own tmpfs only with a mount namespace: watch it for its caps. */
    bool watch = (c->clone_flags & CLONE_NEWNS) && !c->unsandboxed;
    int disk_full = 0;
    bool pid1 = init == 1, forwarded = false;
    for (;;) {
        siginfo_t si;
        static const struct timespec tick = {0, 250000000};
        int s = watch ? sigtimedwait(&set, &si, &tick) : sigwaitinfo(&set, &si);
        if (watch)
            disk_full |= work_full();
        if (s < 0)
            continue;
        if (s == SIGUSR1 || s == SIGUSR2) {
            /* Pause or resume every other process of the namespace (pause.c); without one
             * the helper signals the session itself. */
            if (pid1)
                kill(-1, s == SIGUSR1 ? SIGSTOP : SIGCONT);
            continue;
        }
        if (s != SIGCHLD) {
            if (si.si_pid == getpid() || forwarded)
                continue;
            forwarded = true;
            /* PID 1 of its own namespace: -1 reaches every other process in it. Without a pid
             * namespace only the payload's session can be reached from here. */
            if (pid1)
                kill(-1, SIGTERM);
            else
                kill(-getpgrp(), SIGTERM);
            continue;
        }
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
            if (w != pid)
                continue;
            struct sbx_result res = {.status = st, .disk_full = disk_full};
            if (write(result_fd, &res, sizeof res) < 0) {
                /* the helper reads the wait status; without it it reports the init's */
            }
            _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
    }
}
