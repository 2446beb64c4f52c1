/* The PVH entry of a Linux kernel: its vmlinux checked and loaded, and the xen hvm_start_info
 * (version 1, with the memory map) written for it (xen/include/public/arch-x86/hvm/start_info.h). */
#include "vmm/linux/pvh.h"
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/sparse_read.h"
#include "vmm/core/elf_check.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

static bool range_in(uint64_t addr, uint64_t len, uint64_t lo, uint64_t hi)
{
    uint64_t end;
    return !__builtin_add_overflow(addr, len, &end) && addr >= lo && end <= hi;
}

/* Find the PVH entry in a PT_NOTE segment's bytes; 0: none (-ENOEXEC on a malformed note). */
static int note_entry(const uint8_t *p, uint64_t len, uint32_t *entry, char *err, size_t errlen)
{
    uint64_t off = 0;
    while (len - off >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, p + off, sizeof nh);
        uint64_t name_pad = ((uint64_t)nh.n_namesz + 3) & ~3ull;
        uint64_t desc_pad = ((uint64_t)nh.n_descsz + 3) & ~3ull;
        uint64_t body = sizeof nh + name_pad;
        if (name_pad > len || desc_pad > len || body + desc_pad > len - off)
            return elf_refuse(err, errlen, "note at offset 0x%" PRIx64 " in a PT_NOTE runs past it",
                              off);
        if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
            memcmp(p + off + sizeof nh, "Xen", 4) == 0) {
            if (nh.n_descsz != 4 && nh.n_descsz != 8)
                return elf_refuse(err, errlen, "XEN_ELFNOTE_PHYS32_ENTRY has %u bytes, want 4 or 8",
                                  nh.n_descsz);
            uint64_t v = 0;
            memcpy(&v, p + off + body, nh.n_descsz); /* little-endian */
            if (v == 0 || v > UINT32_MAX)
                return elf_refuse(err, errlen, "PVH entry 0x%" PRIx64 " is not a 32-bit address", v);
            *entry = (uint32_t)v;
            return 1;
        }
        off += body + desc_pad;
    }
    return 0;
}

int pvh_kernel_check(const uint8_t *file, size_t size, uint64_t ram_lo, uint64_t ram_hi,
                     struct pvh_kernel *k, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    if (err && errlen)
        err[0] = 0;
    Elf64_Ehdr eh;
    if (size < sizeof eh)
        return elf_refuse(err, errlen, "%zu bytes: smaller than an ELF header", size);
    memcpy(&eh, file, sizeof eh);
    int rc = elf_check_header(&eh, size, err, errlen);
    if (rc)
        return rc;
    if (eh.e_type != ET_EXEC)
        return elf_refuse(err, errlen, "e_type %u: a kernel is ET_EXEC", eh.e_type);
    k->lo = UINT64_MAX;
    int found = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, file + eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_NOTE && !found) {
            if (!elf_in_file(ph.p_offset, ph.p_filesz, size))
                return elf_refuse(err, errlen, "program header %u: PT_NOTE outside the file", i);
            found = note_entry(file + ph.p_offset, ph.p_filesz, &k->entry, err, errlen);
            if (found < 0)
                return found;
        }
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (k->nseg == PVH_MAX_SEGMENTS)
            return elf_refuse(err, errlen, "more than %d loadable segments", PVH_MAX_SEGMENTS);
        if (ph.p_filesz > ph.p_memsz || !elf_in_file(ph.p_offset, ph.p_filesz, size))
            return elf_refuse(err, errlen, "program header %u: file bytes [0x%" PRIx64 ", +0x%" PRIx64
                              ") outside the file or larger than the segment", i, ph.p_offset,
                              ph.p_filesz);
        if (!range_in(ph.p_paddr, ph.p_memsz, ram_lo, ram_hi))
            return elf_refuse(err, errlen, "program header %u: [0x%" PRIx64 ", +0x%" PRIx64
                              ") does not fit guest RAM [0x%" PRIx64 ", 0x%" PRIx64 ") (more memory?)",
                              i, ph.p_paddr, ph.p_memsz, ram_lo, ram_hi);
        for (unsigned j = 0; j < k->nseg; j++) {
            const struct pvh_segment *s = &k->seg[j];
            if (ph.p_paddr < s->paddr + s->memsz && s->paddr < ph.p_paddr + ph.p_memsz)
                return elf_refuse(err, errlen, "program header %u overlaps an earlier segment", i);
        }
        k->seg[k->nseg++] = (struct pvh_segment){ ph.p_paddr, ph.p_memsz, ph.p_filesz, ph.p_offset };
        if (ph.p_paddr < k->lo)
            k->lo = ph.p_paddr;
        if (ph.p_paddr + ph.p_memsz > k->hi)
            k->hi = ph.p_paddr + ph.p_memsz;
    }
    if (k->nseg == 0)
        return elf_refuse(err, errlen, "no loadable segment");
    if (!found)
        return elf_refuse(err, errlen, "not a PVH kernel: no XEN_ELFNOTE_PHYS32_ENTRY note (a "
                          "bzImage? give the vmlinux ELF inside it)");
    if (k->entry < k->lo || k->entry >= k->hi)
        return elf_refuse(err, errlen, "PVH entry 0x%" PRIx32 " outside the loaded kernel", k->entry);
    return 0;
}

int pvh_kernel_read(int fd, const struct pvh_kernel *k, uint8_t *ram, uint64_t ram_size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    for (unsigned i = 0; i < k->nseg; i++) {
        const struct pvh_segment *s = &k->seg[i];
        if (!range_in(s->paddr, s->memsz, 0, ram_size) || s->filesz > s->memsz ||
            s->offset > UINT64_MAX - s->filesz || s->offset + s->filesz > (uint64_t)INT64_MAX)
            return -EINVAL;
        if (s->offset + s->filesz > (uint64_t)st.st_size)
            return -ENODATA; /* cut short since it was checked: a hole past its end is no zeros */
        uint8_t *dst = ram + s->paddr;
        int rc = sparse_read(fd, s->offset, s->filesz, dst);
        if (rc)
            return rc;
        memset(dst + s->filesz, 0, s->memsz - s->filesz);
    }
    return 0;
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

int pvh_start_info_write(const struct pvh_boot *b, uint8_t *ram, uint64_t ram_size,
                         size_t cmdline_max)
{
    size_t clen = strlen(b->cmdline) + 1;
    if (b->nmap == 0 || b->nmap > PVH_MEMMAP_MAX || clen > cmdline_max ||
        !range_in(b->start_info_gpa, PVH_START_INFO_BYTES, 0, ram_size) ||
        !range_in(b->cmdline_gpa, cmdline_max, 0, ram_size) ||
        (b->initrd_size && !range_in(b->initrd_gpa, b->initrd_size, 0, ram_size)) ||
        (b->start_info_gpa < b->cmdline_gpa + cmdline_max &&
         b->cmdline_gpa < b->start_info_gpa + PVH_START_INFO_BYTES))
        return -EINVAL;
    uint64_t si = b->start_info_gpa, mods = si + 56, map = mods + 32;
    uint8_t *p = ram + si;
    memset(p, 0, PVH_START_INFO_BYTES);
    put32(p + 0, PVH_START_MAGIC);
    put32(p + 4, 1);                          /* version: with the memory map */
    put32(p + 12, b->initrd_size ? 1 : 0);    /* nr_modules */
    put64(p + 16, b->initrd_size ? mods : 0); /* modlist_paddr */
    put64(p + 24, b->cmdline_gpa);
    put64(p + 32, b->rsdp_gpa);
    put64(p + 40, map);                       /* memmap_paddr */
    put32(p + 48, b->nmap);                   /* memmap_entries; 52: reserved */
    put64(ram + mods, b->initrd_gpa);
    put64(ram + mods + 8, b->initrd_size);
    for (unsigned i = 0; i < b->nmap; i++) {
        uint8_t *e = ram + map + 24ull * i;
        put64(e, b->map[i].addr);
        put64(e + 8, b->map[i].size);
        put32(e + 16, b->map[i].type);
    }
    memset(ram + b->cmdline_gpa, 0, cmdline_max);
    memcpy(ram + b->cmdline_gpa, b->cmdline, clen);
    return 0;
}
