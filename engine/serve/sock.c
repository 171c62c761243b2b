/*
 * sock.c: the daemon's socket directory, socket paths, listener and lock
 * (sock.h has the contracts).
 */
#define _GNU_SOURCE
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto.h"

/* Make dir 0700 if missing, then insist it is a directory of ours that no
 * one else can enter. */
static int private_dir(const char *dir, int strict_mode, struct sd_err *err)
{
    struct stat st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return sd_err_set(err, SD_EENV, "cannot create %s: %s", dir, strerror(errno));
    if (lstat(dir, &st) != 0)
        return sd_err_set(err, SD_EENV, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
        return sd_err_set(err, SD_EENV, "%s is not a directory owned by uid %u: refusing it", dir,
                          (unsigned)getuid());
    if (strict_mode && (st.st_mode & 0077) != 0 && chmod(dir, 0700) != 0)
        return sd_err_set(err, SD_EENV, "%s: cannot make it private: %s", dir, strerror(errno));
    return 0;
}

int serve_sockdir(char *out, size_t n, struct sd_err *err)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    char top[PATH_MAX];
    struct stat st;

    if (xdg != NULL && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(top, sizeof top, "%s/swarmdeck", xdg);
    else
        snprintf(top, sizeof top, "/tmp/swarmdeck-%u", (unsigned)getuid());
    /* The top level also holds sandbox work dirs, which the sandbox's mapped
     * uid must traverse, so only the socket level is forced to 0700. */
    if (private_dir(top, 0, err) != 0)
        return -1;
    if ((size_t)snprintf(out, n, "%s/sock", top) >= n)
        return sd_err_set(err, SD_EENV, "socket directory path too long");
    return private_dir(out, 1, err);
}

int serve_sockpath(const char *store_path, int readonly, char *out, size_t n, struct sd_err *err)
{
    char dir[PATH_MAX], abs[PATH_MAX], hex[2 * CRYPTO_SHA3_LEN + 1];
    unsigned char d[CRYPTO_SHA3_LEN];

    if (realpath(store_path, abs) == NULL)
        return sd_err_set(err, SD_EENV, "%s: %s", store_path, strerror(errno));
    if (serve_sockdir(dir, sizeof dir, err) != 0)
        return -1;
    if (crypto_sha3_512(abs, strlen(abs), d) != 0)
        return sd_err_set(err, SD_EENV, "cannot hash the store path");
    crypto_hex(d, 8, hex);
    /* sun_path holds 108 bytes: the directory must leave room for the name. */
    if ((size_t)snprintf(out, n, "%s/%s%s", dir, hex, readonly ? ".ro" : "") >=
        sizeof(((struct sockaddr_un *)0)->sun_path))
        return sd_err_set(err, SD_EENV, "socket path %s/%s is too long for a Unix socket", dir,
                          hex);
    return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path)
        return -1;
    memcpy(a->sun_path, path, strlen(path) + 1);
    return 0;
}

int serve_listen(const char *path, struct sd_err *err)
{
    struct sockaddr_un a;
    mode_t old;
    int fd, rc;

    if (unix_addr(path, &a) != 0)
        return sd_err_set(err, SD_EENV, "socket path too long: %s", path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return sd_err_set(err, SD_EENV, "socket: %s", strerror(errno));
    /* Only a daemon holding the store's lock gets here, so a socket file left
     * at this path is a dead daemon's: replace it. */
    unlink(path);
    old = umask(0177);
    rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (rc != 0 || listen(fd, 64) != 0) {
        sd_err_set(err, SD_EENV, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void lock_path(const char *store_path, char *out, size_t n)
{
    snprintf(out, n, "%s.serve.lock", store_path);
}

int serve_lock(const char *store_path, pid_t *holder, struct sd_err *err)
{
    char path[PATH_MAX], buf[32];
    int fd, len;

    *holder = 0;
    lock_path(store_path, path, sizeof path);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return sd_err_set(err, SD_EENV, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
        buf[r > 0 ? r : 0] = '\0';
        *holder = (pid_t)strtol(buf, NULL, 10);
        close(fd);
        if (*holder > 0)
            return sd_err_set(err, SD_EUSAGE, "a daemon (pid %d) already serves %s", (int)*holder,
                              store_path);
        return sd_err_set(err, SD_EUSAGE, "a daemon already serves %s", store_path);
    }
    len = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
        sd_err_set(err, SD_EENV, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

pid_t serve_holder(const char *store_path)
{
    char path[PATH_MAX], buf[32];
    pid_t pid = 0;
    int fd;

    lock_path(store_path, path, sizeof path);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return 0;
    /* A shared lock succeeds only when no daemon holds the exclusive one. */
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
        buf[r > 0 ? r : 0] = '\0';
        pid = (pid_t)strtol(buf, NULL, 10);
        if (pid <= 0)
            pid = -1;
    }
    close(fd);
    return pid;
}

int serve_peer(int fd, pid_t *pid, uid_t *uid)
{
    struct ucred uc;
    socklen_t len = sizeof uc;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
        return -1;
    *pid = uc.pid;
    *uid = uc.uid;
    return 0;
}
