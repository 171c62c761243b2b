/*
 * prefs.c: the console's preferences and their defaults (prefs.h).
 */
#include <string.h>

#include "prefs.h"

struct console_prefs console_prefs = {
    .show_protocol = 0,
    .confirm_agents = 50,
    .confirm_paid = 1,
    .kill_on_k = 0,
};

int prefs_paid_provider(const char *provider)
{
    return provider != NULL && strncmp(provider, "e2b", 3) == 0;
}

int prefs_map_key(int key)
{
    for (int i = 0; i < console_prefs.nbinds; i++)
        if (console_prefs.bind_from[i] == key)
            return console_prefs.bind_to[i];
    return key;
}
