/*
 * metrics.h: the daemon's /metrics in Prometheus' text exposition format
 * (format 0.0.4), on a TCP address of the operator's choosing
 * (`serve --metrics 127.0.0.1:9464`), for a Prometheus to scrape.
 *
 * Names follow Prometheus' conventions: a `swarmdeck_` prefix, base units
 * in the name (`_seconds`, `_bytes`), `_total` on counters, labels for the
 * state and the provider instance. Everything is computed at scrape time
 * from the coordinator (deployments this daemon has run), the store's
 * writer counters and the learner, so there is no second bookkeeping that
 * could disagree with `status`.
 *
 * Thread safety: metrics_text from any thread; start/stop from one.
 */
#ifndef SD_METRICS_H
#define SD_METRICS_H

#include <netinet/in.h>

#include "coord.h"

struct metrics;

/* Parse "HOST:PORT" (IPv4) into sa. Returns 0 or -1 with err set
 * (SD_EUSAGE), so a command can refuse a bad address before it starts. */
int metrics_parse(const char *addr, struct sockaddr_in *sa, struct sd_err *err);

/* Serve /metrics for c on addr ("HOST:PORT", IPv4). NULL with err set. */
struct metrics *metrics_start(struct coord *c, const char *addr, struct sd_err *err);
void metrics_stop(struct metrics *m); /* accepts NULL */

/* The exposition text (malloc'd), or NULL when out of memory. */
char *metrics_text(struct coord *c);

#endif
