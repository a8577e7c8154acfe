/* pfs_reader over C stdio: a file natively, a semihosted file on a board
 * (newlib's rdimon turns fread into SYS_READ). */
#include <assert.h>

#include "reader.h"

static size_t stdio_read(void *ctx, void *dst, size_t n) {
  assert(ctx != NULL && (dst != NULL || n == 0));
  return fread(dst, 1, n, (FILE *)ctx);
}

pfs_reader pfs_reader_stdio(FILE *f) {
  assert(f != NULL);
  return (pfs_reader){stdio_read, f};
}
