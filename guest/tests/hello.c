#include <stdio.h>

int main(void)
{
    printf("hello from isovm\n");
    fprintf(stderr, "to stderr\n");
    return 0;
}
