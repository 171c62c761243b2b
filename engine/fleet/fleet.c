/*
 * fleet.c: the fleet through NATS JetStream (fleet.h has the design).
 *
 * Two threads, each a small loop over one condition variable:
 *  - the publisher wakes on fleet_notify or every 250 ms; when notified,
 *    when the connection changed, and every 2 s, it flushes the store (so
 *    the chain seal of a trajectory that just ended is committed) and fills
 *    the outbox from the chain, connected or not; once connected it
 *    makes sure the stream exists and publishes the outbox in order,
 *    dropping each row once JetStream acknowledged its message;
 *  - the consumer fetches batches from its durable pull consumer, merges
 *    them (merge.h) and acknowledges each message after its record is
 *    committed or refused; a store failure acknowledges nothing (the
 *    messages come again).
 * nats.c itself reconnects; a call that fails because the server went away
 * is simply tried again on a later tick.
 */
#define _GNU_SOURCE
#include "fleet.h"

#include <errno.h>
#include <jansson.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet_store.h"
#include "merge.h"

#define TICK_MS       250
#define BATCH         256  /* outbox rows published per acknowledgement wait */
#define FETCH_BATCH   64   /* records merged per commit: each waits for its batch's commit */
#define FETCH_WAIT    1000 /* ms an idle fetch waits for a message */
#define FETCH_BUSY_MS 100  /* ms a busy fetch waits to fill its batch */
#define ACK_WAIT_S    10   /* a delivered message not acknowledged comes again after this */
#define PUB_WAIT      5000
#define DUP_WINDOW_S                                                                               \
    3600 /* JetStream's duplicate window: a retried publish within it is stored once */

struct fleet {
    struct store *s;
    char name[FLEET_NAME_MAX];
    char traj_subj[128], live_subj[128], durable[96], url[256];
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub; /* the consumer thread's */
    pthread_t pub, con;
    pthread_mutex_t lock; /* guards stop, kick, ready */
    pthread_cond_t cond;
    int stop, kick, ready, started;
    pthread_mutex_t ack_lock; /* guards acked, nacked, stream_gone (pub_ack) */
    int64_t acked[BATCH];
    size_t nacked;
    int stream_gone;
    fleet_added_fn added; /* under lock */
    void *added_arg;
};

static atomic_uint_fast64_t c_published, c_received, c_added, c_skipped, c_refused;
static atomic_int c_connected, c_running;

void fleet_counters(struct fleet_counters *out)
{
    out->published = atomic_load(&c_published);
    out->received = atomic_load(&c_received);
    out->added = atomic_load(&c_added);
    out->skipped = atomic_load(&c_skipped);
    out->refused = atomic_load(&c_refused);
    out->connected = atomic_load(&c_connected);
    out->running = atomic_load(&c_running);
}

void fleet_url_redact(const char *url, char *buf, size_t n)
{
    const char *at = url ? strchr(url, '@') : NULL, *scheme = url ? strstr(url, "://") : NULL;

    if (url == NULL) {
        snprintf(buf, n, "(none)");
    } else if (at != NULL && scheme != NULL && scheme < at) {
        snprintf(buf, n, "%.*s***@%s", (int)(scheme + 3 - url), url, at + 1);
    } else {
        snprintf(buf, n, "%s", url);
    }
}

/* Wait on f->cond until *kick is set (then cleared and *kicked = 1; kick
 * NULL: never), stopping, or ms passed. Returns f->stop. Caller holds no
 * lock. */
static int nap_kicked(struct fleet *f, int *kick, int ms, int *kicked)
{
    struct timespec ts;
    int stop;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&f->lock);
    while (!f->stop && !(kick != NULL && *kick))
        if (pthread_cond_timedwait(&f->cond, &f->lock, &ts) == ETIMEDOUT)
            break;
    if (kicked != NULL)
        *kicked = kick != NULL && *kick;
    if (kick != NULL)
        *kick = 0;
    stop = f->stop;
    pthread_mutex_unlock(&f->lock);
    return stop;
}

static int nap(struct fleet *f, int ms)
{
    return nap_kicked(f, NULL, ms, NULL);
}

static int is_ready(struct fleet *f)
{
    int r;
    pthread_mutex_lock(&f->lock);
    r = f->ready;
    pthread_mutex_unlock(&f->lock);
    return r;
}

static void set_ready(struct fleet *f, int r)
{
    pthread_mutex_lock(&f->lock);
    f->ready = r;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    atomic_store(&c_connected, r);
}

/* The connection came up after fleet_start returned: nothing to do here
 * (the threads look at connected() every tick); its being set is what
 * makes the first connect asynchronous. */
static void connected_later(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
}

static int connected(struct fleet *f)
{
    return natsConnection_Status(f->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* The stream, made when missing. Returns 0 or -1 (logged once per cause). */
static int ensure_stream(struct fleet *f, char *last, size_t lastn)
{
    jsStreamInfo *si = NULL;
    jsErrCode je = 0;
    natsStatus s = js_GetStreamInfo(&si, f->js, FLEET_STREAM, NULL, &je);
    char why[200];

    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return 0;
    }
    if (s == NATS_NOT_FOUND || je == JSStreamNotFoundErr) {
        jsStreamConfig sc;
        const char *subjects[] = {"swarmdeck.traj.>"};
        jsStreamConfig_Init(&sc);
        sc.Name = FLEET_STREAM;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Duplicates = (int64_t)DUP_WINDOW_S * 1000000000LL;
        s = js_AddStream(&si, f->js, &sc, NULL, &je);
        if (s == NATS_OK) {
            jsStreamInfo_Destroy(si);
            fprintf(stderr, "swarmdeck: fleet: made the stream %s\n", FLEET_STREAM);
            return 0;
        }
    }
    snprintf(why, sizeof why, "%s (%d)", natsStatus_GetText(s), (int)je);
    if (strcmp(why, last) != 0) {
        fprintf(stderr, "swarmdeck: fleet: the stream %s is not usable yet: %s\n", FLEET_STREAM,
                why);
        snprintf(last, lastn, "%s", why);
    }
    return -1;
}

/* Queue what ended since the last look, connected or not: flush first, so
 * the chain seal of a trajectory that just ended is committed. Cheap when
 * nothing is new (one indexed max). Returns 0 or -1 (logged). */
static int fill_outbox(struct fleet *f)
{
    struct sd_err err = {0};

    if (store_flush(f->s, &err) != 0 || store_fleet_outbox_fill(f->s, NULL, &err) != 0) {
        fprintf(stderr, "swarmdeck: fleet: outbox: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* JetStream's answer to one asynchronous publish (a nats.c thread): note
 * which trajectory was stored, from the header we set. */
static void pub_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    struct fleet *f = closure;
    const char *v = NULL;
    (void)js;

    pthread_mutex_lock(&f->ack_lock);
    if (pa != NULL && natsMsgHeader_Get(msg, "Swarmdeck-Traj", &v) == NATS_OK && v != NULL &&
        f->nacked < BATCH)
        f->acked[f->nacked++] = strtoll(v, NULL, 10);
    else if (pae != NULL && (pae->Err == NATS_NO_RESPONDERS || pae->ErrCode == JSStreamNotFoundErr))
        f->stream_gone = 1;
    pthread_mutex_unlock(&f->ack_lock);
    natsMsg_Destroy(msg);
}

/* Publish one trajectory asynchronously (pub_ack hears how it went).
 * Returns 1 sent, 0 never to be sent (too big or unreadable: marked), -1
 * the connection failed (try the batch again later). */
static int publish_one(struct fleet *f, sqlite3 *db, int64_t id)
{
    struct sd_err err = {0};
    json_t *env = store_fleet_envelope(db, id, f->name, &err);
    const char *fp;
    char *txt = NULL, idtxt[32];
    size_t len;
    natsMsg *m = NULL;
    jsPubOptions po;
    natsStatus s;
    int rc = 0;

    if (env == NULL) {
        /* Unreadable here (a damaged record): never publish it. */
        fprintf(stderr, "swarmdeck: fleet: trajectory #%lld not published: %s\n", (long long)id,
                err.msg);
        return 0;
    }
    fp = json_string_value(json_object_get(json_object_get(env, "record"), "fingerprint"));
    txt = json_dumps(env, JSON_COMPACT | JSON_REAL_PRECISION(17));
    len = txt ? strlen(txt) : 0;
    if (txt == NULL || fp == NULL)
        goto out;
    if ((int64_t)len > natsConnection_GetMaxPayload(f->nc)) {
        fprintf(stderr,
                "swarmdeck: fleet: trajectory #%lld not published: %zu bytes, over the server's "
                "max_payload (%lld)\n",
                (long long)id, len, (long long)natsConnection_GetMaxPayload(f->nc));
        goto out;
    }
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)id);
    jsPubOptions_Init(&po);
    po.MsgId = fp;
    rc = -1;
    if (natsMsg_Create(&m, f->traj_subj, NULL, txt, (int)len) != NATS_OK)
        goto out;
    natsMsgHeader_Set(m, "Swarmdeck-Traj", idtxt);
    s = js_PublishMsgAsync(f->js, &m, &po);
    rc = s == NATS_OK ? 1 : -1;
out:
    natsMsg_Destroy(m); /* NULL once the library took it */
    json_decref(env);
    free(txt);
    return rc;
}

/* Publish the outbox, a batch at a time: every message of a batch is sent
 * at once, then the batch waits for JetStream's acknowledgements, and only
 * the acknowledged rows leave the outbox (a lost one is sent again later;
 * its message id makes JetStream store it once). Returns 0 when the outbox
 * was emptied, -1 when something failed (tried again on a later tick). */
static int publish_outbox(struct fleet *f, sqlite3 *db)
{
    int64_t ids[BATCH], done[BATCH], skip[BATCH];
    size_t n, nd, ns;
    struct sd_err err = {0};
    int failed = 0;

    do {
        jsPubOptions po;
        if (store_fleet_outbox_next(db, ids, BATCH, &n, &err) != 0) {
            fprintf(stderr, "swarmdeck: fleet: outbox: %s\n", err.msg);
            return -1;
        }
        pthread_mutex_lock(&f->ack_lock);
        f->nacked = 0;
        pthread_mutex_unlock(&f->ack_lock);
        ns = 0;
        for (size_t i = 0; i < n && !failed; i++) {
            int rc = publish_one(f, db, ids[i]);
            if (rc == 0)
                skip[ns++] = ids[i];
            failed = rc < 0;
        }
        jsPubOptions_Init(&po);
        po.MaxWait = PUB_WAIT;
        if (js_PublishAsyncComplete(f->js, &po) != NATS_OK) {
            natsMsgList pending = {0};
            if (js_PublishAsyncGetPendingList(&pending, f->js) == NATS_OK)
                natsMsgList_Destroy(&pending); /* sent again from the outbox */
            failed = 1;
        }
        pthread_mutex_lock(&f->ack_lock);
        nd = f->nacked;
        memcpy(done, f->acked, nd * sizeof *done);
        f->nacked = 0;
        if (f->stream_gone) {
            f->stream_gone = 0;
            failed = 1;
            pthread_mutex_unlock(&f->ack_lock);
            set_ready(f, 0); /* the stream is gone: make it again */
        } else {
            pthread_mutex_unlock(&f->ack_lock);
        }
        failed |= nd + ns < n;
        atomic_fetch_add(&c_published, nd);
        if (store_fleet_outbox_done(f->s, done, nd, 0, &err) != 0 ||
            store_fleet_outbox_done(f->s, skip, ns, 1, &err) != 0) {
            fprintf(stderr, "swarmdeck: fleet: outbox: %s\n", err.msg);
            return -1;
        }
    } while (!failed && n == BATCH);
    return failed ? -1 : 0;
}

static void *pub_main(void *arg)
{
    struct fleet *f = arg;
    struct sd_err err = {0};
    sqlite3 *db = store_reader(f->s, &err);
    char last[200] = "";
    int was = 0, kicked = 0;
    unsigned ticks = 0;

    if (db == NULL) {
        fprintf(stderr, "swarmdeck: fleet: %s\n", err.msg);
        return NULL;
    }
    while (!nap_kicked(f, &f->kick, TICK_MS, &kicked)) {
        int now = connected(f), look = kicked || ++ticks % 8 == 0 || now != was;
        if (now != was) {
            char u[256];
            fleet_url_redact(f->url, u, sizeof u);
            fprintf(stderr, "swarmdeck: fleet: %s %s\n", now ? "connected to" : "lost", u);
            if (!now)
                set_ready(f, 0);
            was = now;
        }
        /* The outbox is filled when a deployment ended, when the connection
         * changed and every 2 s (what ended in another process meanwhile). */
        if ((look && fill_outbox(f) != 0) || !now)
            continue;
        if (!is_ready(f)) {
            if (ensure_stream(f, last, sizeof last) != 0)
                continue;
            last[0] = '\0';
            set_ready(f, 1);
        }
        publish_outbox(f, db);
    }
    sqlite3_close_v2(db);
    return NULL;
}

static void refused_log(size_t i, const char *why, void *arg)
{
    natsMsgList *l = arg;
    fprintf(stderr, "swarmdeck: fleet: refused a record from %s: %s\n",
            natsMsg_GetSubject(l->Msgs[i]), why);
}

/* Merge one fetched batch and acknowledge it. */
static void consume(struct fleet *f, natsMsgList *l)
{
    json_t *envs = json_array();
    int *status = calloc((size_t)l->Count + 1, sizeof *status);
    int *slot = calloc((size_t)l->Count + 1, sizeof *slot);
    struct fleet_merge_report r;
    struct sd_err err = {0};
    natsMsgList parsed = {.Msgs = calloc((size_t)l->Count + 1, sizeof(natsMsg *)), .Count = 0};
    fleet_added_fn added;
    void *added_arg;

    if (envs == NULL || status == NULL || slot == NULL || parsed.Msgs == NULL)
        goto out; /* nothing acknowledged: they come again */
    for (int i = 0; i < l->Count; i++) {
        natsMsg *m = l->Msgs[i];
        json_error_t je;
        json_t *env;
        slot[i] = -1;
        if (strcmp(natsMsg_GetSubject(m), f->traj_subj) == 0)
            continue; /* our own: already here */
        atomic_fetch_add(&c_received, 1);
        env = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
                         JSON_REJECT_DUPLICATES, &je);
        if (env == NULL) {
            fprintf(stderr, "swarmdeck: fleet: refused a record from %s: not JSON (%s)\n",
                    natsMsg_GetSubject(m), je.text);
            atomic_fetch_add(&c_refused, 1);
            slot[i] = -2;
            continue;
        }
        slot[i] = (int)json_array_size(envs);
        json_array_append_new(envs, env);
        parsed.Msgs[parsed.Count++] = m;
    }
    /* Read under the lock, called here after the commit (merge.h). */
    pthread_mutex_lock(&f->lock);
    added = f->added;
    added_arg = f->added_arg;
    pthread_mutex_unlock(&f->lock);
    if (fleet_merge(f->s, envs, &r, status, refused_log, &parsed, added, added_arg, &err) != 0) {
        fprintf(stderr, "swarmdeck: fleet: cannot store what arrived (it will come again): %s\n",
                err.msg);
        atomic_fetch_add(&c_refused, (uint_fast64_t)r.refused);
        for (int i = 0; i < l->Count; i++)
            if (slot[i] >= 0 && status[slot[i]] != -1)
                natsMsg_Nak(l->Msgs[i], NULL);
            else
                natsMsg_Term(l->Msgs[i], NULL);
        goto out;
    }
    atomic_fetch_add(&c_added, (uint_fast64_t)r.added);
    atomic_fetch_add(&c_skipped, (uint_fast64_t)r.skipped);
    atomic_fetch_add(&c_refused, (uint_fast64_t)r.refused);
    /* Committed (import_records flushed) or refused: the stream may drop
     * them for us. A refused record is terminated, never redelivered. */
    for (int i = 0; i < l->Count; i++)
        if (slot[i] == -2 || (slot[i] >= 0 && status[slot[i]] == -1))
            natsMsg_Term(l->Msgs[i], NULL);
        else
            natsMsg_Ack(l->Msgs[i], NULL);
out:
    json_decref(envs);
    free(status);
    free(slot);
    free(parsed.Msgs);
}

static void *con_main(void *arg)
{
    struct fleet *f = arg;
    char last[200] = "";
    int busy = 0; /* fetches left in busy mode since the last message */

    for (;;) {
        natsMsgList l = {0};
        jsErrCode je = 0;
        natsStatus s;
        int stop;
        pthread_mutex_lock(&f->lock);
        while (!f->stop && !f->ready)
            pthread_cond_wait(&f->cond, &f->lock);
        stop = f->stop;
        pthread_mutex_unlock(&f->lock);
        if (stop)
            break;
        if (f->sub == NULL) {
            jsSubOptions so;
            jsSubOptions_Init(&so);
            so.Stream = FLEET_STREAM;
            so.Config.Durable = f->durable;
            so.Config.AckPolicy = js_AckExplicit;
            so.Config.DeliverPolicy = js_DeliverAll;
            so.Config.MaxAckPending = 20000;
            so.Config.AckWait = (int64_t)ACK_WAIT_S * 1000000000LL;
            s = js_PullSubscribe(&f->sub, f->js, "swarmdeck.traj.>", f->durable, NULL, &so, &je);
            if (s != NATS_OK) {
                char why[200];
                snprintf(why, sizeof why, "%s (%d)", natsStatus_GetText(s), (int)je);
                if (strcmp(why, last) != 0)
                    fprintf(stderr, "swarmdeck: fleet: cannot consume yet: %s\n", why);
                snprintf(last, sizeof last, "%s", why);
                f->sub = NULL;
                if (nap(f, TICK_MS))
                    break;
                continue;
            }
            last[0] = '\0';
        }
        /* Idle, wait for one message (it is merged at once); busy, take
         * what arrives within 100 ms, up to a batch: a fetch returns when
         * its batch is full or its time is up, so a whole batch asked for
         * while idle would make the first arrival wait. */
        if (busy > 0)
            s = natsSubscription_Fetch(&l, f->sub, FETCH_BATCH, FETCH_BUSY_MS, &je);
        else
            s = natsSubscription_Fetch(&l, f->sub, 1, FETCH_WAIT, &je);
        if (s == NATS_OK) {
            consume(f, &l);
            natsMsgList_Destroy(&l);
            busy = 3;
            continue;
        }
        natsMsgList_Destroy(&l);
        if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) { /* nothing there */
            if (busy > 0)
                busy--;
            continue;
        }
        {
            /* Anything else (the connection went, the consumer was
             * deleted, the subscription is in a state it does not leave):
             * say so once and subscribe afresh. The durable consumer keeps
             * the position; what was delivered and not acknowledged comes
             * again after its ack wait. */
            char why[200];
            snprintf(why, sizeof why, "%s (%d)", natsStatus_GetText(s), (int)je);
            if (strcmp(why, last) != 0)
                fprintf(stderr, "swarmdeck: fleet: fetching: %s; subscribing again\n", why);
            snprintf(last, sizeof last, "%s", why);
            natsSubscription_Destroy(f->sub);
            f->sub = NULL;
        }
        if (nap(f, TICK_MS))
            break;
    }
    if (f->sub != NULL) {
        natsSubscription_Unsubscribe(f->sub); /* not Drain: the durable stays */
        natsSubscription_Destroy(f->sub);
        f->sub = NULL;
    }
    return NULL;
}

/* Subject token of name: its dots (subject separators) become '_'. */
static void token(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s", name);
    for (char *p = out; *p; p++)
        if (*p == '.')
            *p = '_';
}

/* The first non-empty line after marker in text, trimmed, into out ("" when
 * none). */
static void line_after(const char *text, const char *marker, char *out, size_t n)
{
    const char *p = strstr(text, marker);
    size_t k = 0;

    out[0] = '\0';
    if (p == NULL)
        return;
    p += strlen(marker);
    while (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
        p++;
    while (p[k] != '\0' && p[k] != '\n' && p[k] != '\r' && p[k] != ' ' && k + 1 < n)
        k++;
    memcpy(out, p, k);
    out[k] = '\0';
}

/* Check, before the client library sees it, that path is a readable NATS
 * credentials file (a user JWT and an NKey seed that signs, as `nsc` writes
 * them). The library only reads it while connecting, and a connect that
 * cannot load it retries for ever inside fleet_start, so a typo in
 * --fleet-creds hung the daemon's start. Returns 0, or -1 with err
 * (SD_EUSAGE) naming the file, never its contents (the seed is a secret:
 * the buffers are wiped). */
static int creds_ok(const char *path, struct sd_err *err)
{
    char buf[16384], jwt[8192], seed[256];
    unsigned char *sig = NULL;
    int siglen = 0, ok;
    size_t n;
    FILE *fp = fopen(path, "re");

    if (fp == NULL)
        return sd_err_set(err, SD_EUSAGE, "--fleet: the credentials file %s: %s", path,
                          strerror(errno));
    if (nats_Open(-1) != NATS_OK) { /* nats_Sign needs the library open */
        fclose(fp);
        return sd_err_set(err, SD_EENV, "--fleet: cannot start the NATS client library");
    }
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    line_after(buf, "-----BEGIN NATS USER JWT-----", jwt, sizeof jwt);
    line_after(buf, "-----BEGIN USER NKEY SEED-----", seed, sizeof seed);
    ok = jwt[0] != '\0' && jwt[0] != '-' && seed[0] != '\0' && seed[0] != '-' &&
         nats_Sign(seed, "swarmdeck", &sig, &siglen) == NATS_OK;
    free(sig);
    explicit_bzero(buf, sizeof buf);
    explicit_bzero(seed, sizeof seed);
    if (!ok)
        return sd_err_set(err, SD_EUSAGE,
                          "--fleet: the credentials file %s holds no NATS user JWT and valid "
                          "NKey seed",
                          path);
    return 0;
}

static int opt_fail(struct fleet *f, natsStatus s, const char *what, struct sd_err *err)
{
    (void)f;
    return sd_err_set(err, SD_EUSAGE, "--fleet: %s: %s", what, natsStatus_GetText(s));
}

/* Free f and what it holds (its threads are not running). */
static void release(struct fleet *f)
{
    jsCtx_Destroy(f->js);
    natsConnection_Destroy(f->nc);
    natsOptions_Destroy(f->opts);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->ack_lock);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

int fleet_start(struct store *s, const struct fleet_opts *o, struct fleet **out, struct sd_err *err)
{
    struct fleet *f;
    char tok[FLEET_NAME_MAX];
    natsStatus ns;
    pthread_condattr_t ca;
    jsOptions jo;

    *out = NULL;
    if (o->url == NULL || (strncmp(o->url, "nats://", 7) != 0 && strncmp(o->url, "tls://", 6) != 0))
        return sd_err_set(err, SD_EUSAGE, "--fleet: expected nats://HOST:PORT or tls://HOST:PORT");
    if (!fleet_name_ok(o->name))
        return sd_err_set(err, SD_EUSAGE, "--fleet-name: not a host name");
    if ((o->tls_cert == NULL) != (o->tls_key == NULL))
        return sd_err_set(err, SD_EUSAGE, "--fleet-tls-cert and --fleet-tls-key go together");
    if (o->creds != NULL && creds_ok(o->creds, err) != 0)
        return -1;
    if ((f = calloc(1, sizeof *f)) == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    f->s = s;
    snprintf(f->name, sizeof f->name, "%s", o->name);
    snprintf(f->url, sizeof f->url, "%s", o->url);
    token(o->name, tok, sizeof tok);
    snprintf(f->traj_subj, sizeof f->traj_subj, "swarmdeck.traj.%s", tok);
    snprintf(f->live_subj, sizeof f->live_subj, "swarmdeck.live.%s", tok);
    snprintf(f->durable, sizeof f->durable, "sd_%.40s", store_id(s));
    pthread_mutex_init(&f->lock, NULL);
    pthread_mutex_init(&f->ack_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &ca);
    pthread_condattr_destroy(&ca);
    if ((ns = natsOptions_Create(&f->opts)) != NATS_OK) {
        sd_err_set(err, SD_EENV, "--fleet: %s", natsStatus_GetText(ns));
        goto fail;
    }
    if ((ns = natsOptions_SetURL(f->opts, o->url)) != NATS_OK) {
        opt_fail(f, ns, "the URL", err);
        goto fail;
    }
    natsOptions_SetName(f->opts, f->name);
    natsOptions_SetMaxReconnect(f->opts, -1);
    natsOptions_SetReconnectWait(f->opts, TICK_MS);
    natsOptions_SetTimeout(f->opts, 2000);
    /* With a handler, a server not there yet makes Connect return
     * NATS_NOT_YET_CONNECTED and keep trying in the background; without
     * one it blocked until a server answered, so `serve --fleet` hung at
     * start while NATS was down. */
    natsOptions_SetRetryOnFailedConnect(f->opts, true, connected_later, NULL);
    if (o->creds != NULL &&
        (ns = natsOptions_SetUserCredentialsFromFiles(f->opts, o->creds, NULL)) != NATS_OK) {
        opt_fail(f, ns, "the credentials file", err);
        goto fail;
    }
    if (o->tls_ca != NULL || o->tls_cert != NULL || strncmp(o->url, "tls://", 6) == 0) {
        if ((ns = natsOptions_SetSecure(f->opts, true)) != NATS_OK) {
            opt_fail(f, ns, "TLS", err);
            goto fail;
        }
    }
    if (o->tls_ca != NULL &&
        (ns = natsOptions_LoadCATrustedCertificates(f->opts, o->tls_ca)) != NATS_OK) {
        opt_fail(f, ns, "the TLS CA file", err);
        goto fail;
    }
    if (o->tls_cert != NULL &&
        (ns = natsOptions_LoadCertificatesChain(f->opts, o->tls_cert, o->tls_key)) != NATS_OK) {
        opt_fail(f, ns, "the TLS certificate or key", err);
        goto fail;
    }
    ns = natsConnection_Connect(&f->nc, f->opts);
    if (ns != NATS_OK && ns != NATS_NOT_YET_CONNECTED) {
        sd_err_set(err, SD_EENV, "--fleet: cannot connect: %s", natsStatus_GetText(ns));
        goto fail;
    }
    jsOptions_Init(&jo);
    jo.PublishAsync.AckHandler = pub_ack;
    jo.PublishAsync.AckHandlerClosure = f;
    jo.PublishAsync.MaxPending = BATCH * 2;
    if ((ns = natsConnection_JetStream(&f->js, f->nc, &jo)) != NATS_OK) {
        sd_err_set(err, SD_EENV, "--fleet: JetStream: %s", natsStatus_GetText(ns));
        goto fail;
    }
    if (pthread_create(&f->pub, NULL, pub_main, f) != 0) {
        sd_err_set(err, SD_EENV, "--fleet: cannot start its thread");
        goto fail;
    }
    if (pthread_create(&f->con, NULL, con_main, f) != 0) {
        pthread_mutex_lock(&f->lock);
        f->stop = 1;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->pub, NULL);
        sd_err_set(err, SD_EENV, "--fleet: cannot start its thread");
        goto fail;
    }
    f->started = 1;
    atomic_store(&c_running, 1);
    *out = f;
    return 0;
fail:
    release(f);
    return -1;
}

void fleet_stop(struct fleet *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->pub, NULL);
    pthread_join(f->con, NULL);
    natsConnection_Close(f->nc);
    release(f);
    atomic_store(&c_running, 0);
    atomic_store(&c_connected, 0);
}

void fleet_on_added(struct fleet *f, fleet_added_fn fn, void *arg)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->added = fn;
    f->added_arg = arg;
    pthread_mutex_unlock(&f->lock);
}

void fleet_notify(struct fleet *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->kick = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

void fleet_live(struct fleet *f, const char *json)
{
    if (f == NULL || json == NULL || !connected(f))
        return;
    natsConnection_PublishString(f->nc, f->live_subj, json);
}
