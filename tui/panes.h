/*
 * panes.h: the console's Learning and Patterns panes (internal to tui/).
 *
 * Both show a learning snapshot (learnsnap.h) and are built here as pure
 * functions of it: the UI thread turns a snapshot into widget content
 * (textview lines, table rows) and draws through the generic widgets, so
 * everything below is tested without a terminal (tests/unit/widgets_test.c).
 *
 * Learning: overall stats, then each strategy with its runs, success rate,
 * mean reward and improvement, and sparklines of reward and success rate
 * over time (the snapshot's series: up to 60 buckets of consecutive runs).
 *
 * Patterns: a table sorted by confidence (Wilson lower bound); Enter shows a
 * pattern's detail: its numbers, parameter region and evidence runs; `d`
 * turns it into a deployment: the strategy with the parameters and symbol of
 * the pattern's best-rewarded evidence run (or, with no readable run, the
 * middle of each region).
 */
#ifndef SD_TUI_PANES_H
#define SD_TUI_PANES_H

#include <jansson.h>
#include <stdint.h>

#include "coord.h"
#include "glyph.h"
#include "statusline.h"
#include "table.h"
#include "textview.h"

/* The header's segments (statusline.h), by priority: read-only and PAUSED,
 * then the counts, a broken chain and an open breaker stay longest; then the
 * isolation level and a half-open breaker, healthy providers, the
 * encryption mark, the version; the store path and a healthy chain go
 * first. */
struct header_in {
    const char *version;
    int readonly, paused;
    char spin;       /* a spinner frame, or 0 */
    int daemon;      /* the daemon's pid when it runs the engine (0: in process) */
    int daemon_lost; /* its event stream is down: reconnecting */
    const char *isolation;
    const struct provider_health *prov; /* the local instance shows as `isolation` */
    size_t nprov;
    const int *counts; /* TS_COUNT */
    int held;          /* of the running, how many are paused (coord_pause) */
    int encrypted;
    const char *chain; /* store_chain_summary */
    const char *store_path;
    /* With several hosts (app_hosts.c): each one's health, full and compact
     * (daemon/daemon_lost then say nothing); state 0 up, 1 reconnecting,
     * 2 unreachable. */
    int nhosts;
    char host_text[16][2][96];
    int host_state[16];
};

struct header_out {
    struct sl_seg seg[SL_MAX];
    int n;
    char text[SL_MAX][2][96]; /* the segments' strings */
};

void pane_header(const struct header_in *in, struct header_out *out);

/* Rebuild tv from snap (NULL: "computing") for a pane w columns wide. */
void pane_learning_fill(struct textview *tv, const json_t *snap, int w, const struct glyphs *g);
/* The same pane in a console on several hosts: a section per host, named,
 * from snaps[0..n-1] (each its daemon's snapshot, remote.h's
 * remote_learning; NULL: none yet) with names[i], then the local store's
 * (local, as pane_learning_fill's snap). Pure: borrows everything. */
void pane_hosts_learning_fill(struct textview *tv, const json_t *const *snaps,
                              const char *const *names, int n, const json_t *local, int w,
                              const struct glyphs *g);

/* Patterns are ranked by the lower bound on their reward (LB: out of sample
 * where the runs have it), as the learner ranks them; CONF is the Wilson
 * bound on success. */
enum { PC_LB, PC_CONF, PC_RUNS, PC_OK, PC_REWARD, PC_NAME, PC_COUNT };
extern const struct table_col pattern_cols[PC_COUNT];

/* Rebuild tv with the learner's suggestion sugg for a panel w columns wide:
 * expected reward and its interval, the recommendation as a whole parameter
 * set (interval, the runs it rests on, whether it is significant), what
 * Ctrl-A will change in current (the form's parameters: "name old -> new"),
 * and the reasoning, every line wrapped on words to w. sugg NULL: err (or
 * "no suggestion"). */
void pane_suggestion_fill(struct textview *tv, const json_t *sugg, const char *err,
                          const json_t *current, int w);

/* Append text to tv wrapped on words for a view w columns wide: the first
 * row with label (NULL: none; then the text takes the whole width), the
 * others with an empty label. A word longer than a row is cut. */
void pane_add_wrapped(struct textview *tv, int role, const char *label, const char *text, int w);

/* A pattern's stable id across snapshots (from strategy, name and
 * operation sequence), positive. */
int64_t pane_pattern_id(const json_t *p);

/* A parameter's JSON value as the panes print it into b: true/false, an
 * integer, a number (%.6g), a string as is, anything else "-". */
void pane_json_value(char *b, size_t n, const json_t *v);

/* Refill t with snap's patterns (t keeps sort, filter and selection). */
void pane_patterns_fill(struct table *t, const json_t *snap);

/* The pattern with id in snap (borrowed), or NULL. */
json_t *pane_pattern_find(const json_t *snap, int64_t id);

/* Rebuild tv with the detail of pattern p. */
void pane_pattern_detail(struct textview *tv, const json_t *p);

/* What deploying from p means: {strategy, symbol?, params, from} where
 * from is "run #N" or "region". New reference (never NULL for an object p). */
json_t *pane_pattern_deploy(const json_t *p);

#endif
