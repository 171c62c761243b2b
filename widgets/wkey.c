/*
 * wkey.c: reading and naming keys (widget.h). UI thread only.
 *
 * Terminals disagree on what Home, End and friends send: xterm sends
 * ESC O H or ESC [ H, tmux, screen and PuTTY ESC [ 1 ~, rxvt ESC [ 7 ~,
 * and a terminfo entry (vt100 has no khome at all, tmux under TERM=xterm
 * sends what xterm's entry does not list) names only one of them. So
 * wk_init teaches curses the common variants (htop's define_key list),
 * and wk_read, when curses still hands it an ESC that starts a CSI or SS3
 * sequence, reads the whole sequence itself: a known one becomes its key,
 * an unknown one is dropped, so its bytes never run as separate keys.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "widget.h"

/* The variants, by what follows ESC. */
static const struct {
    const char *seq;
    int key; /* a curses KEY_*; 0: known and ignored (Insert) */
} variants[] = {
    {"[1~", KEY_HOME},  {"[7~", KEY_HOME},  {"[H", KEY_HOME},    {"OH", KEY_HOME},
    {"[4~", KEY_END},   {"[8~", KEY_END},   {"[F", KEY_END},     {"OF", KEY_END},
    {"[5~", KEY_PPAGE}, {"[6~", KEY_NPAGE}, {"[3~", KEY_DC},     {"[2~", 0},
    {"[A", KEY_UP},     {"[B", KEY_DOWN},   {"[C", KEY_RIGHT},   {"[D", KEY_LEFT},
    {"OA", KEY_UP},     {"OB", KEY_DOWN},   {"OC", KEY_RIGHT},   {"OD", KEY_LEFT},
    {"[Z", KEY_BTAB},   {"OP", KEY_F(1)},   {"OQ", KEY_F(2)},    {"OR", KEY_F(3)},
    {"OS", KEY_F(4)},   {"[11~", KEY_F(1)}, {"[12~", KEY_F(2)},  {"[13~", KEY_F(3)},
    {"[14~", KEY_F(4)}, {"[15~", KEY_F(5)}, {"[17~", KEY_F(6)},  {"[18~", KEY_F(7)},
    {"[19~", KEY_F(8)}, {"[20~", KEY_F(9)}, {"[21~", KEY_F(10)},
};
#define NVARIANTS (sizeof variants / sizeof variants[0])

void wk_init(void)
{
    char s[16];
    for (size_t i = 0; i < NVARIANTS; i++) {
        if (variants[i].key == 0)
            continue;
        snprintf(s, sizeof s, "\033%s", variants[i].seq);
        if (key_defined(s) == 0) /* the terminfo entry's own binding stays */
            define_key(s, variants[i].key);
    }
}

/* The next character already waiting, without blocking: a byte of the
 * sequence curses gave back, or -1. */
static int next_now(WINDOW *win)
{
    wint_t wc;
    int r, was = is_nodelay(win);
    if (!was)
        nodelay(win, TRUE);
    r = wget_wch(win, &wc);
    if (!was)
        nodelay(win, FALSE);
    if (r == KEY_CODE_YES) {
        ungetch((int)wc); /* a whole key curses knows: it is the next key, not part of this */
        return -1;
    }
    return r == OK ? (int)wc : -1;
}

/* After ESC: -1 when nothing follows (a plain Esc) or the byte after ESC
 * starts no sequence (put back; Alt-key stays Esc then the key); else the
 * sequence read whole: its key, or 0 when unknown (dropped). */
static int read_sequence(WINDOW *win)
{
    char s[24];
    size_t n = 0;
    int c = next_now(win);

    if (c < 0)
        return -1;
    if (c != '[' && c != 'O') {
        unget_wch((wchar_t)c);
        return -1;
    }
    s[n++] = (char)c;
    for (;;) {
        c = next_now(win);
        if (c < 0)
            break; /* cut short: dropped */
        if (n < sizeof s - 1)
            s[n++] = (char)c;
        /* CSI and SS3 (ESC O 5 P: a modified F1) end at a byte in 0x40..0x7e */
        if (c >= 0x40 && c <= 0x7e)
            break;
        if (c < 0x20 || c > 0x7e)
            break; /* not a sequence byte: dropped with the rest */
    }
    s[n] = '\0';
    for (size_t i = 0; i < NVARIANTS; i++)
        if (strcmp(s, variants[i].seq) == 0)
            return variants[i].key ? WK_FN(variants[i].key) : 0;
    return 0;
}

int wk_read(WINDOW *win)
{
    wint_t wc;

    for (;;) {
        int r = wget_wch(win, &wc);
        if (r == ERR)
            return WK_NONE;
        if (r == KEY_CODE_YES) {
            if (wc == KEY_ENTER)
                return WK_ENTER;
            if (wc == KEY_FIND) /* vt220's names for ESC [ 1 ~ and ESC [ 4 ~ (rxvt's entry) */
                return WK_HOME;
            if (wc == KEY_SELECT)
                return WK_END;
            return WK_FN((int)wc);
        }
        if (wc == 27) {
            int k = read_sequence(win);
            if (k == 0)
                continue; /* an unknown sequence: read the next key */
            return k < 0 ? WK_ESC : k;
        }
        if (wc == '\n')
            return WK_ENTER;
        if (wc == 127 || wc == 8)
            return WK_BACKSPACE;
        return (int)wc;
    }
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
