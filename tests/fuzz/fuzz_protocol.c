/*
 * fuzz_protocol.c: the engine's reader of a strategy's stdout (the `@@`
 * machine lines: progress, result, error) as a hostile sandbox would write
 * it, fed in chunks of varying size as a pipe delivers them.
 *
 * The parser is the coordinator's output module (engine/coord/output.c);
 * the harness reaches it through the coordinator's private header and drives
 * a bare deployment with just the fields the parser touches.
 */
#include <stdlib.h>
#include <string.h>

#include "coord_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct coord c;
    static int ready;
    struct ev evs[64];
    struct dep d;
    size_t off = 0, step;

    if (!ready) {
        pthread_mutex_init(&c.lock, NULL);
        if ((c.evq = evq_new(1024)) == NULL)
            abort();
        ready = 1;
    }
    memset(&d, 0, sizeof d);
    d.c = &c;
    /* The first byte picks the chunk size, like reads of a pipe. */
    step = size ? (size_t)data[0] % 64 + 1 : 1;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        coord_output_parse(&d, (const char *)data + off, n);
        coord_output_stderr(&d, (const char *)data + off, n);
        off += n;
        evq_drain(c.evq, evs, sizeof evs / sizeof evs[0]);
    }
    if (d.nresults == 1 && d.pending_result != NULL && !json_is_object(d.pending_result))
        abort();
    if (strlen(d.errmsg) >= sizeof d.errmsg)
        abort();
    coord_output_reset(&d);
    return 0;
}
