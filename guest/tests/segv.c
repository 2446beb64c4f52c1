/* Stores through NULL: SIGSEGV (139). */
#include <stdio.h>

int main(void)
{
    int *volatile p = NULL;
    printf("writing to NULL\n");
    fflush(stdout);
    /* asm, so the compiler cannot drop or transform the store to NULL */
    __asm__ volatile("movl $42, (%0)" : : "r"(p) : "memory");
    printf("still alive\n");
    return 0;
}
