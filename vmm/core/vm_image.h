/* A made VM's RAM kept as a sealed memfd image: VMs started from it map it copy-on-write. */
#ifndef ISOVM_VM_IMAGE_H
#define ISOVM_VM_IMAGE_H
#include <stdint.h>
#include "vmm/core/vm.h"

#define VM_IMAGE_MAX_EXTENTS 16

/* The pages vm_ram_init wrote (firmware, descriptor tables, request blocks, the first page
 * tables: the PML4 and the firmware's), as runs of guest-physical pages stored one
 * after another in a sealed memfd with every page allocated. A VM started from the image maps
 * each run MAP_PRIVATE from the memfd and everything else anonymous: a write copies the page
 * into that VM alone, and no page of the memfd is ever created, written or dropped after
 * vm_image_make, so nothing a job does there can reach another VM (a hole of a shared file
 * would be filled in by whichever VM first touched it, and the next could time that). */
struct vm_image {
    int fd;                            /* the sealed memfd; -1: none */
    uint64_t ram_size;                 /* the memory limit it was made for */
    unsigned nextents;
    struct vm_image_extent { uint64_t gpa, len, off; } extents[VM_IMAGE_MAX_EXTENTS];
    struct guest_mem gm;               /* as made, but host and its per-page tables NULL */
    struct paging pg;                  /* as made */
};

/* Build the image of a VM for a memory limit of ram_size bytes (no KVM needed). 0 or -errno
 * after a message. */
int vm_image_make(struct vm_image *img, uint64_t ram_size);

/* Map img's RAM at a new address: the image's runs copy-on-write, the rest anonymous. Sets
 * gm (with per-page tables of its own) and pg as vm_ram_init would have. Returns the mapping
 * (vm_phys_bytes(ram_size) bytes) or NULL after a message. No KVM (the unit tests' entry). */
uint8_t *vm_image_map(const struct vm_image *img, struct guest_mem *gm, struct paging *pg);

/* vm_create, from the image: the VM, with RAM mapped from it. 0 or -errno after a message. */
int vm_create_from_image(struct vm *vm, const struct vm_image *img);

void vm_image_close(struct vm_image *img);

#endif
