/*
 * client.h: a client of the daemon's API (engine/serve/server.h) over its
 * Unix socket, with libcurl (CURLOPT_UNIX_SOCKET_PATH), so what the CLI and
 * the console send is what `curl --unix-socket SOCK http://d/v1/...` sends.
 *
 * It knows nothing of the engine: JSON in, JSON out. client_open checks the
 * daemon's protocol version and refuses another with both versions named.
 *
 * Thread safety: one struct client per thread (a curl easy handle each).
 */
#ifndef SD_CLIENT_H
#define SD_CLIENT_H

#include <jansson.h>
#include <stdint.h>

#include "util.h"

#define CLIENT_PROTOCOL 1

struct client;

/* Connect to the daemon on sock and check its protocol. Returns 0; -1 with
 * err set (SD_EENV: nobody answers; SD_EUSAGE: another protocol). */
int client_open(const char *sock, struct client **out, struct sd_err *err);
/* The same through a command whose stdin and stdout carry the daemon's
 * byte stream (`ssh user@host swarmdeck dial-stdio`): each connection
 * libcurl opens runs argv (NULL-terminated, copied) on one end of a
 * socketpair. Returns as client_open. */
int client_open_cmd(char *const *argv, struct client **out, struct sd_err *err);

/* Another client to the same daemon the same way (a second connection, for
 * an event stream beside requests). Returns as client_open. */
int client_clone(struct client *c, struct client **out, struct sd_err *err);

void client_close(struct client *c); /* accepts NULL */

/* The socket this client talks to, or for client_open_cmd the command's
 * first words (valid until client_close). */
const char *client_socket(struct client *c);

/* The daemon's /v1/version answer (borrowed, valid until client_close). */
json_t *client_version(struct client *c);

/* METHOD /v1PATH with body (borrowed, may be NULL). On an answer, returns
 * 0 with *status the HTTP status and *out the JSON body (new reference;
 * {"error": ...} for 4xx/5xx). Returns -1 with err set when there was no
 * answer (the daemon went away). */
int client_call(struct client *c, const char *method, const char *path, json_t *body, long *status,
                json_t **out, struct sd_err *err);

/* The same, but a 2xx is required: otherwise err holds the daemon's error
 * text (SD_EUSAGE for 4xx, SD_EENV else) and -1 is returned. */
int client_do(struct client *c, const char *method, const char *path, json_t *body, json_t **out,
              struct sd_err *err);

/* Watch the event stream from `since`: fn gets each event object (borrowed)
 * in order, and NULL on each tick between events (every 100 ms unless
 * client_set_tick says otherwise, so a caller can react to a signal) and
 * after client_wake; returning non-zero ends the watch with that value.
 * Returns fn's value, or -1 with err set when the stream broke or went
 * silent for a minute (reconnect and resume from the last seq seen). */
typedef int (*client_event_fn)(json_t *ev, void *arg);
int client_events(struct client *c, uint64_t since, client_event_fn fn, void *arg,
                  struct sd_err *err);

/* The tick period of client_events in milliseconds; 0 for none, so an idle
 * watch sleeps until an event, a bookmark or client_wake. Set it before
 * client_events, from the watching thread. */
void client_set_tick(struct client *c, int ms);

/* Make a running (or the next) client_events call fn(NULL) at once. The only
 * call that may come from another thread than the watching one; c must stay
 * open until it returns. */
void client_wake(struct client *c);

#endif
