/* One job's conversation with a keeper (admission, checkpoints, settlement, a VMM that goes away), shared by a job's own keeper and the keeper service; not for use outside quota/. */
#ifndef ISOVM_QUOTA_KEEPER_CONN_H
#define ISOVM_QUOTA_KEEPER_CONN_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "quota/keeper.h"
#include "quota/ledger.h"

struct keeper_conn {
    int fd;
    bool begun;                 /* admitted: the job is running in the ledger */
    bool ended;                 /* its END was handled */
    bool failed;                /* refused, a protocol error, or an end not recorded */
    char id[LEDGER_JOB_ID_MAX + 1];
    struct ledger_usage last;   /* the largest figures the VMM reported */
};

int64_t keeper_wall_s(void);
/* Send one message (the magic set here): 0 or a negative errno. */
int keeper_msg_send(int fd, struct keeper_msg *m, int flags);
/* Admit job j (its owner fields set) and send ADMIT; open_rc < 0 (with open_err): the ledger
 * could not be opened, which ADMIT carries instead. true: admitted (c->begun). */
bool keeper_conn_begin(struct ledger *l, struct keeper_conn *c, const struct ledger_job *j,
                       int open_rc, const char *open_err);
/* One message of n bytes from the VMM (n <= 0: it closed or failed). A BEGIN is admitted with
 * the given owner. true when the conversation is over: the caller closes c->fd. */
bool keeper_conn_message(struct ledger *l, struct keeper_conn *c, const void *buf, ssize_t n,
                         int owner_pid, uint64_t owner_start);

#endif
