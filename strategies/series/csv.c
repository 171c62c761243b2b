/*
 * csv.c: the strict CSV reader (format and error policy in csv.h).
 *
 * Parsing works on one heap copy of the file. Lines are cut in place; fields are cut in place
 * by replacing commas with NULs, so no per-field allocation. Output arrays are sized from a
 * count of newlines up front, so rows are appended without reallocating. One cleanup label.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"

#define CSV_MAX_FIELDS 256

const char *csv_basename(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? slash + 1 : path;
}

void csv_free(struct csv_table *t)
{
    size_t i;

    if (t == NULL)
        return;
    free(t->date);
    free(t->line);
    for (i = 0; i < CSV_MAX_COLS; i++)
        free(t->col[i]);
    memset(t, 0, sizeof *t);
}

/* Read the whole file into a NUL-terminated heap buffer. */
static char *read_file(const char *path, size_t *len, struct err *e)
{
    FILE *f;
    char *buf = NULL, *nbuf;
    size_t cap = 0, used = 0, got;

    if ((f = fopen(path, "rb")) == NULL) {
        err_set(e, EXIT_DATA, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - used < 65536) {
            cap = cap == 0 ? 262144 : cap * 2;
            if ((nbuf = realloc(buf, cap + 1)) == NULL) {
                err_set(e, EXIT_DATA, "%s: out of memory", csv_basename(path));
                goto fail;
            }
            buf = nbuf;
        }
        got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        err_set(e, EXIT_DATA, "cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    buf[used] = '\0';
    *len = used;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

/* Case-insensitive substring search (strcasestr is not in C11/POSIX). */
static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != '\0'; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    }
    return 0;
}

/* Split a line into fields in place. Returns the field count, or -1 if there are too many. */
static int split_fields(char *line, char **fields)
{
    int n = 0;
    char *p = line;

    for (;;) {
        if (n == CSV_MAX_FIELDS)
            return -1;
        fields[n++] = p;
        if ((p = strchr(p, ',')) == NULL)
            break;
        *p++ = '\0';
    }
    return n;
}

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

/* Check a YYYY-MM-DD date, including the day of month. Returns NULL or the problem. */
static const char *check_date(const char *s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int i, y, m, d, leap;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return "is not a YYYY-MM-DD date";
    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return "is not a YYYY-MM-DD date";
    }
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (m < 1 || m > 12)
        return "has a month outside 01..12";
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return "has a day that does not exist in its month";
    return NULL;
}

/*
 * Parse a whole field as a finite number. Only the characters of a decimal number are
 * accepted, which rules out strtod's "nan", "inf" and hex forms up front.
 */
static const char *parse_number(const char *s, double *out)
{
    char *end;

    if (*s == '\0')
        return "is empty";
    if (strspn(s, "0123456789+-.eE") != strlen(s))
        return "is not a number";
    errno = 0;
    *out = strtod(s, &end);
    if (end == s || *end != '\0')
        return "is not a number";
    if (!isfinite(*out) || errno == ERANGE)
        return "is not a finite number";
    return NULL;
}

int csv_load(const char *path, const struct csv_column *cols, size_t ncols, struct csv_table *t,
             struct err *e)
{
    const char *name = csv_basename(path);
    char *buf = NULL, *p, *line, *nl, *fields[CSV_MAX_FIELDS];
    int map[CSV_MAX_FIELDS], nheader = 0, nf, f, date_field = -1;
    size_t len, cap = 1, i, row = 0;
    unsigned lineno = 0, header_line = 0;
    const char *why;
    double v;

    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    if ((buf = read_file(path, &len, e)) == NULL)
        return -1;
    if (len == 0) {
        err_set(e, EXIT_DATA, "%s: file is empty", name);
        goto fail;
    }
    if (strlen(buf) != len) {
        err_set(e, EXIT_DATA, "%s: file contains a NUL byte (not a text CSV file)", name);
        goto fail;
    }
    for (p = buf; *p != '\0'; p++)
        cap += *p == '\n';
    t->date = malloc(cap * sizeof *t->date);
    t->line = malloc(cap * sizeof *t->line);
    if (t->date == NULL || t->line == NULL)
        goto nomem;

    for (p = buf; *p != '\0'; p = nl != NULL ? nl + 1 : p + strlen(p)) {
        line = p;
        lineno++;
        if ((nl = strchr(p, '\n')) != NULL)
            *nl = '\0';
        if (*line != '\0' && line[strlen(line) - 1] == '\r')
            line[strlen(line) - 1] = '\0';
        if (*line == '\0') {
            err_set(e, EXIT_DATA, "%s:%u: empty line", name, lineno);
            goto fail;
        }
        if (*line == '#') {
            if (header_line != 0) {
                err_set(e, EXIT_DATA, "%s:%u: comment lines are only allowed before the header",
                        name, lineno);
                goto fail;
            }
            if (contains_nocase(line, "synthetic"))
                t->synthetic = 1;
            continue;
        }
        if ((nf = split_fields(line, fields)) < 0) {
            err_set(e, EXIT_DATA, "%s:%u: more than %d fields", name, lineno, CSV_MAX_FIELDS);
            goto fail;
        }

        if (header_line == 0) {
            header_line = lineno;
            nheader = nf;
            for (f = 0; f < nf; f++) {
                char *h = trim(fields[f]);

                map[f] = -1;
                for (i = 0; i < ncols; i++) {
                    if (strcasecmp(h, cols[i].name) != 0)
                        continue;
                    if (t->col[i] != NULL || (int)i == date_field) {
                        err_set(e, EXIT_DATA, "%s:%u: column \"%s\" appears twice", name, lineno,
                                cols[i].name);
                        goto fail;
                    }
                    map[f] = (int)i;
                    if (strcmp(cols[i].name, "date") == 0)
                        date_field = (int)i;
                    else if ((t->col[i] = malloc(cap * sizeof(double))) == NULL)
                        goto nomem;
                }
            }
            for (i = 0; i < ncols; i++) {
                int have = strcmp(cols[i].name, "date") == 0 ? date_field >= 0 : t->col[i] != NULL;

                if (cols[i].required && !have) {
                    err_set(e, EXIT_DATA,
                            "%s:%u: the header must name a \"%s\" column (a header line "
                            "like date,open,high,low,close,volume is required)",
                            name, lineno, cols[i].name);
                    goto fail;
                }
            }
            continue;
        }

        if (nf != nheader) {
            err_set(e, EXIT_DATA, "%s:%u: expected %d fields like the header, got %d", name, lineno,
                    nheader, nf);
            goto fail;
        }
        for (f = 0; f < nf; f++) {
            if (map[f] < 0)
                continue;
            if (map[f] == date_field) {
                if ((why = check_date(fields[f])) != NULL) {
                    err_set(e, EXIT_DATA, "%s:%u: date %s: \"%s\"", name, lineno, why, fields[f]);
                    goto fail;
                }
                memcpy(t->date[row], fields[f], 11);
                if (row > 0 && strcmp(t->date[row], t->date[row - 1]) <= 0) {
                    err_set(e, EXIT_DATA,
                            "%s:%u: date %s is not after the previous row's %s (line %u); "
                            "dates must be strictly increasing",
                            name, lineno, t->date[row], t->date[row - 1], t->line[row - 1]);
                    goto fail;
                }
                continue;
            }
            if ((why = parse_number(fields[f], &v)) != NULL) {
                err_set(e, EXIT_DATA, "%s:%u: %s %s: \"%s\"", name, lineno, cols[map[f]].name, why,
                        fields[f]);
                goto fail;
            }
            t->col[map[f]][row] = v;
        }
        t->line[row] = lineno;
        row++;
    }
    if (header_line == 0) {
        err_set(e, EXIT_DATA, "%s: no header line (only comments)", name);
        goto fail;
    }
    if (row == 0) {
        err_set(e, EXIT_DATA, "%s: no data rows after the header (line %u)", name, header_line);
        goto fail;
    }
    t->n = row;
    free(buf);
    return 0;
nomem:
    err_set(e, EXIT_DATA, "%s: out of memory", name);
fail:
    free(buf);
    csv_free(t);
    return -1;
}
