// as-pect runs the core's unit tests (tests/core/*.spec.ts) against the
// AssemblyScript sources directly, one wasm module per spec file.
export default {
  entries: ["tests/core/**/*.spec.ts"],
  include: ["tests/core/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
