/*
 * learn_cache.c: the learning index saved beside the store, so a cold
 * command (`suggest`, `deploy`, `patterns`) need not rebuild it from every
 * trajectory (0.6-0.8 s at 100 k; docs/benchmarks/learn.md).
 *
 * WHERE AND WHAT
 * `<store path>-learn`, mode 0600, written to a temporary name and renamed.
 * Plaintext stores only: an encrypted store seals parameters and results, so
 * their values must not sit in a plaintext file (an existing cache is
 * removed when the store is encrypted). It holds, in this machine's byte
 * order (a foreign file is just rebuilt): a header (magic, the store's id,
 * how many learning rows the store had, the highest id among them, the row
 * count), every strategy's parameter schema, the interned strings, then one
 * record per indexed row in id order with its raw parameter values. Loading
 * replays learn_add_row, so everything derived (u, bins, regions) is
 * recomputed by the same code as a rebuild.
 *
 * WHEN IT IS TRUSTED
 * The store must have the same id, every strategy of the catalog the same
 * schema as saved, and exactly `seen + newer` learning rows, newer being the
 * learning rows with an id above the saved highest: then the saved rows are
 * all still there and unchanged (terminal rows never change), and the rows
 * past it are read from the store. Anything else (a deleted row, a row of an
 * old id that finished since, a changed schema) rebuilds from the store.
 * A cache that is stale by more than 256 rows is rewritten.
 *
 * THREADS: called from learn_open only (the owner), before the index is
 * shared.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "learn_int.h"
#include "query.h"

#define MAGIC         "SDLRN02"
#define REWRITE_AFTER 256

struct cache_head {
    char magic[8];
    char store_id[64];
    int64_t seen, maxid, nrows;
    uint32_t nst, nstr;
};

/* The reward model's hyperparameters (learn_opt.c), so a cold start fits
 * it once instead of searching the grid again. */
struct cache_model {
    double ell, eta;
    int64_t searched, d;
};

struct cache_param {
    char name[64];
    int32_t kind, type;
    double def, min, max;
};

struct cache_row {
    int64_t id, t;
    double reward, pred, pred_r, pred_lo, pred_hi, dur, trades, bars, sharpe, oos;
    int32_t sym, prov, ops;
    uint16_t strat;
    uint8_t state, synth;
};

static int cache_path(struct learn *l, char *buf, size_t n)
{
    const char *p = l->store ? store_path(l->store) : NULL;
    if (p == NULL || p[0] == '\0' || p[0] == ':' || strncmp(p, "file:", 5) == 0)
        return -1;
    return snprintf(buf, n, "%s-learn", p) < (int)n ? 0 : -1;
}

/* A bounded reader over the file's bytes. */
struct rd {
    const char *p, *end;
};

static int take(struct rd *r, void *dst, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return -1;
    memcpy(dst, r->p, n);
    r->p += n;
    return 0;
}

static int same_schema(const struct lstrat *s, const struct cache_param *cp, uint32_t np)
{
    if (np != s->np)
        return 0;
    for (size_t j = 0; j < np; j++)
        if (strcmp(cp[j].name, s->p[j].name) != 0 || cp[j].kind != s->p[j].kind ||
            cp[j].type != s->p[j].type || cp[j].def != s->p[j].def || cp[j].min != s->p[j].min ||
            cp[j].max != s->p[j].max)
            return 0;
    return 1;
}

int learn_cache_load(struct learn *l, int64_t *seen, struct sd_err *err)
{
    char path[4096], *buf = NULL;
    struct stat fst;
    struct cache_head h;
    struct rd r;
    int32_t *smap = NULL, *stmap = NULL;
    int64_t total, newer;
    size_t len = 0;
    int ret = 1, fd;

    if (cache_path(l, path, sizeof path) != 0)
        return 1;
    if (store_encrypted(l->store)) {
        unlink(path); /* never leave plaintext values beside an encrypted store */
        return 1;
    }
    /* Mapped, not read: a copy of 16 MB at 100 k rows (and the zeroed
     * pages to hold it) was a tenth of a cold `suggest`. A new index is
     * renamed over this one, never written in place, so the mapping stays
     * whole while it is read; MAP_POPULATE maps its pages in one go. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return 1;
    if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode) || fst.st_size < (off_t)sizeof h ||
        (buf = mmap(NULL, (size_t)fst.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)) ==
            MAP_FAILED) {
        close(fd);
        return 1;
    }
    close(fd);
    len = (size_t)fst.st_size;
    r = (struct rd){buf, buf + len};
    if (take(&r, &h, sizeof h) != 0 || memcmp(h.magic, MAGIC, 8) != 0 ||
        strncmp(h.store_id, store_id(l->store), sizeof h.store_id) != 0 || h.nst > 65535 ||
        h.nrows < 0)
        goto out;
    if (store_learn_count(l->store, h.maxid, &total, &newer, err) != 0) {
        ret = -1;
        goto out;
    }
    if (total != h.seen + newer)
        goto out;
    /* Strategies: each saved one maps to ours with the same schema; every
     * one of ours must have been saved (its old rows would be missing). */
    if ((stmap = calloc(h.nst ? h.nst : 1, sizeof *stmap)) == NULL)
        goto out;
    {
        size_t found = 0;
        for (uint32_t k = 0; k < h.nst; k++) {
            char name[64];
            uint32_t np;
            struct cache_param cp[64];
            struct lstrat *s;
            struct cache_model cm;
            if (take(&r, name, sizeof name) != 0 || take(&r, &np, sizeof np) != 0 ||
                take(&r, &cm, sizeof cm) != 0 || np > 64 || take(&r, cp, np * sizeof *cp) != 0)
                goto out;
            name[sizeof name - 1] = 0;
            for (uint32_t j = 0; j < np; j++)
                cp[j].name[sizeof cp[j].name - 1] = 0;
            s = learn_strat(l, name);
            if (s != NULL && !same_schema(s, cp, np))
                goto out;
            stmap[k] = s ? (int32_t)(s - l->st) : -1;
            found += s != NULL;
            if (s != NULL && cm.ell > 0 && cm.searched >= 0) {
                s->m.gp.ell = cm.ell;
                s->m.gp.eta = cm.eta;
                s->m.gp.d = (size_t)cm.d;
                s->m.gp_searched = (size_t)cm.searched;
            }
        }
        if (found != l->nst)
            goto out;
    }
    if ((smap = calloc(h.nstr ? h.nstr : 1, sizeof *smap)) == NULL)
        goto out;
    for (uint32_t k = 0; k < h.nstr; k++) {
        uint32_t n;
        char tmp[4096];
        if (take(&r, &n, sizeof n) != 0 || n >= sizeof tmp || take(&r, tmp, n) != 0)
            goto reset;
        tmp[n] = 0;
        smap[k] = learn_intern(l, tmp);
    }
#define MAPSTR(v) ((v) >= 0 && (uint32_t)(v) < h.nstr ? smap[v] : -1)
    for (int64_t i = 0; i < h.nrows; i++) {
        struct cache_row cr;
        double x[64];
        struct lstrat *s;
        struct learn_facts fa;
        if (take(&r, &cr, sizeof cr) != 0 || cr.strat >= h.nst || stmap[cr.strat] < 0)
            goto reset;
        s = &l->st[stmap[cr.strat]];
        if (take(&r, x, s->np * sizeof *x) != 0)
            goto reset;
        fa = (struct learn_facts){cr.pred_r, cr.pred_lo, cr.pred_hi, cr.trades,
                                  cr.bars,   cr.sharpe,  cr.oos,     cr.synth};
        if (learn_add_row(l, s, cr.id, cr.t, cr.state, cr.reward, cr.pred, cr.dur, MAPSTR(cr.sym),
                          MAPSTR(cr.prov), MAPSTR(cr.ops), x, &fa) != 0)
            goto reset;
    }
#undef MAPSTR
    /* The rows past the saved ones. */
    {
        int64_t more = 0;
        if (learn_load_rows(l, h.maxid, &more, err) != 0) {
            ret = -1;
            goto out;
        }
        *seen = h.seen + more;
        if (more >= REWRITE_AFTER)
            learn_cache_save(l, *seen);
    }
    ret = 0;
    goto out;
reset: /* a torn file after the index was touched: the caller starts afresh */
    ret = 2;
out:
    free(stmap);
    free(smap);
    munmap(buf, len);
    return ret;
}

static int cmp_col(const void *a, const void *b, void *arg)
{
    const int64_t *id = arg;
    int64_t x = id[*(const size_t *)a], y = id[*(const size_t *)b];
    return (x > y) - (x < y);
}

void learn_cache_save(struct learn *l, int64_t seen)
{
    char path[4096], tmp[4200];
    struct cache_head h;
    size_t **order = NULL, *cur = NULL;
    int64_t maxid = l->nrows ? l->rows[l->nrows - 1].id : 0;
    int fd;
    FILE *f = NULL;
    int ok = 1;

    if (cache_path(l, path, sizeof path) != 0 || store_encrypted(l->store))
        return;
    if (l->maxseen > maxid)
        maxid = l->maxseen;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return;
    if ((f = fdopen(fd, "wb")) == NULL) {
        close(fd);
        unlink(tmp);
        return;
    }
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    snprintf(h.store_id, sizeof h.store_id, "%s", store_id(l->store));
    h.seen = seen;
    h.maxid = maxid;
    h.nrows = (int64_t)l->nrows;
    h.nst = (uint32_t)l->nst;
    h.nstr = (uint32_t)l->nstr;
    ok &= fwrite(&h, sizeof h, 1, f) == 1;
    for (size_t k = 0; k < l->nst; k++) {
        const struct lstrat *s = &l->st[k];
        char name[64] = {0};
        uint32_t np = (uint32_t)s->np;
        /* The in-sample model's (the spare's when the out-of-sample one was used last). */
        const struct lmodel *in = s->m.gp_oos ? &s->spare : &s->m;
        struct cache_model cm = {in->gp.ell, in->gp.eta, (int64_t)in->gp_searched,
                                 (int64_t)in->gp.d};
        snprintf(name, sizeof name, "%s", s->name);
        ok &= fwrite(name, sizeof name, 1, f) == 1 && fwrite(&np, sizeof np, 1, f) == 1 &&
              fwrite(&cm, sizeof cm, 1, f) == 1;
        for (size_t j = 0; j < s->np; j++) {
            struct cache_param cp;
            memset(&cp, 0, sizeof cp);
            snprintf(cp.name, sizeof cp.name, "%s", s->p[j].name);
            cp.kind = s->p[j].kind;
            cp.type = s->p[j].type;
            cp.def = s->p[j].def;
            cp.min = s->p[j].min;
            cp.max = s->p[j].max;
            ok &= fwrite(&cp, sizeof cp, 1, f) == 1;
        }
    }
    for (size_t k = 0; k < l->nstr; k++) {
        uint32_t n = (uint32_t)strlen(l->str[k]);
        ok &= fwrite(&n, sizeof n, 1, f) == 1 && fwrite(l->str[k], 1, n, f) == n;
    }
    /* Rows in id order: each strategy's columns sorted by id, merged along
     * l->rows (which is in id order). */
    order = calloc(l->nst ? l->nst : 1, sizeof *order);
    cur = calloc(l->nst ? l->nst : 1, sizeof *cur);
    ok &= order != NULL && cur != NULL;
    for (size_t k = 0; ok && k < l->nst; k++) {
        struct lstrat *s = &l->st[k];
        if ((order[k] = malloc((s->n ? s->n : 1) * sizeof **order)) == NULL) {
            ok = 0;
            break;
        }
        for (size_t i = 0; i < s->n; i++)
            order[k][i] = i;
        qsort_r(order[k], s->n, sizeof **order, cmp_col, s->id);
    }
    for (size_t g = 0; ok && g < l->nrows; g++) {
        const struct learn_row *lr = &l->rows[g];
        struct lstrat *s = &l->st[lr->strat];
        size_t i;
        struct cache_row cr;
        if (cur[lr->strat] >= s->n) {
            ok = 0;
            break;
        }
        i = order[lr->strat][cur[lr->strat]++];
        memset(&cr, 0, sizeof cr); /* padding too: the file holds no stray bytes */
        cr.id = s->id[i];
        cr.t = s->t[i];
        cr.reward = s->reward[i];
        cr.pred = lr->pred;
        cr.pred_r = lr->pred_r;
        cr.pred_lo = lr->pred_lo;
        cr.pred_hi = lr->pred_hi;
        cr.dur = s->dur[i];
        cr.trades = s->trades[i];
        cr.bars = s->bars[i];
        cr.sharpe = s->sharpe[i];
        cr.oos = s->oos[i];
        cr.sym = s->sym[i];
        cr.prov = s->prov[i];
        cr.ops = s->ops[i];
        cr.strat = lr->strat;
        cr.state = s->state[i];
        cr.synth = s->synth[i];
        ok &= cr.id == lr->id && fwrite(&cr, sizeof cr, 1, f) == 1 &&
              fwrite(&s->x[i * s->np], sizeof *s->x, s->np, f) == s->np;
    }
    for (size_t k = 0; order && k < l->nst; k++)
        free(order[k]);
    free(order);
    free(cur);
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
}
