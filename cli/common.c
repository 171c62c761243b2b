/*
 * common.c: helpers shared by the subcommands (cli.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"
#include "learn.h"
#include "recover.h"

const char *cli_val(const struct cli_cmd *cmd, const struct cli_args *a, const char *lng)
{
    for (size_t i = 0; cmd->opts && cmd->opts[i].lng; i++)
        if (strcmp(cmd->opts[i].lng, lng) == 0)
            return a->values[i];
    return NULL;
}

const char *cli_val_def(const struct cli_cmd *cmd, const struct cli_args *a, const char *lng)
{
    static char def[64];
    const char *p;
    size_t i, n;

    for (i = 0; cmd->opts && cmd->opts[i].lng; i++)
        if (strcmp(cmd->opts[i].lng, lng) == 0)
            break;
    if (cmd->opts == NULL || cmd->opts[i].lng == NULL)
        return NULL;
    if (a->values[i] != NULL)
        return a->values[i];
    if ((p = strstr(cmd->opts[i].help, "(default ")) == NULL)
        return NULL;
    p += strlen("(default ");
    n = strcspn(p, ");, ");
    snprintf(def, sizeof def, "%.*s", (int)n, p);
    return def;
}

int cli_flag(const struct cli_cmd *cmd, const struct cli_args *a, const char *lng)
{
    return cli_val(cmd, a, lng) != NULL;
}

/* --- the terminal guard ------------------------------------------------- */

/* Bytes in the UTF-8 sequence lead byte b starts, or 0 if b cannot lead one
 * (a continuation byte, an overlong C0/C1 lead, F5 and above). */
static size_t utf8_need(unsigned char b)
{
    if (b >= 0xc2 && b <= 0xdf)
        return 2;
    if (b >= 0xe0 && b <= 0xef)
        return 3;
    if (b >= 0xf0 && b <= 0xf4)
        return 4;
    return 0;
}

/* May b be the continuation byte at position pos (1..3) after lead? Refuses
 * overlong forms, surrogates and code points past U+10FFFF. */
static int utf8_cont_ok(unsigned char lead, size_t pos, unsigned char b)
{
    if ((b & 0xc0) != 0x80)
        return 0;
    if (pos != 1)
        return 1;
    if (lead == 0xe0)
        return b >= 0xa0;
    if (lead == 0xed)
        return b <= 0x9f;
    if (lead == 0xf0)
        return b >= 0x90;
    if (lead == 0xf4)
        return b <= 0x8f;
    return 1;
}

size_t cli_clean(struct cli_clean *st, const char *in, size_t n, char *out, int last)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, i = 0;

    while (i < n) {
        unsigned char b = p[i];
        if (st->nheld > 0) {
            if (!utf8_cont_ok(st->held[0], st->nheld, b)) {
                out[o++] = '?'; /* a sequence cut short: b is looked at anew */
                st->nheld = 0;
                continue;
            }
            st->held[st->nheld++] = b;
            i++;
            if (st->nheld == st->need) {
                /* C2 80..C2 9F are the C1 controls (CSI, OSC, DCS...). */
                if (st->need == 2 && st->held[0] == 0xc2 && st->held[1] < 0xa0)
                    out[o++] = '?';
                else
                    for (size_t k = 0; k < st->need; k++)
                        out[o++] = (char)st->held[k];
                st->nheld = 0;
            }
            continue;
        }
        i++;
        if (b == '\n' || b == '\t' || (b >= 0x20 && b < 0x7f)) {
            out[o++] = (char)b;
        } else if (b < 0x80) {
            out[o++] = '?';
        } else if ((st->need = utf8_need(b)) == 0) {
            out[o++] = '?';
        } else {
            st->held[0] = b;
            st->nheld = 1;
        }
    }
    if (last && st->nheld > 0) {
        out[o++] = '?';
        st->nheld = 0;
    }
    return o;
}

int cli_is_tty(FILE *f)
{
    static int known[2] = {-1, -1};
    int i = f == stderr ? 1 : 0;

    if (f != stdout && f != stderr)
        return isatty(fileno(f));
    if (known[i] < 0)
        known[i] = isatty(fileno(f)) ? 1 : 0;
    return known[i];
}

void cli_write_safe(FILE *f, const char *s, size_t n)
{
    struct cli_clean st = {0};
    char *buf;

    if (!cli_is_tty(f)) {
        fwrite(s, 1, n, f);
        return;
    }
    if ((buf = malloc(n + 4)) == NULL) /* no memory for a clean copy: print nothing raw */
        return;
    fwrite(buf, 1, cli_clean(&st, s, n, buf, 1), f);
    free(buf);
}

static int vprint_safe(FILE *f, const char *fmt, va_list ap)
{
    char *s = NULL;
    int n;

    if (!cli_is_tty(f))
        return vfprintf(f, fmt, ap);
    if ((n = vasprintf(&s, fmt, ap)) < 0)
        return -1;
    cli_write_safe(f, s, (size_t)n);
    free(s);
    return n;
}

int cli_printf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprint_safe(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int cli_eprintf(const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprint_safe(stderr, fmt, ap);
    va_end(ap);
    return n;
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("swarmdeck: ", stderr);
    va_start(ap, fmt);
    vprint_safe(stderr, fmt, ap); /* messages carry strategy and API text */
    va_end(ap);
    fputc('\n', stderr);
    return sd_err_exit_status(code);
}

int cli_fail_err(const struct sd_err *e)
{
    return cli_fail(e->code ? e->code : SD_EENV, "%s", e->msg[0] ? e->msg : "unknown error");
}

int cli_close(struct cli_ctx *ctx, struct coord *c, int status)
{
    struct sd_err err = {0};

    coord_free(c);
    /* A write that failed at any time (disk full, I/O error, read-only)
     * ends the command with the store's error, whatever else happened: a
     * deployment whose records it lost was reported failed, not succeeded. */
    if (ctx->store != NULL &&
        (store_flush(ctx->store, &err) != 0 || store_write_failures(ctx->store, &err) != 0))
        status = cli_fail_err(&err);
    return status;
}

int cli_open_store_reading(struct cli_ctx *ctx)
{
    struct sd_err err = {0};
    if (ctx->store != NULL || ctx->readonly || access(ctx->db, F_OK) != 0)
        return cli_open_store(ctx, ctx->readonly);
    if (ctx->key != NULL)
        crypto_hold_keys();
    if (store_open_key(ctx->db, STORE_READONLY, ctx->key, &ctx->store, &err) == 0)
        return 0;
    ctx->store = NULL;
    return cli_open_store(ctx, 0);
}

int cli_open_store(struct cli_ctx *ctx, int readonly)
{
    struct sd_err err = {0};
    int flags = (readonly || ctx->readonly) ? STORE_READONLY : STORE_CREATE;

    if (ctx->store != NULL)
        return 0;
    if (ctx->key != NULL)
        crypto_hold_keys(); /* main.c also calls it when it reads the key */
    if (store_open_key(ctx->db, flags, ctx->key, &ctx->store, &err) != 0)
        return cli_fail_err(&err);
    return 0;
}

static const char *sibling(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", sd_exe_dir(), name);
    return buf;
}

const char *cli_runner_path(void)
{
    static char p[4096];
    return sibling(p, sizeof p, "swarmdeck-runner");
}

const char *cli_helper_path(void)
{
    static char p[4096];
    return sibling(p, sizeof p, "swarmdeck-sandbox");
}

void cli_print_json(json_t *j)
{
    size_t flags = JSON_INDENT(2) | JSON_REAL_PRECISION(10);
    char *s = json_dumps(j, flags | (cli_is_tty(stdout) ? JSON_ENSURE_ASCII : 0));
    if (s != NULL) {
        fputs(s, stdout);
        fputc('\n', stdout);
    }
    free(s);
    json_decref(j);
}

int cli_parse_long(const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        /* An operand (named in capitals, "ID", "RUN") is what the user typed
         * in that place: named as such, not as an option it never was. */
        if (opt[0] >= 'A' && opt[0] <= 'Z') {
            char low[32];
            size_t i;
            for (i = 0; opt[i] && i < sizeof low - 1; i++)
                low[i] = (char)(opt[i] >= 'A' && opt[i] <= 'Z' ? opt[i] - 'A' + 'a' : opt[i]);
            low[i] = '\0';
            if (max >= (1L << 40))
                return cli_fail(SD_EUSAGE, "the %s must be a number (%ld or more), got \"%s\"", low,
                                min, s);
            return cli_fail(SD_EUSAGE, "the %s must be a number from %ld to %ld, got \"%s\"", low,
                            min, max, s);
        }
        return cli_fail(SD_EUSAGE, "--%s must be a whole number in [%ld, %ld], got \"%s\"", opt,
                        min, max, s);
    }
    *out = v;
    return 0;
}

int cli_parse_double(const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
        return cli_fail(SD_EUSAGE, "--%s must be a number in [%g, %g], got \"%s\"", opt, min, max,
                        s);
    *out = v;
    return 0;
}

void cli_fmt_time(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0) {
        snprintf(buf, n, "-");
        return;
    }
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

void cli_fmt_duration(double ms, char *buf, size_t n)
{
    if (!(ms >= 0))
        snprintf(buf, n, "-");
    else if (ms < 1000)
        snprintf(buf, n, "%.0f ms", ms);
    else if (ms < 60000)
        snprintf(buf, n, "%.1f s", ms / 1000);
    else
        snprintf(buf, n, "%dm%02ds", (int)(ms / 60000), (int)fmod(ms / 1000, 60));
}

void cli_fmt_pct(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%+.2f%%", v * 100);
}

int cli_coord_opts(const struct cli_cmd *cmd, const struct cli_args *a, struct coord_opts *o)
{
    const char *v;
    long l;
    double d;

    coord_opts_default(o);
    if ((v = cli_val_def(cmd, a, "timeout")) != NULL) {
        if (cli_parse_double("timeout", v, 0.001, 86400, &d))
            return 2;
        o->timeout_ms = (int64_t)(d * 1000);
    }
    if ((v = cli_val_def(cmd, a, "memory")) != NULL) {
        if (cli_parse_long("memory", v, 0, 1 << 20, &l))
            return 2;
        o->memory_mb = l;
    }
    if ((v = cli_val_def(cmd, a, "disk")) != NULL) {
        if (cli_parse_long("disk", v, 1, 1 << 20, &l))
            return 2;
        o->disk_mb = l;
    }
    if ((v = cli_val_def(cmd, a, "cpus")) != NULL) {
        if (cli_parse_double("cpus", v, 0, 1024, &d))
            return 2;
        o->cpus = d;
    }
    if ((v = cli_val_def(cmd, a, "max-agents")) != NULL) {
        if (cli_parse_long("max-agents", v, 1, 4096, &l))
            return 2;
        o->max_agents = (int)l;
    }
    o->strict = cli_flag(cmd, a, "strict");
    o->unsandboxed = cli_flag(cmd, a, "unsandboxed");
    if (o->strict && o->unsandboxed)
        return cli_fail(SD_EUSAGE, "--strict and --unsandboxed contradict each other");
    if (cli_flag(cmd, a, "no-learning"))
        o->learning = 0;
    if (cli_flag(cmd, a, "learning") && cli_flag(cmd, a, "no-learning"))
        return cli_fail(SD_EUSAGE, "--learning and --no-learning contradict each other");
    o->auto_optimize = cli_flag(cmd, a, "auto-optimize");
    if ((v = cli_val(cmd, a, "seed")) != NULL) {
        if (cli_parse_long("seed", v, 1, 1L << 62, &l))
            return 2;
        o->seed = (uint64_t)l;
    }
    o->provider = cli_val(cmd, a, "provider");
    o->failover = cli_val(cmd, a, "failover");
    if (o->provider != NULL && o->failover != NULL && strcmp(o->provider, o->failover) == 0)
        return cli_fail(SD_EUSAGE, "--failover %s is the provider itself", o->failover);
    o->internet = cli_flag(cmd, a, "internet");
    if (o->internet && (o->provider == NULL || strcmp(o->provider, "local") == 0))
        return cli_fail(SD_EUSAGE, "--internet applies to E2B sandboxes (--provider e2b); local "
                                   "sandboxes never have a network");
    return 0;
}

int cli_e2b_use(enum cli_e2b_mode mode, int (*fn)(const struct e2b_config *ec, int k, void *arg),
                void *arg)
{
    struct sd_err err = {0};
    struct e2b_config ec;
    int k, rc;

    memset(&ec, 0, sizeof ec);
    k = e2b_config_load(&ec, &err);
    if (k != 0)
        crypto_hold_keys(); /* an API key (even a malformed one) was read */
    if (k < 0 && mode == CLI_E2B_NEEDED)
        cli_fail_err(&err);
    else if (k < 0 && mode == CLI_E2B_WARN)
        cli_eprintf("swarmdeck: warning: E2B is not available: %s\n", err.msg);
    rc = fn(&ec, k, arg);
    e2b_config_wipe(&ec);
    return rc;
}

static int is_local(const char *v)
{
    return v == NULL || strcmp(v, "local") == 0;
}

/* Add every configured E2B instance to c (breaker settings from the config
 * file unless the options set them). Returns 0 or an exit status. */
static int add_e2b(struct coord *c, const struct e2b_config *ec, struct store *s)
{
    struct sd_err err = {0};

    for (size_t i = 0; i < ec->n; i++) {
        struct provider *p = provider_e2b_new(ec, i, store_id(s), &err);
        const char *host = strstr(ec->inst[i].api_url, "://");
        /* Shown beside the breaker: where this instance's API is. */
        if (p == NULL ||
            coord_add_provider(c, p, "e2b", host ? host + 3 : ec->inst[i].api_url, &err) != 0)
            return cli_fail_err(&err);
    }
    return 0;
}

int cli_recover_e2b(struct store *s, const struct e2b_config *ec, int all, struct recover_report *r)
{
    struct sd_err err = {0};
    if (recover_e2b(s, ec, all, r, &err) != 0) {
        cli_eprintf("swarmdeck: E2B leak sweep incomplete: %s\n", err.msg);
        return -1;
    }
    return 0;
}

struct coord_job {
    struct cli_ctx *ctx;
    const struct coord_opts *o;
    int *status;
    struct coord *c;
};

/* cli_coord once the E2B configuration is loaded (k as cli_e2b_use says). */
static int coord_with(const struct e2b_config *ec, int k, void *arg)
{
    struct coord_job *j = arg;
    struct cli_ctx *ctx = j->ctx;
    const struct coord_opts *o = j->o;
    struct coord_opts o2 = *o;
    struct sd_err err = {0};
    struct recover_report r;
    int64_t *adopt = NULL;
    size_t nadopt = 0;
    /* E2B is used when asked for, and offered (console, `deploy --provider`)
     * whenever a key is configured. */
    int wants_e2b = !is_local(o->provider) || !is_local(o->failover);

    if (k < 0 && wants_e2b)
        return *j->status = sd_err_exit_status(SD_EUSAGE);
    if (k == 0 && wants_e2b) {
        const char *v = is_local(o->provider) ? o->failover : o->provider;
        if (strcmp(v, "e2b") == 0)
            return *j->status = cli_fail(SD_EUSAGE, "--provider e2b: %s", e2b_no_key_help());
        return *j->status =
                   cli_fail(SD_EUSAGE,
                            "provider \"%s\" is not configured: the providers are local, e2b "
                            "and the E2B instances named in the config file (docs/e2b.md)",
                            v);
    }
    if ((*j->status = cli_open_store(ctx, 0)) != 0)
        return *j->status;
    /* E2B deployments a crashed process left running are taken over (and
     * re-adopted below) instead of being marked interrupted. */
    if (k == 1 && o->adopt_e2b && traj_claim_e2b(ctx->store, &adopt, &nadopt, &err) != 0)
        return *j->status = cli_fail_err(&err);
    /* Reap what a crashed run left behind before starting new work. */
    if (recover_orphans(ctx->store, cli_helper_path(), 0, &r, &err) != 0) {
        free(adopt);
        return *j->status = cli_fail_err(&err);
    }
    if (k == 1 && (wants_e2b || r.e2b_leases > 0))
        cli_recover_e2b(ctx->store, ec, 0, &r);
    if (r.leases_reaped + r.trajectories_interrupted + r.e2b_destroyed > 0)
        fprintf(stderr,
                "swarmdeck: recovered after a crash: %d sandbox(es) reaped, %d trajectory(ies) "
                "marked interrupted, %d leaked E2B sandbox(es) destroyed\n",
                r.leases_reaped, r.trajectories_interrupted, r.e2b_destroyed);
    if (k == 1) {
        if (o->breaker_failures == 0)
            o2.breaker_failures = ec->breaker_failures;
        if (o->breaker_cooldown_ms == 0)
            o2.breaker_cooldown_ms = ec->breaker_cooldown_ms;
    }
    j->c = coord_new(ctx->store, &o2, cli_runner_path(), cli_helper_path(), &err);
    if (j->c == NULL)
        *j->status = cli_fail_err(&err);
    else if (k == 1 && (*j->status = add_e2b(j->c, ec, ctx->store)) != 0) {
        coord_free(j->c);
        j->c = NULL;
    } else if (nadopt > 0) {
        int n = coord_adopt(j->c, adopt, nadopt, &err);
        if (n < 0)
            fprintf(stderr, "swarmdeck: E2B deployments not re-adopted: %s\n", err.msg);
        else if (n > 0)
            fprintf(stderr,
                    "swarmdeck: re-adopted %d E2B deployment(s) a stopped process left "
                    "running\n",
                    n);
    }
    free(adopt);
    return *j->status;
}

struct coord *cli_coord(struct cli_ctx *ctx, const struct coord_opts *o, int *status)
{
    struct coord_job j = {ctx, o, status, NULL};
    int needed = !is_local(o->provider) || !is_local(o->failover);

    /* The commands' descriptors carry CLI_WRITES; this guards any other caller. */
    if (ctx->readonly) {
        *status = cli_fail(SD_EUSAGE, "--readonly: refusing to deploy");
        return NULL;
    }
    *status = 0;
    cli_e2b_use(needed ? CLI_E2B_NEEDED : CLI_E2B_WARN, coord_with, &j);
    return j.c;
}

/* --- following deployments ------------------------------------------------- */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    char b = (char)sig;
    ssize_t n = write(sig_pipe[1], &b, 1);
    (void)n;
    errno = saved;
}

json_t *cli_view_json(const struct deploy_view *v, json_t *result, size_t agent)
{
    json_t *o = json_object();

    json_object_set_new(o, "agentId", json_integer((json_int_t)agent));
    json_object_set_new(o, "trajectoryId", json_integer(v->id));
    json_object_set_new(o, "strategyName", json_string(v->strategy));
    json_object_set_new(o, "symbol", json_string(v->symbol));
    json_object_set_new(o, "synthetic", json_boolean(v->synthetic));
    json_object_set_new(o, "success", json_boolean(v->state == TS_SUCCEEDED));
    json_object_set_new(o, "status", json_string(traj_state_name(v->state)));
    json_object_set_new(o, "duration", json_real((double)(v->ended_at - v->created_at)));
    json_object_set_new(o, "sandboxId", json_string(v->sandbox_id));
    json_object_set_new(o, "provider", json_string(v->provider));
    json_object_set_new(o, "isolation", json_string(v->isolation_level));
    json_object_set_new(o, "exitCode",
                        v->exit_code >= 0 ? json_integer(v->exit_code) : json_null());
    json_object_set_new(o, "error", v->error[0] ? json_string(v->error) : json_null());
    json_object_set_new(o, "reward", json_real(v->reward));
    json_object_set_new(o, "result", result ? result : json_null());
    return o;
}

void cli_print_view(const struct deploy_view *v)
{
    char ret[32], sh[32], dur[32];

    cli_fmt_pct(v->total_return, ret, sizeof ret);
    if (isnan(v->sharpe))
        snprintf(sh, sizeof sh, "-");
    else
        snprintf(sh, sizeof sh, "%.2f", v->sharpe);
    cli_fmt_duration((double)(v->ended_at - v->created_at), dur, sizeof dur);
    cli_printf("#%-6lld %-16s %-5s%s %-10s %8s  sharpe %6s  %8s%s%s\n", (long long)v->id,
               v->strategy, v->symbol, v->synthetic ? "*" : " ", traj_state_name(v->state), ret, sh,
               dur, v->error[0] ? "  " : "", v->error);
}

void cli_print_outcome(size_t n, int failed, int cancelled, int synthetic)
{
    printf("%zu deployment(s): %zu succeeded, %d did not%s\n", n, n - (size_t)failed, failed,
           cancelled ? " (cancelled)" : "");
    if (synthetic)
        printf("* synthetic series: generated data, not market history\n");
}

int cli_follow_deployments(struct coord *c, const int64_t *ids, size_t n, int json)
{
    struct sigaction sa, old_int, old_term;
    int tty = isatty(2) && !json, cancelled = 0, failed = 0, shown = 0, synthetic = 0;
    uint64_t t0 = sd_mono_ns();
    struct ev evs[256];
    size_t done = 0;
    char *printed = xcalloc(n + 1, 1), *said_wait = xcalloc(n + 1, 1);

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return cli_fail(SD_EENV, "pipe: %s", strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    while (done < n) {
        struct pollfd pf[2] = {{evq_fd(coord_events(c)), POLLIN, 0}, {sig_pipe[0], POLLIN, 0}};
        int running = 0;

        poll(pf, 2, tty ? 200 : -1);
        if (pf[1].revents & POLLIN) {
            char b;
            while (read(sig_pipe[0], &b, 1) == 1)
                ;
            if (!cancelled)
                fprintf(stderr, "\nswarmdeck: interrupted: cancelling %zu deployment(s)\n",
                        n - done);
            cancelled = 1;
            coord_cancel_all(c);
        }
        evq_drain(coord_events(c), evs, sizeof evs / sizeof *evs);
        done = 0;
        for (size_t i = 0; i < n; i++) {
            struct deploy_view v;
            if (coord_view(c, ids[i], &v) != 0)
                continue;
            if (v.state == TS_RUNNING)
                running++;
            /* Say once when a deployment starts waiting (for E2B capacity). */
            if (v.waiting[0] && !said_wait[i] && !json) {
                if (shown)
                    fputs("\r\033[K", stderr), shown = 0;
                fprintf(stderr, "swarmdeck: #%lld %s\n", (long long)v.id, v.waiting);
            }
            said_wait[i] = v.waiting[0] != '\0';
            if (!traj_state_terminal(v.state))
                continue;
            done++;
            if (!printed[i]) {
                printed[i] = 1;
                if (v.state != TS_SUCCEEDED)
                    failed++;
                if (v.synthetic)
                    synthetic = 1;
                if (!json) {
                    if (shown)
                        fputs("\r\033[K", stderr), shown = 0;
                    cli_print_view(&v);
                    fflush(stdout);
                }
            }
        }
        if (tty && done < n && sd_mono_ns() - t0 > 1000000000ull) {
            fprintf(stderr, "\r\033[K[%zu/%zu done, %d running, %d failed] %.1f s", done, n,
                    running, failed, (double)(sd_mono_ns() - t0) / 1e9);
            shown = 1;
        }
    }
    if (shown)
        fputs("\r\033[K", stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            struct deploy_view v;
            if (coord_view(c, ids[i], &v) == 0)
                json_array_append_new(arr, cli_view_json(&v, coord_result(c, v.id), i));
        }
        cli_print_json(arr);
    } else {
        cli_print_outcome(n, failed, cancelled, synthetic);
    }
    free(printed);
    free(said_wait);
    return failed > 0 ? 1 : 0;
}

int cli_learning(struct cli_ctx *ctx, json_t **stats, json_t **patterns)
{
    struct catalog *cat = NULL;
    struct learn *l = NULL;
    struct sd_err err = {0};
    int status = 0;

    if (stats)
        *stats = NULL;
    if (patterns)
        *patterns = NULL;
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    if (catalog_load(&cat, cli_runner_path(), ctx->store, &err) != 0 ||
        (l = learn_open(ctx->store, cat, &err)) == NULL ||
        (stats && (*stats = learn_stats(l, NULL, &err)) == NULL) ||
        (patterns && (*patterns = learn_patterns(l, NULL, NULL, &err)) == NULL))
        status = cli_fail_err(&err);
    learn_free(l);
    catalog_free(cat);
    return status;
}

int cli_run_deployments(struct cli_ctx *ctx, struct coord *c, const char *kind, const char *spec,
                        struct deploy_req *reqs, size_t n, int json)
{
    struct sd_err err = {0};
    int64_t run = run_begin(ctx->store, kind, spec, &err);
    int64_t *ids = xcalloc(n ? n : 1, sizeof *ids);
    int status;

    for (size_t i = 0; i < n; i++) {
        reqs[i].run_id = run > 0 ? run : 0;
        if (coord_submit(c, &reqs[i], &ids[i], &err) != 0) {
            status = cli_fail_err(&err);
            coord_cancel_all(c);
            free(ids);
            if (run > 0)
                run_end(ctx->store, run, "failed", err.msg);
            return status;
        }
    }
    status = cli_follow_deployments(c, ids, n, json);
    if (run > 0)
        run_end(ctx->store, run, status == 0 ? "succeeded" : "failed", NULL);
    free(ids);
    return status;
}
