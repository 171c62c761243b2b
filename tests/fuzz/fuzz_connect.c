/*
 * fuzz_connect.c: the Connect stream decoder (engine/provider/connect.c) and the envd
 * event parsers behind it, as a hostile or broken E2B endpoint would feed
 * them: arbitrary bytes in reads of varying size, every whole frame parsed
 * as an event (or, for the end-stream frame, as its error), every data
 * payload base64-decoded.
 *
 * Invariants checked besides the sanitizers' own: a frame is never longer
 * than the cap; nothing is delivered after the end-stream frame; after an
 * error the decoder refuses further input; a re-encoded frame decodes to the
 * same payload.
 */
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "crypto.h"

#define CAP 4096

struct seen {
    int ended;
    size_t frames;
};

struct want {
    const char *payload;
    size_t len;
    unsigned flags;
    int got;
};

static int same(void *arg, unsigned flags, const char *payload, size_t len)
{
    struct want *w = arg;
    if (flags != w->flags || len != w->len || memcmp(payload, w->payload, len) != 0)
        abort();
    w->got++;
    return 0;
}

static int on_frame(void *arg, unsigned flags, const char *payload, size_t len)
{
    struct seen *s = arg;
    struct connect_event ev;
    char code[64], msg[256];
    size_t elen;
    unsigned char *enc;

    if (len > CAP || s->ended || payload[len] != '\0')
        abort();
    s->frames++;
    if (flags & CONNECT_FLAG_END) {
        s->ended = 1;
        (void)connect_end_parse(payload, len, code, sizeof code, msg, sizeof msg);
        return 0;
    }
    memset(&ev, 0, sizeof ev);
    if (connect_event_parse(payload, len, &ev) == 0 && ev.type == CONNECT_EV_DATA && ev.len > 0 &&
        ev.data == NULL)
        abort();
    connect_event_clear(&ev);
    /* Round trip: encode the frame and decode it again in one piece. */
    if ((enc = connect_frame(flags, payload, len, &elen)) != NULL) {
        struct connect_dec d2;
        struct want w = {payload, len, flags, 0};
        connect_init(&d2, CAP);
        if (elen != len + 5 || connect_feed(&d2, enc, elen, same, &w) != 0 || w.got != 1)
            abort();
        connect_free(&d2);
        free(enc);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct connect_dec d;
    struct seen s = {0};
    size_t off = 0, step;
    unsigned char b64[64];
    int rc = 0;

    connect_init(&d, CAP);
    /* The first byte picks the read size, like libcurl's write callback. */
    step = size ? (size_t)data[0] % 37 + 1 : 1;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        rc = connect_feed(&d, data + off, n, on_frame, &s);
        off += n;
        if (rc == -1) {
            /* Broken stays broken. */
            if (connect_feed(&d, "x", 1, on_frame, &s) != -1)
                abort();
            break;
        }
    }
    connect_free(&d);
    /* base64 on a prefix of the raw input. */
    (void)crypto_b64_decode((const char *)data, size < 40 ? size : 40, b64);
    return 0;
}
