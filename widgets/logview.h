/*
 * logview.h: a scrolling view over a numbered line source, for live output.
 *
 * DESIGN
 * The view never copies the whole log: at each draw it asks its source for
 * the lines of the visible window only (at most the pane's height), so a
 * sandbox printing 100k lines a second costs one small copy per frame.
 * Lines are numbered by the source (seq, increasing, gaps allowed when old
 * lines fall off). In follow mode the window ends at the newest line; when
 * not following it starts at `top` and a "+N new" marker counts the lines
 * that arrived since the operator stopped following (on a source that is
 * done growing, " N below ": the lines under the window). Wrap, timestamps and
 * search (n/N, highlighted) are view options, and so are the line filters
 * (hide the "@@" protocol lines, show only lines containing a text).
 *
 * UI thread only. The source's callbacks are called from the UI thread.
 */
#ifndef SD_WIDGETS_LOGVIEW_H
#define SD_WIDGETS_LOGVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "widget.h"

struct lv_line {
    uint64_t seq;
    int stream; /* 1 stdout, 2 stderr */
    int64_t time_ms;
    char *text; /* owned by the source until release */
};

struct lv_source {
    void *ctx;
    uint64_t (*first)(void *ctx); /* oldest seq held (0 when empty) */
    uint64_t (*last)(void *ctx);  /* newest seq (0 when empty) */
    size_t (*get)(void *ctx, uint64_t from, struct lv_line *out, size_t max);
    void (*release)(void *ctx, struct lv_line *lines, size_t n);
};

struct logview {
    struct lv_source src; /* src.get == NULL: no source ("empty" text) */
    int follow, wrap, timestamps;
    int done;      /* the source will not grow (a finished deployment): no "+N new",
                      the marker counts the lines below the window instead */
    uint64_t top;  /* first visible seq when not following */
    uint64_t seen; /* newest seq the operator has seen (for "+N new") */
    char search[128];
    uint64_t match_seq; /* last search hit, 0 = none */
    const char *empty;  /* shown when there is no source or no line */
    int page;
    /* Line filters (logview_shows): hide_proto hides the machine lines that
     * start with "@@"; filter[0] shows only the lines containing filter
     * (case-insensitive). While either is on, the window, scrolling, Home
     * and search count visible lines only; `top` stays a source seq. */
    int hide_proto;
    char filter[128];
};

extern const struct widget_ops logview_ops;

void logview_init(struct logview *lv);
/* Point the view at a new source (or none), back in follow mode. */
void logview_set_source(struct logview *lv, const struct lv_source *src);

/* Lines that arrived since following stopped (0 when following). */
uint64_t logview_new_lines(const struct logview *lv);

void logview_set_follow(struct logview *lv, int on);
int logview_scroll(struct logview *lv, long delta); /* lines; WF_DIRTY if moved */

/* Find the next (dir 1) or previous (dir -1) line containing lv->search
 * (case-insensitive), starting after/before the current match or the top.
 * Returns 0 and shows it (follow off), or -1 if none. */
int logview_search(struct logview *lv, const char *text, int dir);

/* Whether the filters show a line of this text (1) or hide it (0). */
int logview_shows(const struct logview *lv, const char *text);
/* Set the line filter ("" or NULL: none); the view goes back to following
 * the newest visible line. */
void logview_set_filter(struct logview *lv, const char *text);

/* Write every line the source holds to path (created 0600, truncated), with
 * "[stderr] " before stderr lines. Returns lines written or -1 (errno). */
long logview_save(struct logview *lv, const char *path);

#endif
