#include <unistd.h>
#include "check.h"

int main(void)
{
    char buf[4096];
    memset(buf, 0, sizeof buf);
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    CHECK("readlink /proc/self/exe", n > 0, "got %zd errno %d", n, errno);
    if (n > 0)
        printf("exe=%s\n", buf);
    CHECK("result is an absolute path", n > 0 && buf[0] == '/', "got '%s'", buf);
    CHECK("no NUL written inside the result", n <= 0 || strlen(buf) == (size_t)n, "len mismatch");
    char small[2] = {'x', 'y'};
    ssize_t m = readlink("/proc/self/exe", small, 1);
    CHECK("readlink truncates to bufsiz", m == 1, "got %zd errno %d", m, errno);
    CHECK("readlink of another path fails", readlink("/nonexistent/isovm-test", buf, sizeof buf) == -1,
          "succeeded");
    return check_done();
}
