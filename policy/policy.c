/* The job policy: defaults now; the JSON parser and field table come next. */
#include "policy.h"
#include <string.h>

void policy_defaults(struct policy *p)
{
    memset(p, 0, sizeof *p);
    p->memory_bytes = POLICY_DEFAULT_MEMORY;
    p->cpu_period_ns = POLICY_DEFAULT_CPU_PERIOD_NS;
    p->max_threads = POLICY_DEFAULT_MAX_THREADS;
    p->max_capabilities = POLICY_DEFAULT_MAX_CAPS;
}
