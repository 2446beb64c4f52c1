/* libFuzzer harness for the image checks' superblock parser (vmm/linux/image_probe): the input is
 * the image's claimed size (8 bytes, little-endian) then its first bytes (at most
 * IMAGE_PROBE_BYTES are looked at). An accepted image names a known file system that fits in
 * the file; a refused one says why; nothing else comes back. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/linux/image_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t file_size = 0;
    for (int i = 0; i < 8; i++)
        file_size |= (uint64_t)data[i] << (8 * i);
    data += 8;
    size -= 8;
    if (size > IMAGE_PROBE_BYTES)
        size = IMAGE_PROBE_BYTES;
    /* a copy of exactly the bytes given, so ASan sees any read past them */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct image_info info;
    char err[256];
    memset(err, 'x', sizeof err);
    int rc = image_probe(buf, size, file_size, &info, err, sizeof err);
    if (rc == 0) {
        if (info.size != file_size)
            abort();
        if (info.fstype) {
            static const char *const known[] = { "ext4", "ext3", "ext2", "squashfs", "erofs" };
            size_t k = 0;
            while (k < 5 && strcmp(info.fstype, known[k]))
                k++;
            if (k == 5 || info.fs_bytes == 0 || info.fs_bytes > file_size)
                abort();
            if (info.read_only != (k >= 3))
                abort();
        } else if (info.fs_bytes) {
            abort();
        }
    } else if (rc == -EINVAL || rc == -EFBIG || rc == -ENOTSUP) {
        if (!memchr(err, 0, sizeof err) || !err[0])
            abort();
    } else {
        abort();
    }
    free(buf);
    return 0;
}
