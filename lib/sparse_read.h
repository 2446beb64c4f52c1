/* Reading part of a file into memory that is already zero, skipping the file's holes. */
#ifndef ISOVM_LIB_SPARSE_READ_H
#define ISOVM_LIB_SPARSE_READ_H
#include <stdint.h>

/* Read bytes [off, off + len) of fd into dst[0 .. len): the data extents only (SEEK_DATA /
 * SEEK_HOLE; where the file system has no SEEK_DATA, all of it). dst must already be zero where
 * the file has holes: nothing is written there, so untouched guest RAM stays untouched. The
 * caller checks that off + len is inside the file: a file cut short while reading gives
 * -ENODATA (a hole past its end is no zeros). 0, -EINVAL (off + len overflows), or pread's
 * -errno. */
int sparse_read(int fd, uint64_t off, uint64_t len, uint8_t *dst);

#endif
