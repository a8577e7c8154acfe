// The site's TCP relay for HTTP: each connection a phone opens to the
// relay's LAN port gets one connection to the server, and every chunk read
// on one side is written to the other half a round trip later
// (./delay-line.ts). The round trip a phone sees (request out, first byte
// back) is then the WAN's; the rate is tbf's on the WAN link, which the
// server's TCP meets as any sender meets a bottleneck. (Two connections, not
// one end to end: the server's TCP sees a short round trip. At 2 Mbit/s and
// 80 ms the path holds 20 KB, well inside any TCP window, so an end-to-end
// connection would reach the link's rate as well.)
//
// Backpressure: a side whose chunks wait (held or in the other side's send
// buffer) beyond RELAY_HELD_MAX_BYTES is paused until they drain.

import net from "node:net";
import { FixedDelayLine } from "./delay-line.js";

/** Bytes one direction of one connection may hold before its source is
 *  paused: a WAN round trip's worth at 100 Mbit/s (the LAN) is 1 MB at
 *  80 ms; the WAN side never fills it at a WAN's rate. */
export const RELAY_HELD_MAX_BYTES = 1 << 20;
/** Connections at once; beyond it a new one is closed at once. */
export const TCP_CONNECTIONS_MAX = 1024;

export interface TcpRelayOptions {
  listen: { host: string; port: number };
  to: { host: string; port: number };
  halfRttMs: number;
}

export class TcpRelay {
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();
  readonly counts = { connections: 0, refused: 0, bytesToServer: 0, bytesToPhones: 0 };

  constructor(private readonly o: TcpRelayOptions) {}

  async start(): Promise<{ host: string; port: number }> {
    const server = net.createServer({ allowHalfOpen: true }, (phone) => this.accept(phone));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.listen.port, this.o.listen.host, () => resolve());
    });
    this.server = server;
    const a = server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  stop(): void {
    for (const s of this.open) s.destroy();
    this.server?.close();
    this.server = undefined;
  }

  private accept(phone: net.Socket): void {
    if (this.open.size >= 2 * TCP_CONNECTIONS_MAX) {
      this.counts.refused++;
      phone.destroy();
      return;
    }
    this.counts.connections++;
    const server = net.connect({ host: this.o.to.host, port: this.o.to.port, allowHalfOpen: true });
    const pair: Array<[net.Socket, net.Socket]> = [[phone, server], [server, phone]];
    for (const [s, other] of pair) {
      s.setNoDelay(true);
      this.open.add(s);
      s.on("close", () => {
        this.open.delete(s);
        // A side that ended cleanly passes its end down the line (pipe());
        // one reset or broken is a reset for the other side at once.
        if (!s.readableEnded) other.destroy();
      });
      s.on("error", () => s.destroy());
    }
    this.pipe(phone, server, (n) => (this.counts.bytesToServer += n));
    this.pipe(server, phone, (n) => (this.counts.bytesToPhones += n));
  }

  /** from -> to, each chunk held halfRttMs; the end too, after the data. */
  private pipe(from: net.Socket, to: net.Socket, count: (n: number) => void): void {
    const line = new FixedDelayLine(this.o.halfRttMs);
    let heldBytes = 0;
    const full = () => heldBytes + to.writableLength > RELAY_HELD_MAX_BYTES;
    from.on("data", (chunk: Buffer) => {
      heldBytes += chunk.length;
      if (full()) from.pause();
      line.push(() => {
        heldBytes -= chunk.length;
        console.assert(heldBytes >= 0, "held bytes never go below zero");
        if (to.destroyed) return;
        count(chunk.length);
        to.write(chunk);
      });
    });
    to.on("drain", () => {
      if (!full() && from.isPaused()) from.resume();
    });
    // A chunk leaving the line may also make room.
    const resumeTimer = setInterval(() => {
      if (!full() && from.isPaused() && !from.destroyed) from.resume();
    }, Math.max(1, this.o.halfRttMs));
    resumeTimer.unref();
    from.on("end", () => line.push(() => to.end()));
    from.on("close", () => {
      clearInterval(resumeTimer);
      if (from.readableEnded) return; // its end goes down the line
      line.clear();
    });
  }
}
