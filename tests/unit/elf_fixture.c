/* Builds valid and deliberately malformed x86-64 ELF images in memory, for the loader tests and badelf. */
#include "elf_fixture.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char interp_path[] = "/lib64/ld-linux-x86-64.so.2";
#define INTERP_OFFSET 0x1a00 /* inside the file, past the TLS image */

static Elf64_Phdr phdr(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr, uint64_t filesz,
                       uint64_t memsz, uint64_t align)
{
    return (Elf64_Phdr){.p_type = type, .p_flags = flags, .p_offset = offset, .p_vaddr = vaddr,
                        .p_paddr = vaddr, .p_filesz = filesz, .p_memsz = memsz, .p_align = align};
}

static void fixture_header(struct elf_spec *s, uint16_t type, uint64_t entry)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->eh.e_ident, ELFMAG, SELFMAG);
    s->eh.e_ident[EI_CLASS] = ELFCLASS64;
    s->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    s->eh.e_ident[EI_VERSION] = EV_CURRENT;
    s->eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
    s->eh.e_type = type;
    s->eh.e_machine = EM_X86_64;
    s->eh.e_version = EV_CURRENT;
    s->eh.e_entry = entry;
    s->eh.e_phoff = FIXTURE_PHOFF;
    s->eh.e_ehsize = sizeof(Elf64_Ehdr);
    s->eh.e_phentsize = sizeof(Elf64_Phdr);
    s->file_size = FIXTURE_FILE_SIZE;
}

/* The three loads and the TLS/stack/note headers, linked at `at`. */
static void add_image_phdrs(struct elf_spec *s, uint64_t at)
{
    s->ph[s->nph++] = phdr(PT_LOAD, PF_R, 0, at, 0x1000, 0x1000, 0x1000);
    s->ph[s->nph++] = phdr(PT_LOAD, PF_R | PF_X, FIXTURE_TEXT_OFFSET, at + FIXTURE_TEXT_OFFSET,
                           FIXTURE_TEXT_SIZE, FIXTURE_TEXT_SIZE, 0x1000);
    s->ph[s->nph++] = phdr(PT_LOAD, PF_R | PF_W, FIXTURE_DATA_OFFSET, at + FIXTURE_DATA_OFFSET,
                           FIXTURE_DATA_FILESZ, FIXTURE_DATA_MEMSZ, 0x1000);
    s->ph[s->nph++] = phdr(PT_TLS, PF_R, FIXTURE_DATA_OFFSET, at + FIXTURE_DATA_OFFSET, 0x10, 0x20, 8);
    s->ph[s->nph++] = phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
    s->ph[s->nph++] = phdr(PT_NOTE, PF_R, 0x200, at + 0x200, 0x20, 0x20, 4);
}

void fixture_exec(struct elf_spec *s)
{
    fixture_header(s, ET_EXEC, FIXTURE_EXEC_ENTRY);
    add_image_phdrs(s, FIXTURE_EXEC_VADDR);
    s->eh.e_phnum = (uint16_t)s->nph;
}

void fixture_dyn(struct elf_spec *s)
{
    fixture_header(s, ET_DYN, FIXTURE_EXEC_ENTRY - FIXTURE_EXEC_VADDR);
    s->ph[s->nph++] = phdr(PT_PHDR, PF_R, FIXTURE_PHOFF, FIXTURE_PHOFF, 0, 0, 8);
    add_image_phdrs(s, 0);
    s->ph[s->nph++] = phdr(PT_DYNAMIC, PF_R | PF_W, 0x1900, 0x1900, 0x40, 0x40, 8);
    s->eh.e_phnum = (uint16_t)s->nph;
    s->ph[0].p_filesz = s->ph[0].p_memsz = s->nph * sizeof(Elf64_Phdr);
}

uint8_t fixture_pattern(size_t offset)
{
    return (uint8_t)(offset * 131u + (offset >> 8) + 7u);
}

static void put_clipped(uint8_t *buf, size_t size, size_t at, const void *src, size_t len)
{
    if (at >= size)
        return;
    memcpy(buf + at, src, len < size - at ? len : size - at);
}

uint8_t *fixture_serialize(const struct elf_spec *s, size_t *size)
{
    uint8_t *buf = malloc(s->file_size ? s->file_size : 1);
    if (!buf)
        return NULL;
    for (size_t i = 0; i < s->file_size; i++)
        buf[i] = fixture_pattern(i);
    for (unsigned i = 0; i < s->nph; i++) {
        uint64_t at;
        if (__builtin_add_overflow(s->eh.e_phoff, i * sizeof(Elf64_Phdr), &at) || at > SIZE_MAX)
            break;
        put_clipped(buf, s->file_size, (size_t)at, &s->ph[i], sizeof(Elf64_Phdr));
    }
    put_clipped(buf, s->file_size, 0, &s->eh, sizeof(s->eh)); /* last: wins if headers overlap */
    for (unsigned i = 0; i < s->npatch; i++)
        put_clipped(buf, s->file_size, s->patch[i].offset, s->patch[i].bytes, s->patch[i].len);
    *size = s->file_size;
    return buf;
}

/* ---- defects ---- */

static void add_interp(struct elf_spec *s, unsigned at_index)
{
    memmove(&s->ph[at_index + 1], &s->ph[at_index], (s->nph - at_index) * sizeof(Elf64_Phdr));
    s->ph[at_index] = phdr(PT_INTERP, PF_R, INTERP_OFFSET, INTERP_OFFSET, sizeof(interp_path),
                           sizeof(interp_path), 1);
    s->nph++;
    s->eh.e_phnum = (uint16_t)s->nph;
    s->patch[s->npatch++] = (struct elf_patch){INTERP_OFFSET, interp_path, sizeof(interp_path)};
}

static void d_empty(struct elf_spec *s) { fixture_exec(s); s->file_size = 0; }
static void d_truncated_header(struct elf_spec *s) { fixture_exec(s); s->file_size = 40; }
static void d_bad_magic(struct elf_spec *s) { fixture_exec(s); s->eh.e_ident[EI_MAG1] = 'X'; }
static void d_wrong_class(struct elf_spec *s) { fixture_exec(s); s->eh.e_ident[EI_CLASS] = ELFCLASS32; }
static void d_wrong_endianness(struct elf_spec *s) { fixture_exec(s); s->eh.e_ident[EI_DATA] = ELFDATA2MSB; }
static void d_bad_ident_version(struct elf_spec *s) { fixture_exec(s); s->eh.e_ident[EI_VERSION] = 2; }
static void d_bad_e_version(struct elf_spec *s) { fixture_exec(s); s->eh.e_version = 2; }
static void d_bad_osabi(struct elf_spec *s) { fixture_exec(s); s->eh.e_ident[EI_OSABI] = ELFOSABI_FREEBSD; }
static void d_wrong_machine(struct elf_spec *s) { fixture_exec(s); s->eh.e_machine = EM_AARCH64; }
static void d_et_rel(struct elf_spec *s) { fixture_exec(s); s->eh.e_type = ET_REL; }
static void d_et_core(struct elf_spec *s) { fixture_exec(s); s->eh.e_type = ET_CORE; }
static void d_et_none(struct elf_spec *s) { fixture_exec(s); s->eh.e_type = ET_NONE; }
static void d_bad_ehsize(struct elf_spec *s) { fixture_exec(s); s->eh.e_ehsize = 52; }
static void d_bad_phentsize(struct elf_spec *s) { fixture_exec(s); s->eh.e_phentsize = 32; }
static void d_phnum_zero(struct elf_spec *s) { fixture_exec(s); s->eh.e_phnum = 0; }
static void d_phnum_huge(struct elf_spec *s) { fixture_exec(s); s->eh.e_phnum = 1000; }
static void d_phnum_xnum(struct elf_spec *s) { fixture_exec(s); s->eh.e_phnum = PN_XNUM; }
static void d_truncated_phdrs(struct elf_spec *s)
{
    fixture_exec(s);
    s->file_size = FIXTURE_PHOFF + s->nph * sizeof(Elf64_Phdr) - 8;
}
static void d_phoff_past_eof(struct elf_spec *s) { fixture_exec(s); s->eh.e_phoff = 0xffffffffffffffe0ULL; }
static void d_phdrs_overlap_header(struct elf_spec *s) { fixture_exec(s); s->eh.e_phoff = 0x20; }
static void d_bad_section_table(struct elf_spec *s)
{
    fixture_exec(s);
    s->eh.e_shoff = 0x100000;
    s->eh.e_shnum = 5;
    s->eh.e_shentsize = sizeof(Elf64_Shdr);
}
static void d_offset_past_eof(struct elf_spec *s) { fixture_exec(s); s->ph[2].p_offset = 0x100800; }
static void d_filesz_gt_memsz(struct elf_spec *s) { fixture_exec(s); s->ph[1].p_filesz = 0x900; }
static void d_overlapping(struct elf_spec *s)
{
    fixture_exec(s);
    s->ph[2].p_vaddr = FIXTURE_EXEC_VADDR + 0x1700;
    s->ph[2].p_offset = 0x1700;
}
static void d_huge_segment(struct elf_spec *s) { fixture_exec(s); s->ph[2].p_memsz = 1ULL << 40; }
static void d_segment_at_zero(struct elf_spec *s) { fixture_exec(s); s->ph[0].p_vaddr = 0; }
static void d_segment_wraps(struct elf_spec *s)
{
    fixture_exec(s);
    s->ph[2].p_vaddr = 0xfffffffffffff800ULL; /* congruent with offset 0x1800 */
}
static void d_entry_outside(struct elf_spec *s) { fixture_exec(s); s->eh.e_entry = 0x500000; }
static void d_entry_not_executable(struct elf_spec *s) { fixture_exec(s); s->eh.e_entry = 0x401900; }
static void d_unsorted(struct elf_spec *s)
{
    fixture_exec(s);
    Elf64_Phdr tmp = s->ph[1];
    s->ph[1] = s->ph[2];
    s->ph[2] = tmp;
}
static void d_non_congruent(struct elf_spec *s) { fixture_exec(s); s->ph[1].p_offset = 0x1010; }
static void d_bad_alignment(struct elf_spec *s) { fixture_exec(s); s->ph[1].p_align = 3; }
static void d_dyn_interp(struct elf_spec *s) { fixture_dyn(s); add_interp(s, 1); s->ph[0].p_filesz = s->ph[0].p_memsz = s->nph * sizeof(Elf64_Phdr); }
static void d_exec_interp(struct elf_spec *s) { fixture_exec(s); add_interp(s, 0); }
static void d_no_load(struct elf_spec *s)
{
    fixture_exec(s);
    for (unsigned i = 0; i < 3; i++)
        s->ph[i].p_type = PT_NULL;
}
static void d_too_many_segments(struct elf_spec *s)
{
    fixture_header(s, ET_EXEC, 0x401000);
    for (unsigned i = 0; i < 17; i++)
        s->ph[s->nph++] = phdr(PT_LOAD, PF_R | PF_X, 0x1000, 0x401000 + i * 0x1000ULL, 0x10, 0x10, 0x1000);
    s->eh.e_phnum = (uint16_t)s->nph;
}
static void d_tls_outside(struct elf_spec *s) { fixture_exec(s); s->ph[3].p_vaddr = 0x402000; }
static void d_phdr_mismatch(struct elf_spec *s) { fixture_dyn(s); s->ph[0].p_vaddr = 0x80; }
static void d_phdr_after_load(struct elf_spec *s)
{
    fixture_exec(s);
    s->ph[5] = phdr(PT_PHDR, PF_R, FIXTURE_PHOFF, FIXTURE_EXEC_VADDR + FIXTURE_PHOFF, 0x150, 0x150, 8);
}

const struct elf_defect elf_defects[] = {
    {"empty.elf", {"0 bytes", "ELF header"}, d_empty},
    {"truncated-header.elf", {"40 bytes", "ELF header"}, d_truncated_header},
    {"bad-magic.elf", {"magic", NULL}, d_bad_magic},
    {"wrong-class.elf", {"EI_CLASS 1", "64-bit"}, d_wrong_class},
    {"wrong-endianness.elf", {"EI_DATA 2", "little-endian"}, d_wrong_endianness},
    {"bad-version.elf", {"EI_VERSION 2", NULL}, d_bad_ident_version},
    {"bad-e-version.elf", {"e_version 2", NULL}, d_bad_e_version},
    {"bad-osabi.elf", {"EI_OSABI 9", NULL}, d_bad_osabi},
    {"wrong-machine.elf", {"e_machine 183", "x86-64"}, d_wrong_machine},
    {"et-rel.elf", {"ET_REL", "relocatable"}, d_et_rel},
    {"et-core.elf", {"ET_CORE", "core dump"}, d_et_core},
    {"et-none.elf", {"e_type 0x0", NULL}, d_et_none},
    {"bad-ehsize.elf", {"e_ehsize 52", NULL}, d_bad_ehsize},
    {"wrong-phentsize.elf", {"e_phentsize 32", NULL}, d_bad_phentsize},
    {"phnum-zero.elf", {"e_phnum 0", NULL}, d_phnum_zero},
    {"phnum-huge.elf", {"e_phnum 1000", NULL}, d_phnum_huge},
    {"phnum-xnum.elf", {"PN_XNUM", NULL}, d_phnum_xnum},
    {"truncated-phdrs.elf", {"program header table", "past end of file"}, d_truncated_phdrs},
    {"phoff-past-eof.elf", {"program header table", "past end of file"}, d_phoff_past_eof},
    {"phdrs-overlap-header.elf", {"program header table", "overlaps the ELF header"}, d_phdrs_overlap_header},
    {"section-table-past-eof.elf", {"section header table", "past end of file"}, d_bad_section_table},
    {"segment-offset-past-eof.elf", {"program header 2 (PT_LOAD)", "past end of file"}, d_offset_past_eof},
    {"filesz-gt-memsz.elf", {"program header 1 (PT_LOAD)", "p_filesz 0x900 > p_memsz 0x800"}, d_filesz_gt_memsz},
    {"overlapping-segments.elf", {"program header 2 (PT_LOAD)", "overlaps program header 1"}, d_overlapping},
    {"huge-segment.elf", {"program header 2 (PT_LOAD)", "does not fit in guest user memory"}, d_huge_segment},
    {"segment-at-zero.elf", {"program header 0 (PT_LOAD)", "does not fit in guest user memory"}, d_segment_at_zero},
    {"segment-wraps.elf", {"program header 2 (PT_LOAD)", "wraps around"}, d_segment_wraps},
    {"entry-outside-segments.elf", {"entry point", "outside every loadable segment"}, d_entry_outside},
    {"entry-not-executable.elf", {"entry point", "not executable"}, d_entry_not_executable},
    {"unsorted-segments.elf", {"program header 2 (PT_LOAD)", "not sorted"}, d_unsorted},
    {"non-congruent-offset.elf", {"program header 1 (PT_LOAD)", "not congruent"}, d_non_congruent},
    {"bad-alignment.elf", {"program header 1 (PT_LOAD)", "p_align 0x3"}, d_bad_alignment},
    {"dynamic-pt-interp.elf", {"dynamically linked (PT_INTERP /lib64/ld-linux-x86-64.so.2)", "only static"}, d_dyn_interp},
    {"exec-pt-interp.elf", {"dynamically linked (PT_INTERP /lib64/ld-linux-x86-64.so.2)", "only static"}, d_exec_interp},
    {"no-pt-load.elf", {"no PT_LOAD", NULL}, d_no_load},
    {"too-many-segments.elf", {"program header 16 (PT_LOAD)", "more than 16 loadable segments"}, d_too_many_segments},
    {"tls-outside-segment.elf", {"program header 3 (PT_TLS)", "loaded segment"}, d_tls_outside},
    {"phdr-mismatch.elf", {"program header 0 (PT_PHDR)", "program header table"}, d_phdr_mismatch},
    {"phdr-after-load.elf", {"program header 5 (PT_PHDR)", "must precede"}, d_phdr_after_load},
};
const size_t elf_defect_count = sizeof(elf_defects) / sizeof(elf_defects[0]);

uint8_t *fixture_defect(size_t i, size_t *size)
{
    struct elf_spec s;
    elf_defects[i].make(&s);
    return fixture_serialize(&s, size);
}
