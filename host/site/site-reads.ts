// What the site's servers say they served during one run, from their own
// request records (host/tftp/server.ts, host/http/server.ts): per file, the
// requests and the bytes sent, by protocol. A run's records are those added
// between two snapshots (the records only ever grow).

import { ServerRecords } from "./server-main.js";

export interface FileReads {
  /** Read requests over TFTP (failed ones too), and GETs over HTTP. */
  tftpReads: number;
  httpReads: number;
  /** Bytes the server sent of it (TFTP: of transfers that completed; HTTP:
   *  body bytes handed to the socket). */
  bytes: number;
}

export type SiteReads = Record<string, FileReads>;

export function siteReads(before: ServerRecords, after: ServerRecords): SiteReads {
  console.assert(after.tftp.length >= before.tftp.length && after.http.length >= before.http.length, "records only grow");
  const out: SiteReads = {};
  const entry = (file: string) => (out[file] ??= { tftpReads: 0, httpReads: 0, bytes: 0 });
  for (const r of after.tftp.slice(before.tftp.length)) {
    const e = entry(r.file);
    e.tftpReads++;
    e.bytes += r.bytes ?? 0;
  }
  for (const r of after.http.slice(before.http.length)) {
    if (r.method !== "GET" || r.file === undefined) continue;
    const e = entry(r.file);
    e.httpReads++;
    e.bytes += r.bytes;
  }
  return out;
}
