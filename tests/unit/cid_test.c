/*
 * cid_test.c: IPFS CIDs computed locally (engine/store/cid.c) against
 * vectors a real node produced (js-ipfs 0.66.1, `/api/v0/add?cid-version=1
 * &raw-leaves=true&cid-base=base32`, tests/e2e/ipfs_e2e.py compares more
 * sizes live), and the parser against the other bases a node may answer in.
 *
 * The vector files are pat(n): byte i = (i * 31 + 7) % 251.
 *
 *   test-cid            every case
 *   test-cid CASE       one case
 *   test-cid file PATH [CHUNK]   print the CID of PATH (chunker size-CHUNK)
 *                               and its total size: for the end-to-end test
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "check.h"
#include "cid.h"

static uint8_t *pat(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; p != NULL && i < n; i++)
        p[i] = (uint8_t)((i * 31 + 7) % 251);
    return p;
}

/* The CID of pat(n) cut into chunks of chunk bytes, fed piece bytes at a
 * time (0: all at once); its total size into *ts. */
static void cid_pat(size_t n, size_t chunk, size_t piece, char out[CID_STR_MAX], uint64_t *ts)
{
    uint8_t *p = pat(n);
    struct cid_hasher *h = cid_new(chunk);
    int ok = p != NULL && h != NULL;

    for (size_t off = 0; ok && off < n;) {
        size_t k = piece == 0 || n - off < piece ? n - off : piece;
        ok = cid_update(h, p + off, k) == 0;
        off += k;
    }
    CHECK(ok && cid_final(h, out, NULL, NULL, ts) == 0);
    cid_free(h);
    free(p);
}

struct vec {
    size_t n, chunk;
    const char *cid;
    uint64_t tsize; /* the node's "Size" */
};

/* Produced by js-ipfs (see the top of the file). */
static const struct vec vecs[] = {
    {0, 0, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 0},
    {1, 0, "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe", 1},
    {11, 0, "bafkreic5ts76k7n66jmmum5zpih6ttjqssggqk4eenqwyh5jw7zcowlenu", 11},
    {262144, 0, "bafkreieiuj5mzeuqor24l4lmo2yumm6665yv4gq7ozzp2nrfmqrjyboosy", 262144},
    {262145, 0, "bafybeich6cqd6yabw3cku6edwmz4rvwe275nx2l6ootvc2bpbt5bdvarua", 262249},
    {1000000, 0, "bafybeiclwhwdl4p5zj7tkk4w4xwcnphz76aibkikjcfmx7cecdfjdtlstq", 1000208},
    {1000000, 1024, "bafybeigmg7dukcwbbvjttkdxvuuotc4udagn5wibgjg4qe6j7amhu5z2fa", 1047258},
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        char got[CID_STR_MAX];
        uint64_t ts = 0;
        cid_pat(vecs[i].n, vecs[i].chunk, 0, got, &ts);
        if (strcmp(got, vecs[i].cid) != 0 || ts != vecs[i].tsize)
            fprintf(stderr, "size %zu chunk %zu: got %s (%llu), want %s (%llu)\n", vecs[i].n,
                    vecs[i].chunk, got, (unsigned long long)ts, vecs[i].cid,
                    (unsigned long long)vecs[i].tsize);
        CHECK(strcmp(got, vecs[i].cid) == 0);
        CHECK(ts == vecs[i].tsize);
    }
}

/* The CID does not depend on how the bytes were fed. */
static void test_streaming(void)
{
    size_t pieces[] = {1, 7, 1000, 262143, 262144, 300000};
    char whole[CID_STR_MAX], part[CID_STR_MAX];
    uint64_t a, b;

    cid_pat(1000000, 0, 0, whole, &a);
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        if (pieces[i] == 1)
            cid_pat(300000, 0, 1, part, &b); /* byte by byte: a smaller file */
        else
            cid_pat(1000000, 0, pieces[i], part, &b);
        if (pieces[i] != 1) {
            CHECK(strcmp(whole, part) == 0);
            CHECK(a == b);
        } else {
            char one[CID_STR_MAX];
            uint64_t c;
            cid_pat(300000, 0, 0, one, &c);
            CHECK(strcmp(one, part) == 0);
        }
    }
    {
        uint8_t *p = pat(11);
        char buf[CID_STR_MAX];
        CHECK(p != NULL && cid_of_buffer(p, 11, buf) == 0 && strcmp(buf, vecs[2].cid) == 0);
        free(p);
    }
}

/* Every base a node may answer in reads to the same bytes. */
static void test_parse(void)
{
    uint8_t a[CID_BIN_MAX], b[CID_BIN_MAX];
    char s[CID_STR_MAX], up[CID_STR_MAX];
    int n, m;

    /* js-ipfs without cid-base=base32 answers in base58btc. */
    n = cid_parse("bafybeich6cqd6yabw3cku6edwmz4rvwe275nx2l6ootvc2bpbt5bdvarua", a);
    m = cid_parse("zdj7WaGiqTz4Z4BW3UDHe3ndS85nGi8cu8uznqEnr23d1KevT", b);
    CHECK(n == 36 && m == 36 && memcmp(a, b, 36) == 0);
    CHECK(cid_format(a, (size_t)n, s) == 0 &&
          strcmp(s, "bafybeich6cqd6yabw3cku6edwmz4rvwe275nx2l6ootvc2bpbt5bdvarua") == 0);
    n = cid_parse(vecs[0].cid, a);
    m = cid_parse("zb2rhmy65F3REf8SZp7De11gxtECBGgUKaLdiDj7MCGCHxbDW", b);
    CHECK(n == 36 && m == 36 && memcmp(a, b, 36) == 0);
    /* Upper-case base32 (multibase 'B'). */
    for (size_t i = 0; vecs[0].cid[i]; i++)
        up[i] = (char)(vecs[0].cid[i] >= 'a' && vecs[0].cid[i] <= 'z' ? vecs[0].cid[i] - 32
                                                                      : vecs[0].cid[i]);
    up[strlen(vecs[0].cid)] = '\0';
    CHECK(cid_parse(up, b) == 36 && memcmp(a, b, 36) == 0);
    /* CIDv0 (the empty UnixFS directory) and its CIDv1 form. */
    n = cid_parse("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn", a);
    m = cid_parse("bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354", b);
    CHECK(n == 36 && m == 36 && memcmp(a, b, 36) == 0);
    /* Not CIDs. */
    CHECK(cid_parse("", a) == -1);
    CHECK(cid_parse("b", a) == -1);
    CHECK(cid_parse("hello", a) == -1);
    CHECK(cid_parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk", a) == -1);
    CHECK(cid_parse("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykuu", a) == -1);
    CHECK(cid_parse("bafkrei/../../api", a) == -1);
    CHECK(cid_parse("zb2rhmy65F3REf8SZp7De11gxtECBGgUKaLdiDj7MCGCHxbD0", a) == -1);
    CHECK(cid_parse("Qm", a) == -1);
    CHECK(cid_parse("b" /* a version 2 CID */ "eaaaaa", a) == -1);
}

/* The levels of the balanced layout: with chunks of 16 bytes, 174 leaves
 * fit one node, 175 need a second level, 174 * 174 + 1 a third. The
 * vectors come from js-ipfs with chunker=size-16. */
static void test_levels(void)
{
    static const struct vec lv[] = {
        {174 * 16, 16, "bafybeiajojcbh5624tfrp2pnacvhwrdcvu6fmhm3spw57u2dyfnntqflbm", 10796},
        {174 * 16 + 1, 16, "bafybeidzxmx6mst455byqn7ui7zrnvdftyjwagbcubyn4unagrtmmdepnq", 10950},
        {174 * 174 * 16 + 5, 16, "bafybeidfrwcrnpuvqq3muhljjjki3qsr5yshzpgwiwzbpdsfo6bolxeqxy",
         1887078},
    };
    for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++) {
        char got[CID_STR_MAX];
        uint64_t ts;
        cid_pat(lv[i].n, lv[i].chunk, 0, got, &ts);
        if (strcmp(got, lv[i].cid) != 0)
            fprintf(stderr, "size %zu chunk %zu: got %s, want %s\n", lv[i].n, lv[i].chunk, got,
                    lv[i].cid);
        CHECK(strcmp(got, lv[i].cid) == 0);
        CHECK(ts == lv[i].tsize);
    }
}

static int print_file(const char *path, size_t chunk)
{
    FILE *f = fopen(path, "rb");
    struct cid_hasher *h = cid_new(chunk);
    char buf[65536], out[CID_STR_MAX];
    uint64_t ts;
    size_t n;
    int rc = f != NULL && h != NULL ? 0 : -1;

    while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
        rc = cid_update(h, buf, n);
    if (rc == 0 && (ferror(f) || cid_final(h, out, NULL, NULL, &ts) != 0))
        rc = -1;
    if (rc == 0)
        printf("%s %llu\n", out, (unsigned long long)ts);
    if (f != NULL)
        fclose(f);
    cid_free(h);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"vectors", test_vectors},
        {"streaming", test_streaming},
        {"parse", test_parse},
        {"levels", test_levels},
    };
    if (argc >= 3 && strcmp(argv[1], "file") == 0)
        return print_file(argv[2], argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 0);
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
