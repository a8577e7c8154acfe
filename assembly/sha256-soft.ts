// SHA-256 in software, written from FIPS 180-4 (Secure Hash Standard, August
// 2015), for engines that offer no hash of their own: the WASI command, or a
// board without a hash engine. assembly/sha256.ts picks it when the core is
// compiled with `--use PFS_SOFT_SHA256=1`; the default pfs.wasm asks its host.
//
// Two ways in. sha256Soft(ptr, len, out) hashes one buffer. A state of
// SHA256_STATE_BYTES, owned by the caller, hashes bytes that come in pieces:
// sha256Init, sha256Update as often as needed, sha256Final. Nothing here
// allocates: the tables are static data and a state is the caller's memory.
//
// Every table is @lazy and every number @inline: a build that imports this
// file but never calls it (the default pfs.wasm, even its debug build) gets
// nothing from it.

/** Bytes of one message block: 512 bits (FIPS 180-4 section 5.2.1). */
// @ts-ignore: decorator
@inline export const SHA256_BLOCK_BYTES: u32 = 64;
/** Bytes of the digest: eight 32-bit words of H (section 6.2). */
// @ts-ignore: decorator
@inline export const SHA256_DIGEST_BYTES: u32 = 32;
/** The message length in bits closes the padding as a 64-bit big-endian
 *  integer (section 5.1.1). */
// @ts-ignore: decorator
@inline const LENGTH_FIELD_BYTES: u32 = 8;
/** The bit "1" that starts the padding, as the first byte (section 5.1.1). */
// @ts-ignore: decorator
@inline const PAD_FIRST_BYTE: u8 = 0x80;
// @ts-ignore: decorator
@inline const HASH_WORDS: u32 = 8;
/** One round per word of the message schedule (section 6.2.2). */
// @ts-ignore: decorator
@inline const ROUNDS: u32 = 64;
/** The first 16 schedule words are the block itself (section 6.2.2 step 1). */
// @ts-ignore: decorator
@inline const BLOCK_WORDS: u32 = 16;

// A streaming state, at named offsets: H, the block being filled, the bytes
// hashed so far (the length the padding ends with), how full the block is.
// @ts-ignore: decorator
@inline const ST_H: usize = 0;
// @ts-ignore: decorator
@inline const ST_BLOCK: usize = ST_H + <usize>HASH_WORDS * 4;
// @ts-ignore: decorator
@inline const ST_COUNT: usize = ST_BLOCK + <usize>SHA256_BLOCK_BYTES;
// @ts-ignore: decorator
@inline const ST_FILL: usize = ST_COUNT + 8;
/** Bytes a caller reserves for one state (8-byte aligned, for the count). */
// @ts-ignore: decorator
@inline export const SHA256_STATE_BYTES: u32 = <u32>ST_FILL + 4;

/** K: the first 32 bits of the fractional parts of the cube roots of the
 *  first 64 primes (section 4.2.2). */
// @ts-ignore: decorator
@lazy const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** H(0): the first 32 bits of the fractional parts of the square roots of
 *  the first 8 primes (section 5.3.3). */
// @ts-ignore: decorator
@lazy const H0: usize = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** The message schedule W0..W63 (section 6.2.2 step 1): scratch that every
 *  state shares, since a compression runs to its end before the next. */
// @ts-ignore: decorator
@lazy const W: usize = memory.data(<i32>(ROUNDS * 4), 8);

/** The state of sha256Soft's one-shot calls. */
// @ts-ignore: decorator
@lazy const ONE_SHOT: usize = memory.data(<i32>SHA256_STATE_BYTES, 8);

// The functions of section 4.1.2, on 32-bit words (equations 4.2 to 4.7).
// @ts-ignore: decorator
@inline function ch(x: u32, y: u32, z: u32): u32 { return (x & y) ^ (~x & z); }
// @ts-ignore: decorator
@inline function maj(x: u32, y: u32, z: u32): u32 { return (x & y) ^ (x & z) ^ (y & z); }
// @ts-ignore: decorator
@inline function bigSigma0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
// @ts-ignore: decorator
@inline function bigSigma1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
// @ts-ignore: decorator
@inline function smallSigma0(x: u32): u32 { return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3); }
// @ts-ignore: decorator
@inline function smallSigma1(x: u32): u32 { return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10); }

/** Word t of the schedule. */
// @ts-ignore: decorator
@inline function w(t: u32): u32 { return load<u32>(W + (<usize>t << 2)); }

/** Section 6.2.2: folds one 64-byte block (any alignment) into the hash
 *  value at `h`. Words are big-endian (section 3.1), wasm is little-endian. */
function compress(h: usize, block: usize): void {
  for (let t: u32 = 0; t < BLOCK_WORDS; t++) {
    store<u32>(W + (<usize>t << 2), bswap<u32>(load<u32>(block + (<usize>t << 2))));
  }
  for (let t: u32 = BLOCK_WORDS; t < ROUNDS; t++) {
    store<u32>(W + (<usize>t << 2), smallSigma1(w(t - 2)) + w(t - 7) + smallSigma0(w(t - 15)) + w(t - 16));
  }
  // Step 2: the working variables start as the hash value so far.
  let a = load<u32>(h, 0), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
  let e = load<u32>(h, 16), f = load<u32>(h, 20), g = load<u32>(h, 24), hh = load<u32>(h, 28);
  // Step 3: the 64 rounds.
  for (let t: u32 = 0; t < ROUNDS; t++) {
    const t1 = hh + bigSigma1(e) + ch(e, f, g) + load<u32>(K + (<usize>t << 2)) + w(t);
    const t2 = bigSigma0(a) + maj(a, b, c);
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  // Step 4: the intermediate hash value.
  store<u32>(h, load<u32>(h, 0) + a, 0);
  store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8);
  store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16);
  store<u32>(h, load<u32>(h, 20) + f, 20);
  store<u32>(h, load<u32>(h, 24) + g, 24);
  store<u32>(h, load<u32>(h, 28) + hh, 28);
}

/** Starts a message in the state at `st` (SHA256_STATE_BYTES, 8-aligned). */
export function sha256Init(st: usize): void {
  assert((st & 7) == 0, "sha256 state must be 8-aligned");
  memory.copy(st + ST_H, H0, <usize>HASH_WORDS * 4);
  store<u64>(st + ST_COUNT, 0);
  store<u32>(st + ST_FILL, 0);
}

/** Adds the `len` bytes at `ptr` to the message. */
export function sha256Update(st: usize, ptr: usize, len: usize): void {
  let fill = <usize>load<u32>(st + ST_FILL);
  assert(fill < <usize>SHA256_BLOCK_BYTES, "sha256 state corrupt");
  store<u64>(st + ST_COUNT, load<u64>(st + ST_COUNT) + <u64>len);
  let at = ptr;
  let left = len;
  if (fill != 0) {
    // Top up the block that waits; whole blocks then come straight from ptr.
    const room = <usize>SHA256_BLOCK_BYTES - fill;
    const take = left < room ? left : room;
    memory.copy(st + ST_BLOCK + fill, at, take);
    fill += take;
    at += take;
    left -= take;
    if (fill < <usize>SHA256_BLOCK_BYTES) {
      store<u32>(st + ST_FILL, <u32>fill);
      return;
    }
    compress(st + ST_H, st + ST_BLOCK);
  }
  while (left >= <usize>SHA256_BLOCK_BYTES) {
    compress(st + ST_H, at);
    at += <usize>SHA256_BLOCK_BYTES;
    left -= <usize>SHA256_BLOCK_BYTES;
  }
  memory.copy(st + ST_BLOCK, at, left);
  store<u32>(st + ST_FILL, <u32>left);
}

/** Pads the message (section 5.1.1) and writes the 32-byte digest at `out`.
 *  The state is spent: sha256Init it again for another message. */
export function sha256Final(st: usize, out: usize): void {
  const block = st + ST_BLOCK;
  let fill = <usize>load<u32>(st + ST_FILL);
  assert(fill < <usize>SHA256_BLOCK_BYTES, "sha256 state corrupt");
  // Section 5.1.1: l bits of message, a 1 bit, k zero bits with
  // l + 1 + k = 448 mod 512, then l as 64 bits.
  const bits = load<u64>(st + ST_COUNT) << 3;
  store<u8>(block + fill, PAD_FIRST_BYTE);
  fill++;
  const lengthAt = <usize>(SHA256_BLOCK_BYTES - LENGTH_FIELD_BYTES);
  if (fill > lengthAt) {
    // No room left for the length in this block: it goes in one more.
    memory.fill(block + fill, 0, <usize>SHA256_BLOCK_BYTES - fill);
    compress(st + ST_H, block);
    fill = 0;
  }
  memory.fill(block + fill, 0, lengthAt - fill);
  store<u64>(block + lengthAt, bswap<u64>(bits));
  compress(st + ST_H, block);
  for (let i: usize = 0; i < <usize>HASH_WORDS; i++) {
    store<u32>(out + (i << 2), bswap<u32>(load<u32>(st + ST_H + (i << 2))));
  }
  store<u32>(st + ST_FILL, 0);
}

/** SHA-256 of the `len` bytes at `ptr`, written as 32 bytes at `out` (the
 *  shape of the host import env.sha256, docs/ABI.md section 1.2). */
export function sha256Soft(ptr: usize, len: usize, out: usize): void {
  sha256Init(ONE_SHOT);
  sha256Update(ONE_SHOT, ptr, len);
  sha256Final(ONE_SHOT, out);
}
