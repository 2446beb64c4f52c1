/* ELF loader: validates every header field of a static x86-64 executable and copies it into guest RAM. */
#include "vmm/core/elf_load.h"
#include "vmm/core/elf_check.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define LOADER_PAGE       ((uint64_t)4096)
#define INTERP_SHOWN_MAX  128   /* bytes of a PT_INTERP path quoted in the refusal */

static uint64_t page_down(uint64_t v) { return v & ~(LOADER_PAGE - 1); }

/* Rounds v up to a multiple of align (a power of two); false on overflow. */
static bool round_up(uint64_t v, uint64_t align, uint64_t *out)
{
    uint64_t sum;
    if (__builtin_add_overflow(v, align - 1, &sum))
        return false;
    *out = sum & ~(align - 1);
    return true;
}

static bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

static const char *phdr_type_name(uint32_t type, char *buf, size_t len)
{
    switch (type) {
    case PT_NULL: return "PT_NULL";
    case PT_LOAD: return "PT_LOAD";
    case PT_DYNAMIC: return "PT_DYNAMIC";
    case PT_INTERP: return "PT_INTERP";
    case PT_NOTE: return "PT_NOTE";
    case PT_SHLIB: return "PT_SHLIB";
    case PT_PHDR: return "PT_PHDR";
    case PT_TLS: return "PT_TLS";
    case PT_GNU_EH_FRAME: return "PT_GNU_EH_FRAME";
    case PT_GNU_STACK: return "PT_GNU_STACK";
    case PT_GNU_RELRO: return "PT_GNU_RELRO";
#ifdef PT_GNU_PROPERTY
    case PT_GNU_PROPERTY: return "PT_GNU_PROPERTY";
#endif
    default:
        snprintf(buf, len, "type 0x%" PRIx32, type);
        return buf;
    }
}

static unsigned perm_from_flags(uint32_t flags)
{
    unsigned perm = 0;
    if (flags & PF_R) perm |= GPERM_R;
    if (flags & PF_W) perm |= GPERM_W;
    if (flags & PF_X) perm |= GPERM_X;
    return perm ? perm : GPERM_RESERVED; /* a PF-less segment still claims its address space */
}

/* Copies the PT_INTERP path into `out` printable and bounded, for the refusal message. */
static void quote_interp(const uint8_t *file, size_t size, const Elf64_Phdr *ph, char *out, size_t outlen)
{
    if (!elf_in_file(ph->p_offset, ph->p_filesz, size) || ph->p_filesz == 0) {
        snprintf(out, outlen, "<unreadable>");
        return;
    }
    size_t n = 0;
    for (uint64_t i = 0; i < ph->p_filesz && n + 1 < outlen && n < INTERP_SHOWN_MAX; i++) {
        uint8_t c = file[ph->p_offset + i];
        if (c == 0)
            break;
        out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = 0;
}

/* One PT_LOAD accepted so far, in file coordinates (not yet relocated). */
struct loadable {
    uint64_t vaddr, memsz, filesz, offset;
    uint32_t flags;
    unsigned index; /* program header index, for messages */
};

static int check_load(const Elf64_Phdr *ph, unsigned idx, struct loadable *loads, unsigned nloads,
                      char *err, size_t errlen)
{
    const char *what = "PT_LOAD";
    if (!is_power_of_two(ph->p_align) && ph->p_align > 1)
        return elf_refuse(err, errlen, "program header %u (%s): p_align 0x%" PRIx64 " is not a power of two",
                      idx, what, ph->p_align);
    if ((ph->p_vaddr - ph->p_offset) % LOADER_PAGE != 0)
        return elf_refuse(err, errlen,
                      "program header %u (%s): p_vaddr 0x%" PRIx64 " and p_offset 0x%" PRIx64 " are not congruent modulo the page size 0x%" PRIx64,
                      idx, what, ph->p_vaddr, ph->p_offset, LOADER_PAGE);
    uint64_t end;
    if (__builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &end))
        return elf_refuse(err, errlen,
                      "program header %u (%s): p_vaddr 0x%" PRIx64 " + p_memsz 0x%" PRIx64 " wraps around the address space",
                      idx, what, ph->p_vaddr, ph->p_memsz);
    if (nloads == ELF_MAX_SEGMENTS)
        return elf_refuse(err, errlen, "program header %u (%s): more than %d loadable segments", idx,
                      what, ELF_MAX_SEGMENTS);
    if (nloads > 0) {
        const struct loadable *prev = &loads[nloads - 1];
        if (ph->p_vaddr < prev->vaddr)
            return elf_refuse(err, errlen,
                          "program header %u (%s): p_vaddr 0x%" PRIx64 " below program header %u's 0x%" PRIx64 ": PT_LOAD not sorted by ascending p_vaddr",
                          idx, what, ph->p_vaddr, prev->index, prev->vaddr);
        if (prev->vaddr + prev->memsz > ph->p_vaddr)
            return elf_refuse(err, errlen,
                          "program header %u (%s): segment [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps program header %u's [0x%" PRIx64 ", 0x%" PRIx64 ")",
                          idx, what, ph->p_vaddr, end, prev->index, prev->vaddr,
                          prev->vaddr + prev->memsz);
    }
    loads[nloads] = (struct loadable){ph->p_vaddr, ph->p_memsz, ph->p_filesz, ph->p_offset,
                                      ph->p_flags, idx};
    return 0;
}

/* Finds the PT_LOAD whose file bytes contain [off, off+len); its index or -1. */
static int load_containing_file_range(const struct loadable *loads, unsigned nloads, uint64_t off,
                                      uint64_t len)
{
    for (unsigned i = 0; i < nloads; i++) {
        if (off >= loads[i].offset && len <= loads[i].filesz &&
            off - loads[i].offset <= loads[i].filesz - len)
            return (int)i;
    }
    return -1;
}

int elf_validate(const uint8_t *file, size_t size, uint64_t user_lo, uint64_t user_hi,
                 uint64_t pie_base, struct elf_info *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (!out || (!file && size)) {
        if (err && errlen)
            snprintf(err, errlen, "elf_validate: invalid arguments");
        return -EINVAL;
    }
    if (user_lo >= user_hi || user_lo % LOADER_PAGE || user_hi % LOADER_PAGE) {
        if (err && errlen)
            snprintf(err, errlen, "elf_validate: invalid user range [0x%" PRIx64 ", 0x%" PRIx64 ")",
                     user_lo, user_hi);
        return -EINVAL;
    }
    memset(out, 0, sizeof(*out));

    Elf64_Ehdr eh;
    if (size < sizeof(eh))
        return elf_refuse(err, errlen, "file is %zu bytes, smaller than the %zu-byte ELF header", size,
                      sizeof(eh));
    memcpy(&eh, file, sizeof(eh));
    int rc = elf_check_header(&eh, size, err, errlen);
    if (rc)
        return rc;

    struct loadable loads[ELF_MAX_SEGMENTS];
    unsigned nloads = 0;
    uint64_t max_align = LOADER_PAGE;
    int tls_idx = -1, phdr_idx = -1;
    Elf64_Phdr tls = {0}, pt_phdr = {0};
    int exec_stack = 0;
    char tbuf[32];

    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, file + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        const char *tname = phdr_type_name(ph.p_type, tbuf, sizeof(tbuf));
        if (ph.p_type == PT_NULL)
            continue;
        if (ph.p_type == PT_INTERP) {
            char path[INTERP_SHOWN_MAX + 1];
            quote_interp(file, size, &ph, path, sizeof(path));
            return elf_refuse(err, errlen,
                          "dynamically linked (PT_INTERP %s): only static programs are supported", path);
        }
        if (ph.p_filesz > ph.p_memsz && (ph.p_type == PT_LOAD || ph.p_type == PT_TLS))
            return elf_refuse(err, errlen, "program header %u (%s): p_filesz 0x%" PRIx64 " > p_memsz 0x%" PRIx64,
                          i, tname, ph.p_filesz, ph.p_memsz);
        if (!elf_in_file(ph.p_offset, ph.p_filesz, size))
            return elf_refuse(err, errlen,
                          "program header %u (%s): file range [0x%" PRIx64 ", +0x%" PRIx64 ") extends past end of file (%zu bytes)",
                          i, tname, ph.p_offset, ph.p_filesz, size);
        switch (ph.p_type) {
        case PT_LOAD:
            if (ph.p_memsz == 0)
                break; /* maps nothing */
            rc = check_load(&ph, i, loads, nloads, err, errlen);
            if (rc)
                return rc;
            nloads++;
            if (ph.p_align > max_align)
                max_align = ph.p_align;
            break;
        case PT_TLS:
            if (tls_idx >= 0)
                return elf_refuse(err, errlen, "program header %u (PT_TLS): second PT_TLS (first is %d)", i,
                              tls_idx);
            if (ph.p_align > 1 && !is_power_of_two(ph.p_align))
                return elf_refuse(err, errlen, "program header %u (PT_TLS): p_align 0x%" PRIx64 " is not a power of two",
                              i, ph.p_align);
            tls_idx = (int)i;
            tls = ph;
            break;
        case PT_PHDR:
            if (phdr_idx >= 0)
                return elf_refuse(err, errlen, "program header %u (PT_PHDR): second PT_PHDR (first is %d)", i,
                              phdr_idx);
            if (nloads > 0)
                return elf_refuse(err, errlen, "program header %u (PT_PHDR): must precede every PT_LOAD", i);
            phdr_idx = (int)i;
            pt_phdr = ph;
            break;
        case PT_GNU_STACK:
            exec_stack = (ph.p_flags & PF_X) != 0;
            break;
        default:
            break;
        }
    }
    if (nloads == 0)
        return elf_refuse(err, errlen, "no PT_LOAD segment with p_memsz > 0: nothing to load");

    /* Placement: ET_EXEC loads where linked; ET_DYN at pie_base, keeping the largest alignment. */
    uint64_t lowest_page = page_down(loads[0].vaddr);
    uint64_t load_start = lowest_page;
    if (eh.e_type == ET_DYN) {
        if (!round_up(pie_base, max_align, &load_start) ||
            __builtin_add_overflow(load_start, lowest_page % max_align, &load_start))
            return elf_refuse(err, errlen,
                          "cannot place the image at 0x%" PRIx64 " aligned to p_align 0x%" PRIx64,
                          pie_base, max_align);
    }
    struct elf_info info = {0};
    info.base = load_start - lowest_page; /* modulo 2^64: relocate as v - lowest_page + load_start */
    info.phnum = eh.e_phnum;
    info.phent = eh.e_phentsize;
    info.phoff = eh.e_phoff;
    info.exec_stack = exec_stack;
    info.nseg = nloads;

    for (unsigned k = 0; k < nloads; k++) {
        const struct loadable *l = &loads[k];
        uint64_t gva, end, page_end;
        bool fits = !__builtin_add_overflow(l->vaddr - lowest_page, load_start, &gva) &&
                    !__builtin_add_overflow(gva, l->memsz, &end) &&
                    round_up(end, LOADER_PAGE, &page_end) && page_down(gva) >= user_lo &&
                    page_end <= user_hi;
        if (!fits)
            return elf_refuse(err, errlen,
                          "program header %u (PT_LOAD): segment [0x%" PRIx64 ", 0x%" PRIx64 ") does not fit in guest user memory [0x%" PRIx64 ", 0x%" PRIx64 ")",
                          l->index, l->vaddr + info.base, l->vaddr + info.base + l->memsz, user_lo,
                          user_hi);
        info.seg[k] = (struct elf_segment){gva, l->memsz, l->filesz, l->offset,
                                           perm_from_flags(l->flags)};
        if (k == 0)
            info.image_lo = page_down(gva);
        info.image_hi = page_end; /* sorted and disjoint: the last segment ends highest */
    }

    /* Entry must be in an executable segment. */
    uint64_t entry;
    int entry_seg = -1;
    if (eh.e_entry >= lowest_page &&
        !__builtin_add_overflow(eh.e_entry - lowest_page, load_start, &entry)) {
        for (unsigned k = 0; k < nloads; k++)
            if (entry >= info.seg[k].gva && entry - info.seg[k].gva < info.seg[k].memsz)
                entry_seg = (int)k;
    }
    if (entry_seg < 0)
        return elf_refuse(err, errlen, "entry point e_entry 0x%" PRIx64 " is outside every loadable segment",
                      eh.e_entry);
    if (!(loads[entry_seg].flags & PF_X))
        return elf_refuse(err, errlen,
                      "entry point e_entry 0x%" PRIx64 " lies in program header %u (PT_LOAD), which is not executable (no PF_X)",
                      eh.e_entry, loads[entry_seg].index);
    info.entry = entry;

    /* TLS initialisation image must be file bytes of a loaded segment, at the matching address. */
    if (tls_idx >= 0 && tls.p_filesz > 0) {
        int k = load_containing_file_range(loads, nloads, tls.p_offset, tls.p_filesz);
        if (k < 0 || loads[k].vaddr + (tls.p_offset - loads[k].offset) != tls.p_vaddr)
            return elf_refuse(err, errlen,
                          "program header %d (PT_TLS): [0x%" PRIx64 ", +0x%" PRIx64 ") at p_vaddr 0x%" PRIx64 " does not lie within a loaded segment's file range",
                          tls_idx, tls.p_offset, tls.p_filesz, tls.p_vaddr);
    }

    /* AT_PHDR: where the program headers are mapped, if they are. */
    uint64_t table_len = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
    int k = load_containing_file_range(loads, nloads, eh.e_phoff, table_len);
    uint64_t mapped_phdr = k < 0 ? 0 : info.seg[k].gva + (eh.e_phoff - loads[k].offset);
    if (phdr_idx >= 0) {
        uint64_t claimed;
        if (pt_phdr.p_vaddr < lowest_page ||
            __builtin_add_overflow(pt_phdr.p_vaddr - lowest_page, load_start, &claimed) ||
            claimed != mapped_phdr || mapped_phdr == 0)
            return elf_refuse(err, errlen,
                          "program header %d (PT_PHDR): p_vaddr 0x%" PRIx64 " is not where a PT_LOAD maps the program header table (file offset 0x%" PRIx64 ")",
                          phdr_idx, pt_phdr.p_vaddr, eh.e_phoff);
    }
    info.phdr_gva = mapped_phdr;

    *out = info;
    return 0;
}

/* Sets page permissions: each page gets the union of the permissions of the segments touching it. */
static int set_segment_perms(struct guest_mem *gm, const struct elf_info *info)
{
    uint64_t bounds[2 * ELF_MAX_SEGMENTS];
    unsigned nb = 0;
    for (unsigned i = 0; i < info->nseg; i++) {
        const struct elf_segment *s = &info->seg[i];
        uint64_t end;
        if (__builtin_add_overflow(s->gva, s->memsz, &end) || !round_up(end, LOADER_PAGE, &end))
            return -EINVAL;
        uint64_t pair[2] = {page_down(s->gva), end};
        for (unsigned p = 0; p < 2; p++) { /* insertion into the sorted, duplicate-free list */
            unsigned at = 0;
            while (at < nb && bounds[at] < pair[p])
                at++;
            if (at < nb && bounds[at] == pair[p])
                continue;
            memmove(&bounds[at + 1], &bounds[at], (nb - at) * sizeof(bounds[0]));
            bounds[at] = pair[p];
            nb++;
        }
    }
    uint64_t run_start = 0, run_end = 0;
    unsigned run_perm = 0;
    for (unsigned b = 0; b + 1 <= nb; b++) {
        unsigned perm = 0;
        if (b + 1 < nb) {
            for (unsigned i = 0; i < info->nseg; i++) {
                const struct elf_segment *s = &info->seg[i];
                uint64_t first = page_down(s->gva), last = page_down(s->gva + s->memsz - 1);
                if (bounds[b] >= first && bounds[b] <= last)
                    perm |= s->perm;
            }
            if (perm & GPERM_RWX)
                perm &= ~(unsigned)GPERM_RESERVED;
        }
        /* Flush the current run when this interval breaks it (gap, different perm, or end). */
        if (run_perm && (perm != run_perm || bounds[b] != run_end)) {
            int rc = gmem_set_perm(gm, run_start, run_end - run_start, run_perm);
            if (rc)
                return rc;
            run_perm = 0;
        }
        if (perm) {
            if (!run_perm)
                run_start = bounds[b];
            run_perm = perm;
            run_end = bounds[b + 1];
        }
    }
    return 0;
}

int elf_load(struct guest_mem *gm, const uint8_t *file, size_t size, const struct elf_info *info)
{
    if (!gm || !info || info->nseg == 0 || info->nseg > ELF_MAX_SEGMENTS || (!file && size))
        return -EINVAL;
    for (unsigned i = 0; i < info->nseg; i++) {
        const struct elf_segment *s = &info->seg[i];
        if (s->filesz > s->memsz || !elf_in_file(s->offset, s->filesz, size) || s->memsz == 0)
            return -EINVAL;
        /* The pages holding file bytes are given and written; the zero-filled rest (.bss) is
         * left to the first touch, as fresh pages read as zero, unless a page is in use. */
        uint64_t page_end = (s->gva + s->filesz + 4095) & ~4095ull;
        uint64_t fill_end = page_end > s->gva + s->memsz ? s->gva + s->memsz : page_end;
        uint8_t *dst = gmem_host_ptr(gm, s->gva, s->memsz);
        if (!dst)
            return -EFAULT;
        int rc = fill_end > s->gva ? gmem_give_range(gm, s->gva, fill_end - s->gva) : 0;
        if (rc)
            return rc; /* -ENOMEM: the memory limit */
        if (s->filesz)
            memcpy(dst, file + s->offset, s->filesz);
        memset(dst + s->filesz, 0, fill_end - s->gva - s->filesz);
        for (uint64_t a = page_end; a < s->gva + s->memsz; a += 4096)
            if (gmem_page_given(gm, a / 4096)) /* two segments sharing a page */
                memset(gm->host + a, 0, s->gva + s->memsz - a < 4096 ? s->gva + s->memsz - a : 4096);
    }
    return set_segment_perms(gm, info);
}
