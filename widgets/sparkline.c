/*
 * sparkline.c: block and braille sparklines (sparkline.h). Any thread (pure).
 */
#include <math.h>
#include <string.h>

#include "sparkline.h"

int sparkline_level_of(double x, double lo, double hi, int levels)
{
    int l;
    if (!(hi > lo))
        return 0;
    l = (int)floor((x - lo) / (hi - lo) * (levels - 1) + 0.5);
    return l < 0 ? 0 : l > levels - 1 ? levels - 1 : l;
}

int sparkline_level(double x, double lo, double hi)
{
    return sparkline_level_of(x, lo, hi, 8);
}

/* Braille dot bits, bottom to top: the left column (dots 7, 3, 2, 1) and
 * the right column (dots 8, 6, 5, 4). */
static const unsigned char dots_left[4] = {0x40, 0x04, 0x02, 0x01};
static const unsigned char dots_right[4] = {0x80, 0x20, 0x10, 0x08};

static unsigned bar(const unsigned char *col, double x, double lo, double hi)
{
    unsigned bits = 0;
    if (isnan(x))
        return 0;
    for (int i = 0, l = sparkline_level_of(x, lo, hi, 4); i <= l; i++)
        bits |= col[i];
    return bits;
}

/* The braille form (sparkline.h): v[start..n) in cells of two. */
static int braille(const double *v, size_t start, size_t n, double lo, double hi, char *out,
                   size_t outsz)
{
    size_t used = 0;
    int count = 0;

    /* k is the cell's left value; odd count: the first cell has none. */
    for (long k = (long)start - (long)((n - start) % 2); k < (long)n; k += 2) {
        unsigned bits = (k >= (long)start ? bar(dots_left, v[k], lo, hi) : 0) |
                        bar(dots_right, v[k + 1], lo, hi);
        unsigned cp = 0x2800 + bits;
        if (bits == 0) {
            if (used + 2 > outsz)
                break;
            out[used++] = ' ';
        } else {
            if (used + 4 > outsz)
                break;
            out[used++] = (char)(0xe0 | (cp >> 12));
            out[used++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[used++] = (char)(0x80 | (cp & 0x3f));
        }
        count++;
    }
    out[used] = '\0';
    return count;
}

int sparkline_render(const double *v, size_t n, int width, const struct glyphs *g, char *out,
                     size_t outsz)
{
    return sparkline_render_range(v, n, width, NAN, NAN, g, out, outsz);
}

int sparkline_render_range(const double *v, size_t n, int width, double flo, double fhi,
                           const struct glyphs *g, char *out, size_t outsz)
{
    size_t per = g->braille ? 2 : 1, used = 0;
    size_t start = n > (size_t)width * per ? n - (size_t)width * per : 0;
    double lo = INFINITY, hi = -INFINITY;
    int count = 0;

    if (outsz == 0)
        return 0;
    out[0] = '\0';
    if (width <= 0)
        return 0;
    for (size_t i = start; i < n; i++)
        if (!isnan(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    if (!isnan(flo))
        lo = flo;
    if (!isnan(fhi))
        hi = fhi;
    if (g->braille)
        return braille(v, start, n, lo, hi, out, outsz);
    for (size_t i = start; i < n; i++) {
        const char *gl = isnan(v[i]) ? " " : g->spark[sparkline_level(v[i], lo, hi)];
        size_t l = strlen(gl);
        if (used + l + 1 > outsz)
            break;
        memcpy(out + used, gl, l);
        used += l;
        count++;
    }
    out[used] = '\0';
    return count;
}
