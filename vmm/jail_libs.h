/* What a dynamically linked VMM binary needs in the jail: its ELF interpreter and libraries. */
#ifndef ISOVM_JAIL_LIBS_H
#define ISOVM_JAIL_LIBS_H
#include <stddef.h>

#define JAIL_MAX_LIBS 48

struct jail_libs {
    unsigned n;
    char path[JAIL_MAX_LIBS][512];   /* absolute host paths: the interpreter, then DT_NEEDED */
};

/* The interpreter (PT_INTERP) and every DT_NEEDED library of `exe`, recursively, found in the
 * standard directories (/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64,
 * /lib, /usr/lib) as the dynamic loader finds them without ld.so.cache. A static binary gives
 * none. 0, or -errno with one line in err naming the file or the library not found. */
int jail_libs_resolve(const char *exe, struct jail_libs *out, char *err, size_t errlen);

#endif
