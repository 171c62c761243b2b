/*
 * app.c: the console's main loop (tui.h): set-up, the poll loop, signals
 * and tear-down. The parts are in app_int.h.
 *
 * DESIGN
 * Everything here runs on the UI thread, the only thread that calls curses.
 * The loop poll()s stdin, the coordinator's event fd, a signal self-pipe
 * (SIGWINCH, SIGTERM, SIGHUP, SIGINT), the isolation probe's pipe and the
 * pipes of the three worker threads (the store reader, the learning view,
 * the console's jobs); it has a timeout only while deployments run or a
 * flash message is showing, so an idle console sleeps in poll (0 % CPU,
 * 0 bytes to the terminal). Nothing that can block runs here: store reads,
 * recovery, cleanup, deploying and cancelling are the workers'.
 *
 * Every exit, early failures included, goes through one cleanup label that
 * stops and joins the workers and frees everything before the caller
 * frees the store and the coordinator.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "app_int.h"
#include "traj.h"
#include "util.h"

static struct app *g_app; /* for the signal handler's pipe only */

/* --- events and signals ------------------------------------------------------- */

static void on_signal(int sig)
{
    int saved = errno;
    char b = (char)sig;
    if (g_app && write(g_app->sig_pipe[1], &b, 1) < 0) {
        /* the pipe is full: a wake-up is already pending */
    }
    errno = saved;
}

int tui_log_open(void)
{
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[4096], path[4200];
    if (x && *x)
        snprintf(dir, sizeof dir, "%s/swarmdeck", x);
    else
        snprintf(dir, sizeof dir, "%s/.local/state/swarmdeck", home ? home : "/tmp");
    if (sd_mkdir_p(dir, 0700) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/console.log", dir);
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

/* The workers: the store reader (which verifies the chain once at start),
 * the learning view and the job worker. One that cannot start is said on
 * the status line; the console runs without it. */
static void workers_start(struct app *a)
{
    struct fetch_conf fc = {.store = a->store, .record = !a->readonly};
    struct learnsnap_conf lc = {
        .learn = a->coord ? coord_learn(a->coord) : NULL,
        .store = a->store,
        .runner_path = a->coord ? NULL : a->conf.runner_path,
    };
    struct sd_err err = {0};

    if ((a->fetch = fetch_start(&fc, &err)) == NULL)
        app_notify(a, 1, "%s", err.msg);
    fetch_chain(a->fetch, 1); /* verify once at start, in the background */
    if ((a->ls = learnsnap_start(&lc, &err)) == NULL)
        app_notify(a, 1, "%s", err.msg);
    if ((a->jobs = app_jobs_start(&err)) == NULL)
        app_notify(a, 1, "%s", err.msg);
}

/* Curses on the terminal, in raw mode, with the theme. Returns the screen,
 * or NULL when the terminal cannot be set up. */
static SCREEN *term_start(struct app *a)
{
    SCREEN *scr;
    char terr[256];

    if ((scr = newterm(NULL, stdout, stdin)) == NULL)
        return NULL;
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    wk_init();
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    if (!a->conf.no_mouse && app_mouse_ok()) {
        mouseinterval(0); /* presses as they come: no wait to tell a click */
        mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    }
    curs_set(0);
    a->colors = 0;
    if (!a->conf.no_color && has_colors()) {
        start_color();
        use_default_colors();
        a->colors = COLORS;
    }
    if (theme_load(theme_dir(), a->conf.theme ? a->conf.theme : "default", &a->theme, terr,
                   sizeof terr) != 0)
        app_notify(a, 1, "%s; using the built-in default", terr);
    app_apply_theme(a);
    return scr;
}

/* The signal self-pipe's bytes. */
static void on_signals(struct app *a)
{
    char b[64];
    ssize_t n = read(a->sig_pipe[0], b, sizeof b);
    for (ssize_t i = 0; i < n; i++) {
        if (b[i] == SIGWINCH) {
            struct winsize ws;
            if (ioctl(1, TIOCGWINSZ, &ws) == 0)
                resizeterm(ws.ws_row, ws.ws_col);
            app_layout(a);
            a->dirty = D_ALL;
        } else if (b[i] == SIGINT) {
            app_cmd_run(a, "quit");
        } else {
            a->quit = 1; /* SIGTERM, SIGHUP: orderly shutdown */
        }
    }
}

/* The loop: draw, poll, handle what woke it, until quit. */
static void run_loop(struct app *a)
{
    uint64_t last_refresh = sd_mono_ns();

    while (!a->quit) {
        struct pollfd pf[7];
        int nfd = 0, timeout = -1, live;
        uint64_t now;

        app_draw_frame(a);
        if (a->conf.frames > 0 && a->frames >= a->conf.frames)
            break;
        pf[nfd++] = (struct pollfd){0, POLLIN, 0};
        pf[nfd++] = (struct pollfd){a->sig_pipe[0], POLLIN, 0};
        pf[nfd++] =
            (struct pollfd){app_events(a) && !a->paused ? evq_fd(app_events(a)) : -1, POLLIN, 0};
        pf[nfd++] = (struct pollfd){a->probe_fd, POLLIN, 0};
        pf[nfd++] = (struct pollfd){a->paused ? -1 : learnsnap_fd(a->ls), POLLIN, 0};
        pf[nfd++] = (struct pollfd){fetch_fd(a->fetch), POLLIN, 0};
        pf[nfd++] = (struct pollfd){app_jobs_fd(a->jobs), POLLIN, 0};
        live = a->counts[TS_RUNNING] + a->counts[TS_QUEUED];
        now = sd_mono_ns();
        if (live && !a->paused) { /* the next periodic refresh, counted from the last */
            uint64_t next = last_refresh + (uint64_t)a->interval_ms * 1000000u;
            timeout = next > now ? (int)((next - now) / 1000000u) + 1 : 0;
        }
        if (a->flash[0]) {
            int left = a->flash_until > now ? (int)((a->flash_until - now) / 1000000) + 1 : 0;
            timeout = timeout < 0 || left < timeout ? left : timeout;
        }
        { /* the open run output view follows: a read due, or when (app_runlog.c) */
            int rl = app_runlog_tick(a, now);
            if (rl >= 0)
                timeout = timeout < 0 || rl < timeout ? rl : timeout;
        }
        if (app_hosts_waiting(a)) { /* a host's "reconnecting in Ns" counts down */
            timeout = timeout < 0 || timeout > 1000 ? 1000 : timeout;
            a->dirty |= D_HEADER;
        }
        if (poll(pf, (nfds_t)nfd, timeout) < 0 && errno != EINTR)
            break;
        if (pf[1].revents & POLLIN)
            on_signals(a);
        if (pf[3].revents & (POLLIN | POLLHUP))
            app_probe_read(a);
        if (pf[4].revents & POLLIN)
            app_take_snapshot(a);
        if (pf[5].revents & POLLIN)
            app_take_fetched(a);
        if (pf[6].revents & POLLIN)
            app_jobs_take(a);
        if (pf[0].revents & POLLIN) {
            int k;
            while ((k = wk_read(stdscr)) != WK_NONE) {
                if (k == WK_RESIZE) {
                    app_layout(a);
                    a->dirty = D_ALL;
                    continue;
                }
                app_key(a, k);
                app_layout(a);
            }
        }
        if (!a->paused) {
            int ch = app_drain_events(a);
            /* Refresh on events, or when the interval is up while something
             * runs: not on every wake-up, or each refresh's chain query
             * would wake the loop for the next (a spin while live). */
            int due = live && sd_mono_ns() - last_refresh >= (uint64_t)a->interval_ms * 1000000u;
            if (ch || due) {
                last_refresh = sd_mono_ns();
                const struct deploy_view *v = app_live_view(a, a->out_id);
                app_refresh(a);
                a->dirty |= ch | D_HEADER;
                if (v && !traj_state_terminal(v->state))
                    a->dirty |= D_OUTPUT; /* a throttled last chunk still shows */
                a->tick++;
            }
        }
        if (a->flash[0] && sd_mono_ns() >= a->flash_until) {
            a->flash[0] = '\0';
            a->dirty |= D_FOOTER;
        }
    }
}

int tui_run(const struct tui_conf *conf)
{
    struct app *a = app_new(conf);
    struct sigaction sa, old[4];
    static const int sigs[4] = {SIGWINCH, SIGTERM, SIGHUP, SIGINT};
    int logfd, saved_err = -1, status = 0, handlers = 0;
    SCREEN *scr = NULL;

    workers_start(a);
    setlocale(LC_ALL, "");
    a->g = glyph_pick();
    a->spark_g = a->g;
    if (conf->sparklines && strcmp(conf->sparklines, "block") != 0) {
        char line[96];
        snprintf(line, sizeof line, "sparklines %.80s", conf->sparklines);
        app_cmd_run(a, line); /* refused: says why, stays block */
    }
    if (pipe2(a->sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        a->sig_pipe[0] = a->sig_pipe[1] = -1;
        status = 3;
        goto out;
    }
    /* Nothing may write to the terminal while curses owns it. */
    if ((logfd = tui_log_open()) >= 0) {
        fflush(stderr);
        saved_err = dup(2);
        dup2(logfd, 2);
        close(logfd);
    }
    if ((scr = term_start(a)) == NULL) {
        if (saved_err >= 0)
            dup2(saved_err, 2);
        fprintf(stderr, "swarmdeck: cannot start the console on this terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "");
        status = 3;
        goto out;
    }

    g_app = a;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &sa, &old[i]);
    handlers = 1;

    app_probe_start(a);
    app_refresh(a); /* asks the reader for the history */
    app_layout(a);
    a->dirty = D_ALL;
    run_loop(a);

out:
    /* Every path: the workers stop before the caller frees the coordinator
     * and the store (app_free joins them), the terminal is given back. */
    if (handlers) {
        for (int i = 0; i < 4; i++)
            sigaction(sigs[i], &old[i], NULL);
        g_app = NULL;
    }
    if (scr != NULL) {
        endwin();
        delscreen(scr);
    }
    if (saved_err >= 0) {
        dup2(saved_err, 2);
        close(saved_err);
    }
    app_runs_close(a); /* the engine cancels what still runs */
    app_runlog_free(a);
    app_free(a);
    return status;
}
