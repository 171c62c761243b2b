/*
 * cmd-serve.c: `swarmdeck serve`, the engine as a daemon that consoles and
 * commands attach to (engine/serve/server.h; docs/daemon.md).
 *
 * One daemon per store: it takes the store's lock first, then reaps what a
 * crashed predecessor left, starts the coordinator and listens. Foreground
 * by default (systemd's Type=simple); --detach forks once before any thread
 * exists, the parent waits until the child listens (or says why it cannot)
 * and prints where, and the child's log goes to
 * $XDG_STATE_HOME/swarmdeck/serve.log. SIGHUP is ignored: losing a terminal
 * never stops the work. SIGTERM or SIGINT stops the daemon, cancelling what
 * still runs (as systemctl stop should). A daemon started on demand
 * (--on-demand, as clients start it) exits by itself once nothing is queued
 * or running and no client has been attached for --idle-exit seconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fleet.h"
#include "fleet_store.h"
#include "metrics.h"
#include "server.h"
#include "sock.h"

static const struct cli_opt opts[] = {
    {"detach", 0, NULL, "run in the background (log: $XDG_STATE_HOME/swarmdeck/serve.log)"},
    {"on-demand", 0, NULL, "exit once idle for --idle-exit seconds (how clients start it)"},
    {"idle-exit", 0, "SEC", "with --on-demand: idle seconds before exiting (default 300)"},
    {"on-finish", 0, "CMD", "run CMD (sh -c) when a run ends, its summary JSON on stdin"},
    {"metrics", 0, "HOST:PORT", "serve Prometheus /metrics there (e.g. 127.0.0.1:9464)"},
    {"fleet", 0, "URL", "share finished trajectories through NATS JetStream at nats://HOST:PORT"},
    {"fleet-name", 0, "NAME", "this store's name in the fleet (kept; default HOSTNAME-STOREID)"},
    {"fleet-creds", 0, "FILE", "NATS credentials file (JWT and NKey seed) for --fleet"},
    {"fleet-tls-ca", 0, "FILE", "CA bundle that verifies the NATS server (TLS)"},
    {"fleet-tls-cert", 0, "FILE", "client certificate for NATS TLS (with --fleet-tls-key)"},
    {"fleet-tls-key", 0, "FILE", "client key for NATS TLS"},
    CLI_DEPLOY_OPTS,
    {NULL, 0, NULL, NULL},
};

/* Start the fleet (--fleet) over the store, with --fleet-name kept in it
 * first. Returns 0 (*out NULL when --fleet is absent) or an exit status. */
static int start_fleet(struct cli_ctx *ctx, const struct cli_cmd *me, struct cli_args *a,
                       struct fleet **out)
{
    struct fleet_opts fo = {.url = cli_val(me, a, "fleet"),
                            .creds = cli_val(me, a, "fleet-creds"),
                            .tls_ca = cli_val(me, a, "fleet-tls-ca"),
                            .tls_cert = cli_val(me, a, "fleet-tls-cert"),
                            .tls_key = cli_val(me, a, "fleet-tls-key")};
    const char *name = cli_val(me, a, "fleet-name");
    char self[FLEET_NAME_MAX], shown[256];
    struct sd_err err = {0};
    sqlite3 *db;

    *out = NULL;
    if (fo.url == NULL)
        return 0;
    if (name != NULL && store_fleet_name_set(ctx->store, name, &err) != 0)
        return cli_fail_err(&err);
    if ((db = store_reader(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    store_fleet_name(db, store_id(ctx->store), self, sizeof self);
    sqlite3_close_v2(db);
    fo.name = self;
    if (fleet_start(ctx->store, &fo, out, &err) != 0)
        return cli_fail_err(&err);
    fleet_url_redact(fo.url, shown, sizeof shown);
    fprintf(stderr, "swarmdeck: fleet: %s on %s\n", self, shown);
    return 0;
}

/* $XDG_STATE_HOME/swarmdeck/serve.log (created 0700/0600). */
static int open_log(char *path, size_t n)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[PATH_MAX - 16];

    if (xdg != NULL && xdg[0] == '/')
        snprintf(dir, sizeof dir, "%s/swarmdeck", xdg);
    else
        snprintf(dir, sizeof dir, "%s/.local/state/swarmdeck", home ? home : "/tmp");
    if (sd_mkdir_p(dir, 0700) != 0)
        return -1;
    snprintf(path, n, "%s/serve.log", dir);
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* Fork; the parent waits for the child's first line on the pipe ("ok SOCK"
 * or an error) and exits with it. Returns the write end in the child. */
static int detach(int *status)
{
    char logpath[PATH_MAX], buf[1024];
    int fds[2], logfd;
    ssize_t n, got = 0;
    pid_t pid;

    if ((logfd = open_log(logpath, sizeof logpath)) < 0) {
        *status = cli_fail(SD_EENV, "cannot open the daemon's log: %s", strerror(errno));
        return -1;
    }
    if (pipe2(fds, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
        *status = cli_fail(SD_EENV, "cannot detach: %s", strerror(errno));
        return -1;
    }
    if (pid > 0) {
        close(fds[1]);
        close(logfd);
        while (got < (ssize_t)sizeof buf - 1 &&
               (n = read(fds[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
            got += n;
        buf[got] = '\0';
        if (strncmp(buf, "ok ", 3) == 0) {
            fprintf(stderr, "swarmdeck: daemon pid %d serves on %s (log: %s)\n", (int)pid,
                    strtok(buf + 3, "\n"), logpath);
            _exit(0);
        }
        fprintf(stderr, "swarmdeck: the daemon did not start: %s%s", got ? buf : "it exited; see ",
                got ? "" : logpath);
        fputc('\n', stderr);
        _exit(got && strstr(buf, "already serves") ? 2 : 3);
    }
    close(fds[0]);
    setsid();
    dup2(logfd, 1);
    dup2(logfd, 2);
    close(logfd);
    {
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul >= 0) {
            dup2(nul, 0);
            close(nul);
        }
    }
    return fds[1];
}

static void tell(int fd, const char *fmt, const char *arg)
{
    char buf[1024];
    int n;
    if (fd < 0)
        return;
    n = snprintf(buf, sizeof buf, fmt, arg);
    if (n > 0 && write(fd, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1)) < 0) {
        /* the parent is gone: nobody to tell */
    }
}

static int busy(struct coord *c, struct server *s)
{
    int counts[TS_COUNT];
    coord_counts(c, counts);
    return counts[TS_QUEUED] + counts[TS_RUNNING] > 0 || server_runs_open(s) > 0 ||
           server_jobs_running(s) > 0 || server_clients(s) > 0;
}

static int exec_serve(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_serve;
    const struct cli_cmd *me = &cmd_serve;
    struct server_opts so = {.store_path = ctx->db, .on_finish = cli_val(me, a, "on-finish")};
    struct coord_opts o;
    struct coord *c = NULL;
    struct server *srv = NULL;
    struct metrics *met = NULL;
    struct fleet *fl = NULL;
    struct sd_err err = {0};
    sigset_t set;
    long idle = 300;
    int64_t quiet_since;
    int status = 0, lockfd = -1, ready = -1, on_demand = cli_flag(me, a, "on-demand");
    pid_t holder;
    const char *v;

    if ((v = cli_val(me, a, "idle-exit")) != NULL &&
        cli_parse_long("idle-exit", v, 1, 86400 * 365, &idle))
        return 2;
    if ((status = cli_coord_opts(me, a, &o)) != 0)
        return status;
    o.adopt_e2b = 1; /* E2B deployments a dead daemon left running are taken over */
    o.warm_pool = 1; /* long-lived: the sandbox pool is ready before the first deployment */
    if ((v = cli_val(me, a, "metrics")) != NULL) {
        struct sockaddr_in sa;
        if (metrics_parse(v, &sa, &err) != 0)
            return cli_fail_err(&err);
    }
    if (cli_flag(me, a, "detach") && (ready = detach(&status)) < 0)
        return status;
    /* Before any thread: every thread inherits the mask, so these signals
     * reach only the sigtimedwait below. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    {
        char dir[PATH_MAX], *slash;
        snprintf(dir, sizeof dir, "%s", ctx->db);
        if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
            *slash = '\0';
            sd_mkdir_p(dir, 0700);
        }
    }
    if ((lockfd = serve_lock(ctx->db, &holder, &err)) < 0) {
        tell(ready, "%s\n", err.msg);
        status = cli_fail_err(&err);
        goto out;
    }
    if ((c = cli_coord(ctx, &o, &status)) == NULL) {
        tell(ready, "%s\n", "the engine did not start (see the log)");
        goto out;
    }
    if ((status = start_fleet(ctx, me, a, &fl)) != 0) {
        tell(ready, "%s\n", "the fleet did not start (see the log)");
        goto out;
    }
    so.fleet = fl;
    if (server_start(c, &so, &srv, &err) != 0) {
        tell(ready, "%s\n", err.msg);
        status = cli_fail_err(&err);
        goto out;
    }
    if ((v = cli_val(me, a, "metrics")) != NULL && (met = metrics_start(c, v, &err)) == NULL) {
        tell(ready, "%s\n", err.msg);
        status = cli_fail_err(&err);
        goto out;
    }
    fprintf(stderr, "swarmdeck: serving %s on %s (pid %d%s)\n", ctx->db, server_socket(srv, 0),
            (int)getpid(), on_demand ? ", on demand" : "");
    tell(ready, "ok %s\n", server_socket(srv, 0));
    if (ready >= 0)
        close(ready);
    ready = -1;
    quiet_since = sd_now_ms();
    for (;;) {
        struct timespec one = {1, 0};
        int sig = sigtimedwait(&set, NULL, &one);
        if (sig == SIGHUP) {
            fprintf(stderr, "swarmdeck: SIGHUP ignored: the daemon keeps serving\n");
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            fprintf(stderr, "swarmdeck: %s: stopping (cancelling what still runs)\n",
                    sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (busy(c, srv)) {
            quiet_since = sd_now_ms();
        } else if (on_demand) {
            int64_t last = server_last_client_ms(srv);
            int64_t since = last > quiet_since ? last : quiet_since;
            if (sd_now_ms() - since >= idle * 1000) {
                fprintf(stderr, "swarmdeck: idle for %ld s with no client: exiting\n", idle);
                break;
            }
        }
    }
out:
    if (ready >= 0)
        close(ready);
    metrics_stop(met);
    if (c != NULL && srv != NULL) {
        /* Cancel what still runs while the pump listens, so every open run
         * ends in the store (as "failed", its deployments "cancelled"). */
        coord_cancel_all(c);
        coord_wait_idle(c);
    }
    server_stop(srv);
    fleet_stop(fl); /* after the server: its pump and handlers use the fleet */
    coord_free(c);
    if (ctx->store != NULL && store_flush(ctx->store, &err) != 0 && status == 0)
        status = cli_fail_err(&err);
    if (lockfd >= 0)
        close(lockfd);
    return status;
}

const struct cli_cmd cmd_serve = {
    .name = "serve",
    .usage = "[--detach] [--on-demand [--idle-exit SEC]] [--on-finish CMD] [--metrics HOST:PORT] "
             "[--fleet nats://HOST:PORT [--fleet-name NAME]]",
    .summary = "run the engine as a daemon that consoles and commands attach to",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_serve,
};
