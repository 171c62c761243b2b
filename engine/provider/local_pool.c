/*
 * local_pool.c: the local provider's warm pool of sandbox helpers and its pool master
 * (docs/sandbox.md "Warm pool", "Pool master"). Pooled helpers (swarmdeck-sandbox --pool) are
 * forked by one pool master (--pool-master, exec'd once per provider; CLONE_PARENT, so they
 * are still our children) and sized by demand: from the second sandboxed create a refill thread
 * starts the master; start() takes a ready helper or has the master fork one at once; only past
 * the pool's size does the refill thread keep that many ready ahead. The pool's state is under
 * struct local's mu; the master's socket under mmu (never both at once).
 */
#define _GNU_SOURCE
#include "provider.h"
#include "local_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the warm pool ------------------------------------------------------------------------ */

/* Test hook: with SWARMDECK_SANDBOX_TRACE set, one line per helper process this provider starts
 * ("master PID", "member PID", "pooled PID", "cold PID"), so a test can count them. */
void sd_local_trace(struct local *l, const char *what, pid_t pid)
{
    if (l->trace_fd >= 0) {
        char line[64];
        int n = snprintf(line, sizeof line, "%s %d\n", what, (int)pid);
        if (write(l->trace_fd, line, (size_t)n) != n) {
            /* a test hook: nothing to do */
        }
    }
}

/* Start the pool master (swarmdeck-sandbox --pool-master, engine/sandbox/master.c): stdin,
 * stdout and stderr /dev/null, fd 4 the lifeline, fd 5 its control socket. Sets l->master and
 * l->master_fd; on failure leaves master_fd -1 (pooled helpers are then exec'd). Called once,
 * by the refill thread, with mmu held. */
static void master_spawn(struct local *l)
{
    int sp[2];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    pid_t pid;
    char room[1025];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
        return;
    sp[0] = sd_local_fd_high(sp[0]);
    sp[1] = sd_local_fd_high(sp[1]);
    if (sp[0] < 0 || sp[1] < 0) {
        if (sp[0] >= 0)
            close(sp[0]);
        if (sp[1] >= 0)
            close(sp[1]);
        return;
    }
    /* Room in its command line: each member writes its job's arguments there, as a pooled
     * helper does (pool_spawn). */
    memset(room, ' ', sizeof room - 1);
    room[sizeof room - 1] = '\0';
    /* The opt-in shared network namespace (docs/sandbox.md "Network"): the helper's clean
     * environment does not carry SWARMDECK_SANDBOX_NETNS, so the master gets it as an option. */
    const char *nm = getenv("SWARMDECK_SANDBOX_NETNS");
    int shared = nm != NULL && strcmp(nm, "shared") == 0;
    char *argv[] = {
        l->helper,     "--pool-master", "--control-fd", "5",  "--lifeline-fd",           "4",
        "--sample-ms", "500",           "--reserve",    room, shared ? "--netns" : NULL, "shared",
        NULL};
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, sd_local_lifeline_rd, 4);
    posix_spawn_file_actions_adddup2(&fa, sp[1], 5);
    sd_local_spawn_attr(&attr);
    int rc = posix_spawn(&pid, l->helper, &fa, &attr, argv, (char **)sd_local_clean_env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sp[1]);
    if (rc != 0) {
        close(sp[0]);
        return;
    }
    l->master = pid;
    l->master_fd = sp[0];
    sd_local_trace(l, "master", pid);
}

/* Stop the pool master: EOF on its control socket, then reap it. */
static void master_stop(struct local *l)
{
    pthread_mutex_lock(&l->mmu);
    if (l->master_fd >= 0) {
        close(l->master_fd);
        l->master_fd = -1;
    }
    if (l->master > 0) {
        while (waitpid(l->master, NULL, 0) < 0 && errno == EINTR)
            ;
        l->master = 0;
    }
    pthread_mutex_unlock(&l->mmu);
}

/* Ask the pool master for one pooled helper with the given fds (its stdout, stderr, status and
 * job socket: our copies, closed by the caller). Returns its pid, or -1 when there is no master
 * or it failed (then it is stopped for good: later members are exec'd). Any thread. */
static pid_t master_fork(struct local *l, const char *id, const int fds[4])
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
    ssize_t n;

    memset(u.buf, 0, sizeof u.buf);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * 4);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * 4);
    pthread_mutex_lock(&l->mmu);
    if (l->master_fd < 0) {
        pthread_mutex_unlock(&l->mmu);
        return -1;
    }
    while ((n = sendmsg(l->master_fd, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)iov.iov_len)
        while ((n = recv(l->master_fd, &pid, sizeof pid, 0)) < 0 && errno == EINTR)
            ;
    if (n != (ssize_t)sizeof pid || pid <= 0) {
        /* A master that fails once is not trusted again. */
        close(l->master_fd);
        l->master_fd = -1;
        pid = -1;
    }
    pthread_mutex_unlock(&l->mmu);
    if (pid > 0)
        sd_local_trace(l, "member", pid);
    return pid;
}

/* Start one pooled helper (swarmdeck-sandbox --pool) into *e: forked by the pool master when
 * there is one, else exec'd; stdout, stderr, status and the lifeline as for a cold start, and
 * fd 5 one end of a socket pair on which it reads its job. Returns 0, or -1 with nothing left
 * open. Any thread. */
static int pool_spawn(struct local *l, unsigned seq, struct pooled *e)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, st[2] = {-1, -1}, ctl[2] = {-1, -1}, rc = -1;
    char id[48];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    pid_t pid;

    if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(st, O_CLOEXEC) ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl))
        goto done;
    out[1] = sd_local_fd_high(out[1]);
    errp[1] = sd_local_fd_high(errp[1]);
    st[1] = sd_local_fd_high(st[1]);
    ctl[1] = sd_local_fd_high(ctl[1]);
    if (out[1] < 0 || errp[1] < 0 || st[1] < 0 || ctl[1] < 0)
        goto done;
    snprintf(id, sizeof id, "pool-%d-%u", (int)getpid(), seq);
    pid = master_fork(l, id, (int[]){out[1], errp[1], st[1], ctl[1]});
    if (pid > 0) {
        rc = 0;
        goto spawned;
    }
    /* --reserve: room in the helper's command line, where it shows the job's arguments (its
     * id, its work dir) once it runs one, as a cold helper's command line does. On the stack:
     * two engines' pool threads in one process (tests, two coordinators) spawn at once. */
    char room[1025];
    memset(room, ' ', sizeof room - 1);
    room[sizeof room - 1] = '\0';
    char *argv[] = {
        l->helper,       "--pool", "--id",        id,    "--control-fd", "5",  "--status-fd", "3",
        "--lifeline-fd", "4",      "--sample-ms", "500", "--reserve",    room, NULL};
    sd_local_helper_fds(&fa, out[1], errp[1], st[1], ctl[1]);
    sd_local_spawn_attr(&attr);
    rc = posix_spawn(&pid, l->helper, &fa, &attr, argv, (char **)sd_local_clean_env) == 0 ? 0 : -1;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc == 0)
        sd_local_trace(l, "pooled", pid);
spawned:
    if (rc == 0) {
        *e = (struct pooled){.pid = pid,
                             .pid_start = proc_start_time(pid),
                             .out = out[0],
                             .err = errp[0],
                             .st = st[0],
                             .ctl = ctl[0]};
        out[0] = errp[0] = st[0] = ctl[0] = -1;
    }
done:
    for (int i = 0; i < 2; i++) {
        int *v[] = {&out[i], &errp[i], &st[i], &ctl[i]};
        for (int k = 0; k < 4; k++)
            if (*v[k] >= 0)
                close(*v[k]);
    }
    return rc;
}

/* Let a pooled helper go unused: EOF on its job socket makes it kill its init, remove its
 * cgroups and exit; then reap it. */
void sd_pool_release(struct pooled *e)
{
    close(e->ctl);
    close(e->out);
    close(e->err);
    close(e->st);
    while (waitpid(e->pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* The refill thread: keeps l->size helpers ready, one spawn at a time, until stop. A spawn that
 * fails ends pooling for this provider (starts go cold, as with no pool). */
static void *pool_main(void *arg)
{
    struct local *l = arg;
    pthread_mutex_lock(&l->mmu);
    if (!l->master_tried) {
        l->master_tried = 1;
        master_spawn(l);
    }
    pthread_mutex_unlock(&l->mmu);
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        /* Ahead of demand only once this process has asked for more than size sandboxes (a
         * swarm, a daemon at work); before that each start forks its own (local_start). */
        if (l->n >= (l->warm || l->creates > l->size ? l->size : 0)) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        unsigned seq = l->seq++;
        struct pooled e;
        pthread_mutex_unlock(&l->mu);
        int rc = pool_spawn(l, seq, &e);
        pthread_mutex_lock(&l->mu);
        if (rc != 0) {
            l->broken = 1;
            break;
        }
        if (l->stop) {
            pthread_mutex_unlock(&l->mu);
            sd_pool_release(&e);
            pthread_mutex_lock(&l->mu);
            break;
        }
        l->slot[l->n++] = e;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Count one sandboxed create; from the second on, start the refill thread (which starts the
 * pool master) if the pool is on and it is not running yet, and wake it (the demand grew). A
 * process that asks for one sandbox starts one helper, cold. */
/* Under mu: wake the refill thread (the demand grew), and start it (it starts the pool
 * master) if the pool is on, not running yet, and wanted: from the second create, or warm. */
static void pool_thread_locked(struct local *l)
{
    pthread_cond_signal(&l->cv);
    if (l->size > 0 && (l->creates >= 2 || l->warm) && !l->thread_on && !l->broken && !l->stop) {
        sd_local_lifeline();
        if (sd_local_lifeline_rd >= 0 && pthread_create(&l->thr, NULL, pool_main, l) == 0)
            l->thread_on = 1;
        else
            l->broken = 1;
    }
}

void sd_pool_start(struct local *l)
{
    pthread_mutex_lock(&l->mu);
    l->creates++;
    pool_thread_locked(l);
    pthread_mutex_unlock(&l->mu);
}

void sd_pool_warm(struct local *l)
{
    pthread_mutex_lock(&l->mu);
    l->warm = 1;
    pool_thread_locked(l);
    pthread_mutex_unlock(&l->mu);
}

/* Take the oldest ready helper into *e (it is then the caller's alone: each pooled helper serves
 * exactly one deployment) and wake the refill thread. Returns 0, or -1 when none is ready. */
int sd_pool_take(struct local *l, struct pooled *e)
{
    int rc = -1;
    pthread_mutex_lock(&l->mu);
    if (l->n > 0) {
        *e = l->slot[0];
        memmove(&l->slot[0], &l->slot[1], (size_t)(l->n - 1) * sizeof l->slot[0]);
        l->n--;
        pthread_cond_signal(&l->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* No helper ready: have the pool master fork one for the caller alone, now (it prepares while
 * the job is on its way). Returns 0 with *e filled, or -1 (no master: go cold). */
int sd_pool_fork_now(struct local *l, struct pooled *e)
{
    pthread_mutex_lock(&l->mu);
    unsigned seq = l->seq++;
    int on = !l->stop;
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_lock(&l->mmu);
    on = on && l->master_fd >= 0;
    pthread_mutex_unlock(&l->mmu);
    return on ? pool_spawn(l, seq, e) : -1;
}

/* Send the job v (NULL-terminated) to a pooled helper: each argument with its NUL, then EOF.
 * MSG_NOSIGNAL: a helper that died in the pool gives EPIPE, never SIGPIPE. Returns 0 or -1. */
int sd_pool_send(int fd, char **v)
{
    for (size_t i = 0; v[i] != NULL; i++) {
        const char *p = v[i];
        size_t left = strlen(p) + 1;
        while (left > 0) {
            ssize_t n = send(fd, p, left, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
            p += n;
            left -= (size_t)n;
        }
    }
    return shutdown(fd, SHUT_WR);
}

/* Stop the refill thread and let every ready helper go: all are told at once (EOF on their
 * job sockets), then reaped. */
void sd_pool_stop(struct local *l)
{
    struct pooled left[POOL_MAX];
    int n;

    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    int on = l->thread_on;
    pthread_mutex_unlock(&l->mu);
    if (on)
        pthread_join(l->thr, NULL);
    pthread_mutex_lock(&l->mu);
    n = l->n;
    memcpy(left, l->slot, (size_t)n * sizeof left[0]);
    l->n = 0;
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < n; i++) {
        close(left[i].ctl);
        left[i].ctl = -1;
    }
    for (int i = 0; i < n; i++) {
        close(left[i].out);
        close(left[i].err);
        close(left[i].st);
        while (waitpid(left[i].pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    master_stop(l);
}
