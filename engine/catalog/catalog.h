/*
 * catalog.h: the strategies swarmdeck can deploy and the data they run on.
 *
 * Built-in strategies come from `swarmdeck-runner list`, the one table that
 * also drives the runner's own validation, so the engine, the console's
 * deploy form and the learning engine agree on every parameter's type and
 * range. User strategies come from manifests (docs/strategies.md) kept in the
 * store's `strategies` table.
 *
 * Deployment parameters `symbol` and `symbols` are not strategy parameters:
 * the engine resolves a symbol to a data file (catalog_data_resolve) and
 * strips both before validating the rest against the schema.
 *
 * Thread safety: a catalog is immutable after catalog_load except for
 * catalog_add_manifest, which the owner must not run while workers read it.
 */
#ifndef SD_CATALOG_H
#define SD_CATALOG_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"
#include "util.h"

enum param_type { PT_NUMBER, PT_INTEGER, PT_BOOLEAN };

struct param_schema {
    char name[64];
    int type;
    double def, min, max;
    char description[256];
};

struct strategy_def {
    char name[64];
    char description[256];
    int builtin;
    char **command; /* argv prefix; NULL-terminated */
    char **files;   /* host paths uploaded next to the command; NULL-terminated */
    struct param_schema *params;
    size_t nparams;
    json_t *symbols; /* default symbols list (array of strings) */
};

struct catalog;

/* Load the built-ins by running runner_path `list`, and the user strategies
 * from the store (s may be NULL). Returns 0 or -1 with err set (SD_EENV). */
int catalog_load(struct catalog **out, const char *runner_path, struct store *s,
                 struct sd_err *err);
void catalog_free(struct catalog *c); /* accepts NULL */

size_t catalog_count(const struct catalog *c);
const struct strategy_def *catalog_at(const struct catalog *c, size_t i);

/* Look a strategy up by name; NULL with err set (SD_EUSAGE, listing the known
 * names) when unknown. */
const struct strategy_def *catalog_find(const struct catalog *c, const char *name,
                                        struct sd_err *err);

/* Validate params (a JSON object, may be NULL) against d's schema and return
 * a new object with every parameter resolved (defaults filled in), or NULL
 * with err set (SD_EUSAGE naming the parameter and its allowed range).
 * `symbol` and `symbols` must have been removed by the caller. */
json_t *catalog_validate(const struct strategy_def *d, json_t *params, struct sd_err *err);

/* The schema of d as JSON (what `strategies list --json` prints). New ref. */
json_t *catalog_schema_json(const struct strategy_def *d);

/* Validate a manifest file, resolve its files relative to its directory,
 * store it and add it to c. Returns 0 or -1 (SD_EUSAGE, store unchanged).
 * A file must resolve (absolute, "..", symlinks followed) inside the
 * manifest's directory, unless flags has
 * CATALOG_ALLOW_OUTSIDE (the operator's explicit --allow-outside); files are
 * uploaded under their resolved base names, which must be distinct and
 * must not be data.csv (the market data's name in the sandbox). */
int catalog_add_manifest(struct catalog *c, struct store *s, const char *path, struct sd_err *err);
enum { CATALOG_ALLOW_OUTSIDE = 1 };
int catalog_add_manifest_flags(struct catalog *c, struct store *s, const char *path, int flags,
                               struct sd_err *err);

/* --- market data ---------------------------------------------------------- */

struct data_source {
    char symbol[32];
    char path[1024]; /* a CSV file on this host */
    int synthetic;   /* generated series, not market history */
    int from_store;  /* imported with `data import`; path is a temp export */
};

/* The directory of bundled data: $SWARMDECK_DATA, else <exe>/../data, else
 * <exe>/../share/swarmdeck/data, else the source tree's data/. Static. */
const char *catalog_data_dir(void);

/* Resolve symbol to a CSV: imported bars in the store first (written to a
 * new temporary file under tmpdir, one per call, which the caller removes;
 * with tmpdir NULL nothing is written: from_store is set and path is empty,
 * for checking only), then the bundled files SYM.csv and SYM.synthetic.csv.
 * Returns 0 or -1 (SD_EUSAGE: unknown symbol, listing the available ones). */
int catalog_data_resolve(struct store *s, const char *symbol, const char *tmpdir,
                         struct data_source *out, struct sd_err *err);

/* Whether symbol has data at all (a bundled file, or imported bars): what a
 * launch checks before anything is queued. The bundled files are looked at
 * first, so the common case opens no store connection (a daemon checks every
 * launch on its request thread). Returns 0, or -1 as catalog_data_resolve. */
int catalog_data_known(struct store *s, const char *symbol, struct sd_err *err);

/* The training window of a walk-forward over the CSV at csv_path, for a
 * user strategy's --from and --to (YYYY-MM-DD, into from and to): from its
 * first bar to the last bar dated up to train_until (when not NULL), else to
 * the last of its first n * (1 - validate) bars, as the built-in runner cuts.
 * Returns 0, or -1 with err (SD_EUSAGE) when the file cannot be read or the
 * window leaves no bar on one side. */
int catalog_window(const char *csv_path, const char *train_until, double validate, char from[11],
                   char to[11], struct sd_err *err);

/* List available symbols as a JSON array of objects {symbol, source
 * ("bundled" or "imported"), synthetic, bars, first, last, ohlc, volume}:
 * the bundled files the runner's loader accepts, in name order, then the
 * symbols imported into s (s may be NULL: bundled only). New reference, or
 * NULL with err when s cannot be read. */
json_t *catalog_data_list(struct store *s, struct sd_err *err);

/* What catalog_data_import imported. */
struct data_import {
    size_t bars;
    char first[11], last[11]; /* YYYY-MM-DD */
    int synthetic;            /* the file said it is generated */
};

/* Check file with the runner's own strict loader, so a file the store
 * accepts is one every strategy accepts, and replace symbol's bars in s
 * with it in one transaction, waiting for the commit. With s NULL the file
 * is only checked. Returns 0 with r filled, or -1 with err (SD_EUSAGE for a
 * bad symbol or file, "... (nothing imported)"): nothing changed. */
int catalog_data_import(struct store *s, const char *file, const char *symbol,
                        struct data_import *r, struct sd_err *err);

/* Is symbol well-formed ([A-Za-z0-9.^_-]{1,16})? */
int catalog_symbol_ok(const char *symbol);

/* The symbols a deploy's agents run on, agent i on element i mod length
 * (design.md's rule for `deploy -a N`): [symbol] when given, else
 * params.symbols, else [params.symbol], else the strategy's default
 * symbols. A JSON array of strings (new reference), or NULL with err set
 * (SD_EUSAGE) for a malformed "symbols" or "symbol" parameter. */
json_t *catalog_agent_symbols(const struct strategy_def *d, const char *symbol, json_t *params,
                              struct sd_err *err);

#endif
