/*
 * bgjob.c: commands the daemon runs as its children (bgjob.h).
 *
 * One thread per job waits for its child (waitpid on that pid only, so the
 * sandbox helpers the providers wait for are never reaped here), then
 * records the exit and logs the job's end. The jobs table only grows: a
 * job is a few hundred bytes and its log stays readable after it ended.
 */
#define _GNU_SOURCE
#include "bgjob.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARGS_MAX 64

extern char **environ;

struct job {
    int64_t id;
    pid_t pid;
    int ended, status; /* under b->lock */
    char log[PATH_MAX];
    pthread_t waiter;
};

struct bgjobs {
    pthread_mutex_t lock;
    struct evlog *log;
    char store_path[PATH_MAX];
    struct job **jobs;
    size_t n;
};

struct bgjobs *bgjobs_new(const char *store_path, struct evlog *l)
{
    struct bgjobs *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    pthread_mutex_init(&b->lock, NULL);
    b->log = l;
    snprintf(b->store_path, sizeof b->store_path, "%s", store_path);
    return b;
}

void bgjobs_free(struct bgjobs *b)
{
    if (b == NULL)
        return;
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->n; i++)
        if (!b->jobs[i]->ended)
            kill(b->jobs[i]->pid, SIGTERM); /* it stops its deployments, as on a terminal */
    pthread_mutex_unlock(&b->lock);
    for (size_t i = 0; i < b->n; i++) {
        pthread_join(b->jobs[i]->waiter, NULL);
        free(b->jobs[i]);
    }
    free(b->jobs);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

struct waiter_arg {
    struct bgjobs *b;
    struct job *j;
};

static void *waiter(void *arg)
{
    struct waiter_arg w = *(struct waiter_arg *)arg;
    int st = 0, code;
    char ev[128];

    free(arg);
    while (waitpid(w.j->pid, &st, 0) < 0 && errno == EINTR)
        ;
    code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    pthread_mutex_lock(&w.b->lock);
    w.j->ended = 1;
    w.j->status = code;
    pthread_mutex_unlock(&w.b->lock);
    snprintf(ev, sizeof ev, "{\"type\":\"job\",\"job\":%" PRId64 ",\"exitCode\":%d}", w.j->id,
             code);
    evlog_append(w.b->log, ev);
    return NULL;
}

/* The job's log: $XDG_STATE_HOME/swarmdeck/jobs/job-N.log (0700 dir, 0600). */
static int open_log(struct job *j, struct sd_err *err)
{
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[PATH_MAX - 64];
    int fd;

    if (x && *x)
        snprintf(dir, sizeof dir, "%s/swarmdeck/jobs", x);
    else
        snprintf(dir, sizeof dir, "%s/.local/state/swarmdeck/jobs", home ? home : "/tmp");
    if (sd_mkdir_p(dir, 0700) != 0)
        return sd_err_set(err, SD_EENV, "cannot make %s: %s", dir, strerror(errno));
    snprintf(j->log, sizeof j->log, "%s/job-%d-%" PRId64 ".log", dir, (int)getpid(), j->id);
    fd = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return sd_err_set(err, SD_EENV, "cannot create %s: %s", j->log, strerror(errno));
    return fd;
}

int bgjob_start(struct bgjobs *b, const char *command, json_t *args, const char *cwd, int64_t *id,
                struct sd_err *err)
{
    char *argv[ARGS_MAX + 8];
    size_t n = 0, i;
    json_t *v;
    struct job *j;
    struct job **grown;
    struct waiter_arg *w;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int fd, rc;

    if (strcmp(command, "benchmark") != 0)
        return sd_err_set(err, SD_EUSAGE, "the daemon runs \"benchmark\" only, not \"%s\"",
                          command);
    if (!json_is_array(args) || json_array_size(args) > ARGS_MAX)
        return sd_err_set(err, SD_EUSAGE, "\"args\" must be an array of at most %d strings",
                          ARGS_MAX);
    if (cwd == NULL || cwd[0] != '/')
        return sd_err_set(err, SD_EUSAGE, "\"cwd\" must be an absolute path");
    json_array_foreach(args, i, v) if (!json_is_string(v)) return sd_err_set(
        err, SD_EUSAGE, "\"args\" must be an array of strings");
    if ((j = calloc(1, sizeof *j)) == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    pthread_mutex_lock(&b->lock);
    j->id = (int64_t)b->n + 1;
    grown = realloc(b->jobs, (b->n + 1) * sizeof *b->jobs);
    pthread_mutex_unlock(&b->lock);
    if (grown == NULL) {
        free(j);
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    if ((fd = open_log(j, err)) < 0) {
        pthread_mutex_lock(&b->lock);
        b->jobs = grown;
        pthread_mutex_unlock(&b->lock);
        free(j);
        return -1;
    }
    argv[n++] = "swarmdeck";
    argv[n++] = "--db";
    argv[n++] = b->store_path;
    argv[n++] = "--no-daemon";
    argv[n++] = (char *)command;
    json_array_foreach(args, i, v) argv[n++] = (char *)json_string_value(v);
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID); /* no terminal's signals reach it */
    rc = posix_spawn(&j->pid, "/proc/self/exe", &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    close(fd);
    pthread_mutex_lock(&b->lock);
    b->jobs = grown;
    if (rc != 0) {
        pthread_mutex_unlock(&b->lock);
        unlink(j->log);
        free(j);
        return sd_err_set(err, rc == ENOENT ? SD_EUSAGE : SD_EENV, "cannot start %s in %s: %s",
                          command, cwd, strerror(rc));
    }
    b->jobs[b->n++] = j;
    pthread_mutex_unlock(&b->lock);
    w = malloc(sizeof *w);
    if (w == NULL ||
        (*w = (struct waiter_arg){b, j}, pthread_create(&j->waiter, NULL, waiter, w)) != 0) {
        /* Cannot watch it: stop it now rather than leave it unaccounted. */
        free(w);
        kill(j->pid, SIGKILL);
        waitpid(j->pid, NULL, 0);
        pthread_mutex_lock(&b->lock);
        j->ended = 1;
        j->status = 128 + SIGKILL;
        b->n--;
        pthread_mutex_unlock(&b->lock);
        free(j);
        return sd_err_set(err, SD_EENV, "cannot watch the job");
    }
    *id = j->id;
    return 0;
}

static struct job *find(struct bgjobs *b, int64_t id)
{
    return id >= 1 && (size_t)id <= b->n ? b->jobs[id - 1] : NULL;
}

json_t *bgjob_log(struct bgjobs *b, int64_t id, uint64_t from, size_t max, struct sd_err *err)
{
    struct job *j;
    char *buf;
    ssize_t got = 0;
    int fd, ended, status;
    pid_t pid;
    json_t *o;

    pthread_mutex_lock(&b->lock);
    j = find(b, id);
    ended = j ? j->ended : 0;
    status = j ? j->status : 0;
    pid = j ? j->pid : 0;
    pthread_mutex_unlock(&b->lock);
    if (j == NULL) {
        sd_err_set(err, SD_EUSAGE, "job %" PRId64 " is not known here", id);
        return NULL;
    }
    if ((buf = malloc(max + 1)) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    if ((fd = open(j->log, O_RDONLY | O_CLOEXEC)) >= 0) {
        got = pread(fd, buf, max, (off_t)from);
        close(fd);
    }
    if (got < 0)
        got = 0;
    /* The log is a terminal's output: pass it on as bytes a JSON string can
     * hold (an invalid UTF-8 byte becomes '?'), the offset counting bytes. */
    for (ssize_t k = 0; k < got; k++)
        if ((unsigned char)buf[k] >= 0x80 || buf[k] == '\0')
            buf[k] = '?';
    o = json_pack("{s:I, s:I, s:s#, s:b, s:o, s:i}", "job", (json_int_t)id, "from",
                  (json_int_t)from, "text", buf, (int)got, "ended", ended, "exitCode",
                  ended ? json_integer(status) : json_null(), "pid", (int)pid);
    free(buf);
    return o;
}

int bgjob_interrupt(struct bgjobs *b, int64_t id, struct sd_err *err)
{
    struct job *j;
    int rc = 0;

    pthread_mutex_lock(&b->lock);
    j = find(b, id);
    if (j == NULL)
        rc = sd_err_set(err, SD_EUSAGE, "job %" PRId64 " is not known here", id);
    else if (j->ended)
        rc = sd_err_set(err, SD_EUSAGE, "job %" PRId64 " has ended", id);
    else
        kill(j->pid, SIGINT);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

size_t bgjobs_running(struct bgjobs *b)
{
    size_t n = 0;
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->n; i++)
        n += !b->jobs[i]->ended;
    pthread_mutex_unlock(&b->lock);
    return n;
}
