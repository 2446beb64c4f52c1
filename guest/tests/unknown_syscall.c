#include <unistd.h>
#include "check.h"

int main(void)
{
    CHECK_ERRNO("syscall 9999 -> ENOSYS", syscall(9999), ENOSYS);
    CHECK_ERRNO("syscall -1 -> ENOSYS", syscall(-1L), ENOSYS);
    CHECK_ERRNO("syscall 335 -> ENOSYS", syscall(335), ENOSYS);
    CHECK_ERRNO("syscall 500 -> ENOSYS", syscall(500), ENOSYS);
    return check_done();
}
