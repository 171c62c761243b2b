/*
 * fuzz_protocol.c: the engine's reader of a strategy's stdout (the `@@`
 * machine lines: progress, result, error) as a hostile sandbox would write
 * it, fed in chunks of varying size as a pipe delivers them.
 *
 * The parser is static in engine/coord/coord.c, so the harness includes that file
 * and drives parse_stdout directly (the library's copy of coord.o is then
 * not linked in). No change to coord.c is needed to fuzz it.
 */
#include "../../engine/coord/coord.c"

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
        parse_stdout(&d, (const char *)data + off, n);
        note_stderr(&d, (const char *)data + off, n);
        off += n;
        evq_drain(c.evq, evs, sizeof evs / sizeof evs[0]);
    }
    if (d.nresults == 1 && d.pending_result != NULL && !json_is_object(d.pending_result))
        abort();
    if (strlen(d.errmsg) >= sizeof d.errmsg)
        abort();
    free(d.line);
    json_decref(d.pending_result);
    return 0;
}
