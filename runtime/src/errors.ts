import { status as GrpcStatus } from '@grpc/grpc-js';
import { GrpcError } from '../../shared/src/index.js';

/**
 * An error as containerd's CRI plugin returns it. `message` is the Go error
 * text; `code` is what errgrpc.ToGRPC makes of it: errors wrapping an errdefs
 * class (ErrNotFound…) get that class's code, anything else passes through
 * and reaches the client as UNKNOWN. `goType` is the dynamic type Go's
 * span.RecordError reports for an error that passes through unconverted.
 */
export class ContainerdError extends GrpcError {
  constructor(
    code: GrpcStatus,
    message: string,
    readonly goType: '*fmt.wrapError' | '*errors.errorString',
  ) {
    super(code, message);
    this.name = 'ContainerdError';
  }
}

/** `fmt.Errorf("<prefix>: %w", errdefs.ErrNotFound)`. */
export function notFound(prefix: string): ContainerdError {
  return new ContainerdError(GrpcStatus.NOT_FOUND, `${prefix}: not found`, '*fmt.wrapError');
}

/** `fmt.Errorf("<prefix>: %w", err)` around an error with no errdefs class. */
export function wrapped(prefix: string, cause: string): ContainerdError {
  return new ContainerdError(GrpcStatus.UNKNOWN, `${prefix}: ${cause}`, '*fmt.wrapError');
}

/** `errors.New(text)`. */
export function plain(text: string): ContainerdError {
  return new ContainerdError(GrpcStatus.UNKNOWN, text, '*errors.errorString');
}

/** Why an id lookup failed: the truncindex / errdefs error text. */
export type LookupFailure = 'not found' | "prefix can't be empty" | `Multiple IDs found with provided prefix: ${string}`;

/** `fmt.Errorf("<prefix>: %w", lookupErr)`: NOT_FOUND only when nothing matched. */
export function lookupError(prefix: string, failure: LookupFailure): ContainerdError {
  return failure === 'not found' ? notFound(prefix) : wrapped(prefix, failure);
}

/** `fmt.Errorf("<prefix>: %w", err)` around an error from a nested call: the errdefs class, and so the code, survives. */
export function wrapError(prefix: string, err: unknown): unknown {
  if (!(err instanceof ContainerdError)) return err;
  return new ContainerdError(err.code, `${prefix}: ${err.message}`, '*fmt.wrapError');
}
