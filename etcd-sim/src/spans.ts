import type { Attributes } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import { OTELGRPC_SCOPE, perMillionSampler, type GrpcServerTracing, type OtelGrpcProfile, type Tracing } from '../../shared/src/index.js';

/**
 * etcd's tracing per release (kubernetes-traces.md §3, checked against
 * server/go.mod and server/embed/config_tracing.go at each tag): otelgrpc
 * unary and stream server interceptors, one SERVER span per RPC, no child
 * spans and no events of etcd's own.
 */
export const ETCD_VERSIONS = ['3.5.7', '3.5.21'] as const;
export type EtcdVersion = (typeof ETCD_VERSIONS)[number];
export const DEFAULT_ETCD_VERSION: EtcdVersion = '3.5.21';

export interface EtcdProfile {
  /** What Maintenance.Status reports (and so `etcdctl endpoint status`). */
  readonly version: EtcdVersion;
  readonly otelgrpc: OtelGrpcProfile;
  /**
   * Whether --experimental-distributed-tracing-sampling-rate exists (3.5.11+).
   * Without it the sampler is ParentBased(NeverSample): roots are never
   * sampled, sampled parents are followed.
   */
  readonly samplingRateFlag: boolean;
}

export const ETCD_PROFILES: Readonly<Record<EtcdVersion, EtcdProfile>> = {
  /**
   * otelgrpc v0.25.0: semconv v1.4 peer keys (net.peer.ip, port as a
   * string), message events with type, id and uncompressed size, Error
   * status for any error code.
   */
  '3.5.7': {
    version: '3.5.7',
    // Contrib releases before v0.42 name their tracer's version SemVersion(): "semver:" + Version().
    otelgrpc: { version: 'semver:0.25.0', keys: 'v0.20', messageEvents: 'full', serverErrors: 'any' },
    samplingRateFlag: false,
  },
  /** otelgrpc v0.46.0: net.sock.peer.* with an int port, no message events, Error only for server faults. */
  '3.5.21': {
    version: '3.5.21',
    otelgrpc: { version: '0.46.0', keys: 'v0.42', messageEvents: 'none', serverErrors: 'server-fault' },
    samplingRateFlag: true,
  },
};

export function isEtcdVersion(v: string): v is EtcdVersion {
  return (ETCD_VERSIONS as readonly string[]).includes(v);
}

/** The default release's otelgrpc profile. */
export const ETCD_OTELGRPC: OtelGrpcProfile = ETCD_PROFILES[DEFAULT_ETCD_VERSION].otelgrpc;

/** --experimental-distributed-tracing-sampling-rate is per million; etcd rejects values outside [0, 1e6]. */
export const MAX_SAMPLING_RATE = 1_000_000;

export function samplingRateError(rate: number): string | undefined {
  if (rate < 0) return 'tracing sampling rate must be positive';
  if (rate > MAX_SAMPLING_RATE) return `tracing sampling rate must be less than ${MAX_SAMPLING_RATE}`;
  return undefined;
}

/**
 * 3.5.5–3.5.10: ParentBased(NeverSample()). 3.5.11+:
 * ParentBased(TraceIDRatioBased(rate/1e6)), which rate 0 makes the same.
 */
export function etcdSampler(profile: EtcdProfile, samplingRate: number): Sampler {
  return perMillionSampler(profile.samplingRateFlag ? samplingRate : 0);
}

/** etcd's resource: service.name, plus service.instance.id only when one is configured. */
export function etcdResource(serviceName: string, instanceId: string): Attributes {
  return instanceId === '' ? { 'service.name': serviceName } : { 'service.name': serviceName, 'service.instance.id': instanceId };
}

export function etcdServerTracing(tracing: Tracing, profile: EtcdProfile = ETCD_PROFILES[DEFAULT_ETCD_VERSION]): GrpcServerTracing {
  return { tracer: tracing.tracer(OTELGRPC_SCOPE, profile.otelgrpc.version), profile: profile.otelgrpc };
}
