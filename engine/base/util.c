/*
 * util.c: error values, aborting allocators, clocks and paths (see util.h).
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <spawn.h>
#include <sys/wait.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int sd_err_set(struct sd_err *e, int code, const char *fmt, ...)
{
    if (e != NULL) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void sd_err_prefix(struct sd_err *e, const char *fmt, ...)
{
    char pre[256], old[sizeof e->msg];
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* Truncation is acceptable: the message stays a valid string. */
    if (snprintf(e->msg, sizeof e->msg, "%s: %s", pre, old) < 0)
        e->msg[0] = '\0';
}

int sd_err_exit_status(int code)
{
    switch (code) {
    case SD_OK:
        return 0;
    case SD_EFAIL:
        return 1;
    case SD_EUSAGE:
        return 2;
    default:
        return 3;
    }
}

static void oom(size_t n)
{
    fprintf(stderr, "swarmdeck: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        oom(strlen(s) + 1);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return p;
}

uint64_t sd_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t sd_now_ms(void)
{
    const char *fixed = getenv("SWARMDECK_CLOCK");
    struct timespec ts;

    if (fixed != NULL && strncmp(fixed, "fixed:", 6) == 0)
        return strtoll(fixed + 6, NULL, 10);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *sd_exe_dir(void)
{
    static char dir[PATH_MAX];
    static int done;

    /* Benign race: every thread computes the same value. */
    if (!done) {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        char *slash;
        if (n <= 0) {
            strcpy(dir, ".");
        } else {
            dir[n] = '\0';
            slash = strrchr(dir, '/');
            if (slash == dir)
                slash[1] = '\0';
            else if (slash != NULL)
                *slash = '\0';
        }
        done = 1;
    }
    return dir;
}

int sd_mkdir_p(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* --- removing a tree a hostile program made ------------------------------------------------
 *
 * Iterative, in constant stack and two open directories, whatever the tree's depth or width:
 * the walk keeps one fd on the current directory and goes back up through "..", checking it
 * against the (dev, ino) it recorded on the way down (a heap stack), so a directory moved
 * under it ends the walk instead of unlinking elsewhere. Nothing is followed: symlinks are
 * unlinked, FIFOs and sockets are never opened, only directories are (O_NOFOLLOW). A
 * directory without write or search permission is chmod'ed 0700 first (ours to change: it
 * lies in our tree). A directory that cannot be emptied is remembered (a small list), so the
 * walk never loops on it, and counts as a leftover. */

struct rm_id {
    dev_t dev;
    ino_t ino;
};

struct rm_walk {
    struct rm_id *up; /* the ancestors of the current directory */
    size_t nup, capup;
    struct rm_id *bad; /* directories that could not be emptied */
    size_t nbad, capbad;
    size_t left;
    char *why;
    size_t whyn;
};

static int rm_push(struct rm_id **v, size_t *n, size_t *cap, struct rm_id id)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct rm_id *nv = realloc(*v, nc * sizeof *nv);
        if (nv == NULL)
            return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = id;
    return 0;
}

static int rm_is_bad(const struct rm_walk *w, dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < w->nbad; i++)
        if (w->bad[i].dev == dev && w->bad[i].ino == ino)
            return 1;
    return 0;
}

static void rm_leftover(struct rm_walk *w, const char *name, int err)
{
    if (w->left++ == 0 && w->why != NULL)
        snprintf(w->why, w->whyn, "%s: %s", name, strerror(err));
}

/* One pass over the directory open as fd: unlink what is not a directory, rmdir empty
 * directories, and return the fd of the first non-empty subdirectory to descend into (its
 * identity in *sub), or -1 when the pass is complete. */
static int rm_pass(struct rm_walk *w, int fd, struct rm_id *sub)
{
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *e;
    int next = -1;

    if (d == NULL) {
        if (dfd >= 0)
            close(dfd);
        rm_leftover(w, ".", errno);
        return -1;
    }
    rewinddir(d);
    while (next < 0 && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        struct stat st;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* gone meanwhile */
        if (!S_ISDIR(st.st_mode)) {
            if (unlinkat(fd, n, 0) != 0 && errno != ENOENT) {
                int err = errno;
                /* A parent without write permission: ours to fix. */
                if (!(err == EACCES || err == EPERM) || fchmod(fd, 0700) != 0 ||
                    (unlinkat(fd, n, 0) != 0 && errno != ENOENT))
                    rm_leftover(w, n, err);
            }
            continue;
        }
        if (rm_is_bad(w, st.st_dev, st.st_ino) || unlinkat(fd, n, AT_REMOVEDIR) == 0 ||
            errno == ENOENT)
            continue;
        if (errno != ENOTEMPTY && errno != EEXIST && errno != EACCES && errno != EPERM) {
            rm_leftover(w, n, errno); /* e.g. a mount point (EBUSY) */
            rm_push(&w->bad, &w->nbad, &w->capbad, (struct rm_id){st.st_dev, st.st_ino});
            continue;
        }
        next = openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == EACCES) {
            /* No search or read permission for us: chmod it (never through a symlink). */
            if (fchmodat(fd, n, 0700, AT_SYMLINK_NOFOLLOW) != 0 &&
                (errno == ENOTSUP || errno == EOPNOTSUPP))
                fchmodat(fd, n, 0700, 0);
            next = openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        struct stat cs;
        if (next >= 0 &&
            (fstat(next, &cs) != 0 || cs.st_dev != st.st_dev || cs.st_ino != st.st_ino)) {
            close(next);
            next = -1;
            errno = ESTALE;
        }
        if (next < 0) {
            rm_leftover(w, n, errno);
            rm_push(&w->bad, &w->nbad, &w->capbad, (struct rm_id){st.st_dev, st.st_ino});
            continue;
        }
        if ((cs.st_mode & 0700) != 0700)
            fchmod(next, 0700);
        *sub = (struct rm_id){cs.st_dev, cs.st_ino};
    }
    closedir(d);
    return next;
}

int sd_rm_rf_why(const char *path, char *why, size_t whyn)
{
    struct rm_walk w = {.why = why, .whyn = whyn};
    struct stat st;
    struct rm_id cur;
    int fd, rc;

    if (why != NULL && whyn > 0)
        why[0] = '\0';
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        rm_leftover(&w, path, errno);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) == 0 || errno == ENOENT)
            return 0;
        rm_leftover(&w, path, errno);
        return -1;
    }
    if ((st.st_mode & 0700) != 0700)
        chmod(path, 0700);
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        rm_leftover(&w, path, errno);
        return -1;
    }
    cur = (struct rm_id){st.st_dev, st.st_ino};
    for (;;) {
        struct rm_id sub;
        int next = rm_pass(&w, fd, &sub);
        if (next >= 0) {
            if (rm_push(&w.up, &w.nup, &w.capup, cur) != 0) {
                close(next);
                rm_leftover(&w, path, ENOMEM);
                break;
            }
            close(fd);
            fd = next;
            cur = sub;
            continue;
        }
        /* This directory is as empty as it gets. */
        if (w.nup == 0)
            break;
        struct stat ps;
        int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct rm_id want = w.up[w.nup - 1];
        if (up < 0 || fstat(up, &ps) != 0 || ps.st_dev != want.dev || ps.st_ino != want.ino) {
            if (up >= 0)
                close(up);
            rm_leftover(&w, path, ESTALE); /* moved under us: stop here */
            break;
        }
        /* Non-empty still (a leftover inside)? Then the parent must not come back to it. */
        {
            int probe = dup(fd);
            DIR *d = probe >= 0 ? fdopendir(probe) : NULL;
            struct dirent *e;
            int empty = 1;
            if (d != NULL)
                rewinddir(d); /* the dup shares the offset the pass left at the end */
            while (d != NULL && (e = readdir(d)) != NULL)
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                    empty = 0;
                    break;
                }
            if (d != NULL)
                closedir(d);
            else if (probe >= 0)
                close(probe);
            if (!empty)
                rm_push(&w.bad, &w.nbad, &w.capbad, cur);
        }
        close(fd);
        fd = up;
        cur = want;
        w.nup--;
    }
    close(fd);
    if (w.left == 0 && rmdir(path) != 0 && errno != ENOENT)
        rm_leftover(&w, path, errno);
    rc = w.left == 0 ? 0 : -1;
    if (rc != 0 && why != NULL && whyn > 0) {
        char tail[64];
        snprintf(tail, sizeof tail, " (%zu entr%s left)", w.left, w.left == 1 ? "y" : "ies");
        if (strlen(why) + strlen(tail) < whyn)
            strcat(why, tail);
    }
    free(w.up);
    free(w.bad);
    return rc;
}

int sd_rm_rf(const char *path)
{
    return sd_rm_rf_why(path, NULL, 0);
}

const char *sd_runtime_dir(void)
{
    static char dir[PATH_MAX];
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    struct stat st;

    /* A sandbox binds its work dir as its own unprivileged (mapped) uid, which
     * must be able to traverse every parent: a 0700 runtime dir (the usual
     * /run/user/UID) cannot hold work dirs. */
    if (xdg != NULL && xdg[0] == '/' && access(xdg, W_OK) == 0 && stat(xdg, &st) == 0 &&
        (st.st_mode & S_IXOTH))
        snprintf(dir, sizeof dir, "%s/swarmdeck", xdg);
    else
        snprintf(dir, sizeof dir, "/tmp/swarmdeck-%u", (unsigned)getuid());
    return dir;
}

const char *sd_default_db(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("SWARMDECK_DB"), *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");

    if (env != NULL && env[0] != '\0')
        snprintf(path, sizeof path, "%s", env);
    else if (xdg != NULL && xdg[0] == '/')
        snprintf(path, sizeof path, "%s/swarmdeck/swarmdeck.db", xdg);
    else
        snprintf(path, sizeof path, "%s/.local/share/swarmdeck/swarmdeck.db",
                 home != NULL ? home : ".");
    return path;
}

int sd_spawn_capture(char *const argv[], int merge_stderr, size_t max, char **out, size_t *len,
                     int *status, struct sd_err *err)
{
    posix_spawn_file_actions_t fa;
    int fds[2], rc;
    size_t cap = 4096, n = 0;
    char *buf, chunk[8192];
    ssize_t r;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return sd_err_set(err, SD_EENV, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (merge_stderr)
        posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return sd_err_set(err, SD_EENV, "cannot run %s: %s", argv[0], strerror(rc));
    }
    buf = xmalloc(cap);
    while ((r = read(fds[0], chunk, sizeof chunk)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (n + (size_t)r + 1 > cap && n < max) {
            while (n + (size_t)r + 1 > cap)
                cap *= 2;
            buf = xrealloc(buf, cap);
        }
        if (n + (size_t)r + 1 <= cap) {
            memcpy(buf + n, chunk, (size_t)r);
            n += (size_t)r;
        }
    }
    close(fds[0]);
    buf[n] = '\0';
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    *out = buf;
    if (len != NULL)
        *len = n;
    return 0;
}

uint64_t proc_start_time(int pid)
{
    char path[64], buf[1024];
    unsigned long long start = 0;
    ssize_t n;
    int fd;
    char *p;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* Field 22; the comm field (2) may contain spaces, so skip past ')'. */
    p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    p += 2;
    for (int field = 3; field < 22 && p != NULL; field++) {
        p = strchr(p, ' ');
        if (p != NULL)
            p++;
    }
    if (p == NULL || sscanf(p, "%llu", &start) != 1)
        return 0;
    return start;
}

uint64_t proc_self_start_time(void)
{
    /* One word each, so a reader never sees half of an update; a race only
     * reads /proc twice. The pid check keeps a forked child's own. */
    static _Atomic int pid;
    static _Atomic uint64_t start;
    int me = (int)getpid();

    if (atomic_load(&pid) != me) {
        atomic_store(&start, proc_start_time(me));
        atomic_store(&pid, me);
    }
    return atomic_load(&start);
}

struct timespec sd_timespec_after(int monotonic, int64_t ms)
{
    struct timespec ts;

    clock_gettime(monotonic ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
