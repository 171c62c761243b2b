/*
 * provider_local.c: the local sandbox provider, engine side.
 *
 * The isolation itself lives in the small helper binary swarmdeck-sandbox
 * (engine/sandbox/, docs/sandbox.md). This file starts one helper per sandbox
 * with posix_spawn, so the big threaded engine never forks (fork cost grows
 * with the parent's memory, and fork in a threaded process is unsafe). The
 * helper gets:
 *   fd 1, 2  pipes we read: the payload inherits them directly;
 *   fd 3     a status pipe: JSON lines "started", "sample", "exit";
 *   fd 4     the read end of one process-wide lifeline pipe whose write end
 *            only this process holds: if we die, even by SIGKILL, every helper
 *            sees POLLHUP and tears its sandbox down.
 * start() polls the three pipes until all reach EOF, then reaps the helper.
 *
 * The warm pool (docs/sandbox.md "Warm pool", "Pool master"): pooled helpers (--pool) have the
 * same fds plus fd 5, a socket on which start() sends their one job. They are forked by one
 * pool master (swarmdeck-sandbox --pool-master, exec'd once, CLONE_PARENT: they are still our
 * children) and sized by demand: the first sandbox of a process goes cold; from the second
 * create a refill thread starts the master, and start() takes a ready helper or has the master
 * fork one for it at once; only once more than SWARMDECK_SANDBOX_POOL (default 4, 0 = off)
 * sandboxes were created does the refill thread keep that many ready ahead. A helper taken from
 * the pool belongs to that deployment alone.
 *
 * A sandbox's work dir is <root>/<id> (root is 0711), mode 0700; upload copies files into it
 * (never a hard link, and never over an existing name). Inside, /work is a tmpfs of the spec's
 * disk cap with these files bound read-only into it, so a strategy writes nothing on the
 * host's disk (docs/sandbox.md). A sandboxed deployment's files (its program, the market data)
 * are hard links to one shared copy per source version (shared_upload), not a copy per sandbox.
 *
 * Thread safety: a struct sbx is driven by one worker thread; signal() may be
 * called from any thread (it reads the helper pid atomically). The pool's state is under
 * struct local's mutex.
 */
#define _GNU_SOURCE
#include "provider.h"
#include "local_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The whole environment a sandbox sees. */
const char *const sd_local_clean_env[] = {
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "HOME=/work",
    "LANG=C.UTF-8",
    "TZ=UTC",
    "PYTHONUNBUFFERED=1",
    NULL,
};

struct sbx {
    struct provider *p;
    struct sbx_spec spec;
    char id[80];
    char workdir[600];
    _Atomic int pid; /* helper pid while running, else 0 */
    /* The helper said "started": its signals are blocked and read by its monitor loop, so a
     * pause signal can no longer kill it (SIGUSR1's default action) before it is ready. */
    _Atomic int started;
    uint64_t pid_start;
};

int sd_local_lifeline_rd = -1;
static int lifeline_wr = -1;
static pthread_once_t lifeline_once = PTHREAD_ONCE_INIT;

/* Move fd to a number >= 10 (close-on-exec), so the dup2s of a helper's spawn into fds 0-5 never
 * overwrite another fd they still have to read. Returns the new fd, or -1 (fd closed). */
int sd_local_fd_high(int fd)
{
    int h = fd >= 10 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 10);
    if (h != fd)
        close(fd);
    return h;
}

static void lifeline_init(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == 0) {
        sd_local_lifeline_rd = sd_local_fd_high(fds[0]);
        lifeline_wr = sd_local_fd_high(fds[1]);
    }
}

/* Signals of a spawned helper: none blocked, all default (the engine's dispositions are not
 * the helper's). */
void sd_local_spawn_attr(posix_spawnattr_t *attr)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(attr);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &all);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

/* The file actions of a helper's spawn, cold or pooled: stdin /dev/null, stdout
 * and stderr the output pipes, fd 3 the status pipe, fd 4 the lifeline, and fd 5
 * the control socket when ctl >= 0 (a pooled helper). fa must be destroyed by the
 * caller. */
void sd_local_helper_fds(posix_spawn_file_actions_t *fa, int out, int err, int st, int ctl)
{
    posix_spawn_file_actions_init(fa);
    posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(fa, out, 1);
    posix_spawn_file_actions_adddup2(fa, err, 2);
    posix_spawn_file_actions_adddup2(fa, st, 3);
    posix_spawn_file_actions_adddup2(fa, sd_local_lifeline_rd, 4);
    if (ctl >= 0)
        posix_spawn_file_actions_adddup2(fa, ctl, 5);
}

void sd_local_lifeline(void)
{
    pthread_once(&lifeline_once, lifeline_init);
}

static int local_create(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                        struct sd_err *err)
{
    struct local *l = p->impl;
    struct sbx *b;

    if (spec->id == NULL || strlen(spec->id) == 0 || strlen(spec->id) > 64 ||
        strspn(spec->id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            strlen(spec->id))
        return sd_err_set(err, SD_EUSAGE, "invalid sandbox id \"%s\"", spec->id ? spec->id : "");
    b = calloc(1, sizeof *b);
    if (b == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    b->p = p;
    b->spec = *spec;
    snprintf(b->id, sizeof b->id, "%s", spec->id);
    b->spec.id = b->id;
    if (!spec->unsandboxed)
        sd_pool_start(l); /* demand: the pool master from the second create on */
    snprintf(b->workdir, sizeof b->workdir, "%s/%s", l->root, b->id);
    if (mkdir(b->workdir, 0700) != 0) {
        int e = errno;
        free(b);
        return sd_err_set(err, SD_EENV, "cannot create work dir %s: %s", l->root, strerror(e));
    }
    *out = b;
    return 0;
}

/* Copy src to dst, a new file (O_EXCL: an existing name is refused, never opened, so no
 * upload can write through an earlier one to a file of the operator's). The copy is a
 * reflink where the file system offers one, else copy_file_range, else read/write. Only a
 * regular file is read (O_NONBLOCK: a FIFO in its place never blocks us). Returns 0, or -1
 * with err set (SD_EUSAGE for a bad source or a duplicate name, SD_EENV for a write error);
 * a partial dst is removed. */
static int copy_file(const char *src, const char *dst, const char *name, int mode,
                     struct sd_err *err)
{
    char buf[65536];
    struct stat st;
    int in, out, rc = 0;
    ssize_t n = 0;

    in = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (in < 0)
        return sd_err_set(err, SD_EUSAGE, "cannot read %s: %s", src, strerror(errno));
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        return sd_err_set(err, SD_EUSAGE, "cannot upload %s: not a regular file", src);
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (out < 0) {
        int e = errno;
        close(in);
        if (e == EEXIST)
            return sd_err_set(err, SD_EUSAGE,
                              "two files would be uploaded as \"%s\" (a strategy's files need "
                              "distinct names, and none may be named data.csv)",
                              name);
        return sd_err_set(err, SD_EENV, "cannot write %s: %s", dst, strerror(e));
    }
    if (ioctl(out, FICLONE, in) != 0) {
        off_t left = st.st_size;
        while (left > 0 && (n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0)) > 0)
            left -= n;
        if (left > 0 && lseek(in, 0, SEEK_SET) == 0 && ftruncate(out, 0) == 0 &&
            lseek(out, 0, SEEK_SET) == 0) {
            while ((n = read(in, buf, sizeof buf)) > 0) {
                if (write(out, buf, (size_t)n) != n) {
                    rc = sd_err_set(err, SD_EENV, "cannot write %s: %s", dst, strerror(errno));
                    break;
                }
            }
            if (n < 0)
                rc = sd_err_set(err, SD_EENV, "cannot read %s: %s", src, strerror(errno));
        }
    }
    close(in);
    if (fchmod(out, (mode_t)mode) != 0 && rc == 0)
        rc = sd_err_set(err, SD_EENV, "cannot chmod %s: %s", dst, strerror(errno));
    if (close(out) != 0 && rc == 0)
        rc = sd_err_set(err, SD_EENV, "cannot write %s: %s", dst, strerror(errno));
    if (rc != 0)
        unlink(dst);
    return rc;
}

/* Upload src as dst (a new name in a work dir) through one copy per version of src shared by
 * every sandbox of this process: <root>/.shared-<pid>/<dev>-<ino>-<size>-<mtime> (0644, ours),
 * hard-linked to dst. The helper binds every file of the work dir read-only into /work, so no
 * sandbox can change the shared copy, and a sandbox without a mount namespace runs as an
 * unprivileged uid that cannot write it (an --unsandboxed one never gets here). The program
 * and the market data are the same files for every deployment of a swarm: this saves a copy of
 * each per sandbox. The copy keeps mode (0644 data, 0755 a program; a name per mode).
 * Anything unusual (a source that is not a regular file, a failed link) goes to copy_file,
 * which reports it. Returns 0, or -1 with err set as copy_file does. */
static int shared_upload(struct local *l, const char *src, const char *dst, const char *name,
                         int mode, struct sd_err *err)
{
    char cache[1100], tmp[1200];
    struct stat st;

    if (stat(src, &st) != 0 || !S_ISREG(st.st_mode) ||
        (mkdir(l->shared, 0711) != 0 && errno != EEXIST))
        return copy_file(src, dst, name, mode, err);
    snprintf(cache, sizeof cache, "%s/%llx-%llx-%llx-%llx.%09ld.%o", l->shared,
             (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
             (long)st.st_mtim.tv_nsec, (unsigned)mode);
    if (access(cache, F_OK) != 0) {
        /* First use of this version: copy under a name of our own, then publish it by link
         * (atomic; a concurrent first use that won is just as good). */
        pthread_mutex_lock(&l->mu);
        unsigned seq = l->seq++;
        pthread_mutex_unlock(&l->mu);
        snprintf(tmp, sizeof tmp, "%s.tmp%u", cache, seq);
        if (copy_file(src, tmp, name, mode, err) != 0)
            return -1;
        if (link(tmp, cache) != 0 && errno != EEXIST) {
            unlink(tmp);
            return copy_file(src, dst, name, mode, err);
        }
        unlink(tmp);
    }
    if (link(cache, dst) == 0)
        return 0;
    if (errno == EEXIST)
        return sd_err_set(err, SD_EUSAGE,
                          "two files would be uploaded as \"%s\" (a strategy's files need "
                          "distinct names, and none may be named data.csv)",
                          name);
    return copy_file(src, dst, name, mode, err);
}

static int local_upload(struct sbx *b, const char *local_path, const char *name, int executable,
                        struct sd_err *err)
{
    char dst[1024];
    int mode = executable ? 0755 : 0644;

    if (strchr(name, '/') != NULL || strcmp(name, "..") == 0 || strcmp(name, ".") == 0 ||
        name[0] == '\0')
        return sd_err_set(err, SD_EUSAGE, "invalid upload name \"%s\"", name);
    snprintf(dst, sizeof dst, "%s/%s", b->workdir, name);
    /* Never a hard link to the operator's file: a link shares the inode with it, so anything
     * that wrote to the name in the work dir wrote to the original. A sandboxed deployment's
     * files, the program as well as its data: a link to our own shared copy, which the sandbox
     * sees read-only (a swarm's 200 deployments of one strategy copied its 1 MB program 200
     * times: 13 % of the engine's CPU in the swarm's profile). */
    if (!b->spec.unsandboxed)
        return shared_upload(b->p->impl, local_path, dst, name, mode, err);
    return copy_file(local_path, dst, name, mode, err);
}

/* Parse one status line from the helper. */
static void status_line(const struct sbx_callbacks *cb, struct sbx_exit *ex, const char *line,
                        int *got_exit)
{
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    const char *ev;

    if (j == NULL)
        return;
    ev = json_string_value(json_object_get(j, "event"));
    if (ev == NULL) {
        /* ignore */
    } else if (strcmp(ev, "started") == 0) {
        json_t *iso = json_object_get(j, "isolation");
        char *iso_s = iso ? json_dumps(iso, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        const char *level = json_string_value(json_object_get(j, "level"));
        if (cb->started)
            cb->started(cb->arg, iso_s ? iso_s : "{}", level ? level : "unknown");
        free(iso_s);
    } else if (strcmp(ev, "sample") == 0) {
        if (cb->sample)
            cb->sample(cb->arg, json_integer_value(json_object_get(j, "cpu_ms")),
                       json_integer_value(json_object_get(j, "mem_kb")));
    } else if (strcmp(ev, "exit") == 0) {
        json_t *code = json_object_get(j, "code"), *sig = json_object_get(j, "signal");
        ex->code = json_is_integer(code) ? (int)json_integer_value(code) : -1;
        ex->signal = json_is_integer(sig) ? (int)json_integer_value(sig) : 0;
        ex->timed_out = json_is_true(json_object_get(j, "timeout"));
        ex->oom = json_is_true(json_object_get(j, "oom"));
        ex->mem_peak_kb = json_integer_value(json_object_get(j, "mem_peak_kb"));
        ex->cpu_ms = json_integer_value(json_object_get(j, "cpu_ms"));
        ex->wall_ms = json_integer_value(json_object_get(j, "wall_ms"));
        {
            const char *full = json_string_value(json_object_get(j, "disk_full"));
            ex->disk_full = full == NULL                  ? 0
                            : strcmp(full, "inodes") == 0 ? SBX_DISK_FULL_INODES
                                                          : SBX_DISK_FULL_BYTES;
        }
        *got_exit = 1;
    }
    json_decref(j);
}

/* The helper's arguments for b running argv: the whole command line of a cold start (job 0),
 * or the job of a pooled helper (job 1: only the per-deployment options, then -- argv).
 * *out is a NULL-terminated heap array (free_argv). Returns 0 or -1 (out of memory). */
static int build_argv(struct sbx *b, char *const argv[], int job, char ***out)
{
    struct local *l = b->p->impl;
    size_t n = 0, i = 0;
    char **v;

    while (argv[n] != NULL)
        n++;
    v = calloc(n + 40, sizeof *v);
    if (v == NULL)
        return -1;
#define ARG(s) (v[i++] = (s))
    if (!job)
        ARG(xstrdup(l->helper));
    ARG(xstrdup("--id"));
    ARG(xstrdup(b->id));
    ARG(xstrdup("--workdir"));
    ARG(xstrdup(b->workdir));
    if (!job) {
        ARG(xstrdup("--status-fd"));
        ARG(xstrdup("3"));
        ARG(xstrdup("--lifeline-fd"));
        ARG(xstrdup("4"));
    }
    ARG(xstrdup("--timeout-ms"));
    ARG(xasprintf("%lld", (long long)b->spec.timeout_ms));
    if (b->spec.memory_mb > 0) {
        ARG(xstrdup("--memory-mb"));
        ARG(xasprintf("%lld", (long long)b->spec.memory_mb));
    }
    if (b->spec.cpus > 0) {
        ARG(xstrdup("--cpus"));
        ARG(xasprintf("%g", b->spec.cpus));
    }
    if (b->spec.disk_mb > 0) {
        ARG(xstrdup("--disk-mb"));
        ARG(xasprintf("%lld", (long long)b->spec.disk_mb));
    }
    if (b->spec.pids > 0) {
        ARG(xstrdup("--pids"));
        ARG(xasprintf("%d", b->spec.pids));
    }
    if (!job) {
        ARG(xstrdup("--sample-ms"));
        ARG(xstrdup("500"));
    }
    if (b->spec.strict)
        ARG(xstrdup("--strict"));
    if (b->spec.unsandboxed)
        ARG(xstrdup("--unsandboxed"));
    ARG(xstrdup("--"));
    for (size_t k = 0; k < n; k++)
        ARG(xstrdup(argv[k]));
#undef ARG
    v[i] = NULL;
    *out = v;
    return 0;
}

static void free_argv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Start b's program: through a ready helper of the warm pool when there is one and the spec
 * allows (sandboxed), else a cold start of a helper; then stream its output to cb until every pipe
 * is at EOF, and reap it. */
static int local_start(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
                       struct sbx_exit *ex, struct sd_err *err)
{
    struct local *l = b->p->impl;
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, st[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char **hargv = NULL;
    char stbuf[8192];
    size_t stlen = 0;
    int got_exit = 0, rc = -1, status = 0;
    pid_t pid;
    struct pooled e;

    memset(ex, 0, sizeof *ex);
    ex->code = -1;
    sd_local_lifeline();
    if (sd_local_lifeline_rd < 0)
        return sd_err_set(err, SD_EENV, "cannot create the lifeline pipe");
    /* A ready helper, else one forked for us now by the pool master (no exec), else cold. */
    if (!b->spec.unsandboxed && (sd_pool_take(l, &e) == 0 || sd_pool_fork_now(l, &e) == 0)) {
        if (build_argv(b, argv, 1, &hargv) != 0) {
            sd_pool_release(&e);
            return sd_err_set(err, SD_ENOMEM, "out of memory");
        }
        /* A helper that died in the pool refuses the job (EPIPE): try the next, then go cold. */
        while (sd_pool_send(e.ctl, hargv) != 0) {
            sd_pool_release(&e);
            if (sd_pool_take(l, &e) != 0) {
                e.pid = 0;
                break;
            }
        }
        free_argv(hargv);
        hargv = NULL;
        if (e.pid > 0) {
            close(e.ctl);
            out[0] = e.out;
            errp[0] = e.err;
            st[0] = e.st;
            pid = e.pid;
            atomic_store(&b->pid, pid);
            b->pid_start = e.pid_start;
            goto stream;
        }
    }
    if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
        sd_err_set(err, SD_EENV, "pipe: %s", strerror(errno));
        goto done;
    }
    out[1] = sd_local_fd_high(out[1]);
    errp[1] = sd_local_fd_high(errp[1]);
    st[1] = sd_local_fd_high(st[1]);
    if (out[1] < 0 || errp[1] < 0 || st[1] < 0) {
        sd_err_set(err, SD_EENV, "pipe: %s", strerror(errno));
        goto done;
    }
    if (build_argv(b, argv, 0, &hargv) != 0) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto done;
    }
    sd_local_helper_fds(&fa, out[1], errp[1], st[1], -1);
    sd_local_spawn_attr(&attr);
    /* The payload inherits the helper's environment: give it a clean one, so
     * no secret of ours (SWARMDECK_KEY, E2B_API_KEY, ...) reaches a sandbox. */
    rc = posix_spawn(&pid, hargv[0], &fa, &attr, hargv, (char **)sd_local_clean_env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        rc = sd_err_set(err, SD_EENV, "cannot start %s: %s", hargv[0], strerror(rc));
        goto done;
    }
    sd_local_trace(l, "cold", pid);
    atomic_store(&b->pid, pid);
    b->pid_start = proc_start_time(pid);
    close(out[1]);
    close(errp[1]);
    close(st[1]);
    out[1] = errp[1] = st[1] = -1;

stream : {
    struct pollfd pf[3] = {{out[0], POLLIN, 0}, {errp[0], POLLIN, 0}, {st[0], POLLIN, 0}};
    int open_fds = 3;
    char buf[65536];

    while (open_fds > 0) {
        if (poll(pf, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 3; i++) {
            ssize_t n;
            if (pf[i].fd < 0 || pf[i].revents == 0)
                continue;
            n = read(pf[i].fd, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                close(pf[i].fd);
                if (i == 0)
                    out[0] = -1;
                else if (i == 1)
                    errp[0] = -1;
                else
                    st[0] = -1;
                pf[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i < 2) {
                if (cb->output)
                    cb->output(cb->arg, i + 1, buf, (size_t)n);
                continue;
            }
            /* Status lines: accumulate and split. */
            for (ssize_t k = 0; k < n; k++) {
                if (buf[k] == '\n' || stlen == sizeof stbuf - 1) {
                    stbuf[stlen] = '\0';
                    if (strncmp(stbuf, "{\"event\":\"started\"", 18) == 0)
                        atomic_store(&b->started, 1);
                    status_line(cb, ex, stbuf, &got_exit);
                    stlen = 0;
                } else {
                    stbuf[stlen++] = buf[k];
                }
            }
        }
    }
}
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    atomic_store(&b->pid, 0);
    atomic_store(&b->started, 0);
    if (!got_exit) {
        /* The helper did not report: it failed before or during setup. */
        ex->setup_failed = 1;
        if (WIFEXITED(status)) {
            ex->code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            ex->signal = WTERMSIG(status);
        }
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 125) {
        ex->setup_failed = 1;
    }
    rc = 0;
done:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (errp[i] >= 0)
            close(errp[i]);
        if (st[i] >= 0)
            close(st[i]);
    }
    free_argv(hargv);
    return rc;
}

static int local_signal(struct sbx *b, int sig)
{
    int pid = atomic_load(&b->pid);
    if (pid <= 0)
        return -1;
    return kill(pid, sig);
}

/* Pause (on) or resume the whole sandbox: SIGUSR1 or SIGUSR2 to its helper, which stops or
 * continues every process in it and stops or restarts its timeout (engine/sandbox/pause.c).
 * Any thread. Returns 0, or -1 with err set when the helper is not running (yet or any more). */
static int local_pause(struct sbx *b, int on, struct sd_err *err)
{
    int pid = atomic_load(&b->pid);
    if (pid <= 0 || !atomic_load(&b->started))
        return sd_err_set(err, SD_EFAIL, "its sandbox has not started yet");
    if (kill(pid, on ? SIGUSR1 : SIGUSR2) != 0)
        return sd_err_set(err, SD_EFAIL, "its sandbox is not running");
    return 0;
}

static int local_destroy(struct sbx *b)
{
    int pid;

    if (b == NULL)
        return 0;
    pid = atomic_load(&b->pid);
    if (pid > 0)
        kill(pid, SIGKILL);
    /* The work dir holds what we uploaded, and what the payload wrote when it ran without a
     * mount namespace (else it wrote to its own tmpfs /work). Any tree, no recursion; what
     * cannot be removed is reported (-1), never fatal. */
    int rc = sd_rm_rf(b->workdir) == 0 ? 0 : -1;
    free(b);
    return rc;
}

static int local_lease_info(struct sbx *b, int *pid, uint64_t *pid_start, char *workdir, size_t n)
{
    *pid = atomic_load(&b->pid);
    *pid_start = b->pid_start;
    snprintf(workdir, n, "%s", b->workdir);
    return 0;
}

static void local_free(struct provider *p)
{
    if (p == NULL)
        return;
    if (p->impl != NULL) {
        struct local *l = p->impl;
        sd_pool_stop(l);
        sd_rm_rf(l->shared);
        if (l->trace_fd >= 0)
            close(l->trace_fd);
        pthread_mutex_destroy(&l->mmu);
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
    }
    free(p->impl);
    free(p);
}

static const struct provider_ops local_ops = {
    .name = "local",
    .create = local_create,
    .upload = local_upload,
    .start = local_start,
    .signal = local_signal,
    .pause = local_pause,
    .destroy = local_destroy,
    .lease_info = local_lease_info,
    .free = local_free,
};

/* Remove the shared-copy directories (<root>/.shared-<pid>) of processes that are gone (a
 * crash skips local_free). Best effort. */
static void shared_sweep(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char *end, path[1100];
        long pid;
        if (strncmp(e->d_name, ".shared-", 8) != 0)
            continue;
        pid = strtol(e->d_name + 8, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof path, "%s/%s", root, e->d_name);
        sd_rm_rf(path);
    }
    closedir(d);
}

struct provider *provider_local_new(const char *helper_path, const char *root_dir,
                                    struct sd_err *err)
{
    struct provider *p;
    struct local *l;
    const char *ps = getenv("SWARMDECK_SANDBOX_POOL");
    long size = POOL_DEFAULT;

    if (ps != NULL && ps[0] != '\0') {
        char *end;
        errno = 0;
        size = strtol(ps, &end, 10);
        if (errno || *end || size < 0 || size > POOL_MAX) {
            sd_err_set(err, SD_EUSAGE,
                       "SWARMDECK_SANDBOX_POOL=%s: want the number of warm sandboxes, 0 to %d "
                       "(0 turns the pool off)",
                       ps, POOL_MAX);
            return NULL;
        }
    }
    if (access(helper_path, X_OK) != 0) {
        sd_err_set(err, SD_EENV, "sandbox helper %s is missing or not executable", helper_path);
        return NULL;
    }
    /* 0711: the sandbox's mapped root (an unprivileged outside uid) must be
     * able to traverse it to bind its own work dir; nobody may list it. */
    if (sd_mkdir_p(root_dir, 0711) != 0 || chmod(root_dir, 0711) != 0) {
        sd_err_set(err, SD_EENV, "cannot create %s: %s", root_dir, strerror(errno));
        return NULL;
    }
    p = calloc(1, sizeof *p);
    l = calloc(1, sizeof *l);
    if (p == NULL || l == NULL) {
        free(p);
        free(l);
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(l->helper, sizeof l->helper, "%s", helper_path);
    snprintf(l->root, sizeof l->root, "%s", root_dir);
    snprintf(l->shared, sizeof l->shared, "%s/.shared-%d", root_dir, (int)getpid());
    shared_sweep(root_dir);
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->mmu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->size = (int)size;
    l->master_fd = -1;
    l->trace_fd = -1;
    const char *tr = getenv("SWARMDECK_SANDBOX_TRACE");
    if (tr != NULL && tr[0] != '\0')
        l->trace_fd = open(tr, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    p->ops = &local_ops;
    p->impl = l;
    snprintf(p->name, sizeof p->name, "local");
    return p;
}

void provider_local_warm(struct provider *p)
{
    sd_pool_warm(p->impl);
}
