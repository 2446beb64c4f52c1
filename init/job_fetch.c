/* The job channel: the job file's length and bytes read from the VMM's I/O ports (the test build:
 * from a file), and the job file's time and seed applied to the guest (the test build: recorded). */
#include "init/job_fetch.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "init/abi.h"
#include "init/fsutil.h"
#include "init/seam.h"
#if SEAM_TEST
#include <sys/stat.h>
#else
#include <sys/io.h>
#endif

/* <linux/random.h>'s (musl has no kernel headers): struct rand_pool_info with its buffer. */
#define RNDADDENTROPY _IOW('R', 0x03, int[2])
#define RNDRESEEDCRNG _IO('R', 0x07)
struct seed_pool {
    int entropy_count; /* bits credited */
    int buf_size;      /* bytes in buf */
    uint32_t buf[ISOVM_JOB_SEED_BYTES / 4];
};
_Static_assert(ISOVM_JOB_SEED_BYTES % 4 == 0, "the seed fills whole words of rand_pool_info");

/* ---- the channel: the ports in the guest, SEAM_JOB_FILE in the test build ---- */
#if SEAM_TEST
#define CHANNEL "the job channel (" SEAM_DIR "/" SEAM_JOB_NAME ")"
static int channel_fd = -1;

/* /test/job, or after the phase PREPARED /test/job.prepared: what the VMM gives then. Through
 * the descriptor of /test (seam_open): the second comes after the move into the new root. */
static int channel_open(bool after_prepare)
{
    int rc = seam_open();
    if (rc)
        return rc;
    channel_fd = openat(seam_dir_fd(), after_prepare ? SEAM_JOB_PREPARED_NAME : SEAM_JOB_NAME,
                        O_RDONLY | O_CLOEXEC);
    return channel_fd < 0 ? -errno : 0;
}

static void channel_close(void)
{
    close(channel_fd);
    channel_fd = -1;
}

/* The file's size as the port's 32-bit register would give it. */
static uint32_t channel_length(void)
{
    struct stat st;
    if (fstat(channel_fd, &st) || st.st_size < 0)
        return 0;
    return (uint64_t)st.st_size > UINT32_MAX ? UINT32_MAX : (uint32_t)st.st_size;
}

/* n bytes from the start; zeros past the file's end, as the port gives them. */
static int channel_bytes(uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(channel_fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    memset(buf + got, 0, n - got);
    return 0;
}
#else
#define CHANNEL "the job channel (I/O ports 0x4f0..0x4f7)"

static int channel_open(bool after_prepare)
{
    (void)after_prepare; /* the same ports: the VMM gives the new file */
    return ioperm(ISOVM_JOB_PORT, ISOVM_JOB_PORT_LEN, 1) ? -errno : 0;
}

static void channel_close(void)
{
    ioperm(ISOVM_JOB_PORT, ISOVM_JOB_PORT_LEN, 0); /* nothing else reads it */
}

/* A 32-bit `in` from the length register: the length, and the channel rewound. */
static uint32_t channel_length(void)
{
    uint32_t v;
    __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"((uint16_t)ISOVM_JOB_PORT));
    return v;
}

/* One `rep insb` from the byte register into buf, whose pages the caller has made present (it
 * wrote every byte): KVM emulates the string `in` and writes guest memory itself, so no byte it
 * has taken from the port waits on a page fault the guest kernel handles halfway through. */
static int channel_bytes(uint8_t *buf, size_t n)
{
    __asm__ volatile("rep insb"
                     : "+D"(buf), "+c"(n)
                     : "d"((uint16_t)(ISOVM_JOB_PORT + 4))
                     : "memory");
    return 0;
}
#endif

int job_fetch(bool after_prepare, char **text, size_t *len, char *err, size_t errlen)
{
    *text = NULL;
    *len = 0;
    /* an initramfs that brings its own job file (another VMM running this init); never after a
     * prepare file, in the job's root, where such a file is the image's, not a VMM's */
    int rc = after_prepare ? -ENOENT : read_file(ISOVM_JOB_FILE_INITRAMFS, ISOVM_JOB_FILE_MAX, text, len);
    if (rc != -ENOENT) {
        if (rc == -EFBIG)
            snprintf(err, errlen, "%s: more than the %u bytes a job file may have",
                     ISOVM_JOB_FILE_INITRAMFS, ISOVM_JOB_FILE_MAX);
        else if (rc)
            snprintf(err, errlen, "cannot read %s: %s", ISOVM_JOB_FILE_INITRAMFS, strerror(-rc));
        unlink(ISOVM_JOB_FILE_INITRAMFS);
        return rc;
    }
    rc = channel_open(after_prepare);
    if (rc) {
        snprintf(err, errlen, "cannot open %s: %s", CHANNEL, strerror(-rc));
        return rc;
    }
    uint32_t n = channel_length();
    if (n == 0) {
        snprintf(err, errlen, "the VMM has no job file for this guest (%s gives the length 0)", CHANNEL);
        rc = -ENODATA;
    } else if (n > ISOVM_JOB_FILE_MAX) {
        snprintf(err, errlen, "%s gives a job file of %u bytes, more than the %u a job file may have",
                 CHANNEL, n, ISOVM_JOB_FILE_MAX);
        rc = -EFBIG;
    }
    uint8_t *b = rc ? NULL : malloc((size_t)n + 1);
    if (!rc && !b) {
        snprintf(err, errlen, "no memory for the job file's %u bytes", n);
        rc = -ENOMEM;
    }
    if (!rc) {
        memset(b, 0, (size_t)n + 1);
        if ((rc = channel_bytes(b, n)))
            snprintf(err, errlen, "cannot read %s: %s", CHANNEL, strerror(-rc));
    }
    channel_close();
    if (rc) {
        free(b);
        return rc;
    }
    *text = (char *)b;
    *len = n;
    return 0;
}

/* ---- the time and the seed: applied in the guest, recorded in the test build ---- */
#if SEAM_TEST
static int set_clock(const struct timespec *ts)
{
    return seam_record("clock_settime CLOCK_REALTIME %lld %ld", (long long)ts->tv_sec, ts->tv_nsec);
}

static int add_entropy(int fd, const struct seed_pool *pool)
{
    (void)fd;
    char hex[2 * sizeof pool->buf + 1];
    const uint8_t *b = (const uint8_t *)pool->buf;
    for (size_t i = 0; i < sizeof pool->buf; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    return seam_record("RNDADDENTROPY %d %d %s", pool->entropy_count, pool->buf_size, hex);
}

static int reseed(int fd)
{
    (void)fd;
    return seam_record("RNDRESEEDCRNG");
}
#else
static int set_clock(const struct timespec *ts)
{
    return clock_settime(CLOCK_REALTIME, ts) ? -errno : 0;
}

static int add_entropy(int fd, const struct seed_pool *pool)
{
    return ioctl(fd, RNDADDENTROPY, pool) ? -errno : 0;
}

static int reseed(int fd)
{
    return ioctl(fd, RNDRESEEDCRNG) ? -errno : 0;
}
#endif

int job_apply(const struct job_spec *s, char *err, size_t errlen)
{
    int rc;
    if (s->has_time) {
        struct timespec ts = {.tv_sec = (time_t)s->time_sec, .tv_nsec = (long)s->time_nsec};
        if ((rc = set_clock(&ts))) {
            snprintf(err, errlen, "cannot set the guest's clock (clock_settime CLOCK_REALTIME) to the "
                     "job file's time %lld.%09u: %s", (long long)s->time_sec, s->time_nsec, strerror(-rc));
            return rc;
        }
    }
    if (!s->has_seed)
        return 0;
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open /dev/urandom to add the job file's seed: %s", strerror(-rc));
        return rc;
    }
    struct seed_pool pool = {.entropy_count = 8 * ISOVM_JOB_SEED_BYTES, .buf_size = ISOVM_JOB_SEED_BYTES};
    memcpy(pool.buf, s->seed, ISOVM_JOB_SEED_BYTES);
    if ((rc = add_entropy(fd, &pool)))
        snprintf(err, errlen, "cannot add the job file's seed to the guest's random pool "
                 "(RNDADDENTROPY on /dev/urandom): %s", strerror(-rc));
    else if ((rc = reseed(fd)))
        snprintf(err, errlen, "cannot reseed the guest's random number generator "
                 "(RNDRESEEDCRNG on /dev/urandom): %s", strerror(-rc));
    explicit_bzero(&pool, sizeof pool);
    close(fd);
    return rc;
}
