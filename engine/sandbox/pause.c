/*
 * pause.c: pausing and resuming a running sandbox (the helper's SIGUSR1 and SIGUSR2).
 *
 * The engine pauses a sandbox by sending its helper SIGUSR1 and resumes it with SIGUSR2
 * (provider_local.c, docs/sandbox.md). The helper passes the request on to the sandbox:
 *   - with a pid namespace, to the init (PID 1) as the same signal; the init answers with
 *     kill(-1, SIGSTOP) or kill(-1, SIGCONT), which reaches every other process of its
 *     namespace, whatever the payload forked or however it regrouped them (child.c). The
 *     init itself keeps running: it only waits, and it must still forward a later SIGTERM.
 *   - without one (a degraded or --unsandboxed sandbox), to the payload's session, the init
 *     included (kill(-init, ...)): the init made that session with setsid. A process that
 *     left the session escapes the pause, as it escapes the stop signals (docs/sandbox.md).
 * While paused the wall-clock timeout does not run: it counts running time only. Pausing
 * takes the time left off the deadline; resuming puts the deadline that much after now.
 * Each change is reported on the status fd as {"event":"paused"} or {"event":"resumed"}.
 *
 * Helper's main thread only (the helper is single-threaded).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "sandbox.h"

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sbx_pause_set(struct sbx_pause *p, bool on, uint64_t *term_at, int status_fd)
{
    if (p->paused == on)
        return;
    if (p->pid_ns)
        kill(p->init, on ? SIGUSR1 : SIGUSR2);
    else
        kill(-p->init, on ? SIGSTOP : SIGCONT);
    p->paused = on;
    if (on) {
        uint64_t now = mono_ns();
        p->left_ns = *term_at ? (*term_at > now ? *term_at - now : 1) : 0;
        *term_at = 0;
    } else if (p->left_ns) {
        *term_at = mono_ns() + p->left_ns;
        p->left_ns = 0;
    }
    if (status_fd >= 0)
        dprintf(status_fd, "{\"event\":\"%s\"}\n", on ? "paused" : "resumed");
}
