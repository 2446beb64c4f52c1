#include <signal.h>
#include "check.h"

static void handler(int sig)
{
    (void)sig;
}

int main(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sa.sa_flags = SA_RESTART;
    CHECK("sigaction SIGUSR1", sigaction(SIGUSR1, &sa, NULL) == 0, "errno %d", errno);
    memset(&old, 0, sizeof old);
    CHECK("read back", sigaction(SIGUSR1, NULL, &old) == 0, "errno %d", errno);
    CHECK("handler read back", old.sa_handler == handler, "got %p", (void *)old.sa_handler);
    CHECK("mask read back", sigismember(&old.sa_mask, SIGUSR2) == 1, "SIGUSR2 not in mask");
    CHECK("SA_RESTART read back", (old.sa_flags & SA_RESTART) != 0, "flags %#x", (unsigned)old.sa_flags);
    sa.sa_handler = SIG_IGN;
    CHECK("set SIG_IGN returns old handler", sigaction(SIGUSR1, &sa, &old) == 0 && old.sa_handler == handler,
          "got %p", (void *)old.sa_handler);

    sa.sa_handler = handler;
    CHECK_ERRNO("sigaction SIGKILL -> EINVAL", sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERRNO("sigaction SIGSTOP -> EINVAL", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    CHECK_ERRNO("sigaction signal 0 -> EINVAL", sigaction(0, &sa, NULL), EINVAL);
    CHECK_ERRNO("sigaction signal 65 -> EINVAL", sigaction(65, &sa, NULL), EINVAL);

    sigset_t set, cur;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK("sigprocmask block", sigprocmask(SIG_BLOCK, &set, NULL) == 0, "errno %d", errno);
    sigemptyset(&cur);
    CHECK("sigprocmask read", sigprocmask(SIG_BLOCK, NULL, &cur) == 0, "errno %d", errno);
    CHECK("SIGUSR2 blocked", sigismember(&cur, SIGUSR2) == 1, "not in mask");
    CHECK("SIGUSR1 not blocked", sigismember(&cur, SIGUSR1) == 0, "in mask");
    sigaddset(&set, SIGKILL);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    CHECK("SIGKILL cannot be blocked", sigismember(&cur, SIGKILL) == 0, "SIGKILL in mask");
    CHECK("sigprocmask unblock", sigprocmask(SIG_UNBLOCK, &set, NULL) == 0, "errno %d", errno);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    CHECK("SIGUSR2 unblocked", sigismember(&cur, SIGUSR2) == 0, "still in mask");
    CHECK_ERRNO("sigprocmask bad how -> EINVAL", sigprocmask(12345, &set, NULL), EINVAL);
    return check_done();
}
