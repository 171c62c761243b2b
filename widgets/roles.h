/*
 * roles.h: the semantic colour roles every widget draws with.
 *
 * Widgets never pick colours: they draw with an attribute looked up by role
 * in an array the caller passes (htop's colour schemes, indexed by role).
 * The console's theme loader fills that array from a *.theme file.
 */
#ifndef SD_WIDGETS_ROLES_H
#define SD_WIDGETS_ROLES_H

#include <curses.h>

enum role {
    ROLE_NORMAL,
    ROLE_BORDER,
    ROLE_TITLE,
    ROLE_TITLE_FOCUS,
    ROLE_HEADER,
    ROLE_SELECT,
    ROLE_TAG,
    ROLE_DIM,
    ROLE_ERROR,
    ROLE_WARN,
    ROLE_OK,
    ROLE_RUNNING,
    ROLE_STDERR,
    ROLE_MATCH,
    ROLE_STATUSBAR,
    ROLE_KEY,
    ROLE_FLASH,
    ROLE_SPARK,
    ROLE_DIALOG,
    ROLE_INPUT,
    ROLE_COUNT
};

/* Role names as written in theme files ("normal", "title-focus", ...). */
extern const char *const role_names[ROLE_COUNT];

/* Index of name, or -1. */
int role_from_name(const char *name);

#endif
