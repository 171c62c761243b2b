/*
 * protocol.c: writing protocol lines (see protocol.h). One place decides how JSON is
 * formatted, so every line of every subcommand looks the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol.h"

void protocol_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static void print_json(const char *tag, json_t *obj)
{
    char *text = json_dumps(obj, PROTOCOL_JSON_FLAGS);

    if (tag != NULL)
        printf("@@%s %s\n", tag, text != NULL ? text : "{}");
    else
        printf("%s\n", text != NULL ? text : "{}");
    free(text);
    json_decref(obj);
}

void protocol_emit(const char *tag, json_t *obj)
{
    print_json(tag, obj);
}

void protocol_print(json_t *obj)
{
    print_json(NULL, obj);
}

json_t *protocol_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

int protocol_fail(const struct err *e)
{
    protocol_emit("error", json_pack("{s:s}", "message", e->msg));
    fflush(stdout);
    fprintf(stderr, "swarmdeck-runner: %s\n", e->msg);
    return e->code;
}
