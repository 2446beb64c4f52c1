/* The Linux tier's guest RAM: region table and the one overflow-safe guest-range check. */
#include "vmm/core/guest_ram.h"
#include <errno.h>
#include <stddef.h>
#include <string.h>

void guest_ram_init(struct guest_ram *ram)
{
    memset(ram, 0, sizeof(*ram));
}

int guest_ram_add(struct guest_ram *ram, uint64_t gpa, uint64_t size, void *host)
{
    uint64_t end;
    if (size == 0 || !host || __builtin_add_overflow(gpa, size, &end) ||
        gpa % GUEST_RAM_ALIGN || size % GUEST_RAM_ALIGN || (uintptr_t)host % GUEST_RAM_ALIGN)
        return -EINVAL;
    for (unsigned i = 0; i < ram->nregions; i++) {
        const struct guest_ram_region *r = &ram->region[i];
        if (gpa < r->gpa + r->size && r->gpa < end)
            return -EINVAL;
    }
    if (ram->nregions == GUEST_RAM_MAX_REGIONS)
        return -ENOSPC;
    ram->region[ram->nregions++] = (struct guest_ram_region){ gpa, size, host };
    return 0;
}

void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
    if (len == 0)
        return NULL;
    for (unsigned i = 0; i < ram->nregions && i < GUEST_RAM_MAX_REGIONS; i++) {
        const struct guest_ram_region *r = &ram->region[i];
        /* gpa - r->gpa cannot wrap once gpa >= r->gpa; the region's bytes from there are
         * r->size - off, so len fits without computing gpa + len. */
        if (gpa < r->gpa || gpa - r->gpa >= r->size)
            continue;
        uint64_t off = gpa - r->gpa;
        return len <= r->size - off ? r->host + off : NULL;
    }
    return NULL;
}
