// The site's UDP relay for TFTP: phones send to the relay's LAN port as if
// it were the server's; each phone's flow (its address and port) gets one
// upstream socket of its own, from which the relay speaks to the server.
// TFTP answers from a new port per transfer (the server's TID, RFC 1350
// section 4), so for each server port a flow hears from, the relay opens a
// LAN socket of its own, answers the phone from it, and forwards what the
// phone sends there to that server port: the phone sees one TID per
// transfer, as it would with the server itself. Every datagram is held half
// the round trip on its way (./delay-line.ts), in both directions.

import dgram from "node:dgram";
import { FixedDelayLine } from "./delay-line.js";

/** Flows at once: one per phone transfer request port; a site of a few
 *  hundred phones with a few files each stays far below. Beyond it new
 *  flows are dropped (counted), never an unbounded set of sockets. */
export const UDP_FLOWS_MAX = 4096;
/** A flow quiet this long is closed: longer than any TFTP retransmission
 *  (our client gives up after a few seconds, tftpd-hpa's after 5 x 1 s
 *  backoff), so no live transfer loses its sockets. */
export const UDP_FLOW_IDLE_MS = 60_000;

export interface UdpRelayOptions {
  /** The relay's LAN address and port (what the phones are told is the server). */
  listen: { host: string; port: number };
  /** The server. */
  to: { host: string; port: number };
  /** Held on each datagram, each way: half the round trip. */
  halfRttMs: number;
}

interface Flow {
  client: { address: string; port: number };
  up: dgram.Socket;
  /** Server port -> the LAN socket the phone sees as that TID. */
  downs: Map<number, dgram.Socket>;
  lastMs: number;
}

/** A send on a socket a swept or stopped flow closed meanwhile is dropped,
 *  as a link drops what reaches a port that is gone. */
function send(s: dgram.Socket, msg: Buffer, port: number, host: string): void {
  try {
    s.send(msg, port, host);
  } catch {
    // closed
  }
}

export class UdpRelay {
  private listener: dgram.Socket | undefined;
  private readonly flows = new Map<string, Flow>();
  /** One line per direction: datagrams stay in order, each held the same. */
  private readonly toServer: FixedDelayLine;
  private readonly toPhones: FixedDelayLine;
  private sweeper: NodeJS.Timeout | undefined;
  readonly counts = { toServer: 0, toPhones: 0, flows: 0, flowsRefused: 0 };

  constructor(private readonly o: UdpRelayOptions) {
    this.toServer = new FixedDelayLine(o.halfRttMs);
    this.toPhones = new FixedDelayLine(o.halfRttMs);
  }

  async start(): Promise<{ host: string; port: number }> {
    const s = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(this.o.listen.port, this.o.listen.host, () => resolve());
    });
    s.on("message", (msg, rinfo) => this.fromPhone(msg, rinfo, this.o.to.port));
    this.listener = s;
    this.sweeper = setInterval(() => this.sweep(), UDP_FLOW_IDLE_MS / 4);
    this.sweeper.unref();
    const a = s.address();
    return { host: a.address, port: a.port };
  }

  stop(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.toServer.clear();
    this.toPhones.clear();
    for (const key of [...this.flows.keys()]) this.close(key);
    this.listener?.close();
    this.listener = undefined;
  }

  /** A datagram from a phone, for the server's port `serverPort`. */
  private fromPhone(msg: Buffer, rinfo: dgram.RemoteInfo, serverPort: number): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = this.flows.get(key);
    if (flow === undefined) {
      if (this.flows.size >= UDP_FLOWS_MAX) {
        this.counts.flowsRefused++;
        return;
      }
      flow = this.open(key, { address: rinfo.address, port: rinfo.port });
    }
    flow.lastMs = performance.now();
    const f = flow;
    this.toServer.push(() => {
      this.counts.toServer++;
      send(f.up, msg, serverPort, this.o.to.host);
    });
  }

  private open(key: string, client: { address: string; port: number }): Flow {
    // Unbound until the first send: the kernel then binds it to a free port
    // on the address its route to the server leaves from (the WAN side).
    const up = dgram.createSocket("udp4");
    const flow: Flow = { client, up, downs: new Map(), lastMs: performance.now() };
    up.on("message", (msg, rinfo) => this.fromServer(flow, msg, rinfo));
    up.on("error", () => this.close(key));
    this.flows.set(key, flow);
    this.counts.flows++;
    return flow;
  }

  private fromServer(flow: Flow, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (rinfo.address !== this.o.to.host) return; // only the server speaks here
    flow.lastMs = performance.now();
    // The server's well-known port answers (an error to a request) come back
    // from the port the phone sent to; a transfer's TID gets its own socket.
    let down = rinfo.port === this.o.to.port ? this.listener : flow.downs.get(rinfo.port);
    if (down === undefined) {
      const d = dgram.createSocket("udp4");
      d.on("message", (m, r) => {
        if (r.address !== flow.client.address || r.port !== flow.client.port) return; // not this flow's phone
        this.fromPhone(m, r, rinfo.port);
      });
      d.on("error", () => d.close());
      flow.downs.set(rinfo.port, d);
      down = d;
    }
    const sock = down;
    this.toPhones.push(() => {
      if (sock === undefined) return;
      this.counts.toPhones++;
      send(sock, msg, flow.client.port, flow.client.address);
    });
  }

  private sweep(): void {
    const now = performance.now();
    for (const [key, f] of this.flows) if (now - f.lastMs > UDP_FLOW_IDLE_MS) this.close(key);
  }

  private close(key: string): void {
    const f = this.flows.get(key);
    if (f === undefined) return;
    this.flows.delete(key);
    for (const d of f.downs.values()) d.close();
    f.up.close();
  }
}
