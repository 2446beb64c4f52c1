#include <sys/utsname.h>
#include "check.h"

int main(void)
{
    struct utsname u;
    memset(&u, 0, sizeof u);
    CHECK("uname", uname(&u) == 0, "errno %d", errno);
    printf("sysname=%s release=%s machine=%s\n", u.sysname, u.release, u.machine);
    CHECK("sysname Linux", strcmp(u.sysname, "Linux") == 0, "got '%s'", u.sysname);
    CHECK("machine x86_64", strcmp(u.machine, "x86_64") == 0, "got '%s'", u.machine);
    CHECK("release non-empty", u.release[0] != 0, "empty");
    return check_done();
}
