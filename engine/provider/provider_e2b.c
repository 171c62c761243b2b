/*
 * provider_e2b.c: the E2B sandbox provider (e2b.h, provider.h): creating,
 * uploading to and destroying sandboxes, the ops table, provider instances,
 * and the leak sweep.
 *
 * DESIGN
 * One E2B sandbox per deployment, driven over HTTP with libcurl easy
 * handles (docs/e2b.md has the exact requests):
 *   create   POST {api}/v2/sandboxes (POST /sandboxes on 404), always with
 *            an explicit TTL covering the deployment's timeout and metadata
 *            tagging the sandbox with this installation's owner id, our
 *            sandbox id, trajectory, run, and the owning process (pid and
 *            start time) so a sweep can tell ours and live ones apart;
 *   upload   POST {envd}/files?path=swarmdeck/NAME (multipart, part "file");
 *   start    POST {envd}/process.Process/Start, and signal (e2b_process.c);
 *   destroy  DELETE {api}/sandboxes/{id} (204, or 404 when already gone).
 * Control-plane calls honour 429 Retry-After a bounded number of times
 * (e2b_http.c).
 *
 * The sweep lists every running or paused sandbox tagged with our owner id,
 * on every instance, following X-Next-Token, checks the owner again rather
 * than trust the server's filter, and destroys each one the caller's keep()
 * does not claim.
 *
 * e2b_int.h has the structs and the files; this file calls e2b_http.c and
 * e2b_process.c, and neither calls it.
 *
 * THREADS
 * A struct sbx is driven by one worker; signal() may be called from any
 * thread (e2b_process.c). The API key is copied into each provider instance
 * and only ever placed in request headers.
 */
#define _GNU_SOURCE
#include "e2b_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* --- create, upload -------------------------------------------------------- */

static int id_ok(const char *s)
{
    return s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(s);
}

static int e2b_create(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                      struct sd_err *err)
{
    struct e2b *e = p->impl;
    struct e2b_instance *in = &e->cfg.inst[0];
    char traj[32], run[32], pid[32], pstart[32];
    json_t *body, *resp = NULL;
    char *bs = NULL;
    struct hres r;
    struct sbx *b;
    json_error_t je;
    const char *sid, *tok, *dom;
    int64_t ttl_s;

    if (spec->id == NULL || spec->id[0] == '\0' || strlen(spec->id) > 64 ||
        strspn(spec->id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            strlen(spec->id))
        return sd_err_set(err, SD_EUSAGE, "invalid sandbox id \"%s\"", spec->id ? spec->id : "");
    /* The TTL covers the whole deployment (upload, run, collect) with a
     * margin; no timeout gets an hour (the Hobby plan's maximum). */
    ttl_s = spec->timeout_ms > 0 ? (spec->timeout_ms + 999) / 1000 + 120 : 3600;
    snprintf(traj, sizeof traj, "%lld", (long long)spec->traj_id);
    snprintf(run, sizeof run, "%lld", (long long)spec->run_id);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(pstart, sizeof pstart, "%llu", (unsigned long long)proc_start_time((int)getpid()));
    body = json_pack("{s:s, s:I, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "templateID",
                     e->cfg.template_id, "timeout", (json_int_t)ttl_s, "metadata", "owner",
                     e->owner, "app", "swarmdeck", "sandbox", spec->id, "traj", traj, "run", run,
                     "pid", pid, "pidStart", pstart);
    if (body == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    bs = json_dumps(body, JSON_COMPACT);
    if (e2b_api_call(e, "POST", "/v2/sandboxes", bs, &r) == 0 && r.status == 404) {
        /* An older API without v2: v1 needs `secure` for an access token. */
        free(bs);
        json_object_set_new(body, "secure", json_true());
        bs = json_dumps(body, JSON_COMPACT);
        e2b_hres_free(&r);
        e2b_api_call(e, "POST", "/sandboxes", bs, &r);
    }
    free(bs);
    json_decref(body);
    if (r.cc != CURLE_OK || (r.status != 201 && r.status != 200)) {
        e2b_status_fail(e, "create sandbox", &r, err);
        e2b_hres_free(&r);
        return -1;
    }
    resp = r.body.p ? json_loads(r.body.p, 0, &je) : NULL;
    e2b_hres_free(&r);
    sid = json_string_value(json_object_get(resp, "sandboxID"));
    tok = json_string_value(json_object_get(resp, "envdAccessToken"));
    dom = json_string_value(json_object_get(resp, "domain"));
    if (sid == NULL || !id_ok(sid) || strlen(sid) >= sizeof b->sbx_id) {
        json_decref(resp);
        return e2b_fail(e, err, SD_EENV, "%s: create sandbox: the response has no valid sandboxID",
                        in->name);
    }
    b = calloc(1, sizeof *b);
    if (b == NULL) {
        json_decref(resp);
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    b->p = p;
    b->spec = *spec;
    snprintf(b->id, sizeof b->id, "%s", spec->id);
    b->spec.id = b->id;
    snprintf(b->sbx_id, sizeof b->sbx_id, "%s", sid);
    snprintf(b->token, sizeof b->token, "%s", tok ? tok : "");
    if (in->sandbox_url[0])
        snprintf(b->envd, sizeof b->envd, "%s", in->sandbox_url);
    else
        snprintf(b->envd, sizeof b->envd, "https://" ENVD_PORT "-%s.%s", sid,
                 dom && dom[0] ? dom : in->domain);
    pthread_mutex_init(&b->mu, NULL);
    json_decref(resp);
    *out = b;
    return 0;
}

static int e2b_upload(struct sbx *b, const char *local_path, const char *name, int executable,
                      struct sd_err *err)
{
    struct e2b *e = b->p->impl;
    char path[300];
    struct hres r;
    char *q;

    if (strchr(name, '/') != NULL || strcmp(name, "..") == 0 || strcmp(name, ".") == 0 ||
        strlen(name) >= sizeof b->execs[0])
        return sd_err_set(err, SD_EUSAGE, "invalid upload name \"%s\"", name);
    if (access(local_path, R_OK) != 0)
        return sd_err_set(err, SD_EUSAGE, "cannot read %s: %s", local_path, strerror(errno));
    q = curl_easy_escape(NULL, name, 0);
    snprintf(path, sizeof path, "/files?path=swarmdeck%%2F%s", q ? q : name);
    curl_free(q);
    e2b_envd_call(b, "POST", path, NULL, NULL, local_path, name, e->cfg.request_timeout_ms * 4, &r);
    if (r.cc != CURLE_OK || r.status != 200) {
        char what[200];
        if (r.status == 507) {
            e2b_hres_free(&r);
            return e2b_fail(e, err, SD_EENV,
                            "%s: upload %s: not enough disk space in the sandbox (507)",
                            e->cfg.inst[0].name, name);
        }
        snprintf(what, sizeof what, "upload %s", name);
        e2b_status_fail(e, what, &r, err);
        e2b_hres_free(&r);
        return -1;
    }
    e2b_hres_free(&r);
    if (executable && b->nexec < MAX_EXECS)
        snprintf(b->execs[b->nexec++], sizeof b->execs[0], "%s", name);
    return 0;
}

static int kill_sandbox(struct e2b *e, const char *sbx_id)
{
    char path[128];
    struct hres r;
    int ok;

    snprintf(path, sizeof path, "/sandboxes/%s", sbx_id);
    ok = e2b_api_call(e, "DELETE", path, NULL, &r) == 0 &&
         (r.status == 204 || r.status == 200 || r.status == 404);
    e2b_hres_free(&r);
    return ok ? 0 : -1;
}

static int e2b_destroy(struct sbx *b)
{
    int rc;
    if (b == NULL)
        return 0;
    /* If this fails the sandbox's TTL ends it, and the next sweep finds it. */
    rc = kill_sandbox(b->p->impl, b->sbx_id);
    pthread_mutex_destroy(&b->mu);
    crypto_wipe(b->token, sizeof b->token); /* envd access token */
    free(b);
    return rc;
}

static int e2b_lease_info(struct sbx *b, int *pid, uint64_t *pid_start, char *workdir, size_t n)
{
    struct e2b *e = b->p->impl;
    *pid = 0;
    *pid_start = 0;
    /* Not a path: recovery only removes work dirs under the runtime dir. */
    snprintf(workdir, n, "e2b:%s:%s", e->cfg.inst[0].name, b->sbx_id);
    return 0;
}

static void e2b_free(struct provider *p)
{
    if (p == NULL)
        return;
    if (p->impl != NULL) {
        struct e2b *e = p->impl;
        crypto_wipe(e->cfg.api_key, sizeof e->cfg.api_key);
        free(e);
    }
    free(p);
}

static const struct provider_ops e2b_ops = {
    .name = "e2b",
    .create = e2b_create,
    .upload = e2b_upload,
    .start = e2b_start,
    .signal = e2b_signal,
    .destroy = e2b_destroy,
    .lease_info = e2b_lease_info,
    .free = e2b_free,
};

static struct e2b *impl_new(const struct e2b_config *c, size_t idx, const char *owner,
                            struct sd_err *err)
{
    struct e2b *e;

    if (idx >= c->n) {
        sd_err_set(err, SD_EUSAGE, "no E2B instance #%zu", idx);
        return NULL;
    }
    if (c->api_key[0] == '\0') {
        sd_err_set(err, SD_EUSAGE, "%s", e2b_no_key_help());
        return NULL;
    }
    pthread_once(&curl_once, curl_init_once);
    e = calloc(1, sizeof *e);
    if (e == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    e->cfg = *c;
    e->cfg.inst[0] = c->inst[idx];
    e->cfg.n = 1;
    snprintf(e->owner, sizeof e->owner, "%s", owner);
    return e;
}

struct provider *provider_e2b_new(const struct e2b_config *c, size_t idx, const char *owner,
                                  struct sd_err *err)
{
    struct e2b *e = impl_new(c, idx, owner, err);
    struct provider *p;

    if (e == NULL)
        return NULL;
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        free(e);
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    p->ops = &e2b_ops;
    p->impl = e;
    snprintf(p->name, sizeof p->name, "%s", c->inst[idx].name);
    return p;
}

/* --- the sweep --------------------------------------------------------------- */

static int sweep_one(struct e2b *e,
                     int (*keep)(void *arg, const char *sandbox_id, int pid, uint64_t pid_start),
                     void *arg, int *found, int *destroyed, struct sd_err *err)
{
    char path[1024], *tok = NULL;
    json_t *all = json_array();
    size_t i;
    json_t *v;
    int rc = 0;

    for (int page = 0; page < 1000; page++) {
        struct hres r;
        json_error_t je;
        json_t *arr;
        char *q = tok ? curl_easy_escape(NULL, tok, 0) : NULL;

        /* metadata is k=v url-encoded, then encoded again as one value. */
        snprintf(path, sizeof path,
                 "/v2/sandboxes?metadata=owner%%3D%s&state=running%%2Cpaused&limit=100%s%s",
                 e->owner, q ? "&nextToken=" : "", q ? q : "");
        curl_free(q);
        free(tok);
        tok = NULL;
        if (e2b_api_call(e, "GET", path, NULL, &r) != 0 || r.status != 200) {
            rc = e2b_status_fail(e, "list sandboxes", &r, err);
            e2b_hres_free(&r);
            break;
        }
        arr = r.body.p ? json_loads(r.body.p, 0, &je) : NULL;
        if (!json_is_array(arr)) {
            json_decref(arr);
            e2b_hres_free(&r);
            rc = e2b_fail(e, err, SD_EENV, "%s: list sandboxes: the response is not an array",
                          e->cfg.inst[0].name);
            break;
        }
        json_array_extend(all, arr);
        json_decref(arr);
        if (r.next_token[0])
            tok = strdup(r.next_token);
        e2b_hres_free(&r);
        if (tok == NULL)
            break;
    }
    free(tok);
    json_array_foreach(all, i, v)
    {
        const char *sid = json_string_value(json_object_get(v, "sandboxID"));
        json_t *meta = json_object_get(v, "metadata");
        const char *ours = json_string_value(json_object_get(meta, "sandbox"));
        const char *pid = json_string_value(json_object_get(meta, "pid"));
        const char *ps = json_string_value(json_object_get(meta, "pidStart"));
        const char *owner = json_string_value(json_object_get(meta, "owner"));

        /* The server filtered by owner; check again rather than trust it. */
        if (sid == NULL || !id_ok(sid) || owner == NULL || strcmp(owner, e->owner) != 0)
            continue;
        (*found)++;
        if (keep != NULL &&
            keep(arg, ours ? ours : "", pid ? atoi(pid) : 0, ps ? strtoull(ps, NULL, 10) : 0))
            continue;
        if (kill_sandbox(e, sid) == 0)
            (*destroyed)++;
    }
    json_decref(all);
    return rc;
}

int e2b_sweep(const struct e2b_config *c, const char *owner,
              int (*keep)(void *arg, const char *sandbox_id, int pid, uint64_t pid_start),
              void *arg, int *found, int *destroyed, struct sd_err *err)
{
    int rc = 0;

    *found = *destroyed = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct sd_err e1 = {0};
        struct e2b *e = impl_new(c, i, owner, &e1);
        if (e == NULL || sweep_one(e, keep, arg, found, destroyed, &e1) != 0) {
            if (rc == 0 && err != NULL)
                *err = e1;
            rc = -1;
        }
        if (e != NULL) {
            crypto_wipe(e->cfg.api_key, sizeof e->cfg.api_key);
            free(e);
        }
    }
    return rc;
}
