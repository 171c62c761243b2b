/*
 * choose.c: which provider instance an attempt goes to (coord_int.h:
 * coord_choose_*; coord.h: coord_add_provider, coord_providers,
 * coord_health_json).
 *
 * DESIGN
 * The coordinator holds up to MAX_PROVIDERS instances ("local" first, then
 * those added with coord_add_provider). Each has a circuit breaker
 * (breaker.h) and a moving average of its create latency (0.7 old + 0.3 new).
 * An attempt asks for a name or a kind; among the matching instances whose
 * breaker lets a request through it takes the one with the lowest latency
 * (untried ones, at 0, first), and takes the half-open trial when there is
 * one. When none matches, the attempt goes to the failover the operator
 * allowed, else fails at once naming the open breaker. Only provider errors
 * (SD_EENV) count against a breaker; a strategy's own failure never does.
 *
 * Health survives the process: every change of a breaker, and the last
 * latencies at coord_free, are saved in the store (meta provider_health), and
 * a new coordinator starts each instance from what was saved: an open
 * breaker stays open for the rest of its cool-down, counts carry over.
 *
 * The breakers' clock is monotonic (a fixed SWARMDECK_CLOCK cannot freeze
 * them); tests replace it with coord_set_clock to open, half-open and close a
 * breaker without waiting.
 *
 * THREADS
 * Any thread; breakers and latencies are read and written under c->lock.
 * The instance table itself is fixed once the first deployment is submitted.
 */
#define _GNU_SOURCE
#include "coord_int.h"

#include <stdio.h>
#include <string.h>

#include "query.h"

static int64_t mono_ms(void)
{
    return (int64_t)(sd_mono_ns() / 1000000);
}

int64_t coord_clock(struct coord *c)
{
    return c->clock_ms != NULL ? c->clock_ms() : mono_ms();
}

void coord_set_clock(struct coord *c, int64_t (*clock_ms)(void))
{
    c->clock_ms = clock_ms;
}

int coord_choose_matches(const struct pinst *pi, const char *want)
{
    return strcmp(pi->p->name, want) == 0 || strcmp(pi->kind, want) == 0;
}

struct pinst *coord_choose_planned(struct coord *c, const char *want)
{
    for (int i = 0; i < c->nprov; i++)
        if (coord_choose_matches(&c->prov[i], want))
            return &c->prov[i];
    return NULL;
}

void coord_choose_init(struct coord *c, struct pinst *pi)
{
    json_t *v;
    size_t i;

    ASSERT_LOCKED(c);
    breaker_init(&pi->br, c->o.breaker_failures, c->o.breaker_cooldown_ms);
    json_array_foreach(c->health0, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *br = json_string_value(json_object_get(v, "breaker"));
        int64_t left = json_integer_value(json_object_get(v, "openUntil")) - sd_now_ms();
        if (name == NULL || br == NULL || strcmp(name, pi->p->name) != 0)
            continue;
        pi->br.failures = (int)json_integer_value(json_object_get(v, "failures"));
        pi->create_ms = json_number_value(json_object_get(v, "createMs"));
        if (strcmp(br, "closed") != 0) {
            if (left > pi->br.cooldown_ms)
                left = pi->br.cooldown_ms;
            pi->br.state = BREAKER_OPEN;
            pi->br.opened_at = coord_clock(c) - pi->br.cooldown_ms + (left > 0 ? left : 0);
        }
    }
}

int coord_add_provider(struct coord *c, struct provider *p, const char *kind, const char *detail,
                       struct sd_err *err)
{
    struct pinst *pi;

    if (p == NULL)
        return sd_err_set(err, SD_EUSAGE, "no provider");
    for (int i = 0; i < c->nprov; i++)
        if (strcmp(c->prov[i].p->name, p->name) == 0) {
            sd_err_set(err, SD_EUSAGE, "two providers are named \"%s\"", p->name);
            p->ops->free(p);
            return -1;
        }
    if (c->nprov == MAX_PROVIDERS) {
        sd_err_set(err, SD_EUSAGE, "at most %d providers", MAX_PROVIDERS);
        p->ops->free(p);
        return -1;
    }
    coord_lock(c);
    pi = &c->prov[c->nprov];
    memset(pi, 0, sizeof *pi);
    pi->p = p;
    snprintf(pi->kind, sizeof pi->kind, "%s", kind);
    snprintf(pi->detail, sizeof pi->detail, "%s", detail ? detail : "");
    coord_choose_init(c, pi);
    c->nprov++;
    coord_unlock(c);
    return 0;
}

/* Caller holds c->lock. The healthy instance matching want with the lowest
 * recent create latency (untried ones first), its breaker's trial taken; or
 * NULL. */
static struct pinst *pick_locked(struct coord *c, const char *want, int64_t now)
{
    struct pinst *best = NULL;

    ASSERT_LOCKED(c);
    for (int i = 0; i < c->nprov; i++) {
        struct pinst *pi = &c->prov[i];
        int st;
        if (!coord_choose_matches(pi, want))
            continue;
        st = breaker_state(&pi->br, now);
        if (st == BREAKER_OPEN || (st == BREAKER_HALF_OPEN && pi->br.trial))
            continue;
        if (best == NULL || pi->create_ms < best->create_ms)
            best = pi;
    }
    if (best != NULL)
        breaker_allow(&best->br, now);
    return best;
}

struct pinst *coord_choose_pick(struct coord *c, struct dep *d, struct sd_err *err)
{
    int64_t now = coord_clock(c);
    struct pinst *pi, *open = NULL;

    coord_lock(c);
    pi = pick_locked(c, d->want, now);
    if (pi == NULL && c->failover[0] && strcmp(c->failover, d->want) != 0)
        pi = pick_locked(c, c->failover, now);
    for (int i = 0; pi == NULL && i < c->nprov; i++)
        if (coord_choose_matches(&c->prov[i], d->want) && open == NULL)
            open = &c->prov[i];
    if (pi == NULL && open != NULL) {
        int64_t left = breaker_open_until(&open->br) - now;
        sd_err_set(err, SD_EFAIL,
                   "provider %s unavailable: its circuit breaker is open after %d consecutive "
                   "failures (half-open in %lld s)%s",
                   open->p->name, open->br.failures,
                   (long long)(left > 0 ? (left + 999) / 1000 : 0),
                   c->failover[0] ? "; the failover provider is unavailable too"
                                  : "; allow failover with --failover local");
    }
    coord_unlock(c);
    return pi;
}

void coord_choose_use(struct coord *c, struct dep *d, struct pinst *pi)
{
    int moved;

    coord_lock(c);
    moved = strcmp(d->v.provider, pi->p->name) != 0;
    d->pi = pi;
    if (moved)
        snprintf(d->v.provider, sizeof d->v.provider, "%s", pi->p->name);
    coord_unlock(c);
    if (moved)
        store_traj_set_provider(c->store, d->v.id, pi->p->name);
    if (moved && !coord_choose_matches(pi, d->want)) {
        char why[96];
        snprintf(why, sizeof why, "%s unavailable: now on %s", d->want, pi->p->name);
        coord_work_op(d, "failover", sd_now_ms(), 0, 1, why);
    }
}

/* From a local sandbox (milliseconds) to an E2B microVM on a slow day. */
const double coord_create_le[COORD_CREATE_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};

void coord_choose_created(struct coord *c, struct pinst *pi, double ms)
{
    coord_lock(c);
    pi->create_ms = pi->create_ms > 0 ? 0.7 * pi->create_ms + 0.3 * ms : ms;
    for (int i = 0; i < COORD_CREATE_BUCKETS; i++)
        pi->create_le[i] += ms / 1000.0 <= coord_create_le[i];
    pi->creates++;
    pi->create_seconds += ms / 1000.0;
    coord_unlock(c);
}

void coord_choose_report(struct coord *c, struct pinst *pi, int outcome)
{
    int64_t now = coord_clock(c);
    int before, changed;

    coord_lock(c);
    before = pi->br.state * 100000 + pi->br.failures;
    if (outcome > 0)
        breaker_success(&pi->br, now);
    else if (outcome < 0)
        breaker_failure(&pi->br, now);
    else
        pi->br.trial = 0;
    changed = before != pi->br.state * 100000 + pi->br.failures;
    coord_unlock(c);
    if (changed)
        coord_choose_persist(c);
}

json_t *coord_health_json(const struct provider_health *h, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:I}", "name",
                                           h[i].name, "kind", h[i].kind, "breaker", h[i].breaker,
                                           "detail", h[i].detail, "region", h[i].region, "failures",
                                           h[i].failures, "createMs", h[i].create_ms, "openUntil",
                                           (json_int_t)h[i].open_until_ms));
    return a;
}

void coord_choose_persist(struct coord *c)
{
    struct provider_health h[MAX_PROVIDERS];
    size_t n = coord_providers(c, h, MAX_PROVIDERS);

    store_provider_health_save(c->store, coord_health_json(h, n));
}

size_t coord_providers(struct coord *c, struct provider_health *out, size_t max)
{
    int64_t now = coord_clock(c), wall = sd_now_ms();
    size_t n = 0;

    coord_lock(c);
    for (int i = 0; i < c->nprov && n < max; i++, n++) {
        struct pinst *pi = &c->prov[i];
        struct provider_health *h = &out[n];
        int st = breaker_state(&pi->br, now);
        memset(h, 0, sizeof *h);
        snprintf(h->name, sizeof h->name, "%s", pi->p->name);
        snprintf(h->kind, sizeof h->kind, "%s", pi->kind);
        snprintf(h->breaker, sizeof h->breaker, "%s", breaker_state_name(st));
        snprintf(h->detail, sizeof h->detail, "%s", pi->detail);
        snprintf(h->region, sizeof h->region, "%s", pi->p->region);
        h->failures = pi->br.failures;
        h->create_ms = pi->create_ms;
        memcpy(h->create_le, pi->create_le, sizeof h->create_le);
        h->creates = pi->creates;
        h->create_seconds = pi->create_seconds;
        if (st == BREAKER_OPEN)
            h->open_until_ms = wall + (breaker_open_until(&pi->br) - now);
    }
    coord_unlock(c);
    return n;
}

void coord_choose_advise(struct coord *c, const struct deploy_req *r, json_t *sug)
{
    const char *want = r->provider && r->provider[0] ? r->provider : c->want;
    const struct pinst *open = NULL, *alt = NULL;
    int64_t now = coord_clock(c);
    char why[256];

    coord_lock(c);
    for (int i = 0; i < c->nprov; i++) {
        const struct pinst *pi = &c->prov[i];
        int st = breaker_state(&pi->br, now);
        if (coord_choose_matches(pi, want)) {
            if (st != BREAKER_OPEN) {
                open = NULL;
                alt = NULL;
                break;
            }
            open = open ? open : pi;
        } else if (st != BREAKER_OPEN &&
                   (alt == NULL || (c->failover[0] && coord_choose_matches(pi, c->failover)))) {
            alt = pi;
        }
    }
    if (open != NULL) {
        int64_t left = breaker_open_until(&open->br) - now;
        snprintf(why, sizeof why,
                 "provider %s's circuit breaker is open after %d consecutive failures (half-open "
                 "in %lld s)",
                 open->p->name, open->br.failures, (long long)(left > 0 ? (left + 999) / 1000 : 0));
        json_array_append_new(json_object_get(sug, "reasoning"), json_string(why));
        json_array_append_new(json_object_get(sug, "recommendedOperations"),
                              json_pack("{s:s, s:s, s:s?, s:s}", "op", "avoid_provider", "provider",
                                        open->p->name, "prefer", alt ? alt->p->name : NULL, "why",
                                        why));
    }
    coord_unlock(c);
}
