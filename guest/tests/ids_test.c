#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

int main(void)
{
    long pid = getpid(), tid = syscall(SYS_gettid), ppid = getppid();
    long uid = getuid(), euid = geteuid(), gid = getgid(), egid = getegid();
    printf("pid=%ld tid=%ld ppid=%ld uid=%ld euid=%ld gid=%ld egid=%ld\n", pid, tid, ppid, uid, euid, gid, egid);
    CHECK("getpid > 0", pid > 0, "got %ld", pid);
    CHECK("gettid > 0", tid > 0, "got %ld", tid);
    CHECK("single thread: tid == pid", tid == pid, "tid %ld pid %ld", tid, pid);
    CHECK("getppid >= 0", ppid >= 0, "got %ld", ppid);
    CHECK("getuid sane", syscall(SYS_getuid) >= 0, "got %ld", uid);
    CHECK("geteuid sane", syscall(SYS_geteuid) >= 0, "got %ld", euid);
    CHECK("getgid sane", syscall(SYS_getgid) >= 0, "got %ld", gid);
    CHECK("getegid sane", syscall(SYS_getegid) >= 0, "got %ld", egid);
    CHECK("getpid stable", getpid() == pid, "changed");
    return check_done();
}
