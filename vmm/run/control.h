/* The control socket of a running VMM: list and revoke the job's capabilities from outside
 * (docs/control.md). Served by the supervisor thread without ever blocking it. */
#ifndef ISOVM_CONTROL_H
#define ISOVM_CONTROL_H
#include <poll.h>
#include <stdint.h>
#include <sys/types.h>
#include "vmm/core/job.h"

#define CONTROL_REQUEST_MAX   4096                 /* bytes of a request line, newline included */
#define CONTROL_IDLE_NS       1000000000ull        /* a connection silent this long is dropped */
#define CONTROL_CONN_MAX_NS   5000000000ull        /* and any connection after this long */

struct control_server {
    int listen_fd;           /* -1: no control socket */
    dev_t dev;               /* the socket file we made (unlinked at exit only if still ours) */
    ino_t ino;
    char path[108];
    int dir_fd;              /* O_PATH descriptor of the socket's directory and the file's name */
    char base[108];          /* in it: removal at exit needs no path lookup from the cwd */
    /* the one connection served at a time (-1: none); others wait in the listen backlog */
    int conn_fd;
    uint64_t conn_start_ns, conn_idle_deadline_ns;
    char in[CONTROL_REQUEST_MAX];
    size_t in_len;
    char *out;               /* the answer being sent */
    size_t out_len, out_off;
};

/* No socket: a server that does nothing. */
void control_init(struct control_server *s);

/* Listen on a unix stream socket at `path`, mode 0600. A socket file there that no one listens
 * on is replaced; anything else is an error. 0, or -errno after a message naming the path. */
int control_listen(struct control_server *s, const char *path);

/* Close the socket and unlink its file (if it is still the one we made). */
void control_close(struct control_server *s);

/* What to poll: one pollfd (fd -1 when there is nothing to wait for) and the CLOCK_MONOTONIC
 * time at which control_step must run even without events (UINT64_MAX: none). */
void control_poll_setup(const struct control_server *s, struct pollfd *pfd, uint64_t *deadline);

/* Handle what poll reported (revents of the pollfd from control_poll_setup; 0 after a
 * timeout): accept, read the request, answer it (taking job->lock while it looks at the
 * job), send, and drop a connection past its deadline. Never blocks. job->lock not held. */
void control_step(struct control_server *s, struct job *job, short revents, uint64_t now);

/* The answer to one request line (no newline) as text, each line ending in '\n', the last one
 * "ok ..." or "error ENAME message". job->lock held. Returns a malloc'ed string (NULL: out of
 * memory) and its length. */
char *control_answer(struct job *job, const char *request, size_t *len);

#endif
