/* Integer division by zero: SIGFPE (136). */
#include <stdio.h>

int main(void)
{
    volatile int zero = 0, one = 1;
    printf("dividing by zero\n");
    fflush(stdout);
    int q = one / zero;
    printf("still alive: %d\n", q);
    return 0;
}
