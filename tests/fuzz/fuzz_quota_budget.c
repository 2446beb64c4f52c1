/* libFuzzer harness for the budget items of `isovm quota set` (quota/budget.c): the input is one
 * item. An accepted item must print back (quota_budget_format) to an item that parses to the same
 * budget; a refused one must leave the budgets as they were and say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "quota/budget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char *item = malloc(len + 1);
    if (!item)
        abort();
    memcpy(item, data, len);
    item[len] = '\0';
    struct quota_budgets b = { 0 }, before;
    char err[256] = "";
    (void)quota_budget_apply(&b, "jobs=3", err, sizeof err);
    before = b;
    if (quota_budget_apply(&b, item, err, sizeof err) < 0) {
        if (!err[0] || strlen(err) >= sizeof err || memcmp(&b, &before, sizeof b))
            abort();
        free(item);
        return 0;
    }
    for (int r = 0; r < QUOTA_NRES; r++) {
        char out[128];
        struct quota_budgets again = { 0 };
        quota_budget_format((enum quota_resource)r, &b.of[r], out, sizeof out);
        if (quota_budget_apply(&again, out, err, sizeof err) < 0)
            abort(); /* what format prints must parse */
        if (again.of[r].set != b.of[r].set ||
            (b.of[r].set && (again.of[r].amount != b.of[r].amount ||
                             again.of[r].window != b.of[r].window)))
            abort();
        int64_t t = (int64_t)(b.of[r].amount % 4102444800ull); /* up to 2100 */
        int64_t s = quota_window_start(b.of[r].window, t), e = quota_window_end(b.of[r].window, t);
        if (b.of[r].window != QUOTA_AT_ONCE && !(s <= t && t < e))
            abort();
    }
    free(item);
    return 0;
}
