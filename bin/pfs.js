#!/usr/bin/env node
// The pfs command. The TypeScript host is compiled to build/js by `make`.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "build/js/host/cli/main.js");
if (!existsSync(entry)) {
  process.stderr.write("pfs: the host is not built yet: run 'make' in " + root + "\n");
  process.exit(2);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
