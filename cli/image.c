/* `isovm image build|from-dir`: root file system images for the Linux tier, cached by their
 * inputs (docs/linux-tier.md). */
#include "cli/image.h"
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli/image_build.h"
#include "cli/image_cache.h"
#include "cli/image_pack.h"
#include "cli/image_tree.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "policy/units.h"
#include "vmm/run/launch.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: isovm image build [--suite SUITE] [--variant VARIANT] [--include PKG,...]\n"
        "                         [--mirror URL|FILE] [--format squashfs|ext4] [--size SIZE]\n"
        "                         [--rebuild] [-v] -o IMG\n"
        "       isovm image from-dir [--format squashfs|ext4] [--size SIZE] [--rebuild] [-v] DIR -o IMG\n"
        "\n"
        "Makes a root file system image for the Linux tier (isovm launch --rootfs IMG -- CMD).\n"
        "build     a Debian system made by mmdebstrap: --suite (bookworm), --variant (minbase;\n"
        "          also essential, apt, required, buildd, important, standard, ...), --include\n"
        "          more packages (repeatable, comma-separated), --mirror (default: the host's apt\n"
        "          sources for bookworm, else http://deb.debian.org/debian). As root mmdebstrap\n"
        "          fills a directory; otherwise it runs with --mode=unshare (subuids, newuidmap)\n"
        "          and gives a tar, which only squashfs can be packed from. Takes minutes.\n"
        "from-dir  the directory DIR as it is (owners, modes, symlinks, special files).\n"
        "--format  squashfs (default: compressed with zstd, read-only; mksquashfs) or ext4\n"
        "          (mkfs.ext4 -d; sized from the tree with 10%% + 16 MiB headroom, or --size).\n"
        "-o IMG    where the image goes: a reflink or a copy of the cached one.\n"
        "Images are cached by their inputs in ${XDG_CACHE_HOME:-~/.cache}/isovm/images (build: suite,\n"
        "variant, packages, mirror, format, size; from-dir: the format, size, and every entry's\n"
        "path and stat). A second run with the same inputs copies the cached image; --rebuild\n"
        "makes it again. -v shows the tools' output.\n"
        "Exit status 0 when IMG was written, 125 on bad usage or any failure (the message names it).\n");
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_errv(fmt, ap);
    va_end(ap);
    fprintf(stderr, "(isovm image --help for usage)\n");
    return EXIT_ISOVM_ERROR;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What makes an image: from-dir's source tree, or build's mmdebstrap run. */
struct job {
    const char *dir;              /* from-dir */
    struct image_tree tree;       /* from-dir */
    struct image_build build;     /* build */
    int is_build;
};

/* Looks the key up in the cache, makes the image there when missing (or --rebuild), copies it to
 * out. */
static int cached(const struct job *j, const char *key, const char *out, int rebuild, int verbose)
{
    char err[4096], dir[IMAGE_CACHE_PATH_MAX], path[IMAGE_CACHE_PATH_MAX + 100];
    const char *fmt = image_format_name(j->build.format);
    if (image_cache_dir(dir, sizeof dir, err, sizeof err))
        return bad("image: %s", err);
    snprintf(path, sizeof path, "%s/%s.%s", dir, key, fmt);
    struct stat st;
    int hit = !rebuild && !stat(path, &st) && S_ISREG(st.st_mode);
    double t0 = now_s();
    if (!hit) {
        char work[IMAGE_CACHE_PATH_MAX], img[IMAGE_CACHE_PATH_MAX + 16];
        if (image_cache_workdir(dir, work, sizeof work, err, sizeof err))
            return bad("image: %s", err);
        snprintf(img, sizeof img, "%s/image", work);
        int rc = j->is_build ? image_build_run(&j->build, work, img, verbose, err, sizeof err)
                             : image_pack_dir(j->dir, &j->tree, j->build.format, j->build.size, img,
                                              verbose, err, sizeof err);
        if (!rc && rename(img, path)) {
            rc = -errno;
            snprintf(err, sizeof err, "cannot move the image into the cache (%.1000s): %s", path, strerror(errno));
        }
        image_cache_rmtree(work);
        if (rc)
            return bad("image: %s", err);
    }
    if (image_copy_out(path, out, err, sizeof err))
        return bad("image: %s", err);
    if (stat(out, &st))
        return bad("image: %s vanished after it was written", out);
    if (hit)
        printf("%s: %s image, %llu bytes (from the cache: %s)\n", out, fmt, (unsigned long long)st.st_size, path);
    else
        printf("%s: %s image, %llu bytes (built in %.1f s; cached as %s)\n", out, fmt,
               (unsigned long long)st.st_size, now_s() - t0, path);
    if (fflush(stdout))
        return bad("image: %s", "cannot write the output");
    return 0;
}

static int cmd_image_sub(int argc, char **argv, int is_build)
{
    static const struct option longopts[] = {
        { "suite", required_argument, NULL, 's' },   { "variant", required_argument, NULL, 'V' },
        { "include", required_argument, NULL, 'i' }, { "mirror", required_argument, NULL, 'm' },
        { "format", required_argument, NULL, 'f' },  { "size", required_argument, NULL, 'S' },
        { "rebuild", no_argument, NULL, 'r' },       { "verbose", no_argument, NULL, 'v' },
        { "output", required_argument, NULL, 'o' },  { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static struct job j; /* large (the include list); one per process */
    memset(&j, 0, sizeof j);
    j.is_build = is_build;
    const char *out = NULL;
    int rebuild = 0, verbose = 0, c;
    char err[1024];
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:vh", longopts, NULL)) != -1) {
        if (!is_build && strchr("sVim", c) && c)
            return bad("image from-dir: %s is an option of image build", argv[optind - 1]);
        switch (c) {
        case 's': j.build.suite = optarg; break;
        case 'V': j.build.variant = optarg; break;
        case 'm': j.build.mirror = optarg; break;
        case 'i':
            if (image_build_include(&j.build, optarg, err, sizeof err))
                return bad("image build: %s", err);
            break;
        case 'f':
            if (image_format_parse(optarg, &j.build.format))
                return bad("image: --format must be squashfs or ext4, not \"%s\"", optarg);
            break;
        case 'S': {
            uint64_t v;
            if (size_parse(optarg, &v) || v == 0 || v > (1ull << 44))
                return bad("image: --size: \"%s\" is not a size between 1 byte and 16TiB (e.g. 512MiB)", optarg);
            j.build.size = (v + 4095) / 4096 * 4096;
            break;
        }
        case 'r': rebuild = 1; break;
        case 'v': verbose = 1; break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':': return bad("image: %s needs a value", argv[optind - 1]);
        default: return bad("image: unknown option %s", argv[optind - 1]);
        }
    }
    if (j.build.size && j.build.format != IMAGE_EXT4)
        return bad("image: %s", "--size applies to --format ext4 only (squashfs takes what it needs)");
    if (is_build) {
        if (optind < argc)
            return bad("image build: unexpected argument \"%s\"", argv[optind]);
    } else {
        if (optind >= argc)
            return bad("image from-dir: %s", "missing DIR (usage: isovm image from-dir DIR -o IMG)");
        if (optind + 1 < argc)
            return bad("image from-dir: unexpected argument \"%s\" (one DIR only)", argv[optind + 1]);
        j.dir = argv[optind];
    }
    if (!out || !*out)
        return bad("image: %s", "missing -o IMG (where the image goes)");
    struct sha256 h;
    uint8_t d[32];
    char key[65];
    if (is_build) {
        if (image_build_check(&j.build, err, sizeof err))
            return bad("image build: %s", err);
        image_build_key(&j.build, key);
    } else {
        if (image_tree_scan(j.dir, &j.tree, err, sizeof err))
            return bad("image from-dir: %s", err);
        char size[32];
        snprintf(size, sizeof size, "%llu", (unsigned long long)j.build.size);
        sha256_init(&h);
        sha256_update(&h, "isovm image from-dir 1", 23);
        sha256_update(&h, image_format_name(j.build.format), strlen(image_format_name(j.build.format)) + 1);
        sha256_update(&h, size, strlen(size) + 1);
        sha256_update(&h, j.tree.digest, sizeof j.tree.digest);
        sha256_final(&h, d);
        sha256_hex(d, key);
    }
    return cached(&j, key, out, rebuild, verbose);
}

int cmd_image(int argc, char **argv)
{
    if (argc < 2)
        return bad("image: %s", "missing build or from-dir (isovm image --help)");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "build"))
        return cmd_image_sub(argc - 1, argv + 1, 1);
    if (!strcmp(argv[1], "from-dir"))
        return cmd_image_sub(argc - 1, argv + 1, 0);
    return bad("image: unknown subcommand \"%s\" (build or from-dir)", argv[1]);
}
