/*
 * sparkline.c: block sparklines (sparkline.h). Any thread (pure).
 */
#include <math.h>
#include <string.h>

#include "sparkline.h"

int sparkline_level(double x, double lo, double hi)
{
    int l;
    if (!(hi > lo))
        return 0;
    l = (int)floor((x - lo) / (hi - lo) * 7.0 + 0.5);
    return l < 0 ? 0 : l > 7 ? 7 : l;
}

int sparkline_render(const double *v, size_t n, int width, const struct glyphs *g, char *out,
                     size_t outsz)
{
    return sparkline_render_range(v, n, width, NAN, NAN, g, out, outsz);
}

int sparkline_render_range(const double *v, size_t n, int width, double flo, double fhi,
                           const struct glyphs *g, char *out, size_t outsz)
{
    size_t start = n > (size_t)width ? n - (size_t)width : 0, used = 0;
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
