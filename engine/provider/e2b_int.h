/*
 * e2b_int.h: the E2B provider's private header, shared by its files (e2b.h
 * and provider.h are the interface; nothing else includes this).
 *
 * FILES (bottom up; a file calls only those above it)
 *   e2b_http.c      HTTP over libcurl easy handles: one request, headers
 *                   that are wiped, redacted errors, control-plane calls
 *                   with 429 retries, envd calls with port-not-open retries
 *   e2b_process.c   start (the envd process stream in a curl multi loop,
 *                   signals, resource samples) and signal
 *   provider_e2b.c  the provider: create, upload, destroy, the ops table,
 *                   instances, and the leak sweep
 *
 * STRUCTS AND LOCKING
 * struct e2b is one provider instance: its configuration and owner id, fixed
 * at creation and read without a lock by any thread. struct sbx is one
 * sandbox, driven by one worker (create, upload, start, destroy) except for
 * the fields signal() touches from any thread: want_sig and pid are atomics,
 * and b->mu guards only b->multi, the curl multi handle signal() wakes while
 * start runs. No HTTP call is ever made under b->mu.
 *
 * SECRETS
 * The API key and the envd access token are only ever placed in request
 * headers (e2b_hdr_add, wiped by e2b_hdrs_free) and wiped when their holder
 * is freed; every error message passes through e2b_redact (e2b_fail).
 */
#ifndef SD_E2B_INT_H
#define SD_E2B_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "e2b.h"

#define ENVD_PORT "49983"
/* Where the runner template (e2b/template/) puts the runner, relative to the
 * sandbox user's home (so a double that maps home to a temp dir agrees). */
#define E2B_TEMPLATE_DIR ".swarmdeck"
#define MAX_EXECS        16

struct e2b {
    struct e2b_config cfg; /* a copy holding only our instance as inst[0], whose key and
                              template are also in cfg.api_key and cfg.template_id */
    char owner[80];
    /* The template's resources, learnt from the first sandbox (GET
     * /sandboxes/{id}); 0 = not yet known. Under mu. */
    pthread_mutex_t mu;
    int tmpl_cpus;
    int64_t tmpl_mem_mb;
    /* The runner template's manifest (e2b/template/), read from the first
     * sandbox: 0 not read yet, 1 the template has none, 2 in manifest. */
    int manifest_state;
    json_t *manifest;
};

struct sbx {
    struct provider *p;
    struct sbx_spec spec;
    char id[80];
    char sbx_id[64]; /* E2B's sandboxID */
    char token[512]; /* envdAccessToken, or "" */
    char envd[512];  /* envd base URL */
    char execs[MAX_EXECS][128];
    int nexec;
    char baked[MAX_EXECS][128]; /* executables the template already holds (not uploaded) */
    int nbaked;
    int basic_user;       /* envd older than 0.4.0: send the default user, as the SDK does */
    int64_t ttl_s;        /* the TTL asked for (clamped to the plan's maximum) */
    uint64_t ttl_set_ns;  /* when it was last set (monotonic) */
    int64_t as_limit_kb;  /* RLIMIT_AS for the program (--memory), 0 = none */
    char limits[200];     /* how --memory/--cpus were mapped, for the isolation report */
    int64_t created_unix; /* wall clock at create, for the metrics window */
    _Atomic int64_t pid;  /* the process in the sandbox, 0 until started */
    _Atomic int want_sig; /* signal asked for by signal(), 0 = none */
    pthread_mutex_t mu;   /* guards multi */
    CURLM *multi;         /* while start runs */
};

/* --- HTTP (e2b_http.c) ---------------------------------------------------- */

/* A response body, NUL-terminated, at most 1 MiB (the rest is dropped). */
struct buf {
    char *p;
    size_t len;
};

/* One response: status, body, the headers we use, and the transport error. */
struct hres {
    long status;
    struct buf body;
    int64_t retry_after_ms; /* -1 = none */
    char next_token[512];
    char cerr[CURL_ERROR_SIZE];
    CURLcode cc;
    int envd;          /* an envd call (its credential is the access token, not the key) */
    const char *token; /* borrowed: the access token sent, redacted from messages too */
};

/* A libcurl write callback appending to the struct buf arg. Returns nm * sz
 * (what was taken, or dropped past the cap), or 0 when memory ran out, which
 * aborts the transfer. */
size_t e2b_buf_write(char *ptr, size_t sz, size_t nm, void *arg);

/* Free r's body and zero r. Accepts a zeroed r. */
void e2b_hres_free(struct hres *r);

/* Append the header line fmt % v (fmt has one %s) to l and return the new
 * list (NULL when out of memory, as curl_slist_append). The formatted copy
 * on the stack is wiped: v may be the API key or an access token. */
struct curl_slist *e2b_hdr_add(struct curl_slist *l, const char *fmt, const char *v);

/* Wipe every header line of h, then free the list. Accepts NULL. */
void e2b_hdrs_free(struct curl_slist *h);

/* Set err (code, the formatted message passed through e2b_redact). Returns
 * -1. */
int e2b_fail(struct e2b *e, struct sd_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Set err from a failed call r for the action `what`: the transport error,
 * a refused credential (401/403, SD_EUSAGE: the API key on the control
 * plane, the sandbox's envd access token on envd calls), a bad request
 * (400, SD_EUSAGE), rate limiting past the retries (429) or another status,
 * with the server's message (control characters replaced, secrets
 * redacted). Returns -1. */
int e2b_status_fail(struct e2b *e, const char *what, const struct hres *r, struct sd_err *err);

/* A control-plane call: {api}path with X-API-Key, JSON body (may be NULL),
 * 429 retried after Retry-After (bounded by cfg.max_retries and
 * cfg.max_retry_after_ms). Returns 0 with r filled (any status), -1 on a
 * transport error (r->cc, r->cerr). Free r with e2b_hres_free either way.
 * Blocks for the request (and the retries' waits). */
int e2b_api_call(struct e2b *e, const char *method, const char *path, const char *body,
                 struct hres *r);

/* e2b_api_call with its own request timeout (ms). */
int e2b_api_call_t(struct e2b *e, const char *method, const char *path, const char *body,
                   int64_t timeout_ms, struct hres *r);

/* DELETE {api}/sandboxes/{sbx_id}: 0 when it is gone (204, or 404 already
 * gone), -1 otherwise. Blocks. */
int e2b_kill_sandbox(struct e2b *e, const char *sbx_id);

/* Sleep ms in slices, returning 1 early when *cancel becomes set (cancel may
 * be NULL), else 0. */
int e2b_sleep_unless(int64_t ms, const _Atomic int *cancel);

/* Append the headers that route a request to b's envd (access token,
 * sandbox id and port) to h and return the new list. */
struct curl_slist *e2b_envd_headers(struct sbx *b, struct curl_slist *h);

/* 1 when r is envd's 502 "port is not open" (envd still starting), else 0. */
int e2b_port_not_open(const struct hres *r);

/* An envd call: {envd}path with e2b_envd_headers and extra (may be NULL),
 * body or the file mime_path uploaded as part "file" named mime_name (both
 * may be NULL); a 502 "port is not open" is retried briefly. Returns as
 * e2b_api_call. */
int e2b_envd_call(struct sbx *b, const char *method, const char *path, struct curl_slist *extra,
                  const char *body, const char *mime_path, const char *mime_name,
                  int64_t timeout_ms, struct hres *r);

/* --- the process (e2b_process.c) ------------------------------------------ */

/* provider_ops.start and .signal of e2b_ops (provider.h has the contracts):
 * start runs argv in the sandbox and streams its output until it ends;
 * signal, from any thread, asks the running start to send SIGTERM (SIGKILL
 * after a grace period) or SIGKILL, and returns 0. */
int e2b_start(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
              struct sbx_exit *ex, struct sd_err *err);
int e2b_signal(struct sbx *b, int sig);
/* provider_ops.resume: process.Process/Connect by the tag start gave. */
int e2b_resume(struct sbx *b, const struct sbx_callbacks *cb, struct sbx_exit *ex,
               struct sd_err *err);

#endif
