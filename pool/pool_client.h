/* `isovm launch --pool PATH`: the client that hands a launch to a pool's warm VMM. */
#ifndef ISOVM_POOL_CLIENT_H
#define ISOVM_POOL_CLIENT_H

/* Send the launch command line argv (argv[0] "launch"), this process's environment, umask,
 * working directory and stdio to the pool at path; forward SIGINT, SIGTERM and SIGHUP to the
 * job while it runs; return its exit status (125 with a message when there is no pool, it
 * refused the request, or the job's VMM ended without saying). */
int pool_client_run(const char *path, int argc, char **argv);

#endif
