import { keyOf, bytesOf } from './key-span.js';
import { CompareTarget } from './requests.js';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResult,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResult,
} from './requests.js';
import type { Event, KeyValue } from './store.js';

/**
 * Protobuf objects (as @grpc/proto-loader decodes them with the shared
 * options: bytes as Buffer, int64 as decimal strings, camelCase names, oneof
 * member names in a virtual field) to store terms and back. Decoding is
 * lenient: a missing field is its proto3 default, as in Go.
 */
export type Pb = Record<string, unknown>;

const EMPTY = Buffer.alloc(0);
const buf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : EMPTY);
/** A bytes field as a key; anything but bytes reads as empty, as a missing field would. */
export const key = (v: unknown): string => keyOf(buf(v));
export const int = (v: unknown): number => (typeof v === 'string' || typeof v === 'number' ? Number(v) || 0 : 0);
export const int64 = (v: unknown): bigint => {
  try {
    return typeof v === 'string' || typeof v === 'number' ? BigInt.asIntN(64, BigInt(v)) : 0n;
  } catch {
    return 0n;
  }
};
const bool = (v: unknown): boolean => v === true;
const obj = (v: unknown): Pb => (v && typeof v === 'object' ? (v as Pb) : {});
const list = (v: unknown): Pb[] => (Array.isArray(v) ? v.map(obj) : []);

export function rangeRequest(m: Pb): RangeRequest {
  return {
    key: key(m['key']),
    rangeEnd: key(m['rangeEnd']),
    limit: int(m['limit']),
    revision: int(m['revision']),
    sortOrder: int(m['sortOrder']),
    sortTarget: int(m['sortTarget']),
    keysOnly: bool(m['keysOnly']),
    countOnly: bool(m['countOnly']),
    minModRevision: int(m['minModRevision']),
    maxModRevision: int(m['maxModRevision']),
    minCreateRevision: int(m['minCreateRevision']),
    maxCreateRevision: int(m['maxCreateRevision']),
  };
}

export function putRequest(m: Pb): PutRequest {
  return {
    key: key(m['key']),
    value: buf(m['value']),
    lease: int64(m['lease']),
    prevKv: bool(m['prevKv']),
    ignoreValue: bool(m['ignoreValue']),
    ignoreLease: bool(m['ignoreLease']),
  };
}

export function deleteRangeRequest(m: Pb): DeleteRangeRequest {
  return { key: key(m['key']), rangeEnd: key(m['rangeEnd']), prevKv: bool(m['prevKv']) };
}

/** The target_union member each target reads; another member set is ignored, as in etcd. */
const OPERAND_FIELD: Record<number, string> = {
  [CompareTarget.VERSION]: 'version',
  [CompareTarget.CREATE]: 'createRevision',
  [CompareTarget.MOD]: 'modRevision',
  [CompareTarget.VALUE]: 'value',
  [CompareTarget.LEASE]: 'lease',
};

function compare(m: Pb): Compare {
  const target = int(m['target']);
  const field = OPERAND_FIELD[target];
  const set = field !== undefined && m[field] !== undefined && m[field] !== null && (m['targetUnion'] ?? field) === field;
  let operand: Compare['operand'];
  if (set) {
    if (target === CompareTarget.VALUE) operand = buf(m[field]);
    else if (target === CompareTarget.LEASE) operand = int64(m[field]);
    else operand = int(m[field]);
  }
  return { result: int(m['result']), target, key: key(m['key']), rangeEnd: key(m['rangeEnd']), operand };
}

function requestOp(m: Pb): RequestOp {
  if (m['requestRange']) return { range: rangeRequest(obj(m['requestRange'])) };
  if (m['requestPut']) return { put: putRequest(obj(m['requestPut'])) };
  if (m['requestDeleteRange']) return { deleteRange: deleteRangeRequest(obj(m['requestDeleteRange'])) };
  if (m['requestTxn']) return { txn: txnRequest(obj(m['requestTxn'])) };
  return { empty: true };
}

export function txnRequest(m: Pb): TxnRequest {
  return {
    compare: list(m['compare']).map(compare),
    success: list(m['success']).map(requestOp),
    failure: list(m['failure']).map(requestOp),
  };
}

export interface HeaderPb {
  clusterId: string;
  memberId: string;
  revision: number;
  raftTerm: number;
}

export function kvPb(kv: KeyValue, keysOnly = false): Pb {
  return {
    key: bytesOf(kv.key),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    value: keysOnly ? EMPTY : kv.value,
    lease: kv.lease.toString(),
  };
}

export function eventPb(e: Event, prevKv: KeyValue | undefined): Pb {
  return { type: e.type === 'put' ? 0 : 1, kv: kvPb(e.kv), prevKv: prevKv ? kvPb(prevKv) : null };
}

export function rangePb(r: RangeResult, header: Pb): Pb {
  return { header, kvs: r.kvs.map((kv) => kvPb(kv, r.keysOnly)), more: r.more, count: r.count };
}

export function putPb(r: PutResult, header: Pb): Pb {
  return { header, prevKv: r.prevKv ? kvPb(r.prevKv) : null };
}

export function deleteRangePb(r: DeleteRangeResult, header: Pb): Pb {
  return { header, deleted: r.deleted, prevKvs: r.prevKvs.map((kv) => kvPb(kv)) };
}

/**
 * A TxnResponse. Only the outer header is etcd's full header; the responses
 * inside carry just their revision (etcd fills no other field there) and a
 * nested txn's header is all zeros.
 */
export function txnPb(r: TxnResult, header: Pb): Pb {
  const sub = (revision: number): Pb => ({ revision });
  const op = (o: ResponseOp): Pb => {
    if ('range' in o) return { responseRange: rangePb(o.range, sub(o.range.revision)) };
    if ('put' in o) return { responsePut: putPb(o.put, sub(o.put.revision)) };
    if ('deleteRange' in o) return { responseDeleteRange: deleteRangePb(o.deleteRange, sub(o.deleteRange.revision)) };
    if ('txn' in o) return { responseTxn: txnPb(o.txn, sub(o.txn.revision)) };
    return {};
  };
  return { header, succeeded: r.succeeded, responses: r.responses.map(op) };
}
