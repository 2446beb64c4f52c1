/* isovm pool's wire: a launch's request (head, argv, environment, descriptors) and the reply. */
#ifndef ISOVM_POOL_WIRE_H
#define ISOVM_POOL_WIRE_H
#include <stddef.h>
#include <stdint.h>

#define POOL_MAGIC        0x4c505649u /* "IVPL" */
#define POOL_VERSION      2u
#define POOL_PAYLOAD_MAX  (4u << 20)  /* argv and environment strings together */
#define POOL_STRINGS_MAX  65536u      /* argv entries, and environment entries, each */
#define POOL_DGRAM_MAX    (64u << 10) /* a request datagram: the head and the strings' start */
/* The request's descriptors: the job's stdin, stdout and stderr, the client's working
 * directory, and the client's end of a stream socket pair: the rest of the strings (when they
 * do not fit the datagram), the signals to forward (one byte each) and the reply. */
enum { POOL_FD_STDIN, POOL_FD_STDOUT, POOL_FD_STDERR, POOL_FD_CWD, POOL_FD_CONN, POOL_NFDS };

/* A request is one datagram to the pool's socket (AF_UNIX, SOCK_DGRAM: a waiting VMM wakes
 * only once the whole of it is there), carrying the POOL_NFDS descriptors (SCM_RIGHTS): this
 * head, then the first of payload_len bytes of argc NUL-terminated argv strings (argv[0]
 * "launch") followed by envc environment strings; any rest follows on the connection. */
struct pool_request_head {
    uint32_t magic, version;
    uint32_t argc, envc;
    uint32_t payload_len;
    uint32_t umask;
    uint64_t client_mono_ns, client_real_ns; /* the client's main(): the report's phases count
                                              * from it */
};

/* The warm VMM's answer, one record when the job is over (or refused). */
enum { POOL_REPLY_EXIT = 1, POOL_REPLY_REFUSED = 2 };
struct pool_reply {
    uint32_t magic;
    int32_t type;
    int32_t value; /* EXIT: the status `isovm launch` exits with; REFUSED: an errno */
    uint32_t pad;
};

/* A jailed pool (pool serve --jail): the VMM that took a request, in its jail already, sends
 * its server this byte on their link, then the request's head (with two descriptors: the
 * client's working directory and stderr) and payload as they came; the server's helper binds
 * the job's files into the VMM's jail and answers with one record. */
#define POOL_LINK_TAKEN 'J'
struct pool_bind_answer {
    uint32_t magic;
    int32_t status;   /* 0: bound; else the exit status for the client (a message went to its
                       * stderr) */
    char cwd[4096];   /* status 0: the working directory in the jail, NUL-terminated */
};

/* A request as read: argv and envp point into the payload (kept by the caller), each array
 * NULL-terminated. */
struct pool_request {
    int argc, envc;
    char **argv, **envp;
    unsigned umask;
    uint64_t client_mono_ns, client_real_ns;
};

/* Check a head: magic, version, counts and payload length within the limits above, umask 0..0777.
 * 0, or -EPROTO with the reason in err. */
int pool_head_check(const struct pool_request_head *h, char *err, size_t errlen);

/* Split a checked head's payload (exactly h->payload_len bytes) into r: exactly argc + envc
 * NUL-terminated strings, argv[0] "launch", every environment string KEY=VALUE with a non-empty
 * KEY. The arrays are allocated (pool_request_free). 0, or -EPROTO / -ENOMEM with the reason. */
int pool_request_parse(const struct pool_request_head *h, char *payload, struct pool_request *r,
                       char *err, size_t errlen);
void pool_request_free(struct pool_request *r);

#endif
