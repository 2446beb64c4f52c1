/* ELF loader: validates a static x86-64 executable (ET_EXEC or static-PIE) and loads it. */
#ifndef ISOVM_ELF_LOAD_H
#define ISOVM_ELF_LOAD_H
#include <stddef.h>
#include <stdint.h>
#include "vmm/core/guest_mem.h"

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
    uint64_t gva;     /* relocated start (p_vaddr + base) */
    uint64_t memsz;
    uint64_t filesz;
    uint64_t offset;  /* file offset */
    unsigned perm;    /* GPERM_R/W/X from p_flags */
};

struct elf_info {
    uint64_t base;        /* load bias: 0 for ET_EXEC, chosen for ET_DYN */
    uint64_t entry;       /* relocated entry */
    uint64_t phdr_gva;    /* AT_PHDR: guest address of the program headers (0: copy needed) */
    uint64_t phnum, phent;
    uint64_t phoff;       /* file offset of the program headers: copy them from here when phdr_gva is 0 */
    uint64_t image_lo;    /* lowest page of the loaded image */
    uint64_t image_hi;    /* one past the last byte of the highest segment: initial brk (page-rounded up) */
    unsigned nseg;
    struct elf_segment seg[ELF_MAX_SEGMENTS];
    int exec_stack;       /* PT_GNU_STACK asked for PF_X */
};

/* Validate an in-memory ELF file. Segments must fall inside [user_lo, user_hi) after relocation;
 * ET_DYN images are placed at pie_base. On error returns -ENOEXEC and writes a message naming
 * the defect into err (e.g. "program header 2: segment [0x..,0x..) overlaps segment 1"). */
int elf_validate(const uint8_t *file, size_t size, uint64_t user_lo, uint64_t user_hi,
                 uint64_t pie_base, struct elf_info *out, char *err, size_t errlen);

/* Copy validated segments into guest memory (zero-filling bss) and set page permissions with
 * gmem_set_perm (a page shared by two segments gets the union of their permissions). 0,
 * -ENOMEM when the memory limit has too few frames, -EINVAL or -EFAULT. */
int elf_load(struct guest_mem *gm, const uint8_t *file, size_t size, const struct elf_info *info);

#endif
