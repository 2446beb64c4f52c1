/* #! scripts: the interpreter line execve reads from the start of a file. */
#ifndef ISOVM_EXEC_SCRIPT_H
#define ISOVM_EXEC_SCRIPT_H
#include <stddef.h>
#include <stdint.h>

#define EXEC_SCRIPT_HEADER 256 /* a #! line is read from this many bytes (Linux's BINPRM_BUF_SIZE) */

/* Is the file whose first bytes are data[0..size) a #! script? Parses as Linux does: the line
 * ends at the first newline or NUL within EXEC_SCRIPT_HEADER bytes; spaces and tabs around
 * the interpreter are skipped, and what follows it (trailing blanks cut) is one argument.
 * Returns 1 with *interp (never empty) and *arg (NULL when none) pointing into buf; 0 when it
 * is not a script; -ENOEXEC when it names no interpreter, or when the interpreter's name may
 * go on past the bytes read (no line end in them). */
int exec_script_parse(const uint8_t *data, size_t size, char buf[EXEC_SCRIPT_HEADER + 1],
                      const char **interp, const char **arg);

#endif
