// The SHA-256 the core checks relayed bytes with (docs/ABI.md section 1.2).
// By default it is the host's: the import env.sha256 (a board's hash engine;
// Node's crypto in the hosts and tests), and pfs.wasm keeps its two imports.
// Compiled with `--use PFS_SOFT_SHA256=1` (the WASI command), the core hashes
// in software instead (sha256-soft.ts) and imports no hash at all. The choice
// is made at compile time (isDefined, as wasi-shim does with ASC_WASI), so
// the default build carries none of the software hash.

import { sha256Soft } from "./sha256-soft";

/** SHA-256 from the host: hash `len` bytes at `ptr`, 32 bytes to `out`. */
// @ts-ignore: decorator
@external("env", "sha256")
declare function hostSha256(ptr: usize, len: usize, out: usize): void;

/** SHA-256 of the `len` bytes at `ptr`, written as 32 bytes at `out`. */
// @ts-ignore: decorator
@inline export function sha256(ptr: usize, len: usize, out: usize): void {
  if (isDefined(PFS_SOFT_SHA256)) sha256Soft(ptr, len, out);
  else hostSha256(ptr, len, out);
}
