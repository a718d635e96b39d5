import { seededRandom, randomSeed, type Rand } from '../../shared/src/index.js';

// The seeded generator is shared with the kubelet and scheduler; the helpers
// below are the runtime's own (ids, integers and normal jitter).
export { seededRandom, randomSeed };
export type { Rand };

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
