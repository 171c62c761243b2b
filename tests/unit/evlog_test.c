/*
 * evlog_test.c: the daemon's event log (engine/serve/evlog.h): numbering,
 * resume from any number with no gap and no duplicate, resync when the
 * reader fell behind the ring, and a concurrent producer with readers that
 * reconnect after every few events (the "10,000 reconnects" check).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "evlog.h"

static void test_sequence(void)
{
    struct evlog *l = evlog_new(4);
    struct evlog_item it[8];
    int resync, n;

    CHECK(evlog_last(l) == 0);
    CHECK(evlog_read(l, 0, it, 8, 0, &resync) == 0 && !resync);
    CHECK(evlog_append(l, "{\"a\":1}") == 1);
    CHECK(evlog_append(l, "{\"a\":2}") == 2);
    n = evlog_read(l, 0, it, 8, 0, &resync);
    CHECK(n == 2 && !resync && it[0].seq == 1 && it[1].seq == 2);
    CHECK(n == 2 && strcmp(it[1].json, "{\"a\":2}") == 0);
    evlog_items_free(it, n);
    n = evlog_read(l, 1, it, 8, 0, &resync);
    CHECK(n == 1 && it[0].seq == 2);
    evlog_items_free(it, n);
    /* max limits the copy; the rest is there next time. */
    for (int i = 3; i <= 4; i++)
        evlog_append(l, "{}");
    n = evlog_read(l, 0, it, 3, 0, &resync);
    CHECK(n == 3 && it[2].seq == 3);
    evlog_items_free(it, n);
    /* A fifth event pushes the first out: a reader at 0 must resync, one at 1 need not. */
    evlog_append(l, "{}");
    CHECK(evlog_read(l, 0, it, 8, 0, &resync) == 0 && resync);
    n = evlog_read(l, 1, it, 8, 0, &resync);
    CHECK(n == 4 && !resync && it[0].seq == 2 && it[3].seq == 5);
    evlog_items_free(it, n);
    /* A number from the future (a daemon that restarted) is a resync too. */
    CHECK(evlog_read(l, 99, it, 8, 0, &resync) == 0 && resync);
    evlog_free(l);
}

static void test_timeout_and_close(void)
{
    struct evlog *l = evlog_new(8);
    struct evlog_item it[2];
    int resync;

    CHECK(evlog_read(l, 0, it, 2, 20, &resync) == 0 && !resync);
    evlog_close(l);
    CHECK(evlog_read(l, 0, it, 2, -1, &resync) == -1);
    evlog_free(l);
}

struct prod {
    struct evlog *l;
    int n;
};

static void *producer(void *arg)
{
    struct prod *p = arg;
    char buf[64];
    for (int i = 1; i <= p->n; i++) {
        snprintf(buf, sizeof buf, "{\"i\":%d}", i);
        evlog_append(p->l, buf);
    }
    return NULL;
}

/* Readers "reconnect" after every batch of at most 3 events: each read
 * starts from the last number seen. With a ring larger than the producer's
 * total nothing may be lost; with a small one, a reader either sees every
 * number in order or is told to resync, never a hole or a repeat. */
static void run_readers(size_t cap, int total, int expect_complete)
{
    struct evlog *l = evlog_new(cap);
    struct prod p = {l, total};
    pthread_t t;
    uint64_t since = 0;
    int reconnects = 0, resyncs = 0, ok = 1;

    pthread_create(&t, NULL, producer, &p);
    while (since < (uint64_t)total) {
        struct evlog_item it[3];
        int resync, n = evlog_read(l, since, it, 3, 1000, &resync);
        reconnects++;
        if (resync) {
            resyncs++;
            since = evlog_last(l); /* the relist */
            continue;
        }
        for (int i = 0; i < n; i++) {
            int v = atoi(strchr(it[i].json, ':') + 1);
            ok &= it[i].seq == since + 1 && (uint64_t)v == it[i].seq;
            since = it[i].seq;
        }
        evlog_items_free(it, n);
    }
    pthread_join(t, NULL);
    CHECK(ok);
    CHECK(since == (uint64_t)total);
    CHECK(reconnects >= total / 3 || resyncs > 0);
    if (expect_complete)
        CHECK(resyncs == 0);
    evlog_free(l);
}

static void test_reconnects(void)
{
    run_readers(40000, 30000, 1); /* >= 10,000 reconnects, nothing lost */
    run_readers(16, 30000, 0);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"sequence", test_sequence},
        {"timeout_close", test_timeout_and_close},
        {"reconnects", test_reconnects},
    };
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
