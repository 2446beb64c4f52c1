/* Policy values as parsed from a file or an option: conversions shared by the policy's sections. */
#include <errno.h>
#include "policy/policy_internal.h"
#include "policy/units.h"

#define msgf policy_msgf

int pval_duration(const struct pval *v, bool zero_none, uint64_t *x, char *msg, size_t len)
{
    if (v->type == V_INTEGER && v->num == 0 && zero_none) {
        *x = 0;
        return 0;
    }
    if (v->type == V_STRING) {
        int rc = duration_parse(v->str, x);
        if (rc == -ERANGE)
            return msgf(msg, len, "%s is too large (the most is about 584 years)", v->desc);
        if (rc == 0)
            return 0;
    }
    return msgf(msg, len, "expected a duration with a unit like \"500ms\" or \"30s\"%s, got %s%s",
                zero_none ? " (or 0 for none)" : "", v->desc,
                v->type == V_INTEGER && v->num ? " (a plain number has no unit)" : "");
}
