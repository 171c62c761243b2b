/*
 * crypto_test.c: engine/base/crypto.c against published known-answer vectors
 * (FIPS 202 SHA3-512, the GCM specification's AES-256 test cases 13-16,
 * RFC 7914 scrypt) and the box layout's tamper checks.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto.h"

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = strlen(h) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

static int eqhex(const unsigned char *b, size_t n, const char *h)
{
    char buf[1024];
    crypto_hex(b, n, buf);
    return strcmp(buf, h) == 0;
}

static void test_sha3(void)
{
    unsigned char d[64];
    struct crypto_hash *h;

    CHECK(crypto_sha3_512("", 0, d) == 0);
    CHECK(eqhex(d, 64,
                "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c"
                "11e3e9402c3ac558f500199d95b6d3e301758586281dcd26"));
    CHECK(crypto_sha3_512("abc", 3, d) == 0);
    CHECK(eqhex(d, 64,
                "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c9"
                "1a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"));
    /* The incremental interface gives the same digest in pieces. */
    h = crypto_hash_new();
    CHECK(h != NULL);
    CHECK(crypto_hash_update(h, "a", 1) == 0 && crypto_hash_update(h, "", 0) == 0 &&
          crypto_hash_update(h, "bc", 2) == 0);
    CHECK(crypto_hash_final(h, d) == 0);
    CHECK(eqhex(d, 64,
                "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c9"
                "1a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"));
}

static void test_gcm(void)
{
    unsigned char key[32], iv[12], pt[64], aad[20], ct[64], tag[16], back[64];
    size_t pn, an;

    /* Test case 13: zero key, zero IV, nothing to encrypt. */
    memset(key, 0, sizeof key);
    memset(iv, 0, sizeof iv);
    CHECK(crypto_gcm_encrypt(key, iv, 12, NULL, 0, NULL, 0, ct, tag) == 0);
    CHECK(eqhex(tag, 16, "530f8afbc74536b9a963b4f1c4cb738b"));
    /* Test case 14: one zero block. */
    memset(pt, 0, 16);
    CHECK(crypto_gcm_encrypt(key, iv, 12, NULL, 0, pt, 16, ct, tag) == 0);
    CHECK(eqhex(ct, 16, "cea7403d4d606b6e074ec5d3baf39d18"));
    CHECK(eqhex(tag, 16, "d0d1c8a799996bf0265b98b5d48ab919"));
    /* Test case 16: 60 bytes with 20 bytes of associated data. */
    unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key);
    unhex("cafebabefacedbaddecaf888", iv);
    pn = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532"
               "fcf0e2449a6b525b16aedf5aa0de657ba637b39",
               pt);
    an = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad);
    CHECK(pn == 60 && an == 20);
    CHECK(crypto_gcm_encrypt(key, iv, 12, aad, an, pt, pn, ct, tag) == 0);
    CHECK(eqhex(ct, pn,
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3d"
                "a7b08b1056828838c5f61e6393ba7a0abcc9f662"));
    CHECK(eqhex(tag, 16, "76fc6ece0f4e1768cddf8853bb2d551b"));
    CHECK(crypto_gcm_decrypt(key, iv, 12, aad, an, ct, pn, tag, back) == 0);
    CHECK(memcmp(back, pt, pn) == 0);
    /* Any changed bit of ciphertext, tag or associated data is refused. */
    ct[7] ^= 1;
    CHECK(crypto_gcm_decrypt(key, iv, 12, aad, an, ct, pn, tag, back) == -1);
    ct[7] ^= 1;
    aad[0] ^= 0x80;
    CHECK(crypto_gcm_decrypt(key, iv, 12, aad, an, ct, pn, tag, back) == -1);
    aad[0] ^= 0x80;
    tag[15] ^= 1;
    CHECK(crypto_gcm_decrypt(key, iv, 12, aad, an, ct, pn, tag, back) == -1);
}

static void test_scrypt(void)
{
    unsigned char out[64];

    CHECK(crypto_scrypt("", 0, "", 0, 4, 1, 1, out, 64) == 0);
    CHECK(eqhex(out, 64,
                "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8"
                "326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"));
    CHECK(crypto_scrypt("password", 8, "NaCl", 4, 10, 8, 16, out, 64) == 0);
    CHECK(eqhex(out, 64,
                "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a388"
                "6ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"));
    CHECK(crypto_scrypt("x", 1, "y", 1, 0, 8, 1, out, 32) == -1);
}

static void test_box(void)
{
    unsigned char key[32], other[32], box[64 + CRYPTO_BOX_OVER], box2[sizeof box], out[64];
    const char *msg = "{\"lookback\":20,\"secret\":\"x\"}";
    size_t n = strlen(msg);

    CHECK(crypto_random(key, 32) == 0);
    memcpy(other, key, 32);
    other[0] ^= 1;
    CHECK(crypto_box_seal(key, 1, "params/u1", 9, msg, n, box) == 0);
    CHECK(crypto_is_box(box, n + CRYPTO_BOX_OVER));
    CHECK(memmem(box, n + CRYPTO_BOX_OVER, "lookback", 8) == NULL);
    CHECK(crypto_box_open(key, "params/u1", 9, box, n + CRYPTO_BOX_OVER, out) == 1);
    CHECK(memcmp(out, msg, n) == 0);
    /* Fresh nonce per value: the same plaintext seals differently. */
    CHECK(crypto_box_seal(key, 1, "params/u1", 9, msg, n, box2) == 0);
    CHECK(memcmp(box, box2, n + CRYPTO_BOX_OVER) != 0);
    /* Wrong key, other record, changed kind, truncation: all refused. */
    CHECK(crypto_box_open(other, "params/u1", 9, box, n + CRYPTO_BOX_OVER, out) == -1);
    CHECK(crypto_box_open(key, "params/u2", 9, box, n + CRYPTO_BOX_OVER, out) == -1);
    box[1] = 2;
    CHECK(crypto_box_open(key, "params/u1", 9, box, n + CRYPTO_BOX_OVER, out) == -1);
    box[1] = 1;
    CHECK(crypto_box_open(key, "params/u1", 9, box, n + CRYPTO_BOX_OVER - 1, out) == -1);
    CHECK(crypto_box_open(key, "params/u1", 9, box, 5, out) == -1);
    /* An empty value round-trips too. */
    CHECK(crypto_box_seal(key, 2, NULL, 0, "", 0, box) == 0);
    CHECK(crypto_box_open(key, NULL, 0, box, CRYPTO_BOX_OVER, out) == 2);
}

static void test_base64_key(void)
{
    unsigned char key[32];

    CHECK(crypto_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", key) == 0);
    for (int i = 0; i < 32; i++)
        CHECK(key[i] == i);
    CHECK(crypto_key_from_base64("correct horse battery staple", key) == -1);
    CHECK(crypto_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", key) == -1);
    CHECK(crypto_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", key) == -1);
    CHECK(crypto_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd h8=", key) == -1);
}

int main(void)
{
    test_sha3();
    test_gcm();
    test_scrypt();
    test_box();
    test_base64_key();
    printf("crypto: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
