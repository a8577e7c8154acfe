import { createHash } from "node:crypto";
// as-pect runs the core's unit tests (tests/core/*.spec.ts) against the
// AssemblyScript sources directly, one wasm module per spec file.
export default {
  entries: ["tests/core/**/*.spec.ts"],
  include: ["tests/core/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    // The core imports SHA-256 from its host (a board's hash engine).
    let exports = null;
    const env = {
      memory,
      sha256(ptr, len, out) {
        const mem = new Uint8Array((exports?.memory ?? memory).buffer);
        const digest = createHash("sha256").update(mem.subarray(ptr, ptr + len)).digest();
        mem.set(digest, out);
      },
    };
    const result = await instantiate(binary, createImports({ env }));
    exports = result.exports ?? result.instance?.exports ?? null;
    return result;
  },
  outputBinary: false,
};
