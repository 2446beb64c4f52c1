/* abort(): SIGABRT with the default action kills the job, status 134 (as on Linux). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("calling abort\n");
    fflush(stdout);
    abort();
}
