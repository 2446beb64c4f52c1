/* ELF header checks shared by the loaders (a job's program, a Linux kernel): every field of the
 * identification, the types and the header tables, with a message naming the defect. */
#include "vmm/core/elf_check.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_PHNUM 64

int elf_refuse(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -ENOEXEC;
}

bool elf_in_file(uint64_t off, uint64_t len, size_t size)
{
    uint64_t end;
    return !__builtin_add_overflow(off, len, &end) && end <= (uint64_t)size;
}

#define refuse elf_refuse
#define in_file elf_in_file

static int check_ident_and_types(const Elf64_Ehdr *eh, char *err, size_t errlen)
{
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return refuse(err, errlen, "bad ELF magic %02x %02x %02x %02x: not an ELF file",
                      eh->e_ident[0], eh->e_ident[1], eh->e_ident[2], eh->e_ident[3]);
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return refuse(err, errlen, "EI_CLASS %u: not a 64-bit ELF file (ELFCLASS64 = %u)",
                      eh->e_ident[EI_CLASS], ELFCLASS64);
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return refuse(err, errlen, "EI_DATA %u: not little-endian (ELFDATA2LSB = %u)",
                      eh->e_ident[EI_DATA], ELFDATA2LSB);
    if (eh->e_ident[EI_VERSION] != EV_CURRENT)
        return refuse(err, errlen, "EI_VERSION %u: not EV_CURRENT (%u)", eh->e_ident[EI_VERSION],
                      EV_CURRENT);
    if (eh->e_ident[EI_OSABI] != ELFOSABI_SYSV && eh->e_ident[EI_OSABI] != ELFOSABI_GNU)
        return refuse(err, errlen, "EI_OSABI %u: not a System V or GNU/Linux program",
                      eh->e_ident[EI_OSABI]);
    if (eh->e_type == ET_REL)
        return refuse(err, errlen, "e_type ET_REL: a relocatable object, not an executable");
    if (eh->e_type == ET_CORE)
        return refuse(err, errlen, "e_type ET_CORE: a core dump, not an executable");
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return refuse(err, errlen, "e_type 0x%x: not an executable (ET_EXEC or ET_DYN)", eh->e_type);
    if (eh->e_machine != EM_X86_64)
        return refuse(err, errlen, "e_machine %u: not x86-64 (EM_X86_64 = %u)", eh->e_machine,
                      EM_X86_64);
    if (eh->e_version != EV_CURRENT)
        return refuse(err, errlen, "e_version %" PRIu32 ": not EV_CURRENT (%u)", eh->e_version,
                      EV_CURRENT);
    if (eh->e_ehsize != sizeof(Elf64_Ehdr))
        return refuse(err, errlen, "e_ehsize %u: ELF header is %zu bytes", eh->e_ehsize,
                      sizeof(Elf64_Ehdr));
    return 0;
}

static int check_header_tables(const Elf64_Ehdr *eh, size_t size, char *err, size_t errlen)
{
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return refuse(err, errlen, "e_phentsize %u: program headers are %zu bytes", eh->e_phentsize,
                      sizeof(Elf64_Phdr));
    if (eh->e_phnum == PN_XNUM)
        return refuse(err, errlen, "e_phnum PN_XNUM (0x%x): extended program header count unsupported",
                      PN_XNUM);
    if (eh->e_phnum == 0 || eh->e_phnum > MAX_PHNUM)
        return refuse(err, errlen, "e_phnum %u: must be between 1 and %d", eh->e_phnum, MAX_PHNUM);
    uint64_t table_len = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
    if (!in_file(eh->e_phoff, table_len, size))
        return refuse(err, errlen,
                      "program header table [0x%" PRIx64 ", +0x%" PRIx64 ") extends past end of file (%zu bytes)",
                      eh->e_phoff, table_len, size);
    if (eh->e_phoff < sizeof(Elf64_Ehdr))
        return refuse(err, errlen, "program header table at e_phoff 0x%" PRIx64 " overlaps the ELF header",
                      eh->e_phoff);

    /* Section headers are not used for loading, but a file that lies about them is malformed. */
    if (eh->e_shoff == 0) {
        if (eh->e_shnum != 0)
            return refuse(err, errlen, "e_shnum %u but e_shoff 0: section header table missing",
                          eh->e_shnum);
    } else {
        if (eh->e_shentsize != sizeof(Elf64_Shdr))
            return refuse(err, errlen, "e_shentsize %u: section headers are %zu bytes",
                          eh->e_shentsize, sizeof(Elf64_Shdr));
        uint64_t count = eh->e_shnum ? eh->e_shnum : 1; /* 0: real count lives in section 0 */
        if (!in_file(eh->e_shoff, count * sizeof(Elf64_Shdr), size))
            return refuse(err, errlen,
                          "section header table at e_shoff 0x%" PRIx64 " (%" PRIu64 " entries) extends past end of file (%zu bytes)",
                          eh->e_shoff, count, size);
        if (eh->e_shnum != 0 && eh->e_shstrndx != SHN_UNDEF && eh->e_shstrndx != SHN_XINDEX &&
            eh->e_shstrndx >= eh->e_shnum)
            return refuse(err, errlen, "e_shstrndx %u: not below e_shnum %u", eh->e_shstrndx,
                          eh->e_shnum);
    }
    return 0;
}

int elf_check_header(const Elf64_Ehdr *eh, size_t size, char *err, size_t errlen)
{
    int rc = check_ident_and_types(eh, err, errlen);
    return rc ? rc : check_header_tables(eh, size, err, errlen);
}
