import type { Attributes } from '@opentelemetry/api';
import { OTELGRPC_SCOPE, type GrpcServerTracing, type OtelGrpcProfile, type Tracing } from '../../shared/src/index.js';

/**
 * etcd 3.5.21's tracing (kubernetes-traces.md §3): otelgrpc v0.46.0 unary and
 * stream server interceptors, so one SERVER span per RPC with
 * net.sock.peer.* and an int rpc.grpc.status_code, no message events, and
 * Error status only for server-fault codes. No child spans, no events.
 */
export const ETCD_OTELGRPC: OtelGrpcProfile = {
  version: '0.46.0',
  keys: 'v0.42',
  messageEvents: 'none',
  serverErrors: 'server-fault',
};

/** --experimental-distributed-tracing-sampling-rate is per million; etcd rejects values outside [0, 1e6]. */
export const MAX_SAMPLING_RATE = 1_000_000;

export function samplingRateError(rate: number): string | undefined {
  if (rate < 0) return 'tracing sampling rate must be positive';
  if (rate > MAX_SAMPLING_RATE) return `tracing sampling rate must be less than ${MAX_SAMPLING_RATE}`;
  return undefined;
}

/** etcd's resource: service.name, plus service.instance.id only when one is configured. */
export function etcdResource(serviceName: string, instanceId: string): Attributes {
  return instanceId === '' ? { 'service.name': serviceName } : { 'service.name': serviceName, 'service.instance.id': instanceId };
}

export function etcdServerTracing(tracing: Tracing): GrpcServerTracing {
  return { tracer: tracing.tracer(OTELGRPC_SCOPE, ETCD_OTELGRPC.version), profile: ETCD_OTELGRPC };
}
