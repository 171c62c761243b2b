/*
 * output.c: what a running program says (coord_int.h: coord_output_*).
 *
 * A provider's start calls three callbacks on the worker's thread while the
 * program runs: output (a chunk of stdout or stderr), started (the program
 * runs; the isolation it got) and sample (cpu and memory). Every chunk goes
 * to the store byte for byte and to the deployment's log ring; stdout is also
 * split into lines for the machine protocol a strategy speaks:
 *
 *     @@progress {"bar":N,"of":M,"equity":E}   the view's progress, an event
 *     @@result {...}                           the result (exactly one)
 *     @@error {"message":"..."}                the reason shown on failure
 *
 * The input is hostile (a sandboxed program writes it): lines over 1 MiB are
 * not protocol lines and are skipped, unparsable JSON is ignored, and a
 * second @@result is counted so the deployment fails instead of choosing one.
 * tests/fuzz/fuzz_protocol.c drives coord_output_parse in chunks of every
 * size. Progress and output events are rate limited to one per 50 ms.
 *
 * THREADS
 * d's worker only; the view is updated under c->lock.
 */
#define _GNU_SOURCE
#include "coord_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

/* The longest protocol line; longer ones are still stored, not parsed. */
#define LINE_MAX_BYTES (1 << 20)

static void progress_line(struct dep *d, const char *json)
{
    struct coord *c = d->c;
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);

    if (json_is_object(j)) {
        double bar = json_number_value(json_object_get(j, "bar"));
        double of = json_number_value(json_object_get(j, "of"));
        double eq = json_number_value(json_object_get(j, "equity"));
        int64_t now = sd_now_ms();
        struct ev e = {.type = EV_PROGRESS, .traj_id = d->v.id};
        coord_lock(c);
        d->v.progress = of > 0 ? bar / of : 0;
        d->v.equity = eq;
        e.progress = d->v.progress;
        e.equity = eq;
        coord_unlock(c);
        if (now - d->last_ev_ms >= 50 || bar >= of) {
            d->last_ev_ms = now;
            evq_push(c->evq, &e);
        }
    }
    json_decref(j);
}

static void machine_line(struct dep *d, const char *line)
{
    json_error_t je;
    json_t *j;

    if (strncmp(line, "@@progress ", 11) == 0) {
        progress_line(d, line + 11);
    } else if (strncmp(line, "@@result ", 9) == 0) {
        d->nresults++;
        j = json_loads(line + 9, 0, &je);
        if (d->nresults == 1 && json_is_object(j))
            d->pending_result = j;
        else
            json_decref(j);
    } else if (strncmp(line, "@@error ", 8) == 0) {
        j = json_loads(line + 8, 0, &je);
        const char *m = json_string_value(json_object_get(j, "message"));
        snprintf(d->errmsg, sizeof d->errmsg, "%s", m ? m : line + 8);
        json_decref(j);
    }
}

void coord_output_parse(struct dep *d, const char *data, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;

        if (!d->line_skip) {
            if (d->linelen + take > LINE_MAX_BYTES) {
                d->line_skip = 1;
                d->linelen = 0;
            } else {
                char *p = realloc(d->line, d->linelen + take + 1);
                if (p == NULL) {
                    d->line_skip = 1;
                } else {
                    d->line = p;
                    memcpy(d->line + d->linelen, data, take);
                    d->linelen += take;
                }
            }
        }
        if (nl == NULL)
            return;
        if (!d->line_skip && d->line != NULL) {
            d->line[d->linelen] = '\0';
            if (d->linelen > 2 && d->line[0] == '@' && d->line[1] == '@')
                machine_line(d, d->line);
        }
        d->linelen = 0;
        d->line_skip = 0;
        data += take + 1;
        len -= take + 1;
    }
}

void coord_output_stderr(struct dep *d, const char *data, size_t len)
{
    const char *end = data + len, *p = end;

    while (p > data && (p[-1] == '\n' || p[-1] == '\r'))
        p--;
    end = p;
    while (p > data && p[-1] != '\n')
        p--;
    if (end > p) {
        size_t n = (size_t)(end - p);
        if (n >= sizeof d->last_stderr)
            n = sizeof d->last_stderr - 1;
        memcpy(d->last_stderr, p, n);
        d->last_stderr[n] = '\0';
    }
}

void coord_output_reset(struct dep *d)
{
    json_decref(d->pending_result);
    d->pending_result = NULL;
    free(d->line);
    d->line = NULL;
    d->linelen = 0;
    d->line_skip = 0;
}

static void on_output(void *arg, int stream, const char *data, size_t len)
{
    struct dep *d = arg;
    struct coord *c = d->c;
    uint64_t seq;
    int64_t now;

    store_output_append(c->store, d->v.id, stream, data, len);
    seq = logring_append(d->log, stream, data, len);
    d->out_bytes += len;
    if (stream == 1)
        coord_output_parse(d, data, len);
    else
        coord_output_stderr(d, data, len);
    coord_lock(c);
    d->v.output_bytes = d->out_bytes;
    if (!d->output_killed && (int64_t)d->out_bytes > c->o.max_output) {
        d->output_killed = 1;
        if (d->sbx != NULL)
            d->pi->p->ops->signal(d->sbx, SIGTERM);
    }
    coord_unlock(c);
    now = sd_now_ms();
    if (now - d->last_ev_ms >= 50) {
        struct ev e = {.type = EV_OUTPUT, .traj_id = d->v.id, .seq = seq};
        d->last_ev_ms = now;
        evq_push(c->evq, &e);
    }
}

static void on_started(void *arg, const char *iso, const char *level)
{
    struct dep *d = arg;
    struct coord *c = d->c;
    int pid = 0;
    uint64_t pid_start = 0;
    char workdir[8];
    struct sbx *b;

    d->t_started_ns = sd_mono_ns();
    free(d->isolation);
    d->isolation = xstrdup(iso);
    coord_lock(c);
    snprintf(d->v.isolation_level, sizeof d->v.isolation_level, "%s", level);
    if (strcmp(d->pi->kind, "local") == 0) /* the header shows the local isolation level */
        snprintf(d->pi->detail, sizeof d->pi->detail, "%s", level);
    b = d->sbx;
    coord_unlock(c);
    /* Record the helper's pid in the lease so recovery can reap it. The lease
     * itself was committed before the start; this update rides the next
     * batch (if we crash before it commits, the helper dies with us through
     * its lifeline, and the cgroup sweep finds any remains). */
    d->pi->p->ops->lease_info(b, &pid, &pid_start, workdir, sizeof workdir);
    store_lease_set_pid(c->store, d->v.sandbox_id, pid, pid_start);
    /* A cancel that came after the worker's last check but before the
     * sandbox had a process to signal was dropped by the provider (nothing
     * to kill yet): now there is one. Signalling twice is harmless. */
    if (atomic_load(&d->cancel))
        d->pi->p->ops->signal(b, SIGTERM);
}

static void on_sample(void *arg, int64_t cpu_ms, int64_t mem_kb)
{
    struct dep *d = arg;
    struct coord *c = d->c;
    struct ev e = {.type = EV_SAMPLE, .traj_id = d->v.id, .cpu_ms = cpu_ms, .mem_kb = mem_kb};

    coord_lock(c);
    d->v.cpu_ms = cpu_ms;
    d->v.mem_kb = mem_kb;
    coord_unlock(c);
    evq_push(c->evq, &e);
}

void coord_output_callbacks(struct dep *d, struct sbx_callbacks *cb)
{
    cb->output = on_output;
    cb->started = on_started;
    cb->sample = on_sample;
    cb->arg = d;
}
