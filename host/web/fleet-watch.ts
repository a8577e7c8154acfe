// Watching a fleet in one call: a syslog receiver (host/logd/receiver.ts)
// whose reports feed a FleetView, and the live page (host/web/server.ts) on
// that view. `pfs fleet --web` passes `logServer` to its phones; `pfs logd
// --web` listens where the phones' configurations already point.

import { SyslogReceiver } from "../logd/receiver.js";
import type { PhoneReport } from "../view/report.js";
import { FleetView } from "../view/fleet-view.js";
import { serveFleetPage, type FleetPage } from "./server.js";

export interface FleetWatchOptions {
  /** Where the page listens (port 0: any free port). */
  web: { host: string; port: number };
  /** Where the syslog receiver listens (port 0: any free port). */
  listen: { host: string; port: number };
  /** Each report as it comes, after the view took it (logd's files). */
  onReport?: (r: PhoneReport) => void;
  /** Each datagram that is not one of our messages, and why. */
  onMalformed?: (raw: Buffer, reason: string) => void;
  /** A view to feed (else a new one). */
  view?: FleetView;
}

export interface FleetWatch {
  /** What the phones log to: the receiver's own address. */
  logServer: { host: string; port: number };
  url: string;
  view: FleetView;
  close(): Promise<void>;
}

export async function watchFleet(o: FleetWatchOptions): Promise<FleetWatch> {
  const view = o.view ?? new FleetView();
  const receiver = await SyslogReceiver.listen(o.listen.host, o.listen.port, (parsed) => {
    view.apply(parsed.report);
    o.onReport?.(parsed.report);
  }, (raw, reason) => o.onMalformed?.(raw, reason));
  let page: FleetPage;
  try {
    page = await serveFleetPage(o.web, view);
  } catch (e) {
    await receiver.close();
    throw e;
  }
  const logServer = receiver.address();
  if (!(logServer.port > 0)) throw new Error(`the syslog receiver has no port (${logServer.port})`);
  return {
    logServer, url: page.url, view,
    close: async () => {
      await page.close();
      await receiver.close();
    },
  };
}
