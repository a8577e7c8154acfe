// The one place `pfs` commands are built: every command and option is a
// commander definition, so its help and its parsing come from the same words.
// Numbers are checked here, as the option is read, with the option's name and
// range in the message; commander never exits the process nor prints: its
// errors become a UsageError that main.ts prints as one line.

import { Command, CommanderError, Option } from "commander";
import { isIP } from "node:net";

/** A wrong command line. `command` is the path after "pfs" ("tftp get"),
 *  filled in by runCommand when the thrower did not know it. */
export class UsageError extends Error {
  constructor(message: string, public command?: string) {
    super(message);
  }
}

export type Out = (line: string) => void;

/** The command each root was last dispatched to (set by commander's
 *  preSubcommand hook), to name it in an error thrown while parsing. */
const ACTIVE = new WeakMap<Command, Command>();
/** A command's exit code, set by its action (commander drops return values). */
const EXIT_CODE = new WeakMap<Command, number>();

const rootOf = (cmd: Command): Command => (cmd.parent === null ? cmd : rootOf(cmd.parent));

/** "tftp get" for `pfs tftp get` (the root's own name left out). */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null && c.parent !== null; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** A command set up the pfs way: help through `out`, no process.exit, no
 *  error printed by commander, no stray arguments, options in help in the
 *  order they are declared. */
export function pfsCommand(name: string, summary: string, out: Out): Command {
  const cmd = new Command(name);
  cmd
    .summary(summary)
    .description(summary)
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .configureHelp({ sortOptions: false, sortSubcommands: false, showGlobalOptions: false })
    .configureOutput({ writeOut: (s) => out(s.replace(/\n$/, "")), writeErr: () => {}, outputError: () => {} })
    .exitOverride((e) => {
      throw commanderToUsage(e, cmd);
    })
    .hook("preSubcommand", (_self, sub) => {
      ACTIVE.set(rootOf(cmd), sub);
    });
  return cmd;
}

/** A thrown CommanderError that only says help was shown (exit 0). */
export class HelpShown extends Error {}

function commanderToUsage(e: CommanderError, cmd: Command): Error {
  if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || (e.code === "commander.help" && e.exitCode === 0)) return new HelpShown("help");
  if (e.code === "commander.help") {
    // A group command called without its subcommand.
    const subs = cmd.commands.map((c) => c.name()).filter((n) => n !== "help");
    return new UsageError(`a subcommand is needed: ${subs.join(", ")}`, commandPath(cmd));
  }
  // Commander's messages start "error: " and put a suggestion on a line of
  // its own; an option is named as a user types it.
  let message = e.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
  const flag = /option '(?:-\w, )?(--[\w-]+)[^']*'/.exec(message)?.[1];
  if (e.code === "commander.missingMandatoryOptionValue" && flag !== undefined) message = `${flag} is required`;
  if (e.code === "commander.optionMissingArgument" && flag !== undefined) message = `${flag} needs a value`;
  if (e.code === "commander.excessArguments") {
    const extra = cmd.args.slice(cmd.registeredArguments.length);
    if (extra.length > 0) message = `unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((a) => `'${a}'`).join(" ")}`;
  }
  return new UsageError(message, commandPath(cmd));
}

/** A help paragraph: written with line breaks in the source, shown as one
 *  paragraph that commander wraps to the terminal (blank lines stay). */
export function para(text: string): string {
  return text.replace(/(?<!\n)\n(?!\n)/g, " ");
}

/** Attaches the action: `fn` gets the options and positionals and returns
 *  the exit code. */
export function onRun<T = Record<string, unknown>>(cmd: Command, fn: (opts: T, args: string[], cmd: Command) => number | Promise<number>): Command {
  cmd.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const code = await fn(self.opts() as T, self.args, self);
    if (!Number.isInteger(code)) throw new Error(`command ${commandPath(self)} returned no exit code`);
    EXIT_CODE.set(rootOf(self), code);
  });
  return cmd;
}

/** Parses `argv` (without the program's own name) against `cmd` and runs
 *  the chosen action; resolves to its exit code (0 after help). A
 *  UsageError leaves named after the command it belongs to. */
export async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  assertHelpComplete(cmd);
  EXIT_CODE.delete(cmd);
  ACTIVE.delete(cmd);
  try {
    await cmd.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof HelpShown) return 0;
    if (e instanceof UsageError && e.command === undefined) e.command = commandPath(ACTIVE.get(cmd) ?? cmd);
    throw e;
  }
  const code = EXIT_CODE.get(cmd);
  if (code === undefined) throw new Error(`pfs ${argv.join(" ")}: no action ran`);
  return code;
}

/** Runs `cmd` as `pfs <cmd> ARGV` would, for callers in this process. */
export function runAlone(cmd: Command, argv: string[], out: Out): Promise<number> {
  const root = pfsCommand("pfs", "open Peer Firmware Sharing", out);
  root.addCommand(cmd);
  return runCommand(root, [cmd.name(), ...argv]);
}

/** Every option of `cmd` and its subcommands has a description, and either a
 *  default shown in help or a reason none is needed (a flag, required). A
 *  definition that breaks this is our bug, caught before anything runs. */
export function assertHelpComplete(cmd: Command): void {
  for (const o of cmd.options) {
    if (o.description.trim() === "") throw new Error(`pfs ${commandPath(cmd)}: option ${o.flags} has no description`);
    const shown = o.isBoolean() || o.negate || o.mandatory || o.defaultValue !== undefined || o.defaultValueDescription !== undefined;
    if (!shown) throw new Error(`pfs ${commandPath(cmd)}: option ${o.flags} shows no default`);
  }
  for (const c of cmd.commands) assertHelpComplete(c);
}

// --- Options --------------------------------------------------------------

export interface Range {
  min: number;
  max: number;
}

const optionName = (o: Option) => o.long ?? o.flags;

/** A number as typed, or a one-line error naming the option. */
function toNumber(o: Option, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${optionName(o)} needs a number (got ${JSON.stringify(text)})`);
  return n;
}

/** A whole-number option from `range.min` to `range.max`. */
export function intOption(flags: string, description: string, range: Range, dflt?: Default): Option {
  console.assert(Number.isInteger(range.min) && range.min <= range.max, flags);
  const o = new Option(flags, description);
  o.argParser((text: string) => {
    const n = toNumber(o, text);
    if (!Number.isInteger(n) || n < range.min || n > range.max) throw new UsageError(`${optionName(o)} must be a whole number from ${range.min} to ${range.max} (got ${text})`);
    return n;
  });
  return withDefault(o, dflt);
}

/** A number option (fractions allowed) from `range.min` to `range.max`. */
export function numOption(flags: string, description: string, range: Range, dflt?: Default): Option {
  console.assert(range.min <= range.max, flags);
  const o = new Option(flags, description);
  o.argParser((text: string) => {
    const n = toNumber(o, text);
    if (n < range.min || n > range.max) throw new UsageError(`${optionName(o)} must be a number from ${range.min} to ${range.max} (got ${text})`);
    return n;
  });
  return withDefault(o, dflt);
}

/** One of `choices`. */
export function choiceOption(flags: string, description: string, choices: readonly string[], dflt?: Default): Option {
  const o = new Option(flags, description);
  o.argParser((text: string) => {
    if (!choices.includes(text)) throw new UsageError(`${optionName(o)} must be one of ${choices.join(", ")} (got ${JSON.stringify(text)})`);
    return text;
  });
  // Listed in help by commander's own wording.
  o.argChoices = [...choices];
  return withDefault(o, dflt);
}

/** A text option (a file, a name). */
export function textOption(flags: string, description: string, dflt?: Default): Option {
  return withDefault(new Option(flags, description), dflt);
}

/** An on/off flag (false unless given). */
export function flagOption(flags: string, description: string): Option {
  return new Option(flags, description);
}

/** The option must be given: help says so and a call without it is one line. */
export function required(o: Option): Option {
  o.description = `${o.description} (required)`;
  return o.makeOptionMandatory(true);
}

/** An option's default: the value taken when it is not given, or only
 *  words for help when the default is decided elsewhere ("the CPU count"). */
export type Default = number | string | { shown: string };

function withDefault(o: Option, dflt: Default | undefined): Option {
  if (dflt === undefined) return o;
  if (typeof dflt === "object") {
    // Commander shows a default only beside a value; this one is words.
    o.defaultValueDescription = dflt.shown;
    o.description = `${o.description} (default: ${dflt.shown})`;
    return o;
  }
  return o.default(dflt);
}

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port", "[v6]:port" or ":port" (all addresses, 0.0.0.0); with
 *  `defaultPort`, a bare host too. `minPort` 0 lets the system choose. */
export function parseHostPortText(text: string, name: string, opts: { defaultPort?: number; minPort?: number } = {}): HostPort {
  const minPort = opts.minPort ?? 1;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*))(?::(\d+))?$/.exec(text);
  const host = m === null ? "" : (m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]));
  const port = m === null ? NaN : m[3] === undefined ? (opts.defaultPort ?? NaN) : Number(m[3]);
  if (m === null || host === "" || !(port >= minPort && port <= 65535) || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new UsageError(`${name} needs host:port with a port from ${minPort} to 65535, e.g. 127.0.0.1:6969 or [::1]:6969 (got ${JSON.stringify(text)})`);
  }
  return { host, port };
}

/** An address option, parsed to { host, port }. */
export function hostPortOption(flags: string, description: string, opts: { defaultPort?: number; minPort?: number; dflt?: Default } = {}): Option {
  const o = new Option(flags, description);
  o.argParser((text: string) => parseHostPortText(text, optionName(o), opts));
  if (typeof opts.dflt === "string") return o.default(parseHostPortText(opts.dflt, flags, opts), opts.dflt);
  return withDefault(o, opts.dflt);
}
