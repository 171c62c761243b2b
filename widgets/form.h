/*
 * form.h: a form of typed fields validated as they are typed.
 *
 * Field types: text, integer, number (both with an inclusive range), boolean
 * and choice (one of a list). Every edit re-validates the field and sets its
 * `err` ("must be a whole number in [2, 500]"), which is drawn beside it, so
 * the operator sees a mistake before pressing Enter. Enter (WF_SUBMIT) is
 * only returned when every field is valid; otherwise focus jumps to the
 * first bad field. The form's `error` line is for the owner (for example
 * the engine refusing the request): nothing typed is lost.
 *
 * Keys: Up/Down/Tab/S-Tab move, Left/Right or Space cycle booleans and
 * choices, Backspace edits, Enter submits, Esc cancels. UI thread only.
 */
#ifndef SD_WIDGETS_FORM_H
#define SD_WIDGETS_FORM_H

#include "widget.h"

enum form_type { FT_TEXT, FT_INT, FT_NUM, FT_BOOL, FT_CHOICE };

#define FORM_MAX_FIELDS  48
#define FORM_MAX_CHOICES 32

struct form_field {
    char name[48];  /* key for the owner */
    char label[48]; /* shown */
    int type;
    char buf[160];
    double min, max;
    int required;
    const char *choices[FORM_MAX_CHOICES];
    int nchoices, choice;
    char hint[96]; /* range or help, drawn dim */
    char err[96];  /* "" when valid */
};

struct form {
    char title[64];
    struct form_field f[FORM_MAX_FIELDS];
    int n, cur, top;
    char error[256];
    int changed_field; /* index of the last field changed (after WF_CHANGED) */
};

extern const struct widget_ops form_ops;

void form_init(struct form *fm, const char *title);
/* Add a field; returns its index (or -1 when full). value may be NULL. */
int form_add(struct form *fm, const char *name, const char *label, int type, const char *value,
             double min, double max, const char *hint);
int form_add_choice(struct form *fm, const char *name, const char *label,
                    const char *const *choices, int n, int selected);
/* Drop fields from index i on (to rebuild the tail after a choice changed). */
void form_truncate(struct form *fm, int i);

int form_find(const struct form *fm, const char *name); /* index or -1 */
/* The field's value as text (choice: the chosen string; bool: "true"/"false"). */
const char *form_value(const struct form *fm, int i);
int form_set(struct form *fm, int i, const char *value); /* validates; 0 if valid */

/* Re-validate field i (fills err); returns 0 when valid. */
int form_validate(struct form_field *f);
/* Index of the first invalid field, or -1 when all are valid. */
int form_first_invalid(struct form *fm);

#endif
