/* badelf OUTDIR: writes one malformed ELF file per loader defect into OUTDIR, printing each name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/elf_fixture.h"

static int write_file(const char *dir, const char *name, const uint8_t *data, size_t size)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        fprintf(stderr, "badelf: path too long: %s/%s\n", dir, name);
        return -ENAMETOOLONG;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "badelf: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            fprintf(stderr, "badelf: %s: %s\n", path, strerror(e));
            close(fd);
            return -e;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "badelf: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < elf_defect_count; i++) {
        size_t size;
        uint8_t *image = fixture_defect(i, &size);
        if (!image) {
            fprintf(stderr, "badelf: out of memory\n");
            return 1;
        }
        int rc = write_file(argv[1], elf_defects[i].file_name, image, size);
        free(image);
        if (rc)
            return 1;
        printf("%s\n", elf_defects[i].file_name);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
