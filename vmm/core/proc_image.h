/* A program's image in a process's address space: its segments, and its stack with arguments. */
#ifndef ISOVM_PROC_IMAGE_H
#define ISOVM_PROC_IMAGE_H
#include <stddef.h>
#include <stdint.h>
#include "vmm/core/elf_load.h"
#include "vmm/core/guest_mem.h"

#define ISOVM_PIE_BASE 0x400000ull /* where a static-PIE program is placed */

struct job;
struct proc;

/* A program checked for a window: where its stack goes (at the window's top, a guard page
 * below it) and where its segments go (below that). */
struct proc_image {
    const uint8_t *file;
    size_t size;
    struct elf_info info;
    uint64_t stack_lo, stack_hi;
    uint64_t mmap_top;        /* mmap searches down from here: the guard page's start */
};

/* The arguments and environment a program starts with. */
struct proc_image_args {
    int argc;
    char *const *argv;
    int envc;
    char *const *envp;
    const char *execfn;       /* AT_EXECFN: the path it was started by */
};

/* The stack a program gets for a memory limit: a sixteenth of it, 256 KiB to 8 MiB. */
uint64_t proc_image_stack_bytes(uint64_t memory_bytes);

/* Check `file` as a program for gm's window with a stack of stack_bytes. Touches no guest
 * memory. 0, or -ENOEXEC with the defect named in err. */
int proc_image_check(const struct guest_mem *gm, const uint8_t *file, size_t size,
                     uint64_t stack_bytes, struct proc_image *img, char *err, size_t errlen);

/* Load a checked image into gm, whose user range is empty: segments, the stack's rights and
 * guard, and its contents (AT_RANDOM from the job's random source). 0 and *rsp (argc's
 * address); or -ENOMEM (the memory limit), -E2BIG (arguments too large for the stack),
 * -EINVAL, with a message in err. */
int proc_image_load(struct job *job, struct guest_mem *gm, const struct proc_image *img,
                    const struct proc_image_args *a, uint64_t *rsp, char *err, size_t errlen);

/* p's layout from a loaded image: its break, stack and mmap top. */
void proc_image_apply(struct proc *p, const struct proc_image *img);

#endif
