/* Unit tests for the guest RAM image (vmm/core/vm_image.c): the same RAM as vm_ram_init, mapped copy-on-write, sealed, never grown by a guest's touches, small. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/abi.h"
#include "vmm/core/guest_mem.h"
#include "vmm/core/paging.h"
#include "vmm/core/vm.h"
#include "vmm/core/vm_image.h"

#define PG ((uint64_t)ISOVM_PAGE_SIZE)

/* RAM built the usual way (vm_ram_init over anonymous memory), without KVM */
static uint8_t *build_plain(uint64_t limit, struct vm *vm)
{
    memset(vm, 0, sizeof *vm);
    assert_int_equal(firmware_image_get(&vm->fw), 0);
    uint8_t *mem = vm_ram_map(limit);
    assert_non_null(mem);
    vm->gm.host = mem;
    vm->gm.size = vm_phys_bytes(limit);
    vm->gm.pt_lo = paging_window_bytes(limit);
    assert_int_equal(gmem_tables_alloc(&vm->gm, vm->gm.pt_lo, limit), 0);
    assert_int_equal(vm_ram_init(vm), 0);
    return mem;
}

static void test_same_ram_as_built(void **state)
{
    (void)state;
    const uint64_t size = 64ull << 20;
    struct vm plain;
    uint8_t *p = build_plain(size, &plain);
    struct vm_image img;
    assert_int_equal(vm_image_make(&img, size), 0);
    assert_true(img.nextents >= 2 && img.nextents <= 8);
    uint64_t bytes = 0;
    for (unsigned i = 0; i < img.nextents; i++)
        bytes += img.extents[i].len;
    assert_true(bytes < (1u << 20)); /* the written pages only, not the 140 KiB of tables */
    struct guest_mem gm;
    struct paging pg;
    uint8_t *m = vm_image_map(&img, &gm, &pg);
    assert_non_null(m);
    assert_memory_equal(m, p, gm.user_lo);
    uint64_t tables = plain.pg.next_gpa - plain.gm.pt_lo;
    assert_memory_equal(m + gm.pt_lo, p + plain.gm.pt_lo, tables);
    assert_int_equal(gm.user_lo, plain.gm.user_lo);
    assert_int_equal(gm.user_hi, plain.gm.user_hi);
    assert_int_equal(gm.pt_lo, plain.gm.pt_lo);
    assert_int_equal(gm.frames_tables, plain.gm.frames_tables);
    assert_int_equal(gm.frames_total, plain.gm.frames_total);
    assert_int_equal(pg.pml4_gpa, plain.pg.pml4_gpa);
    assert_int_equal(pg.next_gpa, plain.pg.next_gpa);
    assert_ptr_equal(gm.pt_ctx, &pg);
    /* the paging hooks work on the mapped tables: as on the plain RAM */
    assert_int_equal(gmem_set_perm(&gm, 2ull << 20, 8 * PG, GPERM_R | GPERM_W), 0);
    assert_int_equal(gmem_set_perm(&plain.gm, 2ull << 20, 8 * PG, GPERM_R | GPERM_W), 0);
    assert_int_equal(gmem_give_range(&gm, 2ull << 20, 8 * PG), 0);
    assert_int_equal(gmem_give_range(&plain.gm, 2ull << 20, 8 * PG), 0);
    assert_int_equal(pg.next_gpa, plain.pg.next_gpa);
    assert_memory_equal(m + gm.pt_lo, p + plain.gm.pt_lo, pg.next_gpa - gm.pt_lo);
    gmem_tables_free(&gm);
    munmap(m, vm_phys_bytes(size));
    gmem_tables_free(&plain.gm);
    munmap(p, vm_phys_bytes(size));
    vm_image_close(&img);
}

static void test_private_and_sealed(void **state)
{
    (void)state;
    const uint64_t size = 64ull << 20;
    struct vm_image img;
    assert_int_equal(vm_image_make(&img, size), 0);
    struct guest_mem ga, gb;
    struct paging pa, pb;
    uint8_t *a = vm_image_map(&img, &ga, &pa);
    uint8_t *b = vm_image_map(&img, &gb, &pb);
    assert_non_null(a);
    assert_non_null(b);
    /* a write to the firmware's pages (a job's VMM writes request blocks) stays in its VM */
    uint8_t before = b[ISOVM_HCBLOCK_GPA + 100];
    a[ISOVM_HCBLOCK_GPA + 100] = (uint8_t)(before ^ 0xff);
    assert_int_equal(b[ISOVM_HCBLOCK_GPA + 100], before);
    uint8_t fbyte;
    const struct vm_image_extent *e = &img.extents[0];
    for (unsigned i = 0; i < img.nextents; i++)
        if (img.extents[i].gpa <= ISOVM_HCBLOCK_GPA && ISOVM_HCBLOCK_GPA < img.extents[i].gpa + img.extents[i].len)
            e = &img.extents[i];
    assert_int_equal(pread(img.fd, &fbyte, 1, (off_t)(e->off + ISOVM_HCBLOCK_GPA + 100 - e->gpa)), 1);
    assert_int_equal(fbyte, before); /* nor in the image */
    /* sealed: nobody writes, grows or shrinks it, or maps it shared */
    assert_int_equal(pwrite(img.fd, "x", 1, 0), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ftruncate(img.fd, 0), -1);
    assert_true(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, img.fd, 0) == MAP_FAILED);
    /* touching every page of one VM's RAM (its low 64 MiB and table area) creates no page of
     * the image: it is all allocated, and nothing else of RAM is mapped from it */
    struct stat st0, st1;
    assert_int_equal(fstat(img.fd, &st0), 0);
    volatile uint64_t sum = 0;
    for (uint64_t off = 0; off < size; off += PG)
        sum += a[off] + a[ga.pt_lo + off];
    for (uint64_t off = 0; off < size; off += 64 * PG)
        b[off] = b[gb.pt_lo + off] = 1;
    assert_int_equal(fstat(img.fd, &st1), 0);
    assert_int_equal(st1.st_blocks, st0.st_blocks);
    assert_int_equal(st1.st_size, st0.st_size);
    (void)sum;
    gmem_tables_free(&ga);
    gmem_tables_free(&gb);
    munmap(a, vm_phys_bytes(size));
    munmap(b, vm_phys_bytes(size));
    vm_image_close(&img);
}

static void test_large_ram_small_image(void **state)
{
    (void)state;
    const uint64_t size = 16ull << 30; /* a 32 GiB window, 16 GiB of table area, untouched */
    struct vm_image img;
    assert_int_equal(vm_image_make(&img, size), 0);
    struct stat st;
    assert_int_equal(fstat(img.fd, &st), 0);
    assert_true(st.st_size < (2 << 20));
    vm_image_close(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_ram_as_built),
        cmocka_unit_test(test_private_and_sealed),
        cmocka_unit_test(test_large_ram_small_image),
    };
    return cmocka_run_group_tests_name("vm_image", tests, NULL, NULL) ? 1 : 0;
}
