/*
 * server.c: the daemon's HTTP API over libmicrohttpd (server.h has the
 * contract, docs/daemon.md the paths).
 *
 * Two MHD daemons share one handler: one on the read-write socket and one
 * on the read-only socket; which one accepted a connection is all that
 * makes it read-only. Thread per connection, so the event stream's reader
 * callback may block in evlog_read (up to BOOKMARK_MS, then it writes a
 * bookmark: a quiet stream still proves the connection alive and carries
 * the newest number). server_stop closes the event log first, which ends
 * every stream, then stops the MHD daemons, which join their threads.
 *
 * This file is the plumbing: the route table (every path at a glance),
 * the peer check, bodies, the read-only split, the finish hook and the
 * daemon's life. The handlers live by concern in routes_*.c (routes.h).
 */
#define _GNU_SOURCE
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgjob.h"
#include "evlog.h"
#include "fleet.h"
#include "pump.h"
#include "request.h"
#include "routes.h"
#include "sock.h"

#define EVLOG_CAP      65536
#define BODY_MAX       (1 << 20)
#define FLEET_BODY_MAX (64 << 20) /* POST /v1/fleet/records: records carry their output */
#define CONN_LIMIT     256
#define IDLE_TIMEOUT   600 /* seconds a connection may send nothing (streams write bookmarks) */

extern char **environ;

/* Per request: the body as it arrives. */
struct req {
    char *body;
    size_t len;
    int too_big;
    pid_t pid; /* the peer, read once (SO_PEERCRED) on the request's first call */
    uid_t uid;
};

/* --- answers ------------------------------------------------------------ */

enum MHD_Result route_answer(struct MHD_Connection *conn, unsigned status, json_t *body)
{
    char *txt = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(17));
    struct MHD_Response *r;
    enum MHD_Result rc;

    json_decref(body);
    if (txt == NULL)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(txt);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result route_fail(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return route_answer(conn, status, json_pack("{s:s}", "error", msg));
}

unsigned route_err_status(const struct sd_err *e)
{
    return e->code == SD_EUSAGE ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

int route_query_u64(struct MHD_Connection *conn, const char *key, uint64_t *out)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
    char *end;
    unsigned long long x;

    if (v == NULL)
        return 0;
    errno = 0;
    x = strtoull(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-')
        return -1;
    *out = x;
    return 0;
}

/* --- routing ------------------------------------------------------------ */

enum { R_GET = 1, R_POST = 2 };
enum { R_ID = 1 << 0, R_MUTATES = 1 << 1, R_BODY = 1 << 2 };

static const struct route {
    int method;
    const char *path; /* after /v1; "#" matches a deployment id */
    int flags;
    enum MHD_Result (*fn)(struct call *);
} routes[] = {
    {R_GET, "/version", 0, h_version},
    {R_GET, "/status", 0, h_status},
    {R_GET, "/deployments", 0, h_list},
    {R_POST, "/deployments", R_MUTATES | R_BODY, h_launch},
    {R_GET, "/deployments/#", R_ID, h_one},
    {R_GET, "/deployments/#/output", R_ID, h_output},
    {R_POST, "/deployments/#/cancel", R_ID | R_MUTATES, h_cancel},
    {R_POST, "/deployments/#/pause", R_ID | R_MUTATES, h_pause},
    {R_POST, "/deployments/#/resume", R_ID | R_MUTATES, h_resume},
    {R_POST, "/cancel", R_MUTATES | R_BODY, h_cancel_many},
    {R_POST, "/jobs", R_MUTATES | R_BODY, h_job_start},
    {R_GET, "/jobs/#/log", R_ID, h_job_log},
    {R_POST, "/jobs/#/interrupt", R_ID | R_MUTATES, h_job_interrupt},
    {R_GET, "/events", 0, h_events},
    {R_GET, "/runs/#", R_ID, h_run},
    {R_POST, "/suggest", R_BODY, h_suggest},
    {R_GET, "/learning", 0, h_learning},
    {R_GET, "/fleet/records", 0, h_fleet_get},
    {R_POST, "/fleet/records", R_MUTATES | R_BODY, h_fleet_post},
};

static enum MHD_Result route(struct call *k, const char *url, const char *method)
{
    int m = strcmp(method, "GET") == 0 ? R_GET : strcmp(method, "POST") == 0 ? R_POST : 0;
    int path_known = 0;
    char *end;

    if (strncmp(url, "/v", 2) == 0 && url[2] >= '0' && url[2] <= '9') {
        long v = strtol(url + 2, &end, 10);
        if (v != SERVE_PROTOCOL && (*end == '/' || *end == '\0'))
            return route_fail(
                k->conn, MHD_HTTP_NOT_FOUND,
                "this daemon speaks protocol v%d (swarmdeck %s); the client asked for "
                "v%ld: use a swarmdeck of the same version",
                SERVE_PROTOCOL, SWARMDECK_VERSION, v);
        if (v == SERVE_PROTOCOL && *end == '/')
            url = end;
        else
            return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "no such path: %s", url);
    } else {
        return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "no such path: %s (paths start with /v%d/)",
                          url, SERVE_PROTOCOL);
    }
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *r = &routes[i];
        int64_t id = 0;
        if (!request_match(r->path, url, &id))
            continue;
        path_known = 1;
        if (r->method != m)
            continue;
        if ((r->flags & R_MUTATES) && k->readonly)
            return route_fail(k->conn, MHD_HTTP_FORBIDDEN,
                              "read-only connection: the daemon refuses %s %s", method, url);
        k->id = id;
        if ((r->flags & R_BODY) && !json_is_object(k->body))
            return route_fail(k->conn, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
        return r->fn(k);
    }
    if (path_known)
        return route_fail(k->conn, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %s", method,
                          url);
    return route_fail(k->conn, MHD_HTTP_NOT_FOUND, "no such path: /v%d%s", SERVE_PROTOCOL, url);
}

static enum MHD_Result handle(struct server *s, int readonly, struct MHD_Connection *conn,
                              const char *url, const char *method, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct req *rq = *con_cls;
    struct call k = {.s = s, .conn = conn, .readonly = readonly};
    const union MHD_ConnectionInfo *ci;
    enum MHD_Result rc;

    if (rq == NULL) {
        /* First call: headers only. Check the peer before reading a byte of body. */
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci == NULL || serve_peer(ci->connect_fd, &k.pid, &k.uid) != 0)
            return MHD_NO;
        if (k.uid != getuid())
            return route_fail(conn, MHD_HTTP_FORBIDDEN, "uid %d may not use uid %d's daemon",
                              (int)k.uid, (int)getuid());
        if ((rq = calloc(1, sizeof *rq)) == NULL)
            return MHD_NO;
        rq->pid = k.pid;
        rq->uid = k.uid;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t max = strcmp(url, "/v1/fleet/records") == 0 ? FLEET_BODY_MAX : BODY_MAX;
        if (rq->len + *upload_size > max) {
            rq->too_big = 1;
        } else {
            char *grown = realloc(rq->body, rq->len + *upload_size + 1);
            if (grown == NULL)
                return MHD_NO;
            memcpy(grown + rq->len, upload, *upload_size);
            rq->body = grown;
            rq->len += *upload_size;
            rq->body[rq->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_big)
        return route_fail(conn, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over %d bytes",
                          strcmp(url, "/v1/fleet/records") == 0 ? FLEET_BODY_MAX : BODY_MAX);
    k.pid = rq->pid;
    k.uid = rq->uid;
    if (rq->len > 0) {
        struct sd_err err = {0};
        if ((k.body = request_body(rq->body, rq->len, &err)) == NULL)
            return route_fail(conn, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
    }
    rc = route(&k, url, method);
    json_decref(k.body);
    return rc;
}

static enum MHD_Result handle_rw(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    return handle(cls, 0, conn, url, method, upload, upload_size, con_cls);
}

static enum MHD_Result handle_ro(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    return handle(cls, 1, conn, url, method, upload, upload_size, con_cls);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static void connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    struct server *s = cls;
    (void)conn;
    (void)socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->clients, 1);
    } else {
        atomic_fetch_sub(&s->clients, 1);
        atomic_store(&s->last_client_ms, sd_now_ms());
    }
}

/* --- the finish hook ---------------------------------------------------- */

struct hook {
    char *cmd, *summary;
};

static void *hook_main(void *arg)
{
    struct hook *h = arg;
    posix_spawn_file_actions_t fa;
    char *argv[] = {"sh", "-c", h->cmd, NULL};
    int fds[2];
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) == 0) {
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
        if (posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ) == 0) {
            size_t len = strlen(h->summary);
            close(fds[0]);
            if (write(fds[1], h->summary, len) != (ssize_t)len || write(fds[1], "\n", 1) != 1)
                fprintf(stderr, "swarmdeck serve: --on-finish did not read its summary\n");
            close(fds[1]);
            waitpid(pid, NULL, 0);
        } else {
            close(fds[0]);
            close(fds[1]);
            fprintf(stderr, "swarmdeck serve: cannot run --on-finish: %s\n", strerror(errno));
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    free(h->cmd);
    free(h->summary);
    free(h);
    return NULL;
}

static void on_finish(const char *summary, void *arg)
{
    struct server *s = arg;
    struct hook *h;
    pthread_t t;

    {
        json_error_t je;
        json_t *o = json_loads(summary, 0, &je);
        fprintf(stderr, "swarmdeck: %s\n",
                json_string_value(json_object_get(o, "summary"))
                    ? json_string_value(json_object_get(o, "summary"))
                    : summary);
        json_decref(o);
    }
    if (s->on_finish == NULL || (h = calloc(1, sizeof *h)) == NULL)
        return;
    h->cmd = strdup(s->on_finish);
    h->summary = strdup(summary);
    if (h->cmd == NULL || h->summary == NULL || pthread_create(&t, NULL, hook_main, h) != 0) {
        free(h->cmd);
        free(h->summary);
        free(h);
        return;
    }
    pthread_detach(t);
}

/* --- life --------------------------------------------------------------- */

static struct MHD_Daemon *start_mhd(struct server *s, int fd, int readonly)
{
    return MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC, 0, NULL,
        NULL, readonly ? handle_ro : handle_rw, s, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)IDLE_TIMEOUT, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, connection, s, MHD_OPTION_END);
}

int server_start(struct coord *c, const struct server_opts *o, struct server **out,
                 struct sd_err *err)
{
    struct server *s = calloc(1, sizeof *s);
    int fd_rw = -1, fd_ro = -1;

    *out = NULL;
    if (s == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    /* A client that hangs up mid-answer must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
    s->c = c;
    snprintf(s->store_path, sizeof s->store_path, "%s", o->store_path);
    s->on_finish = o->on_finish ? strdup(o->on_finish) : NULL;
    {
        struct passwd pw, *res = NULL;
        char buf[1024];
        getpwuid_r(getuid(), &pw, buf, sizeof buf, &res);
        snprintf(s->user, sizeof s->user, "%s", res ? res->pw_name : "?");
    }
    atomic_store(&s->last_client_ms, sd_now_ms());
    {
        uint64_t v;
        if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) /* a clock and an address then */
            v = sd_mono_ns() ^ ((uint64_t)sd_now_ms() << 20) ^ (uint64_t)(uintptr_t)s;
        snprintf(s->instance, sizeof s->instance, "%016llx", (unsigned long long)v);
    }
    if ((s->log = evlog_new(EVLOG_CAP)) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    if ((s->pump = pump_start(c, s->log, on_finish, s, o->fleet ? route_fleet_tap : NULL, o->fleet,
                              err)) == NULL)
        goto fail;
    fleet_on_added(o->fleet, route_learn_added, c); /* the fleet is stopped after the server */
    if ((s->jobs = bgjobs_new(o->store_path, s->log)) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    if (serve_sockpath(o->store_path, 0, s->sock_rw, sizeof s->sock_rw, err) != 0 ||
        serve_sockpath(o->store_path, 1, s->sock_ro, sizeof s->sock_ro, err) != 0)
        goto fail;
    if ((fd_rw = serve_listen(s->sock_rw, err)) < 0 || (fd_ro = serve_listen(s->sock_ro, err)) < 0)
        goto fail;
    if ((s->rw = start_mhd(s, fd_rw, 0)) == NULL || (s->ro = start_mhd(s, fd_ro, 1)) == NULL) {
        sd_err_set(err, SD_EENV, "cannot start the HTTP server on %s", s->sock_rw);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (s->rw == NULL && fd_rw >= 0)
        close(fd_rw);
    if (s->ro == NULL && fd_ro >= 0)
        close(fd_ro);
    server_stop(s);
    return -1;
}

void server_stop(struct server *s)
{
    if (s == NULL)
        return;
    if (s->log != NULL)
        evlog_close(s->log);
    if (s->rw != NULL) {
        MHD_stop_daemon(s->rw);
        unlink(s->sock_rw);
    }
    if (s->ro != NULL) {
        MHD_stop_daemon(s->ro);
        unlink(s->sock_ro);
    }
    bgjobs_free(s->jobs); /* before the log its waiters write to */
    pump_stop(s->pump);
    evlog_free(s->log);
    free(s->on_finish);
    free(s);
}

int server_clients(struct server *s)
{
    return atomic_load(&s->clients);
}

int64_t server_last_client_ms(struct server *s)
{
    return atomic_load(&s->last_client_ms);
}

size_t server_jobs_running(struct server *s)
{
    return bgjobs_running(s->jobs);
}

size_t server_runs_open(struct server *s)
{
    return pump_runs_open(s->pump);
}

const char *server_socket(struct server *s, int readonly)
{
    return readonly ? s->sock_ro : s->sock_rw;
}
