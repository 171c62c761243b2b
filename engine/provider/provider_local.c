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
 * A sandbox's work dir is <root>/<id> (root is 0711), mode 0700; upload copies files into it
 * (never a hard link, and never over an existing name). Inside, /work is a tmpfs of the spec's
 * disk cap with these files bound read-only into it, so a strategy writes nothing on the
 * host's disk (docs/sandbox.md).
 *
 * Thread safety: a struct sbx is driven by one worker thread; signal() may be
 * called from any thread (it reads the helper pid atomically).
 */
#define _GNU_SOURCE
#include "provider.h"

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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The whole environment a sandbox sees. */
static const char *const clean_env[] = {
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "HOME=/work",
    "LANG=C.UTF-8",
    "TZ=UTC",
    "PYTHONUNBUFFERED=1",
    NULL,
};

struct local {
    char helper[512];
    char root[512];
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

static int lifeline_rd = -1, lifeline_wr = -1;
static pthread_once_t lifeline_once = PTHREAD_ONCE_INIT;

static void lifeline_init(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == 0) {
        lifeline_rd = fds[0];
        lifeline_wr = fds[1];
    }
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

static int local_upload(struct sbx *b, const char *local_path, const char *name, int executable,
                        struct sd_err *err)
{
    char dst[1024];
    int mode = executable ? 0755 : 0644;

    if (strchr(name, '/') != NULL || strcmp(name, "..") == 0 || strcmp(name, ".") == 0 ||
        name[0] == '\0')
        return sd_err_set(err, SD_EUSAGE, "invalid upload name \"%s\"", name);
    snprintf(dst, sizeof dst, "%s/%s", b->workdir, name);
    /* Always a copy, never a hard link: a link shares the inode with the operator's file, so
     * anything that wrote to the name in the work dir wrote to the original. */
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

static int build_argv(struct sbx *b, char *const argv[], char ***out)
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
    ARG(xstrdup(l->helper));
    ARG(xstrdup("--id"));
    ARG(xstrdup(b->id));
    ARG(xstrdup("--workdir"));
    ARG(xstrdup(b->workdir));
    ARG(xstrdup("--status-fd"));
    ARG(xstrdup("3"));
    ARG(xstrdup("--lifeline-fd"));
    ARG(xstrdup("4"));
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
    ARG(xstrdup("--sample-ms"));
    ARG(xstrdup("500"));
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

static int local_start(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
                       struct sbx_exit *ex, struct sd_err *err)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, st[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char **hargv = NULL;
    char stbuf[8192];
    size_t stlen = 0;
    int got_exit = 0, rc = -1, status = 0;
    pid_t pid;

    memset(ex, 0, sizeof *ex);
    ex->code = -1;
    pthread_once(&lifeline_once, lifeline_init);
    if (lifeline_rd < 0)
        return sd_err_set(err, SD_EENV, "cannot create the lifeline pipe");
    if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
        sd_err_set(err, SD_EENV, "pipe: %s", strerror(errno));
        goto done;
    }
    if (build_argv(b, argv, &hargv) != 0) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto done;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    posix_spawn_file_actions_adddup2(&fa, st[1], 3);
    posix_spawn_file_actions_adddup2(&fa, lifeline_rd, 4);
    posix_spawnattr_init(&attr);
    {
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    /* The payload inherits the helper's environment: give it a clean one, so
     * no secret of ours (SWARMDECK_KEY, E2B_API_KEY, ...) reaches a sandbox. */
    rc = posix_spawn(&pid, hargv[0], &fa, &attr, hargv, (char **)clean_env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        rc = sd_err_set(err, SD_EENV, "cannot start %s: %s", hargv[0], strerror(rc));
        goto done;
    }
    atomic_store(&b->pid, pid);
    b->pid_start = proc_start_time(pid);
    close(out[1]);
    close(errp[1]);
    close(st[1]);
    out[1] = errp[1] = st[1] = -1;

    {
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

struct provider *provider_local_new(const char *helper_path, const char *root_dir,
                                    struct sd_err *err)
{
    struct provider *p;
    struct local *l;

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
    p->ops = &local_ops;
    p->impl = l;
    snprintf(p->name, sizeof p->name, "local");
    return p;
}
