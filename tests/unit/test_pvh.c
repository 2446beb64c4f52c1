/* The PVH kernel loader and start_info: crafted vmlinux files (good, and each defect refused
 * with its message), the loaded bytes, and start_info's layout as the kernel reads it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vmm/linux/pvh.h"

#define RAM (64u << 20)
#define KBASE 0x1000000ull

/* A small vmlinux: two PT_LOAD segments at 16 MiB and 16 MiB + 64 KiB, a PT_NOTE with a Xen
 * PHYS32_ENTRY note (and a note before it to skip). Returns its size. */
static size_t make_kernel(uint8_t *f, size_t cap, uint32_t entry, uint32_t note_type)
{
    memset(f, 0, cap);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phoff = sizeof *eh;
    eh->e_phnum = 3;
    eh->e_entry = 0xffffffff81000000ull;
    Elf64_Phdr *ph = (Elf64_Phdr *)(f + eh->e_phoff);
    ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x1000, .p_paddr = KBASE,
                          .p_vaddr = 0xffffffff81000000ull, .p_filesz = 0x2000, .p_memsz = 0x3000 };
    ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x3000, .p_paddr = KBASE + 0x10000,
                          .p_filesz = 0x1000, .p_memsz = 0x1000 };
    ph[2] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x800, .p_filesz = 0 };
    uint8_t *n = f + 0x800;
    Elf64_Nhdr other = { 4, 4, 1 };            /* "GNU" build-id-like note to skip */
    memcpy(n, &other, sizeof other);
    memcpy(n + 12, "GNU", 4);
    memcpy(n + 16, "abcd", 4);
    n += 20;
    Elf64_Nhdr xen = { 4, 4, note_type };
    memcpy(n, &xen, sizeof xen);
    memcpy(n + 12, "Xen", 4);
    memcpy(n + 16, &entry, 4);
    ph[2].p_filesz = 40;
    for (size_t i = 0x1000; i < 0x4000; i++)
        f[i] = (uint8_t)(i * 7);
    assert_true(cap >= 0x4000);
    return 0x4000;
}

/* The kernel of make_kernel checked (into *k) and written to a memfd, whose fd is returned. */
static int good_kernel_fd(uint8_t *f, size_t cap, struct pvh_kernel *k)
{
    size_t n = make_kernel(f, cap, (uint32_t)KBASE + 0x100, 18);
    char err[256];
    assert_int_equal(pvh_kernel_check(f, n, 0x100000, RAM, k, err, sizeof err), 0);
    int fd = memfd_create("vmlinux", 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f, n), (ssize_t)n);
    return fd;
}

static void test_good_kernel(void **state)
{
    (void)state;
    static uint8_t f[0x4000];
    struct pvh_kernel k;
    int fd = good_kernel_fd(f, sizeof f, &k);
    assert_int_equal(k.entry, KBASE + 0x100);
    assert_int_equal(k.nseg, 2);
    assert_int_equal(k.lo, KBASE);
    assert_int_equal(k.hi, KBASE + 0x11000);
    uint8_t *ram = malloc(RAM);
    assert_non_null(ram);
    memset(ram, 0xee, RAM);
    assert_int_equal(pvh_kernel_read(fd, &k, ram, RAM), 0);
    assert_memory_equal(ram + KBASE, f + 0x1000, 0x2000);
    for (size_t i = 0x2000; i < 0x3000; i++) /* bss zeroed */
        assert_int_equal(ram[KBASE + i], 0);
    assert_memory_equal(ram + KBASE + 0x10000, f + 0x3000, 0x1000);
    assert_int_equal(ram[KBASE + 0x3000], 0xee); /* nothing else written */
    close(fd);
    free(ram);
}

/* pvh_kernel_read: a hole in the file is neither read nor written (fresh guest RAM is zero
 * there); a file cut short is -ENODATA; a segment outside RAM -EINVAL */
static void test_kernel_read(void **state)
{
    (void)state;
    static uint8_t f[0x4000];
    struct pvh_kernel k;
    int fd = good_kernel_fd(f, sizeof f, &k);
    uint8_t *ram = malloc(RAM);
    assert_non_null(ram);

    /* a hole over the second page of segment 0's bytes (file 0x2000..0x3000) */
    assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0x2000, 0x1000), 0);
    memset(ram, 0xee, RAM);
    assert_int_equal(pvh_kernel_read(fd, &k, ram, RAM), 0);
    assert_memory_equal(ram + KBASE, f + 0x1000, 0x1000);
    for (size_t i = 0x1000; i < 0x2000; i++) /* the hole: skipped */
        assert_int_equal(ram[KBASE + i], 0xee);
    for (size_t i = 0x2000; i < 0x3000; i++) /* bss zeroed */
        assert_int_equal(ram[KBASE + i], 0);
    assert_memory_equal(ram + KBASE + 0x10000, f + 0x3000, 0x1000);
    assert_int_equal(ram[KBASE + 0x3000], 0xee);

    /* a hole to the end of the file: segment 1 (file 0x3000..0x4000) is not read */
    assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0x3000, 0x1000), 0);
    memset(ram, 0xee, RAM);
    assert_int_equal(pvh_kernel_read(fd, &k, ram, RAM), 0);
    assert_int_equal(ram[KBASE + 0x10000], 0xee);
    assert_int_equal(ram[KBASE + 0x10fff], 0xee);

    /* the file cut short after the check: a short read is an error, not a partial kernel */
    assert_int_equal(ftruncate(fd, 0x1800), 0);
    assert_int_equal(pvh_kernel_read(fd, &k, ram, RAM), -ENODATA);
    /* a segment outside RAM */
    assert_int_equal(pvh_kernel_read(fd, &k, ram, KBASE + 0x1000), -EINVAL);
    close(fd);
    free(ram);
}

/* each defect, refused with a message containing `want` */
static void refused(uint8_t *f, size_t n, uint64_t ram_hi, const char *want)
{
    struct pvh_kernel k;
    char err[256];
    assert_int_equal(pvh_kernel_check(f, n, 0x100000, ram_hi, &k, err, sizeof err), -ENOEXEC);
    if (!strstr(err, want))
        fail_msg("message '%s' lacks '%s'", err, want);
}

static void test_bad_kernels(void **state)
{
    (void)state;
    static uint8_t f[0x4000];
    size_t n = make_kernel(f, sizeof f, (uint32_t)KBASE, 17);   /* another note type */
    refused(f, n, RAM, "no XEN_ELFNOTE_PHYS32_ENTRY");
    n = make_kernel(f, sizeof f, 0x200000, 18);                  /* entry below the kernel */
    refused(f, n, RAM, "outside the loaded kernel");
    n = make_kernel(f, sizeof f, (uint32_t)KBASE, 18);
    refused(f, n, KBASE + 0x4000, "does not fit guest RAM");    /* too little memory */
    refused(f, 100, RAM, "");                                     /* truncated */
    refused(f, 0x3800, RAM, "outside the file");                 /* segment 1 cut */
    Elf64_Phdr *ph = (Elf64_Phdr *)(f + sizeof(Elf64_Ehdr));
    ph[1].p_paddr = KBASE + 0x2000;                               /* overlaps segment 0 */
    refused(f, n, RAM, "overlaps");
    n = make_kernel(f, sizeof f, (uint32_t)KBASE, 18);
    ph[1].p_paddr = UINT64_MAX - 0x10;                            /* wraps */
    refused(f, n, RAM, "does not fit");
    n = make_kernel(f, sizeof f, (uint32_t)KBASE, 18);
    Elf64_Nhdr huge = { 4, 0xfffffff0u, 18 };                     /* a note past its segment */
    memcpy(f + 0x800 + 20, &huge, sizeof huge);
    refused(f, n, RAM, "runs past");
    n = make_kernel(f, sizeof f, (uint32_t)KBASE, 18);
    Elf64_Nhdr wide = { 4, 2, 18 };                               /* a 2-byte entry */
    memcpy(f + 0x800 + 20, &wide, sizeof wide);
    refused(f, n, RAM, "want 4 or 8");
    n = make_kernel(f, sizeof f, (uint32_t)KBASE, 18);
    ((Elf64_Ehdr *)f)->e_type = ET_DYN;
    refused(f, n, RAM, "ET_EXEC");
    n = make_kernel(f, sizeof f, (uint32_t)KBASE, 18);
    ((Elf64_Ehdr *)f)->e_machine = EM_386;
    refused(f, n, RAM, "not x86-64");
    memcpy(f, "MZ\x90\x00", 4);                                   /* a bzImage starts with MZ */
    refused(f, n, RAM, "not an ELF file");
}

/* The Debian kernel the emulated host boots, when its cache is there (tests/emuhost/setup.sh). */
static void test_debian_vmlinux(void **state)
{
    (void)state;
    FILE *fp = fopen(".cache/emuhost/vmlinux", "rb");
    if (!fp) {
        printf("note: .cache/emuhost/vmlinux absent (run tests/emuhost/setup.sh): only crafted kernels checked\n");
        return;
    }
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *f = malloc((size_t)size);
    assert_non_null(f);
    assert_int_equal(fread(f, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    struct pvh_kernel k;
    char err[256];
    int rc = pvh_kernel_check(f, (size_t)size, 0x100000, 1ull << 30, &k, err, sizeof err);
    if (rc)
        fail_msg("Debian's vmlinux refused: %s", err);
    printf("note: Debian's vmlinux: entry 0x%x, [0x%llx, 0x%llx), %u segments\n", k.entry,
           (unsigned long long)k.lo, (unsigned long long)k.hi, k.nseg);
    assert_true(k.lo >= 0x1000000);
    free(f);
}

static void test_start_info(void **state)
{
    (void)state;
    uint8_t *ram = calloc(1, 1 << 20);
    assert_non_null(ram);
    const struct pvh_memmap map[3] = {
        { 0, 0x9fc00, PVH_MEMMAP_RAM }, { 0x9fc00, 0x60400, PVH_MEMMAP_RESERVED },
        { 0x100000, 0x7f00000, PVH_MEMMAP_RAM },
    };
    struct pvh_boot b = { .start_info_gpa = 0x6000, .cmdline_gpa = 0x20000,
                          .cmdline = "console=ttyS0 panic=-1", .initrd_gpa = 0x80000,
                          .initrd_size = 0x1234, .rsdp_gpa = 0xe0000, .map = map, .nmap = 3 };
    assert_int_equal(pvh_start_info_write(&b, ram, 1 << 20, 4096), 0);
    uint32_t u32;
    uint64_t u64;
    memcpy(&u32, ram + 0x6000, 4);
    assert_int_equal(u32, PVH_START_MAGIC);
    memcpy(&u32, ram + 0x6004, 4);
    assert_int_equal(u32, 1);
    memcpy(&u32, ram + 0x600c, 4);
    assert_int_equal(u32, 1);                    /* one module */
    memcpy(&u64, ram + 0x6010, 8);
    uint64_t mods = u64;
    memcpy(&u64, ram + mods, 8);
    assert_int_equal(u64, 0x80000);
    memcpy(&u64, ram + mods + 8, 8);
    assert_int_equal(u64, 0x1234);
    memcpy(&u64, ram + 0x6018, 8);
    assert_string_equal((char *)ram + u64, "console=ttyS0 panic=-1");
    memcpy(&u64, ram + 0x6020, 8);
    assert_int_equal(u64, 0xe0000);
    memcpy(&u64, ram + 0x6028, 8);
    uint64_t mapp = u64;
    memcpy(&u32, ram + 0x6030, 4);
    assert_int_equal(u32, 3);                    /* memmap_entries */
    assert_true(mapp >= mods + 32);              /* no overlap with the module list */
    memcpy(&u64, ram + mapp + 24 * 2, 8);
    assert_int_equal(u64, 0x100000);
    memcpy(&u32, ram + mapp + 24 * 1 + 16, 4);
    assert_int_equal(u32, PVH_MEMMAP_RESERVED);
    /* refusals */
    b.nmap = 0;
    assert_int_equal(pvh_start_info_write(&b, ram, 1 << 20, 4096), -EINVAL);
    b.nmap = PVH_MEMMAP_MAX + 1;
    assert_int_equal(pvh_start_info_write(&b, ram, 1 << 20, 4096), -EINVAL);
    b.nmap = 3;
    assert_int_equal(pvh_start_info_write(&b, ram, 1 << 20, 8), -EINVAL);       /* cmdline too long */
    b.initrd_gpa = (1 << 20) - 0x100;
    assert_int_equal(pvh_start_info_write(&b, ram, 1 << 20, 4096), -EINVAL);    /* initrd outside */
    b.initrd_gpa = 0x80000;
    b.cmdline_gpa = 0x6010;
    assert_int_equal(pvh_start_info_write(&b, ram, 1 << 20, 4096), -EINVAL);    /* overlap */
    b.cmdline_gpa = UINT64_MAX - 10;
    assert_int_equal(pvh_start_info_write(&b, ram, 1 << 20, 4096), -EINVAL);    /* wraps */
    free(ram);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_kernel),
        cmocka_unit_test(test_kernel_read),
        cmocka_unit_test(test_bad_kernels),
        cmocka_unit_test(test_debian_vmlinux),
        cmocka_unit_test(test_start_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
