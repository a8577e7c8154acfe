// Text for the lines the command prints: addresses, times and bytes written
// the way the V8 replayer (host/trace/replay-v8.ts) writes them, so that
// every engine names a difference in the same words.

/** 10.0.0.4 for 0x0a000004 (docs/ABI.md: addresses are u32, high octet first). */
export function addrText(a: u32): string {
  return (a >>> 24).toString() + "." + ((a >>> 16) & 255).toString() + "." + ((a >>> 8) & 255).toString() + "." +
    (a & 255).toString();
}

/** Doubles can name integers up to 2^53 exactly (IEEE 754 binary64). */
const EXACT_INTEGER_LIMIT: f64 = 9007199254740992;

/** A number as JavaScript's String(v) writes the values a trace holds:
 *  whole numbers without ".0" (AssemblyScript's own toString keeps it). */
export function numText(v: f64): string {
  if (isFinite(v) && v == Math.floor(v) && Math.abs(v) < EXACT_INTEGER_LIMIT) return (<i64>v).toString();
  return v.toString();
}

/** 0x15, as the V8 replayer writes a byte (no leading zero). */
export function byteText(b: u8): string {
  return "0x" + (<u32>b).toString(16);
}

/** The longest run hexOf writes: a SHA-256 digest (32 bytes). */
const MAX_HEX_BYTES: i32 = 32;
const HEX_DIGITS = "0123456789abcdef";
const hexBuf = memory.data(2 * MAX_HEX_BYTES);

/** The `n` bytes at `ptr` as lower-case hex, two digits each: one string,
 *  built in a static buffer (the stub runtime never frees). */
export function hexOf(ptr: usize, n: i32): string {
  assert(<u32>n <= <u32>MAX_HEX_BYTES);
  for (let i = 0; i < n; i++) {
    const b = <i32>load<u8>(ptr + <usize>i);
    store<u8>(hexBuf + <usize>(2 * i), <u8>HEX_DIGITS.charCodeAt(b >> 4));
    store<u8>(hexBuf + <usize>(2 * i + 1), <u8>HEX_DIGITS.charCodeAt(b & 15));
  }
  return String.UTF8.decodeUnsafe(hexBuf, <usize>(2 * n));
}
