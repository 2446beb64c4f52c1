/* The ELF interpreter and the libraries this process (isovm itself) has loaded, for the jail. */
#include "jail/jail_libs.h"
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

struct libs_walk {
    struct jail_libs *out;
    char *err;
    size_t errlen;
    int rc;
};

static int lib_add(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct libs_walk *w = data;
    const char *name = info->dlpi_name;
    if (!name || name[0] != '/') /* the main program (""), the vDSO */
        return 0;
    for (unsigned i = 0; i < w->out->n; i++)
        if (!strcmp(w->out->path[i], name))
            return 0;
    if (w->out->n >= JAIL_MAX_LIBS || strlen(name) >= sizeof w->out->path[0]) {
        snprintf(w->err, w->errlen, "jail: isovm loads more than %d libraries or one with a "
                 "path too long (%s)", JAIL_MAX_LIBS, name);
        w->rc = -E2BIG;
        return 1;
    }
    strcpy(w->out->path[w->out->n++], name);
    return 0;
}

int jail_libs_self(struct jail_libs *out, char *err, size_t errlen)
{
    struct libs_walk w = { out, err, errlen, 0 };
    out->n = 0;
    dl_iterate_phdr(lib_add, &w);
    return w.rc;
}
