/*
 * server.h: the daemon's API: HTTP/1.1 with JSON bodies on the store's Unix
 * sockets (sock.h), served by libmicrohttpd, one thread per connection.
 * docs/daemon.md lists every path; in short, under /v1:
 *
 *   GET  /version                      protocol, version, pid, store
 *   GET  /status                       counts, providers, live deployments, seq
 *   GET  /deployments                  live deployments and the seq to watch from
 *   GET  /deployments/ID               one deployment and its result
 *   GET  /deployments/ID/output?from=N&max=M   output lines by number (a range)
 *   GET  /events?since=N               newline-delimited JSON events, resumable
 *   POST /deployments                  a launch (launch.h) -> 201 {run, ids}
 *   POST /deployments/ID/cancel        cancel one deployment
 *   POST /deployments/ID/pause, /resume    stop or continue a running one's sandbox
 *   POST /suggest                      the learner's suggestion for a request
 *   GET  /runs/ID                      one run: status, counts, summary, and
 *                                      open (this daemon will send its "run" event)
 *   POST /cancel                       cancel many ({"ids": [...]} or {"all": true})
 *   POST /jobs                         run `benchmark` as the daemon's child (bgjob.h)
 *   GET  /jobs/ID/log?from=N           its output from byte N, and whether it ended
 *   POST /jobs/ID/interrupt            SIGINT to it
 *   GET  /fleet/records?after=N&max=M&skip=NAME   finished trajectories past
 *                                      chain position N, as the fleet sends them
 *   POST /fleet/records                merge {"records": [...]} (fleet/merge.h)
 *
 * Errors are {"error": "..."} with 400 (bad input), 403 (a read-only
 * connection asked to change something, or a peer of another uid), 404,
 * 405, 413 (a body over 1 MiB) or 500. A path under another protocol
 * version (/v2/...) is refused naming both versions.
 *
 * The event stream never slows the engine: events go through the event log
 * (evlog.h), where a client that fell behind is sent {"type":"resync"} and
 * continues from the newest number after re-reading the state.
 *
 * Thread safety: server_start and server_stop from one thread; the getters
 * from any.
 */
#ifndef SD_SERVER_H
#define SD_SERVER_H

#include <stdint.h>

#include "coord.h"

#define SERVE_PROTOCOL 1

struct server;

struct fleet;

struct server_opts {
    const char *store_path;
    const char *on_finish; /* a shell command run with each run's summary on stdin, or NULL */
    struct fleet *fleet;   /* serve --fleet (fleet.h): told of states and endings, or NULL */
};

/* Listen on the store's sockets and serve c (borrowed; it must outlive the
 * server). Returns 0 or -1 with err set. */
int server_start(struct coord *c, const struct server_opts *o, struct server **out,
                 struct sd_err *err);

/* Stop listening, end every stream, join every thread, free. */
void server_stop(struct server *s); /* accepts NULL */

/* Connections open now, and when the last one closed (ms since the epoch;
 * the start time before any). */
int server_clients(struct server *s);
int64_t server_last_client_ms(struct server *s);

/* Runs whose deployments have not all ended. */
size_t server_runs_open(struct server *s);
/* Jobs (a benchmark run for a client, bgjob.h) still running. */
size_t server_jobs_running(struct server *s);

/* The paths it listens on. */
const char *server_socket(struct server *s, int readonly);

#endif
