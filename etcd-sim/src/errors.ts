import { status as GrpcStatus } from '@grpc/grpc-js';
import { GrpcError } from '../../shared/src/index.js';

/**
 * The errors etcd's v3 API returns, with the gRPC code and the exact text of
 * go.etcd.io/etcd/api/v3/v3rpc/rpctypes (ErrGRPC*). Clients match on the
 * text (clientv3 turns it back into typed errors), so it must not drift.
 */
const ETCD_ERRORS = {
  emptyKey: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
  keyNotFound: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: key not found'],
  valueProvided: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: value is provided'],
  leaseProvided: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: lease is provided'],
  tooManyOps: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'],
  duplicateKey: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
  requestTooLarge: [GrpcStatus.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  compacted: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
  futureRev: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
  leaseNotFound: [GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found'],
  leaseExist: [GrpcStatus.FAILED_PRECONDITION, 'etcdserver: lease already exists'],
  leaseTtlTooLarge: [GrpcStatus.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],
  stopped: [GrpcStatus.UNAVAILABLE, 'etcdserver: server stopped'],
} as const satisfies Record<string, readonly [GrpcStatus, string]>;

export type EtcdErrorKind = keyof typeof ETCD_ERRORS;

/** One of etcd's API errors; it reaches the client as the matching gRPC status. */
export class EtcdError extends GrpcError {
  constructor(readonly kind: EtcdErrorKind) {
    const [code, message] = ETCD_ERRORS[kind];
    super(code, message);
    this.name = 'EtcdError';
  }
}

/**
 * Messages the watch stream puts in cancel_reason. They are the mvcc
 * package's errors, without the "etcdserver: " prefix, because etcd copies
 * err.Error() into the response instead of converting it to a gRPC status.
 */
export const WATCH_CANCEL_REASONS = {
  emptyRange: 'mvcc: watcher range is empty',
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
} as const;
