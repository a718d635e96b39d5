import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';

/** An error that reaches the wire as this gRPC status, with this exact message. */
export class GrpcError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
  ) {
    super(message);
    this.name = 'GrpcError';
  }
}

/**
 * The one mapping from a thrown value to a gRPC status on our servers. Like
 * grpc-go's status.Convert, anything that is not a GrpcError becomes UNKNOWN;
 * its text is kept out of the reply so internals do not leak to clients.
 */
export function toGrpcStatus(err: unknown): StatusObject {
  if (err instanceof GrpcError) return { code: err.code, details: err.message, metadata: new Metadata() };
  return { code: GrpcStatus.UNKNOWN, details: 'internal error', metadata: new Metadata() };
}

/** A grpc-js client error's code and message, for client span status. */
export function grpcErrorOf(err: unknown): { code: number; message: string } {
  const e = err as Partial<ServiceError> | undefined;
  return { code: typeof e?.code === 'number' ? e.code : GrpcStatus.UNKNOWN, message: e?.details ?? String(err) };
}
