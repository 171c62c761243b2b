/*
 * fuzz_cid.c: the CID parser (engine/store/cid.c): CIDs come from users and
 * from IPFS nodes' answers. Whatever it accepts must fit its buffer and
 * format back to a base32 CID that parses to the same bytes; and the CID of
 * the input as bytes must be one that parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), s[CID_STR_MAX];
    uint8_t bin[CID_BIN_MAX], again[CID_BIN_MAX];
    int n;

    memcpy(text, data, size);
    text[size] = '\0';
    n = cid_parse(text, bin);
    if (n > CID_BIN_MAX)
        abort();
    if (n > 0 && (cid_format(bin, (size_t)n, s) != 0 || cid_parse(s, again) != n ||
                  memcmp(bin, again, (size_t)n) != 0))
        abort();
    if (cid_of_buffer(data, size, s) != 0 || cid_parse(s, bin) != 36)
        abort();
    free(text);
    return 0;
}
