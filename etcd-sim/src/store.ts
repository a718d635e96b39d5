import { EtcdError } from './errors.js';
import { SortedKeys, type Key, type Span } from './key-span.js';

/** mvccpb.KeyValue. A deletion is recorded as a tombstone: create_revision 0. */
export interface KeyValue {
  readonly key: Key;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly value: Buffer;
  readonly lease: bigint;
}

export interface Event {
  readonly type: 'put' | 'delete';
  /** For a delete: only the key and the deleting revision, as etcd sends it. */
  readonly kv: KeyValue;
}

/** Everything one revision changed, in the order the transaction made the changes. */
export interface RevisionEvents {
  readonly rev: number;
  readonly events: readonly Event[];
}

/** Lease bookkeeping the store drives when a key's lease changes (the lessor implements it). */
export interface LeaseHooks {
  attach(lease: bigint, key: Key): void;
  detach(lease: bigint, key: Key): void;
}

const EMPTY = Buffer.alloc(0);
const isTombstone = (kv: KeyValue): boolean => kv.createRevision === 0;

/** A write as the WAL records it, enough to replay the transaction exactly. */
export type WriteOp = { readonly put: Key; readonly value: Buffer; readonly lease: bigint } | { readonly del: Key };

/**
 * The multi-version key-value store of one etcd member (mvcc.store): a global
 * revision, every key's history of versions, and the per-revision event log
 * watchers replay. It is pure in-memory logic; durability is the WAL's job.
 */
export class MvccStore {
  /** The revision of the last committed write; etcd starts an empty store at 1. */
  rev = 1;
  /** The last compaction; -1 before the first, like mvcc's compactMainRev. */
  compactRev = -1;
  private readonly history = new Map<Key, KeyValue[]>();
  private readonly keys = new SortedKeys();
  private log: RevisionEvents[] = [];
  /** Approximate bytes of all stored versions (Status' dbSizeInUse). */
  bytes = 0;

  constructor(private readonly leases: LeaseHooks = { attach() {}, detach() {} }) {}

  get keyCount(): number {
    return this.keys.size;
  }

  /** etcd's order of checks for a read at `rev` when the newest readable revision is `current`. */
  checkReadRev(rev: number, current: number): void {
    if (rev > current) throw new EtcdError('futureRev');
    if (rev > 0 && rev < this.compactRev) throw new EtcdError('compacted');
  }

  /** The key's version visible at `rev`, if it existed then. */
  get(key: Key, rev: number): KeyValue | undefined {
    const h = this.history.get(key);
    if (!h) return undefined;
    const kv = h[lastAtOrBefore(h, rev)];
    return kv && !isTombstone(kv) ? kv : undefined;
  }

  /** Live keys of a span at `rev`, in key order: at most `limit` of them (0 = all), plus the total. */
  range(span: Span, rev: number, limit = 0): { kvs: KeyValue[]; count: number } {
    const kvs: KeyValue[] = [];
    let count = 0;
    for (const k of this.keys.scan(span)) {
      const kv = this.get(k, rev);
      if (!kv) continue;
      count++;
      if (limit <= 0 || kvs.length < limit) kvs.push(kv);
    }
    return { kvs, count };
  }

  /** Starts a write transaction; it must be committed before anything else touches the store. */
  write(): WriteTxn {
    return new WriteTxn(this, this.rev);
  }

  /** Drops history older than `rev`; reads at `rev` and later still see the same data. */
  compact(rev: number): void {
    if (rev <= this.compactRev) throw new EtcdError('compacted');
    if (rev > this.rev) throw new EtcdError('futureRev');
    this.compactRev = rev;
    const gone = new Set<Key>();
    for (const [key, h] of this.history) {
      const i = lastAtOrBefore(h, rev);
      if (i < 0) continue;
      const keepFrom = isTombstone(h[i] as KeyValue) ? i + 1 : i;
      for (const kv of h.splice(0, keepFrom)) this.bytes -= sizeOf(kv);
      if (h.length === 0) {
        this.history.delete(key);
        gone.add(key);
      }
    }
    this.keys.removeAll(gone);
    const first = this.log.findIndex((r) => r.rev >= rev);
    this.log = first < 0 ? [] : this.log.slice(first);
  }

  /** Revisions in [from, to] with their events, oldest first; `from` must not be compacted. */
  eventsBetween(from: number, to: number): RevisionEvents[] {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as RevisionEvents).rev < from) lo = mid + 1;
      else hi = mid;
    }
    const out: RevisionEvents[] = [];
    for (let i = lo; i < this.log.length && (this.log[i] as RevisionEvents).rev <= to; i++) out.push(this.log[i] as RevisionEvents);
    return out;
  }

  /** Every stored version (tombstones included) in revision order, for a snapshot. */
  *entries(): Generator<KeyValue> {
    const logged = this.log.length > 0 ? (this.log[0] as RevisionEvents).rev : Infinity;
    // Versions older than the log survived a compaction: one per key, no order needed among them.
    for (const h of this.history.values()) for (const kv of h) if (kv.modRevision < logged) yield kv;
    for (const r of this.log) for (const e of r.events) yield e.kv;
  }

  /** Rebuilds a store from `entries()` output (revision order). */
  restore(entries: Iterable<KeyValue>, rev: number, compactRev: number): void {
    let current: { rev: number; events: Event[] } | undefined;
    for (const kv of entries) {
      this.append(kv);
      if (kv.modRevision < compactRev) continue;
      if (!current || current.rev !== kv.modRevision) {
        current = { rev: kv.modRevision, events: [] };
        this.log.push(current);
      }
      current.events.push({ type: isTombstone(kv) ? 'delete' : 'put', kv });
    }
    for (const [key, h] of this.history) {
      const last = h[h.length - 1] as KeyValue;
      if (!isTombstone(last) && last.lease !== 0n) this.leases.attach(last.lease, key);
    }
    this.rev = rev;
    this.compactRev = compactRev;
  }

  /** @internal Used by WriteTxn. */
  append(kv: KeyValue): void {
    let h = this.history.get(kv.key);
    if (!h) {
      h = [];
      this.history.set(kv.key, h);
      this.keys.add(kv.key);
    }
    h.push(kv);
    this.bytes += sizeOf(kv);
  }

  /** @internal Used by WriteTxn. */
  commit(events: Event[]): void {
    this.rev++;
    this.log.push({ rev: this.rev, events });
  }

  /** @internal */
  get hooks(): LeaseHooks {
    return this.leases;
  }
}

/** A version's share of the database: key, value and bbolt's per-entry revision key and metadata. */
const sizeOf = (kv: KeyValue): number => kv.key.length + kv.value.length + 48;

/** Index of the last version with mod_revision <= rev, or -1. */
function lastAtOrBefore(h: readonly KeyValue[], rev: number): number {
  let lo = 0;
  let hi = h.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((h[mid] as KeyValue).modRevision <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * One write transaction (mvcc's storeTxnWrite): every change gets the next
 * revision, and reads inside the transaction see its own earlier writes.
 */
export class WriteTxn {
  readonly events: Event[] = [];
  readonly ops: WriteOp[] = [];

  constructor(
    private readonly store: MvccStore,
    readonly beginRev: number,
  ) {}

  /** The revision reads inside the transaction see. */
  get rev(): number {
    return this.events.length > 0 ? this.beginRev + 1 : this.beginRev;
  }

  get(key: Key): KeyValue | undefined {
    return this.store.get(key, this.rev);
  }

  range(span: Span, limit = 0): { kvs: KeyValue[]; count: number } {
    return this.store.range(span, this.rev, limit);
  }

  /** Writes a key; returns the version it replaced. */
  put(key: Key, value: Buffer, lease: bigint): KeyValue | undefined {
    const rev = this.beginRev + 1;
    const prev = this.get(key);
    const kv: KeyValue = {
      key,
      createRevision: prev ? prev.createRevision : rev,
      modRevision: rev,
      version: prev ? prev.version + 1 : 1,
      value,
      lease,
    };
    this.store.append(kv);
    this.events.push({ type: 'put', kv });
    this.ops.push({ put: key, value, lease });
    if (prev && prev.lease !== 0n) this.store.hooks.detach(prev.lease, key);
    if (lease !== 0n) this.store.hooks.attach(lease, key);
    return prev;
  }

  /** Deletes every live key of the span; returns what was deleted. */
  deleteRange(span: Span): KeyValue[] {
    const { kvs } = this.range(span);
    const rev = this.beginRev + 1;
    for (const prev of kvs) {
      const tomb: KeyValue = { key: prev.key, createRevision: 0, modRevision: rev, version: 0, value: EMPTY, lease: 0n };
      this.store.append(tomb);
      this.events.push({ type: 'delete', kv: tomb });
      this.ops.push({ del: prev.key });
      if (prev.lease !== 0n) this.store.hooks.detach(prev.lease, prev.key);
    }
    return kvs;
  }

  /** Applies a recorded op (WAL replay). */
  replay(op: WriteOp): void {
    if ('put' in op) this.put(op.put, op.value, op.lease);
    else this.deleteRange({ key: op.del });
  }

  /** Makes the changes the store's new revision; a transaction that changed nothing leaves it alone. */
  end(): readonly Event[] {
    if (this.events.length > 0) this.store.commit(this.events);
    return this.events;
  }
}
