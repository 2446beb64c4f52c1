/* Loads a program into a process's address space: checked segments, then the initial stack. */
#include "vmm/core/proc_image.h"
#include <errno.h>
#include <stdio.h>
#include "firmware/abi.h"
#include "vmm/core/determinism.h"
#include "vmm/core/job.h"
#include "vmm/core/proc.h"
#include "vmm/core/stack_build.h"

#define PG ((uint64_t)ISOVM_PAGE_SIZE)

uint64_t proc_image_stack_bytes(uint64_t memory_bytes)
{
    uint64_t s = memory_bytes / 16;
    if (s < (256u << 10))
        s = 256u << 10;
    if (s > (8u << 20))
        s = 8u << 20;
    return s;
}

int proc_image_check(const struct guest_mem *gm, const uint8_t *file, size_t size,
                     uint64_t stack_bytes, struct proc_image *img, char *err, size_t errlen)
{
    if (gm->user_hi - gm->user_lo < stack_bytes + 2 * PG) {
        snprintf(err, errlen, "no room for a stack of %llu bytes",
                 (unsigned long long)stack_bytes);
        return -ENOEXEC;
    }
    img->file = file;
    img->size = size;
    img->stack_hi = gm->user_hi;
    img->stack_lo = img->stack_hi - stack_bytes;
    img->mmap_top = img->stack_lo - PG; /* the guard page */
    if (elf_validate(file, size, gm->user_lo, img->mmap_top, ISOVM_PIE_BASE, &img->info, err,
                     errlen) < 0)
        return -ENOEXEC;
    return 0;
}

int proc_image_load(struct job *job, struct guest_mem *gm, const struct proc_image *img,
                    const struct proc_image_args *a, uint64_t *rsp, char *err, size_t errlen)
{
    const struct elf_info *info = &img->info;
    int rc = elf_load(gm, img->file, img->size, info);
    if (rc < 0) {
        snprintf(err, errlen, rc == -ENOMEM ? "the memory limit leaves no room for its segments"
                                            : "cannot load its segments");
        return rc;
    }
    unsigned perm = GPERM_R | GPERM_W | (info->exec_stack ? GPERM_X : 0);
    uint64_t len = img->stack_hi - img->stack_lo;
    if (gmem_set_perm(gm, img->stack_lo, len, perm) ||
        gmem_set_perm(gm, img->stack_lo - PG, PG, GPERM_RESERVED)) {
        snprintf(err, errlen, "cannot map its stack");
        return -EINVAL;
    }
    uint8_t random16[16]; /* AT_RANDOM: the host's, or the seeded stream of a deterministic job */
    if ((rc = job_random_bytes(job, random16, sizeof random16))) {
        snprintf(err, errlen, "no random bytes for AT_RANDOM");
        return rc;
    }
    unsigned ca, cb, cc, cd;
    __asm__("cpuid" : "=a"(ca), "=b"(cb), "=c"(cc), "=d"(cd) : "a"(1), "c"(0));
    struct stack_args sa = {
        .argc = a->argc, .argv = a->argv, .envc = a->envc, .envp = a->envp,
        .execfn = a->execfn, .random16 = random16,
        .phdr = info->phdr_gva, .phent = info->phent, .phnum = info->phnum,
        .entry = info->entry, .hwcap = cd, .hwcap2 = 0,
    };
    if (!info->phdr_gva) {
        sa.phdr_copy = img->file + info->phoff;
        sa.phdr_copy_len = info->phnum * info->phent;
    }
    uint8_t *host = gmem_host_ptr(gm, img->stack_lo, len);
    if (!host) {
        snprintf(err, errlen, "its stack lies outside guest RAM");
        return -EINVAL;
    }
    gmem_unstale(gm, img->stack_lo, len); /* it writes before it gives */
    if ((rc = stack_build(host, img->stack_lo, len, &sa, rsp, err, errlen)))
        return rc;
    /* the pages it wrote are the job's from the start; the rest of the stack is given as the
     * job's use reaches it */
    uint64_t low = *rsp & ~(PG - 1);
    if ((rc = gmem_give_range(gm, low, img->stack_hi - low))) {
        snprintf(err, errlen, "the memory limit leaves no room for its arguments");
        return rc;
    }
    return 0;
}

void proc_image_apply(struct proc *p, const struct proc_image *img)
{
    p->brk_start = p->brk_cur = img->info.image_hi;
    p->stack_lo = img->stack_lo;
    p->stack_hi = img->stack_hi;
    p->mmap_top = img->mmap_top;
}
