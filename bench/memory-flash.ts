// Flash for the relay benchmarks: one slot's transfer space (list, then
// file) in memory, written and read at once.

import type { SlotFlash } from "../host/phone/peer-host.js";

export function memoryFlash(bytes: number): SlotFlash {
  const flash = new Uint8Array(bytes);
  return {
    write(_slot, offset, b) {
      flash.set(b, offset);
    },
    read(_slot, offset, into) {
      into.set(flash.subarray(offset, offset + into.length));
      return into.length;
    },
  };
}
