/*
 * cid.c: IPFS content identifiers of a byte stream (cid.h).
 *
 * Only the two protobuf messages a file needs are written here (dag-pb's
 * PBNode/PBLink and UnixFS's Data), in the canonical order the IPFS
 * implementations write them: a node's Links (field 2) before its Data
 * (field 1), a link's Hash, Name (always present, "" here) and Tsize, and
 * UnixFS's Type, filesize and one unpacked blocksizes entry per child.
 */
#define _GNU_SOURCE
#include "cid.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define CODEC_RAW    0x55
#define CODEC_DAG_PB 0x70
#define MH_SHA2_256  0x12
#define CID_V1_LEN   36 /* version, codec, hash code, length: one byte each; 32 digest */

/* One block of the DAG: a raw leaf or a dag-pb node. */
struct cid_node {
    uint8_t cid[CID_V1_LEN];
    uint64_t tsize; /* the block's bytes plus its children's tsize */
    uint64_t fsize; /* the file bytes below it */
};

struct cid_hasher {
    size_t chunk;
    EVP_MD_CTX *md; /* the chunk being hashed */
    size_t in_chunk;
    struct cid_node *leaves;
    size_t n, cap;
    int failed;
};

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static void cid_make(uint8_t out[CID_V1_LEN], int codec, const uint8_t digest[32])
{
    out[0] = 1;
    out[1] = (uint8_t)codec;
    out[2] = MH_SHA2_256;
    out[3] = 32;
    memcpy(out + 4, digest, 32);
}

struct cid_hasher *cid_new(size_t chunk)
{
    struct cid_hasher *h = calloc(1, sizeof *h);

    if (h == NULL)
        return NULL;
    h->chunk = chunk ? chunk : CID_CHUNK;
    if ((h->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
        cid_free(h);
        return NULL;
    }
    return h;
}

void cid_free(struct cid_hasher *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->md);
    free(h->leaves);
    free(h);
}

/* Close the chunk being hashed as a raw leaf. Returns 0 or -1 (memory). */
static int leaf_close(struct cid_hasher *h)
{
    uint8_t d[32];
    unsigned dl = 0;

    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct cid_node *v = realloc(h->leaves, cap * sizeof *v);
        if (v == NULL)
            return -1;
        h->leaves = v;
        h->cap = cap;
    }
    if (EVP_DigestFinal_ex(h->md, d, &dl) != 1 || dl != 32 ||
        EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
        return -1;
    cid_make(h->leaves[h->n].cid, CODEC_RAW, d);
    h->leaves[h->n].tsize = h->leaves[h->n].fsize = h->in_chunk;
    h->n++;
    h->in_chunk = 0;
    return 0;
}

int cid_update(struct cid_hasher *h, const void *buf, size_t n)
{
    const uint8_t *p = buf;

    if (h->failed)
        return -1;
    while (n > 0) {
        size_t take = h->chunk - h->in_chunk;
        if (take > n)
            take = n;
        if (EVP_DigestUpdate(h->md, p, take) != 1) {
            h->failed = 1;
            return -1;
        }
        h->in_chunk += take;
        p += take;
        n -= take;
        if (h->in_chunk == h->chunk && leaf_close(h) != 0) {
            h->failed = 1;
            return -1;
        }
    }
    return 0;
}

/* Append v as a protobuf varint at buf+*off. */
static void put_varint(uint8_t *buf, size_t *off, uint64_t v)
{
    while (v >= 0x80) {
        buf[(*off)++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[(*off)++] = (uint8_t)v;
}

/* The dag-pb node over kids[0..n) into *out (its CID, tsize, fsize).
 * Returns 0 or -1 (memory). */
static int node_make(const struct cid_node *kids, size_t n, struct cid_node *out)
{
    /* Per link at most: 2 + 36 (Hash) + 2 (Name) + 11 (Tsize) inside,
     * 1 + 2 framing; per blocksize 11; Data framing and header 32. */
    size_t cap = n * (2 + CID_V1_LEN + 2 + 11 + 3) + n * 11 + 32 + 16;
    uint8_t *buf = malloc(cap), *data = malloc(n * 11 + 32), d[32];
    size_t off = 0, dl = 0;
    uint64_t fsize = 0, tsize = 0;
    unsigned mdl = 0;
    int rc = -1;

    if (buf == NULL || data == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint8_t link[2 + CID_V1_LEN + 2 + 11];
        size_t ll = 0;
        link[ll++] = 0x0a; /* Hash, field 1, bytes */
        link[ll++] = CID_V1_LEN;
        memcpy(link + ll, kids[i].cid, CID_V1_LEN);
        ll += CID_V1_LEN;
        link[ll++] = 0x12; /* Name, field 2: "" */
        link[ll++] = 0;
        link[ll++] = 0x18; /* Tsize, field 3, varint */
        put_varint(link, &ll, kids[i].tsize);
        buf[off++] = 0x12; /* PBNode.Links, field 2 */
        put_varint(buf, &off, ll);
        memcpy(buf + off, link, ll);
        off += ll;
        fsize += kids[i].fsize;
        tsize += kids[i].tsize;
    }
    data[dl++] = 0x08; /* Type, field 1: File */
    data[dl++] = 2;
    data[dl++] = 0x18; /* filesize, field 3 */
    put_varint(data, &dl, fsize);
    for (size_t i = 0; i < n; i++) {
        data[dl++] = 0x20; /* blocksizes, field 4, one per child */
        put_varint(data, &dl, kids[i].fsize);
    }
    buf[off++] = 0x0a; /* PBNode.Data, field 1 */
    put_varint(buf, &off, dl);
    memcpy(buf + off, data, dl);
    off += dl;
    if (EVP_Digest(buf, off, d, &mdl, EVP_sha256(), NULL) != 1 || mdl != 32)
        goto out;
    cid_make(out->cid, CODEC_DAG_PB, d);
    out->tsize = tsize + off;
    out->fsize = fsize;
    rc = 0;
out:
    free(buf);
    free(data);
    return rc;
}

int cid_final(struct cid_hasher *h, char out[CID_STR_MAX], uint8_t *bin, size_t *binlen,
              uint64_t *tsize)
{
    struct cid_node root;

    if (h->failed)
        return -1;
    /* The last, shorter chunk; the empty stream is one empty chunk. */
    if ((h->in_chunk > 0 || h->n == 0) && leaf_close(h) != 0)
        return -1;
    h->failed = 1; /* once */
    if (h->n == 1) {
        root = h->leaves[0];
    } else {
        /* Balanced: group CID_MAX_LINKS at a time, level by level, in
         * place (level i+1 is never longer than level i). */
        size_t n = h->n;
        while (n > 1) {
            size_t m = 0;
            for (size_t i = 0; i < n; i += CID_MAX_LINKS) {
                size_t k = n - i < CID_MAX_LINKS ? n - i : CID_MAX_LINKS;
                struct cid_node up;
                if (node_make(h->leaves + i, k, &up) != 0)
                    return -1;
                h->leaves[m++] = up;
            }
            n = m;
        }
        root = h->leaves[0];
    }
    if (bin != NULL) {
        memcpy(bin, root.cid, CID_V1_LEN);
        *binlen = CID_V1_LEN;
    }
    if (tsize != NULL)
        *tsize = root.tsize;
    return cid_format(root.cid, CID_V1_LEN, out);
}

int cid_of_buffer(const void *buf, size_t n, char out[CID_STR_MAX])
{
    struct cid_hasher *h = cid_new(0);
    int rc = h != NULL && cid_update(h, buf, n) == 0 ? cid_final(h, out, NULL, NULL, NULL) : -1;

    cid_free(h);
    return rc;
}

int cid_format(const uint8_t *bin, size_t len, char out[CID_STR_MAX])
{
    size_t o = 0;
    unsigned acc = 0, bits = 0;

    if (1 + (len * 8 + 4) / 5 + 1 > CID_STR_MAX)
        return -1;
    out[o++] = 'b';
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | bin[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    return 0;
}

/* RFC 4648 base32 without padding, either case. Returns the length or -1. */
static int base32_decode(const char *s, uint8_t *bin, size_t cap)
{
    unsigned acc = 0, bits = 0;
    size_t o = 0;

    for (; *s; s++) {
        int c = *s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s;
        const char *p = c ? strchr(b32, c) : NULL;
        if (p == NULL)
            return -1;
        acc = (acc << 5) | (unsigned)(p - b32);
        bits += 5;
        if (bits >= 8) {
            if (o == cap)
                return -1;
            bin[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
        acc &= (1u << bits) - 1;
    }
    return acc == 0 && bits < 5 ? (int)o : -1; /* no stray set bits */
}

/* Bitcoin's base58 alphabet. Returns the length or -1. */
static int base58_decode(const char *s, uint8_t *bin, size_t cap)
{
    uint8_t tmp[CID_BIN_MAX * 2];
    size_t len = 0, zeros = 0, n = strlen(s);

    if (n == 0 || n > sizeof tmp)
        return -1;
    while (s[zeros] == '1')
        zeros++;
    for (size_t i = 0; i < n; i++) {
        const char *p = s[i] ? strchr(b58, s[i]) : NULL;
        unsigned carry;
        if (p == NULL)
            return -1;
        carry = (unsigned)(p - b58);
        for (size_t j = 0; j < len; j++) { /* tmp little-endian *= 58, += digit */
            carry += tmp[j] * 58u;
            tmp[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry > 0) {
            if (len == sizeof tmp)
                return -1;
            tmp[len++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    if (zeros + len > cap)
        return -1;
    memset(bin, 0, zeros);
    for (size_t j = 0; j < len; j++)
        bin[zeros + j] = tmp[len - 1 - j];
    return (int)(zeros + len);
}

/* A varint at bin[*off..len). Returns 0 or -1. */
static int get_varint(const uint8_t *bin, size_t len, size_t *off, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 63 && *off < len; shift += 7) {
        uint8_t b = bin[(*off)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

int cid_parse(const char *s, uint8_t bin[CID_BIN_MAX])
{
    uint64_t version, codec, mh, mlen;
    size_t off = 0;
    int n;

    if (s == NULL)
        return -1;
    if (strlen(s) == 46 && s[0] == 'Q' && s[1] == 'm') {
        /* CIDv0: a bare sha2-256 multihash of a dag-pb block. */
        uint8_t mhb[CID_BIN_MAX];
        if (base58_decode(s, mhb, sizeof mhb) != 34 || mhb[0] != MH_SHA2_256 || mhb[1] != 32)
            return -1;
        bin[0] = 1;
        bin[1] = CODEC_DAG_PB;
        memcpy(bin + 2, mhb, 34);
        return 36;
    }
    if (s[0] == 'b' || s[0] == 'B')
        n = base32_decode(s + 1, bin, CID_BIN_MAX);
    else if (s[0] == 'z')
        n = base58_decode(s + 1, bin, CID_BIN_MAX);
    else
        return -1;
    if (n < 0)
        return -1;
    if (get_varint(bin, (size_t)n, &off, &version) != 0 || version != 1 ||
        get_varint(bin, (size_t)n, &off, &codec) != 0 ||
        get_varint(bin, (size_t)n, &off, &mh) != 0 ||
        get_varint(bin, (size_t)n, &off, &mlen) != 0 || mlen == 0 || off + mlen != (size_t)n)
        return -1;
    return n;
}
