/* Tiny helpers shared by the guest test jobs: one "ok NAME" / "FAIL NAME: why" line per check. */
#ifndef GUEST_CHECK_H
#define GUEST_CHECK_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(name, cond, ...)                                                   \
    do {                                                                         \
        if (cond) {                                                              \
            printf("ok %s\n", (name));                                           \
        } else {                                                                 \
            check_failures++;                                                    \
            printf("FAIL %s: ", (name));                                         \
            printf(__VA_ARGS__);                                                 \
            printf("\n");                                                        \
        }                                                                        \
        fflush(stdout);                                                          \
    } while (0)

/* For a call that must fail: result r == -1 and errno == e. */
#define CHECK_ERRNO(name, r, e)                                                  \
    do {                                                                         \
        long r_ = (long)(r);                                                     \
        int e_ = errno;                                                          \
        CHECK(name, r_ == -1 && e_ == (e), "got %ld errno %d (%s), want -1 errno %d (%s)", \
              r_, e_, strerror(e_), (int)(e), strerror(e));                      \
    } while (0)

static inline int check_done(void)
{
    if (check_failures) {
        printf("%d check(s) failed\n", check_failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}

#endif
