// The site's server as a process of its own, run inside the server's
// namespace at the far end of the WAN: our TFTP server (host/tftp/server.ts)
// and, when asked, our HTTP server (host/http/server.ts) on one root, with no
// emulation of their own (the WAN is real: tbf and the relay). SPEC is one
// JSON object, ServerSpec. It prints "site server ready" once both listen;
// each line "records" on its stdin is answered with one JSON line holding
// every request record of both servers so far (the servers' own records,
// which the site's report reads); SIGTERM stops it.

import { createInterface } from "node:readline";
import { HttpRequestRecord, HttpServer } from "../http/server.js";
import { TftpRequestRecord, TftpServer } from "../tftp/server.js";

export interface ServerSpec {
  root: string;
  host: string;
  tftpPort: number;
  /** Also serve HTTP on this port (null: no). */
  httpPort: number | null;
}

export interface ServerRecords {
  tftp: TftpRequestRecord[];
  http: HttpRequestRecord[];
}

export const SERVER_READY_LINE = "site server ready";
export const RECORDS_COMMAND = "records";

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as ServerSpec;
  if (typeof spec.root !== "string" || typeof spec.host !== "string" || !Number.isInteger(spec.tftpPort)) {
    process.stdout.write("site server failed: a spec needs root, host and tftpPort\n");
    process.exit(1);
  }
  const tftp = new TftpServer({ root: spec.root, host: spec.host, port: spec.tftpPort });
  const http = spec.httpPort === null ? null : new HttpServer({ root: spec.root, host: spec.host, port: spec.httpPort });
  try {
    await tftp.start();
    await http?.start();
  } catch (e) {
    process.stdout.write(`site server failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${SERVER_READY_LINE}\n`);
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() !== RECORDS_COMMAND) return;
    const records: ServerRecords = { tftp: tftp.requests, http: http?.requests ?? [] };
    process.stdout.write(JSON.stringify(records) + "\n");
  });
  const stop = async () => {
    await tftp.stop();
    await http?.stop();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
