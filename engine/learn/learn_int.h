/*
 * learn_int.h: the learning index shared by learn.c (index, stats) and
 * learn_query.c (suggestions, patterns, optimisation). Not a public header.
 *
 * Representation (learn.c explains why):
 * - `struct learn_row`: one learned trajectory in the global array l->rows,
 *   kept sorted by id, which is creation order: stats, windows and series
 *   are one pass over it.
 * - `struct lstrat`: per strategy, column arrays over the same trajectories
 *   in arrival order: u (the normalised parameters, float, np per row) for
 *   the kernel scan of a suggestion, one column per parameter so the scan
 *   vectorises, x (the raw values) to cite them, the
 *   region key, outcome, reward, time, symbol, provider and operation
 *   sequence ids. Region aggregates (a small hash table) and per-parameter
 *   bin tallies are updated as rows arrive, so a suggestion never groups.
 * All of it is guarded by l->lock.
 */
#ifndef SD_LEARN_INT_H
#define SD_LEARN_INT_H

#include <pthread.h>
#include <stdint.h>

#include "learn.h"

#define LEARN_MAXP    21 /* parameters that take part in a region key (3 bits each) */
#define LEARN_NBINS   6  /* below, 4 inner bins, above */
#define LEARN_MAXPROV 8
/* Recency: weights halve every 30 days (learn_query.c). */
#define LEARN_HALF_LIFE_MS (30.0 * 86400e3)

enum { LK_LOG, LK_LIN, LK_BOOL };

struct learn_param {
    char name[64];
    int type, kind;
    double def, min, max;
};

struct learn_region {
    uint64_t key;
    uint32_t n, ok;
    double rsum;
    int64_t best_row; /* row index (in the strategy) with the highest reward */
};

struct lstrat {
    char name[64];
    struct learn_param *p;
    size_t np;
    size_t n, cap;
    int64_t *id, *t;
    double *x;
    float **uc;     /* np columns of u: uc[j][i] is parameter j of row i */
    uint8_t *uvary; /* per column: rows hold more than one value */
    float *dur;
    double *reward;
    uint8_t *state;
    int32_t *sym, *ops, *prov;
    uint64_t *key;
    int64_t tmax;
    double rsum;
    size_t ok;
    /* per parameter and bin: runs, reward sum (Thompson), occupancy */
    double (*mr)[LEARN_NBINS];
    uint32_t (*mn)[LEARN_NBINS];
    /* regions: open addressing over rtab (indices into reg, -1 empty) */
    struct learn_region *reg;
    size_t nreg, capreg;
    int32_t *rtab;
    size_t rtabn;
    float *scratch; /* learn_suggest's log-weights, then weights, cap entries */
    /* Float copies for the suggestion's vectorised passes: tl = lam * (t -
     * t0) (the recency term's per-run part), okf = 1 when succeeded, rwf =
     * reward. */
    float *tl, *okf, *rwf;
    uint8_t *heavy;  /* learn_suggest's flags: weight >= SIMILAR_W, 4 runs a byte */
    size_t ntimeout; /* rows that timed out */
    int64_t t0;      /* time of the first row */
    int32_t prov0;   /* provider of the first row */
    int multiprov;   /* rows name more than one provider */
};

struct learn_row {
    int64_t id, t;
    double reward, pred; /* pred: NaN when no prediction was stored */
    uint16_t strat;
    uint8_t ok;
};

struct learn {
    pthread_mutex_t lock;
    struct store *store;
    struct lstrat *st;
    size_t nst;
    struct learn_row *rows;
    size_t nrows, caprows;
    /* interned strings (symbols, providers, operation sequences) */
    char **str;
    size_t nstr, capstr;
    int32_t *stab;
    size_t stabn;
};

/* Lock held for all of these. */
struct lstrat *learn_strat(struct learn *l, const char *name);
struct lstrat *learn_strat_for(struct learn *l, const struct strategy_def *def);
int32_t learn_intern(struct learn *l, const char *s); /* -1 for NULL or no memory */
const char *learn_str(const struct learn *l, int32_t id);

/* Map x to u for p, and u to its bin. */
double learn_u(const struct learn_param *p, double x);
int learn_bin(const struct learn_param *p, double u);
/* The x interval [lo, hi] of bin b (clipped to the schema's bounds). */
void learn_bin_range(const struct learn_param *p, int b, double *lo, double *hi);
/* Parameter values of params (missing: the default). */
void learn_values(const struct lstrat *s, json_t *params, double *x);
uint64_t learn_key(const struct lstrat *s, const double *x);
int learn_key_bin(uint64_t key, size_t j);
struct learn_region *learn_region_find(const struct lstrat *s, uint64_t key);

/* Wilson score interval lower bound, 95 % (z = 1.96); 0 when n = 0. */
double learn_wilson(double ok, double n);

#endif
