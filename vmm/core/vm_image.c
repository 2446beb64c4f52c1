/* Makes a VM's RAM image once (sealed memfd of the pages written) and maps it copy-on-write. */
#include "vmm/core/vm_image.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "firmware/abi.h"
#include "lib/log.h"

#define PG ((uint64_t)ISOVM_PAGE_SIZE)

static bool page_zero(const uint8_t *p)
{
    static const uint8_t zero[ISOVM_PAGE_SIZE];
    return memcmp(p, zero, PG) == 0;
}

/* The runs of non-zero pages of [lo, hi) of RAM at host, appended to img. Pages not resident
 * (never touched) are zero without a look. 0 or -E2BIG. */
static int extents_find(struct vm_image *img, const uint8_t *host, uint64_t lo, uint64_t hi)
{
    uint64_t n = (hi - lo) / PG;
    unsigned char *res = malloc(n ? n : 1);
    if (!res || mincore((void *)(host + lo), hi - lo, res) < 0) {
        free(res);
        return -ENOMEM;
    }
    uint64_t run = 0;
    bool in = false;
    for (uint64_t i = 0; i <= n; i++) {
        bool data = i < n && (res[i] & 1) && !page_zero(host + lo + i * PG);
        if (data && !in) {
            run = lo + i * PG;
            in = true;
        } else if (!data && in) {
            if (img->nextents == VM_IMAGE_MAX_EXTENTS) {
                free(res);
                return -E2BIG;
            }
            img->extents[img->nextents++] = (struct vm_image_extent){ run, lo + i * PG - run, 0 };
            in = false;
        }
    }
    free(res);
    return 0;
}

int vm_image_make(struct vm_image *img, uint64_t ram_size)
{
    memset(img, 0, sizeof *img);
    img->fd = -1;
    img->ram_size = ram_size;
    /* built as vm_create builds it, in anonymous memory, without KVM */
    struct vm vm;
    memset(&vm, 0, sizeof vm);
    int rc = firmware_image_get(&vm.fw);
    uint8_t *mem = rc ? NULL : vm_ram_map(ram_size);
    if (!mem)
        return rc ? rc : -ENOMEM;
    uint64_t phys = vm_phys_bytes(ram_size);
    vm.gm.host = mem;
    vm.gm.size = phys;
    vm.gm.pt_lo = paging_window_bytes(ram_size);
    if ((rc = gmem_tables_alloc(&vm.gm, vm.gm.pt_lo, ram_size)) || (rc = vm_ram_init(&vm)))
        goto fail;
    if ((rc = extents_find(img, mem, 0, vm.gm.user_lo)) ||
        (rc = extents_find(img, mem, vm.gm.pt_lo, vm.pg.next_gpa))) {
        log_err("guest RAM image: %s", strerror(-rc));
        goto fail;
    }
    img->fd = memfd_create("isovm-ram-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (img->fd < 0) {
        rc = -errno;
        log_err("guest RAM image: memfd_create: %s", strerror(errno));
        goto fail;
    }
    uint64_t off = 0;
    for (unsigned i = 0; i < img->nextents; i++) {
        struct vm_image_extent *e = &img->extents[i];
        e->off = off;
        if (pwrite(img->fd, mem + e->gpa, e->len, (off_t)off) != (ssize_t)e->len) {
            rc = -EIO;
            log_err("guest RAM image: writing %llu bytes: %s", (unsigned long long)e->len,
                    strerror(errno));
            goto fail;
        }
        off += e->len;
    }
    if (fcntl(img->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        rc = -errno;
        log_err("guest RAM image: sealing: %s", strerror(errno));
        goto fail;
    }
    gmem_tables_free(&vm.gm);
    img->gm = vm.gm;
    img->gm.host = NULL;
    img->gm.pt_ctx = NULL;
    img->gm.on_give = NULL;
    img->gm.on_perm_change = NULL;
    img->gm.on_clear = NULL;
    img->pg = vm.pg;
    munmap(mem, phys);
    return 0;
fail:
    gmem_tables_free(&vm.gm);
    munmap(mem, phys);
    if (img->fd >= 0)
        close(img->fd);
    img->fd = -1;
    return rc;
}

uint8_t *vm_image_map(const struct vm_image *img, struct guest_mem *gm, struct paging *pg)
{
    uint8_t *mem = vm_ram_map(img->ram_size);
    if (!mem)
        return NULL;
    for (unsigned i = 0; i < img->nextents; i++) {
        const struct vm_image_extent *e = &img->extents[i];
        if (mmap(mem + e->gpa, e->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, img->fd,
                 (off_t)e->off) == MAP_FAILED) {
            log_err("guest RAM image: mapping %llu bytes at 0x%llx: %s",
                    (unsigned long long)e->len, (unsigned long long)e->gpa, strerror(errno));
            munmap(mem, vm_phys_bytes(img->ram_size));
            return NULL;
        }
        madvise(mem + e->gpa, e->len, MADV_DONTDUMP);
    }
    *gm = img->gm;
    gm->host = mem;
    if (gmem_tables_alloc(gm, gm->pt_lo, img->ram_size)) {
        munmap(mem, vm_phys_bytes(img->ram_size));
        return NULL;
    }
    /* no page of the address space is given yet: the frames in use are the first tables' */
    gm->frames_tables = gm->frames_peak = img->gm.frames_tables;
    *pg = img->pg;
    paging_hook(pg, gm);
    return mem;
}

int vm_create_from_image(struct vm *vm, const struct vm_image *img)
{
    int rc = vm_open(vm);
    if (rc)
        return rc;
    uint8_t *mem = vm_image_map(img, &vm->gm, &vm->pg);
    if (!mem)
        return -ENOMEM;
    return vm_ram_attach(vm, mem, img->ram_size);
}

void vm_image_close(struct vm_image *img)
{
    if (img->fd >= 0)
        close(img->fd);
    img->fd = -1;
}
