/* Test-only hooks (test_hooks.h): compiled into isovm as "never", into isovm-hooks as a getenv. */
#include "lib/test_hooks.h"
#include <stdlib.h>
#include <string.h>

#ifdef ISOVM_TEST_HOOKS
const char *test_hooks_env(void)
{
    return getenv("ISOVM_TEST_HOOK");
}

bool test_hook(const char *name)
{
    const char *list = test_hooks_env();
    size_t n = strlen(name);
    while (list && *list) {
        const char *end = strchr(list, ',');
        size_t len = end ? (size_t)(end - list) : strlen(list);
        if (len == n && memcmp(list, name, n) == 0)
            return true;
        list = end ? end + 1 : NULL;
    }
    return false;
}
#else
const char *test_hooks_env(void)
{
    return NULL;
}

bool test_hook(const char *name)
{
    (void)name;
    return false;
}
#endif
