/*
 * app_ops.c: the console commands of the operator's day (issue 16), kept
 * apart from app_cmds.c's table-and-dispatcher file: the output pane's line
 * filters. Each is an exec of the command table (app_cmds.c) and follows
 * its contract: validate, act or hand slow work to the job worker, set
 * dirty bits, never draw.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "prefs.h"
#include "traj.h"
#include "util.h"

/* `@`: show or hide the "@@" protocol lines of the output pane. */
int app_c_protocol(struct app *a, const char *x)
{
    (void)x;
    a->lv.hide_proto = !a->lv.hide_proto;
    app_notify(a, 0, "protocol lines (@@) %s", a->lv.hide_proto ? "hidden" : "shown");
    a->dirty |= D_OUTPUT;
    return 0;
}

/* Show only the output lines containing arg ("" or NULL: every line); the
 * matches are highlighted too (the search text follows the filter). */
int app_c_ofilter(struct app *a, const char *arg)
{
    logview_set_filter(&a->lv, arg ? arg : "");
    snprintf(a->lv.search, sizeof a->lv.search, "%s", arg ? arg : "");
    a->lv.match_seq = 0;
    a->dirty |= D_OUTPUT;
    return 0;
}
