/* pfs-tftp-get: reads one file with tftp.c, for the tests of
 * tests/host/native-phone-tftp.test.ts and for a firmware engineer trying a
 * server. Exit 0 when the file is whole, else one line on stderr and 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tftp.h"

#define USAGE                                                                                                           \
  "usage: pfs-tftp-get HOST PORT FILE [--blksize N] [--cap BYTES] [--expect BYTES] [--bind ADDR] [--no-tsize]" \
  " [--timeout-ms N] [--retries N] [--out PATH]"

static bool write_chunk(void *ctx, const uint8_t *chunk, size_t len, uint64_t offset, pfs_err *err) {
  (void)offset; /* blocks come in file order: appending is writing at offset */
  if (len > 0 && fwrite(chunk, 1, len, (FILE *)ctx) != len) return pfs_fail(err, "writing the output: %s", strerror(errno));
  return true;
}

/* A whole decimal number within max, or false. */
static bool number(const char *s, unsigned long long max, unsigned long long *out) {
  if (s == NULL || *s < '0' || *s > '9') return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != 0 || v > max) return false;
  *out = v;
  return true;
}

static bool parse_flag(pfs_tftp_opts *o, const char **out, const char *flag, const char *value, pfs_err *err) {
  unsigned long long v = 0;
  if (strcmp(flag, "--out") == 0 && value != NULL) *out = value;
  else if (strcmp(flag, "--bind") == 0 && value != NULL) o->local_addr = value;
  else if (strcmp(flag, "--blksize") == 0 && number(value, PFS_TFTP_BLKSIZE_MAX, &v) && v >= PFS_TFTP_BLKSIZE_MIN) o->blksize = (unsigned)v;
  else if (strcmp(flag, "--cap") == 0 && number(value, UINT64_MAX - 1, &v)) o->max_bytes = v;
  else if (strcmp(flag, "--expect") == 0 && number(value, UINT64_MAX - 1, &v)) o->expect_bytes = v;
  else if (strcmp(flag, "--timeout-ms") == 0 && number(value, 60000, &v) && v > 0) o->timeout_ms = (unsigned)v;
  else if (strcmp(flag, "--retries") == 0 && number(value, 100, &v)) o->retries = (unsigned)v;
  else return pfs_fail(err, "%s: bad or missing value for %s", USAGE, flag);
  return true;
}

static bool parse_args(int argc, char **argv, pfs_tftp_opts *o, const char **out, pfs_err *err) {
  unsigned long long port = 0;
  if (argc < 4) return pfs_fail(err, "%s", USAGE);
  if (!number(argv[2], 65535, &port) || port == 0) return pfs_fail(err, "%s: PORT must be from 1 to 65535", USAGE);
  o->host = argv[1];
  o->port = (uint16_t)port;
  o->file = argv[3];
  for (int i = 4; i < argc; i++) {
    if (strcmp(argv[i], "--no-tsize") == 0) {
      o->tsize = false;
      continue;
    }
    if (!parse_flag(o, out, argv[i], i + 1 < argc ? argv[i + 1] : NULL, err)) return false;
    i++;
  }
  return true;
}

int main(int argc, char **argv) {
  pfs_tftp_opts o;
  pfs_tftp_opts_init(&o);
  const char *out = NULL;
  pfs_err err = { "" };
  if (!parse_args(argc, argv, &o, &out, &err)) {
    fprintf(stderr, "%s\n", err.text);
    return 1;
  }
  FILE *f = out != NULL ? fopen(out, "wb") : stdout;
  if (f == NULL) {
    fprintf(stderr, "pfs-tftp-get: %s: %s\n", out, strerror(errno));
    return 1;
  }
  o.deliver = write_chunk;
  o.ctx = f;
  uint64_t bytes = 0;
  bool ok = pfs_tftp_get(&o, &bytes, &err);
  if (fflush(f) != 0 && ok) ok = pfs_fail(&err, "writing the output: %s", strerror(errno));
  if (out != NULL && fclose(f) != 0 && ok) ok = pfs_fail(&err, "writing %s: %s", out, strerror(errno));
  if (!ok) {
    /* A partial file must not look like a whole one. */
    if (out != NULL) unlink(out);
    fprintf(stderr, "pfs-tftp-get: %s\n", err.text);
    return 1;
  }
  return 0;
}
