/* Deterministic jobs: the seeded generator (xoshiro256**), the virtual clock and its rules. */
#include "vmm/core/determinism.h"
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include "vmm/core/job.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void prng_seed(uint64_t state[4], uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        state[i] = splitmix64(&x);
    /* splitmix64 is a bijection of its counter, so four outputs are never all zero; keep the
     * guarantee explicit all the same. */
    if (!(state[0] | state[1] | state[2] | state[3]))
        state[0] = 1;
}

uint64_t prng_next(uint64_t s[4])
{
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void prng_fill(uint64_t state[4], void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        uint64_t v = prng_next(state);
        uint8_t bytes[8];
        for (int i = 0; i < 8; i++)
            bytes[i] = (uint8_t)(v >> (8 * i));
        size_t n = len < 8 ? len : 8;
        memcpy(p, bytes, n);
        p += n;
        len -= n;
    }
}

void determinism_init(struct job *job)
{
    job->deterministic = job->policy.syscalls.profile == SCP_DETERMINISTIC;
    prng_seed(job->rng_state, job->policy.seed);
    job->vclock_ns = ISOVM_VCLOCK_START_NS;
}

int job_random_bytes(struct job *job, void *buf, size_t len)
{
    if (job->deterministic) {
        prng_fill(job->rng_state, buf, len);
        return 0;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom((uint8_t *)buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        done += (size_t)n;
    }
    return 0;
}

static bool clock_is_realtime(clockid_t id)
{
    return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_REALTIME_ALARM ||
           id == CLOCK_TAI;
}

uint64_t vclock_read(const struct job *job, clockid_t id)
{
    if (!clock_is_realtime(id))
        return job->vclock_ns;
    uint64_t t;
    return __builtin_add_overflow(job->vclock_ns, ISOVM_VCLOCK_EPOCH_NS, &t) ? UINT64_MAX : t;
}

void vclock_advance(struct job *job, uint64_t ns)
{
    if (__builtin_add_overflow(job->vclock_ns, ns, &job->vclock_ns))
        job->vclock_ns = UINT64_MAX;
}

void vclock_sleep(struct job *job, clockid_t id, bool abstime, uint64_t when_ns)
{
    if (!abstime) {
        vclock_advance(job, when_ns);
        return;
    }
    uint64_t now = vclock_read(job, id);
    if (when_ns > now)
        vclock_advance(job, when_ns - now);
}
