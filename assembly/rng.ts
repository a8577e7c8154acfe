// PCG32 (O'Neill, pcg-random.org, "pcg32_random_r"): tiny, seeded by the
// host, so every run of the core is reproducible. smoltcp seeds the same way.

let state: u64 = 0;
const INC: u64 = 1442695040888963407; // the reference stream constant
const MUL: u64 = 6364136223846793005;

export function rngSeed(seed: u64): void {
  state = 0;
  rngNext();
  state += seed;
  rngNext();
}

export function rngNext(): u32 {
  const old = state;
  state = old * MUL + INC;
  const xorshifted = <u32>(((old >> 18) ^ old) >> 27);
  const rot = <u32>(old >> 59);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

/** Uniform integer in [0, bound). Bias is below 2^-16 for the small bounds
 *  the core uses (jitter in ms), which is fine for timers. */
export function rngBelow(bound: u32): u32 {
  if (bound == 0) return 0;
  return <u32>((<u64>rngNext() * <u64>bound) >> 32);
}
