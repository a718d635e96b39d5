import type { LookupFailure } from './errors.js';
import { randomHex, type Rand } from './random.js';

/** util.GenerateID: 32 random bytes as 64 lowercase hex digits, for sandboxes and containers alike. */
export function newId(rand: Rand): string {
  return randomHex(rand, 64);
}

/**
 * containerd's truncindex: any unique prefix of an id finds it, the way
 * `crictl inspect 3f2a` works. An empty string and an ambiguous prefix are
 * errors of their own, not "not found".
 */
export function resolvePrefix(ids: Iterable<string>, prefix: string): { id: string } | { failure: LookupFailure } {
  if (prefix === '') return { failure: "prefix can't be empty" };
  let found: string | undefined;
  for (const id of ids) {
    if (!id.startsWith(prefix)) continue;
    if (found !== undefined) return { failure: `Multiple IDs found with provided prefix: ${prefix}` };
    found = id;
  }
  return found === undefined ? { failure: 'not found' } : { id: found };
}

/** A pid for a new task: Linux hands them out increasing, with other processes taking some in between. */
export function nextPid(last: number, rand: Rand): number {
  const next = last + 1 + Math.floor(rand() * 40);
  return next > 4_194_304 ? 300 + Math.floor(rand() * 100) : next;
}
