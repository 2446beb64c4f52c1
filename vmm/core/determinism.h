/* Deterministic jobs: the seeded generator (xoshiro256**), the virtual clock and its rules. */
#ifndef ISOVM_DETERMINISM_H
#define ISOVM_DETERMINISM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct job;

/* Virtual time one hypercall (any syscall the job makes) adds, in ns. */
#define ISOVM_VCLOCK_STEP_NS  1000ull
/* Virtual CLOCK_MONOTONIC when the job starts. */
#define ISOVM_VCLOCK_START_NS 0ull
/* Virtual CLOCK_REALTIME at virtual monotonic 0: 2000-01-01T00:00:00Z, in ns since the epoch. */
#define ISOVM_VCLOCK_EPOCH_NS (946684800ull * 1000000000ull)

/* From the policy: job->deterministic (syscalls.profile is "deterministic"), the generator seeded
 * from policy.seed and the virtual clock at its start. Call after job_init, before the stack is
 * built (AT_RANDOM comes from the generator). */
void determinism_init(struct job *job);

/* xoshiro256** seeded with four outputs of splitmix64 from `seed` (never the all-zero state). */
void prng_seed(uint64_t state[4], uint64_t seed);
uint64_t prng_next(uint64_t state[4]);
/* len bytes of the stream, little-endian 8 bytes per output; a tail takes the low bytes of one
 * more output (the rest of it is dropped). */
void prng_fill(uint64_t state[4], void *buf, size_t len);

/* len bytes of randomness for the job: the seeded stream for a deterministic job, the host's
 * getrandom otherwise. 0, or -errno from the host. */
int job_random_bytes(struct job *job, void *buf, size_t len);

/* Virtual clock `id` in ns: CLOCK_REALTIME and its variants ISOVM_VCLOCK_EPOCH_NS + vclock_ns,
 * every other clock (monotonic, boot time, CPU time) vclock_ns. */
uint64_t vclock_read(const struct job *job, clockid_t id);

/* Advance the virtual clock by ns (saturating; it never goes back). */
void vclock_advance(struct job *job, uint64_t ns);

/* A sleep on clock id: relative (abstime false) adds when_ns; an absolute deadline moves the
 * clock to it when it is later than now, and leaves it alone otherwise. */
void vclock_sleep(struct job *job, clockid_t id, bool abstime, uint64_t when_ns);

#endif
