import { randomBytes } from 'node:crypto';

/** A source of uniform numbers in [0, 1). Pure functions take one so tests can fix the sequence. */
export type Rand = () => number;

/**
 * sfc32 seeded through splitmix32: small, fast and good enough for jitter and
 * ids. Math.random cannot be seeded, and a run with `--seed` must replay the
 * same ids and timings.
 */
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

/** `n` lowercase hex digits: containerd's ids are 64 of them (util.GenerateID). */
export function randomHex(rand: Rand, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += Math.floor(rand() * 16).toString(16);
  return out;
}

/** A standard normal deviate (Box–Muller), for log-normal jitter. */
export function standardNormal(rand: Rand): number {
  const u = 1 - rand(); // (0, 1]: log(0) would be -Infinity
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** An integer in [min, max]. */
export function randomInt(rand: Rand, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}
