import type { Key } from './key-span.js';
import type { KeyValue } from './store.js';

/**
 * The KV API's requests and results in store terms: keys as byte strings,
 * revisions as numbers, lease IDs as bigints. codec.ts converts them from and
 * to the protobuf objects; field meanings are etcd's (rpc.proto).
 */

/** RangeRequest.SortOrder */
export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
/** RangeRequest.SortTarget */
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
/** Compare.CompareResult */
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
/** Compare.CompareTarget */
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

export interface RangeRequest {
  readonly key: Key;
  readonly rangeEnd: Key;
  readonly limit: number;
  readonly revision: number;
  readonly sortOrder: number;
  readonly sortTarget: number;
  readonly keysOnly: boolean;
  readonly countOnly: boolean;
  readonly minModRevision: number;
  readonly maxModRevision: number;
  readonly minCreateRevision: number;
  readonly maxCreateRevision: number;
}

export interface PutRequest {
  readonly key: Key;
  readonly value: Buffer;
  readonly lease: bigint;
  readonly prevKv: boolean;
  readonly ignoreValue: boolean;
  readonly ignoreLease: boolean;
}

export interface DeleteRangeRequest {
  readonly key: Key;
  readonly rangeEnd: Key;
  readonly prevKv: boolean;
}

export interface Compare {
  readonly result: number;
  readonly target: number;
  readonly key: Key;
  readonly rangeEnd: Key;
  /** The target_union member that matches `target`; absent compares against 0 or "". */
  readonly operand: number | bigint | Buffer | undefined;
}

export type RequestOp =
  | { readonly range: RangeRequest }
  | { readonly put: PutRequest }
  | { readonly deleteRange: DeleteRangeRequest }
  | { readonly txn: TxnRequest }
  /** An empty RequestOp (no member of the oneof set). */
  | { readonly empty: true };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

/** Each result carries the revision its header reports. */
export interface RangeResult {
  readonly revision: number;
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
  readonly count: number;
  readonly keysOnly: boolean;
}

export interface PutResult {
  readonly revision: number;
  readonly prevKv: KeyValue | undefined;
}

export interface DeleteRangeResult {
  readonly revision: number;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export type ResponseOp =
  | { readonly range: RangeResult }
  | { readonly put: PutResult }
  | { readonly deleteRange: DeleteRangeResult }
  | { readonly txn: TxnResult }
  | { readonly empty: true };

export interface TxnResult {
  readonly revision: number;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}
