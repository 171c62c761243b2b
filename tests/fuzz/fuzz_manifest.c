/*
 * fuzz_manifest.c: the strategy manifest parser (engine/catalog/catalog.c) on
 * hostile JSON: a manifest is user input (`strategies add`) and is stored,
 * then parsed again at every start. An accepted definition is then used to
 * validate the manifest's own "example" parameters.
 *
 * Includes catalog.c to reach the static parser, as fuzz_protocol.c does.
 */
#include "../../engine/catalog/catalog.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct strategy_def d;
    struct sd_err err = {0};
    json_error_t je;
    json_t *m = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je), *v;

    if (m == NULL)
        return 0;
    memset(&d, 0, sizeof d);
    if (json_is_object(m) && def_from_manifest(m, &d, &err) == 0) {
        json_t *p = json_object_get(m, "example");
        json_t *params = json_is_object(p) ? json_deep_copy(p) : json_object();
        v = catalog_validate(&d, params, &err);
        json_decref(v);
        json_decref(params);
        json_decref(catalog_schema_json(&d));
        def_clear(&d);
    } else if (json_is_object(m) && err.msg[0] == '\0') {
        abort();
    }
    json_decref(m);
    return 0;
}
