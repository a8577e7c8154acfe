/* One line of error text, filled by the part that failed and printed by
 * main.c: parts never print and never exit (native/phone/README.md). */
#ifndef PFS_PHONE_ERR_H
#define PFS_PHONE_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* Room for one line, NUL included: a path and a reason fit. */
#define PFS_ERR_BYTES 512u

typedef struct pfs_err {
  char text[PFS_ERR_BYTES];
} pfs_err;

/* Sets the error text (printf-style) and returns false, so a failing
 * function can end with `return pfs_fail(err, "...", ...);`. A NULL err is
 * allowed: the caller does not want the text. */
static inline bool pfs_fail(pfs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool pfs_fail(pfs_err *err, const char *fmt, ...) {
  if (err == NULL) return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->text, sizeof err->text, fmt, ap);
  va_end(ap);
  return false;
}

#endif
