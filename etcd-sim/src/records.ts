import type { WriteOp } from './store.js';

/**
 * What one WAL record holds: one applied raft entry's effect. Records carry
 * results, not requests (the ops a Txn actually made, not its compares), so
 * replay never re-decides anything. Each one counts as one raft index.
 */
export type WalRecord =
  /** A write request (Put, DeleteRange, Txn); `rev` is the store revision after it. */
  | { readonly type: 'txn'; readonly rev: number; readonly ops: readonly WriteOp[] }
  | { readonly type: 'lease-grant'; readonly id: bigint; readonly ttl: number }
  /** Revoke or expiry: the lease's keys are deleted in one revision. */
  | { readonly type: 'lease-revoke'; readonly id: bigint; readonly rev: number; readonly ops: readonly WriteOp[] }
  | { readonly type: 'compact'; readonly rev: number }
  /** A (re)start: a new raft term, its leader's empty entry and the member-attributes publish. */
  | { readonly type: 'start'; readonly term: number };

/** Raft entries a record stands for (a start is two: the empty entry and the publish). */
export const raftEntries = (r: WalRecord): number => (r.type === 'start' ? 2 : 1);

type JsonOp = [0, string, string, string] | [1, string];

const opToJson = (op: WriteOp): JsonOp =>
  'put' in op ? [0, b64(op.put), op.value.toString('base64'), op.lease.toString()] : [1, b64(op.del)];

function opFromJson(j: JsonOp): WriteOp {
  if (j[0] === 0) return { put: unb64(j[1]), value: Buffer.from(j[2], 'base64'), lease: BigInt(j[3]) };
  return { del: unb64(j[1]) };
}

const b64 = (k: string): string => Buffer.from(k, 'latin1').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('latin1');

export function encodeRecord(r: WalRecord): Buffer {
  let j: unknown;
  switch (r.type) {
    case 'txn':
      j = { t: 'txn', rev: r.rev, ops: r.ops.map(opToJson) };
      break;
    case 'lease-grant':
      j = { t: r.type, id: r.id.toString(), ttl: r.ttl };
      break;
    case 'lease-revoke':
      j = { t: r.type, id: r.id.toString(), rev: r.rev, ops: r.ops.map(opToJson) };
      break;
    case 'compact':
      j = { t: r.type, rev: r.rev };
      break;
    case 'start':
      j = { t: r.type, term: r.term };
      break;
  }
  return Buffer.from(JSON.stringify(j));
}

export function decodeRecord(buf: Buffer): WalRecord {
  const j = JSON.parse(buf.toString()) as Record<string, unknown>;
  const num = (k: string): number => {
    const v = j[k];
    if (typeof v !== 'number') throw new Error(`wal: record field ${k} is not a number`);
    return v;
  };
  const ops = (): WriteOp[] => (j['ops'] as JsonOp[]).map(opFromJson);
  switch (j['t']) {
    case 'txn':
      return { type: 'txn', rev: num('rev'), ops: ops() };
    case 'lease-grant':
      return { type: 'lease-grant', id: BigInt(j['id'] as string), ttl: num('ttl') };
    case 'lease-revoke':
      return { type: 'lease-revoke', id: BigInt(j['id'] as string), rev: num('rev'), ops: ops() };
    case 'compact':
      return { type: 'compact', rev: num('rev') };
    case 'start':
      return { type: 'start', term: num('term') };
    default:
      throw new Error(`wal: unknown record type ${JSON.stringify(j['t'])}`);
  }
}
