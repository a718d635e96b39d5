import type { Attributes, Tracer, TracerProvider } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  type IdGenerator,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { seededRandom, type Rand } from './random.js';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resolveOtlpEndpoint, resourceAttributesFromEnv } from './resource-env.js';
import { preciseTracer } from './precise-clock.js';
import { recordingExporter, SENT_FILE_ENV } from './manifest.js';

export interface TracingOptions {
  /** Exactly the resource the imitated component reports; nothing from the Node SDK is added. */
  resource: Attributes;
  /** false: spans are never recorded or exported (the component's tracing is off). */
  enabled: boolean;
  /** The component's configured OTLP/gRPC endpoint (`host:port` or a URL). */
  endpoint?: string | undefined;
  sampler: Sampler;
  /** Tests pass an in-memory exporter; otherwise OTLP/gRPC. */
  exporter?: SpanExporter;
  /** `simple` exports each span as it ends (tests); `batch` is what every real component uses. */
  processor?: 'batch' | 'simple';
  env?: NodeJS.ProcessEnv;
  /**
   * Seeds trace and span ids, so a run replays the same ids (and so the same
   * ratio-sampling decisions). Default: $K8S_TRACE_SIM_SEED; unset means random.
   */
  idSeed?: number | undefined;
}

/** The simulator-wide seed variable: every process derives its own id stream from it. */
export const SEED_ENV = 'K8S_TRACE_SIM_SEED';

export interface Tracing {
  readonly provider: TracerProvider;
  readonly enabled: boolean;
  /** The OTLP URL spans go to, or undefined when tracing is off or an exporter was given. */
  readonly endpoint: string | undefined;
  tracer(scopeName: string, scopeVersion?: string): Tracer;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The Go SDK's TraceIDRatioBased (sdk/trace/sampling.go): bytes 8–15 of the
 * trace id as a big-endian uint64, shifted right once, below
 * uint64(fraction × 2^63). The JS SDK's ratio sampler hashes the id another
 * way, so the same trace id could be kept by one and dropped by the other.
 */
export class GoTraceIdRatioSampler implements Sampler {
  private readonly bound: bigint;

  constructor(private readonly fraction: number) {
    this.bound = fraction >= 1 ? 1n << 64n : fraction <= 0 ? 0n : BigInt(Math.trunc(fraction * 2 ** 63));
  }

  shouldSample(_ctx: unknown, traceId: string): SamplingResult {
    const x = BigInt(`0x${traceId.slice(16, 32)}`) >> 1n;
    return { decision: x < this.bound ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return `TraceIDRatioBased{${this.fraction}}`;
  }
}

function hex32(rand: Rand): string {
  return Math.floor(rand() * 4294967296).toString(16).padStart(8, '0');
}

/** Trace and span ids from a seeded generator; never the invalid all-zero id. */
export function seededIdGenerator(seed: number): IdGenerator {
  const rand = seededRandom(seed);
  const make = (words: number): string => {
    for (;;) {
      let id = '';
      for (let i = 0; i < words; i++) id += hex32(rand);
      if (!/^0+$/.test(id)) return id;
    }
  };
  return { generateTraceId: () => make(4), generateSpanId: () => make(2) };
}

/** FNV-1a: folds a process's identity into the run's seed, so processes never share ids. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * component-base's sampler (tracing/utils.go), also used by etcd 3.5.11+:
 * ParentBased with a TraceIDRatio root at rate/1e6; unset or 0 never samples
 * a root, yet a sampled parent is always followed.
 */
export function perMillionSampler(ratePerMillion: number | undefined): Sampler {
  const root =
    ratePerMillion === undefined || !(ratePerMillion > 0)
      ? new AlwaysOffSampler()
      : ratePerMillion >= 1_000_000
        ? new AlwaysOnSampler()
        : new GoTraceIdRatioSampler(ratePerMillion / 1_000_000);
  return new ParentBasedSampler({ root });
}

/** The Go SDK default, ParentBased(AlwaysOn), which containerd 2.x keeps. */
export function parentBasedAlwaysOn(): Sampler {
  return new ParentBasedSampler({ root: new AlwaysOnSampler() });
}

/**
 * Builds a tracer provider for one simulated component. It is not registered
 * globally: several components can live in one test process, each with its own
 * resource, and every span is started with an explicit parent context.
 */
export function startTracing(opts: TracingOptions): Tracing {
  const env = opts.env ?? process.env;
  // Go's provider merges resource.Environment() under the component's own
  // resource, so the component's keys win over OTEL_RESOURCE_ATTRIBUTES.
  const resource = resourceFromAttributes({ ...resourceAttributesFromEnv(env), ...opts.resource });
  const processors: SpanProcessor[] = [];
  let endpoint: string | undefined;
  if (opts.enabled) {
    let exporter = opts.exporter;
    if (!exporter) {
      endpoint = resolveOtlpEndpoint(opts.endpoint, env);
      exporter = new OTLPTraceExporter({ url: endpoint });
    }
    // `verify` compares a backend with what was really exported, so each export is recorded.
    const sentFile = env[SENT_FILE_ENV];
    if (sentFile !== undefined && sentFile.trim() !== '') exporter = recordingExporter(exporter, sentFile);
    processors.push(
      opts.processor === 'simple' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter),
    );
  }
  const envSeed = env[SEED_ENV];
  const seed = opts.idSeed ?? (envSeed !== undefined && envSeed.trim() !== '' ? Number(envSeed) : undefined);
  if (seed !== undefined && !Number.isInteger(seed)) throw new Error(`${SEED_ENV}=${envSeed}: want an integer`);
  const identity = ['service.name', 'service.instance.id', 'host.name'].map((k) => String(opts.resource[k] ?? '')).join('/');
  const provider = new NodeTracerProvider({
    resource,
    sampler: opts.enabled ? opts.sampler : new AlwaysOffSampler(),
    spanProcessors: processors,
    ...(seed !== undefined ? { idGenerator: seededIdGenerator((seed ^ fnv1a(identity)) >>> 0) } : {}),
  });
  return {
    provider,
    enabled: opts.enabled,
    endpoint,
    // Sub-millisecond span times, so a server span nests inside its client span across processes.
    tracer: (name, version) => preciseTracer(provider.getTracer(name, version)),
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
