/* san_exit_without_proc: skip LeakSanitizer's exit-time check where /proc is missing (ASan builds). */
#include "san_noproc.h"
#include <stdio.h>
#include <unistd.h>

int san_exit_without_proc(int status)
{
#if defined(__SANITIZE_ADDRESS__)
    if (access("/proc/self/task", F_OK) != 0) {
        fflush(NULL);
        _exit(status);
    }
#endif
    return status;
}
