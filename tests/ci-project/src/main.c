/* wordfreq: counts the words of stdin and prints "COUNT WORD" lines, most frequent first. */
#include <ctype.h>
#include <stdio.h>
#include "words.h"

int main(void)
{
    struct words w;
    words_init(&w);
    char buf[256];
    size_t len = 0;
    for (int c; (c = getchar()) != EOF || len;) {
        if (c != EOF && !isspace(c) && len < sizeof buf) {
            buf[len++] = (char)c;
            continue;
        }
        if (len && words_add(&w, buf, len) < 0)
            return 1;
        len = 0;
        if (c == EOF)
            break;
    }
    words_sort(&w);
    for (size_t i = 0; i < w.n; i++)
        printf("%u %s\n", w.v[i].count, w.v[i].text);
    words_free(&w);
    return 0;
}
