/* Capability rights: the bits a grant or a descriptor carries, their names, parsing and output. */
#ifndef ISOVM_RIGHTS_H
#define ISOVM_RIGHTS_H
#include <stddef.h>
#include <stdint.h>

enum cap_right {
    CAP_R_READ = 1u << 0,     /* read file data */
    CAP_R_WRITE = 1u << 1,    /* write file data */
    CAP_R_CREATE = 1u << 2,   /* create files, directories and symlinks beneath a directory */
    CAP_R_DELETE = 1u << 3,   /* unlink, rmdir, rename away beneath a directory */
    CAP_R_LIST = 1u << 4,     /* list a directory (getdents64) */
    CAP_R_STAT = 1u << 5,     /* stat, readlink */
    CAP_R_SEEK = 1u << 6,     /* lseek, pread, pwrite at an offset */
    CAP_R_TRUNCATE = 1u << 7, /* ftruncate, O_TRUNC */
    CAP_R_EXEC = 1u << 8,     /* execve a program (with read: the VMM loads it) */
};
#define CAP_RIGHTS_COUNT 9
#define CAP_RIGHTS_ALL   0x1ffu
/* "ro": everything that reads; "rw": everything but exec; "rx": ro and exec; "rwx": all. */
#define CAP_RIGHTS_RO    (CAP_R_READ | CAP_R_LIST | CAP_R_STAT | CAP_R_SEEK)
#define CAP_RIGHTS_RW    0xffu
#define CAP_RIGHTS_RX    (CAP_RIGHTS_RO | CAP_R_EXEC)

/* The name of one right bit ("read", ...), or NULL. */
const char *right_name(uint32_t bit);

/* A right by name ("read", ...), "ro", "rw", "rx" or "rwx" (the sets above): 0 and *rights, or -EINVAL. */
int rights_from_name(const char *name, uint32_t *rights);

/* "read,list,stat,seek" ("none" for 0) into buf. */
void rights_format(uint32_t rights, char *buf, size_t len);

/* The rights as a JSON array of names: ["read","list"]. */
void rights_format_json(uint32_t rights, char *buf, size_t len);

#endif
