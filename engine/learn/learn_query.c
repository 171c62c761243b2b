/*
 * learn_query.c: suggestions, patterns and auto-optimisation over the
 * learning index (learn_int.h; the parameter space is described in learn.c).
 *
 * SUGGESTION (learn_suggest)
 * Every learned run r of the strategy is evidence for a query q with weight
 *     w = exp(-d^2 / (2 h^2)) * 2^(-age / H) * (1 if same symbol else 1/2)
 * where d^2 = sum over parameters of (u_r - u_q)^2, h = 0.15 (one bin, a
 * factor 2 on a log-scaled parameter, weighs 0.25; two bins 0.004), age is
 * measured back from the strategy's newest run and H = 30 days. Runs whose
 * weight would be below e^-14 count 0; the rest use a polynomial e^-x good to
 * 1e-5 relative (exp_neg). The scan is three passes over column arrays
 * (log-weights, weights and sums, then only the runs heavy enough to cite),
 * the first two on vector lanes: 100 k runs in about 0.4 ms (docs/benchmarks/learn.md).
 * Then:
 *     posterior   Beta(1 + sum w*ok, 1 + sum w*(1 - ok))   (prior Beta(1,1))
 *     expectedSuccessRate = alpha / (alpha + beta)
 *     expectedReward = (sum w*r + r0) / (sum w + 1), r0 = the strategy's mean
 *                      reward (0.5 without runs): shrunk to the prior mean
 *     confidence = W / (W + 5), W = sum w (0 without evidence)
 *     evidence.runs counts runs with w >= 0.05; similar lists the 5 heaviest.
 * Recommendations: the best region (highest Wilson lower bound on success,
 * then mean reward, among regions with >= 5 runs) when the query is not in
 * it and it beats the query's expectation: one set_param per parameter whose
 * bin differs, valued as in that region's best-rewarded run, which is cited.
 * raise_timeout when similar runs (w >= 0.05) timed out: twice the longest of
 * their durations. avoid_provider when a provider's weighted success among
 * similar runs is below 50 % and another's is 30 points higher.
 *
 * PATTERNS (learn_patterns)
 * Runs grouped by (strategy, region, operation sequence), each with its
 * success rate, count, mean reward and the reward's lower bound, ranked by
 * it; a task restricts the runs by ranked task search over traj_fts
 * (docs/learning.md "Patterns", "Task search").
 *
 * AUTO-OPTIMISE is in learn_opt.c (the reward model of learn_gp.c over
 * whole parameter vectors); docs/learning.md describes both.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "learn_int.h"
#include "query.h"
#include "traj.h"

#define KERNEL_H     0.15
#define OTHER_SYMBOL 0.5
#define CONF_K       5.0
#define SIMILAR_W    0.05
#define NSIMILAR     5
#define REGION_MIN_N 5
#define EVIDENCE_MAX 20
#define LOG_W_CUTOFF 14.0

static void fmt_num(char *b, size_t n, const struct learn_param *p, double v)
{
    if (p->type == PT_BOOLEAN)
        snprintf(b, n, "%s", v != 0 ? "true" : "false");
    else
        snprintf(b, n, "%.6g", v);
}

/* "threshold 0.02-0.04" for bin b of p, appended to buf. */
static void region_words(char *buf, size_t n, const struct learn_param *p, int b)
{
    double lo, hi;
    char a[32], z[32];
    size_t len = strlen(buf);
    learn_bin_range(p, b, &lo, &hi);
    fmt_num(a, sizeof a, p, lo);
    fmt_num(z, sizeof z, p, hi);
    if (p->type == PT_BOOLEAN || lo == hi)
        snprintf(buf + len, n - len, "%s%s %s", len ? " " : "", p->name, a);
    else
        snprintf(buf + len, n - len, "%s%s %s-%s", len ? " " : "", p->name, a, z);
}

/* Bit j set when parameter j's bin varies across s's runs. */
static uint64_t varying(const struct lstrat *s)
{
    uint64_t m = 0;
    for (size_t j = 0; j < s->np && j < LEARN_MAXP; j++) {
        int used = 0;
        for (int b = 0; b < LEARN_NBINS; b++)
            used += s->mn[j][b] > 0;
        if (used > 1)
            m |= 1ULL << j;
    }
    return m;
}

static void region_name(char *buf, size_t n, const struct lstrat *s, uint64_t key, uint64_t vary)
{
    buf[0] = 0;
    for (size_t j = 0; j < s->np && j < LEARN_MAXP; j++)
        if (vary & (1ULL << j))
            region_words(buf, n, &s->p[j], learn_key_bin(key, j));
}

static json_t *region_json(const struct lstrat *s, uint64_t key, uint64_t vary)
{
    json_t *o = json_object();
    for (size_t j = 0; j < s->np && j < LEARN_MAXP; j++) {
        double lo, hi;
        if (!(vary & (1ULL << j)))
            continue;
        learn_bin_range(&s->p[j], learn_key_bin(key, j), &lo, &hi);
        json_object_set_new(
            o, s->p[j].name,
            json_pack("[o, o]", learn_param_json(&s->p[j], lo), learn_param_json(&s->p[j], hi)));
    }
    return o;
}

/* --- suggestion ------------------------------------------------------------ */

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4f ld4f(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v4i ld4i(const int32_t *p)
{
    v4i v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st4f(float *p, v4f v)
{
    memcpy(p, &v, sizeof v);
}

static inline v4f as_v4f(v4i v)
{
    v4f f;
    memcpy(&f, &v, sizeof f);
    return f;
}

static inline v4i as_v4i(v4f v)
{
    v4i i;
    memcpy(&i, &v, sizeof i);
    return i;
}

static inline v4f splat(float x)
{
    return (v4f){x, x, x, x};
}
#define BLOCK 1024 /* runs per block of passes 1 and 2: 4 KiB per column */

/* e^-x for 0 <= x <= LOG_W_CUTOFF, to 1e-5 relative (9.5e-6 at most over the
 * range in steps of 1e-5, measured): 2^y with y = -x log2 e, split into an integer n
 * (the float's exponent field) and a fraction f in [0, 1) (a degree-6 Taylor
 * polynomial of e^(f ln 2)). No calls and no branches, so the weight pass
 * vectorises; a weight needs three digits. */
static inline float exp_neg(float x)
{
    float y = 32.0f - x * 1.44269504f; /* in (11, 32] for x in [0, 14] */
    int32_t n = (int32_t)y;            /* floor, y > 0 */
    float f = (y - (float)n) * 0.693147181f;
    float p =
        1.0f +
        f * (1.0f +
             f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720))))));
    uint32_t bits = (uint32_t)(n - 32 + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* exp_neg on four lanes, the same arithmetic. */
static inline v4f exp_neg4(v4f x)
{
    v4f y = 32.0f - x * 1.44269504f;
    v4i n = __builtin_convertvector(y, v4i);
    v4f f = (y - __builtin_convertvector(n, v4f)) * 0.693147181f;
    v4f p =
        1.0f +
        f * (1.0f +
             f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720))))));
    return p * as_v4f((n - 32 + 127) << 23);
}

struct near {
    double w;
    size_t row;
};

/* Insert (w, row) into the list of the NSIMILAR heaviest runs, by weight. */
static void near_add(struct near *nb, size_t *nnb, double w, size_t row)
{
    size_t k;
    if (*nnb == NSIMILAR && w <= nb[NSIMILAR - 1].w)
        return;
    k = *nnb < NSIMILAR ? (*nnb)++ : NSIMILAR - 1;
    while (k > 0 && nb[k - 1].w < w) {
        nb[k] = nb[k - 1];
        k--;
    }
    nb[k] = (struct near){w, row};
}

static void add_line(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_line(json_t *arr, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_array_append_new(arr, json_string(buf));
}

static void describe_run(char *buf, size_t n, const struct learn *l, const struct lstrat *s,
                         size_t i)
{
    size_t len;
    const char *sym = learn_str(l, s->sym[i]);
    snprintf(buf, n, "#%lld (", (long long)s->id[i]);
    for (size_t j = 0; j < s->np; j++) {
        char v[32];
        if (s->p[j].type == PT_BOOLEAN || learn_untuned(s->p[j].name))
            continue;
        fmt_num(v, sizeof v, &s->p[j], s->x[i * s->np + j]);
        len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s %s", buf[len - 1] == '(' ? "" : ", ", s->p[j].name, v);
    }
    len = strlen(buf);
    snprintf(buf + len, n - len, "%s%s) %s, reward %.2f", sym ? ", " : "", sym ? sym : "",
             traj_state_name(s->state[i]), s->reward[i]);
}

json_t *learn_suggest(struct learn *l, const struct strategy_def *def, json_t *params,
                      const char *symbol, struct sd_err *err)
{
    json_t *resolved, *out = NULL, *reasons, *ops, *similar;
    struct lstrat *s;
    float qf[64];
    double q[64], qx[64], W = 0, Wok = 0, Wr = 0, maxto = 0, alpha, beta, r0, esr, er;
    double pw[LEARN_MAXPROV] = {0}, pok[LEARN_MAXPROV] = {0};
    int32_t pid[LEARN_MAXPROV], qsym;
    int qsynth;
    double mlo = NAN, mhi = NAN, mm = NAN, er_k;
    json_t *rec = NULL;
    struct near nb[NSIMILAR];
    size_t nnb = 0, runs = 0, nto = 0, np;
    const double inv2h2 = 1.0 / (2 * KERNEL_H * KERNEL_H), lam = M_LN2 / LEARN_HALF_LIFE_MS;

    if (def == NULL)
        return sd_err_set(err, SD_EUSAGE, "no strategy given"), NULL;
    if ((resolved = learn_resolve(def, params, err)) == NULL)
        return NULL;
    for (int k = 0; k < LEARN_MAXPROV; k++)
        pid[k] = -1;
    pthread_mutex_lock(&l->lock);
    if ((s = learn_strat_for(l, def)) == NULL || s->np > 64) {
        sd_err_set(err, SD_ENOMEM, "learning: cannot index strategy \"%s\"", def->name);
        goto out;
    }
    np = s->np;
    learn_values(s, resolved, qx);
    for (size_t j = 0; j < np; j++) {
        q[j] = (float)learn_u(&s->p[j], qx[j]);
        qf[j] = (float)q[j];
    }
    qsym = -1;
    for (size_t k = 0; symbol && k < l->nstr; k++)
        if (strcmp(l->str[k], symbol) == 0)
            qsym = (int32_t)k;
    qsynth = learn_symbol_synthetic(l, s, qsym);

    /* Three passes over the strategy's columns. The first two run on four
     * lanes at a time with no calls and no branches; together they were the
     * whole cost at 100 k runs. Pass 3 visits only the runs heavy enough to
     * be cited. */
    {
        const float tq = (float)(lam * (double)(s->tmax - s->t0)), ih = (float)inv2h2;
        const float ls = symbol ? (float)M_LN2 : 0.0f, cut = (float)LOG_W_CUTOFF;
        float *restrict lw = s->scratch;
        uint8_t *restrict hv = s->heavy;
        const float *restrict okf = s->okf, *restrict rwf = s->rwf;
        size_t i = 0, n = s->n;

        float base = tq; /* columns with one value for every run: once */
        uint8_t use[64]; /* columns in the distance: varying and tuned */
        for (size_t j = 0; j < np; j++)
            use[j] = s->uvary[j] && !learn_untuned(s->p[j].name);
        for (size_t j = 0; j < np && n > 0; j++)
            if (!s->uvary[j] && !learn_untuned(s->p[j].name))
                base += (s->uc[j][0] - qf[j]) * (s->uc[j][0] - qf[j]) * ih;
        /* Passes 1 and 2 run block by block so a block's columns stay in the
         * L1 cache between them, four runs at a time in vector registers
         * (GCC/Clang vector extensions); each block's sums go to doubles. */
        for (size_t b0 = 0; b0 < n; b0 += BLOCK) {
            size_t b1 = b0 + BLOCK < n ? b0 + BLOCK : n, v1 = b0 + (b1 - b0) / 4 * 4;
            v4f aw = {0}, aok = {0}, ar = {0};
            const v4i qs = {qsym, qsym, qsym, qsym};
            for (i = b0; i < v1; i += 4) { /* pass 1: log-weights */
                v4i other = ld4i(&s->sym[i]) != qs;
                v4f x = (base - ld4f(&s->tl[i])) + as_v4f(other & as_v4i(splat(ls)));
                for (size_t j = 0; j < np; j++) {
                    v4f e;
                    if (!use[j])
                        continue;
                    e = ld4f(&s->uc[j][i]) - qf[j];
                    x += e * e * ih;
                }
                st4f(&lw[i], x);
            }
            for (; i < b1; i++) {
                float x = (base - s->tl[i]) + (s->sym[i] != qsym ? ls : 0.0f);
                for (size_t j = 0; j < np; j++)
                    if (use[j])
                        x += (s->uc[j][i] - qf[j]) * (s->uc[j][i] - qf[j]) * ih;
                lw[i] = x;
            }
            if (s->mixsynth) /* synthetic series never count for real ones, nor back */
                for (i = b0; i < b1; i++)
                    if (s->synth[i] != qsynth)
                        lw[i] = cut + 1;
            for (i = b0; i < v1; i += 4) { /* pass 2: weights and sums */
                v4f x = ld4f(&lw[i]), w;
                v4i in = x <= cut, heavy4;
                w = exp_neg4(as_v4f((as_v4i(x) & in) | (as_v4i(splat(cut)) & ~in)));
                w = as_v4f(as_v4i(w) & in);
                heavy4 = w >= (float)SIMILAR_W;
                st4f(&lw[i], w);
                hv[i / 4] = (uint8_t)((heavy4[0] & 1) | (heavy4[1] & 2) | (heavy4[2] & 4) |
                                      (heavy4[3] & 8));
                aw += w;
                aok += w * ld4f(&okf[i]);
                ar += w * ld4f(&rwf[i]);
            }
            if (i < b1)
                hv[i / 4] = 0;
            for (; i < b1; i++) {
                float x = lw[i], w = x <= cut ? exp_neg(x) : 0.0f;
                lw[i] = w;
                hv[i / 4] |= (uint8_t)((w >= (float)SIMILAR_W) << (i % 4));
                W += w;
                Wok += w * okf[i];
                Wr += w * rwf[i];
            }
            for (int k = 0; k < 4; k++) {
                W += aw[k];
                Wok += aok[k];
                Wr += ar[k];
            }
        }
        if (n > 0)
            memset(&hv[(n + 3) / 4], 0, 8); /* pass 3 reads whole words */
        if (!s->multiprov && n > 0) {
            pid[0] = s->prov0;
            pw[0] = W;
            pok[0] = Wok;
        }
        if (s->multiprov) { /* providers: only when the runs name several */
            for (i = 0; i < n; i++) {
                if (lw[i] <= 0)
                    continue;
                for (int k = 0; k < LEARN_MAXPROV; k++) {
                    if (pid[k] == s->prov[i] || pid[k] < 0) {
                        pid[k] = s->prov[i];
                        pw[k] += lw[i];
                        pok[k] += lw[i] * okf[i];
                        break;
                    }
                }
            }
        }
        /* pass 3: the heavy runs (bit i % 4 of hv[i / 4], set by pass 2),
         * 32 flags a word; then, only if fewer than NSIMILAR were heavy, the
         * lighter runs for the nearest-run citations (every heavy run
         * outweighs every light one, so a full list needs no second look). */
        for (size_t g = 0; g < (n + 3) / 4; g += 8) {
            uint64_t word;
            memcpy(&word, &hv[g], sizeof word);
            runs += (size_t)__builtin_popcountll(word);
            while (word != 0) {
                int bit = __builtin_ctzll(word);
                size_t k = g * 4 + (size_t)(bit / 8) * 4 + (size_t)(bit % 8);
                word &= word - 1;
                if (s->ntimeout > 0 && s->state[k] == TS_TIMEOUT) {
                    nto++;
                    maxto = fmax(maxto, s->dur[k]);
                }
                if (nnb < NSIMILAR || lw[k] > nb[NSIMILAR - 1].w)
                    near_add(nb, &nnb, lw[k], k);
            }
        }
        if (nnb < NSIMILAR)
            for (i = 0; i < n; i++)
                if (lw[i] > 0 && !(hv[i / 4] >> (i % 4) & 1))
                    near_add(nb, &nnb, lw[i], i);
    }
    alpha = 1 + Wok;
    beta = 1 + (W - Wok);
    r0 = s->n ? s->rsum / (double)s->n : 0.5;
    esr = alpha / (alpha + beta);
    er = er_k = (Wr + r0) / (W + 1);

    reasons = json_array();
    ops = json_array();
    similar = json_array();
    for (size_t k = 0; k < nnb; k++)
        json_array_append_new(similar, json_integer(s->id[nb[k].row]));
    if (W <= 0 || s->n == 0) {
        add_line(reasons,
                 "no evidence: %zu past %s runs%s, none similar; expected success is the "
                 "prior Beta(1,1) mean, 50%%",
                 s->n, def->name, s->n ? "" : " (none yet)");
    } else {
        char run[512];
        add_line(reasons,
                 "%zu similar run(s) (weight %.2f of %zu %s runs, kernel h=%.2f, half-life 30 "
                 "days%s)",
                 runs, W, s->n, def->name, KERNEL_H, symbol ? ", other symbols count half" : "");
        add_line(reasons,
                 "weighted successes %.2f of %.2f: posterior Beta(%.2f, %.2f), expected "
                 "success %.0f%%, expected reward %.3f (strategy mean %.3f)",
                 Wok, W, alpha, beta, 100 * esr, er, r0);
        describe_run(run, sizeof run, l, s, nb[0].row);
        add_line(reasons, "nearest run %s", run);
    }

    /* The model (learn_opt.c): the reward expected here with its 90 %
     * interval, and the whole parameter set it rates best. */
    if (s->n > 0 && learn_model_predict(l, s, qx, qsym, &mm, &mlo, &mhi) == 0) {
        er = mm;
        add_line(reasons,
                 "reward model (%zu runs, length scale %.2f, noise sd %.3f): expected reward "
                 "%.3f, 90%% interval %.3f to %.3f",
                 s->m.gp.n, s->m.gp.ell, sqrt(s->m.gp.sf2 * s->m.gp.eta) * s->m.gp.ysd, mm, mlo,
                 mhi);
    }
    if (s->n > 0 && (rec = learn_model_recommend(l, s, qsym)) != NULL) {
        json_t *rp = json_object_get(rec, "params"), *sh = json_object_get(rec, "sharpe");
        json_int_t few = json_integer_value(json_object_get(rec, "tooFewTrades"));
        if (!json_is_object(rp)) {
            add_line(reasons, "no parameter set to recommend: every run has fewer than %d trades",
                     l->min_trades);
        } else {
            char why[1024], ids[128] = "";
            size_t k, used = 0;
            json_t *id;
            json_array_foreach(json_object_get(rec, "restsOn"), k, id) used +=
                (size_t)snprintf(ids + used, sizeof ids - used, "%s#%lld", k ? " " : "",
                                 (long long)json_integer_value(id));
            snprintf(why, sizeof why,
                     "best parameter set by the model (%s reward): run #%lld's, predicted %.3f "
                     "(90%% %.3f to %.3f), resting on %s",
                     json_string_value(json_object_get(rec, "basis")),
                     (long long)json_integer_value(json_object_get(rec, "run")),
                     json_number_value(json_object_get(rec, "predictedReward")),
                     json_number_value(json_array_get(json_object_get(rec, "interval"), 0)),
                     json_number_value(json_array_get(json_object_get(rec, "interval"), 1)), ids);
            if (sh != NULL && json_is_number(json_object_get(sh, "deflated")))
                snprintf(why + strlen(why), sizeof why - strlen(why),
                         "; Sharpe %.2f, deflated for %lld trials: %.0f%% likely above zero skill",
                         json_number_value(json_object_get(sh, "value")),
                         (long long)json_integer_value(json_object_get(sh, "trials")),
                         100 * json_number_value(json_object_get(sh, "deflated")));
            if (few > 0)
                snprintf(why + strlen(why), sizeof why - strlen(why),
                         "; %lld run(s) with fewer than %d trades not considered", (long long)few,
                         l->min_trades);
            add_line(reasons, "%s", why);
            if (!json_is_true(json_object_get(rec, "significant")))
                add_line(reasons,
                         "not recommended: its deflated Sharpe is below %.0f%%, so the best of "
                         "%lld parameter sets tried does not beat what selection luck gives",
                         100 * LEARN_DSR_MIN,
                         (long long)json_integer_value(json_object_get(sh, "trials")));
            for (size_t j = 0; j < np && json_is_true(json_object_get(rec, "significant")); j++) {
                json_t *v = json_object_get(rp, s->p[j].name);
                if (learn_untuned(s->p[j].name) || v == NULL ||
                    fabs(json_number_value(v) - qx[j]) < 1e-12 ||
                    (json_is_boolean(v) && json_is_true(v) == (qx[j] != 0)))
                    continue;
                json_array_append_new(ops, json_pack("{s:s, s:s, s:O, s:s}", "op", "set_param",
                                                     "name", s->p[j].name, "value", v, "why", why));
            }
        }
    }
    if (nto > 0) {
        char why[256];
        snprintf(why, sizeof why, "%zu of %zu similar runs timed out (longest %.0f s)", nto, runs,
                 maxto / 1000);
        add_line(reasons, "%s", why);
        json_array_append_new(ops, json_pack("{s:s, s:I, s:s}", "op", "raise_timeout", "timeoutMs",
                                             (json_int_t)ceil(2 * maxto), "why", why));
    }
    for (int k = 0; k < LEARN_MAXPROV && pid[k] >= 0; k++) {
        for (int m = 0; m < LEARN_MAXPROV && pid[m] >= 0; m++) {
            double rk, rm;
            char why[256];
            if (m == k || pw[k] < 1 || pw[m] < 1)
                continue;
            rk = pok[k] / pw[k];
            rm = pok[m] / pw[m];
            if (rk >= 0.5 || rm < rk + 0.3)
                continue;
            snprintf(why, sizeof why,
                     "similar runs on %s succeeded %.0f%% (weight %.1f), on %s %.0f%% (weight "
                     "%.1f)",
                     learn_str(l, pid[k]), 100 * rk, pw[k], learn_str(l, pid[m]), 100 * rm, pw[m]);
            add_line(reasons, "%s", why);
            json_array_append_new(ops, json_pack("{s:s, s:s, s:s, s:s}", "op", "avoid_provider",
                                                 "provider", learn_str(l, pid[k]), "prefer",
                                                 learn_str(l, pid[m]), "why", why));
            break;
        }
    }
    out = json_pack("{s:s, s:f, s:f, s:f, s:{s:I, s:f, s:f, s:o}, s:{s:f, s:f}, s:o, s:o}",
                    "strategyName", def->name, "expectedSuccessRate", esr, "expectedReward", er,
                    "confidence", W / (W + CONF_K), "evidence", "runs", (json_int_t)runs, "weight",
                    W, "meanReward", er_k, "similar", similar, "posterior", "alpha", alpha, "beta",
                    beta, "reasoning", reasons, "recommendedOperations", ops);
    if (out != NULL && !isnan(mlo))
        json_object_set_new(out, "rewardInterval", json_pack("[f, f]", mlo, mhi));
    if (out != NULL && rec != NULL && json_is_object(json_object_get(rec, "params")))
        json_object_set(out, "recommendation", rec);
    json_decref(rec);
out:
    pthread_mutex_unlock(&l->lock);
    json_decref(resolved);
    return out;
}

/* --- patterns -------------------------------------------------------------- */

/* Words that say nothing about a run: dropped from task text. */
static const char *const stop_words[] = {
    "a",    "an",   "and",  "are",  "as",  "at",    "be",  "by",   "for",  "from",
    "how",  "i",    "in",   "is",   "it",  "its",   "me",  "my",   "of",   "on",
    "or",   "that", "the",  "this", "to",  "was",   "we",  "what", "when", "which",
    "with", "find", "show", "runs", "run", "using", "use", "want", "about"};

static int is_stop(const char *w)
{
    for (size_t i = 0; i < sizeof stop_words / sizeof stop_words[0]; i++)
        if (strcasecmp(stop_words[i], w) == 0)
            return 1;
    return 0;
}

#define TASK_MAXNUM 16

/* A task parsed: the FTS5 queries over its words (all of them, then any),
 * and its numbers, which match parameter values instead of text. */
struct task {
    char *all, *any; /* NULL when the task has no word */
    double num[TASK_MAXNUM];
    size_t nnum;
};

static void task_free(struct task *t)
{
    free(t->all);
    free(t->any);
}

static int word_char(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') || c == '_';
}

/* Split task into words and numbers ("0.04", "20", ".5"); stop words are
 * dropped. SD_EUSAGE when nothing is left. */
static int task_parse(const char *task, struct task *t, struct sd_err *err)
{
    size_t n = strlen(task), la = 0, lo = 0;
    const unsigned char *p = (const unsigned char *)task;
    memset(t, 0, sizeof *t);
    t->all = malloc(n * 8 + 16);
    t->any = malloc(n * 8 + 16);
    if (t->all == NULL || t->any == NULL) {
        task_free(t);
        return sd_err_set(err, SD_ENOMEM, "learning: out of memory");
    }
    while (*p) {
        const unsigned char *q = p;
        char w[256];
        size_t k = 0;
        /* a number: digits with at most one point inside */
        if ((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')) {
            int dots = 0;
            while ((*q >= '0' && *q <= '9') || (*q == '.' && !dots++ && q[1] >= '0' && q[1] <= '9'))
                q++;
            if (!word_char(*q)) {
                if (t->nnum < TASK_MAXNUM)
                    t->num[t->nnum++] = strtod((const char *)p, NULL);
                p = q;
                continue;
            }
            q = p;
        }
        if (!word_char(*p)) {
            p++;
            continue;
        }
        while (word_char(*q)) {
            if (k + 1 < sizeof w)
                w[k++] = (char)*q;
            q++;
        }
        w[k] = 0;
        p = q;
        if (is_stop(w))
            continue;
        la += (size_t)sprintf(t->all + la, "%s\"%s\"", la ? " AND " : "", w);
        lo += (size_t)sprintf(t->any + lo, "%s\"%s\"", lo ? " OR " : "", w);
    }
    if (la == 0) {
        free(t->all);
        free(t->any);
        t->all = t->any = NULL;
    }
    if (t->all == NULL && t->nnum == 0) {
        task_free(t);
        return sd_err_set(err, SD_EUSAGE,
                          "the task text has no words to match (give words, "
                          "e.g. -t \"momentum breakout\")");
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The runs matching the task's words: all of them if any run has all,
 * else any of them (*any set). ids sorted, scores parallel (bm25). */
static int task_ids(struct learn *l, const struct task *t, int64_t **ids, double **scores,
                    size_t *n, int *any, struct sd_err *err)
{
    *ids = NULL;
    *scores = NULL;
    *n = 0;
    *any = 0;
    if (t->all == NULL)
        return 0;
    if (l->store == NULL)
        return sd_err_set(err, SD_EUSAGE, "task search needs a store");
    if (store_task_search(l->store, t->all, ids, scores, n, err) != 0)
        return -1;
    if (*n == 0) {
        free(*ids);
        free(*scores);
        *any = 1;
        return store_task_search(l->store, t->any, ids, scores, n, err);
    }
    return 0;
}

struct member {
    uint64_t key;
    int32_t ops;
    int64_t id;
    size_t row;
    double rel;
};

static int cmp_member(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->ops != y->ops)
        return x->ops < y->ops ? -1 : 1;
    return (x->id < y->id) - (x->id > y->id); /* newest first */
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : -INFINITY;
}

/* Task relevance first (when there is one), then the lower bound on reward
 * (out of sample where the runs have it), then the Wilson bound on success,
 * then count and name. */
static int cmp_pattern(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    static const char *const keys[] = {"relevance", "rewardLowerBound", "confidence"};
    json_int_t nx = json_integer_value(json_object_get(x, "observationCount"));
    json_int_t ny = json_integer_value(json_object_get(y, "observationCount"));
    for (size_t k = 0; k < 3; k++) {
        double cx = jnum(x, keys[k]), cy = jnum(y, keys[k]);
        if (cx != cy)
            return cx < cy ? 1 : -1;
    }
    if (nx != ny)
        return nx < ny ? 1 : -1;
    return strcmp(json_string_value(json_object_get(x, "name")),
                  json_string_value(json_object_get(y, "name")));
}

/* Does run i of s have a parameter equal to every number of t? */
static int numbers_match(const struct lstrat *s, size_t i, const struct task *t)
{
    for (size_t k = 0; k < t->nnum; k++) {
        int hit = 0;
        for (size_t j = 0; j < s->np && !hit; j++) {
            double x = s->x[i * s->np + j];
            hit = !learn_untuned(s->p[j].name) && fabs(x - t->num[k]) <= 1e-9 * fmax(1, fabs(x));
        }
        if (!hit)
            return 0;
    }
    return 1;
}

/* Append the patterns of s (t: restricted to the runs matching it; ids and
 * scores from task_ids). */
static int strat_patterns(struct learn *l, struct lstrat *s, const struct task *t,
                          const int64_t *ids, const double *scores, size_t nids, json_t *out)
{
    struct member *m = malloc((s->n ? s->n : 1) * sizeof *m);
    uint64_t vary = varying(s);
    int32_t common = -1;
    size_t n = 0, cnt = 0;
    if (m == NULL)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        double rel = 0;
        if (t != NULL) {
            if (t->all != NULL) {
                const int64_t *hit =
                    nids ? bsearch(&s->id[i], ids, nids, sizeof *ids, cmp_i64) : NULL;
                if (hit == NULL)
                    continue;
                rel = scores[hit - ids];
            }
            if (!numbers_match(s, i, t))
                continue;
            rel += (double)t->nnum;
        }
        m[n++] = (struct member){s->key[i], s->ops[i], s->id[i], i, rel};
    }
    qsort(m, n, sizeof *m, cmp_member);
    /* The most frequent operation sequence needs no mention in names. */
    {
        int32_t ids16[16];
        size_t c16[16] = {0}, k16 = 0, best = 0;
        for (size_t i = 0; i < n; i++) {
            size_t k = 0;
            while (k < k16 && ids16[k] != m[i].ops)
                k++;
            if (k == k16 && k16 < 16)
                ids16[k16++] = m[i].ops;
            if (k < k16 && ++c16[k] > best) {
                best = c16[k];
                common = ids16[k];
            }
        }
    }
    for (size_t i = 0; i < n; i = i + cnt) {
        size_t ok = 0, noos = 0;
        double rs = 0, rq = 0, os = 0, oq = 0, rel = 0, mean, sd, bn;
        char name[1024];
        const char *ops = learn_str(l, m[i].ops);
        json_t *ev = json_array(), *p;
        for (cnt = 0; i + cnt < n && m[i + cnt].key == m[i].key && m[i + cnt].ops == m[i].ops;
             cnt++) {
            size_t r = m[i + cnt].row;
            ok += s->state[r] == TS_SUCCEEDED;
            rs += s->reward[r];
            rq += s->reward[r] * s->reward[r];
            if (!isnan(s->oos[r])) {
                double o = 0.5 + 0.5 * tanh(s->oos[r] / 2);
                noos++;
                os += o;
                oq += o * o;
            }
            rel = fmax(rel, m[i + cnt].rel);
            if (cnt < EVIDENCE_MAX)
                json_array_append_new(ev, json_integer(m[i + cnt].id));
        }
        snprintf(name, sizeof name, "%s ", s->name);
        region_name(name + strlen(name), sizeof name - strlen(name), s, m[i].key, vary);
        if (vary == 0)
            snprintf(name, sizeof name, "%s, parameters unvaried", s->name);
        if (m[i].ops != common) {
            size_t len = strlen(name);
            snprintf(name + len, sizeof name - len, " via %s", ops ? ops : "no operations");
        }
        /* The reward's 95 % lower bound, out of sample when every run has
         * one (a single run: an assumed sd of 0.25). */
        bn = noos == cnt ? (double)noos : (double)cnt;
        mean = (noos == cnt ? os : rs) / bn;
        sd = bn > 1 ? sqrt(fmax(((noos == cnt ? oq : rq) - bn * mean * mean) / (bn - 1), 0)) : 0.25;
        p = json_pack("{s:s, s:s, s:o, s:f, s:I, s:f, s:f, s:s?, s:o, s:f, s:s, s:o}", "name", name,
                      "strategyName", s->name, "region", region_json(s, m[i].key, vary),
                      "successRate", (double)ok / (double)cnt, "observationCount", (json_int_t)cnt,
                      "meanReward", rs / (double)cnt, "confidence",
                      learn_wilson((double)ok, (double)cnt), "operationSequence", ops, "evidence",
                      ev, "rewardLowerBound", mean - 1.96 * sd / sqrt(bn), "basis",
                      noos == cnt ? "out-of-sample" : "in-sample", "meanOutOfSampleReward",
                      noos ? json_real(os / (double)noos) : json_null());
        if (p != NULL && t != NULL)
            json_object_set_new(p, "relevance", json_real(rel));
        if (p == NULL || json_array_append_new(out, p) != 0) {
            free(m);
            return -1;
        }
    }
    free(m);
    return 0;
}

json_t *learn_patterns(struct learn *l, const char *strategy, const char *task, struct sd_err *err)
{
    int64_t *ids = NULL;
    double *scores = NULL;
    size_t nids = 0, np;
    int any = 0;
    struct task t;
    json_t *out = NULL, **v = NULL;

    if (task != NULL) {
        if (task_parse(task, &t, err) != 0)
            return NULL;
        if (task_ids(l, &t, &ids, &scores, &nids, &any, err) != 0) {
            task_free(&t);
            return NULL;
        }
    }
    pthread_mutex_lock(&l->lock);
    if (strategy != NULL && learn_strat(l, strategy) == NULL) {
        sd_err_set(err, SD_EUSAGE, "unknown strategy \"%s\"", strategy);
        goto out;
    }
    out = json_array();
    for (size_t k = 0; out && k < l->nst; k++) {
        if (strategy != NULL && strcmp(strategy, l->st[k].name) != 0)
            continue;
        if (strat_patterns(l, &l->st[k], task ? &t : NULL, ids, scores, nids, out) != 0) {
            sd_err_set(err, SD_ENOMEM, "learning: out of memory");
            json_decref(out);
            out = NULL;
        }
    }
    np = out ? json_array_size(out) : 0;
    if (np > 1 && (v = malloc(np * sizeof *v)) != NULL) {
        for (size_t i = 0; i < np; i++)
            v[i] = json_incref(json_array_get(out, i));
        qsort(v, np, sizeof *v, cmp_pattern);
        json_array_clear(out);
        for (size_t i = 0; i < np; i++)
            json_array_append_new(out, v[i]);
        free(v);
    }
    for (size_t i = 0; any && i < np; i++) /* say when no run had every word */
        json_object_set_new(json_array_get(out, i), "taskMatch", json_string("any word"));
out:
    pthread_mutex_unlock(&l->lock);
    if (task != NULL)
        task_free(&t);
    free(ids);
    free(scores);
    return out;
}
