/* Builds valid and deliberately malformed x86-64 ELF images in memory, for the loader tests and badelf. */
#ifndef ISOVM_TESTS_ELF_FIXTURE_H
#define ISOVM_TESTS_ELF_FIXTURE_H
#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#define FIXTURE_MAX_PHDRS   24
#define FIXTURE_MAX_PATCHES 4

/* Guest user range and PIE base the fixtures are designed for. */
#define FIXTURE_USER_LO  0x100000ULL
#define FIXTURE_USER_HI  0x3ee0000ULL
#define FIXTURE_PIE_BASE 0x1000000ULL

/* The valid ET_EXEC image: phdrs at file offset 64, three PT_LOADs
 *   [0] R   file [0, 0x1000)       -> [0x400000, 0x401000)
 *   [1] R X file [0x1000, 0x1800)  -> [0x401000, 0x401800)
 *   [2] RW  file [0x1800, 0x1b00)  -> [0x401800, 0x403100)  (bss from 0x401b00; shares page 0x401000 with [1])
 * plus PT_TLS (inside [2]), PT_GNU_STACK (RW) and PT_NOTE. The static-PIE image is the same at vaddr 0,
 * with a leading PT_PHDR and a PT_DYNAMIC. */
#define FIXTURE_EXEC_VADDR   0x400000ULL
#define FIXTURE_EXEC_ENTRY   0x401010ULL
#define FIXTURE_PHOFF        64
#define FIXTURE_FILE_SIZE    0x1b00
#define FIXTURE_TEXT_OFFSET  0x1000
#define FIXTURE_TEXT_SIZE    0x800
#define FIXTURE_DATA_OFFSET  0x1800
#define FIXTURE_DATA_FILESZ  0x300
#define FIXTURE_DATA_MEMSZ   0x1900

struct elf_patch {
    size_t offset;
    const void *bytes;
    size_t len;
};

struct elf_spec {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[FIXTURE_MAX_PHDRS];
    unsigned nph;             /* headers serialized at eh.e_phoff (eh.e_phnum may claim otherwise) */
    size_t file_size;         /* bytes in the image; headers are cut off past it */
    struct elf_patch patch[FIXTURE_MAX_PATCHES]; /* extra bytes written last (e.g. an interpreter path) */
    unsigned npatch;
};

void fixture_exec(struct elf_spec *s);  /* valid static ET_EXEC */
void fixture_dyn(struct elf_spec *s);   /* valid static-PIE (ET_DYN) */

/* Byte that segment contents hold at a file offset (headers excepted). */
uint8_t fixture_pattern(size_t offset);

/* Serialize into a malloc'ed buffer (never NULL unless out of memory, even for size 0). */
uint8_t *fixture_serialize(const struct elf_spec *s, size_t *size);

struct elf_defect {
    const char *file_name;    /* named after the defect, e.g. "wrong-machine.elf" */
    const char *expect[2];    /* words the loader's refusal must contain (NULL: unused) */
    void (*make)(struct elf_spec *s);
};
extern const struct elf_defect elf_defects[];
extern const size_t elf_defect_count;

/* Build defect i into a malloc'ed buffer. */
uint8_t *fixture_defect(size_t i, size_t *size);

#endif
