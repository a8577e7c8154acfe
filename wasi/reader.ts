// Reads one trace file through WASI in fixed-size chunks: the replayer never
// holds more than READ_CHUNK_BYTES of a trace, whatever its size. Bytes meant
// for the core go straight to the address the core gave (into), large runs
// with fd_read right into core memory. A short read (the file shrank under
// us, or an I/O error) is remembered and checked after each record.

import { errno, fd_close, fd_filestat_get, fd_read, filestat, iovec } from "bindings/wasi_snapshot_preview1";

/** Bytes read per fd_read into the chunk buffer. */
export const READ_CHUNK_BYTES: usize = 65536;

const chunk = memory.data(<i32>READ_CHUNK_BYTES, 16);
const iov = memory.data(8, 4);
const nread = memory.data(4, 4);
const stat = memory.data(64, 8);

let fileFd: u32 = 0;
let open = false;
/** File offset of chunk[0]. */
let chunkAt: u64 = 0;
let have: usize = 0;
let at: usize = 0;
let size: u64 = 0;
/** Set when the file gave fewer bytes than it promised, or an error. */
let shortRead = false;
let ioErrno: u32 = 0;

/** Starts reading `fd` from its beginning; false when its size is unknown. */
export function beginRead(fd: i32): bool {
  assert(!open, "one trace at a time");
  fileFd = <u32>fd;
  open = true;
  chunkAt = 0;
  have = 0;
  at = 0;
  shortRead = false;
  ioErrno = fd_filestat_get(fileFd, changetype<filestat>(stat));
  size = ioErrno == errno.SUCCESS ? changetype<filestat>(stat).size : 0;
  return ioErrno == errno.SUCCESS;
}

export function endRead(): void {
  if (open) fd_close(fileFd);
  open = false;
}

/** Bytes of the file, from fd_filestat_get. */
export function fileBytes(): u64 {
  return size;
}

/** File offset of the next byte. */
export function position(): u64 {
  return chunkAt + <u64>at;
}

export function readFailed(): bool {
  return shortRead;
}

export function readErrno(): u32 {
  return ioErrno;
}

/** One fd_read of up to `len` bytes to `dst`; 0 at the end or on error. */
function readSome(dst: usize, len: usize): usize {
  changetype<iovec>(iov).buf = dst;
  changetype<iovec>(iov).buf_len = len;
  const err = fd_read(fileFd, iov, 1, nread);
  if (err != errno.SUCCESS) {
    ioErrno = err;
    shortRead = true;
    return 0;
  }
  const n = <usize>load<u32>(nread);
  assert(n <= len);
  return n;
}

/** Refills the chunk; false at the end of the file. */
function refill(): bool {
  assert(at == have);
  chunkAt += <u64>have;
  at = 0;
  have = readSome(chunk, READ_CHUNK_BYTES);
  if (have == 0) shortRead = true;
  return have != 0;
}

/** Copies the next `len` bytes of the file to `dst` (core memory, already
 *  bounds-checked by the caller). */
export function into(dst: usize, len: usize): void {
  let done: usize = 0;
  while (done < len) {
    if (at < have) {
      const n = min(have - at, len - done);
      memory.copy(dst + done, chunk + at, n);
      at += n;
      done += n;
    } else if (len - done >= READ_CHUNK_BYTES) {
      // A long run skips the chunk: fd_read puts it where the core wants it.
      chunkAt += <u64>have;
      have = 0;
      at = 0;
      const n = readSome(dst + done, len - done);
      if (n == 0) {
        shortRead = true;
        return;
      }
      chunkAt += <u64>n;
      done += n;
    } else if (!refill()) return;
  }
}

export function readU8(): u8 {
  if (at >= have && !refill()) return 0;
  return load<u8>(chunk + at++);
}

export function readU32(): u32 {
  if (at + 4 <= have) {
    const v = load<u32>(chunk + at);
    at += 4;
    return v;
  }
  const b0 = <u32>readU8(), b1 = <u32>readU8(), b2 = <u32>readU8(), b3 = <u32>readU8();
  return b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
}

export function readI32(): i32 {
  return <i32>readU32();
}

export function readF64(): f64 {
  const lo = <u64>readU32();
  const hi = <u64>readU32();
  return reinterpret<f64>(lo | (hi << 32));
}

/** The file's byte where compareNext found the first difference. */
export let diffExpected: u8 = 0;

/** Compares the next `len` bytes of the file with memory at `ptr`: the
 *  offset of the first that differs (its file byte in diffExpected), or -1.
 *  Consumes `len` bytes either way. */
export function compareNext(ptr: usize, len: usize): isize {
  let diff: isize = -1;
  let done: usize = 0;
  while (done < len) {
    if (at >= have && !refill()) return diff;
    const n = min(have - at, len - done);
    if (diff < 0 && memory.compare(chunk + at, ptr + done, n) != 0) {
      for (let i: usize = 0; i < n; i++) {
        if (load<u8>(chunk + at + i) != load<u8>(ptr + done + i)) {
          diff = <isize>(done + i);
          diffExpected = load<u8>(chunk + at + i);
          break;
        }
      }
    }
    at += n;
    done += n;
  }
  return diff;
}
