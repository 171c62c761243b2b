/*
 * connect.c: incremental Connect envelope decoder and envd process events
 * (connect.h).
 */
#include "connect.h"

#include "crypto.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void connect_init(struct connect_dec *d, size_t max_frame)
{
    memset(d, 0, sizeof *d);
    d->max = max_frame ? max_frame : CONNECT_MAX_FRAME;
}

void connect_free(struct connect_dec *d)
{
    free(d->buf);
    d->buf = NULL;
    d->have = d->need = d->hlen = 0;
}

int connect_partial(const struct connect_dec *d)
{
    return d->hlen > 0;
}

static int broken(struct connect_dec *d, const char *why)
{
    if (d->err[0] == '\0')
        snprintf(d->err, sizeof d->err, "%s", why);
    return -1;
}

int connect_feed(struct connect_dec *d, const void *data, size_t len, connect_frame_fn fn,
                 void *arg)
{
    const unsigned char *p = data;

    if (d->err[0] != '\0')
        return -1;
    while (len > 0) {
        if (d->ended)
            return broken(d, "data after the end-stream frame");
        if (d->hlen < 5) {
            size_t take = 5 - d->hlen < len ? 5 - d->hlen : len;
            memcpy(d->hdr + d->hlen, p, take);
            d->hlen += take;
            p += take;
            len -= take;
            if (d->hlen < 5)
                return 0;
            d->need = (size_t)d->hdr[1] << 24 | (size_t)d->hdr[2] << 16 | (size_t)d->hdr[3] << 8 |
                      (size_t)d->hdr[4];
            if (d->hdr[0] & CONNECT_FLAG_COMPRESSED)
                return broken(d, "compressed frame (none was asked for)");
            if (d->need > d->max)
                return broken(d, "frame longer than the cap");
            free(d->buf);
            d->buf = malloc(d->need + 1);
            if (d->buf == NULL)
                return broken(d, "out of memory");
            d->have = 0;
        }
        {
            size_t take = d->need - d->have < len ? d->need - d->have : len;
            memcpy(d->buf + d->have, p, take);
            d->have += take;
            p += take;
            len -= take;
        }
        if (d->have == d->need) {
            unsigned flags = d->hdr[0];
            int rc;
            d->buf[d->need] = '\0';
            d->hlen = 0;
            if (flags & CONNECT_FLAG_END)
                d->ended = 1;
            rc = fn ? fn(arg, flags, d->buf, d->need) : 0;
            free(d->buf);
            d->buf = NULL;
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

unsigned char *connect_frame(unsigned flags, const char *payload, size_t len, size_t *outlen)
{
    unsigned char *f = malloc(len + 5);
    if (f == NULL)
        return NULL;
    f[0] = (unsigned char)flags;
    f[1] = (unsigned char)(len >> 24);
    f[2] = (unsigned char)(len >> 16);
    f[3] = (unsigned char)(len >> 8);
    f[4] = (unsigned char)len;
    memcpy(f + 5, payload, len);
    *outlen = len + 5;
    return f;
}

void connect_event_clear(struct connect_event *ev)
{
    free(ev->data);
    memset(ev, 0, sizeof *ev);
}

static void copy_str(char *dst, size_t n, json_t *v)
{
    const char *s = json_string_value(v);
    snprintf(dst, n, "%s", s ? s : "");
}

int connect_event_parse(const char *json, size_t len, struct connect_event *ev)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *e, *x;
    int rc = 0;

    memset(ev, 0, sizeof *ev);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    e = json_object_get(root, "event");
    if ((x = json_object_get(e, "start")) != NULL && json_is_object(x)) {
        ev->type = CONNECT_EV_START;
        ev->pid = json_integer_value(json_object_get(x, "pid"));
    } else if ((x = json_object_get(e, "data")) != NULL && json_is_object(x)) {
        static const char *const names[] = {"stdout", "stderr", "pty"};
        ev->type = CONNECT_EV_DATA;
        for (int i = 0; i < 3; i++) {
            json_t *s = json_object_get(x, names[i]);
            const char *b;
            size_t n;
            long got;
            if (!json_is_string(s))
                continue;
            b = json_string_value(s);
            n = json_string_length(s);
            ev->stream = i + 1;
            ev->data = malloc(3 * ((n + 3) / 4) + 1);
            if (ev->data == NULL) {
                rc = -1;
                break;
            }
            got = crypto_b64_decode(b, n, ev->data);
            if (got < 0) {
                rc = -1;
                break;
            }
            ev->len = (size_t)got;
            break;
        }
    } else if ((x = json_object_get(e, "keepalive")) != NULL) {
        ev->type = CONNECT_EV_KEEPALIVE;
    } else if ((x = json_object_get(e, "end")) != NULL && json_is_object(x)) {
        json_t *code = json_object_get(x, "exitCode");
        ev->type = CONNECT_EV_END;
        ev->exit_code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
        ev->exited = json_is_true(json_object_get(x, "exited"));
        copy_str(ev->status, sizeof ev->status, json_object_get(x, "status"));
        copy_str(ev->error, sizeof ev->error, json_object_get(x, "error"));
    }
    json_decref(root);
    if (rc != 0)
        connect_event_clear(ev);
    return rc;
}

int connect_end_parse(const char *json, size_t len, char *code, size_t ncode, char *msg,
                      size_t nmsg)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je), *e;
    int rc = 0;

    if (ncode)
        code[0] = '\0';
    if (nmsg)
        msg[0] = '\0';
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    e = json_object_get(root, "error");
    if (e != NULL && !json_is_null(e)) {
        copy_str(code, ncode, json_object_get(e, "code"));
        copy_str(msg, nmsg, json_object_get(e, "message"));
        if (code[0] == '\0')
            snprintf(code, ncode, "unknown");
        rc = 1;
    }
    json_decref(root);
    return rc;
}
