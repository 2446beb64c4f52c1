/* The warm microVM a pooled launch adopts (VM, vCPU 0 and the rest made before the job came). */
#include "vmm/run/launch_warm.h"
#include <errno.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/sys/sys.h"
#include "vmm/run/vthread.h"

static struct {
    bool made, pooled;
    struct vm vm;
    struct vcpu vcpu0;
    int client_fd;
    enum launch_start start;
    launch_done_fn done;
} warm = { .client_fd = -1, .vcpu0 = { .fd = -1 } };

/* The heap the launch will allocate from (the job object alone is 85 KiB), faulted in now and
 * kept: a page fault costs tens of microseconds in an emulated host. */
static void heap_warm(void)
{
    enum { CHUNK = 32 << 10, N = 48 };
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    void *p[N];
    for (int i = 0; i < N; i++)
        if ((p[i] = malloc(CHUNK)))
            memset(p[i], 0, CHUNK);
    for (int i = 0; i < N; i++)
        free(p[i]);
}

/* The pages this process shares copy-on-write with the pool server it was forked from (its
 * data and bss) and the stack a launch goes down to: each is faulted in now, while the VMM
 * waits, instead of on the job's start (a page fault costs tens of microseconds in an emulated
 * host, more than most of the launch's steps). */
__attribute__((no_sanitize("address"))) /* whole pages: the globals' redzones too */
static int writable_touch(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    uintptr_t lo = 0, hi = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            lo = info->dlpi_addr + ph->p_vaddr;
            hi = lo + ph->p_memsz;
        }
        if (ph->p_type == PT_GNU_RELRO)
            relro_hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
    }
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (relro_hi > lo)
        lo = relro_hi;
    lo = (lo + pg - 1) & ~(pg - 1);
    if (hi <= lo)
        return 1;
    size_t n = (hi - lo + pg - 1) / pg;
    unsigned char *res = malloc(n);
    if (res && mincore((void *)lo, n * pg, res) == 0)
        for (size_t i = 0; i < n; i++)
            if (res[i] & 1) { /* resident: shared with the server until written */
                volatile unsigned char *b = (volatile unsigned char *)(lo + i * pg);
                *b = *b;
            }
    free(res);
    return 1; /* the executable only */
}

__attribute__((noinline)) static void stack_touch(void)
{
    volatile char deep[192 << 10];
    for (size_t i = 0; i < sizeof deep; i += 4096)
        deep[i] = 0;
}

int launch_warm_prepare(const struct vm_image *img)
{
    int rc = vm_create_from_image(&warm.vm, img);
    struct kvm_regs any = { 0 };
    if (rc || (rc = vcpu_open(&warm.vm, &warm.vcpu0, 0)) ||
        (rc = vcpu_setup(&warm.vm, &warm.vcpu0, &any, 0, NULL))) {
        if (warm.vcpu0.fd >= 0)
            vcpu_destroy(&warm.vm, &warm.vcpu0);
        vm_destroy(&warm.vm);
        return rc;
    }
    warm.made = true;
    heap_warm();
    dl_iterate_phdr(writable_touch, NULL);
    stack_touch();
    sys_fs_proc_dir_open(); /* as launch_run does, which then finds it open */
    vthread_spare_start(); /* the job's first host thread, started ahead */
    return 0;
}

void launch_warm_offer(int client_fd)
{
    warm.pooled = true;
    warm.client_fd = client_fd;
}

bool launch_warm_take(struct vm *vm, struct vcpu *vcpu0, uint64_t ram_size)
{
    if (!warm.made) {
        warm.start = warm.pooled ? LAUNCH_POOL_COLD : LAUNCH_COLD;
        return false;
    }
    if (warm.vm.gm.size != ram_size) {
        launch_warm_drop();
        warm.start = LAUNCH_POOL_COLD;
        return false;
    }
    vm_move(vm, &warm.vm);
    *vcpu0 = warm.vcpu0;
    warm.vcpu0.fd = -1;
    warm.made = false;
    warm.start = LAUNCH_WARM;
    return true;
}

void launch_warm_drop(void)
{
    if (!warm.made)
        return;
    vcpu_destroy(&warm.vm, &warm.vcpu0);
    vm_destroy(&warm.vm);
    warm.made = false;
}

void launch_warm_on_done(launch_done_fn done) { warm.done = done; }

void launch_warm_done(int status)
{
    launch_done_fn done = warm.done;
    warm.done = NULL;
    if (done)
        done(status);
}

int launch_warm_client_fd(void) { return warm.client_fd; }

enum launch_start launch_warm_start(void) { return warm.start; }

const char *launch_start_name(enum launch_start s)
{
    return s == LAUNCH_WARM ? "warm" : s == LAUNCH_POOL_COLD ? "pool-cold" : "cold";
}
