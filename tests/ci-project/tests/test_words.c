/* Unit tests of the word-frequency table. */
#include <stdio.h>
#include <string.h>
#include "words.h"

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

int main(void)
{
    struct words w;
    words_init(&w);
    CHECK(words_add(&w, "pear", 4) == 0);
    CHECK(words_add(&w, "apple", 5) == 0);
    CHECK(words_add(&w, "pear", 4) == 0);
    CHECK(words_add(&w, "fig", 3) == 0);
    CHECK(words_add(&w, "apple", 5) == 0);
    CHECK(words_add(&w, "pear", 4) == 0);
    CHECK(w.n == 3);
    words_sort(&w);
    CHECK(strcmp(w.v[0].text, "pear") == 0 && w.v[0].count == 3);
    CHECK(strcmp(w.v[1].text, "apple") == 0 && w.v[1].count == 2);
    CHECK(strcmp(w.v[2].text, "fig") == 0 && w.v[2].count == 1);
    for (int i = 0; i < 1000; i++) {
        char name[16];
        int n = snprintf(name, sizeof name, "w%d", i % 100);
        CHECK(words_add(&w, name, (size_t)n) == 0);
    }
    CHECK(w.n == 103);
    words_free(&w);
    CHECK(w.n == 0);
    printf("test_words: %s\n", failures ? "FAILED" : "6 groups passed");
    return failures != 0;
}
