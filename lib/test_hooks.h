/* Test-only hooks: behaviour that tests trigger through ISOVM_TEST_HOOK, in build/isovm-hooks only. */
#ifndef ISOVM_TEST_HOOKS_H
#define ISOVM_TEST_HOOKS_H
#include <stdbool.h>

/* Is hook `name` asked for? ISOVM_TEST_HOOK holds a comma-separated list of hook names. Always
 * false in isovm itself: only $(BUILD)/isovm-hooks (test_hooks.c compiled with
 * -DISOVM_TEST_HOOKS) reads the variable. */
bool test_hook(const char *name);

/* The raw ISOVM_TEST_HOOK value to pass on to a child (the jailer clears the environment), or
 * NULL (always NULL in isovm itself). */
const char *test_hooks_env(void);

#endif
