/* Prints argc, each argv entry and each environment entry, one per line. */
#include <stdio.h>

int main(int argc, char **argv, char **envp)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    if (argv[argc] != NULL)
        printf("argv[argc] is not NULL\n");
    int n = 0;
    for (char **e = envp; *e; e++, n++)
        printf("envp[%d]=%s\n", n, *e);
    printf("envc=%d\n", n);
    return argv[argc] == NULL ? 0 : 1;
}
