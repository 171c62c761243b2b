/*
 * e2b.h: the E2B sandbox provider: configuration, the provider itself and
 * the leak sweep. The wire protocol is E2B's (docs/e2b.md): the control-plane
 * REST API for sandboxes and envd's Connect-protocol process stream inside
 * each sandbox, over libcurl.
 *
 * CONFIGURATION
 * e2b_config_load reads, in order (later wins):
 *   1. the config file: $SWARMDECK_E2B_CONFIG, else
 *      $XDG_CONFIG_HOME/swarmdeck/e2b.json, else ~/.config/swarmdeck/e2b.json.
 *      It holds the API key, so it is refused unless its mode is 0600 (or
 *      stricter) and it is owned by us. A JSON object:
 *        {"apiKey": "e2b_...", "template": "base",
 *         "instances": [{"name": "e2b-eu", "domain": "...", "apiUrl": "...",
 *                        "sandboxUrl": "..."}],
 *         "breaker": {"failures": 3, "cooldownMs": 30000},
 *         "sampleMs": 5000, "requestTimeoutMs": 30000, "maxRetries": 3,
 *         "createTimeoutMs": 60000, "capacityWaitMs": 600000,
 *         "maxTimeoutS": 3600, "arch": "x86_64"}
 *      An instance may carry its own "apiKey", "template", "region" and
 *      "maxTimeoutS" (E2B regions are separate clusters with their own keys).
 *   2. the environment: E2B_API_KEY, E2B_TEMPLATE, and E2B_DOMAIN,
 *      E2B_API_URL, E2B_SANDBOX_URL for the one instance named "e2b" that is
 *      used when the file lists no instances.
 * Base URLs default to https://api.<domain> and https://49983-<id>.<domain>
 * (domain e2b.app); tests point them at a double on 127.0.0.1.
 *
 * SECRETS
 * The API key lives only in struct e2b_config and in request headers. It is
 * never put into an error message, the store, a log or the screen: every
 * message that leaves this module passes through e2b_redact first.
 *
 * THREADS
 * A configuration is read-only once loaded. Provider instances follow
 * provider.h. e2b_sweep may run on any thread.
 */
#ifndef SD_E2B_H
#define SD_E2B_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"

#define E2B_MAX_INSTANCES 8

struct e2b_instance {
    char name[32];
    char domain[128];
    char api_url[256];
    char sandbox_url[256]; /* "" = https://49983-<id>.<domain> */
    char region[32];       /* a label shown by status and the benchmark ("" = none) */
    char api_key[256];     /* secret; this instance's key ("" = the config's) */
    char template_id[64];  /* "" = the config's */
    char source[160];      /* where this instance's key came from, for messages */
    int64_t max_timeout_s; /* the plan's longest sandbox TTL (0 = the config's) */
};

struct e2b_config {
    char api_key[256]; /* secret */
    char template_id[64];
    char source[512]; /* where the key came from, for messages: "E2B_API_KEY" or a path */
    struct e2b_instance inst[E2B_MAX_INSTANCES];
    size_t n;
    int breaker_failures; /* 0 = default */
    int64_t breaker_cooldown_ms;
    int64_t sample_ms;          /* resource samples (5000) */
    int64_t request_timeout_ms; /* control-plane and unary calls (30000) */
    int max_retries;            /* 429 retries (3) */
    int64_t max_retry_after_ms; /* longest Retry-After honoured (30000) */
    int64_t create_timeout_ms;  /* how long a create is waited for, as the SDK (60000) */
    int64_t capacity_wait_ms;   /* how long a create waits for a concurrency slot (600000) */
    int64_t max_timeout_s;      /* the plan's longest sandbox TTL: Hobby 3600, Pro 86400 */
    char arch[16];              /* the sandboxes' machine ("x86_64") */
};

/* Load the configuration (see above). Returns 1 when a key is configured, 0
 * when none is (c is still filled with defaults and instances), -1 with err
 * set when the file exists but is unsafe (mode, owner) or malformed, or the
 * key is malformed. Never puts the key in err. */
int e2b_config_load(struct e2b_config *c, struct sd_err *err);

/* The message for "--provider e2b" without a key. */
const char *e2b_no_key_help(void);

/* Replace every copy of every configured API key in s (NUL-terminated, in
 * place) with "[redacted]": in any letter case, and split by characters
 * that are not letters, digits or '_' (a hostile API may echo the key
 * upper-cased or in pieces), and every run of E2B_REDACT_MIN or more
 * characters of a key. The result is never longer than s. */
void e2b_redact(const struct e2b_config *c, char *s, size_t n);

#define E2B_REDACT_MIN 8

/* e2b_redact for one secret (a key or an envd access token). Does nothing
 * when secret is NULL or shorter than E2B_REDACT_MIN. */
void e2b_redact_secret(const char *secret, char *s);

/* Wipe every secret c holds (the keys). */
void e2b_config_wipe(struct e2b_config *c);

/* One provider instance for c->inst[idx]. owner is this installation's id
 * (the store id): every sandbox is tagged with it so the sweep finds ours.
 * Returns NULL with err set. The provider copies what it needs from c. */
struct provider *provider_e2b_new(const struct e2b_config *c, size_t idx, const char *owner,
                                  struct sd_err *err);

/* The leak sweep: list every sandbox tagged with owner on every instance
 * (GET /v2/sandboxes with the metadata filter, following X-Next-Token) and
 * destroy each one for which keep(arg, our_sandbox_id, meta_pid, meta_start)
 * returns 0 (keep may be NULL: destroy all). found/destroyed count them.
 * Returns 0, or -1 with err set if an instance could not be listed (the
 * others are still swept). */
int e2b_sweep(const struct e2b_config *c, const char *owner,
              int (*keep)(void *arg, const char *sandbox_id, int pid, uint64_t pid_start),
              void *arg, int *found, int *destroyed, struct sd_err *err);

#endif
