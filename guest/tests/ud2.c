/* ud2: SIGILL (132). */
#include <stdio.h>

int main(void)
{
    printf("executing ud2\n");
    fflush(stdout);
    __asm__ volatile("ud2");
    printf("still alive\n");
    return 0;
}
