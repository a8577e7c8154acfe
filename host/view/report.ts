// What a phone tells whoever watches the fleet: one report per console line
// or status tick. The one shape every source speaks (a phone's syslog as
// logd parses it, a fleet of phone processes, the simulator in virtual time)
// and every watcher reads (the fleet page, logd's summary, the plots).
// On the wire a report is an RFC 5424 message whose structured data is
// SD_ID below (docs/LOGGING.md); this file is the meaning, not the syntax.

/** The SD-ID of our structured data: the private enterprise number 32473
 *  is the one RFC 5612 reserves for documentation and examples. */
export const SD_ID = "pfs@32473";

/** The console's level labels (docs/CONSOLE.md) and their RFC 5424 severities. */
export const LEVEL_SEVERITY = { ERR: 3, WRN: 4, NOT: 5, INF: 6, DBG: 7 } as const;
export type Level = keyof typeof LEVEL_SEVERITY;

/** A phone's role in one hierarchy, by the core's Role numbers (host/core/abi.gen.ts). */
export const ROLE_NAMES = ["idle", "discover", "claiming", "root", "joining", "attached", "waiting"] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** The events a watcher shows as they happen (the page's event list). */
export const REPORT_EVENTS = ["root", "joined", "parentLost", "corrupt", "avoided", "fileDone", "loadDone", "failed"] as const;
export type ReportEvent = (typeof REPORT_EVENTS)[number];

/** One component (one hierarchy: model and file) as one phone sees it. */
export interface ComponentState {
  /** `XID%08X`, as the console prints it. */
  xid: string;
  model: string;
  file: string;
  role: RoleName;
  /** Bytes of the file held, checked or in flight (block list excluded). */
  held: number;
  /** The file's size in bytes, from the index. */
  size: number;
  /** The parent's address, "" for a root or a phone with none. */
  parent: string;
  /** Depth in the tree: 0 for the root. */
  depth: number;
  /** Bytes this phone fetched from the load server for this file (the WAN). */
  wan: number;
  done: boolean;
}

export interface PhoneReport {
  /** Milliseconds since the epoch (real runs) or since the start (the simulator). */
  atMs: number;
  /** 12 upper-case hex digits; the syslog HOSTNAME is `SEP${mac}`. */
  mac: string;
  /** The phone's PFS address, dotted IPv4. */
  ip: string;
  /** The load the phone is upgrading to ("" before its configuration is read). */
  load: string;
  /** A console line, when this report is one (its level and its text). */
  level?: Level;
  text?: string;
  /** The component the line or tick is about, if any. */
  component?: ComponentState;
  /** What happened, when the line is one of the events that matter. */
  event?: ReportEvent;
}
