/* int3: SIGTRAP (133). */
#include <stdio.h>

int main(void)
{
    printf("executing int3\n");
    fflush(stdout);
    __asm__ volatile("int3");
    printf("still alive\n");
    return 0;
}
