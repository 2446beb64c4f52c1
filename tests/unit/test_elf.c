/* Unit tests for the ELF loader: malformed images refused, valid ones placed and loaded correctly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_fixture.h"
#include "vmm/core/elf_load.h"
#include "fake_guest_mem.h"

#define ERR_LEN       256
#define PAGE          0x1000ULL
#define FAKE_RAM_SIZE 0x4000000ULL /* 64 MiB: covers FIXTURE_USER_HI */

static int validate_fixture(const uint8_t *file, size_t size, struct elf_info *info, char *err)
{
    return elf_validate(file, size, FIXTURE_USER_LO, FIXTURE_USER_HI, FIXTURE_PIE_BASE, info, err,
                        ERR_LEN);
}

/* Validates a spec and expects success. */
static void validate_spec_ok(const struct elf_spec *spec, uint64_t pie_base, struct elf_info *info)
{
    size_t size;
    uint8_t *file = fixture_serialize(spec, &size);
    assert_non_null(file);
    char err[ERR_LEN];
    int rc = elf_validate(file, size, FIXTURE_USER_LO, FIXTURE_USER_HI, pie_base, info, err, sizeof(err));
    if (rc)
        fail_msg("unexpected refusal: %s", err);
    free(file);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (needle && !strstr(haystack, needle))
        fail_msg("message \"%s\" lacks \"%s\"", haystack, needle);
}

static void test_valid_exec(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_exec(&spec);
    validate_spec_ok(&spec, FIXTURE_PIE_BASE, &info);
    assert_int_equal(info.base, 0);
    assert_int_equal(info.entry, FIXTURE_EXEC_ENTRY);
    assert_int_equal(info.phdr_gva, FIXTURE_EXEC_VADDR + FIXTURE_PHOFF);
    assert_int_equal(info.phoff, FIXTURE_PHOFF);
    assert_int_equal(info.phnum, 6);
    assert_int_equal(info.phent, sizeof(Elf64_Phdr));
    assert_int_equal(info.image_lo, 0x400000);
    assert_int_equal(info.image_hi, 0x404000);
    assert_int_equal(info.exec_stack, 0);
    assert_int_equal(info.nseg, 3);
    assert_int_equal(info.seg[0].gva, 0x400000);
    assert_int_equal(info.seg[0].perm, GPERM_R);
    assert_int_equal(info.seg[1].gva, 0x401000);
    assert_int_equal(info.seg[1].perm, GPERM_R | GPERM_X);
    assert_int_equal(info.seg[2].gva, 0x401800);
    assert_int_equal(info.seg[2].filesz, FIXTURE_DATA_FILESZ);
    assert_int_equal(info.seg[2].memsz, FIXTURE_DATA_MEMSZ);
    assert_int_equal(info.seg[2].offset, FIXTURE_DATA_OFFSET);
    assert_int_equal(info.seg[2].perm, GPERM_R | GPERM_W);
}

static void test_valid_dyn(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_dyn(&spec);
    validate_spec_ok(&spec, FIXTURE_PIE_BASE, &info);
    assert_int_equal(info.base, FIXTURE_PIE_BASE);
    assert_int_equal(info.entry, FIXTURE_PIE_BASE + 0x1010);
    assert_int_equal(info.phdr_gva, FIXTURE_PIE_BASE + FIXTURE_PHOFF);
    assert_int_equal(info.image_lo, FIXTURE_PIE_BASE);
    assert_int_equal(info.image_hi, FIXTURE_PIE_BASE + 0x4000);
    assert_int_equal(info.nseg, 3);
    assert_int_equal(info.seg[2].gva, FIXTURE_PIE_BASE + FIXTURE_DATA_OFFSET);
}

static void test_dyn_pie_base_rounded_to_max_align(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_dyn(&spec);
    spec.ph[2].p_align = 0x200000; /* the text segment wants 2 MiB alignment */
    validate_spec_ok(&spec, FIXTURE_PIE_BASE + 0x1000, &info);
    assert_int_equal(info.base, FIXTURE_PIE_BASE + 0x200000);
    assert_int_equal(info.base % 0x200000, 0);
    assert_int_equal(info.entry, info.base + 0x1010);

    /* an already aligned pie_base is kept */
    validate_spec_ok(&spec, 0x800000, &info);
    assert_int_equal(info.base, 0x800000);
}

static void test_dyn_nonzero_lowest_vaddr(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_dyn(&spec);
    for (unsigned i = 0; i < spec.nph; i++)
        if (spec.ph[i].p_type != PT_GNU_STACK)
            spec.ph[i].p_vaddr += 0x3000;
    spec.eh.e_entry += 0x3000;
    validate_spec_ok(&spec, FIXTURE_PIE_BASE, &info);
    assert_int_equal(info.image_lo, FIXTURE_PIE_BASE);
    assert_int_equal(info.base, FIXTURE_PIE_BASE - 0x3000);
    assert_int_equal(info.entry, FIXTURE_PIE_BASE + 0x1010);
    assert_int_equal(info.phdr_gva, FIXTURE_PIE_BASE + FIXTURE_PHOFF);
}

static void test_phdrs_outside_loads_need_copy(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_exec(&spec);
    spec.eh.e_phoff = FIXTURE_FILE_SIZE; /* table appended after every segment's file bytes */
    spec.file_size = FIXTURE_FILE_SIZE + spec.nph * sizeof(Elf64_Phdr);
    validate_spec_ok(&spec, FIXTURE_PIE_BASE, &info);
    assert_int_equal(info.phdr_gva, 0);
    assert_int_equal(info.phoff, FIXTURE_FILE_SIZE);
}

static void test_zero_memsz_load_skipped_and_exec_stack(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_exec(&spec);
    spec.ph[5] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R, .p_vaddr = 0x100, .p_offset = 0x100};
    spec.ph[4].p_flags |= PF_X;
    validate_spec_ok(&spec, FIXTURE_PIE_BASE, &info);
    assert_int_equal(info.nseg, 3);
    assert_int_equal(info.exec_stack, 1);
}

static void test_exact_fit_message(void **state)
{
    (void)state;
    struct elf_spec spec;
    fixture_exec(&spec);
    spec.ph[2].p_memsz = 0x9000000;
    size_t size;
    uint8_t *file = fixture_serialize(&spec, &size);
    struct elf_info info;
    char err[ERR_LEN];
    assert_int_equal(validate_fixture(file, size, &info, err), -ENOEXEC);
    assert_string_equal(err, "program header 2 (PT_LOAD): segment [0x401800, 0x9401800) does not fit "
                             "in guest user memory [0x100000, 0x3ee0000)");
    free(file);
}

static void test_defect_refused(void **state)
{
    const struct elf_defect *d = *state;
    size_t i = (size_t)(d - elf_defects);
    size_t size;
    uint8_t *file = fixture_defect(i, &size);
    assert_non_null(file);
    struct elf_info info;
    char err[ERR_LEN] = "untouched";
    int rc = validate_fixture(file, size, &info, err);
    free(file);
    if (rc != -ENOEXEC)
        fail_msg("%s: rc %d, message \"%s\"", d->file_name, rc, err);
    assert_contains(err, d->expect[0]);
    assert_contains(err, d->expect[1]);
    print_message("    %-30s %s\n", d->file_name, err);
}

static void test_error_buffer_handling(void **state)
{
    (void)state;
    size_t size;
    uint8_t *file = fixture_defect(0, &size);
    struct elf_info info;
    char small[8];
    memset(small, 'x', sizeof(small));
    assert_int_equal(elf_validate(file, size, FIXTURE_USER_LO, FIXTURE_USER_HI, 0, &info, small,
                                  sizeof(small)), -ENOEXEC);
    assert_int_equal(small[7], 0);
    assert_int_equal(elf_validate(file, size, FIXTURE_USER_LO, FIXTURE_USER_HI, 0, &info, NULL, 0),
                     -ENOEXEC);
    free(file);
    char err[ERR_LEN];
    assert_int_equal(elf_validate(NULL, 0, 0x200000, 0x100000, 0, &info, err, sizeof(err)), -EINVAL);
    assert_int_equal(elf_validate(NULL, 0, 0x100001, 0x200000, 0, &info, err, sizeof(err)), -EINVAL);
}

static void test_every_truncation_refused(void **state)
{
    (void)state;
    struct elf_spec spec;
    fixture_exec(&spec);
    size_t size;
    uint8_t *file = fixture_serialize(&spec, &size);
    struct elf_info info;
    char err[ERR_LEN];
    for (size_t n = 0; n < size; n++) {
        /* copy so that ASan/valgrind catch any read past the truncated end */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, file, n);
        assert_int_equal(validate_fixture(cut, n, &info, err), -ENOEXEC);
        free(cut);
    }
    assert_int_equal(validate_fixture(file, size, &info, err), 0);
    free(file);
}

/* ---- elf_load ---- */

static void load_into_fake(struct guest_mem *gm, const uint8_t *file, size_t size,
                           const struct elf_info *info)
{
    assert_int_equal(fake_gmem_init(gm, FAKE_RAM_SIZE, FIXTURE_USER_LO, FIXTURE_USER_HI), 0);
    memset(gm->host, 0xaa, gm->size); /* prove bss is zeroed explicitly where pages are given */
    assert_int_equal(elf_load(gm, file, size, info), 0);
}

static unsigned page_perm(const struct guest_mem *gm, uint64_t gva) { return gm->perm[gva / PAGE]; }

static void assert_segments_copied(const struct guest_mem *gm, const uint8_t *file, const struct elf_info *info)
{
    for (unsigned i = 0; i < info->nseg; i++) {
        const struct elf_segment *s = &info->seg[i];
        assert_memory_equal(gm->host + s->gva, file + s->offset, s->filesz);
        /* bss in a page the loader gave is zeroed; in any other page it is left to the job's
         * first touch of fresh memory (zero in a VM; 0xaa here, and not given) */
        for (uint64_t b = s->filesz; b < s->memsz; b++)
            if (gmem_page_given(gm, (s->gva + b) / PAGE) && gm->host[s->gva + b] != 0)
                fail_msg("segment %u byte 0x%llx not zeroed", i, (unsigned long long)b);
        assert_true(gmem_page_given(gm, s->gva / PAGE) || s->filesz == 0);
    }
}

static void test_load_exec_copies_zeroes_and_sets_union_perms(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_exec(&spec);
    size_t size;
    uint8_t *file = fixture_serialize(&spec, &size);
    char err[ERR_LEN];
    assert_int_equal(validate_fixture(file, size, &info, err), 0);
    struct guest_mem gm;
    load_into_fake(&gm, file, size, &info);
    assert_segments_copied(&gm, file, &info);
    assert_int_equal(gm.host[0x401800 + FIXTURE_DATA_FILESZ], 0);       /* bss start */
    assert_false(gmem_page_given(&gm, (0x401800 + FIXTURE_DATA_MEMSZ - 1) / PAGE)); /* bss end:
                                                                       * a first touch's */
    assert_int_equal(gm.host[0x401800 + FIXTURE_DATA_MEMSZ], 0xaa);     /* untouched past memsz */
    assert_int_equal(gm.host[0x401000], fixture_pattern(FIXTURE_TEXT_OFFSET));

    assert_int_equal(page_perm(&gm, 0x3ff000), 0);
    assert_int_equal(page_perm(&gm, 0x400000), GPERM_R);
    assert_int_equal(page_perm(&gm, 0x401000), GPERM_R | GPERM_W | GPERM_X); /* text + data share it */
    assert_int_equal(page_perm(&gm, 0x402000), GPERM_R | GPERM_W);
    assert_int_equal(page_perm(&gm, 0x403000), GPERM_R | GPERM_W);
    assert_int_equal(page_perm(&gm, 0x404000), 0);
    assert_int_equal(fake_perm_calls, 3); /* runs of equal permission are merged */
    assert_int_equal(fake_perm_log[2].gva, 0x402000);
    assert_int_equal(fake_perm_log[2].len, 0x2000);
    fake_gmem_free(&gm);
    free(file);
}

static void test_load_dyn(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_dyn(&spec);
    size_t size;
    uint8_t *file = fixture_serialize(&spec, &size);
    char err[ERR_LEN];
    assert_int_equal(validate_fixture(file, size, &info, err), 0);
    struct guest_mem gm;
    load_into_fake(&gm, file, size, &info);
    assert_segments_copied(&gm, file, &info);
    /* the program headers are readable where AT_PHDR says */
    assert_memory_equal(gm.host + info.phdr_gva, file + FIXTURE_PHOFF, info.phnum * info.phent);
    assert_int_equal(page_perm(&gm, FIXTURE_PIE_BASE + 0x1000), GPERM_RWX);
    fake_gmem_free(&gm);
    free(file);
}

static void test_load_three_segments_in_one_page(void **state)
{
    (void)state;
    struct elf_spec spec;
    fixture_exec(&spec);
    spec.eh.e_entry = 0x400100;
    spec.nph = 0;
    spec.ph[spec.nph++] = (Elf64_Phdr){PT_LOAD, PF_R, 0x000, 0x400000, 0x400000, 0x100, 0x100, 0x1000};
    spec.ph[spec.nph++] = (Elf64_Phdr){PT_LOAD, PF_R | PF_X, 0x100, 0x400100, 0x400100, 0x100, 0x100, 0x1000};
    spec.ph[spec.nph++] = (Elf64_Phdr){PT_LOAD, PF_R | PF_W, 0x200, 0x400200, 0x400200, 0x100, 0x1000, 0x1000};
    spec.ph[spec.nph++] = (Elf64_Phdr){PT_LOAD, 0, 0x300, 0x403300, 0x403300, 0, 0x10, 0x1000};
    spec.eh.e_phnum = (uint16_t)spec.nph;
    spec.file_size = 0x300;
    size_t size;
    uint8_t *file = fixture_serialize(&spec, &size);
    struct elf_info info;
    char err[ERR_LEN];
    int rc = validate_fixture(file, size, &info, err);
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(info.phdr_gva, 0); /* 64 + 4*56 bytes of headers exceed the first 0x100-byte segment */
    struct guest_mem gm;
    load_into_fake(&gm, file, size, &info);
    assert_segments_copied(&gm, file, &info);
    assert_int_equal(page_perm(&gm, 0x400000), GPERM_RWX);
    assert_int_equal(page_perm(&gm, 0x401000), GPERM_R | GPERM_W);
    assert_int_equal(page_perm(&gm, 0x402000), 0);
    assert_int_equal(page_perm(&gm, 0x403000), GPERM_RESERVED); /* PF-less segment keeps its space */
    assert_int_equal(fake_perm_calls, 3);
    fake_gmem_free(&gm);
    free(file);
}

static void test_load_failures(void **state)
{
    (void)state;
    struct elf_spec spec;
    struct elf_info info;
    fixture_exec(&spec);
    size_t size;
    uint8_t *file = fixture_serialize(&spec, &size);
    char err[ERR_LEN];
    assert_int_equal(validate_fixture(file, size, &info, err), 0);

    struct guest_mem gm;
    assert_int_equal(fake_gmem_init(&gm, 0x400000, FIXTURE_USER_LO, 0x400000), 0); /* RAM ends below */
    assert_int_equal(elf_load(&gm, file, size, &info), -EFAULT);
    fake_gmem_free(&gm);

    assert_int_equal(fake_gmem_init(&gm, FAKE_RAM_SIZE, FIXTURE_USER_LO, FIXTURE_USER_HI), 0);
    assert_int_equal(elf_load(&gm, file, size - 1, &info), -EINVAL); /* file shorter than validated */
    struct elf_info bad = info;
    bad.seg[1].filesz = bad.seg[1].memsz + 1;
    assert_int_equal(elf_load(&gm, file, size, &bad), -EINVAL);
    bad = info;
    bad.nseg = ELF_MAX_SEGMENTS + 1;
    assert_int_equal(elf_load(&gm, file, size, &bad), -EINVAL);
    bad.nseg = 0;
    assert_int_equal(elf_load(&gm, file, size, &bad), -EINVAL);
    fake_gmem_free(&gm);
    free(file);
}

/* ---- real binaries ---- */

static uint8_t *read_whole_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *size = n;
    return buf;
}

static void test_system_busybox(void **state)
{
    (void)state;
    size_t size;
    uint8_t *file = read_whole_file("/bin/busybox", &size);
    if (!file)
        skip();
    Elf64_Ehdr eh;
    assert_true(size >= sizeof(eh));
    memcpy(&eh, file, sizeof(eh));
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        free(file);
        skip();
    }
    struct elf_info info;
    char err[ERR_LEN];
    int rc = validate_fixture(file, size, &info, err);
    if (rc == -ENOEXEC && strstr(err, "dynamically linked")) { /* a dynamic busybox: not ours to load */
        free(file);
        skip();
    }
    if (rc)
        fail_msg("/bin/busybox refused: %s", err);
    if (eh.e_type == ET_EXEC) {
        assert_int_equal(info.base, 0);
        assert_int_equal(info.entry, eh.e_entry);
    } else {
        assert_int_equal(info.entry, eh.e_entry + info.base);
    }
    assert_int_equal(info.phnum, eh.e_phnum);
    assert_true(info.nseg >= 1);
    assert_true(info.phdr_gva != 0);
    struct guest_mem gm;
    load_into_fake(&gm, file, size, &info);
    assert_segments_copied(&gm, file, &info);
    assert_memory_equal(gm.host + info.phdr_gva, file + eh.e_phoff, info.phnum * info.phent);
    assert_true(page_perm(&gm, info.entry) & GPERM_X);
    print_message("    /bin/busybox: %u segments, entry 0x%llx, image [0x%llx, 0x%llx)\n", info.nseg,
                  (unsigned long long)info.entry, (unsigned long long)info.image_lo,
                  (unsigned long long)info.image_hi);
    fake_gmem_free(&gm);
    free(file);
}

static void test_system_dynamic_binary_refused(void **state)
{
    (void)state;
    size_t size;
    uint8_t *file = read_whole_file("/bin/ls", &size);
    if (!file)
        skip();
    struct elf_info info;
    char err[ERR_LEN];
    int rc = validate_fixture(file, size, &info, err);
    free(file);
    assert_int_equal(rc, -ENOEXEC);
    assert_contains(err, "dynamically linked (PT_INTERP /");
}

/* ---- fuzzing ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#define FUZZ_ITERATIONS 10000
#define FUZZ_USER_LO    0x100000ULL
#define FUZZ_USER_HI    0x800000ULL
#define FUZZ_PIE_BASE   0x200000ULL

static void assert_info_in_bounds(const struct elf_info *info, size_t size)
{
    assert_true(info->nseg >= 1 && info->nseg <= ELF_MAX_SEGMENTS);
    int entry_ok = 0;
    for (unsigned i = 0; i < info->nseg; i++) {
        const struct elf_segment *s = &info->seg[i];
        assert_true(s->memsz > 0);
        assert_true(s->filesz <= s->memsz);
        assert_true(s->offset <= size && s->filesz <= size - s->offset);
        assert_true(s->gva >= FUZZ_USER_LO && s->gva < FUZZ_USER_HI);
        assert_true(s->memsz <= FUZZ_USER_HI - s->gva);
        if (i > 0)
            assert_true(info->seg[i - 1].gva + info->seg[i - 1].memsz <= s->gva);
        if ((s->perm & GPERM_X) && info->entry >= s->gva && info->entry - s->gva < s->memsz)
            entry_ok = 1;
    }
    assert_true(entry_ok);
    assert_true(info->image_lo >= FUZZ_USER_LO && info->image_hi <= FUZZ_USER_HI);
    assert_true(info->image_lo < info->image_hi);
}

static void test_fuzz_mutations(void **state)
{
    (void)state;
    struct elf_spec exec_spec, dyn_spec;
    fixture_exec(&exec_spec);
    fixture_dyn(&dyn_spec);
    size_t exec_size, dyn_size;
    uint8_t *images[2] = {fixture_serialize(&exec_spec, &exec_size), fixture_serialize(&dyn_spec, &dyn_size)};
    size_t sizes[2] = {exec_size, dyn_size};
    struct guest_mem gm;
    assert_int_equal(fake_gmem_init(&gm, FUZZ_USER_HI, FUZZ_USER_LO, FUZZ_USER_HI), 0);

    uint64_t seed = 0x1505e1f5eedULL;
    unsigned accepted = 0, refused = 0;
    for (unsigned iter = 0; iter < FUZZ_ITERATIONS; iter++) {
        unsigned which = iter & 1;
        size_t n = sizes[which];
        uint8_t *mut = malloc(n);
        memcpy(mut, images[which], n);
        unsigned nmut = 1 + (unsigned)(rng_next(&seed) % 8);
        for (unsigned m = 0; m < nmut; m++) {
            uint64_t r = rng_next(&seed);
            size_t headers = FIXTURE_PHOFF + 8 * sizeof(Elf64_Phdr);
            size_t pos = (r & 3) ? (size_t)((r >> 8) % headers) : (size_t)((r >> 8) % n);
            switch ((r >> 40) % 4) {
            case 0: mut[pos] = 0; break;
            case 1: mut[pos] = 0xff; break;
            case 2: mut[pos] ^= (uint8_t)(1u << ((r >> 48) % 8)); break;
            default: mut[pos] = (uint8_t)(r >> 56); break;
            }
        }
        if (rng_next(&seed) % 16 == 0)
            n = (size_t)(rng_next(&seed) % n);
        struct elf_info info;
        char err[ERR_LEN] = "";
        int rc = elf_validate(mut, n, FUZZ_USER_LO, FUZZ_USER_HI, FUZZ_PIE_BASE, &info, err, sizeof(err));
        if (rc) {
            assert_int_equal(rc, -ENOEXEC);
            assert_true(err[0] != 0);
            refused++;
        } else {
            assert_info_in_bounds(&info, n);
            assert_int_equal(elf_load(&gm, mut, n, &info), 0);
            accepted++;
        }
        free(mut);
    }
    print_message("    fuzz: %u accepted, %u refused\n", accepted, refused);
    assert_true(accepted > 0 && refused > 0);
    fake_gmem_free(&gm);
    free(images[0]);
    free(images[1]);
}

int main(void)
{
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_valid_exec),
        cmocka_unit_test(test_valid_dyn),
        cmocka_unit_test(test_dyn_pie_base_rounded_to_max_align),
        cmocka_unit_test(test_dyn_nonzero_lowest_vaddr),
        cmocka_unit_test(test_phdrs_outside_loads_need_copy),
        cmocka_unit_test(test_zero_memsz_load_skipped_and_exec_stack),
        cmocka_unit_test(test_exact_fit_message),
        cmocka_unit_test(test_error_buffer_handling),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_load_exec_copies_zeroes_and_sets_union_perms),
        cmocka_unit_test(test_load_dyn),
        cmocka_unit_test(test_load_three_segments_in_one_page),
        cmocka_unit_test(test_load_failures),
        cmocka_unit_test(test_system_busybox),
        cmocka_unit_test(test_system_dynamic_binary_refused),
        cmocka_unit_test(test_fuzz_mutations),
    };
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    size_t total = nfixed + elf_defect_count;
    struct CMUnitTest *tests = calloc(total, sizeof(*tests));
    if (!tests)
        return 1;
    memcpy(tests, fixed, sizeof(fixed));
    for (size_t i = 0; i < elf_defect_count; i++) /* one test per malformed variant */
        tests[nfixed + i] = (struct CMUnitTest){.name = elf_defects[i].file_name,
                                                .test_func = test_defect_refused,
                                                .initial_state = (void *)&elf_defects[i]};
    int failed = _cmocka_run_group_tests("elf_load", tests, total, NULL, NULL);
    free(tests);
    return failed ? 1 : 0;
}
