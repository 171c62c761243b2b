/*
 * cmd-dial.c: `swarmdeck dial-stdio`, the far end of remote attach.
 *
 * A client given `--host ssh://user@server/path/to/store` runs, through the
 * operator's own ssh, `swarmdeck --db /path/to/store dial-stdio` on the
 * server (docker's `system dial-stdio`), and speaks the daemon's HTTP over
 * that pipe. This command connects to the daemon serving the store (with
 * --start, starting one on demand first, as `deploy --detach` does) and
 * relays bytes both ways until either side closes. Nothing new listens on
 * the network: OpenSSH authenticates and encrypts; the daemon still checks
 * the peer (this process, of the ssh user) with SO_PEERCRED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "sock.h"

static const struct cli_opt opts[] = {
    {"start", 0, NULL, "start a daemon for the store when none runs"},
    {NULL, 0, NULL, NULL},
};

/* Copy what fd `from` has to fd `to`. Returns bytes copied, 0 at EOF, -1. */
static ssize_t pump(int from, int to)
{
    char buf[65536];
    ssize_t n = read(from, buf, sizeof buf), off = 0;

    if (n <= 0)
        return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : n;
    while (off < n) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += w;
    }
    return n;
}

static int exec_dial(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_dial;
    char path[PATH_MAX];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct sd_err err = {0};
    struct client *probe = NULL;
    int status, fd;

    /* cli_daemon checks the daemon's protocol (and starts one with --start). */
    if (cli_daemon(ctx, cli_flag(&cmd_dial, a, "start"), NULL, &probe, &status) <= 0)
        return status ? status
                      : cli_fail(SD_EENV,
                                 "no daemon serves %s (dial-stdio --start "
                                 "starts one)",
                                 ctx->db);
    snprintf(path, sizeof path, "%s", client_socket(probe));
    client_close(probe);
    if (strlen(path) >= sizeof sa.sun_path)
        return cli_fail(SD_EENV, "socket path too long: %s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        sd_err_set(&err, SD_EENV, "cannot connect to %s: %s", path, strerror(errno));
        return cli_fail_err(&err);
    }
    for (;;) {
        struct pollfd pf[2] = {{.fd = 0, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            /* An HTTP client closes only once it has its answers: at the end
             * of our input nobody reads what the daemon might still send. */
            if (pump(0, fd) <= 0)
                break;
        }
        if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (pump(fd, 1) <= 0)
                break;
        }
    }
    close(fd);
    return 0;
}

const struct cli_cmd cmd_dial = {
    .name = "dial-stdio",
    .usage = "[--start]",
    .summary = "relay stdin/stdout to the store's daemon (the far end of --host ssh://)",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_dial,
};
