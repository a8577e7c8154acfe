// Flash that fails, for tests and for `pfs phone --flash-faults`: wrap any
// device (in memory or an image file) and make chosen operations fail the way
// parts and disks do. Power cuts are fault-device.ts; these are the faults a
// phone lives through:
//   write  a program that fails: it programs a prefix of its bytes (perhaps
//          none, the byte it stopped in half done), then throws EIO
//   read   a read that throws EIO
//   flip   a read that returns one bit flipped (the flash itself is fine)
//   erase  an erase that does not take: it returns, but the sector is erased
//          only up to some point (perhaps not at all)
//   full   every program throws ENOSPC once so many bytes were programmed,
//          as an image file does on a full disk
// Which operation, how many times in a row and where are chosen by the
// caller; the details (prefix lengths, the bit) by the seed, so a failing
// test reproduces.

import { Rng } from "../sim/random.js";
import { checkSector, checkSpan, ERASED_BYTE, FlashDevice } from "./device.js";
import { FlashIoError } from "./errors.js";

export type IoFaultKind = "write" | "read" | "flip" | "erase" | "full";
export const IO_FAULT_KINDS: readonly IoFaultKind[] = ["write", "read", "flip", "erase", "full"];

export interface IoFault {
  kind: IoFaultKind;
  /** write, read, flip, erase: the operation (programs for write, reads for
   *  read and flip, erases for erase; counting from 1, among those that
   *  touch `sectors`, each rule on its own) that fails first. full: the
   *  bytes that may be programmed in `sectors` before the device is full. */
  at: number;
  /** Operations in a row that fail from `at` on: 1 is a transient fault,
   *  Infinity a part that stays broken. Not used by full (full stays full). */
  times: number;
  /** Only operations touching these sectors count, inclusive; all if absent. */
  sectors?: { first: number; last: number };
}

export class IoFaultDevice implements FlashDevice {
  readonly sectorBytes: number;
  readonly sectors: number;
  /** Faults injected so far, by kind, and what each was. */
  readonly injected: Record<IoFaultKind, number> = { write: 0, read: 0, flip: 0, erase: 0, full: 0 };
  readonly history: string[] = [];
  private readonly counts = new Map<IoFault, number>();
  private readonly programmedBytes = new Map<IoFault, number>();
  private readonly rng: Rng;

  constructor(private readonly inner: FlashDevice, private readonly faults: readonly IoFault[], seed = 1) {
    this.sectorBytes = inner.sectorBytes;
    this.sectors = inner.sectors;
    this.rng = Rng.derive(seed, "io-faults");
    for (const f of faults) checkFault(f);
  }

  erase(sector: number): void {
    checkSector(this, sector);
    if (this.fires("erase", sector * this.sectorBytes, this.sectorBytes) === null) return this.inner.erase(sector);
    // It does not take: at most a prefix of the sector is erased.
    const keep = this.inner.read(sector * this.sectorBytes, this.sectorBytes);
    keep.fill(ERASED_BYTE, 0, this.rng.int(0, this.sectorBytes - 1));
    this.inner.erase(sector);
    this.inner.program(sector * this.sectorBytes, keep);
    this.note("erase", `erase of sector ${sector} did not take`);
  }

  program(offset: number, bytes: Uint8Array): void {
    checkSpan(this, offset, bytes.length, "program");
    // Both rules count every program, whichever fires.
    const full = this.fires("full", offset, bytes.length);
    const fail = this.fires("write", offset, bytes.length);
    if (full !== null) {
      this.note("full", `program of ${bytes.length} bytes at ${offset}: no space`);
      throw new FlashIoError("program", "ENOSPC", `${bytes.length} bytes at ${offset}: no space left (injected)`);
    }
    if (fail === null) return this.inner.program(offset, bytes);
    if (bytes.length > 0) {
      const stop = this.rng.int(0, bytes.length - 1);
      const torn = new Uint8Array(bytes.length).fill(ERASED_BYTE);
      torn.set(bytes.subarray(0, stop));
      torn[stop] = bytes[stop] | (this.rng.u32() & 0xff);
      this.inner.program(offset, torn);
    }
    this.note("write", `program of ${bytes.length} bytes at ${offset} failed`);
    throw new FlashIoError("program", "EIO", `${bytes.length} bytes at ${offset} (injected)`);
  }

  read(offset: number, length: number): Uint8Array {
    checkSpan(this, offset, length, "read");
    const fail = this.fires("read", offset, length);
    const flip = this.fires("flip", offset, length);
    if (fail !== null) {
      this.note("read", `read of ${length} bytes at ${offset} failed`);
      throw new FlashIoError("read", "EIO", `${length} bytes at ${offset} (injected)`);
    }
    const bytes = this.inner.read(offset, length);
    if (flip !== null && length > 0) {
      const bit = this.rng.int(0, length * 8 - 1);
      bytes[bit >> 3] ^= 1 << (bit & 7);
      this.note("flip", `read of ${length} bytes at ${offset}: bit ${bit} flipped`);
    }
    return bytes;
  }

  sync(): void {
    this.inner.sync?.();
  }

  /** The fault of this kind that hits this operation, if any; counts it. */
  private fires(kind: IoFaultKind, offset: number, length: number): IoFault | null {
    let hit: IoFault | null = null;
    for (const f of this.faults) {
      if (f.kind !== kind || !this.touches(f, offset, length)) continue;
      if (kind === "full") {
        const after = (this.programmedBytes.get(f) ?? 0) + length;
        if (after > f.at) hit ??= f;
        else this.programmedBytes.set(f, after);
        continue;
      }
      const n = (this.counts.get(f) ?? 0) + 1;
      this.counts.set(f, n);
      if (n >= f.at && n - f.at < f.times) hit ??= f;
    }
    return hit;
  }

  private touches(f: IoFault, offset: number, length: number): boolean {
    if (f.sectors === undefined) return true;
    const first = Math.floor(offset / this.sectorBytes);
    const last = Math.floor((offset + Math.max(length, 1) - 1) / this.sectorBytes);
    return last >= f.sectors.first && first <= f.sectors.last;
  }

  private note(kind: IoFaultKind, what: string): void {
    this.injected[kind]++;
    this.history.push(what);
  }
}

function checkFault(f: IoFault): void {
  if (!IO_FAULT_KINDS.includes(f.kind)) throw new RangeError(`flash faults: unknown kind '${f.kind}'`);
  const min = f.kind === "full" ? 0 : 1;
  if (!Number.isSafeInteger(f.at) || f.at < min) throw new RangeError(`flash faults: ${f.kind} needs a whole number from ${min} (got ${f.at})`);
  if (!(f.times === Infinity || (Number.isSafeInteger(f.times) && f.times >= 1))) throw new RangeError(`flash faults: ${f.kind} happens 1 or more times, or always (got ${f.times})`);
  if (f.sectors !== undefined && !(Number.isSafeInteger(f.sectors.first) && Number.isSafeInteger(f.sectors.last) && f.sectors.first >= 0 && f.sectors.last >= f.sectors.first)) {
    throw new RangeError(`flash faults: ${f.kind}: bad sector range`);
  }
}

export const IO_FAULT_SPEC = "KIND:N[xTIMES|x*][@FIRST-LAST],... with KIND one of write, read, flip, erase (N: the Nth such operation), full (N: bytes before full); @FIRST-LAST counts only operations on those sectors";

/** Parses "write:3,flip:10x2@258-513,erase:1x*,full:100000": the form
 *  IO_FAULT_SPEC describes. */
export function parseIoFaults(spec: string): IoFault[] {
  if (spec.trim() === "") return [];
  return spec.split(",").map((part) => {
    const m = /^(\w+):(\d+)(?:x(\d+|\*))?(?:@(\d+)-(\d+))?$/.exec(part.trim());
    if (m === null) throw new RangeError(`flash faults: '${part}' is not ${IO_FAULT_SPEC}`);
    const fault: IoFault = {
      kind: m[1] as IoFaultKind, at: Number(m[2]), times: m[3] === undefined ? 1 : m[3] === "*" ? Infinity : Number(m[3]),
      ...(m[4] === undefined ? {} : { sectors: { first: Number(m[4]), last: Number(m[5]) } }),
    };
    checkFault(fault);
    return fault;
  });
}
