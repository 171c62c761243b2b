/*
 * cmd_list.c: `swarmdeck-runner list`, the strategies and their parameter schemas as JSON,
 * straight from the strategy table (strategy.c), for the console's deploy form and learning.
 */
#include "protocol.h"
#include "runner.h"
#include "strategy.h"

static int list_exec(const struct args *a, struct err *e)
{
    protocol_print(strategy_list_json());
    return 0;
}

const struct cmd_entry cmd_list_entry = {
    .name = "list",
    .usage = "",
    .summary = "print {\"strategies\":[{name, description, params:[{name, type, default, min, "
               "max, description}]}]}",
    .exec = list_exec,
};
