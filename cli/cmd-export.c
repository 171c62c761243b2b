/*
 * cmd-export.c: write the whole store as a JSON bundle (export.h) and name
 * it by its IPFS CID (cid.h), computed here over the exact bytes written;
 * with --ipfs-api, also add and pin it on an IPFS node (ipfs.h).
 *
 * Where things go: the bundle to -o FILE, or to standard output without -o
 * (or with -o -) unless --ipfs-api is given, when it goes to the node only.
 * The CID alone on standard output when the bundle does not go there, else
 * on standard error as "swarmdeck: bundle CID ...".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cid.h"
#include "cli.h"
#include "export.h"
#include "ipfs.h"

static const struct cli_opt opts[] = {
    {"output", 'o', "FILE", "write to FILE (created 0600) instead of stdout; - is stdout"},
    {"ipfs-api", 0, "URL",
     "add and pin the bundle on the IPFS node whose HTTP RPC is at URL (http://HOST:PORT) and "
     "check that the node's CID is the one computed here"},
    {"public", 0, NULL,
     "with --ipfs-api from an encrypted store: publish anyway (the bundle is plaintext and "
     "anyone who reaches the node can read it)"},
    {NULL, 0, NULL, NULL},
};

/* Where the serialised bundle goes: the file (may be NULL), the hasher,
 * and the upload buffer when there is one. */
struct sink {
    FILE *f;
    struct cid_hasher *h;
    int keep; /* 1: also keep the bytes in buf (for --ipfs-api) */
    char *buf;
    size_t len, cap;
};

static int dump_cb(const char *buf, size_t size, void *data)
{
    struct sink *k = data;

    if (k->f != NULL && fwrite(buf, 1, size, k->f) != size)
        return -1;
    if (cid_update(k->h, buf, size) != 0)
        return -1;
    if (k->keep) {
        if (k->len + size > k->cap) {
            size_t cap = k->cap ? k->cap : 1 << 16;
            char *b;
            while (cap < k->len + size)
                cap *= 2;
            if ((b = realloc(k->buf, cap)) == NULL)
                return -1;
            k->buf = b;
            k->cap = cap;
        }
        memcpy(k->buf + k->len, buf, size);
        k->len += size;
    }
    return 0;
}

static int exec_export(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_export;
    const char *path = cli_val(&cmd_export, a, "output");
    const char *api = cli_val(&cmd_export, a, "ipfs-api");
    struct sd_err err = {0};
    struct sink k = {.f = stdout, .keep = api != NULL};
    char cid[CID_STR_MAX];
    uint64_t tsize = 0;
    int to_stdout = path == NULL ? api == NULL : strcmp(path, "-") == 0;
    json_t *b;
    int status, rc;

    if (path != NULL && strcmp(path, "-") == 0)
        path = NULL; /* -o - is standard output, as for tar and curl */
    if (!to_stdout && path == NULL)
        k.f = NULL; /* --ipfs-api without -o: to the node only */
    if (api != NULL && strncmp(api, "http://", 7) != 0 && strncmp(api, "https://", 8) != 0)
        return cli_fail(SD_EUSAGE, "--ipfs-api takes the node's RPC address, http://HOST:PORT");
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
    /* A bundle is plaintext (docs/ipfs.md): publishing an encrypted store's
     * trajectories to a node others read is a decision, not a default. */
    if (api != NULL && store_encrypted(ctx->store) && !cli_flag(&cmd_export, a, "public"))
        return cli_fail(SD_EUSAGE,
                        "this store is encrypted and a bundle on an IPFS node is readable by "
                        "anyone who reaches it: add --public to publish it anyway");
    if ((b = export_bundle(ctx->store, &err)) == NULL)
        return cli_fail_err(&err);
    {
        json_t *stats = NULL, *pats = NULL;
        if ((status = cli_learning(ctx, &stats, &pats)) != 0) {
            json_decref(b);
            return status;
        }
        json_object_set_new(b, "learningStats", stats);
        json_object_set_new(b, "patterns", pats);
    }
    if (export_seal_bundle(b, &err) != 0) {
        json_decref(b);
        return cli_fail_err(&err);
    }
    if ((k.h = cid_new(0)) == NULL) {
        json_decref(b);
        return cli_fail(SD_ENOMEM, "out of memory");
    }
    if (path != NULL) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || (k.f = fdopen(fd, "w")) == NULL) {
            json_decref(b);
            cid_free(k.h);
            return cli_fail(SD_EENV, "cannot write %s: %s", path, strerror(errno));
        }
    }
    errno = 0;
    rc = json_dump_callback(b, dump_cb, &k, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    if (rc == 0)
        rc = dump_cb("\n", 1, &k);
    if (path != NULL && fclose(k.f) != 0)
        rc = -1;
    else if (path == NULL && k.f != NULL && fflush(k.f) != 0)
        rc = -1;
    if (rc == 0 && cid_final(k.h, cid, NULL, NULL, &tsize) != 0)
        rc = -1;
    cid_free(k.h);
    if (rc != 0) {
        json_decref(b);
        free(k.buf);
        return cli_fail(SD_EENV, "writing the export failed: %s",
                        errno ? strerror(errno) : "out of memory");
    }
    if (path != NULL)
        fprintf(stderr, "swarmdeck: exported %zu trajectory(ies) to %s\n",
                json_array_size(json_object_get(b, "trajectories")), path);
    json_decref(b);
    if (api != NULL) {
        /* One name for every upload: a local file name says nothing the
         * node needs (it is not part of the CID). */
        rc = ipfs_add_pin(api, k.buf, k.len, "swarmdeck-export.json", cid, tsize, &err);
        free(k.buf);
        if (rc != 0)
            return cli_fail_err(&err);
        fprintf(stderr, "swarmdeck: added and pinned %s on the IPFS node\n", cid);
    }
    if (to_stdout)
        fprintf(stderr, "swarmdeck: bundle CID %s\n", cid);
    else
        printf("%s\n", cid);
    return 0;
}

const struct cli_cmd cmd_export = {
    .name = "export",
    .usage = "[-o FILE] [--ipfs-api URL [--public]]",
    .summary = "export metrics, strategies and every trajectory with its output as JSON, named "
               "by its IPFS CID",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_export,
};
