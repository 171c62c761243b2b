/*
 * master.c: --pool-master, the forking pool master (zygote) of the warm pool.
 *
 * Without it every pooled helper is a fresh exec of swarmdeck-sandbox: the kernel's exec, the
 * static glibc start-up (its cpuid probes trap to the hypervisor on a VM) and the option parsing,
 * for every sandbox. The master is exec'd once per engine and forks each pool member; the member
 * returns from sbx_master_run into main() and from there is exactly a pooled helper
 * (`--pool --id ID --control-fd 5 --status-fd 3`): it plans, makes its cgroups, clones the
 * sandbox init into new namespaces and prepares it up to the go byte, as an exec'd one does.
 *
 * Protocol, on the control fd (a SOCK_SEQPACKET socket; docs/sandbox.md "Pool master"): the
 * engine sends one message per member: the member's id ([a-zA-Z0-9_-]{1,64}) as the data, and
 * exactly four fds as SCM_RIGHTS: the member's stdout, stderr, status fd (3) and job socket (5).
 * The master answers one message: an int32, the member's pid (> 0) or -errno. EOF on the control
 * fd or a lifeline hang-up: the master exits 0 (members live on: each holds the lifeline itself).
 *
 * The member is cloned with CLONE_PARENT: its parent is the engine, which reaps it and reads
 * its exit status exactly as for an exec'd helper. The master holds no sandbox state: before
 * each fork it holds only its control socket, the lifeline and stdin/stdout/stderr (/dev/null
 * as the engine spawns it), plus the cgroup slots' pipes (the alive pipe, the read end of each
 * busy member's pipe) and, when opted in, the shared network namespace (netshare.c); the fds of
 * one member are closed in the master before the next fork, so no member inherits another's;
 * the member closes the control socket and every slot pipe but its own. No memory is shared (a
 * fork copies). A slot's cgroups are handed on only once empty and reset (cgroup.c
 * sbx_cgroup_take), so nothing of one sandbox reaches the next through them.
 *
 * Single-threaded, like the rest of the helper: the raw clone leaves glibc consistent (no lock
 * can be held by another thread).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define MEMBER_FDS 4
#define SLOTS_MAX  1024

/* Reusable cgroup slots (docs/sandbox.md "Pool master"): slot n is the cgroup directories
 * swarmdeck/sbx-slot.<master pid>.<n>, made by the first member that takes it, reused (emptied,
 * reset) by each later one and removed when the master exits. busy is the read end of a pipe
 * whose write end only the member using the slot holds: it hangs up when that member is gone,
 * and carries one byte ('k') when the member is about to keep the directories for the next. The
 * member learns that the master is gone from alive_r, the read end of a pipe whose write end
 * only the master holds: then it removes its directories itself. */
static struct {
    int busy; /* -1: free */
} slots[SLOTS_MAX];
static int nslots, alive_r = -1, alive_w = -1;
static unsigned long long master_start; /* our start time: slot names are sbx-slot.PID.START.N */

/* Move fd to >= 10, close-on-exec (members' own fds land on 1, 2, 3 and 5). -1 on failure. */
static int high_fd(int fd)
{
    if (fd < 0 || fd >= 10)
        return fd;
    int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    close(fd);
    return h;
}

/* A free slot's index (a member gone frees its slot), a new one, or -1 (none: the member makes
 * its cgroups as an exec'd helper does). */
static int slot_pick(void)
{
    int free_i = -1;
    for (int i = 0; i < nslots; i++) {
        if (slots[i].busy >= 0) {
            struct pollfd pf = {.fd = slots[i].busy, .events = 0};
            if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLERR))) {
                close(slots[i].busy);
                slots[i].busy = -1;
            }
        }
        if (slots[i].busy < 0 && free_i < 0)
            free_i = i;
    }
    if (free_i >= 0 || nslots == SLOTS_MAX)
        return free_i;
    slots[nslots].busy = -1;
    return nslots++;
}

/* The master's exit: tell the members (alive_w), then remove every slot no member will remove
 * itself: the free ones, and those whose member said it keeps them ('k'), once it is gone (it
 * is exiting: waited for up to 10 s). A member that has not said so yet sees alive_r hang up
 * and removes its own. */
static void __attribute__((noreturn)) master_exit(void)
{
    if (alive_w >= 0)
        close(alive_w);
    for (int i = 0; i < nslots; i++) {
        if (slots[i].busy >= 0) {
            struct pollfd pf = {.fd = slots[i].busy, .events = POLLIN};
            if (poll(&pf, 1, 0) < 1)
                continue; /* running: it removes them itself */
            for (int t = 0; t < 100 && !(pf.revents & (POLLHUP | POLLERR)); t++) {
                char b[8];
                if (pf.revents & POLLIN && read(slots[i].busy, b, sizeof b) < 0)
                    break;
                pf.events = 0;
                if (poll(&pf, 1, 100) < 0)
                    break;
            }
        }
        char name[48];
        snprintf(name, sizeof name, "slot.%d.%llu.%d", (int)getpid(), master_start, i);
        sbx_cgroup_remove_slot(name);
    }
    exit(0);
}

/* Receive one request: the id into id (NUL-terminated), the fds into fds (moved to >= 10,
 * close-on-exec). Returns 1 for a request, 0 on EOF, -1 for a bad request (whatever fds came
 * are closed; *bad_errno says why). */
static int recv_request(int ctl, char *id, size_t idlen, int fds[MEMBER_FDS], int *bad_errno)
{
    char data[128];
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * (MEMBER_FDS + 4))];
    } u;
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data - 1};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    ssize_t n;
    int got = 0, recvd[MEMBER_FDS + 4];

    while ((n = recvmsg(ctl, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n <= 0)
        return 0; /* EOF, or the engine's end is gone */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k && got < MEMBER_FDS + 4; i++)
            memcpy(&recvd[got++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
    data[n] = 0;
    size_t len = (size_t)n;
    bool id_ok = len >= 1 && len <= 64 && len < idlen &&
                 strspn(data, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789_-") == len;
    if (got != MEMBER_FDS || !id_ok || (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
        for (int i = 0; i < got; i++)
            close(recvd[i]);
        *bad_errno = EINVAL;
        return -1;
    }
    memcpy(id, data, len + 1);
    for (int i = 0; i < MEMBER_FDS; i++) {
        fds[i] = recvd[i] >= 10 ? recvd[i] : fcntl(recvd[i], F_DUPFD_CLOEXEC, 10);
        if (fds[i] != recvd[i])
            close(recvd[i]);
    }
    for (int i = 0; i < MEMBER_FDS; i++) {
        if (fds[i] < 0) {
            for (int k = 0; k < MEMBER_FDS; k++)
                if (fds[k] >= 0)
                    close(fds[k]);
            *bad_errno = EMFILE;
            return -1;
        }
    }
    return 1;
}

static void reply(int ctl, int32_t v)
{
    while (send(ctl, &v, sizeof v, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* In a freshly cloned member: its fds in place (1, 2, 3, 5), the master's control socket and
 * the received copies closed. */
static void member_fds(struct sbx_config *c, int ctl, const int fds[MEMBER_FDS])
{
    static const int want[MEMBER_FDS] = {1, 2, 3, 5};
    if (ctl != 5)
        close(ctl);
    for (int i = 0; i < MEMBER_FDS; i++) {
        if (dup2(fds[i], want[i]) < 0)
            _exit(SBX_EXIT_SETUP);
        close(fds[i]);
    }
    c->status_fd = 3;
    c->control_fd = 5;
}

int sbx_master_run(struct sbx_config *c)
{
    int ctl = c->control_fd;
    int type = 0;
    socklen_t tl = sizeof type;

    if (getsockopt(ctl, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET) {
        fprintf(stderr, "swarmdeck-sandbox: --pool-master: --control-fd must be a SOCK_SEQPACKET "
                        "socket\n");
        exit(SBX_EXIT_SETUP);
    }
    /* A member's own fds land on 1, 2, 3 and 5: the lifeline it keeps must not be one of them
     * (the engine passes it as 4; another caller may not). */
    if (c->lifeline_fd >= 0 && c->lifeline_fd <= 5 && c->lifeline_fd != 4) {
        int h = fcntl(c->lifeline_fd, F_DUPFD, 10);
        if (h < 0) {
            fprintf(stderr, "swarmdeck-sandbox: --pool-master: dup: %s\n", strerror(errno));
            exit(SBX_EXIT_SETUP);
        }
        close(c->lifeline_fd);
        c->lifeline_fd = h;
    }
    fcntl(ctl, F_SETFD, FD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN); /* replies use MSG_NOSIGNAL; this is belt and braces */
    master_start = sbx_proc_start((int)getpid());
    /* Members join it instead of making a network namespace each (netshare.c). */
    c->shared_netns_fd = sbx_netshare_make();
    const char *reuse = getenv("SWARMDECK_SANDBOX_CG_REUSE"); /* "0": a test and bench knob */
    int ap[2];
    if (!(reuse && !strcmp(reuse, "0")) && pipe2(ap, O_CLOEXEC) == 0) {
        alive_r = high_fd(ap[0]);
        alive_w = high_fd(ap[1]);
        if (alive_r < 0 || alive_w < 0) {
            if (alive_r >= 0)
                close(alive_r);
            if (alive_w >= 0)
                close(alive_w);
            alive_r = alive_w = -1;
        }
    }
    for (;;) {
        struct pollfd pf[2] = {{.fd = ctl, .events = POLLIN}, {.fd = c->lifeline_fd, .events = 0}};
        if (poll(pf, c->lifeline_fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            exit(SBX_EXIT_SETUP);
        }
        if (c->lifeline_fd >= 0 && (pf[1].revents & (POLLHUP | POLLERR | POLLNVAL)))
            master_exit();
        if (!pf[0].revents)
            continue;
        char id[65];
        int fds[MEMBER_FDS], bad = 0;
        int r = recv_request(ctl, id, sizeof id, fds, &bad);
        if (r == 0)
            master_exit();
        if (r < 0) {
            reply(ctl, -bad);
            continue;
        }
        int si = alive_w >= 0 ? slot_pick() : -1, bp[2] = {-1, -1}, master = (int)getpid();
        if (si >= 0 && pipe2(bp, O_CLOEXEC) == 0) {
            bp[0] = high_fd(bp[0]);
            bp[1] = high_fd(bp[1]);
        }
        if (bp[0] < 0 || bp[1] < 0) {
            if (bp[0] >= 0)
                close(bp[0]);
            if (bp[1] >= 0)
                close(bp[1]);
            bp[0] = bp[1] = -1;
            si = -1;
        }
        /* The member's parent is our parent (the engine), which reaps it. */
        long pid = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), 0, 0, 0, 0);
        if (pid == 0) {
            signal(SIGPIPE, SIG_DFL); /* main() blocks it, as in an exec'd helper */
            member_fds(c, ctl, fds);
            snprintf(c->id, sizeof c->id, "%s", id);
            c->pool_master = false;
            /* Nothing of the master's slots but its own: the alive read end, its busy write
             * end. */
            for (int i = 0; i < nslots; i++)
                if (slots[i].busy >= 0)
                    close(slots[i].busy);
            if (alive_w >= 0)
                close(alive_w);
            if (si >= 0) {
                close(bp[0]);
                snprintf(c->slot, sizeof c->slot, "slot.%d.%llu.%d", master, master_start, si);
                c->slot_alive_fd = alive_r;
                c->slot_busy_fd = bp[1];
            } else if (alive_r >= 0) {
                close(alive_r);
            }
            return 0;
        }
        int e = errno;
        if (si >= 0) {
            close(bp[1]);
            if (pid > 0)
                slots[si].busy = bp[0];
            else
                close(bp[0]);
        }
        for (int i = 0; i < MEMBER_FDS; i++)
            close(fds[i]);
        reply(ctl, pid > 0 ? (int32_t)pid : -e);
    }
}
