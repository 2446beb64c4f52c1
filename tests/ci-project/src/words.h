/* A word-frequency table: add words, then list them by count (descending), ties by name. */
#ifndef WORDS_H
#define WORDS_H
#include <stddef.h>

struct word { char *text; unsigned count; };
struct words { struct word *v; size_t n, cap; };

void words_init(struct words *w);
int words_add(struct words *w, const char *text, size_t len); /* 0, or -1 out of memory */
void words_sort(struct words *w);
void words_free(struct words *w);

#endif
