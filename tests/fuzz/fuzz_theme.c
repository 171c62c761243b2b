/*
 * fuzz_theme.c: the theme parser (tui/theme.c): theme files are user files.
 * A refused file must leave the theme unchanged (its contract).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct theme t, before;
    char err[256];
    char *text = malloc(size + 1);

    memcpy(text, data, size);
    text[size] = '\0';
    theme_default(&t);
    before = t;
    if (theme_parse(text, &t, err, sizeof err) != 0 &&
        (memcmp(&t, &before, sizeof t) != 0 || err[0] == '\0'))
        abort();
    free(text);
    return 0;
}
