/* `isovm image build`'s root file system: mmdebstrap (root mode into a directory when root,
 * --mode=unshare into a tar otherwise) and what it is given, checked before it runs. */
#include "cli/image_build.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/image_tree.h"
#include "lib/run_tool.h"
#include "lib/sha256.h"

#define DEFAULT_SUITE "bookworm"
#define PATH_CAP 4096

static const char *const variants[] = { "extract", "custom", "essential", "apt", "required", "minbase",
                                        "buildd", "important", "debootstrap", "standard", NULL };
/* The host's apt sources, tried in this order for the default suite (only the mirror apt is
 * configured for may be reachable) */
static const char *const host_sources[] = { "/etc/apt/sources.list.d/debian.sources",
                                            "/etc/apt/sources.list", NULL };

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 100)
        return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '+' || *c == '.' || *c == '-'))
            return 0;
    return 1;
}

int image_build_include(struct image_build *b, char *list, char *err, size_t len)
{
    char *save = NULL;
    for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (!name_ok(p)) {
            snprintf(err, len, "--include: \"%.100s\" is not a Debian package name ([a-z0-9][a-z0-9+.-]+)", p);
            return -EINVAL;
        }
        size_t i = 0;
        while (i < b->nincludes && strcmp(b->includes[i], p) < 0)
            i++;
        if (i < b->nincludes && !strcmp(b->includes[i], p))
            continue;
        if (b->nincludes == IMAGE_BUILD_INCLUDES_MAX) {
            snprintf(err, len, "--include: more than %d packages", IMAGE_BUILD_INCLUDES_MAX);
            return -E2BIG;
        }
        memmove(&b->includes[i + 1], &b->includes[i], (b->nincludes - i) * sizeof b->includes[0]);
        b->includes[i] = p;
        b->nincludes++;
    }
    return 0;
}

int image_build_check(struct image_build *b, char *err, size_t len)
{
    if (!b->suite)
        b->suite = DEFAULT_SUITE;
    if (!b->variant)
        b->variant = "minbase";
    if (!name_ok(b->suite)) {
        snprintf(err, len, "--suite: \"%.100s\" is not a suite name (bookworm, trixie, ...)", b->suite);
        return -EINVAL;
    }
    size_t i = 0;
    while (variants[i] && strcmp(variants[i], b->variant))
        i++;
    if (!variants[i]) {
        snprintf(err, len, "--variant: \"%.100s\" is not one of mmdebstrap's variants (extract, custom, "
                 "essential, apt, required, minbase, buildd, important, debootstrap, standard)", b->variant);
        return -EINVAL;
    }
    if (b->mirror) {
        struct stat st;
        if (strncmp(b->mirror, "http://", 7) && strncmp(b->mirror, "https://", 8) &&
            strncmp(b->mirror, "file://", 7) && (stat(b->mirror, &st) || !S_ISREG(st.st_mode))) {
            snprintf(err, len, "--mirror: \"%.200s\" is neither an http://, https:// or file:// URL nor "
                     "an apt sources file", b->mirror);
            return -EINVAL;
        }
    } else if (!strcmp(b->suite, DEFAULT_SUITE)) {
        for (i = 0; host_sources[i] && !b->mirror; i++) {
            struct stat st;
            if (!stat(host_sources[i], &st) && S_ISREG(st.st_mode) && st.st_size > 0)
                b->mirror = host_sources[i];
        }
    }
    if (!b->mirror)
        b->mirror = "http://deb.debian.org/debian";
    if (b->format == IMAGE_EXT4 && geteuid() != 0) {
        snprintf(err, len, "--format ext4 needs root for image build (mmdebstrap --mode=unshare gives a "
                 "tar or a directory owned by subordinate ids, and mkfs.ext4 -d reads neither); use "
                 "squashfs, or from-dir on a directory you can read");
        return -EPERM;
    }
    return 0;
}

void image_build_key(const struct image_build *b, char key[65])
{
    struct sha256 h;
    uint8_t d[32];
    char size[32];
    sha256_init(&h);
    const char *parts[] = { "isovm image build 1", b->suite, b->variant, b->mirror,
                            image_format_name(b->format), size };
    snprintf(size, sizeof size, "%llu", (unsigned long long)b->size);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        sha256_update(&h, parts[i], strlen(parts[i]) + 1);
    for (size_t i = 0; i < b->nincludes; i++)
        sha256_update(&h, b->includes[i], strlen(b->includes[i]) + 1);
    /* an unshare-mode image cached before / was made root's 0755 is not served again */
    if (geteuid() != 0)
        sha256_update(&h, "unshare: / root's", sizeof "unshare: / root's");
    sha256_final(&h, d);
    sha256_hex(d, key);
}

int image_build_run(const struct image_build *b, const char *work, const char *out, int verbose,
                    char *err, size_t len)
{
    int root = geteuid() == 0;
    char target[PATH_CAP], variant[64], include[8192];
    snprintf(target, sizeof target, "%s/%s", work, root ? "root" : "root.tar");
    snprintf(variant, sizeof variant, "--variant=%s", b->variant);
    size_t off = (size_t)snprintf(include, sizeof include, "--include=");
    for (size_t i = 0; i < b->nincludes; i++) {
        int n = snprintf(include + off, sizeof include - off, "%s%s", i ? "," : "", b->includes[i]);
        if (n < 0 || (size_t)n >= sizeof include - off) {
            snprintf(err, len, "--include: the package list is too long");
            return -E2BIG;
        }
        off += (size_t)n;
    }
    const char *argv[12];
    size_t a = 0;
    argv[a++] = "mmdebstrap";
    argv[a++] = root ? "--mode=root" : "--mode=unshare";
    argv[a++] = variant;
    if (b->nincludes)
        argv[a++] = include;
    argv[a++] = b->suite;
    argv[a++] = target;
    argv[a++] = b->mirror;
    argv[a] = NULL;
    fprintf(stderr, "isovm: image: mmdebstrap %s --variant=%s %s %s (this takes minutes%s)\n",
            argv[1], b->variant, b->suite, b->mirror, verbose ? "" : "; -v shows its output");
    struct run_tool t = { .argv = argv, .package = "mmdebstrap", .verbose = verbose };
    int rc = run_tool(&t, err, len);
    if (rc)
        return rc;
    if (!root)
        return image_pack_tar(target, out, verbose, err, len);
    struct image_tree tree;
    rc = image_tree_scan(target, &tree, err, len);
    if (rc)
        return rc;
    return image_pack_dir(target, &tree, b->format, b->size, out, verbose, err, len);
}
