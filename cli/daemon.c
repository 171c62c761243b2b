/*
 * daemon.c: the command line as a client of the daemon (docs/daemon.md).
 *
 * A command that starts or watches work asks cli_daemon for the daemon
 * serving its store: when one runs (its lock is held) the command talks to
 * it; `deploy --detach` (and the console) start one on demand when none
 * runs, as tmux starts its server: `swarmdeck serve --detach --on-demand`
 * with the caller's store, key (in the environment, never argv) and engine
 * options. --no-daemon keeps everything in process.
 *
 * Following a launch through the daemon prints exactly what the in-process
 * path prints (cli_print_view, the same summary line and JSON), so scripts
 * cannot tell the two apart; SIGINT/SIGTERM cancel this launch's own
 * deployments, and losing the terminal (SIGHUP) or being killed leaves them
 * running in the daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "crypto.h"
#include "sock.h"

extern char **environ;

/* Start `swarmdeck serve --detach --on-demand` for ctx->db and wait until
 * it listens (the detached parent exits then). Returns 0 or -1 (printed). */
static int start_daemon(struct cli_ctx *ctx, char *const *extra)
{
    char *argv[48];
    char **envp = NULL, *keyvar = NULL;
    size_t n = 0, ne = 0;
    pid_t pid;
    int st = 0, rc;

    /* The daemon gets the store as --db, which must be in an existing
     * directory: this process has already refused a typed --db whose
     * directory is missing, so what is missing here is the default's
     * (a first run): made as the store would make it. */
    {
        char dir[4096];
        const char *slash = strrchr(ctx->db, '/');
        if (slash != NULL && slash != ctx->db &&
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - ctx->db), ctx->db) < (int)sizeof dir &&
            sd_mkdir_p(dir, 0700) != 0) {
            cli_fail(SD_EENV, "cannot make %s for the store: %s", dir, strerror(errno));
            return -1;
        }
    }
    argv[n++] = "swarmdeck";
    argv[n++] = "--db";
    argv[n++] = (char *)ctx->db;
    if (ctx->verbose)
        argv[n++] = "-v";
    argv[n++] = "serve";
    argv[n++] = "--detach";
    argv[n++] = "--on-demand";
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 46; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    /* The key goes through the environment, never argv (the process list). */
    while (environ[ne] != NULL)
        ne++;
    envp = xcalloc(ne + 2, sizeof *envp);
    for (size_t i = 0, k = 0; i < ne; i++)
        if (strncmp(environ[i], "SWARMDECK_KEY=", 14) != 0 || ctx->key == NULL)
            envp[k++] = environ[i];
    if (ctx->key != NULL) {
        keyvar = xasprintf("SWARMDECK_KEY=%s", ctx->key);
        for (size_t k = 0;; k++)
            if (envp[k] == NULL) {
                envp[k] = keyvar;
                break;
            }
    }
    rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp);
    if (keyvar != NULL) {
        crypto_wipe(keyvar, strlen(keyvar));
        free(keyvar);
    }
    free(envp);
    if (rc != 0) {
        cli_fail(SD_EENV, "cannot start a daemon: %s", strerror(rc));
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        /* It said why on stderr. A daemon that lost a race to another is fine. */
        return serve_holder(ctx->db) > 0 ? 0 : -1;
    }
    return 0;
}

/* s in single quotes for the remote shell ssh hands its command to. */
static char *shell_quote(const char *s)
{
    size_t n = 3;
    char *q, *o;

    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    o = q = xmalloc(n);
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return q;
}

/* The daemon of a store on another machine, through ssh (docker's
 * DOCKER_HOST=ssh://): `ssh [-p PORT] [USER@]HOST -- swarmdeck [--db PATH]
 * [--readonly] dial-stdio [--start]`. $SWARMDECK_SSH replaces `ssh` (words
 * split on spaces: `ssh -i KEY -o ...`), $SWARMDECK_REMOTE the remote
 * `swarmdeck`. */
/* The last line ssh logged to path (its -E file), into buf; then the file
 * is emptied, so the next failure says its own. Returns buf's length. */
static size_t ssh_said(const char *path, char *buf, size_t n)
{
    char line[512];
    FILE *f = fopen(path, "r+");

    buf[0] = '\0';
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0')
            snprintf(buf, n, "%.*s", (int)(n - 1), line);
    }
    if (ftruncate(fileno(f), 0) != 0) {
        /* kept: the next failure may repeat this line, no harm */
    }
    fclose(f);
    return strlen(buf);
}

int cli_host_dial(const struct cli_ctx *ctx, const char *url, int start, const char *errlog,
                  struct client **out, struct sd_err *err)
{
    const char *rest, *slash, *colon;
    const char *ssh = getenv("SWARMDECK_SSH"), *bin = getenv("SWARMDECK_REMOTE");
    char *argv[64], *words = xstrdup(ssh && *ssh ? ssh : "ssh"), *tok, *save = NULL;
    char target[512], port[16] = "", *cmd, *db = NULL;
    size_t n = 0;
    int rc;

    *out = NULL;
    if (strncmp(url, "ssh://", 6) != 0 || url[6] == '\0' || url[6] == '/') {
        free(words);
        return sd_err_set(err, SD_EUSAGE,
                          "--host %s: expected ssh://[user@]host[:port][/path/to/store]", url);
    }
    rest = url + 6;
    slash = strchr(rest, '/');
    snprintf(target, sizeof target, "%.*s", (int)(slash ? slash - rest : (long)strlen(rest)), rest);
    if ((colon = strrchr(target, ':')) != NULL && strchr(target, ']') == NULL) {
        snprintf(port, sizeof port, "%s", colon + 1);
        target[colon - target] = '\0';
    }
    if (slash != NULL && slash[1] != '\0')
        db = shell_quote(slash);
    cmd = xasprintf("%s%s%s%s dial-stdio%s", bin && *bin ? bin : "swarmdeck", db ? " --db " : "",
                    db ? db : "", ctx->readonly ? " --readonly" : "", start ? " --start" : "");
    for (tok = strtok_r(words, " ", &save); tok != NULL && n < 54; tok = strtok_r(NULL, " ", &save))
        argv[n++] = tok;
    if (port[0] != '\0') {
        argv[n++] = "-p";
        argv[n++] = port;
    }
    if (errlog != NULL) { /* ssh's own messages (connect refused...) for the error */
        argv[n++] = "-E";
        argv[n++] = (char *)errlog;
    }
    argv[n++] = "--";
    argv[n++] = target;
    argv[n++] = cmd;
    argv[n] = NULL;
    rc = client_open_cmd(argv, out, err);
    if (rc != 0 && errlog != NULL) {
        char said[400];
        if (ssh_said(errlog, said, sizeof said) > 0)
            sd_err_set(err, SD_EENV, "%s", said);
    }
    free(words);
    free(cmd);
    free(db);
    return rc != 0 ? -1 : 0;
}

static int remote(struct cli_ctx *ctx, int start, struct client **out, int *status)
{
    struct sd_err err = {0};

    if (cli_host_dial(ctx, ctx->host, start, NULL, out, &err) == 0)
        return 1;
    if (err.code == SD_EUSAGE && strncmp(err.msg, "--host ", 7) == 0)
        *status = cli_fail(err.code, "%s", err.msg);
    else
        *status = cli_fail(err.code, "%s (through %s)", err.msg, ctx->host);
    return -1;
}

int cli_daemon(struct cli_ctx *ctx, int start, char *const *serve_args, struct client **out,
               int *status)
{
    char sock[PATH_MAX];
    struct sd_err err = {0};
    pid_t holder;

    *out = NULL;
    *status = 0;
    if (ctx->host != NULL)
        return remote(ctx, start, out, status);
    if (ctx->no_daemon)
        return 0;
    holder = serve_holder(ctx->db);
    if (holder == 0) {
        if (!start || ctx->readonly)
            return 0;
        if (start_daemon(ctx, serve_args) != 0) {
            *status = sd_err_exit_status(SD_EENV);
            return -1;
        }
    }
    if (serve_sockpath(ctx->db, ctx->readonly, sock, sizeof sock, &err) == 0) {
        /* A daemon holding the lock may not listen yet (it recovers the
         * store first) or be on its way out: try again while it holds it. */
        int64_t t0 = sd_now_ms();
        while (client_open(sock, out, &err) != 0) {
            holder = serve_holder(ctx->db);
            if (holder == 0 && !start)
                return 0; /* it went away: work without it */
            if (holder == 0 || sd_now_ms() - t0 > 30000)
                goto fail;
            usleep(100000);
        }
        return 1;
    }
fail:
    *status = cli_fail(err.code,
                       "%s (the daemon of this store: pid %d; --no-daemon works "
                       "without it)",
                       err.msg, (int)serve_holder(ctx->db));
    return -1;
}

/* One deployment from the daemon: its view and (new reference) result. */
static int fetch(struct client *cl, int64_t id, struct deploy_view *v, json_t **result)
{
    char path[64];
    json_t *o = NULL;
    struct sd_err err = {0};

    snprintf(path, sizeof path, "/deployments/%lld", (long long)id);
    if (client_do(cl, "GET", path, NULL, &o, &err) != 0)
        return -1;
    coord_view_from_json(json_object_get(o, "deployment"), v);
    if (result != NULL) {
        *result = json_object_get(o, "result");
        *result = json_is_null(*result) ? NULL : json_incref(*result);
    }
    json_decref(o);
    return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct follow {
    struct client *ctl; /* requests, while the stream uses the other connection */
    const int64_t *ids;
    size_t n, done;
    char *ended, *printed;
    int json, tty, shown, failed, synthetic, cancelled;
    int64_t run; /* its "run" event ends the follow (0: the deployments' ends do) */
    int run_seen;
    uint64_t seq, t0;
};

static void ended(struct follow *f, size_t i)
{
    struct deploy_view v;

    if (f->printed[i] || fetch(f->ctl, f->ids[i], &v, NULL) != 0 || !traj_state_terminal(v.state))
        return;
    f->printed[i] = 1;
    if (v.state != TS_SUCCEEDED)
        f->failed++;
    if (v.synthetic)
        f->synthetic = 1;
    if (!f->json) {
        if (f->shown)
            fputs("\r\033[K", stderr), f->shown = 0;
        cli_print_view(&v);
        fflush(stdout);
    }
}

/* Re-read every state (after a resync). */
static void relist(struct follow *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct deploy_view v;
        if (!f->ended[i] && fetch(f->ctl, f->ids[i], &v, NULL) == 0 &&
            traj_state_terminal(v.state)) {
            f->ended[i] = 1;
            f->done++;
            ended(f, i);
        }
    }
}

static int on_event(json_t *ev, void *arg)
{
    struct follow *f = arg;
    const char *type;

    if (ev == NULL) {
        if (interrupted && !f->cancelled) {
            f->cancelled = 1;
            fprintf(stderr, "\nswarmdeck: interrupted: cancelling %zu deployment(s)\n",
                    f->n - f->done);
            for (size_t i = 0; i < f->n; i++) {
                char path[64];
                json_t *o = NULL;
                struct sd_err err = {0};
                if (f->ended[i])
                    continue;
                snprintf(path, sizeof path, "/deployments/%lld/cancel", (long long)f->ids[i]);
                if (client_do(f->ctl, "POST", path, NULL, &o, &err) == 0)
                    json_decref(o);
            }
        }
        if (f->tty && sd_mono_ns() - f->t0 > 1000000000ull) {
            fprintf(stderr, "\r\033[K[%zu/%zu done, %d failed] %.1f s (daemon)", f->done, f->n,
                    f->failed, (double)(sd_mono_ns() - f->t0) / 1e9);
            f->shown = 1;
        }
        return 0;
    }
    f->seq = (uint64_t)json_integer_value(json_object_get(ev, "seq"));
    type = json_string_value(json_object_get(ev, "type"));
    if (type == NULL)
        return 0;
    if (strcmp(type, "resync") == 0 || strcmp(type, "relist") == 0) {
        relist(f);
        /* the run's event may be among those lost: the ends alone decide */
        f->run_seen = 1;
    } else if (strcmp(type, "run") == 0) {
        if (json_integer_value(json_object_get(ev, "run")) == f->run)
            f->run_seen = 1;
    } else if (strcmp(type, "state") == 0) {
        int64_t id = json_integer_value(json_object_get(ev, "id"));
        int state = traj_state_from_name(json_string_value(json_object_get(ev, "state")));
        for (size_t i = 0; i < f->n; i++)
            if (f->ids[i] == id && !f->ended[i] && state >= 0 && traj_state_terminal(state)) {
                f->ended[i] = 1;
                f->done++;
                ended(f, i);
            }
    }
    /* The run's end is committed before its event is sent, and with it
     * every deployment's: so the store has the results when we return. */
    return f->done == f->n && (f->run == 0 || f->run_seen) ? 1 : 0;
}

int cli_daemon_follow(struct client *cl, int64_t run, const int64_t *ids, size_t n, uint64_t since,
                      int json)
{
    struct follow f = {.ids = ids, .n = n, .json = json, .tty = isatty(2) && !json, .run = run};
    struct sigaction sa, old_int, old_term;
    struct sd_err err = {0};
    int rc = 0, tries = 0;

    f.ended = xcalloc(n + 1, 1);
    f.printed = xcalloc(n + 1, 1);
    f.seq = since;
    f.t0 = sd_mono_ns();
    f.ctl = cl;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    {
        /* A second connection for the stream; requests go on cl. */
        struct client *stream = NULL;
        while (f.done < n) {
            if (stream == NULL && client_clone(cl, &stream, &err) != 0) {
                if (++tries > 50) {
                    rc = -1;
                    break;
                }
                usleep(100000); /* the daemon restarting: try again for 5 s */
                continue;
            }
            if (client_events(stream, f.seq, on_event, &f, &err) > 0)
                break;
            client_close(stream);
            stream = NULL;
        }
        client_close(stream);
    }
    if (f.shown)
        fputs("\r\033[K", stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc != 0) {
        free(f.ended);
        free(f.printed);
        return cli_fail(SD_EENV,
                        "lost the daemon: %s (what it ran is in the store: "
                        "`swarmdeck history`)",
                        err.msg);
    }
    {
        /* The daemon's store failing is the store's error, as in process
         * (exit 3 naming its path and the cause), not a strategy's. */
        char store_err[512] = "";
        json_t *arr = json ? json_array() : NULL;
        for (size_t i = 0; i < n; i++) {
            struct deploy_view v;
            json_t *result = NULL;
            if (fetch(cl, ids[i], &v, json ? &result : NULL) != 0)
                continue;
            if (!store_err[0] &&
                strncmp(v.error, COORD_NOT_RECORDED, strlen(COORD_NOT_RECORDED)) == 0)
                snprintf(store_err, sizeof store_err, "%.480s",
                         v.error + strlen(COORD_NOT_RECORDED));
            if (json)
                json_array_append_new(arr, cli_view_json(&v, result, i));
        }
        if (json)
            cli_print_json(arr);
        else
            cli_print_outcome(n, f.failed, f.cancelled, f.synthetic);
        free(f.ended);
        free(f.printed);
        if (store_err[0])
            return cli_fail(SD_EENV, "the daemon's store: %s", store_err);
    }
    return f.failed > 0 ? 1 : 0;
}

int cli_daemon_launch(struct client *cl, const char *kind, json_t *spec, int detach, int json)
{
    struct sd_err err = {0};
    json_t *ans = NULL, *ids;
    int64_t *v;
    size_t n;
    int status;

    json_object_set_new(spec, "kind", json_string(kind));
    if (client_do(cl, "POST", "/deployments", spec, &ans, &err) != 0)
        return cli_fail_err(&err);
    ids = json_object_get(ans, "ids");
    n = json_array_size(ids);
    if (detach) {
        if (json)
            cli_print_json(json_pack("{s:O, s:O}", "run", json_object_get(ans, "run"), "ids", ids));
        else
            printf("run %lld: %zu deployment(s) queued on the daemon (pid %lld); "
                   "`swarmdeck wait %lld` follows it\n",
                   (long long)json_integer_value(json_object_get(ans, "run")), n,
                   (long long)json_integer_value(json_object_get(client_version(cl), "pid")),
                   (long long)json_integer_value(json_object_get(ans, "run")));
        json_decref(ans);
        return 0;
    }
    v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_integer_value(json_array_get(ids, i));
    status = cli_daemon_follow(cl, json_integer_value(json_object_get(ans, "run")), v, n,
                               (uint64_t)json_integer_value(json_object_get(ans, "seq")), json);
    free(v);
    json_decref(ans);
    return status;
}

size_t cli_daemon_engine_args(const struct cli_cmd *cmd, const struct cli_args *a, char **out,
                              size_t max)
{
    static const char *const valued[] = {"timeout", "memory",   "cpus",     "max-agents",
                                         "seed",    "provider", "failover", "disk"};
    static const char *const flags[] = {"strict", "unsandboxed", "no-learning", "auto-optimize",
                                        "internet"};
    static char names[16][24];
    size_t n = 0, k = 0;

    for (size_t i = 0; i < sizeof valued / sizeof *valued && n + 2 < max; i++) {
        const char *v = cli_val(cmd, a, valued[i]);
        if (v == NULL)
            continue;
        snprintf(names[k], sizeof names[k], "--%s", valued[i]);
        out[n++] = names[k++];
        out[n++] = (char *)v;
    }
    for (size_t i = 0; i < sizeof flags / sizeof *flags && n + 1 < max; i++)
        if (cli_flag(cmd, a, flags[i])) {
            snprintf(names[k], sizeof names[k], "--%s", flags[i]);
            out[n++] = names[k++];
        }
    out[n] = NULL;
    return n;
}

int cli_daemon_launcher(struct cli_ctx *ctx, const struct cli_cmd *cmd, const struct cli_args *a,
                        struct client **out, int *status)
{
    char *sargs[32];
    int detach = cli_flag(cmd, a, "detach"), k;

    cli_daemon_engine_args(cmd, a, sargs, sizeof sargs / sizeof *sargs);
    if ((k = cli_daemon(ctx, detach, sargs, out, status)) == 0 && detach) {
        *status = cli_fail(SD_EUSAGE, "--detach needs a daemon (not with --no-daemon)");
        return -1;
    }
    return k;
}
