// A free slot somebody offers: "phone `addr` has `free` child slots; a child
// of it would sit at depth `childDepth`". Joiners pick the shallowest, then
// the strongest (the phone most likely to stay and to be ahead in the file).
// With `free` == 0 the entry is a hint, not a slot: "ask `addr`, its subtree
// should have room near depth `childDepth`"; a full phone refusing a joiner
// hands out its children as hints, so a crowd of joiners spreads down the
// tree instead of queueing at the root.

@final
export class Candidate {
  addr: u32 = 0;
  childDepth: u32 = 0;
  free: u32 = 0;
  strength: u32 = 0;

  set(addr: u32, childDepth: u32, free: u32, strength: u32): void {
    this.addr = addr;
    this.childDepth = childDepth;
    this.free = free;
    this.strength = strength;
  }

  copyFrom(o: Candidate): void {
    this.addr = o.addr;
    this.childDepth = o.childDepth;
    this.free = o.free;
    this.strength = o.strength;
  }

  clear(): void {
    this.addr = 0;
    this.childDepth = 0;
    this.free = 0;
    this.strength = 0;
  }

  isNone(): bool {
    return this.addr == 0;
  }

  isSlot(): bool {
    return this.addr != 0 && this.free != 0;
  }

  /** Shallower first, a real slot before a hint, then stronger, then higher
   *  address: a total order. */
  betterThan(o: Candidate): bool {
    if (this.isNone()) return false;
    if (o.isNone()) return true;
    if (this.childDepth != o.childDepth) return this.childDepth < o.childDepth;
    if ((this.free == 0) != (o.free == 0)) return this.free != 0;
    if (this.strength != o.strength) return this.strength > o.strength;
    return this.addr > o.addr;
  }
}

export function newCandidates(n: i32): StaticArray<Candidate> {
  const list = new StaticArray<Candidate>(n);
  for (let i = 0; i < n; i++) list[i] = new Candidate();
  return list;
}

/** Inserts `c` into the sorted list of `count` entries (capacity list.length),
 *  replacing an entry with the same address; returns the new count. The worst
 *  entry falls off a full list. */
export function insertCandidate(list: StaticArray<Candidate>, count: i32, c: Candidate): i32 {
  if (c.isNone()) return count;
  // Same phone already listed: keep the better of the two views of it.
  for (let i = 0; i < count; i++) {
    const e = unchecked(list[i]);
    if (e.addr == c.addr) {
      if (!c.betterThan(e)) return count;
      // remove it, then insert below
      for (let j = i; j < count - 1; j++) unchecked(list[j]).copyFrom(unchecked(list[j + 1]));
      count--;
      break;
    }
  }
  const cap = list.length;
  let at = count;
  while (at > 0 && c.betterThan(unchecked(list[at - 1]))) at--;
  if (at >= cap) return count;
  const last = count < cap ? count : cap - 1;
  for (let j = last; j > at; j--) unchecked(list[j]).copyFrom(unchecked(list[j - 1]));
  unchecked(list[at]).copyFrom(c);
  return count < cap ? count + 1 : cap;
}
