/*
 * inputline.h: a one-line editor with history and completion (the `:` and
 * `/` prompts).
 *
 * History is kept newest last (Up/Down walk it); Tab completes the word
 * under the cursor through the owner's callback: one candidate is inserted,
 * several insert their common prefix and are listed in `cands` for the owner
 * to show. Enter returns WF_SUBMIT (the text stays in buf and goes to the
 * history), Esc WF_CANCEL. UI thread only.
 */
#ifndef SD_WIDGETS_INPUTLINE_H
#define SD_WIDGETS_INPUTLINE_H

#include "widget.h"

#define INPUT_MAX  256
#define INPUT_HIST 64

/* Fill out with up to max candidates (static strings) completing the text
 * line[0..len); return how many. */
typedef int (*input_complete_fn)(void *ctx, const char *line, const char **out, int max);

struct inputline {
    char prompt[16];
    char buf[INPUT_MAX];
    char hist[INPUT_HIST][INPUT_MAX];
    int nhist, hpos;
    input_complete_fn complete;
    void *ctx;
    char cands[256]; /* the last ambiguous completion's candidates */
};

extern const struct widget_ops inputline_ops;

void inputline_init(struct inputline *in, const char *prompt, input_complete_fn fn, void *ctx);
void inputline_start(struct inputline *in, const char *prompt, const char *text);

#endif
