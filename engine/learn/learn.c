/*
 * learn.c: the learning index (build, observe) and learning stats.
 *
 * WHY AN IN-MEMORY INDEX
 * A suggestion is computed for every change of the deploy form and must cost
 * at most 1 ms at 100 k trajectories; stats over 1 M trajectories at most
 * 100 ms. Neither is possible through SQL (a GROUP BY over 1 M rows costs
 * 130 ms, and the kernel-weighted scan of a suggestion is not expressible as
 * an indexed query). So learn_open reads the finished trajectories once
 * (ORDER BY id) into column arrays, and learn_observe appends to them as
 * deployments finish. The store stays the truth: the index is rebuilt at
 * every start, so nothing here needs migrating or can drift for long.
 *
 * WHAT IS LEARNED
 * Succeeded, failed and timed-out trajectories of strategies with a known
 * schema. success = succeeded; reward as stored (0 on failure, else
 * 0.5 + 0.5 tanh(sharpe / 2)); the prediction is the expectedSuccessRate of
 * the suggestion stored with the trajectory before launch.
 *
 * STATS (learn_stats), over the learned trajectories in id order:
 * - avgSuccessRate = succeeded / total; avgReward = mean reward.
 * - improvementRate = (mean reward of the last w - mean reward of the first
 *   w) / max(mean of the first w, 0.01) with w = min(50, floor(n / 4)),
 *   null when w = 0 (fewer than 4 trajectories); w is reported.
 * - predictionAccuracy = share of trajectories with a prediction p whose
 *   predicted outcome (p >= 0.5) matched the real one; brierScore = mean of
 *   (p - outcome)^2 over the same trajectories; both null without any.
 * - series: at most 60 consecutive buckets of equal count (the last may be
 *   shorter), each with the creation time of its last trajectory, its count,
 *   success rate and mean reward: a sparkline of learning over time.
 * One pass over l->rows computes everything for every strategy at once.
 *
 * PARAMETER SPACE (shared with learn_query.c)
 * Each schema parameter maps to u. With a positive default on a non-negative
 * range reaching past 16 times the default (so wider than the inner search
 * window, e.g. lookback 20 in [2, 500]) it is logarithmic: u = log2(x / default) / 4 (x below
 * default/1024 counts as default/1024), so [default/4, default*4] is u in [-0.5, 0.5]. Otherwise
 * linear: u = (x - min) / (max - min). Booleans: 0 or 1. Bins: the unit is cut into 4 equal bins
 * (1..4; the last one closed), bin 0 is below it and bin 5 above; booleans use bins 0 and 1. A
 * region key packs one bin per parameter, 3 bits each.
 *
 * THREADS: see learn.h. Every function below that touches the index runs
 * with l->lock held.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn_int.h"
#include "query.h"
#include "traj.h"

#define STATS_SERIES 60
#define IMPROVE_EPS  0.01

/* --- small helpers ------------------------------------------------------ */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 64;
    void *q;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    if ((q = realloc(*p, c * size)) == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

double learn_wilson(double ok, double n)
{
    const double z = 1.96;
    double p, den, centre, spread;
    if (n <= 0)
        return 0;
    p = ok / n;
    den = 1 + z * z / n;
    centre = p + z * z / (2 * n);
    spread = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    return fmax(0, (centre - spread) / den);
}

/* --- interned strings ---------------------------------------------------- */

int32_t learn_intern(struct learn *l, const char *s)
{
    size_t i;
    char *dup;
    if (s == NULL)
        return -1;
    if (l->stabn) {
        for (i = hash_str(s) & (l->stabn - 1); l->stab[i] >= 0; i = (i + 1) & (l->stabn - 1))
            if (strcmp(l->str[l->stab[i]], s) == 0)
                return l->stab[i];
    }
    if ((l->nstr + 1) * 2 > l->stabn) {
        size_t n = l->stabn ? l->stabn * 2 : 64;
        int32_t *t = malloc(n * sizeof *t);
        if (t == NULL)
            return -1;
        for (i = 0; i < n; i++)
            t[i] = -1;
        for (size_t k = 0; k < l->nstr; k++) {
            for (i = hash_str(l->str[k]) & (n - 1); t[i] >= 0; i = (i + 1) & (n - 1))
                ;
            t[i] = (int32_t)k;
        }
        free(l->stab);
        l->stab = t;
        l->stabn = n;
    }
    if (grow((void **)&l->str, &l->capstr, l->nstr + 1, sizeof *l->str) != 0 ||
        (dup = strdup(s)) == NULL)
        return -1;
    for (i = hash_str(s) & (l->stabn - 1); l->stab[i] >= 0; i = (i + 1) & (l->stabn - 1))
        ;
    l->str[l->nstr] = dup;
    l->stab[i] = (int32_t)l->nstr;
    return (int32_t)l->nstr++;
}

const char *learn_str(const struct learn *l, int32_t id)
{
    return id >= 0 && (size_t)id < l->nstr ? l->str[id] : NULL;
}

/* --- parameter space ------------------------------------------------------ */

double learn_u(const struct learn_param *p, double x)
{
    switch (p->kind) {
    case LK_BOOL:
        return x != 0;
    case LK_LOG:
        return log2(fmax(x, p->def / 1024) / p->def) / 4;
    default:
        return p->max > p->min ? (x - p->min) / (p->max - p->min) : 0;
    }
}

int learn_bin(const struct learn_param *p, double u)
{
    const double eps = 1e-9;
    double lo = p->kind == LK_LOG ? -0.5 : 0;
    int b;
    if (p->kind == LK_BOOL)
        return u != 0;
    if (u < lo - eps)
        return 0;
    if (u > lo + 1 + eps)
        return 5;
    b = (int)floor((u - lo) * 4 + eps) + 1;
    return b > 4 ? 4 : b < 1 ? 1 : b;
}

/* Round away exp2 noise so bin edges print as the numbers they are. */
static double tidy(double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.12g", v);
    return strtod(b, NULL);
}

static double x_of_u(const struct learn_param *p, double u)
{
    if (p->kind == LK_LOG)
        return p->def * exp2(4 * u);
    return p->min + u * (p->max - p->min);
}

void learn_bin_range(const struct learn_param *p, int b, double *lo, double *hi)
{
    double base = p->kind == LK_LOG ? -0.5 : 0;
    if (p->kind == LK_BOOL) {
        *lo = *hi = b;
        return;
    }
    if (b == 0) {
        *lo = p->min;
        *hi = x_of_u(p, base);
    } else if (b == 5) {
        *lo = x_of_u(p, base + 1);
        *hi = p->max;
    } else {
        *lo = x_of_u(p, base + (b - 1) * 0.25);
        *hi = x_of_u(p, base + b * 0.25);
    }
    *lo = fmax(p->min, tidy(*lo));
    *hi = fmin(p->max, tidy(*hi));
}

void learn_values(const struct lstrat *s, json_t *params, double *x)
{
    for (size_t j = 0; j < s->np; j++) {
        json_t *v = json_object_get(params, s->p[j].name);
        if (json_is_number(v))
            x[j] = json_number_value(v);
        else if (json_is_boolean(v))
            x[j] = json_is_true(v);
        else
            x[j] = s->p[j].def;
    }
}

uint64_t learn_key(const struct lstrat *s, const double *x)
{
    uint64_t key = 0;
    for (size_t j = 0; j < s->np && j < LEARN_MAXP; j++)
        key |= (uint64_t)learn_bin(&s->p[j], learn_u(&s->p[j], x[j])) << (3 * j);
    return key;
}

int learn_key_bin(uint64_t key, size_t j)
{
    return j < LEARN_MAXP ? (int)((key >> (3 * j)) & 7) : 0;
}

struct learn_region *learn_region_find(const struct lstrat *s, uint64_t key)
{
    if (s->rtabn == 0)
        return NULL;
    for (size_t i = hash_u64(key) & (s->rtabn - 1); s->rtab[i] >= 0; i = (i + 1) & (s->rtabn - 1))
        if (s->reg[s->rtab[i]].key == key)
            return &s->reg[s->rtab[i]];
    return NULL;
}

static struct learn_region *region_get(struct lstrat *s, uint64_t key)
{
    struct learn_region *r = learn_region_find(s, key);
    size_t i;
    if (r != NULL)
        return r;
    if ((s->nreg + 1) * 2 > s->rtabn) {
        size_t n = s->rtabn ? s->rtabn * 2 : 16;
        int32_t *t = malloc(n * sizeof *t);
        if (t == NULL)
            return NULL;
        for (i = 0; i < n; i++)
            t[i] = -1;
        for (size_t k = 0; k < s->nreg; k++) {
            for (i = hash_u64(s->reg[k].key) & (n - 1); t[i] >= 0; i = (i + 1) & (n - 1))
                ;
            t[i] = (int32_t)k;
        }
        free(s->rtab);
        s->rtab = t;
        s->rtabn = n;
    }
    if (grow((void **)&s->reg, &s->capreg, s->nreg + 1, sizeof *s->reg) != 0)
        return NULL;
    for (i = hash_u64(key) & (s->rtabn - 1); s->rtab[i] >= 0; i = (i + 1) & (s->rtabn - 1))
        ;
    r = &s->reg[s->nreg];
    memset(r, 0, sizeof *r);
    r->key = key;
    r->best_row = -1;
    s->rtab[i] = (int32_t)s->nreg++;
    return r;
}

static int strat_init(struct lstrat *s, const char *name, const struct param_schema *ps, size_t np)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->np = np;
    s->p = calloc(np ? np : 1, sizeof *s->p);
    s->mr = calloc(np ? np : 1, sizeof *s->mr);
    s->mn = calloc(np ? np : 1, sizeof *s->mn);
    s->uc = calloc(np ? np : 1, sizeof *s->uc);
    s->uvary = calloc(np ? np : 1, sizeof *s->uvary);
    if (s->p == NULL || s->mr == NULL || s->mn == NULL || s->uc == NULL || s->uvary == NULL)
        return -1;
    for (size_t j = 0; j < np; j++) {
        struct learn_param *p = &s->p[j];
        snprintf(p->name, sizeof p->name, "%s", ps[j].name);
        p->type = ps[j].type;
        p->def = ps[j].def;
        p->min = ps[j].min;
        p->max = ps[j].max;
        p->kind = p->type == PT_BOOLEAN                               ? LK_BOOL
                  : p->def > 0 && p->min >= 0 && p->max > 16 * p->def ? LK_LOG
                                                                      : LK_LIN;
    }
    return 0;
}

static void model_free(struct lmodel *m)
{
    json_decref(m->rec);
    free(m->gp_rows);
    learn_gp_free(&m->gp);
}

static void strat_free(struct lstrat *s)
{
    free(s->p);
    free(s->id);
    free(s->t);
    free(s->x);
    for (size_t j = 0; s->uc && j < s->np; j++)
        free(s->uc[j]);
    free(s->uc);
    free(s->uvary);
    free(s->reward);
    free(s->dur);
    free(s->state);
    free(s->sym);
    free(s->ops);
    free(s->prov);
    free(s->key);
    free(s->mr);
    free(s->mn);
    free(s->reg);
    free(s->rtab);
    free(s->scratch);
    free(s->tl);
    free(s->okf);
    free(s->rwf);
    free(s->heavy);
    free(s->trades);
    free(s->bars);
    free(s->sharpe);
    free(s->oos);
    free(s->synth);
    model_free(&s->m);
    model_free(&s->spare);
}

struct lstrat *learn_strat(struct learn *l, const char *name)
{
    for (size_t i = 0; name && i < l->nst; i++)
        if (strcmp(l->st[i].name, name) == 0)
            return &l->st[i];
    return NULL;
}

static struct lstrat *strat_add(struct learn *l, const char *name, const struct param_schema *ps,
                                size_t np)
{
    struct lstrat *st = realloc(l->st, (l->nst + 1) * sizeof *st);
    if (st == NULL)
        return NULL;
    l->st = st;
    if (strat_init(&st[l->nst], name, ps, np) != 0) {
        strat_free(&st[l->nst]);
        return NULL;
    }
    return &st[l->nst++];
}

struct lstrat *learn_strat_for(struct learn *l, const struct strategy_def *def)
{
    struct lstrat *s = learn_strat(l, def->name);
    return s ? s : strat_add(l, def->name, def->params, def->nparams);
}

/* Grow every column of s to hold one more row. */
static int strat_reserve(struct lstrat *s)
{
    size_t cap = s->cap, np = s->np ? s->np : 1;
    if (s->n < s->cap)
        return 0;
    cap = cap ? cap * 2 : 256;
#define G(f, per)                                                                                  \
    do {                                                                                           \
        void *q = realloc(s->f, cap * (per) * sizeof *s->f);                                       \
        if (q == NULL)                                                                             \
            return -1;                                                                             \
        s->f = q;                                                                                  \
    } while (0)
    G(id, 1);
    G(t, 1);
    G(x, np);
    for (size_t j = 0; j < s->np; j++)
        G(uc[j], 1);
    G(reward, 1);
    G(dur, 1);
    G(state, 1);
    G(sym, 1);
    G(ops, 1);
    G(prov, 1);
    G(key, 1);
    G(scratch, 1);
    G(tl, 1);
    G(okf, 1);
    G(rwf, 1);
    G(trades, 1);
    G(bars, 1);
    G(sharpe, 1);
    G(oos, 1);
    G(synth, 1);
#undef G
    {
        uint8_t *h = realloc(s->heavy, cap + 8);
        if (h == NULL)
            return -1;
        s->heavy = h;
    }
    s->cap = cap;
    return 0;
}

static int learns_state(int state)
{
    return state == TS_SUCCEEDED || state == TS_FAILED || state == TS_TIMEOUT;
}

/* Binary search for id in l->rows: its index, or the insertion point with
 * *found = 0. */
static size_t rows_find(const struct learn *l, int64_t id, int *found)
{
    size_t lo = 0, hi = l->nrows;
    if (l->nrows && l->rows[l->nrows - 1].id < id) {
        *found = 0;
        return l->nrows;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->rows[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < l->nrows && l->rows[lo].id == id;
    return lo;
}

/* Add one trajectory. x holds s->np values. Returns 0, or -1 (no memory:
 * the index is unchanged). */

int learn_add_row(struct learn *l, struct lstrat *s, int64_t id, int64_t t, int state,
                  double reward, double pred, double dur, int32_t sym, int32_t prov, int32_t ops,
                  const double *x, const struct learn_facts *f)
{
    struct learn_region *r;
    size_t at, i = s->n;
    int found, ok = state == TS_SUCCEEDED;
    uint64_t key = 0;
    double u[64];
    int bin[64];

    for (size_t j = 0; j < s->np; j++) { /* u and bins once (learn_key's rule) */
        u[j] = learn_u(&s->p[j], x[j]);
        bin[j] = learn_bin(&s->p[j], u[j]);
        if (j < LEARN_MAXP)
            key |= (uint64_t)bin[j] << (3 * j);
    }
    at = rows_find(l, id, &found);
    if (found)
        return 0;
    if (grow((void **)&l->rows, &l->caprows, l->nrows + 1, sizeof *l->rows) != 0 ||
        strat_reserve(s) != 0 || (r = region_get(s, key)) == NULL)
        return -1;
    memmove(&l->rows[at + 1], &l->rows[at], (l->nrows - at) * sizeof *l->rows);
    l->rows[at] = (struct learn_row){.id = id,
                                     .t = t,
                                     .reward = reward,
                                     .pred = pred,
                                     .pred_r = f->pred_r,
                                     .pred_lo = f->pred_lo,
                                     .pred_hi = f->pred_hi,
                                     .strat = (uint16_t)(s - l->st),
                                     .ok = (uint8_t)ok};
    l->nrows++;

    if (i == 0) {
        s->t0 = t;
        s->prov0 = prov;
    } else if (prov != s->prov0) {
        s->multiprov = 1;
    }
    s->id[i] = id;
    s->t[i] = t;
    s->tl[i] = (float)(M_LN2 / LEARN_HALF_LIFE_MS * (double)(t - s->t0));
    s->okf[i] = ok ? 1.0f : 0.0f;
    s->ntimeout += state == TS_TIMEOUT;
    s->rwf[i] = (float)reward;
    s->reward[i] = reward;
    s->dur[i] = (float)dur;
    s->state[i] = (uint8_t)state;
    s->sym[i] = sym;
    s->prov[i] = prov;
    s->ops[i] = ops;
    s->key[i] = key;
    s->trades[i] = (float)f->trades;
    s->bars[i] = (float)f->bars;
    s->sharpe[i] = f->sharpe;
    s->oos[i] = f->oos;
    s->synth[i] = (uint8_t)(f->synthetic != 0);
    s->noos[s->synth[i]] += !isnan(f->oos);
    if (i > 0 && s->synth[i] != s->synth[0])
        s->mixsynth = 1;
    for (size_t j = 0; j < s->np; j++) {
        s->x[i * s->np + j] = x[j];
        s->uc[j][i] = (float)u[j];
        if (i > 0 && s->uc[j][i] != s->uc[j][0])
            s->uvary[j] = 1;
        s->mn[j][bin[j]]++;
        s->mr[j][bin[j]] += reward;
    }
    s->n++;
    s->ok += ok;
    s->rsum += reward;
    if (t > s->tmax)
        s->tmax = t;
    r->n++;
    r->ok += ok;
    r->rsum += reward;
    if (r->best_row < 0 || reward > s->reward[r->best_row])
        r->best_row = (int64_t)i;
    atomic_fetch_add(&l->version, 1); /* learn_version: the daemon's pump polls it */
    return 0;
}

uint64_t learn_version(struct learn *l)
{
    return l ? atomic_load(&l->version) : 0;
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

void learn_observe(struct learn *l, const struct learn_obs *o)
{
    struct lstrat *s;
    double x[64];
    struct learn_facts f;

    if (l == NULL || o == NULL)
        return;
    f.pred_r = jnum(o->prediction, "expectedReward");
    {
        json_t *iv = json_object_get(o->prediction, "rewardInterval");
        f.pred_lo = json_array_size(iv) == 2 ? json_number_value(json_array_get(iv, 0)) : NAN;
        f.pred_hi = json_array_size(iv) == 2 ? json_number_value(json_array_get(iv, 1)) : NAN;
    }
    f.trades = jnum(o->result, "trades");
    f.bars = jnum(o->result, "bars");
    f.sharpe = jnum(o->result, "sharpe");
    f.oos = jnum(json_object_get(o->result, "outOfSample"), "sharpe");
    f.synthetic = json_is_true(json_object_get(o->result, "synthetic"));
    pthread_mutex_lock(&l->lock);
    if ((s = learn_strat(l, o->strategy)) != NULL && s->np <= 64) {
        learn_values(s, o->params, x);
        learn_pending_done(l, s, x); /* whatever the outcome, it is no longer pending */
        l->observed = 1;
        if (learns_state(o->state))
            learn_add_row(l, s, o->id, o->created_at, o->state, o->reward,
                          jnum(o->prediction, "expectedSuccessRate"), o->duration_ms,
                          learn_intern(l, o->symbol),
                          learn_intern(l, o->provider ? o->provider : "local"),
                          learn_intern(l, o->op_sequence), x, &f);
    }
    pthread_mutex_unlock(&l->lock);
}

/* --- open and free --------------------------------------------------------- */

void learn_free(struct learn *l)
{
    if (l == NULL)
        return;
    if (l->store != NULL && l->model_searched && !l->observed && l->seen >= 0)
        learn_cache_save(l, l->seen); /* the model's hyperparameters, for the next start */
    for (size_t i = 0; i < l->nst; i++)
        strat_free(&l->st[i]);
    for (size_t i = 0; i < l->nstr; i++)
        free(l->str[i]);
    for (size_t i = 0; i < l->npend; i++)
        free(l->pend[i].x);
    free(l->st);
    free(l->rows);
    free(l->str);
    free(l->stab);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

struct load_ctx {
    struct learn *l;
    struct sd_err *err;
    int64_t seen;
};

static int load_row(const struct store_learn_row *r, void *arg)
{
    struct load_ctx *c = arg;
    struct learn *l = c->l;
    struct lstrat *s = learn_strat(l, r->strategy);
    json_t *params;
    double x[64];
    struct learn_facts f;

    c->seen++;
    if (r->id > l->maxseen)
        l->maxseen = r->id;
    if (s == NULL || s->np > 64)
        return 0;
    params = r->params ? json_loads(r->params, 0, NULL) : NULL;
    learn_values(s, params, x);
    json_decref(params);
    f = (struct learn_facts){r->pred_reward, r->pred_lo, r->pred_hi,    r->trades,
                             r->bars,        r->sharpe,  r->oos_sharpe, r->synthetic};
    if (learn_add_row(l, s, r->id, r->created_at, traj_state_from_name(r->status), r->reward,
                      r->predicted, r->duration_ms, learn_intern(l, r->symbol),
                      learn_intern(l, r->provider), learn_intern(l, r->op_sequence), x, &f) != 0)
        return sd_err_set(c->err, SD_ENOMEM, "learning: out of memory building the index");
    return 0;
}

int learn_load_rows(struct learn *l, int64_t after, int64_t *seen, struct sd_err *err)
{
    struct load_ctx c = {l, err, 0};
    int rc = store_learn_rows_after(l->store, after, load_row, &c, err) == 0 ? 0 : -1;
    *seen = c.seen;
    return rc;
}

/* Fill l from the saved index and the store (use_cache), else from the
 * store alone, saving the index for the next start. 0, 2 (l half filled by
 * a torn cache: start afresh without it) or -1 with err. */
static int load(struct learn *l, int use_cache, struct sd_err *err)
{
    int64_t seen = 0;
    int rc = use_cache ? learn_cache_load(l, &seen, err) : 1;
    if (rc == 0)
        l->seen = seen;
    if (rc != 1)
        return rc;
    if (learn_load_rows(l, INT64_MIN, &seen, err) != 0)
        return -1;
    l->seen = seen;
    learn_cache_save(l, seen);
    return 0;
}

/* learn_open_defs, with or without the saved index; 2 in *torn when a
 * torn cache left it half filled (NULL returned). */
static struct learn *open_defs(struct store *s, const struct strategy_def *defs, size_t ndefs,
                               int use_cache, int *torn, struct sd_err *err)
{
    struct learn *l = calloc(1, sizeof *l);
    int rc;
    if (l == NULL) {
        sd_err_set(err, SD_ENOMEM, "learning: out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    l->store = s;
    l->min_trades = LEARN_MIN_TRADES;
    for (size_t i = 0; i < ndefs; i++) {
        if (strat_add(l, defs[i].name, defs[i].params, defs[i].nparams) == NULL) {
            sd_err_set(err, SD_ENOMEM, "learning: out of memory");
            learn_free(l);
            return NULL;
        }
    }
    if (s != NULL && (rc = load(l, use_cache, err)) != 0) {
        *torn = rc == 2;
        learn_free(l);
        return NULL;
    }
    return l;
}

struct learn *learn_open_defs(struct store *s, const struct strategy_def *defs, size_t ndefs,
                              struct sd_err *err)
{
    int torn = 0;
    struct learn *l = open_defs(s, defs, ndefs, 1, &torn, err);
    if (l == NULL && torn) /* a torn cache: once more from the store alone */
        l = open_defs(s, defs, ndefs, 0, &torn, err);
    return l;
}

struct learn *learn_open(struct store *s, const struct catalog *cat, struct sd_err *err)
{
    size_t n = cat ? catalog_count(cat) : 0;
    struct strategy_def *defs = calloc(n ? n : 1, sizeof *defs);
    struct learn *l;
    if (defs == NULL) {
        sd_err_set(err, SD_ENOMEM, "learning: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        defs[i] = *catalog_at(cat, i);
    l = learn_open_defs(s, defs, n, err);
    free(defs);
    return l;
}

/* --- stats ----------------------------------------------------------------- */

struct acc {
    size_t n, w, seen, ok, npred, correct, maj_correct;
    double rsum, first, recent, brier, base_brier;
    /* reward predictions: count, absolute errors of the model and of the
     * running mean, interval hits; the pairs for rank correlation and slope */
    size_t nr, niv, hits;
    double ae, base_ae;
    double *pr, *rr;
};

/* The running baselines of one strategy: mean reward and successes so far. */
struct base {
    size_t n, ok;
    double rsum;
};

static void acc_add(struct acc *a, const struct learn_row *r, const struct base *b)
{
    a->seen++;
    a->ok += r->ok;
    a->rsum += r->reward;
    if (a->seen <= a->w)
        a->first += r->reward;
    if (a->seen > a->n - a->w)
        a->recent += r->reward;
    if (!isnan(r->pred)) {
        double e = r->pred - r->ok, pb = b->n ? (double)b->ok / (double)b->n : 0.5;
        a->npred++;
        a->correct += (r->pred >= 0.5) == r->ok;
        a->maj_correct += (pb >= 0.5) == r->ok; /* the majority so far */
        a->brier += e * e;
        a->base_brier += (pb - r->ok) * (pb - r->ok);
    }
    if (!isnan(r->pred_r)) {
        double base = b->n ? b->rsum / (double)b->n : 0.5;
        if (a->pr != NULL) {
            a->pr[a->nr] = r->pred_r;
            a->rr[a->nr] = r->reward;
        }
        a->nr++;
        a->ae += fabs(r->pred_r - r->reward);
        a->base_ae += fabs(base - r->reward);
        if (!isnan(r->pred_lo) && !isnan(r->pred_hi)) {
            a->niv++;
            a->hits += r->reward >= r->pred_lo && r->reward <= r->pred_hi;
        }
    }
}

static json_t *num_or_null(int have, double v)
{
    return have && isfinite(v) ? json_real(v) : json_null();
}

static const double *rank_key;
static int cmp_rank(const void *x, const void *y)
{
    double a = rank_key[*(const size_t *)x], b = rank_key[*(const size_t *)y];
    return (a > b) - (a < b);
}

/* Ranks of v[0..n) into out (ties share their mean rank). -1: no memory. */
static int ranks(const double *v, size_t n, double *out)
{
    size_t *ix = malloc((n ? n : 1) * sizeof *ix);
    if (ix == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    rank_key = v;
    qsort(ix, n, sizeof *ix, cmp_rank);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[ix[j + 1]] == v[ix[i]])
            j++;
        for (size_t k = i; k <= j; k++)
            out[ix[k]] = (double)(i + j) / 2 + 1;
        i = j + 1;
    }
    free(ix);
    return 0;
}

/* Pearson correlation of a and b; NAN when either is constant. */
static double pearson(const double *a, const double *b, size_t n, double *slope)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (slope != NULL)
        *slope = saa > 0 ? sab / saa : NAN;
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

/* Reward skill: {predictions, mae, baselineMae, skill, rankCorrelation,
 * calibrationSlope, intervals, intervalCoverage}. */
static json_t *reward_json(const struct acc *a)
{
    double rho = NAN, slope = NAN;
    if (a->nr >= 3 && a->pr != NULL) {
        double *ra = malloc(a->nr * sizeof *ra), *rb = malloc(a->nr * sizeof *rb);
        if (ra && rb && ranks(a->pr, a->nr, ra) == 0 && ranks(a->rr, a->nr, rb) == 0)
            rho = pearson(ra, rb, a->nr, NULL);
        pearson(a->pr, a->rr, a->nr, &slope);
        free(ra);
        free(rb);
    }
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "predictions", (json_int_t)a->nr,
                     "mae", num_or_null(a->nr > 0, a->ae / (double)a->nr), "baselineMae",
                     num_or_null(a->nr > 0, a->base_ae / (double)a->nr), "skill",
                     num_or_null(a->nr > 0 && a->base_ae > 0, 1 - a->ae / a->base_ae),
                     "rankCorrelation", num_or_null(1, rho), "calibrationSlope",
                     num_or_null(1, slope), "intervals", (json_int_t)a->niv, "intervalCoverage",
                     num_or_null(a->niv > 0, (double)a->hits / (double)a->niv));
}

static json_t *acc_json(const struct acc *a)
{
    double first = a->w ? a->first / a->w : 0, recent = a->w ? a->recent / a->w : 0;
    /* Success is predicted honestly only where it can fail: with no failure
     * every "accuracy" is 1 by construction, so none is reported. */
    int fails = a->ok<a->n, have = a->npred> 0 && fails;
    json_t *o = json_pack(
        "{s:I, s:I, s:o, s:o, s:o, s:{s:I, s:I}, s:o, s:o, s:I}", "totalTrajectories",
        (json_int_t)a->n, "succeeded", (json_int_t)a->ok, "avgSuccessRate",
        num_or_null(a->n > 0, (double)a->ok / (double)a->n), "avgReward",
        num_or_null(a->n > 0, a->rsum / (double)a->n), "improvementRate",
        num_or_null(a->w > 0, (recent - first) / fmax(first, IMPROVE_EPS)), "improvementWindow",
        "first", (json_int_t)a->w, "recent", (json_int_t)a->w, "predictionAccuracy",
        num_or_null(have, (double)a->correct / (double)a->npred), "brierScore",
        num_or_null(have, a->brier / (double)a->npred), "predictions", (json_int_t)a->npred);
    json_object_set_new(o, "reward", reward_json(a));
    json_object_set_new(
        o, "success",
        json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "failures", (json_int_t)(a->n - a->ok),
                  "predictions", (json_int_t)a->npred, "accuracy",
                  num_or_null(have, (double)a->correct / (double)a->npred), "majorityAccuracy",
                  num_or_null(have, (double)a->maj_correct / (double)a->npred), "brierScore",
                  num_or_null(have, a->brier / (double)a->npred), "baselineBrier",
                  num_or_null(have, a->base_brier / (double)a->npred)));
    return o;
}

static void acc_init(struct acc *a, size_t n)
{
    memset(a, 0, sizeof *a);
    a->n = n;
    a->w = n / 4 < 50 ? n / 4 : 50;
    a->pr = malloc((n ? n : 1) * sizeof *a->pr);
    a->rr = malloc((n ? n : 1) * sizeof *a->rr);
    if (a->pr == NULL || a->rr == NULL) { /* rank statistics are then left out */
        free(a->pr);
        free(a->rr);
        a->pr = a->rr = NULL;
    }
}

static void acc_free(struct acc *a)
{
    free(a->pr);
    free(a->rr);
}

json_t *learn_stats(struct learn *l, const char *strategy, struct sd_err *err)
{
    struct acc all = {0}, *per = NULL;
    struct base *bs = NULL;
    json_t *out = NULL, *series = NULL, *by = NULL;
    int want = -1;
    size_t n, bucket, bn = 0, bok = 0;
    double brs = 0;

    pthread_mutex_lock(&l->lock);
    if (strategy != NULL) {
        struct lstrat *s = learn_strat(l, strategy);
        if (s == NULL) {
            sd_err_set(err, SD_EUSAGE, "unknown strategy \"%s\"", strategy);
            goto out;
        }
        want = (int)(s - l->st);
        n = s->n;
    } else {
        n = l->nrows;
    }
    if ((per = calloc(l->nst ? l->nst : 1, sizeof *per)) == NULL ||
        (bs = calloc(l->nst ? l->nst : 1, sizeof *bs)) == NULL || (series = json_array()) == NULL ||
        (by = json_object()) == NULL) {
        sd_err_set(err, SD_ENOMEM, "learning: out of memory");
        goto out;
    }
    acc_init(&all, n);
    for (size_t k = 0; want < 0 && k < l->nst; k++)
        acc_init(&per[k], l->st[k].n);
    bucket = n / STATS_SERIES + (n % STATS_SERIES != 0);
    for (size_t i = 0; i < l->nrows; i++) {
        const struct learn_row *r = &l->rows[i];
        if (want >= 0 && r->strat != want)
            continue;
        acc_add(&all, r, &bs[r->strat]);
        if (want < 0)
            acc_add(&per[r->strat], r, &bs[r->strat]);
        bs[r->strat].n++;
        bs[r->strat].ok += r->ok;
        bs[r->strat].rsum += r->reward;
        bn++;
        bok += r->ok;
        brs += r->reward;
        if (bn == bucket || all.seen == n) {
            json_array_append_new(series,
                                  json_pack("{s:I, s:I, s:f, s:f}", "t", (json_int_t)r->t, "n",
                                            (json_int_t)bn, "successRate", (double)bok / (double)bn,
                                            "avgReward", brs / (double)bn));
            bn = bok = 0;
            brs = 0;
        }
    }
    out = acc_json(&all);
    if (strategy != NULL)
        json_object_set_new(out, "strategyName", json_string(strategy));
    for (size_t k = 0; want < 0 && k < l->nst; k++)
        json_object_set_new(by, l->st[k].name, acc_json(&per[k]));
    json_object_set_new(out, "series", series);
    series = NULL;
    if (want < 0) {
        json_object_set_new(out, "byStrategy", by);
        by = NULL;
    }
out:
    pthread_mutex_unlock(&l->lock);
    json_decref(series);
    json_decref(by);
    acc_free(&all);
    for (size_t k = 0; per != NULL && k < l->nst; k++)
        acc_free(&per[k]);
    free(per);
    free(bs);
    return out;
}

void learn_set_min_trades(struct learn *l, int n)
{
    pthread_mutex_lock(&l->lock);
    if (n < 0)
        n = LEARN_MIN_TRADES;
    if (n != l->min_trades)
        for (size_t k = 0; k < l->nst; k++) { /* the cached recommendations used the old one */
            json_decref(l->st[k].m.rec);
            l->st[k].m.rec = NULL;
            json_decref(l->st[k].spare.rec);
            l->st[k].spare.rec = NULL;
        }
    l->min_trades = n;
    pthread_mutex_unlock(&l->lock);
}
