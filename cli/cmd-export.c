/*
 * cmd-export.c: write the whole store as a JSON bundle (export.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"

static const struct cli_opt opts[] = {
    {"output", 'o', "FILE", "write to FILE (created 0600) instead of stdout; - is stdout"},
    {NULL, 0, NULL, NULL},
};

static int dump_cb(const char *buf, size_t size, void *data)
{
    FILE *f = data;
    return fwrite(buf, 1, size, f) == size ? 0 : -1;
}

static int exec_export(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_export;
    const char *path = cli_val(&cmd_export, a, "output");
    struct sd_err err = {0};
    FILE *f = stdout;
    json_t *b;
    int status, rc;

    if (path != NULL && strcmp(path, "-") == 0)
        path = NULL; /* -o - is standard output, as for tar and curl */
    if ((status = cli_open_store(ctx, 1)) != 0)
        return status;
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
    if (path != NULL) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
            json_decref(b);
            return cli_fail(SD_EENV, "cannot write %s: %s", path, strerror(errno));
        }
    }
    rc = json_dump_callback(b, dump_cb, f, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    fputc('\n', f);
    if (path != NULL && fclose(f) != 0)
        rc = -1;
    else if (path == NULL && fflush(f) != 0)
        rc = -1;
    if (rc != 0) {
        json_decref(b);
        return cli_fail(SD_EENV, "writing the export failed: %s", strerror(errno));
    }
    if (path != NULL)
        fprintf(stderr, "swarmdeck: exported %zu trajectory(ies) to %s\n",
                json_array_size(json_object_get(b, "trajectories")), path);
    json_decref(b);
    return 0;
}

const struct cli_cmd cmd_export = {
    .name = "export",
    .usage = "[-o FILE]",
    .summary = "export metrics, strategies and every trajectory with its output as JSON",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .exec = exec_export,
};
