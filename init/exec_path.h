/* Executing the job's program as a shell would: argv[0] through the PATH of the job's own
 * environment, a file without #! run by /bin/sh, 126 and 127 as a shell says them. */
#ifndef ISOVM_INIT_EXEC_PATH_H
#define ISOVM_INIT_EXEC_PATH_H

/* The PATH a shell uses when the environment has none (init/abi.h). */
#define EXEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The PATH exec_job searches for envp: its PATH=, else EXEC_DEFAULT_PATH. */
const char *exec_path_of(char *const envp[]);

/* Returns only when nothing could be executed: the status a shell exits with (127: not found,
 * 126: found but not executable), with *err the errno that says why. */
int exec_job(char *const argv[], char *const envp[], int *err);

#endif
