// What a phone's peer layer put on the wire, by transport and message type:
// every UDP datagram and every TCP frame the core asked it to send and the
// OS took (docs/PROTOCOL.md §4, §5). The phone prints the counts when it
// stops (docs/CONSOLE.md "sent"), so a capture of the fleet can be held to
// what each phone says it sent (tests/host/wireshark.test.ts).

/** Datagram types (docs/PROTOCOL.md §4.1, assembly/wire.ts T_*). */
export const DATAGRAM_TYPES: Readonly<Record<number, string>> = { 0x01: "SOLICIT", 0x02: "CLAIM", 0x03: "ROOT_AD" };
/** Stream frame types (docs/PROTOCOL.md §5.1). */
export const FRAME_TYPES: Readonly<Record<number, string>> = {
  0x10: "JOIN", 0x11: "ACCEPT", 0x12: "REFUSE", 0x13: "DOWN", 0x14: "UP", 0x15: "DATA",
};

/** The type byte follows magic (2) and version (1) in a datagram (§4.1). */
const DATAGRAM_TYPE_AT = 3;
/** The type byte follows the 2-byte length prefix in a frame (§5.1). */
const FRAME_TYPE_AT = 2;

export type Transport = "udp" | "tcp";

/** A type byte's name, or its hex value when the table has none (the
 *  reference core never sends one: that would be a bug worth seeing). */
function typeName(names: Readonly<Record<number, string>>, type: number): string {
  return names[type] ?? `0x${type.toString(16).padStart(2, "0")}`;
}

export class SentCounts {
  private readonly counts: Record<Transport, Map<string, number>> = { udp: new Map(), tcp: new Map() };

  /** The type of a datagram the core built (it is at least a header long). */
  static datagramType(bytes: Uint8Array): string {
    if (bytes.length <= DATAGRAM_TYPE_AT) throw new Error(`a ${bytes.length}-byte datagram from the core has no type byte`);
    return typeName(DATAGRAM_TYPES, bytes[DATAGRAM_TYPE_AT]);
  }

  /** The type of a frame the core wrote: each of its stream writes (not its
   *  zero-copy payload views) starts one frame (assembly/send.ts). */
  static frameType(bytes: Uint8Array): string {
    if (bytes.length <= FRAME_TYPE_AT) throw new Error(`a ${bytes.length}-byte frame from the core has no type byte`);
    return typeName(FRAME_TYPES, bytes[FRAME_TYPE_AT]);
  }

  add(transport: Transport, type: string): void {
    const m = this.counts[transport];
    m.set(type, (m.get(type) ?? 0) + 1);
  }

  /** `"udp ROOT_AD"`-style keys, each with its count (never 0). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of ["udp", "tcp"] as const) for (const [type, n] of [...this.counts[t]].sort()) out[`${t} ${type}`] = n;
    return out;
  }

  /** The console's form: `sent udp ROOT_AD=12 SOLICIT=3 tcp JOIN=2 ...`
   *  (a transport with nothing sent shows as `udp -`). */
  line(): string {
    const part = (t: Transport) => {
      const entries = [...this.counts[t]].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `${t} ${entries.length === 0 ? "-" : entries.map(([type, n]) => `${type}=${n}`).join(" ")}`;
    };
    return `sent ${part("udp")} ${part("tcp")}`;
  }
}

/** Parses a `sent ...` line back into `"udp ROOT_AD"`-style counts; null if
 *  the text is not one. */
export function parseSentLine(text: string): Record<string, number> | null {
  const m = /^sent udp (.+?) tcp (.+)$/.exec(text);
  if (m === null) return null;
  const out: Record<string, number> = {};
  for (const [t, list] of [["udp", m[1]], ["tcp", m[2]]] as const) {
    if (list === "-") continue;
    for (const item of list.split(" ")) {
      const kv = /^(\w+)=(\d+)$/.exec(item);
      if (kv === null) return null;
      out[`${t} ${kv[1]}`] = Number(kv[2]);
    }
  }
  return out;
}
