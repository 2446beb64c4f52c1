/* libFuzzer harness for the #! line parser execve uses (vmm/sys/exec_script.c): the input is the
 * start of a file. A script's interpreter is a non-empty word with no blank, its argument has no
 * blank at either end, and both lie inside the parser's buffer, inside the line. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/sys/exec_script.h"

static int blank(char c) { return c == ' ' || c == '\t'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* exactly the bytes given: ASan sees any overread */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    char buf[EXEC_SCRIPT_HEADER + 1];
    const char *interp = NULL, *arg = NULL;
    int rc = exec_script_parse(copy, size, buf, &interp, &arg);
    if (rc == 1) {
        size_t il = strlen(interp);
        if (interp < buf + 2 || interp + il > buf + EXEC_SCRIPT_HEADER || !il ||
            memchr(interp, ' ', il) || memchr(interp, '\t', il) || memchr(interp, '\n', il))
            abort();
        if (arg) {
            size_t al = strlen(arg);
            if (arg <= interp || arg + al > buf + EXEC_SCRIPT_HEADER || !al || blank(arg[0]) ||
                blank(arg[al - 1]) || memchr(arg, '\n', al))
                abort();
        }
    } else if (rc == 0) {
        if (size >= 2 && data[0] == '#' && data[1] == '!')
            abort();
    } else if (rc != -ENOEXEC) {
        abort();
    }
    free(copy);
    return 0;
}
