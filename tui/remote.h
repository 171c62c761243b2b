/*
 * remote.h: the console's engine when a daemon runs it (docs/daemon.md):
 * what the console asks of a coordinator (coord.h), answered from the
 * daemon's API instead.
 *
 * DESIGN
 * Kubernetes' list+watch. remote_start lists once (GET /v1/status: every
 * live view, the provider health, the daemon's options and the event number
 * to watch from); then a watcher thread follows /v1/events from that
 * number, keeps its copy of every view up to date (a state event carries
 * the whole view), and turns the daemon's events into the console's own
 * (evq.h), so the console drains one queue whatever runs its engine. A
 * broken stream is resumed from the last number seen: nothing lost, nothing
 * twice. A daemon that says resync, or that restarted (another pid, its
 * numbers start again), is listed again. While the daemon is gone the
 * watcher dials again with exponential backoff (half a second doubling to
 * 30 s, with jitter: remote_backoff_ms); after three seconds it may start
 * one (conf.dial with start set), as the console did when it opened.
 *
 * SEVERAL HOSTS (docs/fleet.md, "One console, several servers"): one
 * remote per daemon, all pushing to one queue (conf.q). Deployment ids are
 * only unique per daemon, so a remote shows each one as REMOTE_ID(host, id)
 * (conf.host, 0..REMOTE_MAX_HOSTS-1; host 0 is the identity, so a single
 * console sees the daemon's own numbers) in its views, events and rings,
 * and speaks the daemon's own number (REMOTE_LOCAL) on the wire. A remote
 * may start unconnected (remote_start with c NULL: the host was
 * unreachable): it dials in the background and says why in remote_info.
 *
 * Output is never pushed: the console shows one deployment's output at a
 * time (remote_log), and an output thread pulls that deployment's new lines
 * by range (GET /v1/deployments/ID/output) into a local ring as the events
 * announce them.
 *
 * Requests (launch, cancel, suggest) go through remote_call on connections
 * of their own, from any thread.
 *
 * Messages for the operator (a run ended, the daemon was lost, it came
 * back) queue as notices: an EV_NOTICE event says one is waiting.
 *
 * THREADS: remote_start and remote_stop on the owner's thread; the rest
 * from any thread (one lock), except remote_events' consumer side (evq.h).
 */
#ifndef SD_TUI_REMOTE_H
#define SD_TUI_REMOTE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client.h"
#include "coord.h"
#include "evq.h"
#include "logring.h"

struct remote_conf {
    /* Connect to the daemon: fill *out and return 0, or return -1 with err
     * set. start: a daemon may be started when none runs. Called from the
     * remote's threads. */
    int (*dial)(void *arg, int start, struct client **out, struct sd_err *err);
    void *arg;
    int may_start;    /* restart a lost daemon after three seconds (not --readonly) */
    int host;         /* this daemon's index among the console's hosts (ids, above) */
    const char *name; /* its name in notices ("" or NULL: none; copied) */
    struct evq *q;    /* the queue to push to (borrowed, outlives the remote); NULL: its own */
    /* Keep the views of ended deployments across a listing (a daemon on
     * another host, whose store this console cannot read): a restarted
     * daemon lists only what it runs, but what ended before never changes,
     * so those rows stay (once: a view is replaced by its id). While the
     * daemon is lost its last views stay too. */
    int keep_ended;
};

#define REMOTE_MAX_HOSTS 16
#define REMOTE_ID_BITS   40
/* The console's id of daemon host's deployment id, and back. */
#define REMOTE_ID(host, id) (((int64_t)(host) << REMOTE_ID_BITS) | (int64_t)(id))
#define REMOTE_HOST(gid)    ((int)((gid) >> REMOTE_ID_BITS))
#define REMOTE_LOCAL(gid)   ((gid) & ((INT64_C(1) << REMOTE_ID_BITS) - 1))

/* The link's state (remote_info.link). */
enum { REMOTE_UP, REMOTE_RETRY, REMOTE_UNREACHABLE };

/* What the daemon said of itself at the last listing. */
struct remote_info {
    pid_t pid;
    int readonly;       /* a read-only connection: it refuses changes */
    int learning;       /* it learns (suggestions can be asked) */
    int connected;      /* the event stream is up */
    int link;           /* REMOTE_UP; REMOTE_RETRY: lost after it was up; REMOTE_UNREACHABLE:
                           never reached since the start */
    int64_t retry_at;   /* not up: when the next dial is (sd_mono_ns()/1e6 ms), 0 under way */
    int attempts;       /* dials failed in a row */
    char error[160];    /* not up: why the last dial (or the stream) failed */
    int64_t timeout_ms; /* its default deployment timeout */
    char default_provider[32];
    char version[32];
};

struct remote;

/* Start following the daemon that c (taken, even on failure) talks to:
 * lists at once, then starts the threads. c NULL: the daemon could not be
 * reached (why: err's text, kept for remote_info): the watcher dials it
 * with backoff. Returns NULL with err set (no listing, or no thread). */
struct remote *remote_start(const struct remote_conf *conf, struct client *c, struct sd_err *err);
/* Stop the threads, close the connections, free every ring. Accepts NULL. */
void remote_stop(struct remote *r);

/* The console's events (EV_STATE, EV_PROGRESS, EV_OUTPUT, EV_SAMPLE,
 * EV_RESYNC, EV_NOTICE). */
struct evq *remote_events(struct remote *r);

/* As coord_list, coord_counts and coord_providers. */
size_t remote_list(struct remote *r, struct deploy_view *out, size_t max);
void remote_counts(struct remote *r, int counts[TS_COUNT]);
size_t remote_providers(struct remote *r, struct provider_health *out, size_t max);
void remote_info(struct remote *r, struct remote_info *out);

/* The output ring of a deployment the daemon knows (valid until
 * remote_stop), and from now on the one whose lines are pulled; NULL when
 * the daemon does not know id (a past run: read the store). */
struct logring *remote_log(struct remote *r, int64_t id);

/* What the output thread pulled: requests made while catching up (after a
 * deployment is shown, and on its state changes) and while following a
 * known newest line (windowed: at most the 250 newest lines each, however
 * fast the deployment writes), the most lines one windowed pull brought,
 * and all lines. For tests and the curious. */
struct remote_pulls {
    uint64_t catch_up, windowed, most, lines;
};
void remote_pull_stats(struct remote *r, struct remote_pulls *out);

/* Add the views of deployments the daemon lists that this copy does not
 * have yet (after a launch, before its events arrive): never replaces a
 * view, so nothing newer is undone. Returns 0 or -1 with err set. */
int remote_sync(struct remote *r, struct sd_err *err);

/* The oldest waiting notice into buf; returns 1 (*run: it is a run's end),
 * or 0 when none waits. */
int remote_notice(struct remote *r, char *buf, size_t len, int *run);

/* The daemon's newest learning snapshot (docs/daemon.md: {totalTrajectories,
 * succeeded, successRatio, rewardMean, strategies[{name, n, successRatio,
 * rewardMean}]}), as listed (GET /v1/learning) and kept by its "learning"
 * events, so a console attached to another host can show that host's
 * learning without its store. *out: a copy the caller owns; *seq (may be
 * NULL): the number of the event that brought it (0: the listing). Returns
 * 0, or -1 with *out NULL when there is none (a daemon without learning, or
 * not reached yet). */
int remote_learning(struct remote *r, json_t **out, uint64_t *seq);

/* How many times the snapshot remote_learning gives was replaced (listed
 * or brought by an event): a console compares it with the last it drew, so
 * its learning pane redraws when a snapshot changes and at no other time.
 * Any thread. Can't fail. */
uint64_t remote_learning_gen(struct remote *r);

/* One line for a learning pane that summarises snap (remote_learning's) of
 * host: "HOST: 20 learned, 95% succeeded, reward 0.584, 1 strategy, most
 * momentum" (or "HOST: nothing learned yet"), cut to fit len. Pure. Returns
 * 0, or -1 (buf "") when snap is not a snapshot. */
int remote_learning_summary(const json_t *snap, const char *host, char *buf, size_t len);

/* METHOD /v1PATH with body (borrowed, may be NULL), as client_call, on a
 * connection of the remote's own (any thread). A 2xx gives 0 and *out;
 * otherwise -1 with err holding the daemon's error (SD_EUSAGE for 4xx) or
 * why there was no answer. */
int remote_call(struct remote *r, const char *method, const char *path, json_t *body, json_t **out,
                struct sd_err *err);

/* The delay before dial number `attempt` (1: after the first failure):
 * 500 ms doubling to 30 s, times a jitter in [0.75, 1.25) from *seed
 * (xorshift; never 0). Pure, for tests. */
int64_t remote_backoff_ms(int attempt, uint64_t *seed);

#endif
