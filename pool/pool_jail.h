/* A jailed pool's server side (pool serve --jail): the helper that binds a job's files into the jail of the VMM that took it. */
#ifndef ISOVM_POOL_JAIL_H
#define ISOVM_POOL_JAIL_H
#include "jail/jail_pool.h"

/* In a child forked by the server when the VMM of v said POOL_LINK_TAKEN on link: read the
 * request it forwards (pool_wire.h), check it, then in the client's working directory and with
 * the client's stderr bind the job's files into the VMM's jail (jail_pool_bind) and answer.
 * Never returns. */
_Noreturn void pool_jail_helper(int link, const struct jail_pool_vmm *v);

#endif
