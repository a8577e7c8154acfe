// What the A/B store needs from a flash chip, with NOR semantics: erase sets a
// whole sector to 0xFF; program can only clear bits (1 -> 0), so programming
// over bytes that are not erased stores the AND of old and new, as a real NOR
// part does. Nothing above this interface may assume a sector is erased unless
// it erased it: a fresh image or a torn erase can hold anything.

export interface FlashDevice {
  /** The erase unit. */
  readonly sectorBytes: number;
  readonly sectors: number;
  /** Sets every byte of the sector to ERASED_BYTE. */
  erase(sector: number): void;
  /** Clears the bits that are 0 in `bytes`; never sets a bit. */
  program(offset: number, bytes: Uint8Array): void;
  /** A copy: changing it does not change the flash. */
  read(offset: number, length: number): Uint8Array;
  /** A barrier: everything done before is durable before anything after.
   *  Only devices that buffer writes (a file in the page cache) need it; on a
   *  NOR part a program is durable when it returns. */
  sync?(): void;
}

export const ERASED_BYTE = 0xff;

export function deviceBytes(dev: FlashDevice): number {
  return dev.sectorBytes * dev.sectors;
}

/** Geometry a device is made with; checked once so devices can trust it. */
export function checkGeometry(sectorBytes: number, sectors: number): void {
  if (!Number.isSafeInteger(sectorBytes) || sectorBytes <= 0) throw new RangeError(`flash: sectorBytes must be a positive whole number (got ${sectorBytes})`);
  if (!Number.isSafeInteger(sectors) || sectors <= 0) throw new RangeError(`flash: sectors must be a positive whole number (got ${sectors})`);
}

export function checkSector(dev: FlashDevice, sector: number): void {
  if (!Number.isSafeInteger(sector) || sector < 0 || sector >= dev.sectors) {
    throw new RangeError(`flash: sector ${sector} is outside 0..${dev.sectors - 1}`);
  }
}

export function checkSpan(dev: FlashDevice, offset: number, length: number, what: string): void {
  const size = deviceBytes(dev);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`flash: ${what} of ${length} bytes at ${offset} is outside the device's ${size} bytes`);
  }
}
