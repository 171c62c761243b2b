/*
 * theme.h: colour themes: *.theme files mapping semantic roles to colours.
 *
 * A theme file is lines of `role = FG BG [ATTR...]` (`#` starts a comment):
 * FG/BG are `default`, a colour name (black red green yellow blue magenta
 * cyan white, `bright-` prefixed for 8..15) or a number 0..255; ATTRs are
 * bold dim underline reverse standout italic. Roles are those of
 * widgets/roles.h. Roles a file omits keep the built-in default's value.
 *
 * theme_apply turns a theme into curses attributes for what the terminal
 * can do: 256 colours as written, 16 or 8 colours by mapping each colour
 * down, and no colour (NO_COLOR, --no-color, or a terminal without colour)
 * as attributes only, with reverse/bold/underline standing in for colours.
 *
 * UI thread only (theme_apply calls init_pair).
 */
#ifndef SD_TUI_THEME_H
#define SD_TUI_THEME_H

#include <stddef.h>

#include "roles.h"

struct theme_role {
    short fg, bg; /* -1 = terminal default */
    attr_t attrs;
};

struct theme {
    char name[64];
    struct theme_role r[ROLE_COUNT];
};

/* The compiled-in default (dark) theme. Can't fail. */
void theme_default(struct theme *t);

/* Parse text over t (start from theme_default). Returns 0, or -1 with err
 * ("line 3: unknown role \"bordr\"") and t unchanged. */
int theme_parse(const char *text, struct theme *t, char *err, size_t errn);

/* Load NAME.theme from dir into t. Returns 0, or -1 with err (t holds the
 * default theme then). */
int theme_load(const char *dir, const char *name, struct theme *t, char *err, size_t errn);

/* The theme directory: $SWARMDECK_THEMES, else <exe>/../themes, else the
 * source tree's themes/. Static string. */
const char *theme_dir(void);

/* Names of the themes in dir, sorted (up to max, each < 64 bytes). */
int theme_list(const char *dir, char names[][64], int max);

/* Fill out[ROLE_COUNT] with attributes for `colors` colours (0 = none). */
void theme_apply(const struct theme *t, int colors, attr_t out[ROLE_COUNT]);

#endif
