// A UDP port free right now on an address: bind port 0, read it, let go.
// (Another process may take it before the caller binds; callers retry.)

import { createSocket } from "node:dgram";

export async function freeUdpPort(host = "127.0.0.1"): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
