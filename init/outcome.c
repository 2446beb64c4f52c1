/* The job's end for the status port: an OOM kill in its cgroup wins over how its first process
 * ended; then a signal; then the exit status. */
#include "init/outcome.h"
#include <sys/wait.h>

struct outcome outcome_of(int wstatus, long long oom_before, long long oom_after)
{
    unsigned shell = WIFSIGNALED(wstatus) ? 128u + (unsigned)WTERMSIG(wstatus)
                                          : (unsigned)WEXITSTATUS(wstatus);
    if (oom_before >= 0 && oom_after > oom_before)
        return (struct outcome){ISOVM_STATUS_OOM, shell};
    if (WIFSIGNALED(wstatus))
        return (struct outcome){ISOVM_STATUS_SIGNAL, (unsigned)WTERMSIG(wstatus)};
    return (struct outcome){ISOVM_STATUS_EXIT, (unsigned)WEXITSTATUS(wstatus)};
}
