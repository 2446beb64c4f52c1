/* brk through the raw system call (musl's sbrk refuses non-zero increments). */
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

static uintptr_t brk_(uintptr_t v)
{
    return (uintptr_t)syscall(SYS_brk, v);
}

int main(void)
{
    uintptr_t cur = brk_(0);
    printf("initial break nonzero: %s\n", cur ? "yes" : "no");
    CHECK("brk(0) returns the break", cur != 0 && cur != (uintptr_t)-1, "got %#lx", (unsigned long)cur);
    CHECK("brk(0) is stable", brk_(0) == cur, "changed");

    uintptr_t want = cur + (1u << 20);
    uintptr_t got = brk_(want);
    CHECK("grow by 1 MiB", got == want, "got %#lx want %#lx", (unsigned long)got, (unsigned long)want);
    if (got == want) {
        volatile unsigned char *p = (unsigned char *)cur;
        int zero = 1;
        for (uintptr_t i = 0; i < (1u << 20); i += 512)
            if (p[i])
                zero = 0;
        CHECK("new heap is zero", zero, "non-zero byte");
        for (uintptr_t i = 0; i < (1u << 20); i += 4096)
            p[i] = 0x5a;
        CHECK("new heap writable", p[(1u << 20) - 4096] == 0x5a, "bad");
        uintptr_t more = brk_(want + 3 * 4096 + 17);
        CHECK("grow by unaligned amount", more == want + 3 * 4096 + 17, "got %#lx", (unsigned long)more);
        ((volatile char *)want)[3 * 4096 + 16] = 1;
        CHECK("shrink back", brk_(cur) == cur, "got %#lx", (unsigned long)brk_(0));
        CHECK("break after shrink", brk_(0) == cur, "got %#lx", (unsigned long)brk_(0));
        uintptr_t again = brk_(want);
        CHECK("regrow", again == want, "got %#lx", (unsigned long)again);
        int z2 = 1;
        for (uintptr_t i = 0; i < (1u << 20); i += 4096)
            if (p[i])
                z2 = 0;
        CHECK("regrown heap is zero again", z2, "old contents visible after shrink/grow");
        brk_(cur);
    }
    uintptr_t huge = brk_(cur + ((uintptr_t)1 << 40));
    CHECK("absurd brk fails (returns old break)", huge == cur, "got %#lx", (unsigned long)huge);
    uintptr_t low = brk_(0x1000);
    CHECK("brk below the image fails (returns old break)", low == cur, "got %#lx", (unsigned long)low);
    return check_done();
}
