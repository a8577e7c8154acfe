/* pfs-sha256: the project's SHA-256 as a command, for tests.
 *
 *   pfs-sha256 < FILE        prints the hex digest of stdin (streamed)
 *   pfs-sha256 --batch       stdin holds messages as u32 little-endian
 *                            length + bytes; for each prints one line
 *                            "<one-shot hex> <streamed hex>"
 *
 * The streamed digest feeds the bytes in parts of changing sizes (1, 2, 3,
 * ... PART_CYCLE_BYTES bytes), so every split across the 64-byte block is
 * exercised. tests/host/native-sha256.test.ts compares both with Node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

/* Largest message --batch takes (one-shot needs it whole); the tests send
 * at most 70000 bytes and one million 'a' (FIPS 180-4 example). */
#define BATCH_MAX_MESSAGE_BYTES (2u * 1024u * 1024u)
/* Streamed parts grow from 1 to this many bytes, then start over. */
#define PART_CYCLE_BYTES 131u
#define READ_CHUNK_BYTES 4096u

static unsigned char message[BATCH_MAX_MESSAGE_BYTES];

static void print_hex(const uint8_t *d) {
  for (unsigned i = 0; i < PFS_SHA256_DIGEST_BYTES; i++) printf("%02x", d[i]);
}

static void streamed(const uint8_t *p, size_t n, uint8_t out[PFS_SHA256_DIGEST_BYTES]) {
  pfs_sha256_ctx c;
  pfs_sha256_init(&c);
  size_t part = 1;
  while (n > 0) {
    size_t take = part < n ? part : n;
    pfs_sha256_update(&c, p, take);
    p += take;
    n -= take;
    part = part % PART_CYCLE_BYTES + 1;
  }
  pfs_sha256_final(&c, out);
}

static int batch(void) {
  unsigned char len_le[4];
  while (fread(len_le, 1, sizeof len_le, stdin) == sizeof len_le) {
    size_t n = (size_t)len_le[0] | (size_t)len_le[1] << 8 | (size_t)len_le[2] << 16 | (size_t)len_le[3] << 24;
    if (n > BATCH_MAX_MESSAGE_BYTES) {
      fprintf(stderr, "pfs-sha256: message of %zu bytes is over %u\n", n, BATCH_MAX_MESSAGE_BYTES);
      return 2;
    }
    if (fread(message, 1, n, stdin) != n) {
      fprintf(stderr, "pfs-sha256: message cut short\n");
      return 2;
    }
    uint8_t one[PFS_SHA256_DIGEST_BYTES], parts[PFS_SHA256_DIGEST_BYTES];
    pfs_sha256(message, n, one);
    streamed(message, n, parts);
    print_hex(one);
    putchar(' ');
    print_hex(parts);
    putchar('\n');
  }
  return 0;
}

static int whole_stdin(void) {
  pfs_sha256_ctx c;
  pfs_sha256_init(&c);
  unsigned char chunk[READ_CHUNK_BYTES];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) pfs_sha256_update(&c, chunk, n);
  uint8_t d[PFS_SHA256_DIGEST_BYTES];
  pfs_sha256_final(&c, d);
  print_hex(d);
  putchar('\n');
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--batch") == 0) return batch();
  if (argc == 1) return whole_stdin();
  fprintf(stderr, "usage: pfs-sha256 [--batch] < input\n");
  return 2;
}
