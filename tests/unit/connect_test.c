/*
 * connect_test.c: unit tests for the Connect stream decoder, envd process
 * events and base64 (engine/provider/connect.c), and the circuit breaker
 * (engine/base/breaker.c) driven by a fake clock.
 *
 * The decoder tests build a stream of envelopes the way envd sends them and
 * feed it split at every byte boundary (one cut: every position; two cuts:
 * every pair; and one byte at a time), checking that the frames delivered
 * are exactly the frames sent, in order, whatever the split.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breaker.h"
#include "connect.h"
#include "crypto.h"

#include "check.h"

struct got {
    char text[8192];
    size_t len;
    int frames;
    int ends;
};

static int on_frame(void *arg, unsigned flags, const char *payload, size_t len)
{
    struct got *g = arg;
    int n =
        snprintf(g->text + g->len, sizeof g->text - g->len, "%u:%.*s|", flags, (int)len, payload);
    if (n > 0)
        g->len += (size_t)n;
    g->frames++;
    if (flags & CONNECT_FLAG_END)
        g->ends++;
    return 0;
}

static const char *const msgs[] = {
    "{\"event\":{\"start\":{\"pid\":4242}}}",
    "{\"event\":{\"data\":{\"stdout\":\"aGVsbG8K\"}}}",
    "{ \"event\" : { \"keepalive\" : { } } , \"unknown\": [1,2] }",
    "{\"event\":{\"end\":{\"exited\":true,\"status\":\"exit status 0\"}}}",
};

/* The stream: four message frames, one empty-payload frame and the
 * end-stream frame. */
static unsigned char *make_stream(size_t *len, char *expect, size_t n)
{
    unsigned char *s = NULL;
    size_t used = 0, off = 0;

    for (size_t i = 0; i < 6; i++) {
        const char *p = i < 4 ? msgs[i] : i == 4 ? "" : "{}";
        unsigned flags = i == 5 ? CONNECT_FLAG_END : 0;
        size_t fl;
        unsigned char *f = connect_frame(flags, p, strlen(p), &fl);
        s = realloc(s, used + fl);
        memcpy(s + used, f, fl);
        used += fl;
        free(f);
        off += (size_t)snprintf(expect + off, n - off, "%u:%s|", flags, p);
    }
    *len = used;
    return s;
}

static void test_splits(void)
{
    char expect[8192];
    size_t len;
    unsigned char *s = make_stream(&len, expect, sizeof expect);

    /* One cut at every position. */
    for (size_t cut = 0; cut <= len; cut++) {
        struct connect_dec d;
        struct got g = {0};
        connect_init(&d, 0);
        CHECK(connect_feed(&d, s, cut, on_frame, &g) == 0);
        CHECK(connect_feed(&d, s + cut, len - cut, on_frame, &g) == 0);
        CHECK(g.frames == 6 && g.ends == 1);
        CHECK(strcmp(g.text, expect) == 0);
        CHECK(!connect_partial(&d) && d.ended);
        connect_free(&d);
    }
    /* Two cuts: every pair of positions. */
    for (size_t a = 0; a <= len; a++)
        for (size_t b = a; b <= len; b += 3) {
            struct connect_dec d;
            struct got g = {0};
            connect_init(&d, 0);
            connect_feed(&d, s, a, on_frame, &g);
            connect_feed(&d, s + a, b - a, on_frame, &g);
            connect_feed(&d, s + b, len - b, on_frame, &g);
            if (strcmp(g.text, expect) != 0) {
                CHECK(!"two cuts changed the frames");
                fprintf(stderr, "cuts %zu %zu\n", a, b);
                a = len + 1;
                connect_free(&d);
                break;
            }
            connect_free(&d);
        }
    /* One byte at a time, and a cut stream is partial. */
    {
        struct connect_dec d;
        struct got g = {0};
        connect_init(&d, 0);
        for (size_t i = 0; i < len; i++) {
            CHECK(connect_feed(&d, s + i, 1, on_frame, &g) == 0);
            if (i == 2)
                CHECK(connect_partial(&d));
        }
        CHECK(strcmp(g.text, expect) == 0);
        connect_free(&d);
    }
    free(s);
}

static void test_errors(void)
{
    struct connect_dec d;
    struct got g = {0};
    unsigned char big[5] = {0, 0x01, 0, 0, 1}; /* 16 MiB + 1 */
    unsigned char comp[6] = {1, 0, 0, 0, 1, 'x'};
    unsigned char end[7] = {2, 0, 0, 0, 2, '{', '}'};

    connect_init(&d, 0);
    CHECK(connect_feed(&d, big, 5, on_frame, &g) == -1);
    CHECK(strstr(d.err, "cap") != NULL);
    CHECK(connect_feed(&d, "x", 1, on_frame, &g) == -1); /* stays broken */
    connect_free(&d);

    connect_init(&d, 0);
    CHECK(connect_feed(&d, comp, 6, on_frame, &g) == -1);
    CHECK(strstr(d.err, "compressed") != NULL);
    connect_free(&d);

    connect_init(&d, 0);
    CHECK(connect_feed(&d, end, 7, on_frame, &g) == 0);
    CHECK(connect_feed(&d, end, 1, on_frame, &g) == -1);
    CHECK(strstr(d.err, "after the end") != NULL);
    connect_free(&d);

    /* A small cap. */
    connect_init(&d, 4);
    CHECK(connect_feed(&d, end, 7, on_frame, &g) == 0);
    connect_free(&d);
    connect_init(&d, 1);
    CHECK(connect_feed(&d, end, 7, on_frame, &g) == -1);
    connect_free(&d);
}

static void test_events(void)
{
    struct connect_event ev;
    const char *s;
    char code[64], msg[128];

    s = msgs[0];
    CHECK(connect_event_parse(s, strlen(s), &ev) == 0);
    CHECK(ev.type == CONNECT_EV_START && ev.pid == 4242);
    connect_event_clear(&ev);

    s = msgs[1];
    CHECK(connect_event_parse(s, strlen(s), &ev) == 0);
    CHECK(ev.type == CONNECT_EV_DATA && ev.stream == 1 && ev.len == 6 &&
          memcmp(ev.data, "hello\n", 6) == 0);
    connect_event_clear(&ev);

    s = "{\"event\":{\"data\":{\"stderr\":\"d2Fybgo=\"}}}";
    CHECK(connect_event_parse(s, strlen(s), &ev) == 0);
    CHECK(ev.type == CONNECT_EV_DATA && ev.stream == 2 && ev.len == 5 &&
          memcmp(ev.data, "warn\n", 5) == 0);
    connect_event_clear(&ev);

    /* Half of a UTF-8 "é" (c3 a9) in one event: raw bytes, not text. */
    s = "{\"event\":{\"data\":{\"stdout\":\"ww==\"}}}";
    CHECK(connect_event_parse(s, strlen(s), &ev) == 0);
    CHECK(ev.len == 1 && ev.data[0] == 0xc3);
    connect_event_clear(&ev);

    s = msgs[2];
    CHECK(connect_event_parse(s, strlen(s), &ev) == 0);
    CHECK(ev.type == CONNECT_EV_KEEPALIVE);
    connect_event_clear(&ev);

    s = msgs[3]; /* exitCode omitted = 0 */
    CHECK(connect_event_parse(s, strlen(s), &ev) == 0);
    CHECK(ev.type == CONNECT_EV_END && ev.exit_code == 0 && ev.exited &&
          strcmp(ev.status, "exit status 0") == 0);
    connect_event_clear(&ev);

    s = "{\"event\":{\"end\":{\"exitCode\":-1,\"status\":\"signal: killed\","
        "\"error\":\"signal: killed\"}}}";
    CHECK(connect_event_parse(s, strlen(s), &ev) == 0);
    CHECK(ev.type == CONNECT_EV_END && ev.exit_code == -1 && !ev.exited &&
          strcmp(ev.error, "signal: killed") == 0);
    connect_event_clear(&ev);

    s = "{\"event\":{\"somethingNew\":{}}}";
    CHECK(connect_event_parse(s, strlen(s), &ev) == 0 && ev.type == CONNECT_EV_UNKNOWN);
    s = "not json";
    CHECK(connect_event_parse(s, strlen(s), &ev) == -1);
    s = "{\"event\":{\"data\":{\"stdout\":\"a$==\"}}}";
    CHECK(connect_event_parse(s, strlen(s), &ev) == -1);

    CHECK(connect_end_parse("{}", 2, code, sizeof code, msg, sizeof msg) == 0);
    s = "{\"error\":{\"code\":\"deadline_exceeded\",\"message\":\"context deadline exceeded\"},"
        "\"metadata\":{\"k\":[\"v\"]}}";
    CHECK(connect_end_parse(s, strlen(s), code, sizeof code, msg, sizeof msg) == 1);
    CHECK(strcmp(code, "deadline_exceeded") == 0 && strstr(msg, "deadline") != NULL);
    CHECK(connect_end_parse("[]", 2, code, sizeof code, msg, sizeof msg) == -1);
}

static void test_b64(void)
{
    unsigned char out[64];
    CHECK(crypto_b64_decode("", 0, out) == 0);
    CHECK(crypto_b64_decode("Zg==", 4, out) == 1 && out[0] == 'f');
    CHECK(crypto_b64_decode("Zm8=", 4, out) == 2 && memcmp(out, "fo", 2) == 0);
    CHECK(crypto_b64_decode("Zm9v", 4, out) == 3 && memcmp(out, "foo", 3) == 0);
    CHECK(crypto_b64_decode("Zm9vYg", 6, out) == 4 && memcmp(out, "foob", 4) == 0);
    CHECK(crypto_b64_decode("/+8=", 4, out) == 2 && out[0] == 0xff && out[1] == 0xef);
    CHECK(crypto_b64_decode("Z", 1, out) == -1);
    CHECK(crypto_b64_decode("Zg=", 3, out) == -1);
    CHECK(crypto_b64_decode("Z\nm9", 4, out) == -1);
}

static void test_breaker(void)
{
    struct breaker b;
    int64_t t = 1000;

    breaker_init(&b, 3, 5000);
    CHECK(breaker_state(&b, t) == BREAKER_CLOSED);
    /* Failures below the threshold, then a success, reset the count. */
    CHECK(breaker_allow(&b, t));
    breaker_failure(&b, t);
    breaker_failure(&b, t);
    CHECK(breaker_state(&b, t) == BREAKER_CLOSED && b.failures == 2);
    breaker_success(&b, t);
    CHECK(b.failures == 0);
    /* Three in a row open it. */
    for (int i = 0; i < 3; i++) {
        CHECK(breaker_allow(&b, t));
        breaker_failure(&b, t);
    }
    CHECK(breaker_state(&b, t) == BREAKER_OPEN);
    CHECK(!breaker_allow(&b, t + 4999));
    CHECK(breaker_open_until(&b) == t + 5000);
    /* Half-open after the cool-down: one trial at a time. */
    t += 5000;
    CHECK(breaker_state(&b, t) == BREAKER_HALF_OPEN);
    CHECK(breaker_allow(&b, t));
    CHECK(!breaker_allow(&b, t));
    /* The trial fails: open again for a full cool-down. */
    breaker_failure(&b, t);
    CHECK(breaker_state(&b, t + 1) == BREAKER_OPEN);
    CHECK(!breaker_allow(&b, t + 4999));
    t += 5000;
    CHECK(breaker_allow(&b, t));
    breaker_success(&b, t);
    CHECK(breaker_state(&b, t) == BREAKER_CLOSED);
    CHECK(breaker_allow(&b, t) && breaker_allow(&b, t));
    CHECK(strcmp(breaker_state_name(BREAKER_HALF_OPEN), "half-open") == 0);
    /* Defaults. */
    breaker_init(&b, 0, 0);
    CHECK(b.threshold == BREAKER_DEFAULT_FAILURES && b.cooldown_ms == BREAKER_DEFAULT_COOLDOWN_MS);
}

int main(void)
{
    test_splits();
    test_errors();
    test_events();
    test_b64();
    test_breaker();
    if (failures)
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    else
        printf("%d checks passed\n", checks);
    return failures != 0;
}
