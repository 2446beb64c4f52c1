/* The hypercall tier's VMM filter, compiled to BPF at build time (tools/vsc_bpf_gen.c) and loaded at launch with the VMM's pid patched in. */
#ifndef ISOVM_VSC_BPF_H
#define ISOVM_VSC_BPF_H
#include <linux/filter.h>
#include <stddef.h>

/* The pid the generator builds the filter for: above any pid (pid_max is at most 2^22), and
 * checked by the generator to occur nowhere in the program but where the table's own-pid
 * conditions put it. */
#define VSC_BPF_PID_SENTINEL 0x7ead0001u

/* Generated ($(BUILD)/gen/vsc_hypercall_bpf.c): libseccomp's program for vmm_seccomp_build's
 * hypercall table (default kill-process), and the instructions whose k is the sentinel. */
extern const struct sock_filter vsc_hypercall_bpf[];
extern const size_t vsc_hypercall_bpf_len;
extern const unsigned vsc_hypercall_bpf_pid_at[];
extern const size_t vsc_hypercall_bpf_pid_count;

/* The program with pid patched in, into out (room for vsc_hypercall_bpf_len instructions). */
void vsc_bpf_hypercall_for(struct sock_filter *out, unsigned pid);

/* no_new_privs, then load that program for getpid() on every thread (TSYNC): what
 * vmm_seccomp_install does through libseccomp, without building the filter at each launch.
 * Under the seccomp-log test hook, vmm_seccomp_install itself. 0 or -errno (logged). */
int vsc_bpf_install_hypercall(void);

#endif
