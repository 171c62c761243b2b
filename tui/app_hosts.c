/*
 * app_hosts.c: several daemons in one console (docs/fleet.md, "One
 * console, several servers"; app_int.h).
 *
 * Each host's daemon is followed by a remote of its own (remote.h), all
 * pushing to one event queue. A remote names its deployments
 * REMOTE_ID(host, id), so the table's row ids are unique across hosts and
 * every key that acts on a row finds the right daemon with app_remote_of.
 * Host 0 is this machine's daemon: its ids are the store's own, so the
 * store's history merges with its live rows as with a single daemon. When
 * local is not among the hosts, neither is the store's history (the table
 * shows the hosts asked for). The Learning pane shows each host's snapshot
 * as its daemon sends it (remote_learning), redrawn when one changes, then
 * the local store's; the Patterns pane reads the local store and says so.
 *
 * Synced trajectories (the store's origin: merged from another host by the
 * fleet or `sync`, docs/fleet.md) are that host's rows in the HOST column,
 * the details and the host filter, whether or not it is one of the hosts.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "util.h"

void app_hosts_init(struct app *a, const struct tui_conf *conf)
{
    a->host_filter = -1;
    if (conf->coord != NULL)
        return; /* the engine is in this process: no daemon */
    if (conf->nhosts > 0) {
        for (int h = 0; h < conf->nhosts && h < REMOTE_MAX_HOSTS; h++) {
            a->rem[h] = conf->remotes[h];
            snprintf(a->hname[h], sizeof a->hname[h], "%s",
                     conf->names && conf->names[h] ? conf->names[h] : "?");
            if (a->rem[h] != NULL)
                a->nrem = h + 1;
        }
        a->multi = 1; /* asked for by --host: name the host even if one */
        for (int h = a->nrem - 1; h >= 0; h--)
            if (a->rem[h] != NULL) {
                a->deploy_host = h; /* the first shown */
                a->host_col++;
            }
        a->host_col = a->host_col > 1; /* one host: no column of one name */
    } else if (conf->remote != NULL) {
        a->rem[0] = conf->remote;
        snprintf(a->hname[0], sizeof a->hname[0], "local");
        a->nrem = 1;
    }
}

struct remote *app_remote_of(const struct app *a, int64_t id)
{
    int h = REMOTE_HOST(id);
    if (a->coord != NULL || h < 0 || h >= a->nrem)
        return NULL;
    return a->rem[h];
}

const char *app_host_name(const struct app *a, int h)
{
    if (h < 0 || h >= REMOTE_MAX_HOSTS)
        return "?";
    return a->hname[h][0] ? a->hname[h] : h == 0 ? "local" : "?";
}

int app_host_find(const struct app *a, const char *name)
{
    int found = -1, n = 0;
    size_t l = strlen(name);

    for (int h = 0; h < a->nrem; h++) {
        if (a->rem[h] == NULL)
            continue;
        if (strcmp(a->hname[h], name) == 0)
            return h;
        if (l > 0 && strncmp(a->hname[h], name, l) == 0) {
            found = h;
            n++;
        }
    }
    return n == 1 ? found : -1;
}

void app_id_label(const struct app *a, int64_t id, char *b, size_t n)
{
    if (a->multi)
        snprintf(b, n, "#%lld on %s", (long long)REMOTE_LOCAL(id),
                 app_host_name(a, REMOTE_HOST(id)));
    else
        snprintf(b, n, "#%lld", (long long)id);
}

void app_hosts_load(struct app *a)
{
    size_t n = 0;
    int first = 1;

    memset(a->live_counts, 0, sizeof a->live_counts);
    for (int h = 0; h < a->nrem; h++) {
        int counts[TS_COUNT];
        size_t got;
        if (a->rem[h] == NULL)
            continue;
        if (first) {
            remote_info(a->rem[h], &a->rinfo);
            first = 0;
        }
        for (;;) {
            if (a->capviews - n < 64 || a->capviews == 0) {
                a->capviews = a->capviews ? 2 * a->capviews : 256;
                a->views = xrealloc(a->views, a->capviews * sizeof *a->views);
            }
            got = remote_list(a->rem[h], a->views + n, a->capviews - n);
            if (got < a->capviews - n)
                break;
            a->capviews *= 2; /* it had more: grow and ask again */
            a->views = xrealloc(a->views, a->capviews * sizeof *a->views);
        }
        n += got;
        remote_counts(a->rem[h], counts);
        for (int s = 0; s < TS_COUNT; s++)
            a->live_counts[s] += counts[s];
    }
    a->nviews = n;
}

int app_host_health(const char *name, const struct remote_info *ri, int64_t now_ms, char *full,
                    size_t nf, char *compact, size_t nc)
{
    int64_t in = ri->retry_at > now_ms ? (ri->retry_at - now_ms + 999) / 1000 : 0;

    if (ri->link == REMOTE_UP) {
        snprintf(full, nf, "%s: connected", name);
        snprintf(compact, nc, "%s ok", name);
        return 0;
    }
    if (ri->link == REMOTE_UNREACHABLE && ri->attempts == 0) {
        snprintf(full, nf, "%s: connecting...", name);
        snprintf(compact, nc, "%s ...", name);
        return 2;
    }
    if (ri->link == REMOTE_RETRY) {
        if (ri->retry_at > 0)
            snprintf(full, nf, "%s: reconnecting in %llds", name, (long long)in);
        else
            snprintf(full, nf, "%s: reconnecting...", name);
        snprintf(compact, nc, "%s retry", name);
        return 1;
    }
    snprintf(full, nf, "%s: unreachable: %.70s", name, ri->error[0] ? ri->error : "no answer");
    snprintf(compact, nc, "%s down", name);
    return 2;
}

int app_host_breakers(const struct provider_health *p, size_t n, char *full, size_t nf,
                      char *compact, size_t nc)
{
    int any = 0;

    for (size_t i = 0; i < n; i++) {
        size_t lf = strlen(full), lc = strlen(compact);
        if (strcmp(p[i].breaker, "open") != 0 && strcmp(p[i].breaker, "half-open") != 0)
            continue;
        if (lf < nf)
            snprintf(full + lf, nf - lf, ", %s %s", p[i].name, p[i].breaker);
        if (lc < nc)
            snprintf(compact + lc, nc - lc, " %s %s", p[i].name,
                     p[i].breaker[0] == 'o' ? "open" : "half");
        any = 1;
    }
    return any;
}

void app_hosts_learning_fill(struct app *a, int w)
{
    json_t *snaps[REMOTE_MAX_HOSTS] = {0};
    const char *names[REMOTE_MAX_HOSTS] = {0};
    int n = 0;

    for (int h = 0; h < a->nrem; h++) {
        if (a->rem[h] == NULL)
            continue;
        /* every host's, before the copy: a change is never missed, and a
         * hidden host's does not rebuild the pane again and again */
        a->learn_gen[h] = remote_learning_gen(a->rem[h]);
        if (a->host_filter >= 0 && h != a->host_filter)
            continue;
        remote_learning(a->rem[h], &snaps[n], NULL);
        names[n++] = a->hname[h];
    }
    pane_hosts_learning_fill(&a->learn, (const json_t *const *)snaps, names, n, a->snap, w,
                             a->spark_g);
    for (int k = 0; k < n; k++)
        json_decref(snaps[k]);
}

int app_hosts_learning_changed(struct app *a)
{
    int changed = 0;

    for (int h = 0; a->multi && h < a->nrem; h++)
        if (a->rem[h] != NULL && remote_learning_gen(a->rem[h]) != a->learn_gen[h])
            changed = 1;
    if (changed)
        a->learn_w = -1;
    return changed;
}

int app_hosts_waiting(const struct app *a)
{
    struct remote_info ri;

    for (int h = 0; a->multi && h < a->nrem; h++) {
        if (a->rem[h] == NULL)
            continue;
        remote_info(a->rem[h], &ri);
        if (ri.link != REMOTE_UP)
            return 1;
    }
    return 0;
}

void app_hosts_header(const struct app *a, struct header_in *hi)
{
    int64_t now = (int64_t)(sd_mono_ns() / 1000000);

    hi->nhosts = 0;
    if (!a->multi)
        return;
    hi->daemon = 0; /* each host says its own */
    hi->daemon_lost = 0;
    for (int h = 0; h < a->nrem && hi->nhosts < 16; h++) {
        struct remote_info ri;
        if (a->rem[h] == NULL)
            continue;
        remote_info(a->rem[h], &ri);
        hi->host_state[hi->nhosts] = app_host_health(
            a->hname[h], &ri, now, hi->host_text[hi->nhosts][0], sizeof hi->host_text[0][0],
            hi->host_text[hi->nhosts][1], sizeof hi->host_text[0][1]);
        if (ri.link == REMOTE_UP) { /* this host's own providers, not the first host's */
            struct provider_health ph[8];
            size_t np = remote_providers(a->rem[h], ph, 8);
            if (app_host_breakers(ph, np, hi->host_text[hi->nhosts][0], sizeof hi->host_text[0][0],
                                  hi->host_text[hi->nhosts][1], sizeof hi->host_text[0][1]) &&
                hi->host_state[hi->nhosts] == 0)
                hi->host_state[hi->nhosts] = 1;
        }
        hi->nhosts++;
    }
}

const char *app_hist_host(const struct app *a, const struct console_traj *h)
{
    return h->origin[0] ? h->origin : app_host_name(a, 0);
}

int app_hosts_synced(const struct app *a)
{
    for (size_t i = 0; i < a->nhist; i++)
        if (a->hist[i].origin[0])
            return 1;
    return 0;
}

int app_host_shown(const struct app *a, const char *name)
{
    if (a->origin_filter[0])
        return strcmp(name, a->origin_filter) == 0;
    if (a->host_filter >= 0)
        return strcmp(name, app_host_name(a, a->host_filter)) == 0;
    return 1;
}

/* The names `host` and `H` choose from, in order: the shown hosts (with
 * one daemon and synced rows, this one's), then the origins of the synced
 * rows not among them, each once, into names (borrowed from a); *hosts is
 * how many of them are hosts (index = host index for those). Returns the
 * count. */
static int host_names(const struct app *a, const char **names, int *hidx, int max)
{
    int n = 0;

    if (a->multi) {
        for (int h = 0; h < a->nrem && n < max; h++)
            if (a->rem[h] != NULL) {
                hidx[n] = h;
                names[n++] = a->hname[h];
            }
    } else if (app_hosts_synced(a)) {
        hidx[n] = 0;
        names[n++] = app_host_name(a, 0);
    }
    for (size_t i = 0; i < a->nhist && n < max; i++) {
        const char *o = a->hist[i].origin;
        int seen = 0;
        if (!o[0])
            continue;
        for (int k = 0; k < n && !seen; k++)
            seen = strcmp(names[k], o) == 0;
        if (!seen) {
            hidx[n] = -1;
            names[n++] = o;
        }
    }
    return n;
}

/* Show only the rows of the host at names[k] (k < 0: every host). */
static void host_pick(struct app *a, const char *const *names, const int *hidx, int k)
{
    a->origin_filter[0] = '\0';
    a->host_filter = -1;
    if (k < 0) {
        app_notify(a, 0, "every host shown");
    } else if (hidx[k] >= 0) {
        a->host_filter = hidx[k];
        app_notify(a, 0, "only %s's deployments shown (`host` shows every one)", names[k]);
    } else {
        snprintf(a->origin_filter, sizeof a->origin_filter, "%s", names[k]);
        app_notify(a, 0, "only the trajectories synced from %s shown (`host` shows every one)",
                   a->origin_filter);
    }
    a->learn_w = -1; /* the Learning pane shows the filtered host's only */
    app_refresh(a);
    a->dirty = D_ALL;
}

int app_c_host(struct app *a, const char *arg)
{
    const char *names[64];
    int hidx[64], n = host_names(a, names, hidx, 64), found = -1, hits = 0;
    size_t l = arg ? strlen(arg) : 0;

    if (n == 0) {
        app_notify(a, 1,
                   "host: this console shows one daemon and no synced trajectories (--host, "
                   "several times)");
        return -1;
    }
    if (arg == NULL || arg[0] == '\0' || strcmp(arg, "*") == 0) {
        host_pick(a, names, hidx, -1);
        return 0;
    }
    for (int k = 0; k < n; k++) { /* exact, else a unique prefix */
        if (strcmp(names[k], arg) == 0) {
            found = k;
            hits = 1;
            break;
        }
        if (strncmp(names[k], arg, l) == 0) {
            found = k;
            hits++;
        }
    }
    if (hits != 1) {
        app_notify(a, 1, "host: no host \"%.60s\" here", arg);
        return -1;
    }
    host_pick(a, names, hidx, found);
    return 0;
}

int app_c_host_next(struct app *a, const char *x)
{
    const char *names[64], *cur;
    int hidx[64], n = host_names(a, names, hidx, 64), k;

    (void)x;
    if (n == 0)
        return app_c_host(a, NULL); /* says why not */
    cur = a->origin_filter[0]   ? a->origin_filter
          : a->host_filter >= 0 ? app_host_name(a, a->host_filter)
                                : NULL;
    for (k = 0; cur != NULL && k < n; k++)
        if (strcmp(names[k], cur) == 0)
            break;
    k = cur == NULL ? 0 : k + 1; /* after the last (or a name gone): every host */
    host_pick(a, names, hidx, k < n ? k : -1);
    return 0;
}

/* The shown host after h, in order, wrapping. */
static int next_host(const struct app *a, int h)
{
    for (int k = h + 1; k < a->nrem; k++)
        if (a->rem[k] != NULL)
            return k;
    for (int k = 0; k < a->nrem; k++)
        if (a->rem[k] != NULL)
            return k;
    return h;
}

int app_c_deploy_host(struct app *a, const char *x)
{
    (void)x;
    if (!a->multi || a->overlay != OV_DEPLOY) {
        app_notify(a, 1, "deploy-host: one daemon only");
        return -1;
    }
    if (a->deploying)
        return 0; /* the form is frozen until the outcome */
    a->deploy_host = next_host(a, a->deploy_host);
    app_deploy_host_changed(a);
    app_notify(a, 0, "deploy to %s", a->hname[a->deploy_host]);
    a->dirty = D_ALL;
    return 0;
}
