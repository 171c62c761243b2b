/*
 * e2b_process.c: running the program in an E2B sandbox: the provider's start
 * and signal (e2b_int.h; provider.h has the contracts).
 *
 * DESIGN
 * start POSTs {envd}/process.Process/Start with one Connect frame: bash -c
 * "chmod 0755 EXECS && exec ARGV" (files uploaded by envd are not
 * executable), cwd "swarmdeck" (relative to the sandbox user's home, where
 * the uploads went). The reply is a Connect server stream, decoded
 * incrementally by connect.c from the write callback: the start event
 * (pid), output, keepalives, the end event, the end-stream frame. The
 * transfer runs in a curl multi loop that also sends signals, fetches
 * resource samples (GET {api}/sandboxes/{id}/metrics for the window since
 * the newest sample) every sample_ms, and keeps the sandbox alive (POST
 * {api}/sandboxes/{id}/timeout each time half its TTL has passed), each
 * beside the stream on the same multi handle so none holds the others up.
 * The process is tagged "swarmdeck-<our id>" so it can be found again by
 * tag. With --memory the command starts with `ulimit -v`, and executables
 * the runner template holds are linked instead of uploaded.
 *
 * The command timeout is always explicit (Connect-Timeout-Ms = the
 * deployment's timeout, or none), never the SDK's hidden 60 s default. A
 * stream that ends without an end event or end-stream frame is diagnosed with
 * GET {envd}/health: 502 means the sandbox is gone (killed or expired),
 * anything else that the connection was lost.
 *
 * signal records the request (want_sig, never downgrading SIGKILL) and wakes
 * the loop, which sends process.Process/SendSignal: SIGTERM, then SIGKILL
 * after KILL_GRACE_MS. So no HTTP call happens under the caller's lock.
 *
 * THREADS
 * start: the sandbox's worker. signal: any thread (it takes b->mu only to
 * wake the loop).
 */
#define _GNU_SOURCE
#include "e2b_int.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect.h"

#define KILL_GRACE_MS 3000

/* --- start: the process stream --------------------------------------------- */

struct stream {
    struct sbx *b;
    const struct sbx_callbacks *cb;
    struct connect_dec dec;
    CURL *h;
    long status;
    struct buf errbody;
    int got_start, got_end, got_eos, eos_error, bad;
    struct connect_event end;
    char eos_code[64], eos_msg[256];
    uint64_t t_start_ns;
};

static int on_frame(void *arg, unsigned flags, const char *payload, size_t len)
{
    struct stream *s = arg;
    struct connect_event ev;

    if (flags & CONNECT_FLAG_END) {
        s->got_eos = 1;
        s->eos_error = connect_end_parse(payload, len, s->eos_code, sizeof s->eos_code, s->eos_msg,
                                         sizeof s->eos_msg);
        if (s->eos_error < 0) {
            snprintf(s->dec.err, sizeof s->dec.err, "end-stream frame is not JSON");
            return -1;
        }
        return 0;
    }
    if (connect_event_parse(payload, len, &ev) != 0) {
        snprintf(s->dec.err, sizeof s->dec.err, "a process event is not valid JSON or base64");
        return -1;
    }
    switch (ev.type) {
    case CONNECT_EV_START: {
        struct e2b *e = s->b->p->impl;
        json_t *iso;
        char *isos;
        s->got_start = 1;
        s->t_start_ns = sd_mono_ns();
        atomic_store(&s->b->pid, ev.pid);
        iso = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "instance", e->cfg.inst[0].name,
                        "region", e->cfg.inst[0].region, "provider", "e2b", "sandbox", s->b->sbx_id,
                        "template", e->cfg.template_id, "vm", "firecracker", "network",
                        s->b->spec.internet ? "internet (opted in)" : "none");
        if (iso != NULL && s->b->limits[0])
            json_object_set_new(iso, "limits", json_string(s->b->limits));
        if (iso != NULL && s->b->nbaked > 0) /* not uploaded: the template's checked copy */
            json_object_set_new(iso, "runner", json_string("template"));
        isos = iso ? json_dumps(iso, JSON_COMPACT) : NULL;
        json_decref(iso);
        if (s->cb->started)
            s->cb->started(s->cb->arg, isos ? isos : "{}", "microvm");
        free(isos);
        break;
    }
    case CONNECT_EV_DATA:
        if (s->cb->output && ev.len > 0)
            s->cb->output(s->cb->arg, ev.stream == 2 ? 2 : 1, (const char *)ev.data, ev.len);
        break;
    case CONNECT_EV_END:
        s->got_end = 1;
        s->end = ev;
        ev.data = NULL;
        break;
    default: /* keepalive and events we do not know */
        break;
    }
    connect_event_clear(&ev);
    return 0;
}

static size_t stream_write(char *ptr, size_t sz, size_t nm, void *arg)
{
    struct stream *s = arg;
    size_t n = sz * nm;

    if (s->status == 0)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200)
        return e2b_buf_write(ptr, sz, nm, &s->errbody);
    if (connect_feed(&s->dec, ptr, n, on_frame, s) != 0) {
        s->bad = 1;
        return 0; /* abort the transfer */
    }
    return n;
}

/* A growable string: the command line for bash -c. */
struct str {
    char *p;
    size_t len, cap;
    int oom;
};

static void str_add(struct str *s, const char *t, size_t n)
{
    if (s->oom)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = (s->len + n + 1) * 2;
        char *q = realloc(s->p, cap);
        if (q == NULL) {
            s->oom = 1;
            return;
        }
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, t, n);
    s->len += n;
    s->p[s->len] = '\0';
}

/* Append ' ' and t quoted for bash (single quotes; ' as '\''). */
static void str_arg(struct str *s, const char *t)
{
    str_add(s, " '", 2);
    for (; *t; t++) {
        if (*t == '\'')
            str_add(s, "'\\''", 4);
        else
            str_add(s, t, 1);
    }
    str_add(s, "'", 1);
}

/* "[ln -sf ../.swarmdeck/x x &&] [ulimit -v KB &&] chmod 0755 'x' && exec
 * 'argv0' 'argv1' ..." or NULL when out of memory. Executables the template
 * holds are linked from its runner dir instead of uploaded. */
static char *shell_command(struct sbx *b, char *const argv[])
{
    struct str s = {0};

    for (int i = 0; i < b->nbaked; i++) {
        char t[200];
        snprintf(t, sizeof t, "../" E2B_TEMPLATE_DIR "/%s", b->baked[i]);
        str_add(&s, "ln -sf", 6);
        str_arg(&s, t);
        str_arg(&s, b->baked[i]);
        str_add(&s, " && ", 4);
    }
    if (b->as_limit_kb > 0) {
        char t[64];
        snprintf(t, sizeof t, "ulimit -v %lld && ", (long long)b->as_limit_kb);
        str_add(&s, t, strlen(t));
    }
    if (b->nexec > 0) {
        str_add(&s, "chmod 0755", 10);
        for (int i = 0; i < b->nexec; i++)
            str_arg(&s, b->execs[i]);
        str_add(&s, " && ", 4);
    }
    str_add(&s, "exec", 4);
    for (size_t i = 0; argv[i] != NULL; i++)
        str_arg(&s, argv[i]);
    if (s.oom) {
        free(s.p);
        return NULL;
    }
    return s.p;
}

static int send_signal(struct sbx *b, int sig)
{
    struct e2b *e = b->p->impl;
    struct curl_slist *h = NULL;
    char body[128];
    struct hres r;
    int64_t pid = atomic_load(&b->pid);
    int rc;

    if (pid <= 0)
        return -1;
    snprintf(body, sizeof body, "{\"process\":{\"pid\":%lld},\"signal\":\"%s\"}", (long long)pid,
             sig == SIGKILL ? "SIGNAL_SIGKILL" : "SIGNAL_SIGTERM");
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Connect-Protocol-Version: 1");
    rc = e2b_envd_call(b, "POST", "/process.Process/SendSignal", h, body, NULL, NULL,
                       e->cfg.request_timeout_ms, &r);
    e2b_hdrs_free(h);
    /* 404 not_found: it already ended, which is what we wanted. */
    rc = rc == 0 && (r.status == 200 || r.status == 404) ? 0 : -1;
    e2b_hres_free(&r);
    return rc;
}

struct sampler {
    CURL *h;
    struct buf body;
    struct curl_slist *hdrs;
    uint64_t next_ns, last_ns;
    double cpu_ms;
    int64_t last_unix; /* the newest sample's timestampUnix, 0 = none yet */
};

/* A control-plane request run beside the stream in its multi handle (so the
 * stream and signals are never held up by it): the metrics poll and the TTL
 * refresh. Returns the easy handle (added to m) or NULL. hdrs is made once
 * and kept in *hdrs (wiped by the caller's e2b_hdrs_free). */
static CURL *side_begin(struct sbx *b, CURLM *m, const char *path, const char *post,
                        struct curl_slist **hdrs, struct buf *body)
{
    struct e2b *e = b->p->impl;
    char url[1024];
    CURL *h = curl_easy_init();

    if (h == NULL)
        return NULL;
    snprintf(url, sizeof url, "%s%s", e->cfg.inst[0].api_url, path);
    if (*hdrs == NULL) {
        *hdrs = e2b_hdr_add(NULL, "X-API-Key: %s", e->cfg.api_key);
        *hdrs = curl_slist_append(*hdrs, "Accept: application/json");
        *hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
        *hdrs = curl_slist_append(*hdrs, "User-Agent: swarmdeck");
    }
    free(body->p);
    memset(body, 0, sizeof *body);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, e2b_buf_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (post != NULL) {
        curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, post);
    }
    curl_multi_add_handle(m, h);
    return h;
}

/* The TTL refresh: while the program runs, POST /sandboxes/{id}/timeout
 * sets the TTL again (counted from now) each time half of it has passed,
 * so a run longer than the plan's maximum TTL is not killed by it. */
struct refresher {
    CURL *h;
    struct buf body;
    struct curl_slist *hdrs;
};

static void refresh_begin(struct sbx *b, CURLM *m, struct refresher *rf)
{
    char path[128], post[64];

    snprintf(path, sizeof path, "/sandboxes/%s/timeout", b->sbx_id);
    snprintf(post, sizeof post, "{\"timeout\":%lld}", (long long)b->ttl_s);
    rf->h = side_begin(b, m, path, post, &rf->hdrs, &rf->body);
}

/* A finished refresh: on 204 the TTL counts from now; on anything else the
 * next loop tries again in a second (a 404 means the sandbox is gone, which
 * the stream will show). */
static void refresh_end(struct sbx *b, CURLM *m, struct refresher *rf)
{
    long status = 0;

    curl_easy_getinfo(rf->h, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(m, rf->h);
    curl_easy_cleanup(rf->h);
    rf->h = NULL;
    if (status == 204 || status == 200)
        b->ttl_set_ns = sd_mono_ns();
    else
        b->ttl_set_ns += 1000000000ull; /* retry in about a second */
}

/* Metrics for the window since the newest sample we have (E2B keeps the
 * sandbox's whole history; asking for all of it each time would grow with
 * the run). The figures are the whole microVM's, not the program's alone. */
static void sample_begin(struct sbx *b, CURLM *m, struct sampler *sm)
{
    char path[256];
    int64_t now = sd_now_ms() / 1000;

    snprintf(path, sizeof path, "/sandboxes/%s/metrics?start=%lld&end=%lld", b->sbx_id,
             (long long)(sm->last_unix ? sm->last_unix : b->created_unix), (long long)now);
    sm->h = side_begin(b, m, path, NULL, &sm->hdrs, &sm->body);
}

/* A finished metrics request: the newest SandboxMetric gives memory and the
 * CPU share since the previous sample (cpuUsedPct of cpuCount cores). */
static void sample_end(struct sampler *sm, CURLM *m, const struct sbx_callbacks *cb)
{
    long status = 0;
    json_error_t je;
    json_t *j, *last;
    uint64_t now = sd_mono_ns();

    curl_easy_getinfo(sm->h, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(m, sm->h);
    curl_easy_cleanup(sm->h);
    sm->h = NULL;
    j = status == 200 && sm->body.p ? json_loads(sm->body.p, 0, &je) : NULL;
    last = json_array_get(j, json_array_size(j) ? json_array_size(j) - 1 : 0);
    if (json_is_object(last)) {
        double pct = json_number_value(json_object_get(last, "cpuUsedPct"));
        double cores = json_number_value(json_object_get(last, "cpuCount"));
        double mem = json_number_value(json_object_get(last, "memUsed"));
        json_int_t ts = json_integer_value(json_object_get(last, "timestampUnix"));
        if (ts > sm->last_unix)
            sm->last_unix = ts;
        if (sm->last_ns != 0)
            sm->cpu_ms += pct / 100.0 * (cores > 0 ? cores : 1) * (double)(now - sm->last_ns) / 1e6;
        sm->last_ns = now;
        if (cb->sample)
            cb->sample(cb->arg, (int64_t)sm->cpu_ms, (int64_t)(mem / 1024));
    }
    json_decref(j);
}

static int sig_from_status(const char *status)
{
    if (strstr(status, "terminated"))
        return SIGTERM;
    if (strstr(status, "interrupt"))
        return SIGINT;
    return SIGKILL;
}

/* After a stream ended without a result: is the sandbox still there? */
static int sandbox_gone(struct sbx *b)
{
    struct hres r;
    int gone;
    e2b_envd_call(b, "GET", "/health", NULL, NULL, NULL, NULL, 5000, &r);
    gone = r.cc == CURLE_OK && r.status == 502 && !e2b_port_not_open(&r);
    e2b_hres_free(&r);
    return gone;
}

/* The request body of Start: one Connect frame running argv through bash
 * (shell_command), cwd "swarmdeck", tagged. malloc'ed, or NULL when out of
 * memory. */
static unsigned char *start_frame(struct sbx *b, char *const argv[], size_t *flen)
{
    char *cmd = shell_command(b, argv), *json = NULL, tag[120];
    unsigned char *frame = NULL;
    json_t *req;

    if (cmd == NULL)
        return NULL;
    /* The tag names the process so a restarted process can reattach to it
     * (process.Process/Connect by tag) without knowing its pid. */
    snprintf(tag, sizeof tag, "swarmdeck-%s", b->id);
    req = json_pack("{s:{s:s, s:[s, s], s:{s:s, s:s, s:s}, s:s}, s:s, s:b}", "process", "cmd",
                    "/bin/bash", "args", "-c", cmd, "envs", "PYTHONUNBUFFERED", "1", "LANG",
                    "C.UTF-8", "TZ", "UTC", "cwd", "swarmdeck", "tag", tag, "stdin", 0);
    free(cmd);
    if (req != NULL)
        json = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (json != NULL)
        frame = connect_frame(0, json, strlen(json), flen);
    free(json);
    return frame;
}

/* Run one process stream: POST {envd}/process.Process/<rpc> with frame (not
 * freed here), decode it until the program ends, as e2b_start's contract
 * says. with_timeout: send the deployment's timeout as Connect-Timeout-Ms
 * (Start; a reattaching Connect inherits the process's own). */
static int stream_run(struct sbx *b, const char *rpc, const unsigned char *frame, size_t flen,
                      int with_timeout, const struct sbx_callbacks *cb, struct sbx_exit *ex,
                      struct sd_err *err)
{
    struct e2b *e = b->p->impl;
    const char *iname = e->cfg.inst[0].name;
    struct stream s;
    struct sampler sm;
    struct refresher rf;
    struct curl_slist *h = NULL;
    char url[1200], cerr[CURL_ERROR_SIZE] = "";
    CURLM *m;
    CURLcode done = CURLE_OK;
    int running = 1, finished = 0, rc = -1, sent = 0;
    uint64_t term_ns = 0, t0 = sd_mono_ns();

    memset(ex, 0, sizeof *ex);
    ex->code = -1;
    memset(&s, 0, sizeof s);
    memset(&sm, 0, sizeof sm);
    memset(&rf, 0, sizeof rf);
    s.b = b;
    s.cb = cb;
    connect_init(&s.dec, 0);
    s.h = curl_easy_init();
    m = curl_multi_init();
    if (s.h == NULL || m == NULL) {
        curl_easy_cleanup(s.h);
        curl_multi_cleanup(m);
        return sd_err_set(err, SD_ENOMEM, "cannot create curl handles");
    }
    h = e2b_envd_headers(b, NULL);
    h = curl_slist_append(h, "Content-Type: application/connect+json");
    h = curl_slist_append(h, "Connect-Protocol-Version: 1");
    h = curl_slist_append(h, "Keepalive-Ping-Interval: 50");
    if (with_timeout && b->spec.timeout_ms > 0) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)b->spec.timeout_ms);
        h = e2b_hdr_add(h, "Connect-Timeout-Ms: %s", v);
    }
    snprintf(url, sizeof url, "%s/process.Process/%s", b->envd, rpc);
    curl_easy_setopt(s.h, CURLOPT_URL, url);
    curl_easy_setopt(s.h, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(s.h, CURLOPT_POSTFIELDS, (char *)frame);
    curl_easy_setopt(s.h, CURLOPT_POSTFIELDSIZE, (long)flen);
    curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(s.h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(s.h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s.h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(s.h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* envd enforces the command timeout; ours is a safety net. Keepalives
     * come every 50 s, so 150 s of silence means the connection is dead. */
    if (b->spec.timeout_ms > 0)
        curl_easy_setopt(s.h, CURLOPT_TIMEOUT_MS, (long)(b->spec.timeout_ms + 60000));
    curl_easy_setopt(s.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(s.h, CURLOPT_LOW_SPEED_TIME, 150L);
    curl_multi_add_handle(m, s.h);
    pthread_mutex_lock(&b->mu);
    b->multi = m;
    pthread_mutex_unlock(&b->mu);
    sm.next_ns = t0 + (uint64_t)e->cfg.sample_ms * 1000000ull;

    while (!finished) {
        CURLMsg *msg;
        int left, want;
        uint64_t now;

        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            if (msg->easy_handle == s.h) {
                done = msg->data.result;
                finished = 1;
            } else if (msg->easy_handle == sm.h) {
                sample_end(&sm, m, cb);
            } else if (msg->easy_handle == rf.h) {
                refresh_end(b, m, &rf);
            }
        }
        if (finished)
            break;
        now = sd_mono_ns();
        /* Signals: SIGTERM first, SIGKILL after the grace period. */
        want = atomic_load(&b->want_sig);
        if (want != 0 && s.got_start) {
            if (!sent) {
                sent = want == SIGKILL ? 2 : 1;
                send_signal(b, want == SIGKILL ? SIGKILL : SIGTERM);
                term_ns = now;
            } else if (sent == 1 &&
                       (want == SIGKILL || now - term_ns > (uint64_t)KILL_GRACE_MS * 1000000ull)) {
                sent = 2;
                send_signal(b, SIGKILL);
            }
        }
        if (rf.h == NULL && (int64_t)(now - b->ttl_set_ns) >= b->ttl_s * 500000000ll)
            refresh_begin(b, m, &rf);
        if (s.got_start && sm.h == NULL && now >= sm.next_ns) {
            sm.next_ns = now + (uint64_t)e->cfg.sample_ms * 1000000ull;
            sample_begin(b, m, &sm);
        }
        curl_multi_poll(m, NULL, 0, 200, NULL);
    }
    pthread_mutex_lock(&b->mu);
    b->multi = NULL;
    pthread_mutex_unlock(&b->mu);
    if (sm.h != NULL) {
        curl_multi_remove_handle(m, sm.h);
        curl_easy_cleanup(sm.h);
    }
    e2b_hdrs_free(sm.hdrs);
    free(sm.body.p);
    if (rf.h != NULL) {
        curl_multi_remove_handle(m, rf.h);
        curl_easy_cleanup(rf.h);
    }
    e2b_hdrs_free(rf.hdrs);
    free(rf.body.p);
    curl_multi_remove_handle(m, s.h);
    if (s.status == 0)
        curl_easy_getinfo(s.h, CURLINFO_RESPONSE_CODE, &s.status);
    curl_easy_cleanup(s.h);
    curl_multi_cleanup(m);
    e2b_hdrs_free(h);
    ex->wall_ms = (int64_t)((sd_mono_ns() - (s.t_start_ns ? s.t_start_ns : t0)) / 1000000);
    ex->cpu_ms = (int64_t)sm.cpu_ms;

    if (s.status != 0 && s.status != 200) {
        struct hres r = {
            .status = s.status, .body = s.errbody, .cc = CURLE_OK, .envd = 1, .token = b->token};
        const char *what = "start";
        if (s.status == 502 && s.errbody.p && strstr(s.errbody.p, "not found"))
            e2b_fail(e, err, SD_EENV, "%s: sandbox gone: the sandbox was not found (502)", iname);
        else
            e2b_status_fail(e, what, &r, err);
        goto out;
    }
    if (s.bad) {
        e2b_fail(e, err, SD_EENV, "%s: malformed process stream: %s", iname, s.dec.err);
        goto out;
    }
    if (s.got_eos && s.eos_error > 0 && strcmp(s.eos_code, "deadline_exceeded") == 0) {
        /* envd SIGKILLed the program at Connect-Timeout-Ms. */
        ex->timed_out = 1;
        ex->signal = SIGKILL;
        rc = 0;
        goto out;
    }
    if (s.got_end) {
        ex->code = s.end.exit_code;
        if (s.end.exit_code < 0 || (!s.end.exited && strncmp(s.end.status, "signal", 6) == 0)) {
            ex->code = -1;
            ex->signal = sig_from_status(s.end.status);
        }
        rc = 0;
        goto out;
    }
    if (s.got_eos && s.eos_error > 0) {
        e2b_fail(e, err, SD_EENV, "%s: the process stream ended with %s: %s", iname, s.eos_code,
                 s.eos_msg);
        goto out;
    }
    if (s.got_eos) {
        e2b_fail(e, err, SD_EENV, "%s: the process exited without a result", iname);
        goto out;
    }
    /* No end event, no end-stream frame: the connection dropped. */
    if (sandbox_gone(b))
        e2b_fail(e, err, SD_EENV,
                 "%s: sandbox gone: it was killed or reached its end of life while the program "
                 "ran",
                 iname);
    else
        e2b_fail(e, err, SD_EENV, "%s: connection lost mid-stream (%s)", iname,
                 done != CURLE_OK ? (cerr[0] ? cerr : curl_easy_strerror(done))
                                  : "the stream ended without an end event");
out:
    if (rc == 0 && !s.got_start)
        ex->setup_failed = 1;
    connect_event_clear(&s.end);
    connect_free(&s.dec);
    free(s.errbody.p);
    return rc;
}

int e2b_start(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
              struct sbx_exit *ex, struct sd_err *err)
{
    size_t flen = 0;
    unsigned char *frame = start_frame(b, argv, &flen);
    int rc;

    if (frame == NULL) {
        memset(ex, 0, sizeof *ex);
        ex->code = -1;
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    rc = stream_run(b, "Start", frame, flen, 1, cb, ex, err);
    free(frame);
    return rc;
}

int e2b_resume(struct sbx *b, const struct sbx_callbacks *cb, struct sbx_exit *ex,
               struct sd_err *err)
{
    char json[200];
    size_t flen = 0;
    unsigned char *frame;
    int rc;

    snprintf(json, sizeof json, "{\"process\":{\"tag\":\"swarmdeck-%s\"}}", b->id);
    frame = connect_frame(0, json, strlen(json), &flen);
    if (frame == NULL) {
        memset(ex, 0, sizeof *ex);
        ex->code = -1;
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    rc = stream_run(b, "Connect", frame, flen, 0, cb, ex, err);
    free(frame);
    return rc;
}

int e2b_signal(struct sbx *b, int sig)
{
    int prev = atomic_load(&b->want_sig);
    /* Never downgrade a SIGKILL request to SIGTERM. */
    if (prev != SIGKILL)
        atomic_store(&b->want_sig, sig == SIGKILL ? SIGKILL : SIGTERM);
    pthread_mutex_lock(&b->mu);
    if (b->multi != NULL)
        curl_multi_wakeup(b->multi);
    pthread_mutex_unlock(&b->mu);
    return 0;
}
