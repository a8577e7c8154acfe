// What one phone tells its log server (docs/LOGGING.md): every console line
// as a `line` message, with the component's structured data when the line is
// about one, and a `status` tick per component while it upgrades and
// lingers. The phone (host/phone/phone.ts) feeds it lines, core events and
// snapshots of each component; this file decides what goes out and when.

import { Ev, PARENT_LOST_VERIFIED } from "../core/abi.js";
import { LEVEL_SEVERITY, type ComponentState, type Level, type PhoneReport, type ReportEvent } from "../view/report.js";
import { formatSyslog, type MsgId } from "./syslog.js";
import { SyslogSender } from "./syslog-sender.js";

/** Lines printed before the phone knows its log server (it learns it from
 *  its configuration) are kept up to this many, then sent: a boot prints
 *  about ten before the configuration is read. */
export const MAX_BACKLOG_LINES = 256;
/** A component whose state changed is ticked at most once a second... */
export const STATUS_CHANGED_MS = 1000;
/** ...and at least every 10 s anyway, so a watcher that started late, or
 *  lost a datagram, catches up within that. */
export const STATUS_EVERY_MS = 10_000;

/** The core events a watcher shows, by the core's event code. */
const EVENT_OF_CODE: ReadonlyMap<number, ReportEvent> = new Map([
  [Ev.ConfirmedRoot, "root"], [Ev.Joined, "joined"], [Ev.Moved, "joined"], [Ev.ParentLost, "parentLost"],
  [Ev.Corrupt, "corrupt"], [Ev.MergeFailed, "avoided"], [Ev.FileDone, "fileDone"],
]);

/** The event a watcher shows for a core event; none for a phone whose file is
 *  complete losing its parent (b PARENT_LOST_VERIFIED): the tree dissolving
 *  after the upgrade is no news for the admin. */
export function reportEventOf(code: number, b = 0): ReportEvent | undefined {
  if (code === Ev.ParentLost && b === PARENT_LOST_VERIFIED) return undefined;
  return EVENT_OF_CODE.get(code);
}

/** The console line's level label; one this file does not know is INF. */
export function lineLevel(line: string): Level {
  const label = line.slice(0, 3);
  return label in LEVEL_SEVERITY ? (label as Level) : "INF";
}

interface Tracked {
  state: ComponentState;
  /** What the last tick said, and when (ms since the epoch). */
  lastSent: string;
  lastSentMs: number;
}

export class PhoneLog {
  private sender: SyslogSender | null = null;
  private backlog: PhoneReport[] | null = [];
  private readonly byXid = new Map<string, Tracked>();
  /** What the next line is about (nextLineAbout), used once. */
  private next: { xid?: string; event?: ReportEvent } | null = null;
  load = "";

  constructor(readonly mac: string, readonly ip: string) {
    if (!/^[0-9A-F]{12}$/.test(mac)) throw new Error(`PhoneLog: MAC '${mac}' is not 12 upper-case hex digits`);
  }

  /** The server is known (or known to be none): the backlog goes out or away. */
  useServer(server: { host: string; port: number } | undefined): void {
    if (this.backlog === null) return; // decided at an earlier boot
    const kept = this.backlog;
    this.backlog = null;
    if (server === undefined) return;
    this.sender = new SyslogSender(server);
    for (const r of kept) this.sender.send(formatSyslog(r, "line"));
  }

  /** A component the phone needs; its state is updated by update(). */
  track(state: ComponentState): void {
    this.byXid.set(state.xid, { state: { ...state }, lastSent: "", lastSentMs: 0 });
  }

  update(xid: string, change: Partial<ComponentState>): void {
    const t = this.byXid.get(xid);
    if (t !== undefined) Object.assign(t.state, change);
  }

  /** The next line() is about this component and is this event (the phone
   *  says so just before it prints the line). */
  nextLineAbout(xid: string | undefined, event: ReportEvent | undefined): void {
    this.next = { xid, event };
  }

  /** A console line as printed; about the component nextLineAbout named,
   *  else the one whose XID it names, if any. */
  line(text: string): void {
    const { xid, event } = this.next ?? {};
    this.next = null;
    const tag = xid ?? /XID[0-9A-F]{8}/.exec(text)?.[0];
    const c = tag === undefined ? undefined : this.byXid.get(tag)?.state;
    const r: PhoneReport = { atMs: Date.now(), mac: this.mac, ip: this.ip, load: this.load, level: lineLevel(text), text };
    if (c !== undefined) r.component = { ...c };
    if (event !== undefined) r.event = event;
    this.emit(r, "line");
  }

  /** Status ticks due at `nowMs` (call it every STATUS_CHANGED_MS). */
  tick(nowMs: number): void {
    for (const t of this.byXid.values()) {
      const s = t.state;
      const key = `${s.held} ${s.role} ${s.parent} ${s.depth} ${s.wan} ${s.done}`;
      const due = key !== t.lastSent ? nowMs - t.lastSentMs >= STATUS_CHANGED_MS : nowMs - t.lastSentMs >= STATUS_EVERY_MS;
      if (!due) continue;
      t.lastSent = key;
      t.lastSentMs = nowMs;
      this.emit({ atMs: nowMs, mac: this.mac, ip: this.ip, load: this.load, component: { ...s } }, "status");
    }
  }

  /** Components end with the boot that needed them. */
  forget(): void {
    this.byXid.clear();
  }

  private emit(r: PhoneReport, msgid: MsgId): void {
    if (this.backlog !== null) {
      if (msgid === "line" && this.backlog.length < MAX_BACKLOG_LINES) this.backlog.push(r);
      return;
    }
    this.sender?.send(formatSyslog(r, msgid));
  }

  async close(): Promise<void> {
    this.backlog = null;
    await this.sender?.close();
  }
}
