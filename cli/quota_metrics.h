/* The tenant ledger's usage as OpenMetrics 1.0 or the Prometheus text format 0.0.4, for `isovm quota report` and `quota serve`. */
#ifndef ISOVM_CLI_QUOTA_METRICS_H
#define ISOVM_CLI_QUOTA_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "quota/ledger.h"

/* Write every tenant's metrics (only `tenant`'s if not NULL; job totals of the jobs started since
 * since_s, 0: all) to f: OpenMetrics 1.0 when openmetrics, else the Prometheus text format 0.0.4
 * (docs/quota.md). Reads the whole report first, so on an error nothing is written. 0, or a
 * negative errno with the message in err: the ledger's (ledger_report), "out of memory"
 * (-ENOMEM), or a failed write to f (-EIO). */
int quota_metrics_write(FILE *f, struct ledger *l, const char *tenant, int64_t since_s,
                        int64_t now_s, bool openmetrics, char *err, size_t errlen);

#endif
