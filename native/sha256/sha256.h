/* SHA-256 (FIPS 180-4, "Secure Hash Standard", August 2015), written for
 * this project: one-shot and streaming, no allocation, no global state, the
 * same code on a host and on a Cortex-M. The core's whole trust in relayed
 * bytes rests on this function (docs/ABI.md 1.2), so it is tested against
 * the NIST vectors and against Node's crypto (tests/host/native-sha256).
 *
 *   pfs_sha256_ctx c;
 *   pfs_sha256_init(&c);
 *   pfs_sha256_update(&c, part1, n1);   any number of parts, any sizes
 *   pfs_sha256_final(&c, digest);       the context is spent afterwards
 */
#ifndef PFS_SHA256_H
#define PFS_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* FIPS 180-4 section 1, figure 1: SHA-256 has a 512-bit block and a 256-bit
 * message digest. */
#define PFS_SHA256_BLOCK_BYTES 64u
#define PFS_SHA256_DIGEST_BYTES 32u
/* Section 6.2: eight 32-bit working variables and hash words. */
#define PFS_SHA256_STATE_WORDS 8u

typedef struct pfs_sha256_ctx {
  uint32_t state[PFS_SHA256_STATE_WORDS]; /* H(i), section 6.2.2 step 4 */
  uint64_t total_bytes;                   /* message length so far */
  uint8_t block[PFS_SHA256_BLOCK_BYTES];  /* the block being filled */
  uint32_t used;                          /* bytes of block filled, < 64 */
} pfs_sha256_ctx;

void pfs_sha256_init(pfs_sha256_ctx *c);
void pfs_sha256_update(pfs_sha256_ctx *c, const void *data, size_t n);
/* Pads (section 5.1.1), processes the last block(s) and writes the digest
 * as 32 bytes, H0 first, each word big-endian (section 6.2.2). */
void pfs_sha256_final(pfs_sha256_ctx *c, uint8_t out[PFS_SHA256_DIGEST_BYTES]);
/* The digest of one buffer. */
void pfs_sha256(const void *data, size_t n, uint8_t out[PFS_SHA256_DIGEST_BYTES]);

#endif
