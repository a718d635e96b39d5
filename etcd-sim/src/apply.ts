import { EtcdError } from './errors.js';
import { spanOf, type Span } from './key-span.js';
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResult,
  type PutRequest,
  type PutResult,
  type RangeRequest,
  type RangeResult,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResult,
} from './requests.js';
import type { KeyValue, MvccStore, WriteTxn } from './store.js';

/**
 * etcd's applier (etcdserver/apply.go) over our MVCC store: what Range, Put,
 * DeleteRange and Txn do once a request is valid. `current` is the newest
 * revision a read may see.
 */

export function applyRange(store: MvccStore, current: number, r: RangeRequest): RangeResult {
  store.checkReadRev(r.revision, current);
  const rev = r.revision > 0 ? r.revision : current;
  const span = spanOf(r.key, r.rangeEnd);
  if (r.countOnly) return { revision: current, kvs: [], more: false, count: store.range(span, rev).count, keysOnly: r.keysOnly };

  const filtered = r.minModRevision || r.maxModRevision || r.minCreateRevision || r.maxCreateRevision;
  // Sorting and filtering need every match; otherwise one extra tells whether there is more.
  const fetch = r.sortOrder !== SortOrder.NONE || filtered ? 0 : r.limit > 0 ? r.limit + 1 : 0;
  const found = store.range(span, rev, fetch);
  let kvs = found.kvs;
  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        !(r.maxModRevision && kv.modRevision > r.maxModRevision) &&
        !(r.minModRevision && kv.modRevision < r.minModRevision) &&
        !(r.maxCreateRevision && kv.createRevision > r.maxCreateRevision) &&
        !(r.minCreateRevision && kv.createRevision < r.minCreateRevision),
    );
  }
  kvs = sortKvs(kvs, r.sortOrder, r.sortTarget);
  let more = false;
  if (r.limit > 0 && kvs.length > r.limit) {
    kvs = kvs.slice(0, r.limit);
    more = true;
  }
  // count is every match at that revision, before filters and limit (etcd's rr.Count).
  return { revision: current, kvs, more, count: found.count, keysOnly: r.keysOnly };
}

const SORT_KEYS: Record<number, (a: KeyValue, b: KeyValue) => number> = {
  [SortTarget.KEY]: (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  [SortTarget.VERSION]: (a, b) => a.version - b.version,
  [SortTarget.CREATE]: (a, b) => a.createRevision - b.createRevision,
  [SortTarget.MOD]: (a, b) => a.modRevision - b.modRevision,
  [SortTarget.VALUE]: (a, b) => Buffer.compare(a.value, b.value),
};

export function sortKvs(kvs: KeyValue[], order: number, target: number): KeyValue[] {
  // The store returns key order already, so etcd only defaults to ascending for other targets.
  const effective = target !== SortTarget.KEY && order === SortOrder.NONE ? SortOrder.ASCEND : order;
  const cmp = SORT_KEYS[target];
  // An unknown order or target leaves the key order (etcd would not sort either).
  if (!cmp || (effective !== SortOrder.ASCEND && effective !== SortOrder.DESCEND)) return kvs;
  const sign = effective === SortOrder.ASCEND ? 1 : -1;
  return [...kvs].sort((a, b) => sign * cmp(a, b));
}

export interface LeaseLookup {
  has(id: bigint): boolean;
}

/**
 * A standalone Put checks its lease and, with ignore_*, the key first. Inside
 * a Txn those checks ran before anything was written ('checked'), and nothing
 * may throw half-way through a write transaction.
 */
export function applyPut(txn: WriteTxn, r: PutRequest, leases: LeaseLookup | 'checked'): PutResult {
  const checked = leases === 'checked';
  if (!checked && r.lease !== 0n && !leases.has(r.lease)) throw new EtcdError('leaseNotFound');
  const prev = r.ignoreValue || r.ignoreLease || r.prevKv ? txn.get(r.key) : undefined;
  if (!checked && (r.ignoreValue || r.ignoreLease) && !prev) throw new EtcdError('keyNotFound');
  txn.put(r.key, r.ignoreValue && prev ? prev.value : r.value, r.ignoreLease && prev ? prev.lease : r.lease);
  return { revision: txn.beginRev + 1, prevKv: r.prevKv ? prev : undefined };
}

export function applyDeleteRange(txn: WriteTxn, r: DeleteRangeRequest): DeleteRangeResult {
  const prev = txn.deleteRange(spanOf(r.key, r.rangeEnd));
  return { revision: txn.rev, deleted: prev.length, prevKvs: r.prevKv ? prev : [] };
}

export function isReadOnly(t: TxnRequest): boolean {
  const ro = (op: RequestOp): boolean => ('txn' in op ? isReadOnly(op.txn) : !('put' in op || 'deleteRange' in op));
  return t.success.every(ro) && t.failure.every(ro);
}

type Reader = (span: Span) => readonly KeyValue[];

function compareOne(read: Reader, c: Compare): boolean {
  const kvs = read(spanOf(c.key, c.rangeEnd));
  // A value compare on a missing key always fails: "" and missing look alike on the wire.
  if (kvs.length === 0) return c.target === CompareTarget.VALUE ? false : compareKv(c, undefined);
  return kvs.every((kv) => compareKv(c, kv));
}

function compareKv(c: Compare, kv: KeyValue | undefined): boolean {
  let r: number;
  switch (c.target) {
    case CompareTarget.VALUE:
      r = Buffer.compare(kv?.value ?? Buffer.alloc(0), c.operand instanceof Buffer ? c.operand : Buffer.alloc(0));
      break;
    case CompareTarget.LEASE: {
      const a = kv?.lease ?? 0n;
      const b = typeof c.operand === 'bigint' ? c.operand : 0n;
      r = a < b ? -1 : a > b ? 1 : 0;
      break;
    }
    case CompareTarget.VERSION:
    case CompareTarget.CREATE:
    case CompareTarget.MOD: {
      const a = !kv ? 0 : c.target === CompareTarget.VERSION ? kv.version : c.target === CompareTarget.CREATE ? kv.createRevision : kv.modRevision;
      const b = typeof c.operand === 'number' ? c.operand : 0;
      r = Math.sign(a - b);
      break;
    }
    default:
      r = 0;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return r === 0;
    case CompareResult.NOT_EQUAL:
      return r !== 0;
    case CompareResult.GREATER:
      return r > 0;
    case CompareResult.LESS:
      return r < 0;
    default:
      return true;
  }
}

/**
 * Which branch every (nested) txn takes, decided up front against the state
 * before the transaction, as etcd's compareToPath does: a nested txn's
 * compares do not see the outer txn's writes.
 */
function comparePath(read: Reader, t: TxnRequest, path: boolean[] = []): boolean[] {
  const ok = t.compare.every((c) => compareOne(read, c));
  path.push(ok);
  for (const op of ok ? t.success : t.failure) if ('txn' in op) comparePath(read, op.txn, path);
  return path;
}

/** The ops of every branch the path takes, nested ones included. */
function chosenOps(t: TxnRequest, path: readonly boolean[], at = { i: 0 }): RequestOp[] {
  const ops: RequestOp[] = [];
  for (const op of path[at.i++] ? t.success : t.failure) {
    if ('txn' in op) ops.push(...chosenOps(op.txn, path, at));
    else ops.push(op);
  }
  return ops;
}

export interface TxnOutcome {
  readonly result: TxnResult;
  /** The write transaction, still to be ended by the caller; undefined for a read-only txn. */
  readonly write: WriteTxn | undefined;
}

/**
 * Runs a Txn. A read-only one reads at `current`; one with writes reads and
 * writes the newest state in a single write transaction, so all its writes
 * share one revision and later ops see earlier ones.
 */
export function applyTxn(store: MvccStore, current: number, t: TxnRequest, leases: LeaseLookup): TxnOutcome {
  const write = isReadOnly(t) ? undefined : store.write();
  const readRev = write ? write.beginRev : current;
  const path = comparePath((span) => store.range(span, readRev).kvs, t);
  const ops = chosenOps(t, path);
  if (write) {
    for (const op of ops) {
      if (!('put' in op)) continue;
      const p = op.put;
      if ((p.ignoreValue || p.ignoreLease) && !store.get(p.key, readRev)) throw new EtcdError('keyNotFound');
      if (p.lease !== 0n && !leases.has(p.lease)) throw new EtcdError('leaseNotFound');
    }
  }
  for (const op of ops) if ('range' in op) store.checkReadRev(op.range.revision, readRev);

  const view = { rev: () => (write ? write.rev : current) };
  const run = (tr: TxnRequest, at: { i: number }, nested: boolean): TxnResult => {
    const succeeded = path[at.i++] as boolean;
    const responses = (succeeded ? tr.success : tr.failure).map((op): ResponseOp => {
      if ('range' in op) return { range: applyRange(store, view.rev(), op.range) };
      if ('put' in op && write) return { put: applyPut(write, op.put, 'checked') };
      if ('deleteRange' in op && write) return { deleteRange: applyDeleteRange(write, op.deleteRange) };
      if ('txn' in op) return { txn: run(op.txn, at, true) };
      return { empty: true };
    });
    // etcd never fills a nested txn's header, so its revision reads 0.
    return { revision: nested ? 0 : view.rev(), succeeded, responses };
  };
  return { result: run(t, { i: 0 }, false), write };
}
