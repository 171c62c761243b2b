/*
 * cid.h: the IPFS content identifier of a byte stream (an export bundle),
 * computed locally exactly as `ipfs add --cid-version=1 --raw-leaves` does
 * with the default chunker (size-262144) and the balanced layout
 * (docs/ipfs.md).
 *
 * DESIGN
 * The bytes are cut into chunks of CID_CHUNK bytes (the last one shorter);
 * each chunk is a raw block (CIDv1, codec raw 0x55, sha2-256). A stream of
 * one chunk (the empty stream is one empty chunk) is that raw block. More
 * chunks are grouped, CID_MAX_LINKS at a time, into dag-pb nodes (codec
 * 0x70): PBLinks {Hash = the child's CID bytes, Name = "", Tsize = the
 * child's total size} followed by Data = UnixFS {Type = File, filesize,
 * blocksizes = each child's file bytes}; the nodes are grouped again the
 * same way until one is left, the root. The text form is multibase base32
 * lower case ("b..."), as the node prints it with cid-base=base32.
 *
 * cid_parse reads what an IPFS node or a user may write: CIDv1 in base32
 * ("b..." or "B...") or base58btc ("z..."), and CIDv0 ("Qm..."), so the
 * identifiers a node answers in any of its bases compare as bytes.
 *
 * THREADS: a cid_hasher is used by one thread at a time; the rest is pure.
 */
#ifndef SD_CID_H
#define SD_CID_H

#include <stddef.h>
#include <stdint.h>

#define CID_CHUNK     262144 /* the default chunker: size-262144 */
#define CID_MAX_LINKS 174    /* links per dag-pb node in the balanced layout */
#define CID_BIN_MAX   64     /* room for any CID cid_parse accepts */
#define CID_STR_MAX   112    /* room for a CID in base32 with its 'b' and a NUL */

struct cid_hasher;

/* A hasher cutting chunks of chunk bytes (0: CID_CHUNK; a test gives others
 * to compare with `ipfs add --chunker=size-N`). The caller frees it with
 * cid_free. NULL when out of memory. */
struct cid_hasher *cid_new(size_t chunk);

/* Feed n bytes. Returns 0, or -1 when out of memory (the hasher is then
 * unusable: free it). */
int cid_update(struct cid_hasher *h, const void *buf, size_t n);

/* The CID of everything fed, in base32 into out (NUL-terminated), its
 * binary form into bin/binlen when bin is not NULL (CID_BIN_MAX bytes), and
 * the root's total size (the node's "Size": blocks and dag-pb nodes) into
 * *tsize when not NULL. Call once; then only cid_free. Returns 0, or -1
 * when out of memory. */
int cid_final(struct cid_hasher *h, char out[CID_STR_MAX], uint8_t *bin, size_t *binlen,
              uint64_t *tsize);

void cid_free(struct cid_hasher *h);

/* cid_new(0), cid_update, cid_final over one buffer. Returns 0 or -1. */
int cid_of_buffer(const void *buf, size_t n, char out[CID_STR_MAX]);

/* Parse s (see DESIGN) into bin (CID_BIN_MAX bytes) as CIDv1 bytes: a
 * CIDv0 becomes its CIDv1 (dag-pb) equivalent. Returns the length, or -1
 * when s is not a CID this module reads (the caller says so). */
int cid_parse(const char *s, uint8_t bin[CID_BIN_MAX]);

/* bin (len bytes of CIDv1) as "b" + base32 lower into out. Returns 0, or
 * -1 when it does not fit. */
int cid_format(const uint8_t *bin, size_t len, char out[CID_STR_MAX]);

#endif
