// A pcap file written by hand, for feeding tshark packets nobody would send:
// the classic libpcap format (a 24-byte global header, then a 16-byte
// record header before each packet), little-endian, with raw IPv4 packets
// (LINKTYPE_IPV4) carrying UDP or TCP. TCP segments carry no handshake and
// no checksum (Wireshark checks neither by default); sequence numbers run on
// per stream so that its reassembly follows them.

/** The libpcap magic, written little-endian; microsecond timestamps. */
const PCAP_MAGIC = 0xa1b2c3d4;
const PCAP_VERSION = [2, 4] as const;
/** Large enough for any packet we write (a DATA frame is at most 16391). */
const SNAPLEN = 65535;
/** LINKTYPE_IPV4 (tcpdump.org link-layer header types): a raw IPv4 packet. */
const LINKTYPE_IPV4 = 228;
const IPV4_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
const TCP_HEADER_BYTES = 20;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const TTL = 64;
/** TCP flags (RFC 9293 §3.1). */
export const TCP_FIN = 0x01;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
/** The largest IPv4 total length. */
const MAX_IP_BYTES = 0xffff;

function ipv4(addr: string): number[] {
  const parts = addr.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${addr}`);
  return parts;
}

/** The Internet checksum (RFC 1071) of `b`. */
function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipPacket(proto: number, src: string, dst: string, l4: Uint8Array): Uint8Array {
  const total = IPV4_HEADER_BYTES + l4.length;
  if (total > MAX_IP_BYTES) throw new Error(`an IPv4 packet of ${total} bytes`);
  const p = new Uint8Array(total);
  const v = new DataView(p.buffer);
  v.setUint8(0, 0x45); // version 4, 5 words of header
  v.setUint16(2, total);
  v.setUint8(8, TTL);
  v.setUint8(9, proto);
  p.set(ipv4(src), 12);
  p.set(ipv4(dst), 16);
  v.setUint16(10, checksum(p.subarray(0, IPV4_HEADER_BYTES)));
  p.set(l4, IPV4_HEADER_BYTES);
  return p;
}

export interface Endpoint {
  addr: string;
  port: number;
}

export class PcapWriter {
  private readonly records: Uint8Array[] = [];
  private readonly seqs = new Map<string, number>();
  /** Packets written so far; the next one is frame number count + 1. */
  count = 0;

  /** A UDP datagram. `keepBytes`: only this many bytes of the whole IP
   *  packet are in the capture (a snapshot length cut it). */
  udp(from: Endpoint, to: Endpoint, payload: Uint8Array, keepBytes?: number): number {
    const d = new Uint8Array(UDP_HEADER_BYTES + payload.length);
    const v = new DataView(d.buffer);
    v.setUint16(0, from.port);
    v.setUint16(2, to.port);
    v.setUint16(4, d.length); // checksum 0: none (RFC 768)
    d.set(payload, UDP_HEADER_BYTES);
    return this.record(ipPacket(PROTO_UDP, from.addr, to.addr, d), keepBytes);
  }

  /** A TCP segment of the stream from `from` to `to`, continuing its bytes. */
  tcp(from: Endpoint, to: Endpoint, payload: Uint8Array, flags = TCP_PSH | TCP_ACK, keepBytes?: number): number {
    const key = `${from.addr}:${from.port}>${to.addr}:${to.port}`;
    const seq = this.seqs.get(key) ?? 1;
    this.seqs.set(key, seq + payload.length + (flags & TCP_FIN ? 1 : 0));
    const s = new Uint8Array(TCP_HEADER_BYTES + payload.length);
    const v = new DataView(s.buffer);
    v.setUint16(0, from.port);
    v.setUint16(2, to.port);
    v.setUint32(4, seq);
    v.setUint32(8, 1);
    v.setUint8(12, (TCP_HEADER_BYTES / 4) << 4);
    v.setUint8(13, flags);
    v.setUint16(14, 65535); // window
    s.set(payload, TCP_HEADER_BYTES);
    return this.record(ipPacket(PROTO_TCP, from.addr, to.addr, s), keepBytes);
  }

  /** Returns the packet's frame number (from 1, as tshark counts). */
  private record(packet: Uint8Array, keepBytes = packet.length): number {
    if (!(keepBytes > 0 && keepBytes <= packet.length)) throw new Error(`keep ${keepBytes} of ${packet.length} bytes`);
    const r = new Uint8Array(16 + keepBytes);
    const v = new DataView(r.buffer);
    v.setUint32(0, this.count, true); // one second apart: the order is the file's
    v.setUint32(8, keepBytes, true);
    v.setUint32(12, packet.length, true);
    r.set(packet.subarray(0, keepBytes), 16);
    this.records.push(r);
    return ++this.count;
  }

  bytes(): Uint8Array {
    const head = new Uint8Array(24);
    const v = new DataView(head.buffer);
    v.setUint32(0, PCAP_MAGIC, true);
    v.setUint16(4, PCAP_VERSION[0], true);
    v.setUint16(6, PCAP_VERSION[1], true);
    v.setUint32(16, SNAPLEN, true);
    v.setUint32(20, LINKTYPE_IPV4, true);
    return Buffer.concat([head, ...this.records]);
  }
}
