// Syslog over UDP (RFC 5426) from one phone: one socket, fire and forget.
// A log server that is down, unreachable or unresolvable costs the upgrade
// nothing: a send error is counted, never thrown, and nothing waits for it
// but close(), which waits a bounded time for sends already handed over.

import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";

/** Sends not yet completed beyond this are dropped and counted: a server
 *  address that resolves slowly must not make the phone hold memory. */
export const MAX_PENDING_SENDS = 256;
/** close() waits at most this for the last sends (a process that exits at
 *  once would lose its last lines, the loadDone among them). */
export const CLOSE_WAIT_MS = 1000;

export class SyslogSender {
  private readonly socket: Socket;
  private pending = 0;
  private closed = false;
  /** Messages handed to the socket, and those lost (send errors, overflow). */
  sent = 0;
  lost = 0;

  constructor(readonly server: { host: string; port: number }) {
    if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65535) throw new Error(`log server port ${server.port} is not 1..65535`);
    this.socket = createSocket(isIPv6(server.host) ? "udp6" : "udp4");
    // A send error (ICMP port unreachable, no route) arrives here: counted.
    this.socket.on("error", () => this.lost++);
    this.socket.unref();
  }

  send(message: string): void {
    if (this.closed) return;
    if (this.pending >= MAX_PENDING_SENDS) {
      this.lost++;
      return;
    }
    this.pending++;
    try {
      this.socket.send(message, this.server.port, this.server.host, (err) => {
        this.pending--;
        if (err) this.lost++;
        else this.sent++;
      });
    } catch {
      this.pending--;
      this.lost++;
    }
  }

  /** Waits (at most CLOSE_WAIT_MS) for the sends in flight, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const until = Date.now() + CLOSE_WAIT_MS;
    while (this.pending > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
