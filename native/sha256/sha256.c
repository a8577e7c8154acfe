/* SHA-256 per FIPS 180-4. Section numbers below are that standard's. */
#include "sha256.h"

#include <assert.h>
#include <string.h>

/* Section 5.1.1: the padding appends one 1 bit, zeros, and the message
 * length in bits as a 64-bit big-endian number, to a multiple of 512 bits. */
#define LENGTH_FIELD_BYTES 8u
#define PAD_FIRST_BYTE 0x80u
/* Section 6.2.2 step 1: the message schedule has 64 words. */
#define SCHEDULE_WORDS 64u
#define BLOCK_WORDS 16u

/* Section 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[SCHEDULE_WORDS] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

/* Section 5.3.3: the first 32 bits of the fractional parts of the square
 * roots of the first 8 primes. */
static const uint32_t H0[PFS_SHA256_STATE_WORDS] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

/* Section 3.2 and 4.1.2: rotate right, the six logical functions. */
static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }
static inline uint32_t ch(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
static inline uint32_t maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }
static inline uint32_t big_sigma0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static inline uint32_t big_sigma1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static inline uint32_t small_sigma0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static inline uint32_t small_sigma1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }

static inline uint32_t load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* Section 6.2.2: one 512-bit block into the hash state. The schedule is
 * kept as a ring of 16 words (W[t] needs only W[t-2], W[t-7], W[t-15] and
 * W[t-16]), so the stack cost is 64 bytes, not 256: this runs on the
 * board's small stack inside the core's sha256 import. */
static void compress(uint32_t state[PFS_SHA256_STATE_WORDS], const uint8_t block[PFS_SHA256_BLOCK_BYTES]) {
  uint32_t w[BLOCK_WORDS];
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  for (unsigned t = 0; t < SCHEDULE_WORDS; t++) {
    uint32_t wt;
    if (t < BLOCK_WORDS) {
      wt = load_be32(block + 4u * t);
    } else {
      wt = small_sigma1(w[(t - 2u) & 15u]) + w[(t - 7u) & 15u] + small_sigma0(w[(t - 15u) & 15u]) + w[t & 15u];
    }
    w[t & 15u] = wt;
    uint32_t t1 = h + big_sigma1(e) + ch(e, f, g) + K[t] + wt;
    uint32_t t2 = big_sigma0(a) + maj(a, b, c);
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

void pfs_sha256_init(pfs_sha256_ctx *c) {
  assert(c != NULL);
  memcpy(c->state, H0, sizeof c->state);
  c->total_bytes = 0;
  c->used = 0;
  assert(c->state[0] == H0[0] && c->used == 0);
}

void pfs_sha256_update(pfs_sha256_ctx *c, const void *data, size_t n) {
  assert(c != NULL && c->used < PFS_SHA256_BLOCK_BYTES);
  assert(data != NULL || n == 0);
  const uint8_t *p = data;
  c->total_bytes += n;
  if (c->used > 0) {
    size_t take = PFS_SHA256_BLOCK_BYTES - c->used;
    if (take > n) take = n;
    memcpy(c->block + c->used, p, take);
    c->used += (uint32_t)take;
    p += take;
    n -= take;
    if (c->used < PFS_SHA256_BLOCK_BYTES) return;
    compress(c->state, c->block);
    c->used = 0;
  }
  /* Whole blocks straight from the caller's bytes: no copy. */
  for (; n >= PFS_SHA256_BLOCK_BYTES; n -= PFS_SHA256_BLOCK_BYTES, p += PFS_SHA256_BLOCK_BYTES) compress(c->state, p);
  if (n > 0) memcpy(c->block, p, n);
  c->used = (uint32_t)n;
  assert(c->used < PFS_SHA256_BLOCK_BYTES);
}

void pfs_sha256_final(pfs_sha256_ctx *c, uint8_t out[PFS_SHA256_DIGEST_BYTES]) {
  assert(c != NULL && out != NULL);
  assert(c->used < PFS_SHA256_BLOCK_BYTES);
  /* Section 5.1.1: l bits of message, a 1 bit, k zero bits, 64 bits of l. */
  uint64_t length_bits = c->total_bytes * 8u;
  c->block[c->used++] = PAD_FIRST_BYTE;
  if (c->used > PFS_SHA256_BLOCK_BYTES - LENGTH_FIELD_BYTES) {
    memset(c->block + c->used, 0, PFS_SHA256_BLOCK_BYTES - c->used);
    compress(c->state, c->block);
    c->used = 0;
  }
  memset(c->block + c->used, 0, PFS_SHA256_BLOCK_BYTES - LENGTH_FIELD_BYTES - c->used);
  store_be32(c->block + PFS_SHA256_BLOCK_BYTES - 8u, (uint32_t)(length_bits >> 32));
  store_be32(c->block + PFS_SHA256_BLOCK_BYTES - 4u, (uint32_t)length_bits);
  compress(c->state, c->block);
  for (unsigned i = 0; i < PFS_SHA256_STATE_WORDS; i++) store_be32(out + 4u * i, c->state[i]);
  c->used = 0;
}

void pfs_sha256(const void *data, size_t n, uint8_t out[PFS_SHA256_DIGEST_BYTES]) {
  pfs_sha256_ctx c;
  pfs_sha256_init(&c);
  pfs_sha256_update(&c, data, n);
  pfs_sha256_final(&c, out);
}
