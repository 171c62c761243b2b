/*
 * crypto.h: the few cryptographic primitives swarmdeck uses, all through
 * OpenSSL's EVP interface (docs/security.md).
 *
 * - SHA3-512 (FIPS 202) for the trajectory fingerprint chain and bundle
 *   digests.
 * - AES-256-GCM for values encrypted at rest: a fresh random 96-bit nonce per
 *   value, a 128-bit tag, and associated data naming the record the value
 *   belongs to, so a value moved to another record or column fails to open.
 * - scrypt (RFC 7914) to stretch a passphrase into a 256-bit key.
 *
 * A sealed value ("box") is laid out as
 *     version (1 byte, 1) | kind (1 byte) | nonce (12) | ciphertext | tag (16)
 * and the two header bytes are authenticated with the associated data.
 *
 * Thread safety: every function may be called from any thread. Nothing here
 * keeps state; keys are the caller's and should be wiped with
 * crypto_wipe when done.
 */
#ifndef SD_CRYPTO_H
#define SD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define CRYPTO_KEY_LEN     32
#define CRYPTO_SHA3_LEN    64
#define CRYPTO_NONCE_LEN   12
#define CRYPTO_TAG_LEN     16
#define CRYPTO_BOX_VERSION 1
#define CRYPTO_BOX_HDR     (2 + CRYPTO_NONCE_LEN)
#define CRYPTO_BOX_OVER    (CRYPTO_BOX_HDR + CRYPTO_TAG_LEN) /* box = plaintext + this */

/* SHA3-512 of data into out. Returns 0, or -1 if OpenSSL fails (out of
 * memory). */
int crypto_sha3_512(const void *data, size_t len, unsigned char out[CRYPTO_SHA3_LEN]);

/* Incremental SHA3-512. crypto_hash_new returns NULL when out of memory;
 * crypto_hash_final writes the digest and frees h (even on failure, -1);
 * crypto_hash_free frees an unfinished one and accepts NULL. */
struct crypto_hash;
struct crypto_hash *crypto_hash_new(void);
int crypto_hash_update(struct crypto_hash *h, const void *data, size_t len);
int crypto_hash_final(struct crypto_hash *h, unsigned char out[CRYPTO_SHA3_LEN]);
void crypto_hash_free(struct crypto_hash *h);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void crypto_hex(const unsigned char *in, size_t n, char *out);

/* AES-256-GCM with an explicit nonce (for known-answer tests and the box
 * functions). ct gets ptlen bytes, tag 16. Returns 0 or -1. */
int crypto_gcm_encrypt(const unsigned char key[CRYPTO_KEY_LEN], const unsigned char *nonce,
                       size_t nonce_len, const void *aad, size_t aad_len, const void *pt,
                       size_t pt_len, unsigned char *ct, unsigned char tag[CRYPTO_TAG_LEN]);
/* Returns 0 and pt (ct_len bytes) when the tag verifies, else -1 (pt is then
 * wiped). */
int crypto_gcm_decrypt(const unsigned char key[CRYPTO_KEY_LEN], const unsigned char *nonce,
                       size_t nonce_len, const void *aad, size_t aad_len, const void *ct,
                       size_t ct_len, const unsigned char tag[CRYPTO_TAG_LEN], unsigned char *pt);

/* Seal len bytes into out (len + CRYPTO_BOX_OVER bytes) with a fresh random
 * nonce; kind (0-255) is stored in the header and authenticated. Returns 0,
 * or -1 if randomness or OpenSSL failed. */
int crypto_box_seal(const unsigned char key[CRYPTO_KEY_LEN], int kind, const void *aad,
                    size_t aad_len, const void *pt, size_t len, unsigned char *out);
/* Open a box of box_len bytes into out (box_len - CRYPTO_BOX_OVER bytes).
 * Returns the kind (>= 0), or -1 when the box is malformed, was made with
 * another key or associated data, or was changed. */
int crypto_box_open(const unsigned char key[CRYPTO_KEY_LEN], const void *aad, size_t aad_len,
                    const unsigned char *box, size_t box_len, unsigned char *out);
/* 1 when data looks like a box (version byte and minimum length), else 0. */
int crypto_is_box(const void *data, size_t len);

/* scrypt (RFC 7914): derive out_len bytes. N = 2^log2n. Returns 0 or -1. */
int crypto_scrypt(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
                  unsigned log2n, unsigned r, unsigned p, unsigned char *out, size_t out_len);

/* Cryptographically random bytes. Returns 0 or -1. */
int crypto_random(void *buf, size_t n);

/* Decode standard base64 (RFC 4648 section 4; padding optional, no
 * whitespace) of len characters into out, which needs 3 * ((len + 3) / 4)
 * bytes. Returns the decoded length, or -1 for a character outside the
 * alphabet, misplaced or wrong padding, or an impossible length. The one
 * base64 decoder of the engine (bundles, the chain, E2B process output). */
long crypto_b64_decode(const char *in, size_t len, unsigned char *out);

/* Decode standard base64 (with padding, no whitespace) of exactly
 * CRYPTO_KEY_LEN bytes into key. Returns 0, or -1 if s is anything else. */
int crypto_key_from_base64(const char *s, unsigned char key[CRYPTO_KEY_LEN]);

/* Wipe memory in a way the compiler does not remove (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t n);

/* This process is about to hold key material (a passphrase, a derived or
 * decoded AES key, an API key): make sure no core dump can carry it. Sets the
 * process not dumpable (prctl PR_SET_DUMPABLE 0: no core file, and no
 * ptrace or /proc/PID/mem read by another process of the same user) and
 * RLIMIT_CORE to 0, soft and hard. It stays so for the rest of the process:
 * a freed buffer or a stdio copy may still hold the secret after the key is
 * wiped. Called by crypto_scrypt and crypto_key_from_base64 themselves, and
 * by whoever reads a secret before handing it to them. Idempotent. Returns
 * 0, or -1 (errno set) if either call failed; the other is still made.
 * Any thread. */
int crypto_hold_keys(void);

#endif
