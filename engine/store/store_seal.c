/*
 * store_seal.c: the writer's sealer for output chunks (store_crypt.h has the
 * contract). The box is crypto.h's: version, kind, 12-byte nonce, the
 * AES-256-GCM ciphertext, 16-byte tag; the associated data is the two
 * header bytes then the caller's, as crypto_box_seal makes it.
 */
#include "store_crypt.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct skey_sealer {
    EVP_CIPHER_CTX *ctx;
    unsigned char key[CRYPTO_KEY_LEN]; /* the key ctx holds, to notice a rekey */
    int keyed;
    unsigned char base[CRYPTO_NONCE_LEN]; /* this batch's random nonce */
    uint64_t count;                       /* boxes sealed with it */
    int fresh;                            /* draw a new base before the next box */
    unsigned char *buf;
    size_t cap;
};

struct skey_sealer *skey_sealer_new(void)
{
    struct skey_sealer *z = calloc(1, sizeof *z);

    if (z == NULL)
        return NULL;
    if ((z->ctx = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_EncryptInit_ex(z->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(z->ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_NONCE_LEN, NULL) != 1) {
        EVP_CIPHER_CTX_free(z->ctx);
        free(z);
        return NULL;
    }
    z->fresh = 1;
    return z;
}

void skey_sealer_free(struct skey_sealer *z)
{
    if (z == NULL)
        return;
    EVP_CIPHER_CTX_free(z->ctx); /* clears its key schedule */
    crypto_wipe(z->key, sizeof z->key);
    free(z->buf);
    free(z);
}

void skey_sealer_batch(struct skey_sealer *z)
{
    if (z != NULL)
        z->fresh = 1;
}

const unsigned char *skey_sealer_seal(struct skey_sealer *z, const struct skey *key, int kind,
                                      const char *aad, const void *data, size_t len,
                                      size_t *out_len)
{
    size_t need = len + CRYPTO_BOX_OVER;
    unsigned char *out, *nonce;
    int n;

    if (len > INT32_MAX)
        return NULL;
    if (need > z->cap) {
        unsigned char *b = realloc(z->buf, need);
        if (b == NULL)
            return NULL;
        z->buf = b;
        z->cap = need;
    }
    if (!z->keyed || memcmp(z->key, key->k, sizeof z->key) != 0) {
        if (EVP_EncryptInit_ex(z->ctx, NULL, NULL, key->k, NULL) != 1)
            return NULL;
        memcpy(z->key, key->k, sizeof z->key);
        z->keyed = 1;
        z->fresh = 1;
    }
    if (z->fresh || z->count >= UINT32_MAX) {
        if (crypto_random(z->base, sizeof z->base) != 0)
            return NULL;
        z->count = 0;
        z->fresh = 0;
    }
    out = z->buf;
    out[0] = CRYPTO_BOX_VERSION;
    out[1] = (unsigned char)kind;
    nonce = out + 2;
    memcpy(nonce, z->base, CRYPTO_NONCE_LEN);
    {
        /* nonce = base + count over the last 8 bytes (big endian). */
        uint64_t carry = z->count++;
        for (int i = CRYPTO_NONCE_LEN - 1; i >= CRYPTO_NONCE_LEN - 8 && carry; i--) {
            uint64_t v = (uint64_t)nonce[i] + (carry & 0xff);
            nonce[i] = (unsigned char)v;
            carry = (carry >> 8) + (v >> 8);
        }
    }
    if (EVP_EncryptInit_ex(z->ctx, NULL, NULL, NULL, nonce) != 1 ||
        EVP_EncryptUpdate(z->ctx, NULL, &n, out, 2) != 1 ||
        EVP_EncryptUpdate(z->ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        (len > 0 && EVP_EncryptUpdate(z->ctx, out + CRYPTO_BOX_HDR, &n, data, (int)len) != 1) ||
        EVP_EncryptFinal_ex(z->ctx, out + CRYPTO_BOX_HDR + len, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(z->ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN,
                            out + CRYPTO_BOX_HDR + len) != 1)
        return NULL;
    *out_len = need;
    return out;
}
