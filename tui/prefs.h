/*
 * prefs.h: the console's operator preferences, one plain struct with the
 * defaults of issue 16, read by the console at start and when it acts.
 * The config file ($XDG_CONFIG_HOME/swarmdeck/config) is read by the
 * caller, which writes what it found into console_prefs before tui_run;
 * the console never writes it.
 */
#ifndef SD_TUI_PREFS_H
#define SD_TUI_PREFS_H

struct console_prefs {
    int show_protocol;   /* the output pane shows "@@" protocol lines (default 0: hidden) */
    long confirm_agents; /* a launch of more agents than this asks first (default 50) */
    int confirm_paid;    /* a launch on a paid provider (e2b) asks first (default 1) */
    int kill_on_k;       /* `k` kills as it used to (default 0: `k` moves up, `x` kills) */
    char symbols[160];   /* the deploy dialog's symbols when the strategy names none ("": SPY) */
    long pace;           /* the deploy dialog's pace (bars/s, default 0: unpaced) */
    /* Key bindings of the config (bind = KEY ACTION-KEY): in the console's
     * main key table, key from[i] does what key to[i] does by default.
     * Codes as widget.h reads keys (WK_FN for function keys). */
    int bind_from[64], bind_to[64];
    int nbinds;
};

extern struct console_prefs console_prefs;

/* key as the config's bindings map it (key itself when none does). */
int prefs_map_key(int key);

/* Whether a provider costs money per use (the E2B cloud). */
int prefs_paid_provider(const char *provider);

#endif
