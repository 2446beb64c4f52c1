/* isovm's own arguments as main() got them, and the exec of a sibling binary with them. */
#ifndef ISOVM_SELF_EXEC_H
#define ISOVM_SELF_EXEC_H

/* Note main()'s argv (copied, strings and all: option parsing may edit them in place). */
void self_args_note(int argc, char **argv);

/* Replace this process with the binary `name` in the directory of /proc/self/exe, giving it the
 * arguments main() got (argv[0] its path). Returns only on failure: -errno, logged naming the
 * binary and why the job needed it (`why`). */
int self_exec_sibling(const char *name, const char *why);

#endif
