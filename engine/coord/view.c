/*
 * view.c: a deployment's view as JSON and back (coord.h), the one shape
 * the daemon's API, its event stream and every client share
 * (docs/daemon.md: "A view is ...").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "coord.h"

/* A number or null (NaN has no JSON form). */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *coord_view_json(const struct deploy_view *v)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:I, s:I, s:I, s:o, s:o, "
                     "s:I, s:I, s:o, s:o, s:o, s:s, s:I, s:s}",
                     "id", (json_int_t)v->id, "state", coord_view_state(v), "strategy", v->strategy,
                     "symbol", v->symbol, "sandboxId", v->sandbox_id, "provider", v->provider,
                     "error", v->error, "exitCode", v->exit_code, "synthetic", v->synthetic,
                     "createdAt", (json_int_t)v->created_at, "startedAt", (json_int_t)v->started_at,
                     "endedAt", (json_int_t)v->ended_at, "progress", num(v->progress), "equity",
                     num(v->equity), "cpuMs", (json_int_t)v->cpu_ms, "memKb", (json_int_t)v->mem_kb,
                     "totalReturn", num(v->total_return), "sharpe", num(v->sharpe), "reward",
                     num(v->reward), "isolation", v->isolation_level, "outputBytes",
                     (json_int_t)v->output_bytes, "waiting", v->waiting);
}

int coord_view_from_json(json_t *o, struct deploy_view *v)
{
    const char *s;
    json_t *x;

    memset(v, 0, sizeof *v);
    if (!json_is_object(o) || !json_is_integer(json_object_get(o, "id")))
        return -1;
#define STR(field, key)                                                                            \
    if ((s = json_string_value(json_object_get(o, key))) != NULL)                                  \
    snprintf(v->field, sizeof v->field, "%s", s)
#define NUM(key)                                                                                   \
    ((x = json_object_get(o, key)) != NULL && json_is_number(x) ? json_number_value(x) : NAN)
    v->id = json_integer_value(json_object_get(o, "id"));
    s = json_string_value(json_object_get(o, "state"));
    v->paused = s != NULL && strcmp(s, "paused") == 0;
    v->state = v->paused ? TS_RUNNING : traj_state_from_name(s);
    STR(strategy, "strategy");
    STR(symbol, "symbol");
    STR(sandbox_id, "sandboxId");
    STR(provider, "provider");
    STR(error, "error");
    STR(isolation_level, "isolation");
    STR(waiting, "waiting");
    v->exit_code = (int)json_integer_value(json_object_get(o, "exitCode"));
    v->synthetic = json_is_true(json_object_get(o, "synthetic"));
    v->created_at = json_integer_value(json_object_get(o, "createdAt"));
    v->started_at = json_integer_value(json_object_get(o, "startedAt"));
    v->ended_at = json_integer_value(json_object_get(o, "endedAt"));
    v->progress = NUM("progress");
    v->equity = NUM("equity");
    v->cpu_ms = json_integer_value(json_object_get(o, "cpuMs"));
    v->mem_kb = json_integer_value(json_object_get(o, "memKb"));
    v->total_return = NUM("totalReturn");
    v->sharpe = NUM("sharpe");
    v->reward = NUM("reward");
    v->output_bytes = (uint64_t)json_integer_value(json_object_get(o, "outputBytes"));
#undef STR
#undef NUM
    return v->state < 0 ? -1 : 0;
}
