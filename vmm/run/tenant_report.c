/* The report's "ledger" object of a job charged to a tenant: its ids, the ledger's cost at its start and end, what it was granted. */
#include <stdio.h>
#include "vmm/run/tenant.h"

void tenant_report_json(const struct tenant_link *t, char *buf, size_t len)
{
    /* tenant and job id are of [A-Za-z0-9._-] (policy checks): nothing to escape */
    snprintf(buf, len, "{\"tenant\": \"%s\", \"job_id\": \"%s\", \"admit_wait_ns\": %llu, "
             "\"cpu_limit_ns\": %llu, \"cpu_clamped\": %s}", t->tenant, t->job_id,
             (unsigned long long)t->admit_wait_ns, (unsigned long long)t->admit.cpu_limit_ns,
             t->admit.clamped[QUOTA_CPU] ? "true" : "false");
}
