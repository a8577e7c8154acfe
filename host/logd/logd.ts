// `pfs logd` as a library: receive the fleet's syslog, store it (./store.ts),
// keep a live summary (./summary.ts), and, with `web`, feed the fleet page
// (host/web/server.ts) the same reports. docs/LOGGING.md.

import { FleetView } from "../view/fleet-view.js";
import { serveFleetPage } from "../web/server.js";
import { LogStore } from "./store.js";
import { LogSummary } from "./summary.js";
import { SyslogReceiver } from "./receiver.js";

/** Without a terminal the summary is printed this often (if anything came). */
export const SUMMARY_EVERY_MS = 5000;
/** On a terminal it is redrawn in place this often. */
export const REDRAW_EVERY_MS = 500;

export interface LogdOptions {
  listen: { host: string; port: number };
  /** The folder of the phone files and malformed.log. */
  out: string;
  /** Serve the live fleet page here too. */
  web?: { host: string; port: number };
  /** Where the summary goes, a line at a time. */
  print: (line: string) => void;
  /** A terminal: the summary is redrawn in place on it instead. */
  tty?: { write(text: string): void };
}

export interface Logd {
  /** Where it listens (the port the system gave, for port 0). */
  address: { host: string; port: number };
  /** The fleet page's address, with `web`. */
  webUrl?: string;
  store: LogStore;
  summary: LogSummary;
  close(): Promise<void>;
}

export async function runLogd(o: LogdOptions): Promise<Logd> {
  const store = new LogStore(o.out);
  const summary = new LogSummary();
  const page = o.web === undefined ? undefined : await startPage(o.web);
  let changed = false;
  const receiver = await SyslogReceiver.listen(
    o.listen.host, o.listen.port,
    (parsed, raw) => {
      store.append(parsed.report.mac, raw);
      summary.apply(parsed.report);
      page?.view.apply(parsed.report);
      changed = true;
    },
    (raw, reason, from) => {
      store.appendMalformed(raw, `${new Date().toISOString()} ${from.address}:${from.port} ${raw.length} bytes: ${reason}`);
      changed = true;
    },
  );
  let drawn = 0;
  const draw = () => {
    if (!changed) return;
    changed = false;
    const lines = summary.lines(store);
    if (o.tty === undefined) {
      for (const l of lines) o.print(l);
      return;
    }
    // Up over the last drawing, then each line cleared and rewritten.
    o.tty.write(`${drawn > 0 ? `\x1b[${drawn}F` : ""}${lines.map((l) => `\x1b[2K${l}\n`).join("")}\x1b[J`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, o.tty === undefined ? SUMMARY_EVERY_MS : REDRAW_EVERY_MS);
  let closing: Promise<void> | null = null;
  return {
    address: receiver.address(), webUrl: page?.url, store, summary,
    // Once, however often it is called: the last summary is drawn at the end.
    close: () => (closing ??= (async () => {
      clearInterval(timer);
      await receiver.close();
      changed = true;
      draw();
      await page?.close();
    })()),
  };
}

/** The fleet page (host/web/server.ts) on a view of its own (host/view/fleet-view.ts). */
async function startPage(web: { host: string; port: number }): Promise<{ view: FleetView; url: string; close(): Promise<void> }> {
  const view = new FleetView();
  const page = await serveFleetPage(web, view);
  return { view, url: page.url, close: () => page.close() };
}
