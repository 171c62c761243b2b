/*
 * routes.h: inside the daemon's HTTP API (server.c), shared by the route
 * handlers, which live by concern in their own files:
 *
 *   routes_deploy.c   version, status, deployments (list, one, output, launch,
 *                     cancel, pause, resume, cancel many) and runs
 *   routes_jobs.c     background jobs (start, log, interrupt)
 *   routes_learn.c    suggest and the learning snapshot
 *   routes_events.c   the event stream
 *   routes_fleet.c    the fleet's records (get, post) and its taps
 *
 * server.c keeps the route table (every path in one place), the HTTP
 * plumbing (MHD start and stop, the peer check, bodies, the read-only
 * split) and the finish hook. Nothing here is for users of the engine:
 * server.h is the daemon's contract.
 */
#ifndef SD_ROUTES_H
#define SD_ROUTES_H

#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct coord;

/* The daemon's state (server_start makes it, server_stop frees it). */
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
    /* This daemon's run, 16 random hex digits (GET /version): a client that reconnects to
     * another run lists again, since its event numbers start again, even where the pid is the
     * same (a daemon as a container's pid 1, one restarted in its process as tests do). */
    char instance[17];
    atomic_int clients;
    _Atomic int64_t last_client_ms;
};

/* One request as a handler sees it; the router fills it, the handler
 * borrows every member for the call. */
struct call {
    struct server *s;
    struct MHD_Connection *conn;
    int readonly;
    int64_t id;   /* the ID of /deployments/ID, else 0 */
    json_t *body; /* parsed POST body, or NULL */
    pid_t pid;
    uid_t uid;
};

/* Queues body (stolen: freed here) as a JSON answer with status. MHD_NO
 * when it cannot (out of memory): MHD then drops the connection. */
enum MHD_Result route_answer(struct MHD_Connection *conn, unsigned status, json_t *body);

/* Queues {"error": printf(fmt, ...)} with status (route_answer). */
enum MHD_Result route_fail(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The HTTP status of an engine error: 400 for SD_EUSAGE, else 500. */
unsigned route_err_status(const struct sd_err *e);

/* The query argument key as a whole number into *out: 0 (left alone when
 * absent), -1 when it is present and not a whole number. */
int route_query_u64(struct MHD_Connection *conn, const char *key, uint64_t *out);

/* The route handlers, one answer each (route_answer/route_fail). */
enum MHD_Result h_version(struct call *k);
enum MHD_Result h_status(struct call *k);
enum MHD_Result h_list(struct call *k);
enum MHD_Result h_one(struct call *k);
enum MHD_Result h_output(struct call *k);
enum MHD_Result h_run(struct call *k);
enum MHD_Result h_launch(struct call *k);
enum MHD_Result h_cancel(struct call *k);
enum MHD_Result h_pause(struct call *k);
enum MHD_Result h_resume(struct call *k);
enum MHD_Result h_cancel_many(struct call *k);
enum MHD_Result h_job_start(struct call *k);
enum MHD_Result h_job_log(struct call *k);
enum MHD_Result h_job_interrupt(struct call *k);
enum MHD_Result h_suggest(struct call *k);
enum MHD_Result h_learning(struct call *k);
enum MHD_Result h_events(struct call *k);
enum MHD_Result h_fleet_get(struct call *k);
enum MHD_Result h_fleet_post(struct call *k);

/* The fleet's taps (routes_fleet.c). route_fleet_tap: the pump's tap for
 * each deployment event (fleet_live, and fleet_notify at a terminal one);
 * arg: the fleet. route_learn_added: a trajectory another host made was
 * added, the warm learner observes it; arg: the coord. */
void route_fleet_tap(const char *json, int terminal, void *arg);
void route_learn_added(int64_t id, json_t *t, void *arg);

#endif
