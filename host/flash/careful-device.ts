// What a careful flash driver does, between the store and a device that can
// fail (errors.ts, io-fault-device.ts): every operation is tried up to
// MAX_FLASH_ATTEMPTS times, an erase is checked blank before it is believed,
// and a program is read back until it reads as written. Only then does the
// store build on it; when the attempts run out it throws a FlashError and the
// update ends with the running load untouched (ab-store.ts never writes it).
//
// A retry is safe because of NOR semantics: a failed program left each byte
// with at most the bits it should have cleared cleared (a prefix, a byte half
// programmed), so programming the same bytes again can only finish the job;
// a byte that lost a bit it should keep (written twice with other bytes, a
// stuck cell) cannot be mended without an erase and is reported at once.
// A PowerCut passes straight through: after it nothing runs.

import { checkSector, ERASED_BYTE, type FlashDevice } from "./device.js";
import { FlashError, FlashIoError } from "./errors.js";

/** Attempts at one flash operation (the first included) before giving up:
 *  enough for a transient fault (a read disturb, a busy part) to pass, few
 *  enough that a broken part fails the update in milliseconds. */
export const MAX_FLASH_ATTEMPTS = 3;

/** A program whose bytes do not read back as written, and cannot be made to
 *  by programming again. `index` is the first such byte of the program. */
export class ProgramMismatch extends FlashError {
  constructor(readonly offset: number, readonly index: number, readonly got: number, readonly wanted: number) {
    super("write", `flash: byte ${offset + index} reads 0x${hex2(got)} after programming 0x${hex2(wanted)} (written twice, or a bad cell)`);
    this.name = "ProgramMismatch";
  }
}

export type FlashReport = (line: string) => void;

export class CarefulDevice implements FlashDevice {
  readonly sectorBytes: number;
  readonly sectors: number;
  /** Operations that needed more than one attempt and then succeeded. */
  recovered = 0;
  /** A sector as an erase leaves it, to compare with. */
  private readonly blank: Buffer;

  /** `report` hears one line per operation that needed more than one
   *  attempt and then took; one that does not take throws instead. */
  constructor(readonly inner: FlashDevice, private readonly report: FlashReport = () => {}) {
    this.sectorBytes = inner.sectorBytes;
    this.sectors = inner.sectors;
    this.blank = Buffer.alloc(inner.sectorBytes, ERASED_BYTE);
  }

  read(offset: number, length: number): Uint8Array {
    return this.attempt(`read of ${length} bytes at 0x${hex(offset)}`, "read", () => this.inner.read(offset, length));
  }

  /** Erases, then reads the sector back: an erase that did not take is
   *  erased again. */
  erase(sector: number): void {
    checkSector(this, sector);
    const what = `erase of sector ${sector}`;
    let why = "";
    for (let n = 1; ; n++) {
      this.attempt(what, "erase", () => this.inner.erase(sector));
      const back = this.read(sector * this.sectorBytes, this.sectorBytes);
      if (same(back, this.blank)) return this.tookAfter(n, what, why);
      const left = back.findIndex((v) => v !== ERASED_BYTE);
      why = `did not take: byte ${left} read 0x${hex2(back[left])}`;
      if (n >= MAX_FLASH_ATTEMPTS) throw new FlashError("erase", `${what} does not take: byte ${left} reads 0x${hex2(back[left])} after ${n} attempts`);
    }
  }

  /** Programs, then reads back until the bytes read as written: a read that
   *  disagrees once is read again (a bit flipped on the way), a byte with a
   *  bit still set that should be clear is programmed again. */
  program(offset: number, bytes: Uint8Array): void {
    const what = `program of ${bytes.length} bytes at 0x${hex(offset)}`;
    let why = "";
    for (let n = 1; ; n++) {
      this.attempt(what, "program", () => this.inner.program(offset, bytes));
      const back = this.readBack(offset, bytes);
      if (same(back, bytes)) return this.tookAfter(n, what, why);
      // A bit that should be 1 reads 0: no program can set it again.
      const lost = back.findIndex((v, i) => (bytes[i] & ~v) !== 0);
      if (lost >= 0) throw new ProgramMismatch(offset, lost, back[lost], bytes[lost]);
      const bad = back.findIndex((v, i) => v !== bytes[i]);
      if (n >= MAX_FLASH_ATTEMPTS) throw new ProgramMismatch(offset, bad, back[bad], bytes[bad]);
      why = `byte ${bad} read 0x${hex2(back[bad])}, not 0x${hex2(bytes[bad])}`;
    }
  }

  /** Not retried: after a failed fsync the kernel may have dropped the dirty
   *  pages, and a second fsync would report success for data that is gone. */
  sync(): void {
    try {
      this.inner.sync?.();
    } catch (e) {
      if (e instanceof FlashIoError) throw new FlashError(e.full ? "full" : "write", `a barrier (sync) failed (${e.code}: ${e.detail}): not retried`);
      throw e;
    }
  }

  /** A read that hashed wrong and then right (verify.ts, boot.ts): the bit
   *  flipped on the way, not in the part. */
  healedRead(what: string): void {
    this.recovered++;
    this.report(`flash: ${what} did not match its hash on a first read and did on reading again (a bit flipped on read)`);
  }

  /** Reads back what was programmed; a disagreement is read once more, in
   *  case the read, not the flash, was wrong. */
  private readBack(offset: number, bytes: Uint8Array): Uint8Array {
    let back = this.read(offset, bytes.length);
    for (let n = 1; n < MAX_FLASH_ATTEMPTS && !same(back, bytes); n++) {
      const again = this.read(offset, bytes.length);
      if (same(again, bytes)) {
        this.recovered++;
        this.report(`flash: the read-back of ${bytes.length} bytes at 0x${hex(offset)} disagreed, then read as written (a bit flipped on read)`);
        return again;
      }
      back = again;
    }
    return back;
  }

  /** Runs one device call, again after a FlashIoError, up to the limit. */
  private attempt<T>(what: string, kind: "read" | "erase" | "program", call: () => T): T {
    let why = "";
    for (let n = 1; ; n++) {
      try {
        const v = call();
        this.tookAfter(n, what, why);
        return v;
      } catch (e) {
        if (!(e instanceof FlashIoError)) throw e;
        if (e.full) throw new FlashError("full", `${what}: no space left (${e.code}): the flash, or the disk its image is on, is full`);
        if (n >= MAX_FLASH_ATTEMPTS) throw new FlashError(kind === "program" ? "write" : kind, `${what} failed ${n} times (${e.code}: ${e.detail})`);
        why = `failed (${e.code})`;
      }
    }
  }

  private tookAfter(attempts: number, what: string, why: string): void {
    if (attempts === 1) return;
    this.recovered++;
    this.report(`flash: ${what} ${why}; took on attempt ${attempts} of ${MAX_FLASH_ATTEMPTS}`);
  }
}

/** Byte-equal, compared natively: every program and erase is checked. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

function hex(v: number): string {
  return v.toString(16);
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, "0");
}
