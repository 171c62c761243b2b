/*
 * e2b_redact_test.c: the E2B key redaction (engine/provider/e2b_config.c,
 * e2b_redact_secret) against what a hostile API may echo: the key as is,
 * upper-cased, in pieces split by separators (JSON arrays, spaces,
 * newlines), its hex part alone, and runs of it; and that an ordinary
 * message is left alone and nothing grows.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2b.h"

#include "check.h"

static const char KEY[] = "e2b_0123456789abcdef0123456789abcdeffeedc0de";

/* 1 if any run of E2B_REDACT_MIN characters of KEY is in s, in any case. */
static int leaks(const char *s)
{
    char low[2048];
    size_t n = strlen(s), kl = strlen(KEY);

    for (size_t i = 0; i <= n && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    low[n < sizeof low - 1 ? n : sizeof low - 1] = '\0';
    for (size_t j = 0; j + E2B_REDACT_MIN <= kl; j++) {
        char run[E2B_REDACT_MIN + 1];
        memcpy(run, KEY + j, E2B_REDACT_MIN);
        run[E2B_REDACT_MIN] = '\0';
        if (strstr(low, run) != NULL)
            return 1;
    }
    return 0;
}

static void redact(char *buf, size_t n, const char *fmt, const char *arg)
{
    size_t before;
    snprintf(buf, n, fmt, arg);
    before = strlen(buf);
    e2b_redact_secret(KEY, buf);
    CHECK(strlen(buf) <= before);
}

static void test_copies(void)
{
    char buf[1024], up[sizeof KEY], split[512] = "", spaced[512] = "";

    redact(buf, sizeof buf, "Invalid API key %s, please visit ...", KEY);
    CHECK(!leaks(buf));
    CHECK(strstr(buf, "Invalid API key [redacted], please visit ...") != NULL);

    for (size_t i = 0; i < sizeof KEY; i++)
        up[i] = (char)toupper((unsigned char)KEY[i]);
    redact(buf, sizeof buf, "key %s refused", up);
    CHECK(!leaks(buf) && strstr(buf, "[redacted]") != NULL);

    /* The hex part alone. */
    redact(buf, sizeof buf, "got %s", KEY + 4);
    CHECK(!leaks(buf));

    /* In 9-character pieces as a JSON array, and spread with spaces and
     * newlines. */
    strcat(split, "[");
    for (size_t i = 0; i < strlen(KEY); i += 9) {
        char piece[16];
        snprintf(piece, sizeof piece, "%s\"%.9s\"", i ? ", " : "", KEY + i);
        strcat(split, piece);
        snprintf(piece, sizeof piece, "%.9s%s", KEY + i, i % 2 ? "\n" : "  ");
        strcat(spaced, piece);
    }
    strcat(split, "]");
    redact(buf, sizeof buf, "you sent %s", split);
    CHECK(!leaks(buf));
    CHECK(strncmp(buf, "you sent ", 9) == 0);
    redact(buf, sizeof buf, "%s", spaced);
    CHECK(!leaks(buf));

    /* Two copies, one upper-cased, around other text. */
    snprintf(split, sizeof split, "%s and %s", KEY, up);
    redact(buf, sizeof buf, "a: %s :b", split);
    CHECK(!leaks(buf) && strncmp(buf, "a: ", 3) == 0);
    CHECK(strlen(buf) > 6 && strcmp(buf + strlen(buf) - 3, " :b") == 0);
}

static void test_left_alone(void)
{
    char buf[256];

    /* Nothing of the key: unchanged (short hex words are not the key). */
    redact(buf, sizeof buf, "%s", "sandbox i1a2b3c4d5 was not found (502), code dead beef 0123");
    CHECK(strcmp(buf, "sandbox i1a2b3c4d5 was not found (502), code dead beef 0123") == 0);
    redact(buf, sizeof buf, "%s", "");
    CHECK(buf[0] == '\0');
    /* A short or missing secret does nothing. */
    snprintf(buf, sizeof buf, "abc");
    e2b_redact_secret("abc", buf);
    e2b_redact_secret(NULL, buf);
    CHECK(strcmp(buf, "abc") == 0);
}

int main(void)
{
    test_copies();
    test_left_alone();
    if (failures)
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    else
        printf("%d checks passed\n", checks);
    return failures != 0;
}
