/* The word-frequency table. */
#include "words.h"
#include <stdlib.h>
#include <string.h>

void words_init(struct words *w) { memset(w, 0, sizeof *w); }

int words_add(struct words *w, const char *text, size_t len)
{
    for (size_t i = 0; i < w->n; i++)
        if (strlen(w->v[i].text) == len && memcmp(w->v[i].text, text, len) == 0) {
            w->v[i].count++;
            return 0;
        }
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 8;
        struct word *v = realloc(w->v, cap * sizeof *v);
        if (!v)
            return -1;
        w->v = v;
        w->cap = cap;
    }
    char *t = malloc(len + 1);
    if (!t)
        return -1;
    memcpy(t, text, len);
    t[len] = 0;
    w->v[w->n++] = (struct word){ t, 1 };
    return 0;
}

static int by_count(const void *a, const void *b)
{
    const struct word *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

void words_sort(struct words *w) { qsort(w->v, w->n, sizeof *w->v, by_count); }

void words_free(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].text);
    free(w->v);
    words_init(w);
}
