/*
 * driver.c: a main() for the fuzz harnesses when libFuzzer is not used (gcc
 * builds, the sanitizer tree). It runs every file of the corpus directories
 * given, then a bounded number of mutations of them (bit flips, byte
 * changes, insertions, deletions, truncations and splices from a fixed-seed
 * xorshift generator), so each run is reproducible and short. With clang the
 * same harnesses link libFuzzer instead (tests/fuzz/fuzz.cmake).
 *
 * usage: fuzz-NAME [-runs=N] DIR...
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    uint8_t *data;
    size_t len;
};

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int load(const char *path, struct input *in)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        if (f)
            fclose(f);
        return -1;
    }
    in->data = malloc((size_t)n + 1);
    in->len = fread(in->data, 1, (size_t)n, f);
    fclose(f);
    return 0;
}

/* One run on an exact-size heap copy, so ASan sees reads past the end. */
static void run(const uint8_t *d, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, d, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
}

static size_t mutate(const struct input *a, const struct input *b, uint8_t *out, size_t cap)
{
    size_t n = a->len < cap ? a->len : cap;
    memcpy(out, a->data, n);
    for (int k = 1 + (int)(next() % 4); k > 0; k--) {
        size_t at = n ? next() % n : 0;
        switch (next() % 6) {
        case 0:
            if (n)
                out[at] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 1:
            if (n)
                out[at] = (uint8_t) "\0\n\r\",{}[]@:=#-.9eE \xff"[next() % 20];
            break;
        case 2:
            if (n < cap) {
                memmove(out + at + 1, out + at, n - at);
                out[at] = (uint8_t)next();
                n++;
            }
            break;
        case 3:
            if (n) {
                memmove(out + at, out + at + 1, n - at - 1);
                n--;
            }
            break;
        case 4:
            n = at;
            break;
        default: /* splice the tail of b in */
            if (b->len) {
                size_t from = next() % b->len, take = b->len - from;
                if (at + take > cap)
                    take = cap - at;
                memcpy(out + at, b->data + from, take);
                n = at + take;
            }
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    struct input *ins = NULL;
    size_t nin = 0, cap = 1 << 20;
    long runs = 2000;
    uint8_t *buf = malloc(cap);

    for (int i = 1; i < argc; i++) {
        DIR *dir;
        struct dirent *e;
        if (strncmp(argv[i], "-runs=", 6) == 0) {
            runs = strtol(argv[i] + 6, NULL, 10);
            continue;
        }
        if (argv[i][0] == '-')
            continue; /* other libFuzzer flags do not apply here */
        if ((dir = opendir(argv[i])) == NULL) {
            fprintf(stderr, "%s: cannot open\n", argv[i]);
            return 2;
        }
        while ((e = readdir(dir)) != NULL) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            ins = realloc(ins, (nin + 1) * sizeof *ins);
            if (load(path, &ins[nin]) == 0)
                nin++;
        }
        closedir(dir);
    }
    if (nin == 0) {
        fprintf(stderr, "no corpus\n");
        return 2;
    }
    for (size_t i = 0; i < nin; i++)
        run(ins[i].data, ins[i].len);
    for (long r = 0; r < runs; r++) {
        const struct input *a = &ins[next() % nin], *b = &ins[next() % nin];
        run(buf, mutate(a, b, buf, cap));
    }
    printf("%zu corpus inputs, %ld mutations: no crash\n", nin, runs);
    for (size_t i = 0; i < nin; i++)
        free(ins[i].data);
    free(ins);
    free(buf);
    return 0;
}
