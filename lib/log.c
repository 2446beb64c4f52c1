/* Diagnostics: one line per message on stderr, prefixed "isovm: ". */
#include "lib/log.h"
#include <stdio.h>

int log_verbose;

static void log_line(const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "isovm: %s\n", line);
}

void log_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

void log_errv(const char *fmt, va_list ap)
{
    log_line(fmt, ap);
}

void log_warn(const char *fmt, ...)
{
    char with[256];
    snprintf(with, sizeof with, "warning: %s", fmt);
    va_list ap;
    va_start(ap, fmt);
    log_line(with, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    if (!log_verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}
