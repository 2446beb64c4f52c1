/* Unbounded recursion with a 16 KiB local array, touched from the top down one 256-byte step at
 * a time so no guard page is jumped over: SIGSEGV (139). */
#include <stdio.h>

static volatile int limit = -1; /* never reached: depth only grows, but the compiler cannot know */

static int recurse(int depth)
{
    volatile char buf[16384];
    for (int i = (int)sizeof buf - 1; i >= 0; i -= 256)
        buf[i] = (char)depth;
    if (depth == limit)
        return 0;
    return recurse(depth + 1) + buf[depth % 16384];
}

int main(void)
{
    printf("recursing\n");
    fflush(stdout);
    return recurse(0) == 12345;
}
