/* The ledger keeper: a process apart from the VMM that holds the tenant ledger for one job (reservation, checkpoints, settlement), and the VMM's side of its socket (docs/quota.md). */
#ifndef ISOVM_QUOTA_KEEPER_H
#define ISOVM_QUOTA_KEEPER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "quota/ledger.h"

/* The VMM sends the job's usage to its keeper this often (the checkpoint interval). */
#define KEEPER_CHECKPOINT_NS 1000000000ull
/* How long the VMM waits for the keeper's answer at the job's start and end: a ledger call may
 * wait LEDGER_BUSY_TIMEOUT_MS for another writer (the keeper goes on trying to record an end
 * alone after that). */
#define KEEPER_REPLY_TIMEOUT_MS (LEDGER_BUSY_TIMEOUT_MS + 5000)
#define KEEPER_MAGIC 0x6b707271u /* "qrpk" */
/* Where `isovm quota keeper` listens by default, and where a root launch with the default
 * ledger looks for it. */
#define KEEPER_DEFAULT_SOCKET "/run/isovm/ledger.sock"
#define KEEPER_REASON_MAX 32
#define KEEPER_TEXT_MAX 512

enum keeper_msg_type {
    KEEPER_ADMIT = 1,  /* keeper -> VMM: the reservation (rc 0) or the refusal (rc, text) */
    KEEPER_CHECKPOINT, /* VMM -> keeper: usage so far */
    KEEPER_VERDICT,    /* keeper -> VMM: the checkpoint's outcome; exhausted: stop the job */
    KEEPER_END,        /* VMM -> keeper: final usage and exit reason */
    KEEPER_SETTLED,    /* keeper -> VMM: the end recorded (rc 0) or not (rc, text) */
    KEEPER_BEGIN,      /* VMM -> keeper service: the job to admit (the first message; a keeper
                        * of the job's own has it from its launcher) */
};

/* The job a BEGIN asks the keeper service to admit. */
struct keeper_job_desc {
    char id[LEDGER_JOB_ID_MAX + 1];       /* 1.. of [A-Za-z0-9._-] */
    char tenant[LEDGER_TENANT_MAX + 1];   /* ledger_tenant_valid */
    char digest[65];                      /* 64 lowercase hex digits, or empty */
    char tier[12];                        /* "hypercall" or "linux" */
    uint64_t cpu_limit_ns, memory_bytes;
};

/* One message, either way, over a SOCK_SEQPACKET pair. */
struct keeper_msg {
    uint32_t magic, type;
    int32_t rc;                 /* ADMIT, VERDICT, SETTLED: 0 or a negative errno */
    uint32_t exhausted;         /* VERDICT: 0, or 1 + the resource whose budget ran out */
    struct ledger_usage usage;  /* CHECKPOINT, END */
    uint64_t grant[3];          /* ADMIT: cpu ns, io bytes, net bytes granted (0: none) */
    uint32_t clamped;           /* ADMIT: bit r set when grant r is the budget's rest */
    char reason[KEEPER_REASON_MAX]; /* END: the exit reason ("exit", "quota", ...) */
    char text[KEEPER_TEXT_MAX]; /* ADMIT, VERDICT, SETTLED: the message */
    struct keeper_job_desc job; /* BEGIN */
};

/* Check a message the keeper received from a VMM (which may be compromised): exactly one
 * message, the magic, a type a VMM may send (CHECKPOINT, END, BEGIN), an exit reason of 1..31
 * of [a-z-] for END, for BEGIN a job whose every text is NUL-terminated and well-formed (id,
 * tenant, digest, tier). Copies it to *m with its text (and but for BEGIN its job) cleared. 0,
 * or -EPROTO with what in err. */
int keeper_msg_from_vmm(const void *buf, size_t n, struct keeper_msg *m, char *err, size_t errlen);

/* Start a keeper for job j (the id, tenant, limits; owner pid/start are the keeper's own) on
 * the ledger at path: it opens the ledger, settles dead owners' jobs, reserves the job's worst
 * case and sends ADMIT on *vmm_fd (the VMM's end, close-on-exec). The keeper ignores SIGINT,
 * SIGTERM and SIGHUP and lives until the VMM's END or the socket's close (then it settles the
 * job from its last checkpoint, "vmm-died"). Call while single-threaded. Returns its pid, or a
 * negative errno with err set. */
pid_t keeper_spawn(const char *path, const struct ledger_job *j, int *vmm_fd, char *err,
                   size_t errlen);

/* The keeper service (`isovm quota keeper --socket PATH`): one process holding the ledger for
 * every job of the host, so that a launch does not open SQLite, parse its schema and prepare
 * its statements anew. Listens on the Unix socket (SOCK_SEQPACKET, mode 0600; peers must be
 * root or the service's own user); each connection is one job: BEGIN, then the protocol as with
 * a keeper of the job's own; a connection closed before END is settled from its last checkpoint.
 * SIGINT or SIGTERM: no new jobs, the running ones served to their end, then exit 0; a second
 * signal ends it at once (its jobs are then settled by the next ledger user). Returns the exit
 * status (1 after a message on stderr when the ledger or the socket cannot be used). */
int keeper_service_run(const char *ledger_path, const char *socket_path);
/* A launch's connection to the keeper service at socket_path for job j: connected, BEGIN sent.
 * The VMM then reads ADMIT as from a keeper of its own. 0, or a negative errno with err set. */
int keeper_service_connect(const char *socket_path, const struct ledger_job *j, int *fd,
                           char *err, size_t errlen);

/* The VMM's side. */
/* Wait for ADMIT: 0 and *a; -EDQUOT (or the ledger's error) with the keeper's message in err. */
int keeper_admit_wait(int fd, struct ledger_admit *a, char *err, size_t errlen);
/* The same, ended early: -ECANCELED when stop_fd (>= 0; a signalfd, say) becomes readable,
 * -ETIME at deadline_ns (mono_ns; 0: none). */
int keeper_admit_wait_until(int fd, struct ledger_admit *a, int stop_fd, uint64_t deadline_ns,
                            char *err, size_t errlen);
/* Send a checkpoint without blocking; -EAGAIN when the keeper is behind (the next one carries
 * the totals). */
int keeper_checkpoint_send(int fd, const struct ledger_usage *u);
/* Take the keeper's verdicts that have arrived, without blocking: 1 + the resource whose budget
 * ran out (why says which), else 0; a verdict carrying a ledger error is logged once
 * (*warned). */
int keeper_verdicts_take(int fd, bool *warned, char *why, size_t whylen);
/* Send END (0, or a negative errno with err set); then wait for SETTLED (0, or a negative errno
 * with err set: the keeper goes on trying on its own after a timeout). keeper_end: both. */
int keeper_end_send(int fd, const struct ledger_usage *u, const char *reason, char *err,
                    size_t errlen);
int keeper_settled_wait(int fd, char *err, size_t errlen);
int keeper_end(int fd, const struct ledger_usage *u, const char *reason, char *err,
               size_t errlen);

#endif
