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
#include <sys/wait.h>
#include <unistd.h>

#include "bgjob.h"
#include "evlog.h"
#include "fleet.h"
#include "fleet_store.h"
#include "launch.h"
#include "learn.h"
#include "merge.h"
#include "pump.h"
#include "query.h"
#include "request.h"
#include "sock.h"
#include "span.h"

#define EVLOG_CAP      65536
#define BODY_MAX       (1 << 20)
#define FLEET_BODY_MAX (64 << 20) /* POST /v1/fleet/records: records carry their output */
#define BOOKMARK_MS    15000
#define OUTPUT_MAX     5000 /* lines in one output answer */
#define CONN_LIMIT     256
#define IDLE_TIMEOUT   600 /* seconds a connection may send nothing (streams write bookmarks) */

extern char **environ;

struct server {
    struct coord *c;
    struct evlog *log;
    struct pump *pump;
    struct bgjobs *jobs; /* benchmarks the daemon runs for clients (bgjob.h) */
    struct MHD_Daemon *rw, *ro;
    char sock_rw[PATH_MAX], sock_ro[PATH_MAX];
    char store_path[PATH_MAX];
    char *on_finish;
    /* This daemon's user's name, looked up once: every peer it serves has
     * its uid (handle refuses others), and getpwuid_r reads the password
     * database on each call (75 us at p50 of every launch, bench spans). */
    char user[256];
    atomic_int clients;
    _Atomic int64_t last_client_ms;
};

/* Per request: the body as it arrives. */
struct req {
    char *body;
    size_t len;
    int too_big;
    pid_t pid; /* the peer, read once (SO_PEERCRED) on the request's first call */
    uid_t uid;
};

/* --- answers ------------------------------------------------------------ */

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, json_t *body)
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

static enum MHD_Result fail(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result fail(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return answer(conn, status, json_pack("{s:s}", "error", msg));
}

static unsigned err_status(const struct sd_err *e)
{
    return e->code == SD_EUSAGE ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* Every deployment this daemon has run, oldest first. */
static json_t *views_json(struct coord *c)
{
    size_t n;
    struct deploy_view *v = coord_list_all(c, &n);
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, coord_view_json(&v[i]));
    free(v);
    return a;
}

/* --- handlers ----------------------------------------------------------- */

struct call {
    struct server *s;
    struct MHD_Connection *conn;
    int readonly;
    int64_t id;   /* the ID of /deployments/ID, else 0 */
    json_t *body; /* parsed POST body, or NULL */
    pid_t pid;
    uid_t uid;
};

static enum MHD_Result h_version(struct call *k)
{
    return answer(k->conn, MHD_HTTP_OK,
                  json_pack("{s:i, s:s, s:i, s:s, s:b}", "protocol", SERVE_PROTOCOL, "version",
                            SWARMDECK_VERSION, "pid", (int)getpid(), "store", k->s->store_path,
                            "readonly", k->readonly));
}

/* How many of c's running deployments are paused (coord_pause): /v1/status counts them under
 * "paused" besides "running", which includes them. */
static int paused_count(struct coord *c)
{
    size_t n;
    int paused = 0;
    struct deploy_view *v = coord_list_all(c, &n);

    for (size_t i = 0; i < n; i++)
        paused += v[i].state == TS_RUNNING && v[i].paused;
    free(v);
    return paused;
}

static enum MHD_Result h_status(struct call *k)
{
    int counts[TS_COUNT];
    struct provider_health h[16];
    size_t np = coord_providers(k->s->c, h, 16);
    json_t *cj = json_object();
    uint64_t seq = evlog_last(k->s->log);

    coord_counts(k->s->c, counts);
    for (int i = 0; i < TS_COUNT; i++)
        json_object_set_new(cj, traj_state_name(i), json_integer(counts[i]));
    json_object_set_new(cj, "paused", json_integer(paused_count(k->s->c)));
    return answer(k->conn, MHD_HTTP_OK,
                  json_pack("{s:I, s:o, s:o, s:o, s:I, s:i, s:i, s:s, s:I, s:b}", "seq",
                            (json_int_t)seq, "counts", cj, "providers", coord_health_json(h, np),
                            "deployments", views_json(k->s->c), "runsOpen",
                            (json_int_t)pump_runs_open(k->s->pump), "clients",
                            atomic_load(&k->s->clients), "pid", (int)getpid(), "defaultProvider",
                            coord_default_provider(k->s->c), "timeoutMs",
                            (json_int_t)coord_options(k->s->c)->timeout_ms, "learning",
                            coord_learn(k->s->c) != NULL));
}

static enum MHD_Result h_list(struct call *k)
{
    /* The number first: a change after the list is then seen by a watch
     * from it (maybe twice, never not at all: events are idempotent). */
    uint64_t seq = evlog_last(k->s->log);
    return answer(
        k->conn, MHD_HTTP_OK,
        json_pack("{s:I, s:o}", "seq", (json_int_t)seq, "deployments", views_json(k->s->c)));
}

static enum MHD_Result h_one(struct call *k)
{
    struct deploy_view v;
    json_t *res;

    if (coord_view(k->s->c, k->id, &v) != 0)
        return fail(k->conn, MHD_HTTP_NOT_FOUND, "deployment %" PRId64 " is not live here", k->id);
    res = coord_result(k->s->c, k->id);
    return answer(k->conn, MHD_HTTP_OK,
                  json_pack("{s:o, s:o}", "deployment", coord_view_json(&v), "result",
                            res ? res : json_null()));
}

static int query_u64(struct MHD_Connection *conn, const char *key, uint64_t *out)
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

static enum MHD_Result h_output(struct call *k)
{
    struct logring *r = coord_log(k->s->c, k->id);
    uint64_t from = 1, max = 1000;
    struct logline *lines;
    size_t n;
    json_t *a;

    if (r == NULL)
        return fail(k->conn, MHD_HTTP_NOT_FOUND, "deployment %" PRId64 " is not live here", k->id);
    if (query_u64(k->conn, "from", &from) != 0 || query_u64(k->conn, "max", &max) != 0)
        return fail(k->conn, MHD_HTTP_BAD_REQUEST, "from and max must be whole numbers");
    if (max > OUTPUT_MAX)
        max = OUTPUT_MAX;
    if ((lines = calloc(max ? max : 1, sizeof *lines)) == NULL)
        return fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    n = logring_get(r, from, lines, max);
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:I, s:i, s:b, s:I, s:s}", "seq",
                                           (json_int_t)lines[i].seq, "stream", lines[i].stream,
                                           "partial", lines[i].partial, "time",
                                           (json_int_t)lines[i].time_ms, "text", lines[i].text));
    logline_free_all(lines, n);
    free(lines);
    return answer(k->conn, MHD_HTTP_OK,
                  json_pack("{s:I, s:I, s:o}", "first", (json_int_t)logring_first_seq(r), "last",
                            (json_int_t)logring_last_seq(r), "lines", a));
}

/* Who asked: the peer's pid and uid (SO_PEERCRED), its user name and the
 * terminal it says it runs on. New reference. */
static json_t *by_json(struct call *k)
{
    const char *tty = MHD_lookup_connection_value(k->conn, MHD_HEADER_KIND, "X-Swarmdeck-Tty");

    return json_pack("{s:i, s:i, s:s, s:s}", "pid", (int)k->pid, "uid", (int)k->uid, "user",
                     k->uid == getuid() ? k->s->user : "?", "tty", tty ? tty : "");
}

static enum MHD_Result h_run(struct call *k)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(coord_store(k->s->c), &err);
    json_t *r = db ? store_run_get(db, k->id, &err) : NULL;

    sqlite3_close_v2(db);
    if (r != NULL)
        json_object_set_new(r, "open", json_boolean(pump_run_open(k->s->pump, k->id)));
    if (r == NULL)
        return fail(k->conn,
                    err.code == SD_EUSAGE ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
                    "%s", err.msg);
    return answer(k->conn, MHD_HTTP_OK, r);
}

static enum MHD_Result h_launch(struct call *k)
{
    struct sd_err err = {0};
    uint64_t t_req = sd_mono_ns();
    json_t *ids = NULL, *by = by_json(k);
    json_t *kind = json_object_get(k->body, "kind");
    int64_t run;
    int rc;
    /* Taken before anything is queued: a watch from it sees every event of
     * this launch's deployments. */
    uint64_t seq = evlog_last(k->s->log);

    rc = launch_submit(
        k->s->c,
        json_is_string(kind) && strcmp(json_string_value(kind), "swarm") == 0 ? "swarm" : "deploy",
        k->body, by, &run, &ids, &err);
    json_decref(by);
    if (rc != 0)
        return fail(k->conn, err_status(&err), "%s", err.msg);
    if (pump_run_add(k->s->pump, run, ids) != 0)
        fprintf(stderr, "swarmdeck serve: run %" PRId64 ": cannot track its end\n", run);
    sd_span_at(SPAN_REQUEST, json_integer_value(json_array_get(ids, 0)), t_req);
    sd_span(SPAN_ANSWERED, json_integer_value(json_array_get(ids, 0)));
    return answer(
        k->conn, MHD_HTTP_CREATED,
        json_pack("{s:I, s:o, s:I}", "run", (json_int_t)run, "ids", ids, "seq", (json_int_t)seq));
}

static enum MHD_Result h_cancel(struct call *k)
{
    char by[160];
    json_t *bj = by_json(k);

    launch_by_text(bj, by, sizeof by);
    json_decref(bj);
    if (coord_cancel_by(k->s->c, k->id, by) != 0)
        return fail(k->conn, MHD_HTTP_NOT_FOUND, "deployment %" PRId64 " is not live here", k->id);
    fprintf(stderr, "swarmdeck serve: deployment %" PRId64 " cancelled by pid %d uid %d\n", k->id,
            (int)k->pid, (int)k->uid);
    return answer(k->conn, MHD_HTTP_OK, json_pack("{s:I}", "cancelled", (json_int_t)k->id));
}

/* POST /v1/deployments/ID/pause and /resume: stop or continue every process of a running
 * deployment's sandbox (coord_pause). 200 {"id":ID,"state":"paused"|"running"}; 400 when it
 * is not running or its provider cannot pause (E2B), 404 when not live here. */
static enum MHD_Result pause_one(struct call *k, int on)
{
    struct sd_err err = {0};
    struct deploy_view v;

    if (coord_view(k->s->c, k->id, &v) != 0)
        return fail(k->conn, MHD_HTTP_NOT_FOUND, "deployment %" PRId64 " is not live here", k->id);
    if (coord_pause(k->s->c, k->id, on, &err) != 0)
        return fail(k->conn, err_status(&err), "%s", err.msg);
    fprintf(stderr, "swarmdeck serve: deployment %" PRId64 " %s by pid %d uid %d\n", k->id,
            on ? "paused" : "resumed", (int)k->pid, (int)k->uid);
    coord_view(k->s->c, k->id, &v);
    return answer(k->conn, MHD_HTTP_OK,
                  json_pack("{s:I, s:s}", "id", (json_int_t)k->id, "state", coord_view_state(&v)));
}

static enum MHD_Result h_pause(struct call *k)
{
    return pause_one(k, 1);
}

static enum MHD_Result h_resume(struct call *k)
{
    return pause_one(k, 0);
}

/* POST /v1/cancel {"ids": [...]} or {"all": true}: many at once (a
 * console's tagged rows, its cleanup). Ids not live or already ended are
 * skipped; the answer counts those cancelled. */
static enum MHD_Result h_cancel_many(struct call *k)
{
    json_t *ids = json_object_get(k->body, "ids"), *x;
    int all = json_is_true(json_object_get(k->body, "all"));
    size_t i, n = 0;
    char by[160];
    json_t *bj = by_json(k);

    launch_by_text(bj, by, sizeof by);
    json_decref(bj);
    if (!all && !json_is_array(ids))
        return fail(k->conn, MHD_HTTP_BAD_REQUEST, "cancel needs \"ids\": [...] or \"all\": true");
    if (!all)
        json_array_foreach(ids, i, x) if (!json_is_integer(x) ||
                                          json_integer_value(x) <=
                                              0) return fail(k->conn, MHD_HTTP_BAD_REQUEST,
                                                             "\"ids\" must hold deployment ids");
    if (all) {
        struct deploy_view *v = coord_list_all(k->s->c, &i);
        for (size_t j = 0; j < i; j++)
            n += !traj_state_terminal(v[j].state) && coord_cancel_by(k->s->c, v[j].id, by) == 0;
        free(v);
    } else {
        json_array_foreach(ids, i, x) n += coord_cancel_by(k->s->c, json_integer_value(x), by) == 0;
    }
    fprintf(stderr, "swarmdeck serve: %zu deployment(s) cancelled by pid %d uid %d\n", n,
            (int)k->pid, (int)k->uid);
    return answer(k->conn, MHD_HTTP_OK, json_pack("{s:I}", "cancelled", (json_int_t)n));
}

/* POST /v1/jobs {"command": "benchmark", "args": [...], "cwd": "/abs"}: run
 * the command as the daemon's child (bgjob.h) -> 201 {job, pid}. */
static enum MHD_Result h_job_start(struct call *k)
{
    struct sd_err err = {0};
    const char *cmd = json_string_value(json_object_get(k->body, "command"));
    const char *cwd = json_string_value(json_object_get(k->body, "cwd"));
    int64_t id;

    if (cmd == NULL)
        return fail(k->conn, MHD_HTTP_BAD_REQUEST, "a job needs \"command\"");
    if (bgjob_start(k->s->jobs, cmd, json_object_get(k->body, "args"), cwd, &id, &err) != 0)
        return fail(k->conn, err_status(&err), "%s", err.msg);
    fprintf(stderr, "swarmdeck serve: job %" PRId64 " (%s) started for pid %d uid %d\n", id, cmd,
            (int)k->pid, (int)k->uid);
    return answer(k->conn, MHD_HTTP_CREATED, json_pack("{s:I}", "job", (json_int_t)id));
}

/* GET /v1/jobs/ID/log?from=N: its output from byte N, whether it ended. */
static enum MHD_Result h_job_log(struct call *k)
{
    struct sd_err err = {0};
    uint64_t from = 0;
    json_t *o;

    if (query_u64(k->conn, "from", &from) != 0)
        return fail(k->conn, MHD_HTTP_BAD_REQUEST, "from must be a whole number");
    if ((o = bgjob_log(k->s->jobs, k->id, from, 256 * 1024, &err)) == NULL)
        return fail(k->conn,
                    err.code == SD_EUSAGE ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
                    "%s", err.msg);
    return answer(k->conn, MHD_HTTP_OK, o);
}

/* POST /v1/jobs/ID/interrupt: SIGINT, as Ctrl-C on its terminal would. */
static enum MHD_Result h_job_interrupt(struct call *k)
{
    struct sd_err err = {0};
    if (bgjob_interrupt(k->s->jobs, k->id, &err) != 0)
        return fail(k->conn, MHD_HTTP_NOT_FOUND, "%s", err.msg);
    return answer(k->conn, MHD_HTTP_OK, json_pack("{s:I}", "interrupted", (json_int_t)k->id));
}

static enum MHD_Result h_suggest(struct call *k)
{
    struct sd_err err = {0};
    struct deploy_req r;
    json_t *sugg;

    if (request_suggest(k->body, &r, &err) != 0)
        return fail(k->conn, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
    if (coord_learn(k->s->c) == NULL)
        return fail(k->conn, MHD_HTTP_NOT_FOUND, "this daemon runs without learning");
    if ((sugg = coord_suggest(k->s->c, &r, &err)) == NULL)
        return fail(k->conn, err_status(&err), "%s", err.msg);
    return answer(k->conn, MHD_HTTP_OK, sugg);
}

/* GET /v1/learning: {seq, learning: pump_learning's snapshot}. seq is read
 * first, so a change the snapshot misses comes as a "learning" event after
 * it (list+watch). 404 on a daemon without learning. */
static enum MHD_Result h_learning(struct call *k)
{
    uint64_t seq = evlog_last(k->s->log);
    json_t *snap;

    if (coord_learn(k->s->c) == NULL)
        return fail(k->conn, MHD_HTTP_NOT_FOUND, "this daemon runs without learning");
    if ((snap = pump_learning(coord_learn(k->s->c))) == NULL)
        return fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return answer(k->conn, MHD_HTTP_OK,
                  json_pack("{s:I, s:o}", "seq", (json_int_t)seq, "learning", snap));
}

/* The event stream: one JSON object a line, each with its "seq". */
struct stream {
    struct server *s;
    uint64_t since;
    char *buf; /* lines not yet handed to MHD */
    size_t len, off;
};

static void stream_add(struct stream *st, uint64_t seq, const char *json)
{
    /* json is an object: splice "seq" in as its first member. */
    char *line = NULL;
    int n = json[1] == '}' ? asprintf(&line, "{\"seq\":%" PRIu64 "}\n", seq)
                           : asprintf(&line, "{\"seq\":%" PRIu64 ",%s\n", seq, json + 1);
    char *grown;

    if (n < 0)
        return;
    grown = realloc(st->buf, st->len + (size_t)n);
    if (grown != NULL) {
        memcpy(grown + st->len, line, (size_t)n);
        st->buf = grown;
        st->len += (size_t)n;
    }
    free(line);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *st = cls;
    struct evlog_item it[64];
    int n, resync;
    size_t k;

    (void)pos;
    if (st->off == st->len) {
        st->off = st->len = 0;
        n = evlog_read(st->s->log, st->since, it, 64, BOOKMARK_MS, &resync);
        if (n < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (resync) {
            st->since = evlog_last(st->s->log);
            stream_add(st, st->since, "{\"type\":\"resync\"}");
        } else if (n == 0) {
            stream_add(st, st->since, "{\"type\":\"bookmark\"}");
        }
        for (int i = 0; i < n; i++) {
#ifdef SD_SPANS
            const char *at = strstr(it[i].json, "\"id\":");
            if (at != NULL && strstr(it[i].json, "\"state\":\"succeeded\"") != NULL)
                sd_span(SPAN_STREAMED, strtoll(at + 5, NULL, 10));
#endif
            stream_add(st, it[i].seq, it[i].json);
            st->since = it[i].seq;
        }
        evlog_items_free(it, n > 0 ? n : 0);
        if (st->len == 0)
            return MHD_CONTENT_READER_END_WITH_ERROR; /* out of memory */
    }
    k = st->len - st->off < max ? st->len - st->off : max;
    memcpy(out, st->buf + st->off, k);
    st->off += k;
    return (ssize_t)k;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    free(st->buf);
    free(st);
}

static enum MHD_Result h_events(struct call *k)
{
    struct stream *st = calloc(1, sizeof *st);
    struct MHD_Response *r;
    enum MHD_Result rc;
    uint64_t since = 0;

    if (st == NULL)
        return fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    if (query_u64(k->conn, "since", &since) != 0) {
        free(st);
        return fail(k->conn, MHD_HTTP_BAD_REQUEST, "since must be a whole number");
    }
    st->s = k->s;
    st->since = since;
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (r == NULL) {
        free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
    rc = MHD_queue_response(k->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

/* --- routing ------------------------------------------------------------ */

/* --- the fleet (engine/fleet) ------------------------------------------ */

static void fleet_tap(const char *json, int terminal, void *arg)
{
    fleet_live(arg, json);
    if (terminal)
        fleet_notify(arg);
}

#define FLEET_PAGE_MAX 1000

/* A trajectory another host made was added (fleet/merge.h): the warm
 * learning index observes it as the coordinator does its own, so
 * suggestions use the fleet's runs without a restart. arg: the coord. */
static void learn_added(int64_t id, json_t *t, void *arg)
{
    struct learn *l = coord_learn(arg);
    struct learn_obs o = {
        .id = id,
        .strategy = json_string_value(json_object_get(t, "strategyName")),
        .symbol = json_string_value(json_object_get(t, "symbol")),
        .provider = json_string_value(json_object_get(t, "provider")),
        .params = json_object_get(t, "params"),
        .state = traj_state_from_name(json_string_value(json_object_get(t, "status"))),
        .reward = json_number_value(json_object_get(t, "reward")),
        .created_at = json_integer_value(json_object_get(t, "createdAt")),
        .duration_ms = json_number_value(json_object_get(t, "duration")),
        .op_sequence = json_string_value(json_object_get(t, "operationSequence")),
        .prediction = json_is_object(json_object_get(t, "prediction"))
                          ? json_object_get(t, "prediction")
                          : NULL,
        .result =
            json_is_object(json_object_get(t, "result")) ? json_object_get(t, "result") : NULL,
    };
    if (l != NULL && o.strategy != NULL)
        learn_observe(l, &o);
}

/* GET /v1/fleet/records?after=N&max=M&skip=NAME: `swarmdeck sync` pulls
 * finished trajectories past chain position N (fleet_store.h), leaving out
 * those whose origin is NAME (the asking peer's own). */
static enum MHD_Result h_fleet_get(struct call *k)
{
    struct store *st = coord_store(k->s->c);
    const char *skip = MHD_lookup_connection_value(k->conn, MHD_GET_ARGUMENT_KIND, "skip");
    uint64_t after = 0, max = 200;
    int64_t last = 0, head;
    char name[FLEET_NAME_MAX];
    struct sd_err err = {0};
    sqlite3 *db;
    json_t *a;

    if (query_u64(k->conn, "after", &after) != 0 || query_u64(k->conn, "max", &max) != 0 ||
        after > INT64_MAX)
        return fail(k->conn, MHD_HTTP_BAD_REQUEST, "after and max must be whole numbers");
    if (max == 0 || max > FLEET_PAGE_MAX)
        max = FLEET_PAGE_MAX;
    if ((db = store_reader(st, &err)) == NULL)
        return fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
    a = store_fleet_page(db, store_id(st), (int64_t)after, (size_t)max, skip, name, sizeof name,
                         &head, &last, &err);
    sqlite3_close_v2(db);
    if (a == NULL)
        return fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
    return answer(k->conn, MHD_HTTP_OK,
                  json_pack("{s:s, s:I, s:I, s:o}", "name", name, "head", (json_int_t)head, "last",
                            (json_int_t)last, "records", a));
}

/* POST /v1/fleet/records {"records": [envelope...]}: `swarmdeck sync`
 * pushes; each record is verified and merged (fleet/merge.h). */
static enum MHD_Result h_fleet_post(struct call *k)
{
    json_t *recs = json_object_get(k->body, "records");
    struct fleet_merge_report r;
    struct sd_err err = {0};

    if (!json_is_array(recs))
        return fail(k->conn, MHD_HTTP_BAD_REQUEST, "\"records\" must be an array");
    if (fleet_merge(coord_store(k->s->c), recs, &r, NULL, NULL, NULL, learn_added, k->s->c, &err) !=
        0)
        return fail(k->conn, err_status(&err), "%s", err.msg);
    if (r.added > 0)
        pump_learn_changed(k->s->pump); /* the learner observed them: a learning event */
    if (r.refused > 0)
        fprintf(stderr, "swarmdeck: sync: refused %d record(s) from pid %d: %s\n", r.refused,
                (int)k->pid, r.why);
    return answer(k->conn, MHD_HTTP_OK,
                  json_pack("{s:i, s:i, s:i, s:s}", "added", r.added, "skipped", r.skipped,
                            "refused", r.refused, "why", r.why));
}

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
            return fail(k->conn, MHD_HTTP_NOT_FOUND,
                        "this daemon speaks protocol v%d (swarmdeck %s); the client asked for "
                        "v%ld: use a swarmdeck of the same version",
                        SERVE_PROTOCOL, SWARMDECK_VERSION, v);
        if (v == SERVE_PROTOCOL && *end == '/')
            url = end;
        else
            return fail(k->conn, MHD_HTTP_NOT_FOUND, "no such path: %s", url);
    } else {
        return fail(k->conn, MHD_HTTP_NOT_FOUND, "no such path: %s (paths start with /v%d/)", url,
                    SERVE_PROTOCOL);
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
            return fail(k->conn, MHD_HTTP_FORBIDDEN,
                        "read-only connection: the daemon refuses %s %s", method, url);
        k->id = id;
        if ((r->flags & R_BODY) && !json_is_object(k->body))
            return fail(k->conn, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
        return r->fn(k);
    }
    if (path_known)
        return fail(k->conn, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %s", method, url);
    return fail(k->conn, MHD_HTTP_NOT_FOUND, "no such path: /v%d%s", SERVE_PROTOCOL, url);
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
            return fail(conn, MHD_HTTP_FORBIDDEN, "uid %d may not use uid %d's daemon", (int)k.uid,
                        (int)getuid());
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
        return fail(conn, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over %d bytes",
                    strcmp(url, "/v1/fleet/records") == 0 ? FLEET_BODY_MAX : BODY_MAX);
    k.pid = rq->pid;
    k.uid = rq->uid;
    if (rq->len > 0) {
        struct sd_err err = {0};
        if ((k.body = request_body(rq->body, rq->len, &err)) == NULL)
            return fail(conn, MHD_HTTP_BAD_REQUEST, "%s", err.msg);
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
    if ((s->log = evlog_new(EVLOG_CAP)) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    if ((s->pump = pump_start(c, s->log, on_finish, s, o->fleet ? fleet_tap : NULL, o->fleet,
                              err)) == NULL)
        goto fail;
    fleet_on_added(o->fleet, learn_added, c); /* the fleet is stopped after the server */
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
