/*
 * app_keys.c: the console's key table and key dispatch (app_int.h). A key
 * is looked up in the binding table (key, scope, command line, footer
 * hint) and its command runs through app_cmd_run; the first binding whose
 * scope applies wins. Every key the console answers is in the table, Esc,
 * Ctrl-C and the deploy dialog's Ctrl-A included, so the help screen (?),
 * the footer hints and --dump-keys (docs/operator-guide.md) list them all.
 * Keys an open widget consumes (a form field, a prompt's text) go to that
 * widget first. The mouse: a click focuses and selects, the wheel scrolls.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "app_int.h"
#include "prefs.h"
#include "util.h"

/* The key table: the first binding of a key whose scope applies runs. The
 * hint column picks the footer's keys; help and --dump-keys list all. */
const struct binding app_bindings[] = {
    {'q', S_ANY, "quit", 1},
    {'d', S_PATTERNS, "pattern-deploy", 1},
    {'d', S_ANY, "deploy", 1},
    {'R', S_TABLE, "rerun", 0},
    {'x', S_ANY, "kill", 1},
    {'p', S_TABLE, "pause-deployment", 0},
    {'L', S_TABLE, "run-output", 0},
    {'c', S_ANY, "cleanup", 0},
    {'C', S_ANY, "cleanup-all", 0},
    {'?', S_ANY, "help", 1},
    {WK_FN(KEY_F(1)), S_ANY, "help", 0},
    {':', S_ANY, "prompt", 1},
    {'/', S_ANY, "find", 1},
    {'n', S_OUTPUT, "search-next", 0},
    {'N', S_OUTPUT, "search-prev", 0},
    {' ', S_TABLE, "tag", 0},
    {'*', S_TABLE, "tag-all", 0},
    {'U', S_TABLE, "untag-all", 0},
    {'=', S_TABLE, "compare", 0},
    {'s', S_LIST, "sort-next", 1},
    {'r', S_LIST, "sort-invert", 0},
    {WK_ENTER, S_TABLE, "open", 0},
    {WK_ENTER, S_PATTERNS, "pattern-open", 1},
    {'f', S_OUTPUT, "follow", 1},
    {'w', S_OUTPUT, "wrap", 1},
    {'T', S_OUTPUT, "timestamps", 0},
    {'@', S_OUTPUT, "protocol", 1},
    {'S', S_OUTPUT, "save", 0},
    {'F', S_ANY, "fullscreen", 0},
    {'t', S_ANY, "theme-next", 0},
    {'b', S_ANY, "sparklines", 0},
    {WK_TAB, S_ANY, "focus-next", 1},
    {WK_BTAB, S_ANY, "focus-prev", 0},
    {'1', S_ANY, "focus 1", 0},
    {'2', S_ANY, "focus 2", 0},
    {'3', S_ANY, "focus 3", 0},
    {'4', S_ANY, "focus 4", 0},
    {'5', S_ANY, "focus 5", 0},
    {'+', S_ANY, "faster", 0},
    {'-', S_ANY, "slower", 0},
    {'Z', S_ANY, "pause", 0},
    {WK_CTRL('l'), S_ANY, "redraw", 0},
    {'V', S_ANY, "verify", 0},
    {WK_DOWN, S_ANY, "down", 0},
    {'j', S_ANY, "down", 0},
    {WK_UP, S_ANY, "up", 0},
    {'k', S_ANY, "up", 0},
    {WK_PGDN, S_ANY, "page-down", 0},
    {WK_PGUP, S_ANY, "page-up", 0},
    {WK_HOME, S_ANY, "home", 0},
    {'g', S_ANY, "home", 0},
    {WK_END, S_ANY, "end", 0},
    {'G', S_ANY, "end", 0},
    {WK_ESC, S_ANY, "back", 0},
    {WK_CTRL('c'), S_ANY, "quit", 0},
    {WK_CTRL('a'), S_DEPLOY, "apply", 0},
    {WK_CTRL('o'), S_DEPLOY, "deploy-host", 0},
    {'H', S_ANY, "host-next", 0},
    {WK_PGDN, S_DEPLOY, "suggestion-down", 0},
    {WK_PGUP, S_DEPLOY, "suggestion-up", 0},
};
const size_t app_nbindings = sizeof app_bindings / sizeof app_bindings[0];
_Static_assert(sizeof app_bindings / sizeof app_bindings[0] <= APP_MAX_BINDINGS,
               "APP_MAX_BINDINGS: the footer's and help's arrays are this long");

int app_scope_ok(const struct app *a, int scope)
{
    switch (scope) {
    case S_TABLE:
        return a->focus == P_TABLE;
    case S_OUTPUT:
        return a->focus == P_OUTPUT;
    case S_LIST:
        return a->focus == P_TABLE || (a->focus == P_PATTERNS && !a->pat.open);
    case S_PATTERNS:
        return a->focus == P_PATTERNS;
    case S_DEPLOY:
        return a->overlay == OV_DEPLOY;
    default:
        return 1;
    }
}

/* Whether an earlier binding of the same key applies in this pane (the
 * dispatcher takes the first match, so this one would never run). */
int app_shadowed(const struct app *a, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (app_bindings[k].key == app_bindings[i].key && app_scope_ok(a, app_bindings[k].scope))
            return 1;
    return 0;
}

void tui_dump_keys(FILE *f)
{
    static const char *const scopes[S_COUNT] = {
        "any pane", "sandboxes", "output", "sandboxes, patterns", "patterns", "deploy dialog"};
    char k[32];
    fprintf(f, "| key | pane | command | what it does |\n|---|---|---|---|\n");
    for (size_t i = 0; i < app_nbindings; i++)
        fprintf(f, "| `%s` | %s | `%s` | %s |\n", wk_name(app_bindings[i].key, k, sizeof k),
                scopes[app_bindings[i].scope], app_bindings[i].cmd,
                app_cmd_desc(app_bindings[i].cmd));
    fprintf(f, "\nCommands for the `:` palette (mutating ones are refused with --readonly):\n\n");
    fprintf(f, "| command | arguments | what it does |\n|---|---|---|\n");
    for (const struct command *c = app_commands; c->name; c++)
        fprintf(f, "| `%s` | %s | %s%s |\n", c->name, c->args[0] ? c->args : "", c->desc,
                c->flags & CMD_MUTATES ? " (mutating)" : "");
}
/* MOUSE (on where the terminal has a mouse protocol, unless --no-mouse): a
 * click focuses the pane under it and selects the table row it lands on,
 * or picks a tab; the wheel scrolls the pane under the pointer by three
 * lines or rows without moving the focus. Overlays ignore the mouse. */
static int pane_at(const struct app *a, int y, int x)
{
    for (int p = 0; p < P_COUNT; p++) {
        const int *r = a->rect[p];
        if (r[2] > 0 && y >= r[0] && y < r[0] + r[2] && x >= r[1] && x < r[1] + r[3])
            return p;
    }
    return -1;
}

/* The tab drawn at column x of the tab bar (as draw_header lays it out). */
static int tab_at(int x)
{
    int x0 = 0;
    for (int p = 0; p < P_COUNT; p++) {
        char name[32];
        int w = snprintf(name, sizeof name, " %d %s ", p + 1, app_pane_names[p]);
        if (x >= x0 && x < x0 + w)
            return p;
        x0 += w + 1;
    }
    return -1;
}

static void handle_mouse(struct app *a)
{
    MEVENT ev;
    int p, dy;

    if (getmouse(&ev) != OK || a->too_small || a->overlay != OV_NONE)
        return;
    if ((ev.bstate & BUTTON1_PRESSED) && a->tabs && !a->fullscreen && ev.y == 1) {
        if ((p = tab_at(ev.x)) >= 0 && p != a->focus) {
            a->focus = p;
            a->dirty = D_ALL;
        }
        return;
    }
    if ((p = pane_at(a, ev.y, ev.x)) < 0)
        return;
    if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        for (int i = 0; i < 3; i++)
            app_pane_key(a, p == P_DETAILS ? P_OUTPUT : p,
                         ev.bstate & BUTTON4_PRESSED ? WK_UP : WK_DOWN);
        return;
    }
    if (!(ev.bstate & BUTTON1_PRESSED))
        return;
    if (a->focus != p) {
        a->focus = p;
        a->dirty = D_ALL;
    }
    dy = ev.y - a->rect[p][0] - 1; /* 0: the table's header line */
    if (p == P_TABLE && (table_click(&a->tbl, dy) & WF_DIRTY)) {
        app_sync_output(a);
        a->dirty |= D_TABLE | D_OUTPUT | D_DETAILS;
    } else if (p == P_PATTERNS && !a->pat.open && (table_click(&a->pat.list, dy) & WF_DIRTY)) {
        a->dirty |= D_PATTERNS;
    }
}

/* Whether to ask for mouse events: the terminal must describe a mouse
 * protocol (kmous); the Linux console's (gpm) is left alone; and not inside
 * GNU screen (STY set), which holds back a lone Esc while an application
 * has mouse reporting on, until the next key (console e2e gnu_screen). */
int app_mouse_ok(void)
{
    const char *term = getenv("TERM");
    char *km = tigetstr("kmous");
    return km != NULL && km != (char *)-1 && *km && !(term && strcmp(term, "linux") == 0) &&
           getenv("STY") == NULL;
}

/* A key: the mouse, an overlay's widget, else the first binding whose
 * scope applies. */
void app_key(struct app *a, int key)
{
    int f;
    if (key == WK_RESIZE)
        return;
    if (key == WK_FN(KEY_MOUSE)) {
        handle_mouse(a);
        return;
    }
    if (a->too_small) {
        if (key == 'q')
            a->quit = 1;
        return;
    }
    switch (a->overlay) {
    case OV_CONFIRM:
        f = dialog_ops.key(&a->dlg, key);
        if (f & WF_CANCEL)
            app_confirm_done(a, 0);
        else if (f & WF_SUBMIT)
            app_confirm_done(a, a->dlg.chosen == 1);
        a->dirty = D_ALL;
        return;
    case OV_HELP: {
        /* a page is the help box's rows (draw_help: LINES - 4, less the border) */
        int page = LINES - 6 > 1 ? LINES - 6 : 1;
        if (key == WK_DOWN || key == 'j')
            a->help_top++;
        else if ((key == WK_UP || key == 'k') && a->help_top > 0)
            a->help_top--;
        else if (key == WK_PGDN || key == ' ')
            a->help_top += page;
        else if (key == WK_PGUP)
            a->help_top = a->help_top > page ? a->help_top - page : 0;
        else if (key == WK_HOME || key == 'g')
            a->help_top = 0;
        else if (key == WK_END || key == 'G')
            a->help_top = (int)app_nbindings; /* draw_help clamps */
        else
            a->overlay = OV_NONE;
        a->dirty = D_ALL;
        return;
    }
    case OV_DEPLOY:
        /* The dialog's own bindings (Ctrl-A), then the form. */
        for (size_t i = 0; i < app_nbindings; i++)
            if (app_bindings[i].key == key && app_bindings[i].scope == S_DEPLOY) {
                app_cmd_run(a, app_bindings[i].cmd);
                return;
            }
        app_deploy_key(a, key);
        return;
    case OV_INPUT:
        app_input_key(a, key);
        return;
    case OV_COMPARE:
        app_compare_key(a, key);
        return;
    case OV_RUNLOG:
        app_runlog_key(a, key);
        return;
    }
    /* The config's bindings act on the main table only: in a field or a
     * prompt a key is the character typed. */
    key = prefs_map_key(key);
    if (key == 'k' && console_prefs.kill_on_k) { /* the old key, when the config asks */
        app_cmd_run(a, "kill");
        return;
    }
    for (size_t i = 0; i < app_nbindings; i++)
        if (app_bindings[i].key == key && app_scope_ok(a, app_bindings[i].scope)) {
            app_cmd_run(a, app_bindings[i].cmd);
            return;
        }
}
