/*
 * tui.h: the swarmdeck console (design.md §2): the one thread that calls
 * curses, driving a coordinator it is given.
 *
 * tui_run owns the terminal from initscr to endwin; it never blocks on the
 * engine: it polls stdin, the coordinator's event fd, a signal self-pipe
 * and (only while something runs) a timer, pulls the visible window of
 * output and redraws dirty panes with one doupdate per frame.
 */
#ifndef SD_TUI_H
#define SD_TUI_H

#include <stdio.h>

#include "coord.h"
#include "store.h"

struct remote;

struct tui_conf {
    struct store *store;   /* required */
    struct coord *coord;   /* the engine in this process, or NULL */
    struct remote *remote; /* or the daemon's (remote.h); both NULL: history only */
    /* Several daemons (docs/fleet.md): remotes[i] is host i's (conf.host i,
     * remote.h's ids), named names[i]; remotes[0] the local daemon's or NULL
     * when the local one is not shown (then neither is the store's history).
     * nhosts 0: just `remote`. */
    struct remote *const *remotes;
    const char *const *names;
    int nhosts;
    const char *helper_path; /* swarmdeck-sandbox, for the probe and cleanup */
    const char *runner_path; /* swarmdeck-runner: a read-only console's learning
                                catalog (NULL: no learning without a coordinator) */
    const char *version;
    const char *theme;      /* NULL = "default" */
    const char *sparklines; /* "block" (NULL) or "braille" */
    int readonly, no_color, no_anim;
    int no_mouse;    /* do not ask the terminal for mouse events */
    int bell, osc9;  /* a run's end rings the bell / sends OSC 9 (with a daemon) */
    long frames;     /* exit after this many frames (0 = never) */
    int interval_ms; /* refresh while something runs (default 1000) */
};

/* Run the console until the operator quits or SIGTERM/SIGHUP. Returns an
 * exit status (0, or 3 if the terminal could not be set up). The caller
 * frees the coordinator afterwards (which cancels what still runs). */
int tui_run(const struct tui_conf *conf);

/* The console's log ($XDG_STATE_HOME/swarmdeck/console.log, 0600, appended),
 * where its stderr goes while it owns the terminal: an fd, or -1. */
int tui_log_open(void);

/* Print the key-binding table (markdown) to f, for docs and tests. */
void tui_dump_keys(FILE *f);

#endif
