/*
 * e2b_config.c: E2B configuration from the config file and the environment
 * (e2b.h). The file must be 0600 and ours, since it holds the API key.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "e2b.h"

static void config_path(char *buf, size_t n)
{
    const char *p = getenv("SWARMDECK_E2B_CONFIG"), *x = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (p != NULL && p[0] != '\0')
        snprintf(buf, n, "%s", p);
    else if (x != NULL && x[0] == '/')
        snprintf(buf, n, "%s/swarmdeck/e2b.json", x);
    else
        snprintf(buf, n, "%s/.config/swarmdeck/e2b.json", home ? home : "");
}

const char *e2b_no_key_help(void)
{
    return "no E2B API key: set E2B_API_KEY=e2b_... in the environment, or put "
           "{\"apiKey\": \"e2b_...\"} in ~/.config/swarmdeck/e2b.json (mode 0600; "
           "docs/e2b.md)";
}

static int key_ok(const char *k)
{
    if (strncmp(k, "e2b_", 4) != 0 || k[4] == '\0')
        return 0;
    return strspn(k + 4, "0123456789abcdef") == strlen(k + 4);
}

static int set_str(char *dst, size_t n, json_t *v, const char *what, const char *path,
                   struct sd_err *err)
{
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= n)
        return sd_err_set(err, SD_EUSAGE, "%s: \"%s\" must be a string shorter than %zu bytes",
                          path, what, n);
    snprintf(dst, n, "%s", json_string_value(v));
    return 0;
}

static int set_int(int64_t *dst, json_t *v, int64_t min, int64_t max, const char *what,
                   const char *path, struct sd_err *err)
{
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return sd_err_set(err, SD_EUSAGE, "%s: \"%s\" must be a whole number in [%lld, %lld]", path,
                          what, (long long)min, (long long)max);
    *dst = json_integer_value(v);
    return 0;
}

static int name_ok(const char *s)
{
    return s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s) &&
           strcmp(s, "local") != 0;
}

static int load_file(struct e2b_config *c, const char *path, struct sd_err *err)
{
    struct stat st;
    json_error_t je;
    json_t *j, *inst, *br;
    int fd, rc = -1;
    int64_t v;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return sd_err_set(err, SD_EENV, "cannot read %s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sd_err_set(err, SD_EENV, "%s is not a regular file", path);
    }
    if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        close(fd);
        return sd_err_set(err, SD_EENV,
                          "refusing %s: it holds the E2B API key, so it must be yours and mode "
                          "0600 (it is %03o); run: chmod 600 %s",
                          path, (unsigned)(st.st_mode & 0777), path);
    }
    j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
    close(fd);
    if (!json_is_object(j)) {
        json_decref(j);
        /* je.text may quote the file's bytes (the key): say only where. */
        return sd_err_set(err, SD_EUSAGE, "%s is not a JSON object (line %d, column %d)", path,
                          je.line, je.column);
    }
    if (set_str(c->api_key, sizeof c->api_key, json_object_get(j, "apiKey"), "apiKey", path, err) ||
        set_str(c->template_id, sizeof c->template_id, json_object_get(j, "template"), "template",
                path, err))
        goto out;
    if (c->api_key[0])
        snprintf(c->source, sizeof c->source, "%s", path);
    br = json_object_get(j, "breaker");
    v = c->breaker_failures;
    if (set_int(&v, json_object_get(br, "failures"), 1, 1000, "breaker.failures", path, err) ||
        set_int(&c->breaker_cooldown_ms, json_object_get(br, "cooldownMs"), 1, 86400000,
                "breaker.cooldownMs", path, err))
        goto out;
    c->breaker_failures = (int)v;
    v = c->max_retries;
    if (set_int(&c->sample_ms, json_object_get(j, "sampleMs"), 100, 3600000, "sampleMs", path,
                err) ||
        set_int(&c->request_timeout_ms, json_object_get(j, "requestTimeoutMs"), 100, 600000,
                "requestTimeoutMs", path, err) ||
        set_int(&v, json_object_get(j, "maxRetries"), 0, 10, "maxRetries", path, err) ||
        set_int(&c->max_retry_after_ms, json_object_get(j, "maxRetryAfterMs"), 0, 600000,
                "maxRetryAfterMs", path, err) ||
        set_int(&c->create_timeout_ms, json_object_get(j, "createTimeoutMs"), 100, 600000,
                "createTimeoutMs", path, err) ||
        set_int(&c->capacity_wait_ms, json_object_get(j, "capacityWaitMs"), 0, 86400000,
                "capacityWaitMs", path, err) ||
        set_int(&c->max_timeout_s, json_object_get(j, "maxTimeoutS"), 1, 30 * 86400, "maxTimeoutS",
                path, err) ||
        set_str(c->arch, sizeof c->arch, json_object_get(j, "arch"), "arch", path, err))
        goto out;
    c->max_retries = (int)v;
    inst = json_object_get(j, "instances");
    if (inst != NULL && (!json_is_array(inst) || json_array_size(inst) > E2B_MAX_INSTANCES)) {
        sd_err_set(err, SD_EUSAGE, "%s: \"instances\" must be an array of at most %d objects", path,
                   E2B_MAX_INSTANCES);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(inst); i++) {
        json_t *o = json_array_get(inst, i);
        struct e2b_instance *in = &c->inst[c->n];
        memset(in, 0, sizeof *in);
        if (!json_is_object(o) ||
            set_str(in->name, sizeof in->name, json_object_get(o, "name"), "name", path, err) ||
            set_str(in->domain, sizeof in->domain, json_object_get(o, "domain"), "domain", path,
                    err) ||
            set_str(in->api_url, sizeof in->api_url, json_object_get(o, "apiUrl"), "apiUrl", path,
                    err) ||
            set_str(in->sandbox_url, sizeof in->sandbox_url, json_object_get(o, "sandboxUrl"),
                    "sandboxUrl", path, err) ||
            set_str(in->region, sizeof in->region, json_object_get(o, "region"), "region", path,
                    err) ||
            set_str(in->api_key, sizeof in->api_key, json_object_get(o, "apiKey"), "apiKey", path,
                    err) ||
            set_str(in->template_id, sizeof in->template_id, json_object_get(o, "template"),
                    "template", path, err) ||
            set_int(&in->max_timeout_s, json_object_get(o, "maxTimeoutS"), 1, 30 * 86400,
                    "maxTimeoutS", path, err)) {
            if (err == NULL || err->msg[0] == '\0')
                sd_err_set(err, SD_EUSAGE, "%s: instances[%zu] must be an object", path, i);
            goto out;
        }
        if (!name_ok(in->name)) {
            sd_err_set(err, SD_EUSAGE,
                       "%s: instances[%zu].name must be [a-z0-9_-]+ and not \"local\"", path, i);
            goto out;
        }
        for (size_t k = 0; k < c->n; k++)
            if (strcmp(c->inst[k].name, in->name) == 0) {
                sd_err_set(err, SD_EUSAGE, "%s: two instances are named \"%s\"", path, in->name);
                goto out;
            }
        if (in->api_key[0])
            snprintf(in->source, sizeof in->source, "instances[%zu].apiKey in %.100s", i, path);
        c->n++;
    }
    rc = 0;
out:
    json_decref(j);
    return rc;
}

static void env_str(char *dst, size_t n, const char *name)
{
    const char *v = getenv(name);
    if (v != NULL && v[0] != '\0')
        snprintf(dst, n, "%s", v);
}

int e2b_config_load(struct e2b_config *c, struct sd_err *err)
{
    char path[512];

    memset(c, 0, sizeof *c);
    snprintf(c->template_id, sizeof c->template_id, "base");
    c->sample_ms = 5000;
    c->request_timeout_ms = 30000;
    c->max_retries = 3;
    c->max_retry_after_ms = 30000;
    c->create_timeout_ms = 60000;
    c->capacity_wait_ms = 600000;
    c->max_timeout_s = 3600;
    snprintf(c->arch, sizeof c->arch, "x86_64");
    config_path(path, sizeof path);
    if (load_file(c, path, err) != 0) {
        e2b_config_wipe(c);
        return -1;
    }
    if (getenv("E2B_API_KEY") != NULL && getenv("E2B_API_KEY")[0] != '\0') {
        env_str(c->api_key, sizeof c->api_key, "E2B_API_KEY");
        snprintf(c->source, sizeof c->source, "E2B_API_KEY");
    }
    env_str(c->template_id, sizeof c->template_id, "E2B_TEMPLATE");
    if (c->n == 0) {
        struct e2b_instance *in = &c->inst[c->n++];
        memset(in, 0, sizeof *in);
        snprintf(in->name, sizeof in->name, "e2b");
        env_str(in->domain, sizeof in->domain, "E2B_DOMAIN");
        env_str(in->api_url, sizeof in->api_url, "E2B_API_URL");
        env_str(in->sandbox_url, sizeof in->sandbox_url, "E2B_SANDBOX_URL");
    }
    for (size_t i = 0; i < c->n; i++) {
        struct e2b_instance *in = &c->inst[i];
        if (in->domain[0] == '\0')
            snprintf(in->domain, sizeof in->domain, "e2b.app");
        if (in->api_url[0] == '\0') {
            char dom[sizeof in->domain];
            memcpy(dom, in->domain, sizeof dom);
            snprintf(in->api_url, sizeof in->api_url, "https://api.%s", dom);
        }
        /* No trailing slash: paths are appended. */
        for (size_t l = strlen(in->api_url); l > 0 && in->api_url[l - 1] == '/'; l--)
            in->api_url[l - 1] = '\0';
        for (size_t l = strlen(in->sandbox_url); l > 0 && in->sandbox_url[l - 1] == '/'; l--)
            in->sandbox_url[l - 1] = '\0';
        /* An instance without its own key, template or plan uses the config's. */
        if (in->api_key[0] == '\0' && c->api_key[0]) {
            memcpy(in->api_key, c->api_key, sizeof in->api_key);
            snprintf(in->source, sizeof in->source, "%.150s", c->source);
        }
        if (in->template_id[0] == '\0')
            memcpy(in->template_id, c->template_id, sizeof in->template_id);
        if (in->max_timeout_s == 0)
            in->max_timeout_s = c->max_timeout_s;
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->inst[i].api_key[0] && !key_ok(c->inst[i].api_key)) {
            char src[sizeof c->inst[i].source];
            memcpy(src, c->inst[i].source, sizeof src);
            e2b_config_wipe(c);
            return sd_err_set(err, SD_EUSAGE,
                              "the E2B API key from %s is malformed: it must be e2b_ followed by "
                              "lowercase hex digits",
                              src);
        }
    size_t keyed = 0;
    for (size_t i = 0; i < c->n; i++)
        keyed += c->inst[i].api_key[0] != '\0';
    if (keyed == 0)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->inst[i].api_key[0] == '\0') {
            e2b_config_wipe(c);
            return sd_err_set(err, SD_EUSAGE,
                              "E2B instance \"%s\" has no API key: give it \"apiKey\" in the "
                              "config file, or set one for all (E2B_API_KEY or \"apiKey\")",
                              c->inst[i].name);
        }
    return 1;
}

static int keychar(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '_';
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* HOW IT WORKS
 * The message is reduced to its key characters (letters, digits, '_'),
 * lower-cased, with a map back to where each came from. At every position
 * we measure the longest run that is also a run of the (lower-cased) secret;
 * a run of E2B_REDACT_MIN or more is replaced, together with whatever
 * separators it was split by, in the original. So "E2B_0123ABCD...",
 * "e2b_0123", "abcd..." and a key spread over JSON strings are all caught,
 * and an ordinary message (no 8-character run of the key) is left alone. */
void e2b_redact_secret(const char *secret, char *s)
{
    static const char r[] = "[redacted]";
    size_t kl = secret ? strlen(secret) : 0, sl = strlen(s), nn = 0, out = 0;
    size_t *map;
    char *k, *norm, *res;

    if (kl < E2B_REDACT_MIN || sl < E2B_REDACT_MIN)
        return;
    k = malloc(kl + 1);
    norm = malloc(sl + 1);
    res = malloc(sl + 1);
    map = malloc(sl * sizeof *map);
    if (k == NULL || norm == NULL || res == NULL || map == NULL) {
        /* Cannot look: say nothing rather than risk the secret. */
        snprintf(s, sl + 1, "%s", sl >= sizeof r - 1 ? r : "");
        goto out;
    }
    for (size_t i = 0; i < kl; i++)
        k[i] = lower(secret[i]);
    for (size_t i = 0; i < sl; i++)
        if (keychar(s[i])) {
            map[nn] = i;
            norm[nn++] = lower(s[i]);
        }
    size_t from = 0; /* next original byte to copy */
    for (size_t i = 0; i < nn;) {
        size_t best = 0;
        for (size_t j = 0; j + best < kl; j++) {
            size_t l = 0;
            while (i + l < nn && j + l < kl && norm[i + l] == k[j + l])
                l++;
            if (l > best)
                best = l;
        }
        if (best < E2B_REDACT_MIN) {
            i++;
            continue;
        }
        size_t a = map[i], b = map[i + best - 1] + 1; /* original span [a, b) */
        memcpy(res + out, s + from, a - from);
        out += a - from;
        if (b - a >= sizeof r - 1) {
            memcpy(res + out, r, sizeof r - 1);
            out += sizeof r - 1;
        } else {
            memset(res + out, '*', b - a);
            out += b - a;
        }
        from = b;
        i += best;
    }
    memcpy(res + out, s + from, sl - from);
    out += sl - from;
    res[out] = '\0';
    memcpy(s, res, out + 1);
out:
    if (k != NULL)
        crypto_wipe(k, kl);
    if (norm != NULL)
        crypto_wipe(norm, sl);
    if (res != NULL)
        crypto_wipe(res, sl);
    free(k);
    free(norm);
    free(res);
    free(map);
}

void e2b_redact(const struct e2b_config *c, char *s, size_t n)
{
    (void)n; /* the result is never longer than s */
    e2b_redact_secret(c->api_key, s);
    for (size_t i = 0; i < c->n && i < E2B_MAX_INSTANCES; i++)
        e2b_redact_secret(c->inst[i].api_key, s);
}

void e2b_config_wipe(struct e2b_config *c)
{
    crypto_wipe(c->api_key, sizeof c->api_key);
    for (size_t i = 0; i < E2B_MAX_INSTANCES; i++)
        crypto_wipe(c->inst[i].api_key, sizeof c->inst[i].api_key);
}
