// A flash device in memory, for tests and for the power-cut proof: its image
// can be copied out and a new device made from a copy, so one formatted image
// serves many runs.

import { checkGeometry, checkSector, checkSpan, ERASED_BYTE, FlashDevice } from "./device.js";

export class MemoryDevice implements FlashDevice {
  readonly sectorBytes: number;
  readonly sectors: number;
  private readonly bytes: Uint8Array;

  /** A new chip reads as `fill`: erased (0xFF) unless a test wants worse. */
  constructor(sectorBytes: number, sectors: number, fill = ERASED_BYTE) {
    checkGeometry(sectorBytes, sectors);
    this.sectorBytes = sectorBytes;
    this.sectors = sectors;
    this.bytes = new Uint8Array(sectorBytes * sectors).fill(fill);
  }

  static fromImage(sectorBytes: number, image: Uint8Array): MemoryDevice {
    if (image.length % sectorBytes !== 0) throw new RangeError(`flash: an image of ${image.length} bytes is not whole sectors of ${sectorBytes}`);
    const dev = new MemoryDevice(sectorBytes, image.length / sectorBytes);
    dev.bytes.set(image);
    return dev;
  }

  /** A copy of the whole flash. */
  image(): Uint8Array {
    return this.bytes.slice();
  }

  erase(sector: number): void {
    checkSector(this, sector);
    this.bytes.fill(ERASED_BYTE, sector * this.sectorBytes, (sector + 1) * this.sectorBytes);
  }

  program(offset: number, bytes: Uint8Array): void {
    checkSpan(this, offset, bytes.length, "program");
    for (let i = 0; i < bytes.length; i++) this.bytes[offset + i] &= bytes[i];
  }

  read(offset: number, length: number): Uint8Array {
    checkSpan(this, offset, length, "read");
    return this.bytes.slice(offset, offset + length);
  }
}
