/* Exits with atoi(argv[1]) through exit(). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: exitcode N\n");
        return 2;
    }
    exit(atoi(argv[1]));
}
