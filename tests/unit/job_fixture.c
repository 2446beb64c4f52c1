/* Test fixture: a struct job over real guest_mem/paging with an mmap'ed RAM buffer, no KVM. */
#include "job_fixture.h"
#include "vmm/caps/fd.h"
#include "vmm/caps/grants.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "vmm/core/paging.h"
#include "vmm/hypercall/syscall_filter.h"

struct job *fix_job_new(void)
{
    struct job *job = calloc(1, sizeof *job);
    assert_non_null(job);
    struct policy pol;
    policy_defaults(&pol);
    assert_int_equal(job_init(job, &pol), 0);
    assert_int_equal(fd_table_init(job), 0);
    assert_int_equal(syscall_filter_build(job), 0); /* as launch does: the default profile */
    for (unsigned fd = 0; fd < 3; fd++)
        fd_close(job, &job->procs[0], fd); /* tests open what they need */
    struct guest_mem *gm = &job->vm.gm;
    uint64_t size = FIX_RAM_SIZE + paging_area_bytes(FIX_RAM_SIZE);
    void *ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(ram != MAP_FAILED);
    gm->host = ram;
    gm->size = size;
    gm->pt_lo = FIX_RAM_SIZE; /* a window as large as the limit: small enough to walk */
    assert_int_equal(gmem_tables_alloc(gm, FIX_RAM_SIZE, FIX_RAM_SIZE), 0);
    assert_int_equal(paging_init(&job->vm.pg, gm, FIX_FW_SIZE), 0);
    job->threads[0].vcpu.block_gpa = 0x4000;
    job->threads[0].state = VT_RUNNING;
    job->threads[0].tid = 1;
    job->threads_live = 1;
    job->procs[0].threads_live = 1;
    job->exe_path = "/opt/jobs/hello";
    job->procs[0].brk_start = job->procs[0].brk_cur = 0x400000;
    job->procs[0].mmap_top = gm->user_hi;
    for (unsigned i = 0; i < 16; i++) {
        job->rlimits[i][0] = 1024;
        job->rlimits[i][1] = 4096;
    }
    job->vm.kvm.kvm_fd = job->vm.kvm.vm_fd = -1;
    return job;
}

void fix_job_free(struct job *job)
{
    if (!job)
        return;
    munmap(job->vm.gm.host, job->vm.gm.size);
    gmem_tables_free(&job->vm.gm);
    grants_close(job);
    fd_table_fini(job);
    job_fini(job);
    free(job);
}

uint8_t *fix_host(struct job *job, uint64_t gva)
{
    struct guest_mem *gm = &job->vm.gm;
    assert_true(gva < gm->size);
    /* what the test writes there, the job would have written: its page is in use */
    if (gva >= gm->user_lo && gva < gm->user_hi && gm->perm[gva / FIX_PG])
        assert_int_equal(gmem_give_range(gm, gva, 1), 0);
    return gm->host + gva;
}

void fix_map(struct job *job, uint64_t gva, uint64_t len, unsigned perm)
{
    assert_int_equal(gmem_set_perm(&job->vm.gm, gva, len, perm), 0);
}

/* The syscall number whose handler is fn (for per-syscall counters), or 0. */
static uint64_t nr_of(sc_handler fn)
{
    for (uint64_t nr = 0; nr < SYSCALL_TABLE_SIZE; nr++)
        if (syscall_lookup(nr) == fn)
            return nr;
    return 0;
}

int64_t fix_callv(struct job *job, sc_handler fn, const uint64_t a[6])
{
    struct sc_call c;
    memset(&c, 0, sizeof c);
    memcpy(c.a, a, sizeof c.a);
    c.self = &job->threads[0];
    c.nr = nr_of(fn);
    pthread_mutex_lock(&job->lock); /* as the run loop holds it */
    int64_t r = fn(job, &c);
    pthread_mutex_unlock(&job->lock);
    return r;
}

void fix_fd(struct job *job, int fd, int host_fd, uint32_t rights)
{
    int slot = cap_create(job->caps, CAP_NONE, CAP_CONSOLE, CAP_FROM_CONSOLE, rights, 0, host_fd,
                          NULL);
    assert_true(slot >= 0);
    job->caps->caps[slot].keep_fd = true; /* the test closes its own descriptors */
    fd_bind(job, &job->procs[0], fd, (uint32_t)slot, false,
            (rights & CAP_R_WRITE) ? ((rights & CAP_R_READ) ? O_RDWR : O_WRONLY) : O_RDONLY);
}
