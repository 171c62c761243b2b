/*
 * cmd-rekey.c: change the store's encryption key in place: encrypt a
 * plaintext store, re-encrypt under a new key, or decrypt (--decrypt).
 *
 * The current key comes from --encryption-key or SWARMDECK_KEY as for every
 * command; the new one from --new-key or SWARMDECK_NEW_KEY (safer: not in
 * the process list). It is one transaction (store_rekey): interrupted, the
 * store stays readable with exactly one of the two keys.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"

static const struct cli_opt opts[] = {
    {"new-key", 0, "KEY",
     "the new key: base64 of 32 bytes, or a passphrase (also "
     "SWARMDECK_NEW_KEY)"},
    {"decrypt", 0, NULL, "remove encryption: store every value in plaintext"},
    {NULL, 0, NULL, NULL},
};

static int exec_rekey(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_rekey;
    const char *nk = cli_val(&cmd_rekey, a, "new-key");
    int decrypt = cli_flag(&cmd_rekey, a, "decrypt"), status, was;
    struct sd_err err = {0};
    char *key = NULL;

    if (nk == NULL)
        nk = getenv("SWARMDECK_NEW_KEY");
    if (nk != NULL && nk[0] == '\0')
        nk = NULL;
    if ((nk == NULL) == !decrypt)
        return cli_fail(SD_EUSAGE, "rekey needs exactly one of --new-key KEY (or "
                                   "SWARMDECK_NEW_KEY) and --decrypt");
    if (nk != NULL && ctx->key != NULL && strcmp(nk, ctx->key) == 0)
        return cli_fail(SD_EUSAGE, "the new key is the current key; nothing to do");
    if (nk != NULL) {
        key = xstrdup(nk);
        memset((char *)nk, 'x', strlen(nk)); /* out of argv and the environment */
        unsetenv("SWARMDECK_NEW_KEY");
    }
    if ((status = cli_open_store(ctx, 0)) != 0)
        goto out;
    was = store_encrypted(ctx->store);
    if (store_rekey(ctx->store, key, &err) != 0) {
        status = cli_fail(err.code, "%s (the store is unchanged)", err.msg);
        goto out;
    }
    if (key != NULL) {
        /* The learner's saved index holds parameter values in plaintext
         * (plaintext stores only): gone with the plaintext. */
        char idx[4096];
        if (snprintf(idx, sizeof idx, "%s-learn", store_path(ctx->store)) < (int)sizeof idx)
            unlink(idx);
    }
    printf("%s: %s\n", store_path(ctx->store),
           key == NULL ? "decrypted: values are stored in plaintext now"
           : was       ? "re-encrypted under the new key"
                 : "encrypted: give the key with --encryption-key or SWARMDECK_KEY from now on");
out:
    if (key != NULL) {
        crypto_wipe(key, strlen(key));
        free(key);
    }
    return status;
}

const struct cli_cmd cmd_rekey = {
    .name = "rekey",
    .usage = "--new-key KEY | --decrypt",
    .summary = "change the store's encryption key in place (crash safe), encrypt or decrypt it",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CLI_WRITES,
    .exec = exec_rekey,
};
