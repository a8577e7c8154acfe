// Peers a phone does not join and whose ROOT_ADs it ignores for a while:
//   - caught sending bytes that fail their check: AVOID_MS (10 minutes), so
//     the victim of a bad peer finishes from another one;
//   - a claimed root that did not answer our join, refused it without a
//     reason, or accepted it and delivered nothing (merge.ts, tree.ts): a
//     strength is only a claim. AVOID_SILENT_MS at the first strike, doubled
//     per strike up to AVOID_MS, so a forger's address costs each phone one
//     attempt per backoff.
// One table per phone, for all hierarchies, of MAX_AVOIDED entries. A new
// address takes the slot of an expired entry, else of the one that expires
// first: a bad-block peer (10 minutes) outlasts a stream of short silent
// strikes from rotating forged sources. Entries keep their strike count
// after they expire, until their slot is taken.

export const MAX_AVOIDED: i32 = 16;
/** Long enough to finish a whole load elsewhere (10 minutes). */
export const AVOID_MS: f64 = 600000;
/** A silent claimed root's first strike: two root advertisement intervals,
 *  so an honest root that was briefly unreachable is tried again soon. */
export const AVOID_SILENT_MS: f64 = 4000;
/** Doublings of AVOID_SILENT_MS: 4 s << 7 = 512 s, under AVOID_MS. */
export const MAX_SILENT_SHIFT: i32 = 7;

/** After a claimed root never answered, the phone stays skeptical this
 *  long (each such walk renews it): a ROOT_AD no longer stops its election,
 *  for any file (election.ts). Phone-wide, as the avoid list is: forgers
 *  with rotating sources would otherwise catch every new file's election
 *  once (a phone that relays its files a few at a time holds several). */
export const SKEPTICAL_MS: f64 = AVOID_MS;
let skepticalUntilMs: f64 = -Infinity;

export function turnSkeptical(nowMs: f64): void {
  skepticalUntilMs = nowMs + SKEPTICAL_MS;
}

export function isSkeptical(nowMs: f64): bool {
  return nowMs < skepticalUntilMs;
}

const addrs = new StaticArray<u32>(MAX_AVOIDED);
const untilMs = new StaticArray<f64>(MAX_AVOIDED);
const strikes = new StaticArray<i32>(MAX_AVOIDED);

/** The slot for `addr`: its own entry, else a free or expired one, else the
 *  one that expires first. */
function slotFor(addr: u32, nowMs: f64): i32 {
  for (let i = 0; i < MAX_AVOIDED; i++) if (unchecked(addrs[i]) == addr) return i;
  let slot = 0;
  for (let i = 0; i < MAX_AVOIDED; i++) {
    if (unchecked(addrs[i]) == 0 || unchecked(untilMs[i]) <= nowMs) return i;
    if (unchecked(untilMs[i]) < unchecked(untilMs[slot])) slot = i;
  }
  return slot;
}

function put(slot: i32, addr: u32, until: f64, strike: i32): void {
  if (unchecked(addrs[slot]) != addr) {
    unchecked((addrs[slot] = addr));
    unchecked((untilMs[slot] = until));
    unchecked((strikes[slot] = strike));
    return;
  }
  // An entry never gets shorter: a bad-block peer stays avoided its 10
  // minutes even if it is also silent later.
  if (until > unchecked(untilMs[slot])) unchecked((untilMs[slot] = until));
  unchecked((strikes[slot] = strikes[slot] + strike));
}

/** `addr` sent bytes that failed their check. */
export function avoid(addr: u32, nowMs: f64): void {
  if (addr == 0) return;
  const slot = slotFor(addr, nowMs);
  put(slot, addr, nowMs + AVOID_MS, 0);
  assert(isAvoided(addr, nowMs)); // a peer just avoided is avoided
}

/** `addr` claimed to be a root and did not prove it; returns how long it is
 *  avoided now. */
export function avoidSilent(addr: u32, nowMs: f64): f64 {
  if (addr == 0) return 0;
  const slot = slotFor(addr, nowMs);
  const known = unchecked(addrs[slot]) == addr ? unchecked(strikes[slot]) : 0;
  const shift = known < MAX_SILENT_SHIFT ? known : MAX_SILENT_SHIFT;
  const forMs = AVOID_SILENT_MS * <f64>(1 << shift);
  assert(forMs >= AVOID_SILENT_MS && forMs <= AVOID_MS); // a silent strike lasts within its bounds
  put(slot, addr, nowMs + forMs, 1);
  return forMs;
}

export function isAvoided(addr: u32, nowMs: f64): bool {
  for (let i = 0; i < MAX_AVOIDED; i++) if (unchecked(addrs[i]) == addr && unchecked(untilMs[i]) > nowMs) return true;
  return false;
}

/** Strikes recorded against `addr` (0 when it holds no entry). */
export function avoidStrikes(addr: u32): i32 {
  for (let i = 0; i < MAX_AVOIDED; i++) if (unchecked(addrs[i]) == addr) return unchecked(strikes[i]);
  return 0;
}

export function avoidReset(): void {
  skepticalUntilMs = -Infinity;
  for (let i = 0; i < MAX_AVOIDED; i++) {
    unchecked((addrs[i] = 0));
    unchecked((untilMs[i] = 0));
    unchecked((strikes[i] = 0));
  }
}
