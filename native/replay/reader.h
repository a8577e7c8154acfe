/* The replayer's only way to its input: a byte stream read front to back.
 * The same replay code runs natively (stdio) and on a board (newlib's stdio
 * over semihosting); a phone could feed it from anywhere else. */
#ifndef PFS_READER_H
#define PFS_READER_H

#include <stddef.h>
#include <stdio.h>

typedef struct pfs_reader {
  /* Reads up to n bytes into dst and returns how many; fewer than n only
   * at the end of the input (or on an error, which ends it too). */
  size_t (*read)(void *ctx, void *dst, size_t n);
  void *ctx;
} pfs_reader;

/* A reader over an open FILE (reader_stdio.c). */
pfs_reader pfs_reader_stdio(FILE *f);

#endif
