/* `isovm quota`: set a tenant's budgets and report usage from the ledger (docs/quota.md). */
#ifndef ISOVM_CLI_QUOTA_H
#define ISOVM_CLI_QUOTA_H

/* argv[0] is "quota". Exit status 0, 1 when the ledger fails, 125 on bad usage. */
int cmd_quota(int argc, char **argv);

#endif
