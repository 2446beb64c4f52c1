/* Edit distance between short names, for "did you mean" suggestions. */
#ifndef ISOVM_TEXT_EDITS_H
#define ISOVM_TEXT_EDITS_H

/* Edit distance (case-insensitive) between a and b, or a large number (99) when either is
 * longer than 64 characters. */
unsigned text_edits(const char *a, const char *b);

#endif
