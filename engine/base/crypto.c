/*
 * crypto.c: SHA3-512, AES-256-GCM boxes and scrypt through OpenSSL EVP
 * (crypto.h).
 *
 * Nothing is hand-rolled: every primitive is an EVP call, and the unit tests
 * (tests/unit/crypto_test.c) check them against published vectors (NIST
 * SHA3 and GCM examples, RFC 7914 scrypt). What this file adds is only the
 * box layout and its header authentication: the version and kind bytes are
 * prepended to the caller's associated data, so flipping the kind (text or
 * blob) of a stored value fails like any other change. The one process-wide
 * effect is crypto_hold_keys: a process that has held a key dumps no core.
 */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

int crypto_sha3_512(const void *data, size_t len, unsigned char out[CRYPTO_SHA3_LEN])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha3_512(), NULL) == 1 && n == CRYPTO_SHA3_LEN ? 0
                                                                                             : -1;
}

struct crypto_hash {
    EVP_MD_CTX *ctx;
};

struct crypto_hash *crypto_hash_new(void)
{
    struct crypto_hash *h = malloc(sizeof *h);
    if (h == NULL)
        return NULL;
    if ((h->ctx = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestInit_ex(h->ctx, EVP_sha3_512(), NULL) != 1) {
        crypto_hash_free(h);
        return NULL;
    }
    return h;
}

int crypto_hash_update(struct crypto_hash *h, const void *data, size_t len)
{
    return len == 0 || EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -1;
}

int crypto_hash_final(struct crypto_hash *h, unsigned char out[CRYPTO_SHA3_LEN])
{
    unsigned int n = 0;
    int rc = EVP_DigestFinal_ex(h->ctx, out, &n) == 1 && n == CRYPTO_SHA3_LEN ? 0 : -1;
    crypto_hash_free(h);
    return rc;
}

void crypto_hash_free(struct crypto_hash *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void crypto_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A cipher context per thread, reused: a store seals every output chunk,
 * and making, fetching the cipher for and freeing a context per value cost
 * more than the encryption itself (docs/benchmarks/store.md). Freed by the
 * key's destructor when the thread ends. */
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *ctx)
{
    EVP_CIPHER_CTX_free(ctx);
}

static void ctx_init(void)
{
    (void)pthread_key_create(&ctx_key, ctx_free);
}

static EVP_CIPHER_CTX *thread_ctx(void)
{
    EVP_CIPHER_CTX *ctx;
    pthread_once(&ctx_once, ctx_init);
    if ((ctx = pthread_getspecific(ctx_key)) == NULL) {
        if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
            return NULL;
        if (pthread_setspecific(ctx_key, ctx) != 0) {
            EVP_CIPHER_CTX_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

/* One GCM operation; enc selects the direction. */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce, size_t nonce_len,
               const void *aad, size_t aad_len, const void *in, size_t len, unsigned char *out,
               unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = thread_ctx();
    int n = 0, rc = -1;

    if (ctx == NULL || len > INT32_MAX || aad_len > INT32_MAX || nonce_len == 0)
        goto out;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)nonce_len, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
        goto out;
    if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        goto out;
    if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
        goto out;
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN, tag) != 1)
        goto out;
    rc = 0;
out:
    if (ctx != NULL)
        EVP_CIPHER_CTX_reset(ctx); /* drops the key schedule */
    if (rc != 0 && !enc)
        crypto_wipe(out, len);
    return rc;
}

int crypto_gcm_encrypt(const unsigned char key[CRYPTO_KEY_LEN], const unsigned char *nonce,
                       size_t nonce_len, const void *aad, size_t aad_len, const void *pt,
                       size_t pt_len, unsigned char *ct, unsigned char tag[CRYPTO_TAG_LEN])
{
    return gcm(1, key, nonce, nonce_len, aad, aad_len, pt, pt_len, ct, tag);
}

int crypto_gcm_decrypt(const unsigned char key[CRYPTO_KEY_LEN], const unsigned char *nonce,
                       size_t nonce_len, const void *aad, size_t aad_len, const void *ct,
                       size_t ct_len, const unsigned char tag[CRYPTO_TAG_LEN], unsigned char *pt)
{
    return gcm(0, key, nonce, nonce_len, aad, aad_len, ct, ct_len, pt, (unsigned char *)tag);
}

/* The associated data of a box: its two header bytes, then the caller's. */
static unsigned char *box_aad(const unsigned char hdr[2], const void *aad, size_t aad_len,
                              unsigned char *stackbuf, size_t stacklen)
{
    unsigned char *a = aad_len + 2 <= stacklen ? stackbuf : malloc(aad_len + 2);
    if (a == NULL)
        return NULL;
    a[0] = hdr[0];
    a[1] = hdr[1];
    if (aad_len > 0)
        memcpy(a + 2, aad, aad_len);
    return a;
}

int crypto_box_seal(const unsigned char key[CRYPTO_KEY_LEN], int kind, const void *aad,
                    size_t aad_len, const void *pt, size_t len, unsigned char *out)
{
    unsigned char buf[256], *a;
    int rc;

    out[0] = CRYPTO_BOX_VERSION;
    out[1] = (unsigned char)kind;
    if (crypto_random(out + 2, CRYPTO_NONCE_LEN) != 0)
        return -1;
    if ((a = box_aad(out, aad, aad_len, buf, sizeof buf)) == NULL)
        return -1;
    rc = crypto_gcm_encrypt(key, out + 2, CRYPTO_NONCE_LEN, a, aad_len + 2, pt, len,
                            out + CRYPTO_BOX_HDR, out + CRYPTO_BOX_HDR + len);
    if (a != buf)
        free(a);
    return rc;
}

int crypto_box_open(const unsigned char key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
                    const unsigned char *box, size_t box_len, unsigned char *out)
{
    unsigned char buf[256], *a;
    size_t len;
    int rc;

    if (!crypto_is_box(box, box_len))
        return -1;
    len = box_len - CRYPTO_BOX_OVER;
    if ((a = box_aad(box, aad, aad_len, buf, sizeof buf)) == NULL)
        return -1;
    rc = crypto_gcm_decrypt(key, box + 2, CRYPTO_NONCE_LEN, a, aad_len + 2, box + CRYPTO_BOX_HDR,
                            len, box + CRYPTO_BOX_HDR + len, out);
    if (a != buf)
        free(a);
    return rc == 0 ? box[1] : -1;
}

int crypto_is_box(const void *data, size_t len)
{
    return data != NULL && len >= CRYPTO_BOX_OVER &&
           ((const unsigned char *)data)[0] == CRYPTO_BOX_VERSION;
}

int crypto_scrypt(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
                  unsigned log2n, unsigned r, unsigned p, unsigned char *out, size_t out_len)
{
    uint64_t n;
    uint64_t maxmem;

    if (log2n < 1 || log2n > 24 || r == 0 || p == 0)
        return -1;
    crypto_hold_keys(); /* a passphrase in, a key out */
    n = (uint64_t)1 << log2n;
    /* scrypt needs 128 * r * (N + p) bytes plus a little; allow twice that. */
    maxmem = 2 * 128 * (uint64_t)r * (n + p) + (1 << 20);
    return EVP_PBE_scrypt(pass, pass_len, salt, salt_len, n, r, p, maxmem, out, out_len) == 1 ? 0
                                                                                              : -1;
}

int crypto_random(void *buf, size_t n)
{
    return n <= INT32_MAX && RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

static int b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

long crypto_b64_decode(const char *in, size_t len, unsigned char *out)
{
    size_t pad = 0, whole, n;
    int got;

    while (len > 0 && in[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if ((pad > 0 && (len + pad) % 4 != 0) || len % 4 == 1 || len > (size_t)INT32_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!b64_char(in[i]))
            return -1;
    /* Whole groups straight from the input; a short last group padded. */
    whole = len - len % 4;
    if ((got = EVP_DecodeBlock(out, (const unsigned char *)in, (int)whole)) < 0)
        return -1;
    n = (size_t)got;
    if (len % 4 != 0) {
        char last[4] = {'=', '=', '=', '='};
        unsigned char tmp[3];
        memcpy(last, in + whole, len % 4);
        if (EVP_DecodeBlock(tmp, (const unsigned char *)last, 4) != 3)
            return -1;
        memcpy(out + n, tmp, len % 4 - 1); /* 2 chars: 1 byte, 3 chars: 2 bytes */
        n += len % 4 - 1;
    }
    return (long)n;
}

int crypto_key_from_base64(const char *s, unsigned char key[CRYPTO_KEY_LEN])
{
    /* 32 bytes are 44 characters ending in exactly one '='. */
    unsigned char tmp[33];
    size_t len = strlen(s);
    long n;

    if (len != 44 || s[43] != '=' || s[42] == '=')
        return -1;
    crypto_hold_keys();
    n = crypto_b64_decode(s, len, tmp);
    if (n == CRYPTO_KEY_LEN)
        memcpy(key, tmp, CRYPTO_KEY_LEN);
    crypto_wipe(tmp, sizeof tmp);
    return n == CRYPTO_KEY_LEN ? 0 : -1;
}

void crypto_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, n);
}

int crypto_hold_keys(void)
{
    struct rlimit none = {0, 0};
    int rc = 0;

    /* Both, since either alone leaves a way: a core_pattern pipe ignores
     * RLIMIT_CORE, and a setuid-style reset could make us dumpable again. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        rc = -1;
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        rc = -1;
    return rc;
}
