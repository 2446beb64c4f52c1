/* Lookups in the generated x86-64 syscall table (syscall_names_table.h). */
#include "lib/syscall_names.h"
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "lib/text_edits.h"
#include "lib/syscall_names_table.h"

#define NNAMES (sizeof syscall_names / sizeof syscall_names[0])

int syscall_nr_by_name(const char *name)
{
    for (size_t i = 0; i < NNAMES; i++)
        if (strcmp(syscall_names[i].name, name) == 0)
            return (int)syscall_names[i].nr;
    return -ENOENT;
}

const char *syscall_name_any(unsigned nr)
{
    size_t lo = 0, hi = NNAMES; /* the table is sorted by number */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (syscall_names[mid].nr == nr)
            return syscall_names[mid].name;
        if (syscall_names[mid].nr < nr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *syscall_name(uint64_t nr)
{
    return nr <= UINT32_MAX ? syscall_name_any((unsigned)nr) : NULL;
}

const char *syscall_name_suggest(const char *name)
{
    const char *best = NULL;
    unsigned best_d = 3;
    for (size_t i = 0; i < NNAMES; i++) {
        unsigned d = text_edits(name, syscall_names[i].name);
        if (d < best_d && 2 * d <= strlen(syscall_names[i].name)) {
            best_d = d;
            best = syscall_names[i].name;
        }
    }
    return best;
}
