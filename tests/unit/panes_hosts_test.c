/*
 * panes_hosts_test.c: the Learning pane of a console on several hosts
 * (tui/panes.h pane_hosts_learning_fill), pure: each host's section under
 * its name from its daemon's snapshot, "not yet" and "nothing learned"
 * sections, the local store's after them, and nothing of one host under
 * another's name. Usage: panes_hosts_test CASE.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "glyph.h"
#include "panes.h"

static int fails;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);                  \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

/* The index of the first line from `from` whose label and text hold want, or -1. */
static long find(const struct textview *tv, size_t from, const char *want)
{
    for (size_t i = from; i < tv->n; i++) {
        char row[512];
        snprintf(row, sizeof row, "%s %s", tv->lines[i].label ? tv->lines[i].label : "",
                 tv->lines[i].text);
        if (strstr(row, want) != NULL)
            return (long)i;
    }
    return -1;
}

static void sections(void)
{
    struct textview tv;
    json_t *a = json_loads("{\"totalTrajectories\": 20, \"succeeded\": 19, \"successRatio\": 0.95,"
                           " \"rewardMean\": 0.584, \"strategies\": [{\"name\": \"momentum\","
                           " \"n\": 20, \"successRatio\": 0.95, \"rewardMean\": 0.584}]}",
                           0, NULL);
    json_t *b = json_loads("{\"totalTrajectories\": 0, \"strategies\": []}", 0, NULL);
    const json_t *snaps[3] = {a, b, NULL};
    const char *names[3] = {"lab-1", "lab-2", "lab-3"};
    long i1, i2, i3, il;

    textview_init(&tv, 0);
    pane_hosts_learning_fill(&tv, snaps, names, 3, NULL, 40, glyph_pick());
    i1 = find(&tv, 0, "lab-1");
    i2 = find(&tv, 0, "lab-2");
    i3 = find(&tv, 0, "lab-3");
    il = find(&tv, 0, "local store");
    CHECK(i1 >= 0 && i1 < i2 && i2 < i3 && i3 < il); /* in order, the local store last */
    CHECK(find(&tv, (size_t)i1, "learned 20, 95% succeeded") == i1 + 1);
    CHECK(find(&tv, (size_t)i1, "reward 0.584") == i1 + 2);
    CHECK(find(&tv, (size_t)i1, "momentum: 20, 95% ok, 0.584") == i1 + 3);
    CHECK(find(&tv, (size_t)i2, "nothing learned yet") == i2 + 1);
    CHECK(find(&tv, (size_t)i2, "momentum") == -1); /* lab-1's strategy is not lab-2's */
    CHECK(find(&tv, (size_t)i3, "no snapshot from its daemon yet") == i3 + 1);
    CHECK(find(&tv, (size_t)il, "computing") > il); /* the local store's own lines follow */
    textview_free(&tv);
    json_decref(a);
    json_decref(b);
}

static void one_host(void)
{
    struct textview tv;
    json_t *local = json_loads("{\"stats\": {\"totalTrajectories\": 0}}", 0, NULL);
    const char *names[1] = {"lab-2"};
    const json_t *snaps[1] = {NULL};

    textview_init(&tv, 0);
    pane_hosts_learning_fill(&tv, snaps, names, 1, local, 40, glyph_pick());
    CHECK(find(&tv, 0, "lab-2") == 0);
    CHECK(find(&tv, 0, "lab-1") == -1);
    CHECK(find(&tv, 0, "nothing learned yet: finished deployments teach") >
          find(&tv, 0, "local store"));
    /* again: a rebuild replaces, never appends */
    pane_hosts_learning_fill(&tv, snaps, names, 1, local, 40, glyph_pick());
    CHECK(find(&tv, 1, "lab-2") == -1);
    textview_free(&tv);
    json_decref(local);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    if (strcmp(argv[1], "sections") == 0)
        sections();
    else if (strcmp(argv[1], "one_host") == 0)
        one_host();
    else
        return 2;
    if (fails == 0)
        printf("PASS %s\n", argv[1]);
    return fails ? 1 : 0;
}
