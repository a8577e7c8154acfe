// Numbers shared with the core (assembly/): outbox record kinds, event codes,
// roles, config word indices, trace record kinds. They are generated from the
// core's own source into abi.gen.ts at build time (host/tools/gen-abi.ts);
// this file adds only the types the host builds on them. docs/ABI.md is the
// reference.

import { CFG } from "./abi.gen.js";

export * from "./abi.gen.js";

/** A board's "core" figures, by config word name; a missing one is 0 (the
 *  core's default). */
export type CoreConfig = { [K in keyof typeof CFG]?: number };
