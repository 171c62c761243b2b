/*
 * cmd-import.c: merge an export bundle into the store (idempotent).
 *
 * A bundle is hostile input (engine/store/export.c checks every field, the
 * digest and the fingerprints). Here: the built-in strategies' names, which
 * no manifest in a bundle may take, and the report, which says that
 * imported manifests are not runnable until the operator adds them.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "export.h"
#include "ipfs.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, "print the report as JSON"},
    {"ipfs-api", 0, "URL",
     "the argument is a CID: fetch the bundle from the IPFS node whose HTTP RPC is at URL "
     "(http://HOST:PORT) and import it only if its bytes have that CID"},
    {"ipfs-timeout", 0, "SEC",
     "with --ipfs-api: how long the node may look for the bundle (default 120)"},
    {NULL, 0, NULL, NULL},
};

/* The built-in strategies' names, NULL-terminated (free the array only;
 * the names live in cat). NULL when out of memory. */
static const char **builtin_names(const struct catalog *cat)
{
    const char **v = calloc(catalog_count(cat) + 1, sizeof *v);
    size_t n = 0;

    for (size_t i = 0; v != NULL && i < catalog_count(cat); i++)
        if (catalog_at(cat, i)->builtin)
            v[n++] = catalog_at(cat, i)->name;
    return v;
}

static int exec_import(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_import;
    struct import_report r;
    struct sd_err err = {0};
    struct catalog *cat = NULL;
    const char **reserved = NULL;
    const char *api = cli_val(&cmd_import, a, "ipfs-api");
    json_error_t je;
    json_t *b;
    int status;

    if (api != NULL) {
        long tmo;
        FILE *f;
        int fd;
        if ((status = cli_parse_long("ipfs-timeout", cli_val_def(&cmd_import, a, "ipfs-timeout"), 1,
                                     86400, &tmo)) != 0)
            return status;
        if (strncmp(api, "http://", 7) != 0 && strncmp(api, "https://", 8) != 0)
            return cli_fail(SD_EUSAGE, "--ipfs-api takes the node's RPC address, http://HOST:PORT");
        if ((fd = ipfs_cat_verified(api, a->argv[0], tmo, &err)) < 0)
            return cli_fail(err.code, "%s (nothing imported)", err.msg);
        /* json_loadf: buffered (json_loadfd reads a byte per system call). */
        if ((f = fdopen(fd, "r")) == NULL) {
            close(fd);
            return cli_fail(SD_ENOMEM, "out of memory (nothing imported)");
        }
        b = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
        fclose(f);
    } else {
        b = json_load_file(a->argv[0], JSON_REJECT_DUPLICATES, &je);
    }
    if (b == NULL)
        return cli_fail(SD_EUSAGE, "%s:%d:%d: %s (nothing imported)", a->argv[0], je.line,
                        je.column, je.text);
    if (catalog_load(&cat, cli_runner_path(), NULL, &err) != 0 ||
        (reserved = builtin_names(cat)) == NULL) {
        json_decref(b);
        catalog_free(cat);
        return cli_fail(err.code ? err.code : SD_ENOMEM, "%s (nothing imported)",
                        err.msg[0] ? err.msg : "out of memory");
    }
    if ((status = cli_open_store(ctx, 0)) != 0)
        goto out;
    if (import_bundle_reserved(ctx->store, b, reserved, &r, &err) != 0) {
        sd_err_prefix(&err, "%s", a->argv[0]);
        status = cli_fail(err.code, "%s (nothing imported)", err.msg);
        goto out;
    }
    if (cli_flag(&cmd_import, a, "json")) {
        cli_print_json(json_pack("{s:i, s:i, s:i, s:i, s:b}", "added", r.added, "skipped",
                                 r.skipped, "unfinished", r.unfinished, "strategiesAdded",
                                 r.strategies_added, "strategiesRunnable", 0));
    } else {
        printf("imported %d trajectory(ies), skipped %d already present", r.added, r.skipped);
        if (r.unfinished > 0)
            printf(" and %d unfinished when exported (no fingerprint)", r.unfinished);
        printf("\n");
        if (r.strategies_added > 0)
            printf("kept %d strategy manifest(s) from the bundle for reference; they are not "
                   "runnable: review one and add it with `swarmdeck strategies add MANIFEST`\n",
                   r.strategies_added);
    }
out:
    json_decref(b);
    free(reserved);
    catalog_free(cat);
    return status;
}

const struct cli_cmd cmd_import = {
    .name = "import",
    .usage = "FILE [--json] | --ipfs-api URL CID [--json]",
    .summary = "merge an export bundle into the store (importing twice adds nothing)",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CLI_WRITES,
    .exec = exec_import,
};
