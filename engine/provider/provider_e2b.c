/*
 * provider_e2b.c: the E2B sandbox provider (e2b.h, provider.h): creating,
 * uploading to and destroying sandboxes, the ops table, provider instances,
 * and the leak sweep.
 *
 * DESIGN
 * One E2B sandbox per deployment, driven over HTTP with libcurl easy
 * handles (docs/e2b.md has the exact requests):
 *   create   POST {api}/v2/sandboxes (POST /sandboxes on 404), always with
 *            an explicit TTL covering the deployment's timeout (clamped to
 *            the plan's maximum; e2b_process.c refreshes it), no internet
 *            unless asked, and metadata tagging the sandbox with this
 *            installation's owner id, our sandbox id, trajectory, run, and
 *            the owning process (pid and start time) so a sweep can tell ours
 *            and live ones apart. The request runs on its own thread so the
 *            caller waits only createTimeoutMs and a late answer's sandbox is
 *            destroyed; the concurrency limit (429 without Retry-After) is
 *            waited out with a bounded backoff, reported through spec->note,
 *            and ends as SD_EFAIL, which no breaker counts. The answer's
 *            envdVersion is checked as the SDK does, and --memory, --cpus and
 *            --strict are mapped onto the template's resources;
 *   upload   POST {envd}/files?path=swarmdeck/NAME (multipart, part "file"),
 *            after checking an executable's machine, unless the runner
 *            template's manifest names the same executable (version and
 *            SHA3-512 digest);
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
#include <strings.h>
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

/* "major.minor.patch" as one comparable number, or -1 when malformed. */
static long long semver(const char *v)
{
    long long part[3] = {0, 0, 0};
    int i = 0;

    if (v == NULL || *v < '0' || *v > '9')
        return -1;
    for (; i < 3 && *v; i++) {
        char *end;
        long long x = strtoll(v, &end, 10);
        if (end == v || x < 0 || x > 99999)
            return -1;
        part[i] = x;
        v = end;
        if (*v == '.')
            v++;
        else
            break;
    }
    return part[0] * 10000000000ll + part[1] * 100000 + part[2];
}

int e2b_kill_sandbox(struct e2b *e, const char *sbx_id)
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

/* A create request in flight on its own thread, so the caller can stop
 * waiting at create_timeout_ms (the SDK's 60 s) while the request goes on
 * to the server's own limit: if an answer arrives after the caller gave up,
 * the thread destroys the sandbox it names. Shared by the caller and the
 * thread (refs), under mu. The copy of the provider holds the key and is
 * wiped when the last reference goes. */
struct create_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs, done, abandoned, rc;
    struct e2b e;
    char path[32];
    char *body;
    int64_t timeout_ms;
    struct hres r;
};

static void job_unref(struct create_job *j)
{
    int last;

    pthread_mutex_lock(&j->mu);
    last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (!last)
        return;
    e2b_config_wipe(&j->e.cfg);
    free(j->body);
    e2b_hres_free(&j->r);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

/* Create threads still running, process-wide: e2b_free waits for them, so
 * a late answer's sandbox is destroyed before the process exits (each is
 * bounded by its request timeout). */
static pthread_mutex_t inflight_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_cv = PTHREAD_COND_INITIALIZER;
static int inflight;

static void *create_thread(void *arg)
{
    struct create_job *j = arg;
    struct hres r;
    int rc = e2b_api_call_t(&j->e, "POST", j->path, j->body, j->timeout_ms, &r), late;

    pthread_mutex_lock(&j->mu);
    late = j->abandoned;
    if (!late) {
        j->r = r;
        j->rc = rc;
    }
    j->done = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (late) {
        /* Nobody waits for this sandbox any more: destroy it now rather
         * than leave it to its TTL or the next sweep. */
        json_error_t je;
        json_t *resp = rc == 0 && (r.status == 201 || r.status == 200) && r.body.p
                           ? json_loads(r.body.p, 0, &je)
                           : NULL;
        const char *sid = json_string_value(json_object_get(resp, "sandboxID"));
        if (sid != NULL && id_ok(sid))
            e2b_kill_sandbox(&j->e, sid);
        json_decref(resp);
        e2b_hres_free(&r);
    }
    job_unref(j);
    pthread_mutex_lock(&inflight_mu);
    inflight--;
    pthread_cond_broadcast(&inflight_cv);
    pthread_mutex_unlock(&inflight_mu);
    return NULL;
}

/* POST path with body, waiting at most cfg.create_timeout_ms for the answer
 * (a late one's sandbox is destroyed). Returns as e2b_api_call; on giving up
 * r->cc is CURLE_OPERATION_TIMEDOUT. */
static int create_call(struct e2b *e, const char *path, const char *body, struct hres *r)
{
    struct create_job *j = calloc(1, sizeof *j);
    struct timespec dl = sd_timespec_after(0, e->cfg.create_timeout_ms);
    pthread_attr_t at;
    pthread_t t;
    int rc;

    memset(r, 0, sizeof *r);
    r->retry_after_ms = -1;
    if (j == NULL || (j->body = strdup(body)) == NULL) {
        free(j);
        snprintf(r->cerr, sizeof r->cerr, "out of memory");
        r->cc = CURLE_OUT_OF_MEMORY;
        return -1;
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->refs = 2;
    /* Only the fixed part (configuration, key, owner): the caches are
     * another thread's under e->mu. */
    j->e.cfg = e->cfg;
    memcpy(j->e.owner, e->owner, sizeof j->e.owner);
    pthread_mutex_init(&j->e.mu, NULL);
    snprintf(j->path, sizeof j->path, "%s", path);
    /* The server gives a create 70 s; let the request run past our wait. */
    j->timeout_ms = e->cfg.create_timeout_ms + 30000;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&inflight_mu);
    inflight++;
    pthread_mutex_unlock(&inflight_mu);
    if (pthread_create(&t, &at, create_thread, j) != 0) {
        pthread_mutex_lock(&inflight_mu);
        inflight--;
        pthread_mutex_unlock(&inflight_mu);
        pthread_attr_destroy(&at);
        j->refs = 1;
        pthread_mutex_destroy(&j->e.mu);
        job_unref(j);
        snprintf(r->cerr, sizeof r->cerr, "cannot start a thread");
        r->cc = CURLE_FAILED_INIT;
        return -1;
    }
    pthread_attr_destroy(&at);
    pthread_mutex_lock(&j->mu);
    while (!j->done && pthread_cond_timedwait(&j->cv, &j->mu, &dl) != ETIMEDOUT)
        ;
    if (j->done) {
        *r = j->r;
        memset(&j->r, 0, sizeof j->r);
        rc = j->rc;
    } else {
        j->abandoned = 1;
        r->cc = CURLE_OPERATION_TIMEDOUT;
        snprintf(r->cerr, sizeof r->cerr,
                 "no answer within %lld ms (a sandbox it makes later is destroyed)",
                 (long long)e->cfg.create_timeout_ms);
        rc = -1;
    }
    pthread_mutex_unlock(&j->mu);
    pthread_mutex_destroy(&j->e.mu);
    job_unref(j);
    return rc;
}

static void note(const struct sbx_spec *spec, const char *status)
{
    if (spec->note != NULL)
        spec->note(spec->note_arg, status);
}

/* Create on v2 (v1 on 404), waiting out E2B's concurrency limit: a 429
 * without Retry-After is a quota, not an outage, so the create waits with
 * a bounded backoff (1 s doubling to 30 s, at most capacity_wait_ms), tells
 * the deployment it is "waiting for E2B capacity", and in the end fails as
 * SD_EFAIL, which no breaker counts. Returns 0 with r holding the answer
 * (any status) or -1 with err set. */
static int create_wait(struct e2b *e, const struct sbx_spec *spec, json_t *body, struct hres *r,
                       struct sd_err *err)
{
    uint64_t t0 = sd_mono_ns();
    int64_t wait = 1000;
    int waiting = 0, v1 = 0;

    for (;;) {
        char *bs = json_dumps(body, JSON_COMPACT);
        if (bs == NULL)
            return sd_err_set(err, SD_ENOMEM, "out of memory");
        create_call(e, v1 ? "/sandboxes" : "/v2/sandboxes", bs, r);
        free(bs);
        if (r->cc == CURLE_OK && r->status == 404 && !v1) {
            /* An older API without v2: v1 needs `secure` for an access token. */
            json_object_set_new(body, "secure", json_true());
            e2b_hres_free(r);
            v1 = 1;
            continue;
        }
        if (r->cc != CURLE_OK || r->status != 429 || r->retry_after_ms >= 0)
            break;
        char m[300], st[400];
        int64_t spent = (int64_t)((sd_mono_ns() - t0) / 1000000);
        snprintf(m, sizeof m, "%s", "the concurrency limit");
        {
            json_t *j = r->body.p ? json_loads(r->body.p, 0, NULL) : NULL;
            const char *t = json_string_value(json_object_get(j, "message"));
            if (t != NULL)
                snprintf(m, sizeof m, "%s", t);
            for (char *p = m; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                    *p = ' ';
            json_decref(j);
        }
        e2b_hres_free(r);
        if (spent + wait > e->cfg.capacity_wait_ms) {
            if (waiting)
                note(spec, NULL);
            return e2b_fail(e, err, SD_EFAIL,
                            "%s: no E2B capacity: still at the concurrency limit after %lld s "
                            "(429: %s); lower --max-agents or raise the plan's limit",
                            e->cfg.inst[0].name, (long long)(spent / 1000), m);
        }
        snprintf(st, sizeof st, "waiting for E2B capacity on %s (429: %.200s); next try in %lld s",
                 e->cfg.inst[0].name, m, (long long)(wait / 1000));
        e2b_redact(&e->cfg, st, sizeof st);
        note(spec, st);
        waiting = 1;
        if (e2b_sleep_unless(wait, spec->cancel)) {
            note(spec, NULL);
            return sd_err_set(err, SD_EFAIL, "cancelled while waiting for E2B capacity");
        }
        wait = wait * 2 > 30000 ? 30000 : wait * 2;
    }
    if (waiting)
        note(spec, NULL);
    return 0;
}

/* The template's resources (cached per instance after the first sandbox):
 * GET /sandboxes/{id} gives cpuCount and memoryMB. Returns 0, or -1 when
 * they could not be read (the caller decides). */
static int template_resources(struct e2b *e, const char *sbx_id, int *cpus, int64_t *mem_mb)
{
    char path[128];
    struct hres r;
    json_t *j;
    int rc = -1;

    pthread_mutex_lock(&e->mu);
    *cpus = e->tmpl_cpus;
    *mem_mb = e->tmpl_mem_mb;
    pthread_mutex_unlock(&e->mu);
    if (*cpus > 0 && *mem_mb > 0)
        return 0;
    snprintf(path, sizeof path, "/sandboxes/%s", sbx_id);
    if (e2b_api_call(e, "GET", path, NULL, &r) == 0 && r.status == 200 && r.body.p) {
        j = json_loads(r.body.p, 0, NULL);
        *cpus = (int)json_integer_value(json_object_get(j, "cpuCount"));
        *mem_mb = json_integer_value(json_object_get(j, "memoryMB"));
        json_decref(j);
        if (*cpus > 0 && *mem_mb > 0) {
            pthread_mutex_lock(&e->mu);
            e->tmpl_cpus = *cpus;
            e->tmpl_mem_mb = *mem_mb;
            pthread_mutex_unlock(&e->mu);
            rc = 0;
        }
    }
    e2b_hres_free(&r);
    return rc;
}

/* Map --memory and --cpus onto what E2B offers: the template fixes the
 * microVM's vCPUs and memory. --memory is honoured inside the VM as the
 * program's address-space limit (RLIMIT_AS) when the template has more;
 * --cpus is honoured only when the template has no more vCPUs than asked
 * (E2B cannot pin a sandbox to fewer): otherwise the deployment runs with the
 * template's vCPUs and says so in its isolation report, or with --strict is
 * refused. Returns 0 or -1 with err set (SD_EUSAGE). */
static int map_resources(struct e2b *e, struct sbx *b, struct sd_err *err)
{
    const struct sbx_spec *sp = &b->spec;
    int cpus = 0;
    int64_t mem = 0;
    char cpu_note[96] = "", mem_note[96] = "";

    if (sp->memory_mb <= 0 && sp->cpus <= 0 && !sp->strict)
        return 0;
    if (template_resources(e, b->sbx_id, &cpus, &mem) != 0) {
        if (sp->strict)
            return e2b_fail(e, err, SD_EUSAGE,
                            "%s: --strict: cannot read the template's resources, so --memory "
                            "and --cpus cannot be checked",
                            e->cfg.inst[0].name);
        snprintf(b->limits, sizeof b->limits, "template resources unknown");
        return 0;
    }
    if (sp->memory_mb > 0 && mem > sp->memory_mb) {
        b->as_limit_kb = sp->memory_mb * 1024;
        snprintf(mem_note, sizeof mem_note, "memory %lld MB as RLIMIT_AS (VM has %lld MB)",
                 (long long)sp->memory_mb, (long long)mem);
    } else {
        snprintf(mem_note, sizeof mem_note, "memory %lld MB (the VM's)", (long long)mem);
    }
    if (sp->cpus > 0 && (double)cpus > sp->cpus) {
        if (sp->strict)
            return e2b_fail(e, err, SD_EUSAGE,
                            "%s: --strict: --cpus %g cannot be enforced on E2B: template %s has "
                            "%d vCPUs and a sandbox cannot be given fewer; use --cpus %d (or 0), "
                            "or a template built with --cpu-count",
                            e->cfg.inst[0].name, sp->cpus, e->cfg.template_id, cpus, cpus);
        snprintf(cpu_note, sizeof cpu_note, "cpus %d (the VM's; --cpus %g not enforced)", cpus,
                 sp->cpus);
    } else {
        snprintf(cpu_note, sizeof cpu_note, "cpus %d (the VM's)", cpus);
    }
    snprintf(b->limits, sizeof b->limits, "%s, %s", mem_note, cpu_note);
    return 0;
}

/* A sandbox from a Sandbox answer (create or connect) with TTL ttl_s: its
 * id, envd access token and address. envd older than 0.1.0 is refused as
 * the SDK refuses it (the sandbox is killed), and below 0.4.0 the default
 * user is named on envd requests. Returns it, or NULL with err set (the
 * sandbox killed when it was one). */
static struct sbx *sbx_from(struct provider *p, const struct sbx_spec *spec, json_t *resp,
                            int64_t ttl_s, struct sd_err *err)
{
    struct e2b *e = p->impl;
    struct e2b_instance *in = &e->cfg.inst[0];
    const char *sid = json_string_value(json_object_get(resp, "sandboxID"));
    const char *tok = json_string_value(json_object_get(resp, "envdAccessToken"));
    const char *dom = json_string_value(json_object_get(resp, "domain"));
    const char *ver = json_string_value(json_object_get(resp, "envdVersion"));
    long long v = semver(ver);
    struct sbx *b;

    if (sid == NULL || !id_ok(sid) || strlen(sid) >= sizeof b->sbx_id) {
        e2b_fail(e, err, SD_EENV, "%s: the sandbox answer has no valid sandboxID", in->name);
        return NULL;
    }
    if (v < semver("0.1.0")) {
        char vs[32];
        snprintf(vs, sizeof vs, "%.20s", ver ? ver : "(none)");
        for (char *q = vs; *q; q++)
            if ((unsigned char)*q < 0x20 || *q == 0x7f)
                *q = '?';
        e2b_kill_sandbox(e, sid);
        e2b_fail(e, err, SD_EUSAGE,
                 "%s: template %s runs envd %s, older than 0.1.0, which the E2B SDK refuses too: "
                 "rebuild the template with a current E2B CLI",
                 in->name, e->cfg.template_id, vs);
        return NULL;
    }
    b = calloc(1, sizeof *b);
    if (b == NULL) {
        e2b_kill_sandbox(e, sid);
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    b->p = p;
    b->spec = *spec;
    snprintf(b->id, sizeof b->id, "%s", spec->id);
    b->spec.id = b->id;
    b->spec.cancel = NULL; /* not ours to keep */
    b->spec.note = NULL;
    snprintf(b->sbx_id, sizeof b->sbx_id, "%s", sid);
    snprintf(b->token, sizeof b->token, "%s", tok ? tok : "");
    b->basic_user = v < semver("0.4.0");
    b->ttl_s = ttl_s;
    b->ttl_set_ns = sd_mono_ns();
    b->created_unix = sd_now_ms() / 1000;
    if (in->sandbox_url[0])
        snprintf(b->envd, sizeof b->envd, "%s", in->sandbox_url);
    else
        snprintf(b->envd, sizeof b->envd, "https://" ENVD_PORT "-%s.%s", sid,
                 dom && dom[0] ? dom : in->domain);
    pthread_mutex_init(&b->mu, NULL);
    return b;
}

/* The TTL a deployment's sandbox asks for: its timeout + 120 s, or the
 * plan's maximum without one, clamped to that maximum (E2B refuses more; a
 * longer run is kept alive with POST /sandboxes/{id}/timeout). */
static int64_t ttl_for(const struct e2b *e, const struct sbx_spec *spec)
{
    int64_t max_s = e->cfg.inst[0].max_timeout_s > 0 ? e->cfg.inst[0].max_timeout_s : 3600;
    int64_t ttl_s = spec->timeout_ms > 0 ? (spec->timeout_ms + 999) / 1000 + 120 : max_s;
    return ttl_s > max_s ? max_s : ttl_s;
}

static int e2b_create(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                      struct sd_err *err)
{
    struct e2b *e = p->impl;
    char traj[32], run[32], pid[32], pstart[32];
    json_t *body, *resp = NULL;
    struct hres r;
    struct sbx *b;
    json_error_t je;
    int64_t ttl_s = ttl_for(e, spec);

    if (spec->id == NULL || spec->id[0] == '\0' || strlen(spec->id) > 64 ||
        strspn(spec->id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            strlen(spec->id))
        return sd_err_set(err, SD_EUSAGE, "invalid sandbox id \"%s\"", spec->id ? spec->id : "");
    snprintf(traj, sizeof traj, "%lld", (long long)spec->traj_id);
    snprintf(run, sizeof run, "%lld", (long long)spec->run_id);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(pstart, sizeof pstart, "%llu", (unsigned long long)proc_start_time((int)getpid()));
    /* No internet unless the operator asked for it: a local sandbox has no
     * network, so a strategy behaves the same on both providers. */
    body = json_pack("{s:s, s:I, s:b, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "templateID",
                     e->cfg.template_id, "timeout", (json_int_t)ttl_s, "allow_internet_access",
                     spec->internet ? 1 : 0, "metadata", "owner", e->owner, "app", "swarmdeck",
                     "sandbox", spec->id, "traj", traj, "run", run, "pid", pid, "pidStart", pstart);
    if (body == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    if (create_wait(e, spec, body, &r, err) != 0) {
        json_decref(body);
        return -1;
    }
    json_decref(body);
    if (r.cc != CURLE_OK || (r.status != 201 && r.status != 200)) {
        e2b_status_fail(e, "create sandbox", &r, err);
        e2b_hres_free(&r);
        return -1;
    }
    resp = r.body.p ? json_loads(r.body.p, 0, &je) : NULL;
    e2b_hres_free(&r);
    b = sbx_from(p, spec, resp, ttl_s, err);
    json_decref(resp);
    if (b == NULL)
        return -1;
    if (map_resources(e, b, err) != 0) {
        e2b_kill_sandbox(e, b->sbx_id);
        pthread_mutex_destroy(&b->mu);
        crypto_wipe(b->token, sizeof b->token);
        free(b);
        return -1;
    }
    *out = b;
    return 0;
}

/* The machine an ELF file is built for ("x86_64", "aarch64", ...), "" when
 * it is not ELF (a script: runs anywhere), "?" when unknown. */
static const char *elf_machine(const char *path)
{
    static const struct {
        unsigned short m;
        const char *name;
    } tab[] = {{3, "i386"}, {40, "arm"}, {62, "x86_64"}, {183, "aarch64"}, {243, "riscv64"},
               {8, "mips"}, {20, "ppc"}, {21, "ppc64"},  {22, "s390x"}};
    unsigned char h[20];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(h, 1, sizeof h, f) : 0;
    unsigned short m;

    if (f != NULL)
        fclose(f);
    if (n < sizeof h || memcmp(h, "\177ELF", 4) != 0)
        return "";
    m = h[5] == 2 ? (unsigned short)(h[18] << 8 | h[19]) : (unsigned short)(h[19] << 8 | h[18]);
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].m == m)
            return tab[i].name;
    return "?";
}

/* Refuse, before anything is uploaded, an executable built for another
 * machine than the sandboxes' (cfg.arch): it could only fail inside with
 * "Exec format error". Returns 0 or -1 with err set (SD_EUSAGE). */
static int arch_check(struct e2b *e, const char *local_path, const char *name, struct sd_err *err)
{
    const char *m = elf_machine(local_path);

    if (m[0] == '\0' || strcmp(m, e->cfg.arch) == 0)
        return 0;
    return sd_err_set(err, SD_EUSAGE,
                      "%s: %s is built for %s, but E2B sandboxes run %s: build it for %s "
                      "(docs/e2b.md)",
                      e->cfg.inst[0].name, name, m[0] == '?' ? "an unknown machine" : m,
                      e->cfg.arch, e->cfg.arch);
}

/* The template's runner manifest ({version, files: {NAME: {sha3-512}}}, at
 * E2B_TEMPLATE_DIR/runner.json under the sandbox user's home, written by
 * e2b/template/build.sh), read once per instance from its first sandbox
 * (all its sandboxes share the template). New reference, or NULL when the
 * template has none. */
static json_t *template_manifest(struct sbx *b)
{
    struct e2b *e = b->p->impl;
    struct hres r;
    json_t *m = NULL;
    int state;

    pthread_mutex_lock(&e->mu);
    state = e->manifest_state;
    if (state == 2)
        m = json_incref(e->manifest);
    pthread_mutex_unlock(&e->mu);
    if (state != 0)
        return m;
    e2b_envd_call(b, "GET", "/files?path=" E2B_TEMPLATE_DIR "%2Frunner.json", NULL, NULL, NULL,
                  NULL, e->cfg.request_timeout_ms, &r);
    if (r.cc != CURLE_OK || (r.status != 200 && r.status != 404)) {
        e2b_hres_free(&r); /* not known either way: ask the next sandbox */
        return NULL;
    }
    if (r.status == 200 && r.body.p != NULL)
        m = json_loads(r.body.p, 0, NULL);
    e2b_hres_free(&r);
    if (!json_is_object(m)) {
        json_decref(m);
        m = NULL;
    }
    pthread_mutex_lock(&e->mu);
    if (e->manifest_state == 0) {
        e->manifest_state = m ? 2 : 1;
        e->manifest = json_incref(m);
    }
    pthread_mutex_unlock(&e->mu);
    return m;
}

/* 1 when the sandbox's template already holds this very executable (the
 * same swarmdeck version and SHA3-512 digest as local_path), so it need not
 * be uploaded; else 0. */
static int template_has(struct sbx *b, const char *local_path, const char *name)
{
    json_t *m = template_manifest(b), *f;
    const char *ver, *want;
    unsigned char md[CRYPTO_SHA3_LEN], buf[65536];
    char hex[2 * CRYPTO_SHA3_LEN + 1];
    struct crypto_hash *h;
    FILE *in;
    size_t n;
    int ok = 0;

    if (m == NULL)
        return 0;
    ver = json_string_value(json_object_get(m, "version"));
    f = json_object_get(json_object_get(m, "files"), name);
    want = json_string_value(json_object_get(f, "sha3-512"));
    if (ver == NULL || want == NULL || strcmp(ver, SWARMDECK_VERSION) != 0 ||
        strlen(want) != 2 * CRYPTO_SHA3_LEN)
        goto out;
    if ((in = fopen(local_path, "rb")) == NULL || (h = crypto_hash_new()) == NULL) {
        if (in != NULL)
            fclose(in);
        goto out;
    }
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        crypto_hash_update(h, buf, n);
    fclose(in);
    if (crypto_hash_final(h, md) != 0)
        goto out;
    for (size_t i = 0; i < CRYPTO_SHA3_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    ok = strcasecmp(hex, want) == 0;
out:
    json_decref(m);
    return ok;
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
    if (executable && arch_check(e, local_path, name, err) != 0)
        return -1;
    if (executable && b->nbaked < MAX_EXECS && template_has(b, local_path, name)) {
        snprintf(b->baked[b->nbaked++], sizeof b->baked[0], "%s", name);
        return 0; /* linked from the template's copy at start */
    }
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

static int e2b_destroy(struct sbx *b)
{
    int rc;
    if (b == NULL)
        return 0;
    /* If this fails the sandbox's TTL ends it, and the next sweep finds it. */
    rc = e2b_kill_sandbox(b->p->impl, b->sbx_id);
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
    /* Not a path: recovery only removes work dirs under the runtime dir.
     * The deployment's timeout rides along, so a process that re-adopts the
     * sandbox keeps it (and the TTL it implies). */
    snprintf(workdir, n, "e2b:%s:%s:%lld", e->cfg.inst[0].name, b->sbx_id,
             (long long)b->spec.timeout_ms);
    return 0;
}

/* provider_ops.reattach: workdir is "e2b:<instance>:<sandboxID>[:<timeout
 * ms>]" (lease_info). POST /v2/sandboxes/{id}/connect (the TTL set again
 * from spec->timeout_ms, a fresh envd access token kept only in memory);
 * the program is then found by its tag (e2b_resume). */
static int e2b_reattach(struct provider *p, const struct sbx_spec *spec, const char *workdir,
                        struct sbx **out, struct sd_err *err)
{
    struct e2b *e = p->impl;
    const char *in = workdir, *colon;
    size_t nl = strlen(e->cfg.inst[0].name);
    char path[128], body[64], sid[80] = "";
    struct hres r;
    json_t *resp;
    struct sbx *b;

    if (strncmp(in, "e2b:", 4) == 0 && strncmp(in + 4, e->cfg.inst[0].name, nl) == 0 &&
        in[4 + nl] == ':') {
        in += 5 + nl;
        colon = strchr(in, ':');
        if ((colon ? (size_t)(colon - in) : strlen(in)) < sizeof sid)
            snprintf(sid, sizeof sid, "%.*s", (int)(colon ? colon - in : (long)strlen(in)), in);
    }
    if (!id_ok(sid) || strlen(sid) > 64)
        return sd_err_set(err, SD_EUSAGE, "%s: \"%.100s\" is not a sandbox of this instance",
                          e->cfg.inst[0].name, workdir);
    if (spec->id == NULL || spec->id[0] == '\0' || strlen(spec->id) > 64)
        return sd_err_set(err, SD_EUSAGE, "invalid sandbox id");
    snprintf(path, sizeof path, "/v2/sandboxes/%s/connect", sid);
    snprintf(body, sizeof body, "{\"timeout\":%lld}", (long long)ttl_for(e, spec));
    if (e2b_api_call(e, "POST", path, body, &r) != 0 || (r.status != 200 && r.status != 201)) {
        int gone = r.cc == CURLE_OK && r.status == 404;
        if (gone)
            e2b_fail(e, err, SD_EFAIL, "%s: sandbox %s is gone (404)", e->cfg.inst[0].name, sid);
        else
            e2b_status_fail(e, "connect to the sandbox", &r, err);
        e2b_hres_free(&r);
        return -1;
    }
    resp = r.body.p ? json_loads(r.body.p, 0, NULL) : NULL;
    e2b_hres_free(&r);
    if (strcmp(json_string_value(json_object_get(resp, "sandboxID"))
                   ? json_string_value(json_object_get(resp, "sandboxID"))
                   : "",
               sid) != 0) {
        json_decref(resp);
        return e2b_fail(e, err, SD_EENV, "%s: connect answered for another sandbox",
                        e->cfg.inst[0].name);
    }
    b = sbx_from(p, spec, resp, ttl_for(e, spec), err);
    json_decref(resp);
    if (b == NULL)
        return -1;
    *out = b;
    return 0;
}

static void e2b_free(struct provider *p)
{
    if (p == NULL)
        return;
    /* An abandoned create may still be answered: let its thread destroy
     * the sandbox before we go (it ends at its request timeout at most). */
    pthread_mutex_lock(&inflight_mu);
    while (inflight > 0)
        pthread_cond_wait(&inflight_cv, &inflight_mu);
    pthread_mutex_unlock(&inflight_mu);
    if (p->impl != NULL) {
        struct e2b *e = p->impl;
        e2b_config_wipe(&e->cfg);
        json_decref(e->manifest);
        pthread_mutex_destroy(&e->mu);
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
    .reattach = e2b_reattach,
    .resume = e2b_resume,
};

static struct e2b *impl_new(const struct e2b_config *c, size_t idx, const char *owner,
                            struct sd_err *err)
{
    struct e2b *e;

    if (idx >= c->n) {
        sd_err_set(err, SD_EUSAGE, "no E2B instance #%zu", idx);
        return NULL;
    }
    if (c->inst[idx].api_key[0] == '\0') {
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
    for (size_t i = 1; i < E2B_MAX_INSTANCES; i++) /* only our instance's secrets */
        crypto_wipe(e->cfg.inst[i].api_key, sizeof e->cfg.inst[i].api_key);
    /* This instance's own key and template (a region has its own). */
    memcpy(e->cfg.api_key, e->cfg.inst[0].api_key, sizeof e->cfg.api_key);
    snprintf(e->cfg.source, sizeof e->cfg.source, "%s", e->cfg.inst[0].source);
    if (e->cfg.inst[0].template_id[0])
        memcpy(e->cfg.template_id, e->cfg.inst[0].template_id, sizeof e->cfg.template_id);
    pthread_mutex_init(&e->mu, NULL);
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
        e2b_config_wipe(&e->cfg);
        pthread_mutex_destroy(&e->mu);
        free(e);
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    p->ops = &e2b_ops;
    p->impl = e;
    snprintf(p->name, sizeof p->name, "%s", c->inst[idx].name);
    snprintf(p->region, sizeof p->region, "%s", c->inst[idx].region);
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
        if (e2b_kill_sandbox(e, sid) == 0)
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
            e2b_config_wipe(&e->cfg);
            pthread_mutex_destroy(&e->mu);
            free(e);
        }
    }
    return rc;
}
