/* Reading part of a file into memory that is already zero, or mapping it there copy-on-write,
 * skipping the file's holes. */
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

/* As sparse_read, but each data extent is mapped over dst (MAP_PRIVATE | MAP_FIXED, read and
 * write: a write copies the page into this process alone) where its start is page-aligned in
 * the file and in dst, and read where not (a partial last page, a file system whose extents are
 * not page-aligned). dst must be a mapping of the caller's that may be replaced: the mapped
 * pages come from the file's page cache, shared with every process that maps or reads it, and
 * follow later writes to the file until this process writes them. -errno of mmap or pread. */
int sparse_map(int fd, uint64_t off, uint64_t len, uint8_t *dst);

#endif
