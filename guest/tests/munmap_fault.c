/* Touches a page after munmap: must die with SIGSEGV (139). */
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
    volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    p[0] = 1;
    if (munmap((void *)p, 4096) != 0)
        return 2;
    printf("touching unmapped page\n");
    fflush(stdout);
    p[0] = 2;
    printf("still alive\n");
    return 0;
}
