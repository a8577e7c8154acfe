// The delay relay as a process of its own, run inside the site's gateway
// namespace (`ip netns exec NS node relay-main.js SPEC`): SPEC is one JSON
// object, RelaySpec. It prints one line "relay ready" when every listener is
// bound (or "relay failed: why" and exits 1), runs until SIGTERM or SIGINT,
// and then prints its counts as one JSON line.

import { TcpRelay } from "./tcp-relay.js";
import { UdpRelay } from "./udp-relay.js";

export interface Endpoint {
  host: string;
  port: number;
}

export interface RelaySpec {
  halfRttMs: number;
  udp: Array<{ listen: Endpoint; to: Endpoint }>;
  tcp: Array<{ listen: Endpoint; to: Endpoint }>;
}

export const RELAY_READY_LINE = "relay ready";

/** The spec, checked: it comes over a command line. */
export function parseRelaySpec(text: string): RelaySpec {
  const s = JSON.parse(text) as RelaySpec;
  const ep = (e: Endpoint) => typeof e?.host === "string" && Number.isInteger(e?.port) && e.port >= 0 && e.port <= 65535;
  if (typeof s?.halfRttMs !== "number" || !(s.halfRttMs >= 0) || !Array.isArray(s.udp) || !Array.isArray(s.tcp)) throw new Error("a relay spec needs halfRttMs, udp and tcp");
  for (const r of [...s.udp, ...s.tcp]) if (!ep(r.listen) || !ep(r.to)) throw new Error(`a relay needs listen and to, each a host and a port: ${JSON.stringify(r)}`);
  return s;
}

async function main(): Promise<void> {
  let spec: RelaySpec;
  try {
    spec = parseRelaySpec(process.argv[2] ?? "");
  } catch (e) {
    process.stdout.write(`relay failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const udp = spec.udp.map((r) => new UdpRelay({ ...r, halfRttMs: spec.halfRttMs }));
  const tcp = spec.tcp.map((r) => new TcpRelay({ ...r, halfRttMs: spec.halfRttMs }));
  try {
    for (const r of [...udp, ...tcp]) await r.start();
  } catch (e) {
    process.stdout.write(`relay failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${RELAY_READY_LINE}\n`);
  const stop = () => {
    for (const r of [...udp, ...tcp]) r.stop();
    process.stdout.write(JSON.stringify({ udp: udp.map((r) => r.counts), tcp: tcp.map((r) => r.counts) }) + "\n", () => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
