/* The wording of policy messages: quoted and cleaned text, lists of names, "did you mean". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy/policy_internal.h"

void text_appendf(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strnlen(buf, len);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

const char *name_suggest(const char *name, const char *const *names)
{
    const char *best = NULL;
    unsigned best_d = 3;
    for (; *names; names++) {
        unsigned d = text_edits(name, *names);
        if (d < best_d && 2 * d <= strlen(*names)) {
            best_d = d;
            best = *names;
        }
    }
    return best;
}

void names_list(const char *const *names, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    for (; *names; names++)
        text_appendf(buf, len, "%s\"%s\"", buf[0] ? ", " : "", *names);
}

/* Escape one byte of s into buf at *o (room permitting); quotes true also escapes '"' and '\'. */
static void put_escaped(unsigned char ch, bool quotes, char *buf, size_t len, size_t *o)
{
    char tmp[8];
    if (ch == '\n')
        strcpy(tmp, "\\n");
    else if (ch == '\t')
        strcpy(tmp, "\\t");
    else if (ch == '\r')
        strcpy(tmp, "\\r");
    else if (ch < 0x20 || ch == 0x7f)
        snprintf(tmp, sizeof tmp, "\\x%02x", ch);
    else if (quotes && (ch == '"' || ch == '\\'))
        snprintf(tmp, sizeof tmp, "\\%c", ch);
    else {
        tmp[0] = (char)ch;
        tmp[1] = '\0';
    }
    size_t n = strlen(tmp);
    if (*o + n < len) {
        memcpy(buf + *o, tmp, n);
        *o += n;
    }
}

void text_quote(const char *s, size_t n, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 8) {
        if (len)
            buf[0] = '\0';
        return;
    }
    buf[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (o + 8 >= len) { /* room for a last escape, "...", the quote and the NUL */
            while (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
                o--; /* do not cut a UTF-8 character */
            if (o > 1 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
                o--;
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        put_escaped((unsigned char)s[i], true, buf, len, &o);
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

void text_clean(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    if (!len)
        return;
    for (; *s; s++)
        put_escaped((unsigned char)*s, false, buf, len, &o);
    buf[o] = '\0';
}

int policy_msgf(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}
