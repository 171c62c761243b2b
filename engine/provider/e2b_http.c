/*
 * e2b_http.c: the E2B provider's HTTP: one request on a libcurl easy handle,
 * header lists that are wiped, error messages that are redacted, and the two
 * kinds of call the provider makes (e2b_int.h has the contracts).
 *
 * DESIGN
 * Every request gets a fresh easy handle, an explicit timeout, a 10 s
 * connect timeout and http(s) only; a response body is kept up to MAX_BODY
 * bytes (error messages and sandbox lists are small). Control-plane calls
 * (e2b_api_call) carry X-API-Key and honour 429 Retry-After a bounded number
 * of times (a 429 without it is E2B's concurrency limit: the caller waits); envd calls
 * (e2b_envd_call) are routed by header to the sandbox and retry envd's brief 502 "port is not open"
 * while it starts. An error body's message (JSON {"message": ...} or the text) goes into the error,
 * always through e2b_redact.
 *
 * It calls nothing else of the provider: e2b_process.c and provider_e2b.c
 * call it.
 *
 * THREADS
 * Any thread; nothing here keeps state between calls. The calls block for
 * the request and its retries.
 */
#define _GNU_SOURCE
#include "e2b_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"

#define MAX_BODY (1u << 20)

/* --- HTTP ------------------------------------------------------------------ */

size_t e2b_buf_write(char *ptr, size_t sz, size_t nm, void *arg)
{
    struct buf *b = arg;
    size_t n = sz * nm, take = n;
    char *q;

    if (b->len + take > MAX_BODY)
        take = MAX_BODY - b->len;
    if (take > 0) {
        q = realloc(b->p, b->len + take + 1);
        if (q == NULL)
            return 0;
        b->p = q;
        memcpy(b->p + b->len, ptr, take);
        b->len += take;
        b->p[b->len] = '\0';
    }
    return n;
}

void e2b_hres_free(struct hres *r)
{
    free(r->body.p);
    memset(r, 0, sizeof *r);
}

static size_t hdr_cb(char *b, size_t sz, size_t nm, void *arg)
{
    struct hres *r = arg;
    size_t n = sz * nm;
    char line[600];
    size_t l = n < sizeof line - 1 ? n : sizeof line - 1;

    memcpy(line, b, l);
    line[l] = '\0';
    while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == '\n' || line[l - 1] == ' '))
        line[--l] = '\0';
    if (strncasecmp(line, "retry-after:", 12) == 0) {
        char *end;
        long v = strtol(line + 12, &end, 10);
        if (end != line + 12 && v >= 0)
            r->retry_after_ms = (int64_t)v * 1000;
    } else if (strncasecmp(line, "x-next-token:", 13) == 0) {
        const char *v = line + 13;
        while (*v == ' ')
            v++;
        size_t vl = strlen(v);
        if (vl < sizeof r->next_token) /* a longer cursor is not one we made up */
            memcpy(r->next_token, v, vl + 1);
    }
    return n;
}

/* Perform one request on a fresh easy handle. body may be NULL; mime_path,
 * when set, uploads that file as the multipart part "file" (with the file
 * name of the path it goes to, never our local name). Returns 0 when
 * an HTTP response arrived (r->status), -1 on a transport error (r->cerr). */
static int http(const char *method, const char *url, struct curl_slist *hdrs, const char *body,
                const char *mime_path, const char *mime_name, int64_t timeout_ms, struct hres *r)
{
    CURL *h = curl_easy_init();
    curl_mime *mime = NULL;

    memset(r, 0, sizeof *r);
    r->retry_after_ms = -1;
    if (h == NULL) {
        snprintf(r->cerr, sizeof r->cerr, "cannot create a curl handle");
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, e2b_buf_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, hdr_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->cerr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (mime_path != NULL) {
        const char *base = strrchr(url, '/');
        curl_mimepart *part;
        mime = curl_mime_init(h);
        part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_filedata(part, mime_path);
        curl_mime_filename(part, mime_name ? mime_name : base + 1);
        curl_mime_type(part, "application/octet-stream");
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    }
    r->cc = curl_easy_perform(h);
    if (r->cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    else if (r->cerr[0] == '\0')
        snprintf(r->cerr, sizeof r->cerr, "%s", curl_easy_strerror(r->cc));
    curl_mime_free(mime);
    curl_easy_cleanup(h);
    return r->cc == CURLE_OK ? 0 : -1;
}

/* Header lines may hold the API key or an access token: the stack copy and,
 * in e2b_hdrs_free, every list entry are wiped (OPENSSL_cleanse, which the
 * compiler cannot drop) before the memory is released. */
struct curl_slist *e2b_hdr_add(struct curl_slist *l, const char *fmt, const char *v)
{
    char line[700];
    struct curl_slist *r;

    snprintf(line, sizeof line, fmt, v);
    r = curl_slist_append(l, line);
    crypto_wipe(line, sizeof line);
    return r;
}

void e2b_hdrs_free(struct curl_slist *h)
{
    for (struct curl_slist *i = h; i != NULL; i = i->next)
        if (i->data != NULL)
            crypto_wipe(i->data, strlen(i->data));
    curl_slist_free_all(h);
}

/* The message of an error body: JSON {"message": ...} or the text itself. */
static void body_message(const struct hres *r, char *out, size_t n)
{
    json_error_t je;
    json_t *j = r->body.p ? json_loads(r->body.p, 0, &je) : NULL;
    const char *m = json_string_value(json_object_get(j, "message"));

    if (m != NULL)
        snprintf(out, n, "%s", m);
    else if (r->body.p != NULL && r->body.len > 0)
        snprintf(out, n, "%.*s", (int)(r->body.len > 200 ? 200 : r->body.len), r->body.p);
    else
        snprintf(out, n, "no message");
    /* A hostile server's text reaches the terminal: no control bytes. */
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    json_decref(j);
}

/* Set err from a failed call, redacted. Returns -1. */
int e2b_fail(struct e2b *e, struct sd_err *err, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    e2b_redact(&e->cfg, msg, sizeof msg);
    return sd_err_set(err, code, "%s", msg);
}

int e2b_status_fail(struct e2b *e, const char *what, const struct hres *r, struct sd_err *err)
{
    char m[300];

    if (r->cc != CURLE_OK)
        return e2b_fail(e, err, SD_EENV, "%s: %s: %s", e->cfg.inst[0].name, what, r->cerr);
    body_message(r, m, sizeof m);
    e2b_redact_secret(r->token, m);
    if ((r->status == 401 || r->status == 403) && r->envd)
        return e2b_fail(e, err, SD_EENV,
                        "%s: %s: the sandbox's envd access token was refused (%ld: %s); the "
                        "API key was not at fault: the sandbox may have been replaced or its "
                        "token changed",
                        e->cfg.inst[0].name, what, r->status, m);
    if (r->status == 401 || r->status == 403)
        return e2b_fail(e, err, SD_EUSAGE,
                        "%s: %s: the E2B API key was refused (%ld: %s); check the key in %s",
                        e->cfg.inst[0].name, what, r->status, m, e->cfg.source);
    if (r->status == 400)
        return e2b_fail(e, err, SD_EUSAGE, "%s: %s: bad request (400: %s)", e->cfg.inst[0].name,
                        what, m);
    if (r->status == 429)
        return e2b_fail(e, err, SD_EENV, "%s: %s: rate limited (429: %s), gave up after %d retries",
                        e->cfg.inst[0].name, what, m, e->cfg.max_retries);
    return e2b_fail(e, err, SD_EENV, "%s: %s: HTTP %ld: %s", e->cfg.inst[0].name, what, r->status,
                    m);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int e2b_sleep_unless(int64_t ms, const _Atomic int *cancel)
{
    while (ms > 0) {
        int64_t step = ms < 100 ? ms : 100;
        if (cancel != NULL && atomic_load(cancel))
            return 1;
        sleep_ms(step);
        ms -= step;
    }
    return cancel != NULL && atomic_load(cancel);
}

int e2b_api_call(struct e2b *e, const char *method, const char *path, const char *body,
                 struct hres *r)
{
    return e2b_api_call_t(e, method, path, body, e->cfg.request_timeout_ms, r);
}

/* A control-plane call: X-API-Key, JSON body, a 429 with Retry-After retried
 * after it (bounded), as the SDK does; a 429 without one (E2B's concurrency
 * limit) is returned to the caller, which decides whether to wait. Returns 0
 * with r filled (any status), -1 on a transport error. */
int e2b_api_call_t(struct e2b *e, const char *method, const char *path, const char *body,
                   int64_t timeout_ms, struct hres *r)
{
    char url[1024];
    struct curl_slist *h = NULL;
    int rc;

    snprintf(url, sizeof url, "%s%s", e->cfg.inst[0].api_url, path);
    h = e2b_hdr_add(h, "X-API-Key: %s", e->cfg.api_key);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "User-Agent: swarmdeck");
    for (int attempt = 0;; attempt++) {
        int64_t wait;
        rc = http(method, url, h, body, NULL, NULL, timeout_ms, r);
        if (rc != 0 || r->status != 429 || r->retry_after_ms < 0 || attempt >= e->cfg.max_retries)
            break;
        wait = r->retry_after_ms;
        if (wait > e->cfg.max_retry_after_ms)
            break; /* longer than we are willing to wait: report the 429 */
        e2b_hres_free(r);
        sleep_ms(wait);
    }
    e2b_hdrs_free(h);
    return rc;
}

struct curl_slist *e2b_envd_headers(struct sbx *b, struct curl_slist *h)
{
    if (b->token[0])
        h = e2b_hdr_add(h, "X-Access-Token: %s", b->token);
    /* envd before 0.4.0 has no default user: name it, as the SDK does. */
    if (b->basic_user)
        h = curl_slist_append(h, "Authorization: Basic dXNlcjo="); /* "user:" */
    h = e2b_hdr_add(h, "E2b-Sandbox-Id: %s", b->sbx_id);
    h = curl_slist_append(h, "E2b-Sandbox-Port: " ENVD_PORT);
    h = curl_slist_append(h, "User-Agent: swarmdeck");
    return h;
}

int e2b_port_not_open(const struct hres *r)
{
    return r->status == 502 && r->body.p != NULL && strstr(r->body.p, "port is not open") != NULL;
}

/* An envd call; 502 "port is not open" (envd still starting) is retried
 * briefly, "sandbox was not found" is not. */
int e2b_envd_call(struct sbx *b, const char *method, const char *path, struct curl_slist *extra,
                  const char *body, const char *mime_path, const char *mime_name,
                  int64_t timeout_ms, struct hres *r)
{
    char url[1200];
    struct curl_slist *h = e2b_envd_headers(b, NULL);
    int rc;

    for (struct curl_slist *x = extra; x; x = x->next)
        h = curl_slist_append(h, x->data);
    snprintf(url, sizeof url, "%s%s", b->envd, path);
    for (int attempt = 0;; attempt++) {
        rc = http(method, url, h, body, mime_path, mime_name, timeout_ms, r);
        r->envd = 1;
        r->token = b->token;
        if (rc != 0 || !e2b_port_not_open(r) || attempt >= 10)
            break;
        e2b_hres_free(r);
        sleep_ms(200);
    }
    e2b_hdrs_free(h);
    return rc;
}
