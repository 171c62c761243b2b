/*
 * connect.h: an incremental decoder for Connect-protocol server streams, and
 * the envd process events they carry (E2B's process.Process/Start).
 *
 * DESIGN
 * A Connect server stream over HTTP is a sequence of envelopes: 1 byte of
 * flags, a big-endian uint32 payload length, then the payload (JSON here).
 * Flag 0x02 marks the end-stream frame, always the last one; 0x01 would be a
 * compressed frame, which we never ask for. Bytes arrive in arbitrary pieces
 * (libcurl's write callback): a frame may be split anywhere, and one read may
 * hold several frames. connect_feed buffers until a frame is whole and then
 * calls back once per frame, so the caller never sees a partial frame.
 *
 * The module does no I/O and knows nothing of libcurl, so unit tests and a
 * fuzzer can drive it with any byte sequence. Frames longer than the cap are
 * refused rather than buffered (a hostile or broken server cannot make us
 * allocate without bound).
 *
 * connect_event_parse and connect_end_parse turn one frame's JSON into a
 * struct (process events: start, data, keepalive, end; the end-stream's
 * error code and message). Unknown keys are ignored; a missing exitCode in an
 * end event means 0 (protojson omits default values). data.stdout/stderr are
 * standard base64 (decoded with crypto_b64_decode); the decoded bytes are raw pipe reads, so a
 * UTF-8 sequence may be split across events: callers must concatenate bytes, never decode text per
 * event.
 *
 * THREADS
 * A decoder is used by one thread at a time. Everything else is pure.
 */
#ifndef SD_CONNECT_H
#define SD_CONNECT_H

#include <stddef.h>
#include <stdint.h>

#define CONNECT_FLAG_COMPRESSED 0x01
#define CONNECT_FLAG_END        0x02
#define CONNECT_MAX_FRAME       (16u << 20)

/* Called once per whole frame. payload is NUL-terminated (not counted in
 * len) and valid only during the call. Return 0 to go on, non-zero to stop
 * (connect_feed then returns that value). */
typedef int (*connect_frame_fn)(void *arg, unsigned flags, const char *payload, size_t len);

struct connect_dec {
    unsigned char hdr[5];
    size_t hlen;  /* header bytes held (0..5) */
    char *buf;    /* payload being assembled */
    size_t need;  /* payload length of the current frame */
    size_t have;  /* payload bytes held */
    size_t max;   /* frame length cap */
    int ended;    /* the end-stream frame was delivered */
    char err[96]; /* why the stream is broken, or "" */
};

/* Prepare d with a frame cap (0 = CONNECT_MAX_FRAME). Cannot fail. */
void connect_init(struct connect_dec *d, size_t max_frame);

/* Feed bytes. Returns 0, a callback's non-zero value, or -1 when the bytes
 * break the protocol (d->err says how: a frame over the cap, a compressed
 * frame, bytes after the end-stream frame, out of memory). After -1 the
 * decoder stays broken and refuses further input. */
int connect_feed(struct connect_dec *d, const void *data, size_t len, connect_frame_fn fn,
                 void *arg);

/* 1 if the decoder holds part of a frame (the stream was cut mid-frame). */
int connect_partial(const struct connect_dec *d);

/* Free what d holds; d may be reused after connect_init. */
void connect_free(struct connect_dec *d);

/* Encode one frame (flags, payload) into a malloc'ed buffer of 5 + len
 * bytes. Returns NULL when out of memory. */
unsigned char *connect_frame(unsigned flags, const char *payload, size_t len, size_t *outlen);

enum connect_ev_type {
    CONNECT_EV_UNKNOWN = 0, /* valid JSON, no event we know: ignore */
    CONNECT_EV_START,
    CONNECT_EV_DATA,
    CONNECT_EV_KEEPALIVE,
    CONNECT_EV_END,
};

struct connect_event {
    int type;
    int64_t pid;         /* start */
    int stream;          /* data: 1 stdout, 2 stderr, 3 pty */
    unsigned char *data; /* data: decoded bytes (malloc'ed; free with connect_event_clear) */
    size_t len;
    int exit_code;   /* end: missing = 0, -1 when killed by a signal */
    int exited;      /* end */
    char status[64]; /* end: e.g. "exit status 3", "signal: killed" */
    char error[128]; /* end: optional */
};

/* Parse one message frame's JSON ({"event":{...}}). Returns 0 (ev filled),
 * or -1 when the payload is not JSON, or a data event's base64 is invalid. */
int connect_event_parse(const char *json, size_t len, struct connect_event *ev);
void connect_event_clear(struct connect_event *ev);

/* Parse an end-stream frame's JSON. Returns 0 when it reports success ({}),
 * 1 when it carries an error (code and msg filled, e.g. "deadline_exceeded"),
 * -1 when it is not a JSON object. */
int connect_end_parse(const char *json, size_t len, char *code, size_t ncode, char *msg,
                      size_t nmsg);

#endif
