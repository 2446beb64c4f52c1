/* `isovm image build`'s root file system: mmdebstrap (root mode into a directory when root,
 * --mode=unshare into a tar otherwise) and what it is given, checked before it runs. */
#ifndef ISOVM_CLI_IMAGE_BUILD_H
#define ISOVM_CLI_IMAGE_BUILD_H
#include <stddef.h>
#include <stdint.h>
#include "cli/image_pack.h"

#define IMAGE_BUILD_INCLUDES_MAX 256

struct image_build {
    const char *suite;    /* bookworm by default */
    const char *variant;  /* mmdebstrap's --variant: minbase by default */
    const char *mirror;   /* NULL: the host's apt sources for the default suite, else deb.debian.org */
    const char *includes[IMAGE_BUILD_INCLUDES_MAX]; /* sorted, each once (image_build_include) */
    size_t nincludes;
    enum image_format format;
    uint64_t size;        /* ext4: bytes, 0 for the computed size */
};

/* Adds the comma-separated package names in list (Debian names: [a-z0-9][a-z0-9+.-]+), kept
 * sorted and without repeats; list is not copied. -EINVAL (err names the bad name) or -E2BIG. */
int image_build_include(struct image_build *b, char *list, char *err, size_t len);

/* Checks suite, variant and mirror, and fills in the default mirror. 0 or -EINVAL with err. */
int image_build_check(struct image_build *b, char *err, size_t len);

/* The cache key: 64 hex digits over everything that decides the image. */
void image_build_key(const struct image_build *b, char key[65]);

/* Runs mmdebstrap in the build directory work and packs its result into out. 0 or a negative
 * errno with err naming the tool and what failed. */
int image_build_run(const struct image_build *b, const char *work, const char *out, int verbose,
                    char *err, size_t len);

#endif
