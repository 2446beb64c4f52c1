/* Unit tests for the syscall support table: in step with the handlers, and docs/syscalls.md its rendering (ISOVM_UPDATE_DOCS=1 rewrites it: make docs-syscalls). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/syscall_names.h"
#include "vmm/core/job.h"
#include "vmm/hypercall/syscall_support.h"
#include "vmm/hypercall/syscall_table.h"
#include "vmm/sys/sys.h"

#define LINUX_NR_MAX 512 /* x86-64's numbers are below (isovm's own start at 1000) */

/* Every number with a handler has a row saying it is supported (or refused on purpose: the
 * handler that answers ENOSYS), every row of a supported call has a handler, and every row
 * short of full support says why. */
static void test_table_matches_handlers(void **state)
{
    (void)state;
    for (size_t i = 0; i < syscall_support_count; i++) {
        const struct sc_support_row *r = &syscall_support[i];
        for (size_t j = 0; j < i; j++)
            if (syscall_support[j].nr == r->nr)
                fail_msg("syscall %u (%s) has two rows", r->nr, syscall_name_any(r->nr));
        if (r->level != SC_FULL && !r->note[0])
            fail_msg("%s: %s without a note", syscall_name_any(r->nr), syscall_support_name(r->level));
        if (!syscall_name_any(r->nr))
            fail_msg("row for %u, which has no name", r->nr);
    }
    for (unsigned nr = 0; nr < LINUX_NR_MAX; nr++) {
        sc_handler h = syscall_lookup(nr);
        const struct sc_support_row *r = syscall_support_of(nr);
        enum sc_support level = r ? r->level : SC_NO;
        const char *name = syscall_name_any(nr);
        if (h && level == SC_NO)
            fail_msg("%s (%u) has a handler but its row says no (or it has none)", name, nr);
        if (!h && level != SC_NO)
            fail_msg("%s (%u) has no handler but its row says %s", name, nr,
                     syscall_support_name(level));
        if (h && (h == sys_enosys_quiet) != (level == SC_REFUSED))
            fail_msg("%s (%u): the ENOSYS handler and a refused row go together", name, nr);
    }
}

/* docs/syscalls.md as the table renders it. */
static char *render(size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    assert_non_null(f);
    unsigned n[4] = { 0 };
    for (unsigned nr = 0; nr < LINUX_NR_MAX; nr++) {
        if (!syscall_name_any(nr))
            continue;
        const struct sc_support_row *r = syscall_support_of(nr);
        n[r ? r->level : SC_NO]++;
    }
    fprintf(f,
        "# Syscalls of the hypercall tier\n\n"
        "Every x86-64 Linux syscall, and how far isovm answers it for a job of the hypercall tier\n"
        "(the Linux tier runs Debian's kernel, which answers all of them). Generated from\n"
        "`vmm/hypercall/syscall_support.c` by `make docs-syscalls`; `test_syscall_doc` fails when\n"
        "this file, the table or the handlers (`vmm/hypercall/syscall_table.c`) disagree.\n\n"
        "- **yes**: as Linux, within the job's capabilities (grants, endpoints) and limits.\n"
        "- **partial**: what the note says; the rest fails as the note says.\n"
        "- **no**: `ENOSYS`, counted in the report (`unknown_syscalls`); a note says when it is\n"
        "  refused on purpose (C libraries then take another way) or why it is missing.\n\n"
        "A policy's syscall filter ([syscall-filter.md](syscall-filter.md)) can take away any of\n"
        "them; paths resolve only through grants ([filesystem.md](filesystem.md)), sockets only to\n"
        "endpoints ([network.md](network.md)). isovm's own calls 1000-1002 are in\n"
        "[hypercalls.md](hypercalls.md).\n\n"
        "%u syscalls: %u yes, %u partial, %u no (%u of them refused on purpose).\n\n"
        "| nr | syscall | support | notes |\n|---|---|---|---|\n",
        n[SC_NO] + n[SC_FULL] + n[SC_PARTIAL] + n[SC_REFUSED], n[SC_FULL], n[SC_PARTIAL],
        n[SC_NO] + n[SC_REFUSED], n[SC_REFUSED]);
    for (unsigned nr = 0; nr < LINUX_NR_MAX; nr++) {
        const char *name = syscall_name_any(nr);
        if (!name)
            continue;
        const struct sc_support_row *r = syscall_support_of(nr);
        enum sc_support level = r ? r->level : SC_NO;
        fprintf(f, "| %u | `%s` | %s | %s |\n", nr, name, syscall_support_name(level),
                r && r->note[0] ? r->note : level == SC_NO ? "ENOSYS" : "");
    }
    fclose(f);
    return buf;
}

static void test_doc_current(void **state)
{
    (void)state;
    size_t len;
    char *want = render(&len);
    if (getenv("ISOVM_UPDATE_DOCS")) {
        FILE *o = fopen(ISOVM_SYSCALLS_DOC, "w");
        assert_non_null(o);
        assert_int_equal(fwrite(want, 1, len, o), len);
        assert_int_equal(fclose(o), 0);
    }
    FILE *f = fopen(ISOVM_SYSCALLS_DOC, "r");
    if (!f)
        fail_msg("%s: cannot open (make docs-syscalls writes it)", ISOVM_SYSCALLS_DOC);
    char *have = calloc(1, len + 2);
    assert_non_null(have);
    size_t got = fread(have, 1, len + 1, f);
    fclose(f);
    if (got != len || memcmp(have, want, len) != 0)
        fail_msg("%s is not what the table renders: run make docs-syscalls", ISOVM_SYSCALLS_DOC);
    free(have);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_handlers),
        cmocka_unit_test(test_doc_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
