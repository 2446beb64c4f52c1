/* Writes to a PROT_READ page: must die with SIGSEGV (139). */
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
    volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    p[0] = 1;
    if (mprotect((void *)p, 4096, PROT_READ) != 0)
        return 2;
    printf("read back %d, writing to read-only page\n", p[0]);
    fflush(stdout);
    p[0] = 2;
    printf("still alive\n");
    return 0;
}
