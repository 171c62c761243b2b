/*
 * wkey.c: reading and naming keys (widget.h). UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "widget.h"

int wk_read(WINDOW *win)
{
    wint_t wc;
    int r = wget_wch(win, &wc);

    if (r == ERR)
        return WK_NONE;
    if (r == KEY_CODE_YES) {
        if (wc == KEY_ENTER)
            return WK_ENTER;
        return WK_FN((int)wc);
    }
    if (wc == '\n')
        return WK_ENTER;
    if (wc == 127 || wc == 8)
        return WK_BACKSPACE;
    return (int)wc;
}

const char *wk_name(int key, char *buf, size_t n)
{
    static const struct {
        int key;
        const char *name;
    } names[] = {
        {WK_UP, "Up"},      {WK_DOWN, "Down"},      {WK_LEFT, "Left"}, {WK_RIGHT, "Right"},
        {WK_PGUP, "PgUp"},  {WK_PGDN, "PgDn"},      {WK_HOME, "Home"}, {WK_END, "End"},
        {WK_BTAB, "S-Tab"}, {WK_BACKSPACE, "BSpc"}, {WK_DC, "Del"},    {WK_ENTER, "Enter"},
        {WK_TAB, "Tab"},    {WK_ESC, "Esc"},        {' ', "Space"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].key == key) {
            snprintf(buf, n, "%s", names[i].name);
            return buf;
        }
    if (WK_IS_FN(key) && key - WK_FN(0) >= KEY_F(1) && key - WK_FN(0) <= KEY_F(12))
        snprintf(buf, n, "F%d", key - WK_FN(0) - KEY_F(0));
    else if (key > 0 && key < 32)
        snprintf(buf, n, "C-%c", key + 'a' - 1);
    else if (key >= 32 && key < 127)
        snprintf(buf, n, "%c", key);
    else
        snprintf(buf, n, "#%x", (unsigned)key);
    return buf;
}
