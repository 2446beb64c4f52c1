/* Diagnostics: every message isovm prints about itself starts with "isovm: ". */
#ifndef ISOVM_LOG_H
#define ISOVM_LOG_H
#include <stdarg.h>

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_err with a va_list. */
void log_errv(const char *fmt, va_list ap);
/* "isovm: warning: ...": something went wrong that the run works around */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int log_verbose;

#endif
