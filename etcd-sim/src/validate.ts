import { EtcdError } from './errors.js';
import type { Key } from './key-span.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './requests.js';

/**
 * The request checks etcd's gRPC layer makes before a request reaches raft
 * (v3rpc/key.go), with the same errors in the same order.
 */

export function checkRangeRequest(r: RangeRequest): void {
  if (r.key === '') throw new EtcdError('emptyKey');
}

export function checkPutRequest(r: PutRequest): void {
  if (r.key === '') throw new EtcdError('emptyKey');
  if (r.ignoreValue && r.value.length !== 0) throw new EtcdError('valueProvided');
  if (r.ignoreLease && r.lease !== 0n) throw new EtcdError('leaseProvided');
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (r.key === '') throw new EtcdError('emptyKey');
}

/** checkTxnRequest plus the put/delete overlap check (checkIntervals) on both branches. */
export function checkTxn(r: TxnRequest, maxTxnOps: number): void {
  checkTxnRequest(r, maxTxnOps);
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  // The limit applies to each list on its own, not to their sum.
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw new EtcdError('tooManyOps');
  for (const c of r.compare) if (c.key === '') throw new EtcdError('emptyKey');
  for (const op of [...r.success, ...r.failure]) checkRequestOp(op, maxTxnOps - opc);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if ('range' in op) checkRangeRequest(op.range);
  else if ('put' in op) checkPutRequest(op.put);
  else if ('deleteRange' in op) checkDeleteRequest(op.deleteRange);
  else if ('txn' in op) checkTxnRequest(op.txn, maxTxnOps);
  // An empty RequestOp: etcd answers with this, odd as the text is.
  else throw new EtcdError('keyNotFound');
}

/**
 * [begin, end) in adt's StringAffineComparable order, where an empty end is
 * +infinity. A single key k is [k, k + "\0"). Note that etcd builds a delete's
 * interval from the raw range_end, so a "\0" (from-key) delete is the empty
 * interval [key, "\0") and overlaps no put: we keep that quirk.
 */
interface Interval {
  readonly begin: Key;
  readonly end: Key;
}

function containsPoint(iv: Interval, k: Key): boolean {
  return iv.begin <= k && (iv.end === '' || k < iv.end);
}

function deleteInterval(d: DeleteRangeRequest): Interval {
  return d.rangeEnd === '' ? { begin: d.key, end: d.key + '\0' } : { begin: d.key, end: d.rangeEnd };
}

/**
 * etcd refuses a transaction branch that writes the same key twice, or puts a
 * key it also deletes, looking through nested transactions. A key put in both
 * the then and the else branch of a nested txn is fine: only one runs.
 */
export function checkIntervals(reqs: readonly RequestOp[]): { puts: Set<Key>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const r of reqs) if ('deleteRange' in r) dels.push(deleteInterval(r.deleteRange));
  const hitsDelete = (k: Key): boolean => dels.some((iv) => containsPoint(iv, k));

  const puts = new Set<Key>();
  for (const r of reqs) {
    if (!('txn' in r)) continue;
    const then = checkIntervals(r.txn.success);
    const otherwise = checkIntervals(r.txn.failure);
    for (const k of then.puts) {
      if (puts.has(k) || hitsDelete(k)) throw new EtcdError('duplicateKey');
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw new EtcdError('duplicateKey');
      if (hitsDelete(k)) throw new EtcdError('duplicateKey');
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }

  for (const r of reqs) {
    if (!('put' in r)) continue;
    const k = r.put.key;
    if (puts.has(k) || hitsDelete(k)) throw new EtcdError('duplicateKey');
    puts.add(k);
  }
  return { puts, dels };
}
