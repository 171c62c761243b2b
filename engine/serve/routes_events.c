/*
 * routes_events.c: the daemon's event stream, GET /events?since=N (routes.h):
 * one JSON object a line, each with its "seq". MHD reads it through
 * stream_read on the connection's own thread, which may block in evlog_read
 * up to BOOKMARK_MS and then writes a bookmark: a quiet stream still proves
 * the connection alive and carries the newest number. evlog_close (at
 * server_stop) ends every stream.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evlog.h"
#include "routes.h"
#include "span.h"

#define BOOKMARK_MS 15000

/* The event stream: one JSON object a line, each with its "seq". */
struct stream {
    struct server *s;
    uint64_t since;
    char *buf; /* lines not yet handed to MHD */
    size_t len, off;
};

static void stream_add(struct stream *st, uint64_t seq, const char *json)
{
    /* json is an object: splice "seq" in as its first member. */
    char *line = NULL;
    int n = json[1] == '}' ? asprintf(&line, "{\"seq\":%" PRIu64 "}\n", seq)
                           : asprintf(&line, "{\"seq\":%" PRIu64 ",%s\n", seq, json + 1);
    char *grown;

    if (n < 0)
        return;
    grown = realloc(st->buf, st->len + (size_t)n);
    if (grown != NULL) {
        memcpy(grown + st->len, line, (size_t)n);
        st->buf = grown;
        st->len += (size_t)n;
    }
    free(line);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *st = cls;
    struct evlog_item it[64];
    int n, resync;
    size_t k;

    (void)pos;
    if (st->off == st->len) {
        st->off = st->len = 0;
        n = evlog_read(st->s->log, st->since, it, 64, BOOKMARK_MS, &resync);
        if (n < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (resync) {
            st->since = evlog_last(st->s->log);
            stream_add(st, st->since, "{\"type\":\"resync\"}");
        } else if (n == 0) {
            stream_add(st, st->since, "{\"type\":\"bookmark\"}");
        }
        for (int i = 0; i < n; i++) {
#ifdef SD_SPANS
            const char *at = strstr(it[i].json, "\"id\":");
            if (at != NULL && strstr(it[i].json, "\"state\":\"succeeded\"") != NULL)
                sd_span(SPAN_STREAMED, strtoll(at + 5, NULL, 10));
#endif
            stream_add(st, it[i].seq, it[i].json);
            st->since = it[i].seq;
        }
        evlog_items_free(it, n > 0 ? n : 0);
        if (st->len == 0)
            return MHD_CONTENT_READER_END_WITH_ERROR; /* out of memory */
    }
    k = st->len - st->off < max ? st->len - st->off : max;
    memcpy(out, st->buf + st->off, k);
    st->off += k;
    return (ssize_t)k;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    free(st->buf);
    free(st);
}

enum MHD_Result h_events(struct call *k)
{
    struct stream *st = calloc(1, sizeof *st);
    struct MHD_Response *r;
    enum MHD_Result rc;
    uint64_t since = 0;

    if (st == NULL)
        return route_fail(k->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    if (route_query_u64(k->conn, "since", &since) != 0) {
        free(st);
        return route_fail(k->conn, MHD_HTTP_BAD_REQUEST, "since must be a whole number");
    }
    st->s = k->s;
    st->since = since;
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (r == NULL) {
        free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
    rc = MHD_queue_response(k->conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}
