/* Writes a job file (init/abi.h) from a struct job_spec: the VMM's side of the contract. */
#ifndef ISOVM_INIT_JOB_WRITE_H
#define ISOVM_INIT_JOB_WRITE_H
#include <stddef.h>
#include "init/job_file.h"

/* The job file for spec (its text field is not used; cwd NULL means "/"), in a malloc'd buffer
 * *text of *len bytes (NUL-terminated beyond). The result is parsed back before it is returned,
 * so a spec the init would refuse is refused here: -EINVAL with err saying why (as job_parse
 * says it), -E2BIG, -ENOMEM. */
int job_write(const struct job_spec *spec, char **text, size_t *len, char *err, size_t errlen);

#endif
