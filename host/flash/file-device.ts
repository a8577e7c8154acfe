// A flash device backed by an image file: one byte of file per byte of flash,
// so `xxd` shows what the chip holds. The file is made sparse at its full size
// (ftruncate), so a 32 MiB phone image costs only the sectors ever erased or
// written. A hole reads as 0x00, which is fine: the store erases before it
// programs and never trusts a sector it did not erase. Writes go through the
// page cache; sync() is the barrier the store calls where order matters.
// A failure of the medium under the file (EIO, a full disk) is thrown as a
// FlashIoError, as a flash part's driver would report it.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync, ftruncateSync } from "node:fs";
import { checkGeometry, checkSector, checkSpan, ERASED_BYTE, FlashDevice } from "./device.js";
import { asFlashIoError, type FlashOp } from "./errors.js";

export class FileDevice implements FlashDevice {
  readonly sectorBytes: number;
  readonly sectors: number;
  private fd: number | null;
  private readonly erased: Uint8Array;

  private constructor(fd: number, sectorBytes: number, sectors: number) {
    this.fd = fd;
    this.sectorBytes = sectorBytes;
    this.sectors = sectors;
    this.erased = new Uint8Array(sectorBytes).fill(ERASED_BYTE);
  }

  /** A new image file of exactly sectors x sectorBytes; fails if it exists. */
  static create(path: string, sectorBytes: number, sectors: number): FileDevice {
    checkGeometry(sectorBytes, sectors);
    const fd = openSync(path, "wx+");
    try {
      ftruncateSync(fd, sectorBytes * sectors);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new FileDevice(fd, sectorBytes, sectors);
  }

  /** An existing image; its size must be exactly the geometry's. */
  static open(path: string, sectorBytes: number, sectors: number): FileDevice {
    checkGeometry(sectorBytes, sectors);
    const fd = openSync(path, "r+");
    const size = fstatSync(fd).size;
    if (size !== sectorBytes * sectors) {
      closeSync(fd);
      throw new RangeError(`flash: ${path} is ${size} bytes, but the layout needs ${sectors} sectors of ${sectorBytes} = ${sectorBytes * sectors} bytes`);
    }
    return new FileDevice(fd, sectorBytes, sectors);
  }

  erase(sector: number): void {
    checkSector(this, sector);
    this.writeAll(sector * this.sectorBytes, this.erased, "erase");
  }

  program(offset: number, bytes: Uint8Array): void {
    checkSpan(this, offset, bytes.length, "program");
    const merged = this.read(offset, bytes.length);
    for (let i = 0; i < bytes.length; i++) merged[i] &= bytes[i];
    this.writeAll(offset, merged, "program");
  }

  read(offset: number, length: number): Uint8Array {
    checkSpan(this, offset, length, "read");
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = this.io("read", `${length} bytes at ${offset}`, () => readSync(this.handle(), out, done, length - done, offset + done));
      if (n === 0) throw new Error(`flash: image file ended at ${offset + done}, inside the device`);
      done += n;
    }
    return out;
  }

  sync(): void {
    // A failed fsync means earlier writes may not be durable: a program failure.
    this.io("program", "sync", () => fsyncSync(this.handle()));
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fsyncSync(fd);
    closeSync(fd);
  }

  private writeAll(offset: number, bytes: Uint8Array, op: FlashOp): void {
    let done = 0;
    while (done < bytes.length) {
      const n = this.io(op, `${bytes.length} bytes at ${offset}`, () => writeSync(this.handle(), bytes, done, bytes.length - done, offset + done));
      // A write that takes nothing would loop for ever: the image cannot grow.
      if (n === 0) throw asFlashIoError(new Error("the image file took no bytes"), op, `${bytes.length} bytes at ${offset}`);
      done += n;
    }
  }

  private io<T>(op: FlashOp, what: string, call: () => T): T {
    try {
      return call();
    } catch (e) {
      throw asFlashIoError(e, op, what);
    }
  }

  private handle(): number {
    if (this.fd === null) throw new Error("flash: the image file is closed");
    return this.fd;
  }
}
