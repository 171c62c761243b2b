/*
 * fleet.h: the daemon's fleet through NATS JetStream (`serve --fleet
 * nats://HOST:PORT`, docs/fleet.md).
 *
 * DESIGN
 * Every swarmdeck daemon of a fleet publishes its finished trajectories to
 * one JetStream stream (SWARMDECK_TRAJ, subjects swarmdeck.traj.<host>),
 * each message an envelope {"origin": NAME, "record": {...}} (merge.h)
 * whose JetStream message id is the record's fingerprint, so a publish
 * retried after a lost acknowledgement is stored once. Each daemon reads
 * the whole stream through its own durable pull consumer (sd_<store id>),
 * so a daemon that was down resumes where it stopped, and merges what the
 * others sent (merge.h: verified, refused when bad, union by uuid). Live
 * deployment states and breaker changes go, best effort and not stored, to
 * swarmdeck.live.<host> on core NATS.
 *
 * Offline first: what is to be published waits in the store's outbox
 * (fleet_store.h), filled from the fingerprint chain and emptied only once
 * JetStream acknowledged each message; a message is acknowledged to
 * JetStream only once its record is committed here (or refused). So
 * neither side loses anything while NATS is away, and the client library
 * reconnects by itself (for ever, every 250 ms).
 *
 * Threads: a publisher and a consumer thread, each with its own store
 * reader; fleet_notify and fleet_live from any thread.
 * Secrets: the credentials file and the TLS key are read by nats.c; a URL's
 * user and password are never logged (fleet_url_redact).
 */
#ifndef SD_FLEET_H
#define SD_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "merge.h"
#include "store.h"

#define FLEET_STREAM "SWARMDECK_TRAJ"

struct fleet_opts {
    const char *url;      /* nats://HOST:PORT */
    const char *creds;    /* a NATS credentials file (JWT and NKey seed), or NULL */
    const char *tls_ca;   /* CA bundle to verify the server (implies TLS), or NULL */
    const char *tls_cert; /* client certificate chain (with tls_key), or NULL */
    const char *tls_key;
    const char *name; /* this store's fleet name (fleet_store.h) */
};

struct fleet;

/* Process-wide counters (metrics and tests): records published and
 * received, and what the merges did with the received ones. */
struct fleet_counters {
    uint64_t published, received, added, skipped, refused;
    int connected; /* 1 while connected with the stream set up */
    int running;   /* 1 while a fleet runs in this process */
};
void fleet_counters(struct fleet_counters *out);

/* Start the fleet for s (borrowed; it must outlive the fleet). Connecting
 * happens in the background: a server that is not there yet is not an
 * error. Returns 0 or -1 with err (SD_EUSAGE: bad options or a file that
 * cannot be read; SD_EENV: the client library failed). */
int fleet_start(struct store *s, const struct fleet_opts *o, struct fleet **out,
                struct sd_err *err);

/* Stop both threads, close the connection, free. Accepts NULL. */
void fleet_stop(struct fleet *f);

/* Tell fn (with arg) of every trajectory the fleet adds from now on (NULL
 * to stop): the daemon's learning index (merge.h). Any thread. */
void fleet_on_added(struct fleet *f, fleet_added_fn fn, void *arg);

/* A trajectory ended: look at the outbox now rather than at the next tick. */
void fleet_notify(struct fleet *f);

/* Publish one live event (JSON text) on swarmdeck.live.<host>; dropped when
 * not connected. */
void fleet_live(struct fleet *f, const char *json);

/* url with any user:password@ removed, into buf (for logs). */
void fleet_url_redact(const char *url, char *buf, size_t n);

#endif
