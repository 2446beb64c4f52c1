/* The Linux tier's authority: the job's capability table with the policy's grants and endpoints, the audit log, the control socket, and the devices that serve them (the shared file system, the network). */
#ifndef ISOVM_LX_GRANTS_H
#define ISOVM_LX_GRANTS_H
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include "init/job_file.h"
#include "policy/policy.h"
#include "vmm/core/job.h"
#include "vmm/linux/ldev.h"
#include "vmm/linux/lnet.h"
#include "vmm/linux/lvm.h"
#include "vmm/run/control.h"
#include "vmm/share/share.h"

struct lx_grants {
    struct job *job;              /* the capability table, the grants' roots, the audit log: the
                                   * hypercall tier's, with no vCPU of its own */
    struct control_server ctl;
    struct share share;           /* the grants' file system (when the policy has grants) */
    bool share_made;
    struct lnet net;              /* the network (when the policy has endpoints) */
    bool net_made;
    bool started;
    bool ep_told[POLICY_MAX_ENDPOINTS]; /* revocations passed on to the network */
    char hostnames[POLICY_MAX_ENDPOINTS][LNET_HOSTNAME_MAX]; /* the job file's host names */
};

/* The job's authority from policy p, at launch time t0: the capability table, the audit log,
 * the control socket, every grant opened (directories only in this tier) and every endpoint.
 * 0, or an exit status (EXIT_ISOVM_ERROR) after a message naming what is wrong. */
int lx_grants_open(struct lx_grants *g, const struct policy *p, uint64_t t0);

/* The devices over the machine: the shared file system's (with grants) and the network's
 * (with endpoints), added to d after its disks and console. 0 or -1 after a message. */
int lx_grants_devices(struct lx_grants *g, struct ldev *d, struct lvm *m);
/* Undo lx_grants_devices (a machine thrown away before it ran). */
void lx_grants_devices_fini(struct lx_grants *g);

/* Start the devices' threads (after ldev_start). 0 or -1 after a message. */
int lx_grants_start(struct lx_grants *g, struct ldev *d);
/* Stop them (after the vCPUs, before ldev_stop). */
void lx_grants_stop(struct lx_grants *g);
/* After lx_grants_stop: was a thread left behind in a host call (share_stop's 50 ms)? Then
 * nothing it uses may be freed: the VMM ends with _exit once its report is out. */
bool lx_grants_abandoned(const struct lx_grants *g);

/* The supervisor's part: what to poll for the control socket (one pollfd) and until when, then
 * the step after poll: requests answered (revocations applied to the grants at their next
 * request, and to the network's live connections now). */
void lx_grants_poll_setup(const struct lx_grants *g, struct pollfd *pfd, uint64_t *deadline);
void lx_grants_step(struct lx_grants *g, short revents, uint64_t now);

/* The guest's view of them for its init: the mountpoints of the shared file system and the
 * network's addresses (to the job file). */
void lx_grants_net_config(const struct lx_grants *g, struct lnet_guest_config *out);

/* The job file's part of them (after lx_grants_devices): a share line per grant (rw when its
 * rights change anything), and with the network its net, host and nameserver lines. The arrays
 * are the caller's to free (spec->shares, spec->hosts); the names stay g's. 0 or -ENOMEM. */
int lx_grants_job_spec(struct lx_grants *g, struct job_spec *spec);

/* The grants' share of the job's usage for the ledger: the shared file system's bytes and
 * requests, the network's bytes. Counters of running threads, at worst a round old. */
void lx_grants_usage(const struct lx_grants *g, uint64_t *read_bytes, uint64_t *read_ops,
                     uint64_t *write_bytes, uint64_t *write_ops, uint64_t *net_rx,
                     uint64_t *net_tx);
/* The report's objects: "shared_fs", "network", "denials", "audit". */
void lx_grants_report(struct lx_grants *g, json_t *r);

/* Close everything (after lx_grants_stop). */
void lx_grants_close(struct lx_grants *g);

#endif
