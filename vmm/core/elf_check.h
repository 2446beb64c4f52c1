/* ELF header checks shared by the loaders (a job's program, a Linux kernel). */
#ifndef ISOVM_ELF_CHECK_H
#define ISOVM_ELF_CHECK_H
#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ELF header of a file of `size` bytes (the caller copied it out, size >= its 64 bytes):
 * a little-endian ELF64 x86-64 executable (ET_EXEC or ET_DYN) of the current version, its
 * program header table (1..64 entries) and section header table inside the file. 0, or
 * -ENOEXEC with a message naming the defect in err ("e_machine 3: not x86-64 ..."). */
int elf_check_header(const Elf64_Ehdr *eh, size_t size, char *err, size_t errlen);

/* Write the message into err and return -ENOEXEC. */
int elf_refuse(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Does [off, off+len) lie inside a file of `size` bytes (overflow-safe)? */
bool elf_in_file(uint64_t off, uint64_t len, size_t size);

#endif
