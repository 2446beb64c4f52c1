/* The warm microVM a pooled launch adopts (VM, vCPU 0 and the rest made before the job came). */
#include "vmm/run/launch_warm.h"
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <string.h>
#include "vmm/core/paging.h"
#include "vmm/run/launch.h"
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

/* What a job's start would otherwise fault in a page at a time (each fault a trip through the
 * host kernel; tens of microseconds in an emulated host), touched ahead in the waiting VMM. None
 * of it holds anything but zeros or what this VMM wrote itself. */
/* Sizes: what a small program's start touches, not more (each page touched ahead is a fault
 * the pool's refill pays, on the CPU the running jobs share: 4 MiB of it cost a quarter of
 * the pooled launches per second on one CPU). A larger program faults the rest as before. */
#define PREFAULT_STACK     (128u << 10) /* launch_cli's and launch_run's frames (the options'
                                         * policy alone is 44 KiB) */
#define PREFAULT_HEAP      (512u << 10) /* the job object (85 KiB), its tables, the program */
#define PREFAULT_GUEST     (256u << 10) /* at the usual load address of a program */
#define PREFAULT_GUEST_TOP (64u << 10)  /* below the top of user memory: the stack's strings */

static __attribute__((noinline)) void prefault_stack(void)
{
    volatile char pad[PREFAULT_STACK];
    for (size_t i = 0; i < sizeof pad; i += 4096)
        pad[i] = 0;
}

/* Guest RAM [gva, gva+len) (clipped to the user range), its permission bytes and given bits,
 * populated writable with their contents unchanged (a private copy of an image page, a
 * private zero page). Nothing is given: the job's frames are counted as it takes them. */
static void prefault_guest(struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    if (gva < gm->user_lo)
        gva = gm->user_lo;
    if (gva >= gm->user_hi)
        return;
    if (len > gm->user_hi - gva)
        len = gm->user_hi - gva;
    uint64_t first = gva / 4096, n = len / 4096;
    uintptr_t spans[5][2] = {
        { (uintptr_t)(gm->host + gva), len },
        { (uintptr_t)(gm->perm + first), n },
        { (uintptr_t)(gm->given + first / 8), n / 8 + 1 },
        { (uintptr_t)(gm->chunk_mapped + first / GMEM_CHUNK_PAGES), 2 },
        { (uintptr_t)(gm->chunk_given + first / GMEM_CHUNK_PAGES), 2 },
    };
    for (int i = 0; i < 5; i++) {
        uintptr_t lo = spans[i][0] & ~(uintptr_t)4095;
        uintptr_t hi = (spans[i][0] + spans[i][1] + 4095) & ~(uintptr_t)4095;
        madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE); /* older kernels: EINVAL, no harm */
    }
}

/* The page-table pages a small program's start makes next (its image's table, the stack's
 * directory and table), written the first time a page is given. */
#define PREFAULT_TABLES 4
static void prefault_tables(struct vm *vm)
{
    uint64_t lo = vm->pg.next_gpa, len = PREFAULT_TABLES * 4096;
    if (lo + len <= vm->gm.size)
        madvise(vm->gm.host + lo, len, MADV_POPULATE_WRITE);
}

/* isovm's own image: a forked process maps its file-backed pages (code, read-only data) again
 * one fault at a time as it first runs each part (fork copies no page-table entries for them);
 * mapped ahead here, and its initialized data copied ahead of the first write. */
static int prefault_image_segment(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
        uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz + 4095) & ~(uintptr_t)4095;
        if (ph->p_flags & PF_W) /* not the zero-initialized rest (.bss): it may never be used */
            hi = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz) & ~(uintptr_t)4095;
        if (hi > lo)
            madvise((void *)lo, hi - lo, ph->p_flags & PF_W ? MADV_POPULATE_WRITE
                                                            : MADV_POPULATE_READ);
    }
    return 1; /* the program itself only (a dynamic build's libraries: left as they are) */
}

static void warm_prefault(struct vm *vm)
{
    struct guest_mem *gm = &vm->gm;
    dl_iterate_phdr(prefault_image_segment, NULL);
    prefault_stack();
    /* the heap: grown and touched once, then kept (not trimmed back, the block not given a
     * mapping of its own that its free unmaps). Only just above its size: larger blocks (a big
     * program's bytes) still get mappings of their own, given back at their free, so a VMM
     * never keeps more than about 1 MiB of freed heap (a jail's cgroup allows 64 MiB over the
     * guest's RAM) */
    mallopt(M_MMAP_THRESHOLD, 2 * PREFAULT_HEAP);
    mallopt(M_TRIM_THRESHOLD, 2 * PREFAULT_HEAP);
    char *h = malloc(PREFAULT_HEAP);
    if (h) {
        for (size_t i = 0; i < PREFAULT_HEAP; i += 4096)
            ((volatile char *)h)[i] = 0;
        free(h);
    }
    prefault_guest(gm, ISOVM_PIE_BASE, PREFAULT_GUEST); /* a static program's usual base, and
                                                          * where a PIE is put */
    prefault_guest(gm, gm->user_hi - PREFAULT_GUEST_TOP, PREFAULT_GUEST_TOP);
    prefault_tables(vm);
}

int launch_warm_prepare(const struct vm_image *img)
{
    int rc = vm_create_from_image(&warm.vm, img);
    struct kvm_regs any = { 0 };
    if (rc || (rc = vcpu_open(&warm.vm, &warm.vcpu0, 0)) ||
        (rc = vcpu_setup(&warm.vm, &warm.vcpu0, &any, 0, NULL, 0))) {
        if (warm.vcpu0.fd >= 0)
            vcpu_destroy(&warm.vm, &warm.vcpu0);
        vm_destroy(&warm.vm);
        return rc;
    }
    warm.made = true;
    warm_prefault(&warm.vm);
    sys_fs_proc_dir_open(); /* as launch_run does, which then finds it open */
    vthread_spare_start(); /* the job's first host thread, started ahead */
    return 0;
}

static _Atomic int held_link = -1;

void launch_warm_link_hold(int link_fd) { atomic_store(&held_link, link_fd); }

void launch_warm_started(void)
{
    int fd = atomic_exchange(&held_link, -1);
    if (fd >= 0)
        close(fd);
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
    if (warm.vm.gm.limit_bytes != ram_size) { /* made for another memory limit */
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
    launch_warm_started(); /* a job that never started: the server is told now */
    launch_done_fn done = warm.done;
    warm.done = NULL;
    if (done)
        done(status);
}

int launch_warm_client_fd(void) { return warm.client_fd; }

int launch_warm_client_take(int fd)
{
    for (;;) {
        unsigned char b;
        ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0)
            return -1;
        if (b == SIGINT || b == SIGTERM || b == SIGHUP)
            return b;
    }
}

enum launch_start launch_warm_start(void) { return warm.start; }

void launch_warm_set_start(enum launch_start s) { warm.start = s; }

const char *launch_start_name(enum launch_start s)
{
    return s == LAUNCH_WARM ? "warm" : s == LAUNCH_POOL_COLD ? "pool-cold" : "cold";
}
