/* The hypercall tier's VMM filter, compiled to BPF at build time (tools/vsc_bpf_gen.c) and loaded at launch with the VMM's pid patched in. */
#include "vmm/run/vsc_bpf.h"
#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/test_hooks.h"
#include "vmm/run/vmm_seccomp.h"

void vsc_bpf_hypercall_for(struct sock_filter *out, unsigned pid)
{
    memcpy(out, vsc_hypercall_bpf, vsc_hypercall_bpf_len * sizeof *out);
    for (size_t i = 0; i < vsc_hypercall_bpf_pid_count; i++)
        out[vsc_hypercall_bpf_pid_at[i]].k = pid;
}

int vsc_bpf_install_hypercall(void)
{
    if (test_hook("seccomp-log")) /* the log action: built at run time */
        return vmm_seccomp_install();
    int rc = vmm_seccomp_no_new_privs();
    if (rc < 0)
        return rc;
    struct sock_filter *f = malloc(vsc_hypercall_bpf_len * sizeof *f);
    if (!f) {
        log_err("seccomp: out of memory for the VMM's filter");
        return -ENOMEM;
    }
    vsc_bpf_hypercall_for(f, (unsigned)getpid());
    struct sock_fprog prog = { .len = (unsigned short)vsc_hypercall_bpf_len, .filter = f };
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
    int e = errno;
    free(f);
    if (r != 0) { /* TSYNC: r > 0 names a thread that could not be synchronised */
        log_err("seccomp: cannot load the VMM's filter: %s",
                r > 0 ? "a thread could not take it" : strerror(e));
        return r > 0 ? -EAGAIN : -e;
    }
    return 0;
}
