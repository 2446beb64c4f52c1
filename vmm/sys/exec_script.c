/* Parses the #! line of a script execve is asked to run. */
#include "vmm/sys/exec_script.h"
#include <errno.h>
#include <string.h>

static int blank(char c) { return c == ' ' || c == '\t'; }

int exec_script_parse(const uint8_t *data, size_t size, char buf[EXEC_SCRIPT_HEADER + 1],
                      const char **interp, const char **arg)
{
    if (size < 2 || data[0] != '#' || data[1] != '!')
        return 0;
    size_t n = size < EXEC_SCRIPT_HEADER ? size : EXEC_SCRIPT_HEADER;
    memcpy(buf, data, n);
    buf[n] = '\0';
    char *nl = memchr(buf, '\n', n);
    size_t len = strnlen(buf, nl ? (size_t)(nl - buf) : n); /* a NUL ends the line too */
    char *end = buf + len;
    *end = '\0';
    while (end > buf + 2 && (blank(end[-1]) || end[-1] == '\r'))
        *--end = '\0';
    char *s = buf + 2;
    while (blank(*s))
        s++;
    if (!*s)
        return -ENOEXEC;
    char *e = s;
    while (*e && !blank(*e))
        e++;
    if (!nl && len == EXEC_SCRIPT_HEADER && e == buf + len)
        return -ENOEXEC; /* the interpreter's name may go on past what is read */
    *interp = s;
    *arg = NULL;
    if (*e) {
        *e++ = '\0';
        while (blank(*e))
            e++;
        if (*e)
            *arg = e;
    }
    return 1;
}
