// A remote site's network, from namespaces (./netns.ts): the phones' LAN (a
// bridge of 100 Mbit/s ports, one namespace per phone), a gateway namespace
// on that LAN (the site's router), and a server namespace at the far end of
// a WAN link: one veth pair between the gateway and the server, shaped by
// tbf to the WAN's rate on both ends (the server's egress is the site's
// downlink, the gateway's egress its uplink).
//
// Nothing is routed: the gateway runs our delay relay (./delay-relay.ts),
// which the phones talk to as if it were the server and which talks to the
// server from its WAN address, holding every datagram and chunk half the
// round trip each way (this kernel has no netem). So every byte between the
// site and the server crosses the shaped veth, and its tbf counts it.

import { makeLan, ip, tc, kernelHz, Lan, LanHost, must, removeNamespace, tbfCounters } from "./netns.js";

/** The WAN's own /24: gateway .1, server .2 (inside namespaces, so fixed). */
const WAN_NET = "10.78.0";
/** The WAN router's queue, in time at the WAN's rate: a real access router
 *  holds on the order of 100 ms to a few hundred of its rate. */
export const WAN_QUEUE_MS = 250;
/** ... and never less than two TFTP windows of 32 blocks of 1428 (as framed,
 *  1474 bytes each): a window the phones ask for by default (host/cli/site.ts)
 *  must not be dropped at the door of a slow link only because it arrives
 *  back to back (at 1 Mbit/s, 250 ms is 31 KB, less than one window). */
export const WAN_QUEUE_MIN_BYTES = 2 * 32 * 1474;
/** tbf's bucket must hold at least one full frame, and a few so that the
 *  link can start a window back to back (tc-tbf(8): burst >= rate/HZ). */
const WAN_MIN_BURST_BYTES = 2 * 1514;

export interface SiteNetOptions {
  phones: number;
  /** The phones' switch ports, both directions. */
  lanBitsPerSec: number;
  /** The WAN link, both directions. */
  wanBitsPerSec: number;
}

/** Bytes and packets tbf sent on the WAN link so far, Ethernet frames from
 *  their header: `down` server to site, `up` site to server. */
export interface LinkCounters {
  bytes: number;
  packets: number;
  /** Packets tbf dropped (its queue full). */
  dropped: number;
}

export interface WanCounters {
  down: LinkCounters;
  up: LinkCounters;
}

export interface SiteNet {
  lan: Lan;
  gateway: LanHost;
  /** The gateway's address on the WAN (the relay talks to the server from it). */
  gatewayWanAddr: string;
  server: { ns: string; addr: string };
  shaping: { wanBitsPerSec: number; burstBytes: number; queueBytes: number };
  /** A command prefix that runs a program in a namespace. */
  exec(ns: string): string[];
  wanCounters(): WanCounters;
  teardown(): void;
}

export function makeSiteNet(o: SiteNetOptions): SiteNet {
  if (!(o.wanBitsPerSec > 0)) throw new Error("the WAN needs a rate above 0");
  const lan = makeLan({ hosts: o.phones, rateBitsPerSec: o.lanBitsPerSec, gateway: true });
  const gateway = lan.gateway!;
  const serverNs = gateway.ns.replace(/g$/, "v");
  console.assert(serverNs !== gateway.ns, "the server's namespace is named after the gateway's");
  const burstBytes = Math.max(Math.ceil(o.wanBitsPerSec / 8 / kernelHz()), WAN_MIN_BURST_BYTES);
  const queueBytes = Math.max(Math.ceil((o.wanBitsPerSec / 8) * (WAN_QUEUE_MS / 1000)), WAN_QUEUE_MIN_BYTES);
  let down = false;
  const net: SiteNet = {
    lan, gateway, gatewayWanAddr: `${WAN_NET}.1`, server: { ns: serverNs, addr: `${WAN_NET}.2` },
    shaping: { wanBitsPerSec: o.wanBitsPerSec, burstBytes, queueBytes },
    exec: (ns) => ["ip", "netns", "exec", ns],
    wanCounters: () => ({ down: tbfCounters(["-n", serverNs], "eth0"), up: tbfCounters(["-n", gateway.ns], "wan0") }),
    teardown: () => {
      if (down) return;
      down = true;
      removeNamespace(serverNs);
      lan.teardown();
    },
  };
  try {
    ip("netns", "add", serverNs);
    ip("-n", serverNs, "link", "set", "lo", "up");
    // Only what the site sends may cross the WAN and be counted: no IPv6
    // router solicitations, MLD reports or neighbour discovery on it.
    for (const ns of [serverNs, gateway.ns]) must("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    ip("-n", gateway.ns, "link", "add", "wan0", "type", "veth", "peer", "name", "eth0", "netns", serverNs);
    ip("-n", gateway.ns, "addr", "add", `${net.gatewayWanAddr}/24`, "dev", "wan0");
    ip("-n", gateway.ns, "link", "set", "wan0", "up");
    ip("-n", serverNs, "addr", "add", `${net.server.addr}/24`, "dev", "eth0");
    ip("-n", serverNs, "link", "set", "eth0", "up");
    for (const [ns, dev] of [[gateway.ns, "wan0"], [serverNs, "eth0"]]) {
      tc("-n", ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate", `${o.wanBitsPerSec}bit`, "burst", String(burstBytes), "limit", String(queueBytes));
    }
  } catch (e) {
    net.teardown();
    throw e;
  }
  return net;
}

/** b - a, both ways. */
export function wanDelta(a: WanCounters, b: WanCounters): WanCounters {
  const d = (x: LinkCounters, y: LinkCounters): LinkCounters => ({ bytes: y.bytes - x.bytes, packets: y.packets - x.packets, dropped: y.dropped - x.dropped });
  const r = { down: d(a.down, b.down), up: d(a.up, b.up) };
  console.assert(r.down.bytes >= 0 && r.up.bytes >= 0, "tbf's counters only grow");
  return r;
}
