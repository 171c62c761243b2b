/*
 * ipfs.h: an export bundle to and from an IPFS node through its HTTP RPC
 * (/api/v0, as Kubo and js-ipfs serve it; docs/ipfs.md).
 *
 * The node is never trusted: what it answers is compared with the CID
 * computed here (cid.h). An added bundle must come back with the same CID
 * (else the export fails loudly: the node chunks differently), and a
 * fetched bundle must hash to the CID asked for before anything reads it.
 *
 * api is the node's RPC address, http://HOST:PORT (a trailing "/" or
 * "/api/v0" is accepted). Error messages never repeat it (it may carry
 * credentials).
 */
#ifndef SD_CLI_IPFS_H
#define SD_CLI_IPFS_H

#include <stddef.h>
#include <stdint.h>

#include "cid.h"
#include "util.h"

#define IPFS_MAX_FETCH ((uint64_t)2 << 30) /* the largest bundle import fetches: 2 GiB */

/* Add buf (n bytes, named name in the upload) with cid-version=1,
 * raw-leaves, the default chunker, pin it, and check that the node's CID
 * for it and for the pin equal cid (the local one, base32) and its "Size"
 * (a string from Kubo, a number from js-ipfs) equals tsize (cid_final's).
 * Returns 0, or -1 with err (SD_EENV: the node cannot be reached or
 * refused; SD_EFAIL: the node's CID or size differs). */
int ipfs_add_pin(const char *api, const void *buf, size_t n, const char *name, const char *cid,
                 uint64_t tsize, struct sd_err *err);

/* Fetch cid (any form cid_parse reads) with /api/v0/cat, the node giving
 * up after timeout_s seconds (its `timeout` option: a block no peer has
 * would be waited for forever), into an unlinked
 * temporary file (0600) and check that its CID is cid. Returns the file
 * descriptor (the caller closes it), positioned at the start, or -1 with err
 * (SD_EUSAGE: cid is not a CID; SD_EENV: the node failed or the bundle is
 * larger than IPFS_MAX_FETCH; SD_EFAIL: the bytes do not have that CID). */
int ipfs_cat_verified(const char *api, const char *cid, long timeout_s, struct sd_err *err);

#endif
