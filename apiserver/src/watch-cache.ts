import type { KubeObject } from '../../shared/src/index.js';

/**
 * One resource's watch cache (storage/cacher/watch_cache.go): the current
 * objects by key, a bounded history of events for watchers resuming from a
 * resourceVersion, and the revision up to which it is current. It knows
 * nothing of etcd or HTTP: the cacher feeds it, watchers subscribe to it.
 * Cached objects are shared and must never be mutated.
 */
export interface CachedObject {
  readonly key: string;
  readonly obj: KubeObject;
  readonly rev: number;
}

export interface CacheEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly key: string;
  /** For DELETED: the last state, with the deletion's resourceVersion. */
  readonly obj: KubeObject;
  readonly prev: KubeObject | undefined;
  readonly rev: number;
}

export type CacheListener = (e: CacheEvent) => void;

export class TooOldError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

/** Like upstream's default sizing: enough history for watchers that fall a little behind. */
const DEFAULT_CAPACITY = 10_000;

export function withResourceVersion(obj: KubeObject, rev: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rev) } };
}

export class WatchCache {
  private readonly store = new Map<string, CachedObject>();
  private history: CacheEvent[] = [];
  /** Events with rev > oldest are all in history. */
  private oldest = 0;
  private current = 0;
  private readonly listeners = new Set<CacheListener>();
  private waiters: { rev: number; resolve: (ok: boolean) => void }[] = [];

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** The revision the cache is current up to. */
  get rv(): number {
    return this.current;
  }

  get size(): number {
    return this.store.size;
  }

  /** Replaces everything from a fresh list at `rev` (start, or after a compacted watch). */
  replace(items: readonly CachedObject[], rev: number): void {
    this.store.clear();
    for (const i of items) this.store.set(i.key, i);
    this.history = [];
    this.oldest = rev;
    this.advance(rev);
  }

  /** Applies one etcd event (already decoded) at its revision and tells every listener. */
  apply(type: 'PUT' | 'DELETE', key: string, obj: KubeObject | undefined, rev: number): void {
    const prev = this.store.get(key);
    let ev: CacheEvent;
    if (type === 'PUT' && obj) {
      const o = withResourceVersion(obj, rev);
      this.store.set(key, { key, obj: o, rev });
      ev = { type: prev ? 'MODIFIED' : 'ADDED', key, obj: o, prev: prev?.obj, rev };
    } else {
      if (!prev) {
        this.advance(rev);
        return;
      }
      this.store.delete(key);
      ev = { type: 'DELETED', key, obj: withResourceVersion(prev.obj, rev), prev: prev.obj, rev };
    }
    this.history.push(ev);
    if (this.history.length > this.capacity) {
      const dropped = this.history.splice(0, this.history.length - this.capacity);
      this.oldest = (dropped[dropped.length - 1] as CacheEvent).rev;
    }
    this.advance(rev);
    for (const l of this.listeners) l(ev);
  }

  /** A progress notification: nothing else happened up to `rev`. */
  advance(rev: number): void {
    if (rev <= this.current) return;
    this.current = rev;
    const ready = this.waiters.filter((w) => w.rev <= rev);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.rev > rev);
    for (const w of ready) w.resolve(true);
  }

  /** Resolves true once the cache is at least at `rev`, false after `timeoutMs`. */
  waitFresh(rev: number, timeoutMs: number): Promise<boolean> {
    if (rev <= this.current) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { rev, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        if (!this.waiters.includes(w)) return;
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(false);
      }, timeoutMs).unref();
    });
  }

  get(key: string): CachedObject | undefined {
    return this.store.get(key);
  }

  /** Objects whose key starts with `prefix` (and is ≥ `from`), in key order. */
  list(prefix: string, from = ''): CachedObject[] {
    const out: CachedObject[] = [];
    for (const [k, v] of this.store) if (k.startsWith(prefix) && k >= from) out.push(v);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Events after `rev`, or TooOldError when history no longer reaches back that far. */
  eventsAfter(rev: number): CacheEvent[] {
    if (rev < this.oldest) throw new TooOldError(rev, this.oldest);
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.history[mid] as CacheEvent).rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  subscribe(l: CacheListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
