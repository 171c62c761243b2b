/*
 * complete.h: symbol completion for the deploy dialog's symbol field.
 *
 * The candidates are what `swarmdeck data list` lists (catalog_data_list: the bundled files,
 * then the symbols imported into the store), each marked synthetic or not. The field holds
 * comma-separated symbols; completion works on the last one (the token after the last comma).
 * Matching is a case-insensitive prefix; what is written is the symbol as listed.
 *
 * Tab (complete_tab): a token that matches one symbol becomes it; several that share a longer
 * prefix than the token extend it to that; otherwise each Tab writes the next candidate in
 * turn (cycling), until the text is edited (complete_reset). An empty token, or one that is
 * already the only candidate, is left alone (the caller's Tab then moves on).
 *
 * Pure: no curses, no engine beyond jansson for loading. One struct per dialog; UI thread.
 */
#ifndef SD_TUI_COMPLETE_H
#define SD_TUI_COMPLETE_H

#include <jansson.h>
#include <stddef.h>

struct complete_sym {
    char name[32];
    int synthetic;
};

struct complete {
    struct complete_sym *syms; /* sorted by name (case-insensitive), owned */
    size_t n;
    /* Cycling: the token Tab started from, the candidate last written, and the field's text
     * after that write (a different text means the operator edited it: start again). */
    char stem[32];
    size_t idx;
    int cycling;
    char after[160];
};

/* Load the candidates from a data list (an array of {symbol, synthetic, ...} objects, as
 * catalog_data_list returns; borrowed). Entries without a symbol name are skipped. Replaces
 * what c held; returns the count. Aborts on out of memory (UI code, xmalloc). */
size_t complete_load(struct complete *c, const json_t *list);

/* Free the candidates and reset. Accepts NULL; c may be loaded again after. */
void complete_free(struct complete *c);

/* Forget the cycling state (the operator edited the field). */
void complete_reset(struct complete *c);

/* Tab on buf (the field's text, NUL-terminated, capacity n): complete or cycle the last token
 * as the file comment says. Returns 1 when buf changed, 0 when there was nothing to do (buf
 * unchanged). */
int complete_tab(struct complete *c, char *buf, size_t n);

/* Check every comma-separated symbol of buf against the candidates (case-insensitively).
 * Returns 0 when all are known (an empty token counts as unknown), else -1 with msg (capacity
 * n) saying which one, e.g. "unknown symbol XYZ (see `swarmdeck data list`)". With no
 * candidates loaded at all nothing can be checked: 0. */
int complete_check(const struct complete *c, const char *buf, char *msg, size_t n);

/* The candidates for buf's last token as one line for the field's hint (capacity n): "Tab:
 * SPX SPY TSLA*", a trailing * marking a synthetic series, cut with "..." when they do not
 * fit; "" when the token matches none, or is a whole symbol that no other extends (or nothing
 * is loaded). */
void complete_hint(const struct complete *c, const char *buf, char *out, size_t n);

#endif
