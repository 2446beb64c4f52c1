/* The VMM's own seccomp filter: an allowlist per tier (the Linux tier's with optional groups), default kill. */
#ifndef ISOVM_VMM_SECCOMP_H
#define ISOVM_VMM_SECCOMP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <seccomp.h>

#define VSC_MAX_ARGS   3  /* argument conditions of one rule, all of which must hold */
#define VSC_MAX_VALUES 20 /* alternatives of one condition, any of which may hold */

/* How one argument is compared: (arg & mask) == one of values[] (VSC_IN), or arg < values[0]
 * (VSC_BELOW: a descriptor, i.e. 0 <= fd < 2^31, so never AT_FDCWD nor a sign-extended int). */
enum vsc_op { VSC_IN = 1, VSC_BELOW };

struct vsc_arg {
    unsigned index;  /* 0..5 */
    enum vsc_op op;
    uint64_t mask;   /* VSC_IN only; 0 means all 64 bits */
    unsigned nvalues;
    uint64_t values[VSC_MAX_VALUES];
};

/* A condition's value that stands for the VMM's own pid (the tgkill row), replaced by it when
 * the filter is built. */
#define VSC_OWN_PID 0xffffffffffffffffull

/* One row of the allowlist: the syscall, its argument rule (empty: any arguments), why the VMM
 * needs it. errno_value != 0 makes the call fail with that errno instead of allowing it. */
/* The name and reason are arrays, not pointers: the tables then hold no address, need no
 * relocation at the start of a (static-PIE) isovm process and stay in read-only pages nobody
 * touches unless a filter is built from them (about 25 pages copied at every start before). A
 * too-long reason is a compile error (-Werror). */
#define VSC_NAME_MAX   24
#define VSC_REASON_MAX 288
struct vsc_rule {
    int nr;
    char name[VSC_NAME_MAX];
    int errno_value;
    unsigned nargs;
    struct vsc_arg args[VSC_MAX_ARGS];
    char reason[VSC_REASON_MAX];
};

/* The allowlist (docs/security.md lists it row by row). */
extern const struct vsc_rule vsc_rules[];
extern const size_t vsc_rules_count;
/* The Linux tier's allowlist (docs/security.md, "The Linux tier's allowlist"), and its groups,
 * added only when the job needs them: the grants group (the virtio-9p server) and the network
 * group (the user-mode network stack), the control group (the control socket). */
extern const struct vsc_rule vsc_linux_rules[];
extern const size_t vsc_linux_rules_count;
extern const struct vsc_rule vsc_linux_grant_rules[];
extern const size_t vsc_linux_grant_rules_count;
extern const struct vsc_rule vsc_linux_net_rules[];
extern const size_t vsc_linux_net_rules_count;
extern const struct vsc_rule vsc_linux_control_rules[];
extern const size_t vsc_linux_control_rules_count;
extern const struct vsc_rule vsc_linux_tenant_rules[];
extern const size_t vsc_linux_tenant_rules_count;
extern const struct vsc_rule vsc_linux_pool_rules[];
extern const size_t vsc_linux_pool_rules_count;
/* A pool's waiting VMMs' filter: these syscalls kill the process, every other one is allowed
 * (docs/security.md, "A pool's waiting VMMs"). */
extern const struct vsc_rule vsc_pool_wait_denied[];
extern const size_t vsc_pool_wait_denied_count;
#define VSC_LINUX_GRANTS  1u /* the job has grants */
#define VSC_LINUX_NET     2u /* the job has network endpoints */
#define VSC_LINUX_CONTROL 4u /* the job has a control socket */
#define VSC_LINUX_TENANT  8u /* the job is charged to a tenant (its ledger keeper's socket) */
#define VSC_LINUX_POOL   16u /* the job came through a pool (its client's connection) */
#define VSC_LINUX_TABLES_MAX 7 /* the base list and every group */
/* A syscall two groups need is in both, with the same argument rule (the filter then has one
 * rule for it, whichever of them is on). */

/* A table of rows, by name (for messages and tests). */
struct vsc_table {
    const char *name;
    const struct vsc_rule *rules;
    size_t count;
};

/* Extra rows compiled in only under ASan/UBSan for the sanitizer runtimes (count 0 otherwise). */
extern const struct vsc_rule vsc_san_rules[];
extern const size_t vsc_san_rules_count;

/* Distinct syscalls named by vsc_rules (the "N syscalls" of docs/security.md). */
size_t vmm_seccomp_syscall_count(void);

/* The Linux tier's tables for these VSC_LINUX_* groups, base list first; returns how many. */
size_t vmm_seccomp_linux_tables(unsigned groups, struct vsc_table out[VSC_LINUX_TABLES_MAX]);
/* Distinct syscalls of the Linux tier's filter with these groups. */
size_t vmm_seccomp_linux_syscall_count(unsigned groups);

/* Build a filter of these tables (and the sanitizer rows in a SAN build) without loading it. */
int vmm_seccomp_build_tables(scmp_filter_ctx *out, uint32_t deflt, int pid,
                             const struct vsc_table *tables, size_t ntables);

/* Build the hypercall tier's filter (default action `deflt`, e.g. SCMP_ACT_KILL_PROCESS) without loading it.
 * `pid` is the VMM's pid (tgkill may signal only its own threads). Returns 0 or -errno with a
 * message naming the rule. */
int vmm_seccomp_build(scmp_filter_ctx *out, uint32_t deflt, int pid);

/* Set no_new_privs and load the filter into the calling thread (single-threaded at this point:
 * every thread created later inherits it). Returns 0 or -errno after a message. */
int vmm_seccomp_install(void);
/* PR_SET_NO_NEW_PRIVS, which a filter needs unprivileged: 0 or -errno (logged). */
int vmm_seccomp_no_new_privs(void);

/* The Linux tier's: the same, with its own list and the VSC_LINUX_* groups the job needs;
 * TSYNC puts it on every thread that exists (docs/linux-tier.md, snapshots). */
int vmm_seccomp_install_linux(unsigned groups);

/* A pool's VMM, its machine made and before it takes a request: no_new_privs, then the waiting
 * filter on every thread (TSYNC); a sanitized build lets through what its runtime needs
 * (vsc_san_rules). The job's allowlist is stacked on it later. 0 or -errno (logged). */
int vmm_seccomp_install_pool_wait(void);

/* Test-only (isovm-hooks, ISOVM_TEST_HOOK): right after installation, make one forbidden call:
 * seccomp-execve, seccomp-fork, seccomp-ioctl (KVM_CREATE_VM on kvm_fd), seccomp-mmap-exec,
 * seccomp-open-cwd, seccomp-socket-netlink; print what it returned if the VMM is still alive.
 * seccomp-log: install with the log action instead of kill (to find a missing syscall). */
void vmm_seccomp_test_hooks(int kvm_fd);

/* The one warning line `launch --no-seccomp` prints on stderr. */
void vmm_seccomp_warn_disabled(void);

#endif
