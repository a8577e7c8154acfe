// IPv4 addresses as the core sees them (u32) and as sockets see them.

export function ipToU32(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new Error(`not an IPv4 address: ${ip}`);
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function u32ToIp(v: number): string {
  v >>>= 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** "host:port" with a default port. */
export function parseHostPort(s: string, defaultPort: number): { host: string; port: number } {
  const m = /^([^:]+)(?::(\d+))?$/.exec(s.trim());
  if (m === null) throw new Error(`expected host[:port], got '${s}'`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`port out of range in '${s}'`);
  return { host: m[1], port };
}
