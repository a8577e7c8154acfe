// Peers caught sending bytes that fail their check. A phone avoids them as
// parents (and their root advertisements) for AVOID_MS, so the victim of a
// bad peer finishes from another one. Bounded: the oldest entry gives way.

export const MAX_AVOIDED: i32 = 8;
/** Long enough to finish a whole load elsewhere (10 minutes). */
export const AVOID_MS: f64 = 600000;

const addrs = new StaticArray<u32>(MAX_AVOIDED);
const untilMs = new StaticArray<f64>(MAX_AVOIDED);

export function avoid(addr: u32, nowMs: f64): void {
  if (addr == 0) return;
  let slot = 0;
  for (let i = 0; i < MAX_AVOIDED; i++) {
    if (unchecked(addrs[i]) == addr || unchecked(untilMs[i]) <= nowMs) {
      slot = i;
      break;
    }
    if (unchecked(untilMs[i]) < unchecked(untilMs[slot])) slot = i;
  }
  unchecked((addrs[slot] = addr));
  unchecked((untilMs[slot] = nowMs + AVOID_MS));
}

export function isAvoided(addr: u32, nowMs: f64): bool {
  for (let i = 0; i < MAX_AVOIDED; i++) if (unchecked(addrs[i]) == addr && unchecked(untilMs[i]) > nowMs) return true;
  return false;
}

export function avoidReset(): void {
  for (let i = 0; i < MAX_AVOIDED; i++) {
    unchecked((addrs[i] = 0));
    unchecked((untilMs[i] = 0));
  }
}
