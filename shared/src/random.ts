import { randomBytes } from 'node:crypto';

/**
 * A seedable source of uniform numbers in [0, 1) for the scheduler's
 * tie-breaks and the kubelet's jitter (the runtime keeps its own copy), so a
 * run started with `--seed` replays the same choices. sfc32 seeded through
 * splitmix32.
 */
export type Rand = () => number;

export function seededRandom(seed: number): Rand {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** A fresh 32-bit seed from the OS, for runs without `--seed`. */
export function randomSeed(): number {
  return randomBytes(4).readUInt32BE(0);
}
