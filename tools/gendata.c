/*
 * gendata.c: regenerates the market data bundled in data/, deterministically.
 *
 * Two kinds of file come out of this program, both on stdout:
 *
 *   gendata spy RETURNS.csv      data/SPY.csv, a close series rebuilt from the
 *                                zipline SPY total daily returns by compounding
 *                                from the 1993-01-29 close of 43.94 USD.
 *   gendata synth SYM DATES.csv  data/SYM.synthetic.csv, a SYNTHETIC daily OHLCV
 *                                series for QQQ, IWM or TSLA on the trading
 *                                dates of DATES.csv (data/SPX.csv).
 *   gendata trace SYM DATES.csv  the same synthetic path with its hidden state
 *                                (regime, diffusion, jumps) for the tests.
 *   gendata list                 the symbols the synth command knows.
 *
 * DESIGN
 *
 * No free daily series exists for QQQ, IWM or TSLA, so the project ships
 * generated ones and labels them synthetic. The model is a three-regime
 * Markov-switching volatility model (calm, normal, turbulent) with Poisson
 * jumps. Each trading day:
 *
 *   1. the regime moves along one row of the daily transition matrix;
 *   2. the close-to-close log return is drift/252 + vol/sqrt(252) * z plus the
 *      sum of N ~ Poisson(jump_rate/252) jumps, each ~ Normal(jump_mean, jump_sd);
 *   3. the open is the previous close times exp(gap * vol/sqrt(252) * z), an
 *      overnight gap that does not change the close-to-close return;
 *   4. high and low extend max(open, close) and min(open, close) by
 *      exp(+-range * vol/sqrt(252) * |z|), so low <= open, close <= high;
 *   5. volume is lognormal: its median is scaled by (vol/normal vol)^beta and
 *      by jump_volume on days with a jump.
 *
 * The close before the first date is start_price and the regime before it is
 * normal. All parameters live in synth_table below and are printed into the
 * file's comment header, which the tests read back.
 *
 * Reproducibility: the PRNG (splitmix64 seeding xoshiro256**) is implemented
 * here, every draw happens in a fixed order, and numbers are printed with fixed
 * precision, so the output is byte-identical across runs. Floating point
 * contraction is off so that an FMA-capable compiler does not change results;
 * the only libm calls are sqrt (exact), exp and log.
 *
 * Errors go to stderr as one lowercase line; the exit status is 0 on success,
 * 2 on bad usage and 1 on bad input or a failed write.
 */
/* GCC keeps contraction off in ISO C mode (-std=c11) and does not know this pragma. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRADING_DAYS 252.0
#define LINE_MAX_LEN 512

/* SPY's close on 1993-01-29, the day before the first return in the zipline file. */
#define SPY_FIRST_DATE  "1993-01-29"
#define SPY_FIRST_CLOSE 43.94

/* ---- PRNG: splitmix64 expands the seed, xoshiro256** generates. ---- */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64_next(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64_next(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform on the open interval (0, 1): 53 random bits, centred in their cell. */
static double rng_uniform(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Standard normal by the Marsaglia polar method; the second value is discarded
 * so that every call consumes whole pairs and the draw order stays simple. */
static double rng_normal(struct rng *r)
{
    double u, v, s;

    do {
        u = 2.0 * rng_uniform(r) - 1.0;
        v = 2.0 * rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

/* Poisson by Knuth's product of uniforms; fine for the small daily rates here. */
static int rng_poisson(struct rng *r, double lambda)
{
    double limit = exp(-lambda), p = 1.0;
    int k = 0;

    for (;;) {
        p *= rng_uniform(r);
        if (p <= limit)
            return k;
        k++;
    }
}

/* ---- The synthetic model's parameters. ---- */

enum { REGIME_CALM, REGIME_NORMAL, REGIME_TURBULENT, REGIME_COUNT };

static const char *const regime_names[REGIME_COUNT] = {"calm", "normal", "turbulent"};

struct synth_params {
    const char *symbol;
    const char *about; /* one line for the header */
    uint64_t seed;
    double start_price;                       /* close before the first date, USD */
    double drift[REGIME_COUNT];               /* annualised log drift of the diffusion part */
    double vol[REGIME_COUNT];                 /* annualised volatility of the diffusion part */
    double trans[REGIME_COUNT][REGIME_COUNT]; /* daily P(row -> column), rows sum to 1 */
    double jump_rate;                         /* expected jumps per year (Poisson) */
    double jump_mean;                         /* mean log size of one jump */
    double jump_sd;                           /* standard deviation of the log size of one jump */
    double gap;         /* overnight gap sd, as a fraction of the regime's daily vol */
    double range;       /* high/low extension sd, as a fraction of the regime's daily vol */
    double volume;      /* median daily volume in the normal regime, shares */
    double volume_sd;   /* sd of log volume */
    double volume_beta; /* elasticity of volume to the regime's vol */
    double jump_volume; /* volume multiplier on a day with a jump */
};

/*
 * Per-symbol parameters. Regimes: calm, normal, turbulent. Expected stays are
 * 1/(1 - diagonal) days: about 3 months calm or normal and 1-2 months
 * turbulent. QQQ is tech-index-like, IWM small-cap-like (a little more vol than
 * a large-cap index, smaller jumps than TSLA), TSLA a single volatile stock
 * with frequent, large, two-sided jumps. These are plausible, not fitted.
 */
static const struct synth_params synth_table[] = {
    {
        .symbol = "QQQ",
        .about = "Nasdaq-100 tracker look-alike",
        .seed = 0x5157515157515101ULL,
        .start_price = 92.0,
        .drift = {0.20, 0.10, -0.35},
        .vol = {0.14, 0.23, 0.48},
        .trans = {{0.985, 0.014, 0.001}, {0.010, 0.984, 0.006}, {0.002, 0.028, 0.970}},
        .jump_rate = 4.0,
        .jump_mean = -0.010,
        .jump_sd = 0.035,
        .gap = 0.35,
        .range = 0.60,
        .volume = 45e6,
        .volume_sd = 0.30,
        .volume_beta = 0.8,
        .jump_volume = 1.8,
    },
    {
        .symbol = "IWM",
        .about = "Russell 2000 small-cap tracker look-alike",
        .seed = 0x49574d49574d4d02ULL,
        .start_price = 50.0,
        .drift = {0.16, 0.08, -0.30},
        .vol = {0.15, 0.22, 0.44},
        .trans = {{0.985, 0.014, 0.001}, {0.010, 0.984, 0.006}, {0.002, 0.028, 0.970}},
        .jump_rate = 3.0,
        .jump_mean = -0.010,
        .jump_sd = 0.030,
        .gap = 0.35,
        .range = 0.60,
        .volume = 25e6,
        .volume_sd = 0.30,
        .volume_beta = 0.8,
        .jump_volume = 1.8,
    },
    {
        .symbol = "TSLA",
        .about = "single high-volatility growth stock look-alike",
        .seed = 0x54534c4154534c03ULL,
        .start_price = 17.0,
        .drift = {0.35, 0.20, -0.40},
        .vol = {0.35, 0.55, 0.95},
        .trans = {{0.980, 0.018, 0.002}, {0.012, 0.980, 0.008}, {0.003, 0.037, 0.960}},
        .jump_rate = 10.0,
        .jump_mean = 0.0,
        .jump_sd = 0.080,
        .gap = 0.45,
        .range = 0.70,
        .volume = 20e6,
        .volume_sd = 0.45,
        .volume_beta = 1.0,
        .jump_volume = 2.5,
    },
};

#define SYNTH_COUNT (sizeof synth_table / sizeof synth_table[0])

static const struct synth_params *synth_find(const char *symbol)
{
    for (size_t i = 0; i < SYNTH_COUNT; i++) {
        if (strcmp(synth_table[i].symbol, symbol) == 0)
            return &synth_table[i];
    }
    return NULL;
}

/* ---- Input. ---- */

/* A list of dates read from a CSV's first column, each "YYYY-MM-DD". */
struct dates {
    char (*day)[11];
    size_t n, cap;
};

static void dates_free(struct dates *d)
{
    free(d->day);
    d->day = NULL;
    d->n = d->cap = 0;
}

/* Append the date at the start of s. Returns 0, or -1 with a message printed
 * if s does not start with a well-formed date followed by a comma or if it is
 * not later than the previous date; the list is unchanged then. */
static int dates_push(struct dates *d, const char *s, const char *path, size_t lineno)
{
    static const char shape[] = "dddd-dd-dd";

    for (int i = 0; i < 10; i++) {
        int ok = shape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == '-';
        if (!ok) {
            fprintf(stderr, "gendata: %s:%zu: expected a date YYYY-MM-DD\n", path, lineno);
            return -1;
        }
    }
    if (d->n > 0 && memcmp(d->day[d->n - 1], s, 10) >= 0) {
        fprintf(stderr, "gendata: %s:%zu: dates must be strictly increasing\n", path, lineno);
        return -1;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        char(*day)[11] = realloc(d->day, cap * sizeof *day);
        if (day == NULL) {
            fprintf(stderr, "gendata: out of memory\n");
            return -1;
        }
        d->day = day;
        d->cap = cap;
    }
    memcpy(d->day[d->n], s, 10);
    d->day[d->n][10] = '\0';
    d->n++;
    return 0;
}

/* Strip a trailing newline (and CR). Returns 0 for an empty or comment line. */
static int line_content(char *line)
{
    line[strcspn(line, "\r\n")] = '\0';
    return line[0] != '\0' && line[0] != '#';
}

/* Read the dates of a CSV whose first column is a date (the header line is
 * skipped, '#' lines too). Returns 0, or -1 with a message printed. */
static int dates_read(struct dates *d, const char *path)
{
    char line[LINE_MAX_LEN];
    size_t lineno = 0;
    int header = 1, rc = -1;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "gendata: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        if (!line_content(line))
            continue;
        if (header) {
            header = 0;
            continue;
        }
        if (dates_push(d, line, path, lineno) != 0)
            goto out;
    }
    if (ferror(f) || d->n == 0) {
        fprintf(stderr, "gendata: %s: no dates read\n", path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* ---- Output. ---- */

/* Flush stdout and report a failed write. Returns the exit status. */
static int finish_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "gendata: write failed: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* ---- spy: compound the zipline total returns into a close series. ---- */

/* Read the zipline returns file into d (dates, the first being SPY_FIRST_DATE)
 * and *ret (one return per date after the first; the caller frees it).
 * Returns 0, or -1 with a message printed. */
static int spy_read(const char *path, struct dates *d, double **ret)
{
    char line[LINE_MAX_LEN];
    size_t lineno = 0, cap = 0;
    int header = 1, rc = -1;
    FILE *f;

    *ret = NULL;
    if ((f = fopen(path, "r")) == NULL) {
        fprintf(stderr, "gendata: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (dates_push(d, SPY_FIRST_DATE ",", "(first row)", 0) != 0)
        goto out;
    while (fgets(line, sizeof line, f) != NULL) {
        char *comma, *end;
        double v;

        lineno++;
        if (!line_content(line))
            continue;
        if (header) {
            if (strcmp(line, "date,return") != 0) {
                fprintf(stderr, "gendata: %s:%zu: expected header date,return\n", path, lineno);
                goto out;
            }
            header = 0;
            continue;
        }
        if ((comma = strchr(line, ',')) == NULL) {
            fprintf(stderr, "gendata: %s:%zu: expected date,return\n", path, lineno);
            goto out;
        }
        errno = 0;
        v = strtod(comma + 1, &end);
        if (end == comma + 1 || *end != '\0' || errno != 0 || !isfinite(v) || v <= -1.0) {
            fprintf(stderr, "gendata: %s:%zu: bad return\n", path, lineno);
            goto out;
        }
        if (d->n - 1 == cap) {
            double *grown;

            cap = cap ? cap * 2 : 1024;
            if ((grown = realloc(*ret, cap * sizeof *grown)) == NULL) {
                fprintf(stderr, "gendata: out of memory\n");
                goto out;
            }
            *ret = grown;
        }
        if (dates_push(d, line, path, lineno) != 0)
            goto out;
        (*ret)[d->n - 2] = v;
    }
    if (ferror(f) || d->n < 2) {
        fprintf(stderr, "gendata: %s: no returns read\n", path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

static int cmd_spy(int argc, char **argv)
{
    struct dates d = {0};
    double *ret = NULL, close = SPY_FIRST_CLOSE;
    int rc = 1;

    if (argc != 1) {
        fprintf(stderr, "usage: gendata spy RETURNS.csv\n");
        return 2;
    }
    if (spy_read(argv[0], &d, &ret) != 0)
        goto out;
    printf("# SPY.csv: SPDR S&P 500 ETF (SPY), daily close, %s .. %s, %zu rows.\n"
           "# Source: the zipline project (quantopian/zipline,\n"
           "#   zipline/resources/market_data/SPY_benchmark.csv), Apache-2.0; see SOURCES.md.\n"
           "# Rebuilt from TOTAL daily returns by compounding from SPY's %s close of\n"
           "#   %.2f USD: close[t] = close[t-1] * (1 + return[t]). Dividends are reinvested,\n"
           "#   so this is a total-return index level, not the quoted SPY price.\n"
           "# There is NO open, high, low or volume: fills on this series use the close.\n"
           "# Generated by: gendata spy data/sources/SPY_daily_returns.csv\n"
           "date,close\n",
           d.day[0], d.day[d.n - 1], d.n, d.day[0], SPY_FIRST_CLOSE);
    for (size_t t = 0; t < d.n; t++) {
        if (t > 0)
            close = close * (1.0 + ret[t - 1]);
        printf("%s,%.6f\n", d.day[t], close);
    }
    rc = finish_output();
out:
    free(ret);
    dates_free(&d);
    return rc;
}

/* ---- synth and trace: the Markov-switching jump model. ---- */

static void synth_header(const struct synth_params *p, size_t n, const struct dates *d)
{
    printf("# %s.synthetic.csv: SYNTHETIC daily OHLCV for %s (%s).\n", p->symbol, p->symbol,
           p->about);
    printf("# SYNTHETIC: generated by a random model. This is NOT market history and must\n"
           "#   not be presented as such; import real data with a CSV if you have it.\n");
    printf("# Generated by: gendata synth %s data/SPX.csv (trading dates of SPX.csv)\n", p->symbol);
    printf("# Rows: %zu, %s .. %s\n", n, d->day[0], d->day[n - 1]);
    printf("# Model: 3-regime Markov-switching volatility with Poisson jumps. Each day the\n"
           "#   regime moves by the daily transition matrix; close-to-close log return =\n"
           "#   drift/252 + vol/sqrt(252)*z + sum of Poisson(jump_rate/252) jumps, each\n"
           "#   Normal(jump_mean, jump_sd); open = previous close * exp(gap*vol/sqrt(252)*z);\n"
           "#   high/low extend max/min(open, close) by exp(+-range*vol/sqrt(252)*|z|);\n"
           "#   volume lognormal, median volume*(vol/vol_normal)^volume_beta, times\n"
           "#   jump_volume on jump days. Drift and vol annualised; the regime before the\n"
           "#   first date is normal and the close before it is start_price.\n");
    printf("# param seed 0x%016llx\n", (unsigned long long)p->seed);
    printf("# param start_price %.4f\n", p->start_price);
    for (int i = 0; i < REGIME_COUNT; i++)
        printf("# param regime %s drift %.4f vol %.4f trans %.4f %.4f %.4f\n", regime_names[i],
               p->drift[i], p->vol[i], p->trans[i][0], p->trans[i][1], p->trans[i][2]);
    printf("# param jumps rate %.4f mean %.4f sd %.4f\n", p->jump_rate, p->jump_mean, p->jump_sd);
    printf("# param bar gap %.4f range %.4f\n", p->gap, p->range);
    printf("# param volume median %.0f sd %.4f beta %.4f jump %.4f\n", p->volume, p->volume_sd,
           p->volume_beta, p->jump_volume);
}

/* The regime after one day in `regime`, given a uniform draw u. The last
 * column takes whatever the row's rounding leaves. */
static int regime_next(const struct synth_params *p, int regime, double u)
{
    double acc = 0.0;

    for (int j = 0; j < REGIME_COUNT - 1; j++) {
        acc += p->trans[regime][j];
        if (u < acc)
            return j;
    }
    return REGIME_COUNT - 1;
}

/* Walk the model over the dates and print either the OHLCV file or the trace. */
static void synth_run(const struct synth_params *p, const struct dates *d, int trace)
{
    struct rng r;
    int regime = REGIME_NORMAL;
    double prev = p->start_price;
    double sqrt_days = sqrt(TRADING_DAYS);

    rng_seed(&r, p->seed);
    if (trace)
        printf("date,regime,diffusion,jumps,njumps,close\n");
    else
        printf("date,open,high,low,close,volume\n");
    for (size_t t = 0; t < d->n; t++) {
        double sd, diffusion, jumps = 0.0, ret, open, close, high, low, lvol;
        int njumps;

        regime = regime_next(p, regime, rng_uniform(&r));
        sd = p->vol[regime] / sqrt_days;
        diffusion = p->drift[regime] / TRADING_DAYS + sd * rng_normal(&r);
        njumps = rng_poisson(&r, p->jump_rate / TRADING_DAYS);
        for (int k = 0; k < njumps; k++)
            jumps += p->jump_mean + p->jump_sd * rng_normal(&r);
        ret = diffusion + jumps;
        close = prev * exp(ret);
        open = prev * exp(p->gap * sd * rng_normal(&r));
        high = fmax(open, close) * exp(p->range * sd * fabs(rng_normal(&r)));
        low = fmin(open, close) * exp(-p->range * sd * fabs(rng_normal(&r)));
        lvol = log(p->volume) + p->volume_beta * log(p->vol[regime] / p->vol[REGIME_NORMAL]) +
               p->volume_sd * rng_normal(&r);
        if (njumps > 0)
            lvol += log(p->jump_volume);
        if (trace)
            printf("%s,%s,%.10f,%.10f,%d,%.4f\n", d->day[t], regime_names[regime], diffusion, jumps,
                   njumps, close);
        else
            printf("%s,%.4f,%.4f,%.4f,%.4f,%lld\n", d->day[t], open, high, low, close,
                   (long long)llround(exp(lvol)));
        prev = close;
    }
}

static int cmd_synth_or_trace(int argc, char **argv, int trace)
{
    const struct synth_params *p;
    struct dates d = {0};
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: gendata %s SYMBOL DATES.csv\n", trace ? "trace" : "synth");
        return 2;
    }
    if ((p = synth_find(argv[0])) == NULL) {
        fprintf(stderr, "gendata: unknown symbol %s (see gendata list)\n", argv[0]);
        return 2;
    }
    if (dates_read(&d, argv[1]) != 0) {
        dates_free(&d);
        return 1;
    }
    if (!trace)
        synth_header(p, d.n, &d);
    synth_run(p, &d, trace);
    dates_free(&d);
    rc = finish_output();
    return rc;
}

static int cmd_synth(int argc, char **argv)
{
    return cmd_synth_or_trace(argc, argv, 0);
}

static int cmd_trace(int argc, char **argv)
{
    return cmd_synth_or_trace(argc, argv, 1);
}

static int cmd_list(int argc, char **argv)
{
    for (size_t i = 0; i < SYNTH_COUNT; i++)
        printf("%s\n", synth_table[i].symbol);
    return finish_output();
}

/* ---- Command table. ---- */

struct gendata_cmd {
    const char *name;
    const char *usage;
    int (*exec)(int argc, char **argv);
};

static const struct gendata_cmd gendata_cmds[] = {
    {.name = "spy", .usage = "spy RETURNS.csv", .exec = cmd_spy},
    {.name = "synth", .usage = "synth SYMBOL DATES.csv", .exec = cmd_synth},
    {.name = "trace", .usage = "trace SYMBOL DATES.csv", .exec = cmd_trace},
    {.name = "list", .usage = "list", .exec = cmd_list},
};

static int usage(void)
{
    fprintf(stderr, "usage:\n");
    for (size_t i = 0; i < sizeof gendata_cmds / sizeof gendata_cmds[0]; i++)
        fprintf(stderr, "  gendata %s\n", gendata_cmds[i].usage);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    for (size_t i = 0; i < sizeof gendata_cmds / sizeof gendata_cmds[0]; i++) {
        if (strcmp(argv[1], gendata_cmds[i].name) == 0)
            return gendata_cmds[i].exec(argc - 2, argv + 2);
    }
    fprintf(stderr, "gendata: unknown command %s\n", argv[1]);
    return usage();
}
