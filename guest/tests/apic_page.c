/* Guest RAM at 0xfee00000, where x86's local APIC registers sit: under isovm (vCPUs with KVM's in-kernel APIC, disabled) it must be plain memory. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"

#define APIC_BASE 0xfee00000ul
#define PG 4096ul

int main(void)
{
    /* In isovm a job's addresses are guest-physical: this page is the APIC's when the APIC is
     * on. Natively it is only some free address. */
    volatile uint32_t *p = mmap((void *)APIC_BASE, 2 * PG, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("mmap at 0xfee00000", (void *)p == (void *)APIC_BASE, "got %p errno %d", (void *)p, errno);
    if ((void *)p != (void *)APIC_BASE)
        return 1;
    int zero = 1;
    for (size_t i = 0; i < 2 * PG / 4; i++)
        zero &= p[i] == 0;
    CHECK("fresh page reads zero (no APIC registers: id at 0x20, version at 0x30)", zero, "non-zero");
    for (size_t i = 0; i < 2 * PG / 4; i++)
        p[i] = 0xa5000000u | (uint32_t)i;
    int same = 1;
    for (size_t i = 0; i < 2 * PG / 4; i++)
        same &= p[i] == (0xa5000000u | (uint32_t)i);
    CHECK("what is written reads back (0x0b0 EOI, 0x300 ICR: plain words)", same, "differs");
    uint32_t old = __sync_val_compare_and_swap(&p[0x300 / 4], 0xa5000000u | (0x300 / 4), 7u);
    CHECK("locked cmpxchg on the ICR's offset", old == (0xa5000000u | (0x300 / 4)) && p[0x300 / 4] == 7,
          "old 0x%x now 0x%x", old, p[0x300 / 4]);
    static const char msg[] = "string copy over 0xfee00400";
    void *dst = (void *)(p + 256);
    const void *src = msg;
    size_t n = sizeof msg;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    CHECK("rep movs into the page", __builtin_memcmp((const void *)(p + 256), msg, sizeof msg) == 0,
          "differs");
    return check_failures ? 1 : 0;
}
