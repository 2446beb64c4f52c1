/* The warm microVM a pooled launch adopts (VM, vCPU 0 and the rest made before the job came). */
#include "vmm/run/launch_warm.h"
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
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
