/* What a dynamically linked VMM needs in the jail: its ELF interpreter and libraries. */
#ifndef ISOVM_JAIL_LIBS_H
#define ISOVM_JAIL_LIBS_H
#include <stddef.h>

#define JAIL_MAX_LIBS 48

struct jail_libs {
    unsigned n;
    char path[JAIL_MAX_LIBS][512];   /* absolute host paths: the interpreter and every library */
};

/* The shared objects this process has loaded (dl_iterate_phdr): the jailer is the VMM's own
 * binary, so these are exactly what the VMM will load, found without reading a file. A static
 * binary has none. The jailed loader has no ld.so.cache: it finds them again in its default
 * directories (/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib, /usr/lib), where the
 * jailer binds them at these paths. 0, or -errno with one line in err. */
int jail_libs_self(struct jail_libs *out, char *err, size_t errlen);

#endif
