/* The grants as the Linux tier's shared file system: a virtio-9p device whose requests a worker thread serves with the 9P server, off the devices' lock, through the io buckets. */
#ifndef ISOVM_SHARE_H
#define ISOVM_SHARE_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/p9/vp9.h"
#include "limits/io_throttle.h"
#include "vmm/core/guest_ram.h"
#include "vmm/core/job.h"
#include "vmm/share/p9_server.h"

struct share {
    struct vp9 dev;
    struct p9_server srv;
    pthread_mutex_t *dev_lock;          /* the devices' lock (ldev): the queue and the buckets */
    struct io_throttle *io_read, *io_write; /* the policy's io buckets, shared with the disks */
    int wake_fd, stop_fd;               /* eventfds: requests available; stop */
    atomic_bool stopping;
    pthread_t thread;
    bool started;
    bool abandoned;                     /* share_stop left a worker stuck in a host call */
    int kick_signal;                    /* set before share_start: a signal with a handler
                                         * (no SA_RESTART) share_stop kicks the worker with;
                                         * 0: none */
    uint8_t *req, *reply;               /* P9_REQ_MAX and P9_MSIZE_MAX bytes */
    struct virtq_chain chain;
    struct iovec iov[P9_IOV_MAX];
    uint64_t read_throttled_ns, write_throttled_ns;
};

/* The device (mount tag `tag`; the guest attaches each grant by its guest path as aname) over
 * ram and the server over job's grants (grants_open done); io_read/io_write are used under
 * dev_lock. 0 or -errno after a message. */
int share_init(struct share *sh, struct job *job, const struct guest_ram *ram, const char *tag,
               pthread_mutex_t *dev_lock, struct io_throttle *io_read, struct io_throttle *io_write);
/* Start / stop the worker. Stop ends a throttle wait at once and kicks a host call in progress
 * (kick_signal: EINTR where a signal can end it); a worker still in a host call after 50 ms is
 * left behind (share_fini then frees nothing) so that the job's end never waits on a hung file
 * system. */
int share_start(struct share *sh);
void share_stop(struct share *sh);
void share_fini(struct share *sh);

#endif
