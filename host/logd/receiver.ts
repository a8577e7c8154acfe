// logd's ear: one UDP socket taking the fleet's syslog (RFC 5426). Every
// datagram is either a report (host/log/syslog.ts parsed it) or malformed,
// with the reason; none is dropped here, whatever its size or bytes.

import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { parseSyslog, SyslogParseError, type ParsedSyslog } from "../log/syslog.js";

/** The kernel's receive buffer we ask for: a fleet of phones booting at once
 *  sends bursts; 4 MiB holds about 2000 full datagrams (Linux caps it at
 *  net.core.rmem_max, which is fine: we ask, it gives what it allows). */
export const RECEIVE_BUFFER_BYTES = 4 << 20;

export type OnReport = (parsed: ParsedSyslog, raw: Buffer, from: RemoteInfo) => void;
export type OnMalformed = (raw: Buffer, reason: string, from: RemoteInfo) => void;

export class SyslogReceiver {
  private constructor(private readonly socket: Socket) {}

  static async listen(host: string, port: number, onReport: OnReport, onMalformed: OnMalformed): Promise<SyslogReceiver> {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`listen port ${port} is not 0..65535`);
    const socket = createSocket({ type: isIPv6(host) ? "udp6" : "udp4", recvBufferSize: RECEIVE_BUFFER_BYTES });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, host, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    // After the bind, a socket error (none expected for a bound UDP socket) is not fatal.
    socket.on("error", () => {});
    socket.on("message", (raw, from) => {
      let parsed: ParsedSyslog;
      try {
        parsed = parseSyslog(raw);
      } catch (e) {
        onMalformed(raw, e instanceof SyslogParseError ? e.reason : String(e), from);
        return;
      }
      onReport(parsed, raw, from);
    });
    return new SyslogReceiver(socket);
  }

  address(): { host: string; port: number } {
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
