/* Finds the ELF interpreter and the DT_NEEDED libraries of a binary, recursively. */
#include "jail_libs.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const lib_dirs[] = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib",
    "/usr/lib",
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static bool listed(const struct jail_libs *l, const char *path)
{
    for (unsigned i = 0; i < l->n; i++)
        if (!strcmp(l->path[i], path))
            return true;
    return false;
}

static int add(struct jail_libs *l, const char *path, char *err, size_t errlen)
{
    if (listed(l, path))
        return 0;
    if (l->n >= JAIL_MAX_LIBS)
        return fail(err, errlen, -E2BIG, "jail: the VMM needs more than %d libraries",
                    JAIL_MAX_LIBS);
    if (strlen(path) >= sizeof l->path[0])
        return fail(err, errlen, -ENAMETOOLONG, "jail: library path too long: %s", path);
    strcpy(l->path[l->n++], path);
    return 1;
}

/* File offset of virtual address `va` through the PT_LOAD headers; 0 when none maps it. */
static uint64_t va_to_off(const Elf64_Phdr *ph, unsigned n, uint64_t va)
{
    for (unsigned i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr && va - ph[i].p_vaddr < ph[i].p_filesz)
            return ph[i].p_offset + (va - ph[i].p_vaddr);
    return 0;
}

/* The needed names of one file, each looked up and recursed into. */
static int scan(const char *file, struct jail_libs *l, int depth, char *err, size_t errlen)
{
    if (depth > 16)
        return fail(err, errlen, -ELOOP, "jail: %s: libraries nested too deep", file);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fail(err, errlen, -e, "jail: %s: %s", file, strerror(e));
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *m = size >= sizeof(Elf64_Ehdr)
                           ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (m == MAP_FAILED)
        return fail(err, errlen, -ENOEXEC, "jail: %s: not an ELF file", file);
    int rc = 0;
    const Elf64_Ehdr *eh = (const void *)m;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
        (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum) {
        rc = fail(err, errlen, -ENOEXEC, "jail: %s: not a 64-bit ELF file", file);
        goto out;
    }
    const Elf64_Phdr *ph = (const void *)(m + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    size_t ndyn = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_offset > size || ph[i].p_filesz > size - ph[i].p_offset)
            continue;
        if (ph[i].p_type == PT_INTERP && ph[i].p_filesz > 1 && ph[i].p_filesz < 512) {
            char interp[512];
            memcpy(interp, m + ph[i].p_offset, ph[i].p_filesz);
            interp[ph[i].p_filesz - 1] = '\0';
            if (interp[0] != '/' || access(interp, R_OK) != 0) {
                rc = fail(err, errlen, -ENOENT, "jail: %s: interpreter %s not found", file,
                          interp);
                goto out;
            }
            if ((rc = add(l, interp, err, errlen)) < 0)
                goto out;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            dyn = (const void *)(m + ph[i].p_offset);
            ndyn = ph[i].p_filesz / sizeof *dyn;
        }
    }
    uint64_t strtab = 0, strsz = 0;
    for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
        if (dyn[i].d_tag == DT_STRTAB)
            strtab = va_to_off(ph, eh->e_phnum, dyn[i].d_un.d_ptr);
        else if (dyn[i].d_tag == DT_STRSZ)
            strsz = dyn[i].d_un.d_val;
    }
    if (!strtab || strtab > size || strsz > size - strtab) {
        rc = 0; /* static, or nothing to load */
        goto out;
    }
    for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
        if (dyn[i].d_tag != DT_NEEDED)
            continue;
        uint64_t off = dyn[i].d_un.d_val;
        const char *name = (const char *)m + strtab + off;
        if (off >= strsz || !memchr(name, '\0', strsz - off) || strchr(name, '/')) {
            rc = fail(err, errlen, -ENOEXEC, "jail: %s: a bad DT_NEEDED entry", file);
            goto out;
        }
        if (l->n && l->path[0][0] && !strcmp(name, strrchr(l->path[0], '/') + 1))
            continue; /* the interpreter (libc's DT_NEEDED ld-linux): loaded already */
        char path[512] = "";
        for (size_t d = 0; d < sizeof lib_dirs / sizeof lib_dirs[0]; d++) {
            snprintf(path, sizeof path, "%s/%s", lib_dirs[d], name);
            if (access(path, R_OK) == 0)
                break;
            path[0] = '\0';
        }
        if (!path[0]) {
            rc = fail(err, errlen, -ENOENT, "jail: %s needs %s, which is in none of the library "
                      "directories", file, name);
            goto out;
        }
        int added = add(l, path, err, errlen);
        if (added < 0 || (added == 1 && (added = scan(path, l, depth + 1, err, errlen)) < 0)) {
            rc = added;
            goto out;
        }
    }
    rc = 0;
out:
    munmap((void *)m, size);
    return rc;
}

int jail_libs_resolve(const char *exe, struct jail_libs *out, char *err, size_t errlen)
{
    out->n = 0;
    return scan(exe, out, 0, err, errlen);
}
