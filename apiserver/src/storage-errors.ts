import { status as GrpcStatus } from '@grpc/grpc-js';
import { StatusError, grpcErrorOf, statusErrors, type KubeObject } from '../../shared/src/index.js';
import { DecodeError } from './codec.js';

/** DeleteOptions.preconditions and the storage layer's Preconditions. */
export interface Preconditions {
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

/** storage.Preconditions.Check: the failure text, or undefined when they hold. */
export function checkPreconditions(p: Preconditions | undefined, obj: KubeObject): string | undefined {
  if (!p) return undefined;
  if (p.uid !== undefined && p.uid !== obj.metadata.uid) {
    return `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${obj.metadata.uid ?? ''}`;
  }
  if (p.resourceVersion !== undefined && p.resourceVersion !== obj.metadata.resourceVersion) {
    return `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion ?? ''}`;
  }
  return undefined;
}

/** etcd's error for a revision beyond the store's (mvcc.ErrFutureRev). */
export const FUTURE_REV = 'mvcc: required revision is a future revision';
export const COMPACTED = 'mvcc: required revision has been compacted';

/**
 * What an etcd failure becomes on the wire. Status errors pass through; an
 * unreachable etcd is a 500 with the client's message, as upstream returns
 * the raw error and the handler wraps it as InternalError.
 */
export function etcdError(e: unknown): StatusError {
  if (e instanceof StatusError) return e;
  if (e instanceof DecodeError) return statusErrors.internal(e.message);
  const { code, message } = grpcErrorOf(e);
  if (code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.DEADLINE_EXCEEDED) {
    return statusErrors.internal(code === GrpcStatus.DEADLINE_EXCEEDED ? 'etcdserver: request timed out' : `rpc error: code = Unavailable desc = ${message}`);
  }
  return statusErrors.internal(message);
}

export function isFutureRev(e: unknown): boolean {
  return grpcErrorOf(e).message.includes(FUTURE_REV);
}

export function isCompacted(e: unknown): boolean {
  return grpcErrorOf(e).message.includes(COMPACTED);
}

/** storage.NewTooLargeResourceVersionError as the apiserver reports it: 504 with a retry hint. */
export function tooLargeResourceVersion(requested: number, current: number): StatusError {
  const err = statusErrors.timeout(`Too large resource version: ${requested}, current: ${current}`);
  err.status.details = {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  };
  return err;
}

export const LIST_EXPIRED = 'The resourceVersion for the provided list is too old.';
export const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';
