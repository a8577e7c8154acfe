// Shared argument handling for the pfs subcommands: node's own parseArgs
// (strict), numbers checked here, and errors that say how to fix the call.

import { parseArgs, ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

export function parse<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O, usage: string, positionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: positionals });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
}

export function num(value: string | boolean | (string | boolean)[] | undefined, name: string, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(Number(value))) {
    throw new UsageError(`--${name} needs a number (got ${JSON.stringify(value)})\n\n${usage}`);
  }
  return Number(value);
}
