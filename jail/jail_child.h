/* isovm jail, in the child: namespaces, the jail's mounts, pivot_root, the privilege drop, exec. */
#ifndef ISOVM_JAIL_CHILD_H
#define ISOVM_JAIL_CHILD_H
#include "jail/jail_build.h"

/* Become the jailed VMM: never returns (exec, or exit 125 after a message). */
void jail_child(struct jail *j) __attribute__((noreturn));

#endif
