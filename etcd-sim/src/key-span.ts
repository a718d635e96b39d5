/**
 * etcd keys are bytes. We keep them as latin1 strings: one char per byte, so
 * JavaScript's string order is exactly bytes.Compare and a key can be a Map
 * key without copying.
 */
export type Key = string;

export const keyOf = (b: Uint8Array): Key => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
export const bytesOf = (k: Key): Buffer => Buffer.from(k, 'latin1');

/**
 * What a (key, range_end) pair selects: one key, [start, end), or every key
 * from start on (end null). etcd reads an empty range_end as "just the key"
 * and the one-byte range_end "\0" as "from key" (mvcc's mkGteRange).
 */
export type Span = { readonly key: Key; readonly end?: undefined } | { readonly key: Key; readonly end: Key | null };

export function spanOf(key: Key, rangeEnd: Key): Span {
  if (rangeEnd === '') return { key };
  if (rangeEnd === '\0') return { key, end: null };
  return { key, end: rangeEnd };
}

export function inSpan(span: Span, k: Key): boolean {
  if (span.end === undefined) return k === span.key;
  return k >= span.key && (span.end === null || k < span.end);
}

/** The range_end that selects every key with this prefix (clientv3.GetPrefixRangeEnd). */
export function prefixEnd(prefix: Key): Key {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  // All 0xff (or empty): no upper bound, which etcd spells "\0".
  return '\0';
}

/**
 * The set of keys that have any history, in byte order. Inserts land in a
 * side list that is merged on the next scan, so a burst of creates costs one
 * sort instead of one array splice each.
 */
export class SortedKeys {
  private sorted: Key[] = [];
  private pending: Key[] = [];
  private readonly present = new Set<Key>();

  get size(): number {
    return this.present.size;
  }

  add(k: Key): void {
    if (this.present.has(k)) return;
    this.present.add(k);
    this.pending.push(k);
  }

  removeAll(gone: ReadonlySet<Key>): void {
    if (gone.size === 0) return;
    for (const k of gone) this.present.delete(k);
    this.sorted = this.all().filter((k) => !gone.has(k));
  }

  /** Keys inside a span, in order. */
  *scan(span: Span): Generator<Key> {
    if (span.end === undefined) {
      if (this.present.has(span.key)) yield span.key;
      return;
    }
    const keys = this.all();
    for (let i = lowerBound(keys, span.key); i < keys.length; i++) {
      const k = keys[i] as Key;
      if (span.end !== null && k >= span.end) return;
      yield k;
    }
  }

  all(): readonly Key[] {
    if (this.pending.length > 0) {
      const add = this.pending.sort(byBytes);
      this.pending = [];
      this.sorted = merge(this.sorted, add);
    }
    return this.sorted;
  }
}

const byBytes = (a: Key, b: Key): number => (a < b ? -1 : a > b ? 1 : 0);

function lowerBound(keys: readonly Key[], k: Key): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as Key) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function merge(a: readonly Key[], b: readonly Key[]): Key[] {
  if (a.length === 0) return [...b];
  if ((a[a.length - 1] as Key) < (b[0] as Key)) return a.concat(b);
  const out: Key[] = new Array<Key>(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) out[n++] = (a[i] as Key) < (b[j] as Key) ? (a[i++] as Key) : (b[j++] as Key);
  while (i < a.length) out[n++] = a[i++] as Key;
  while (j < b.length) out[n++] = b[j++] as Key;
  return out;
}
