/* The init's messages: one line each, "isovm-init: ...", on isovm.stderr once it is open, before
 * that on the console; and die(), the end of the guest after an init error. */
#ifndef ISOVM_INIT_MSG_H
#define ISOVM_INIT_MSG_H
#include "init/abi.h"

/* From now on messages go to fd (the isovm.stderr port) instead of the console. */
void msg_use_stderr(int fd);

void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* On the console (ttyS0: --console-log) only, whatever msg_use_stderr said. */
void msg_console(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Says why (also on isovm.stderr when it can be found now, even before msg_use_stderr), then
 * reports ISOVM_INIT_ERROR with stage and err (a positive errno) and ends the guest. */
_Noreturn void die(enum isovm_init_stage stage, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
