/* A launch charged to a tenant: its ledger keeper, the job's limits clamped to the tenant's budgets, checkpoints, the "quota" stop and the settlement (docs/quota.md). */
#ifndef ISOVM_TENANT_H
#define ISOVM_TENANT_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "quota/keeper.h"
#include "quota/ledger.h"

struct launch_opts;

struct tenant_link {
    int fd;                    /* the keeper's socket; -1: no tenant */
    char tenant[LEDGER_TENANT_MAX + 1];
    struct ledger_admit admit; /* what the ledger granted */
    uint64_t next_ns;          /* the next checkpoint (mono_ns) */
    bool warned;               /* a ledger error was reported once */
    bool stopped;              /* the job was stopped for its quota */
    bool admitted;             /* the keeper's ADMIT was read: the reservation holds */
    bool end_sent;             /* the job's end went to the keeper */
    uint64_t admit_wait_ns;    /* how long the launch waited for the reservation */
    char job_id[LEDGER_JOB_ID_MAX + 1];
};

/* The report's "ledger" object, as JSON text (docs/report.md), into buf. */
void tenant_report_json(const struct tenant_link *t, char *buf, size_t len);

/* The job's ledger id when it has none: "isovm-PID-" and 16 random hex digits (unique in the
 * ledger, unlike a pid). */
void tenant_job_id(char *buf, size_t len);

/* The keeper service's socket the launch uses: --ledger-socket, else $ISOVM_LEDGER_SOCKET, else
 * for root with the default ledger (no --ledger, no $ISOVM_LEDGER) KEEPER_DEFAULT_SOCKET when a
 * socket is there, else NULL (a keeper of the job's own). */
const char *tenant_keeper_socket(const struct launch_opts *o);
/* The launch's job (job_id, the policy's limits, tier and digest) to a keeper: connected to
 * the keeper service at socket_path (returns 0), or a keeper of its own started on the ledger at
 * path (returns its pid). *fd: the VMM's end. A negative errno with err set. */
pid_t tenant_keeper_open(const struct launch_opts *o, const char *path, const char *socket_path,
                         const char *job_id, int *fd, char *err, size_t errlen);

/* Charge the launch to its tenant: connect to the keeper service, or start a keeper of its own
 * on the ledger (ledger_path, or its default), or take the one a jailer connected or started
 * (ledger_fd >= 0). The keeper reserves while the launch builds
 * the microVM. 0, or the exit status (125) after a message. */
int tenant_start(struct launch_opts *o, struct tenant_link *t, const char *ledger_path,
                 int ledger_fd);
/* Before the job's first instruction: wait for the reservation and clamp the policy's CPU time
 * limit to the budget's rest. 0, or the exit status after a message: 125 naming the budget and
 * the figures (or the ledger's trouble); 128 + N when signal N (SIGINT, SIGTERM, SIGHUP, blocked
 * by the caller) came meanwhile; 124 when the policy's timeout (from start_ns) passed. */
int tenant_admit(struct launch_opts *o, struct tenant_link *t, uint64_t start_ns);

/* Is a checkpoint due at now? Then the next is set one interval on. */
bool tenant_checkpoint_due(struct tenant_link *t, uint64_t now);
/* Send the usage so far (never blocks), and check it against the grants the VMM holds itself
 * (I/O and network bytes): 1 + the resource, with why, when the job must stop for its quota;
 * else 0. */
int tenant_checkpoint(struct tenant_link *t, const struct ledger_usage *u, char *why,
                      size_t whylen);
/* The keeper's verdicts that have come in: 1 + the resource, with why, when a budget ran out. */
int tenant_verdicts(struct tenant_link *t, char *why, size_t whylen);
/* Has the job used the CPU time its tenant's budget granted it (its limit clamped to the rest:
 * reaching it is the quota's stop, not the job's own limit)? Then true, with why. */
bool tenant_cpu_grant_used(const struct tenant_link *t, uint64_t cpu, uint64_t limit, char *why,
                           size_t whylen);
/* The exit status of a job stopped for the budget of resource r: 152 (128 + SIGXCPU) for CPU
 * time, 153 (128 + SIGXFSZ) for I/O and network bytes. */
int tenant_quota_status(int r);
/* The job's end, sent to the keeper as soon as it is known (the keeper settles the reservation
 * while the launch tears the microVM down); a job that never started is settled with what it
 * used (nothing), one that was refused not at all. */
void tenant_end_send(struct tenant_link *t, const struct ledger_usage *u, const char *reason);
/* Wait for the settlement (before isovm exits: `isovm quota report` after it sees the job
 * ended); a failure is logged. Closes the keeper's socket. Nothing before tenant_end_send. */
void tenant_end_wait(struct tenant_link *t);

#endif
