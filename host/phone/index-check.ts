// Whether this phone can take the load an index describes, decided before
// anything is written: every component must carry its size and both hashes
// (else it cannot be checked), be at least one byte (the flash keeps no
// empty component), be no larger than the core relays (the board's
// maxFileBytes) and, all together, fit one flash slot. Names are checked by
// the index parser already (plain file names, each once: no '../', no '/');
// here only against the flash's own name field.

import type { NewComponent } from "../flash/ab-store.js";
import { placeComponents, type Layout } from "../flash/layout.js";
import { NAME_BYTES } from "../flash/manifest.js";
import type { LoadIndex } from "../load/loads.js";
import { IndexRefusedError } from "./errors.js";

/** The core's own default when a board gives no maxFileBytes
 *  (assembly/config.ts): 16 MiB. */
const CORE_MAX_FILE_BYTES_DEFAULT = 16 << 20;

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** The components to fetch, in the index's order, or an IndexRefusedError
 *  that says which one cannot be taken and why. */
export function componentsToFetch(index: LoadIndex, file: string, layout: Layout, maxFileBytes = CORE_MAX_FILE_BYTES_DEFAULT): NewComponent[] {
  const refuse = (why: string): never => {
    throw new IndexRefusedError(`${file}: ${why}; nothing was written (the old load stays active)`);
  };
  if (index.components.length === 0) refuse("it names no component");
  if (utf8Bytes(index.loadName) > NAME_BYTES) refuse(`the load name is ${utf8Bytes(index.loadName)} bytes; the flash keeps at most ${NAME_BYTES}`);
  const out: NewComponent[] = [];
  for (const c of index.components) {
    if (c.sizeBytes === undefined || c.sha256 === undefined || c.listSha256 === undefined) {
      refuse(`'${c.name}' has no size and hashes: it cannot be checked`);
    }
    const size = c.sizeBytes!;
    if (utf8Bytes(c.name) > NAME_BYTES) refuse(`the component name '${c.name.slice(0, 40)}...' is ${utf8Bytes(c.name)} bytes; the flash keeps at most ${NAME_BYTES}`);
    if (!Number.isSafeInteger(size) || size < 1) refuse(`'${c.name}' has size ${size}; a component is at least 1 byte`);
    if (size > maxFileBytes) refuse(`'${c.name}' has size ${size}; this phone takes files of at most ${maxFileBytes} bytes`);
    out.push({ name: c.name, sizeBytes: size, sha256: c.sha256!, listSha256: c.listSha256! });
  }
  try {
    placeComponents(layout, out.map((c) => c.sizeBytes));
  } catch (e) {
    refuse(`the load does not fit a flash slot of ${layout.slotBytes} bytes (${(e as Error).message})`);
  }
  return out;
}
