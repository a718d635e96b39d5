import type { Attributes, Tracer, TracerProvider } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resolveOtlpEndpoint, resourceAttributesFromEnv } from './resource-env.js';
import { preciseTracer } from './precise-clock.js';

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
}

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
        : new TraceIdRatioBasedSampler(ratePerMillion / 1_000_000);
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
    processors.push(
      opts.processor === 'simple' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter),
    );
  }
  const provider = new NodeTracerProvider({
    resource,
    sampler: opts.enabled ? opts.sampler : new AlwaysOffSampler(),
    spanProcessors: processors,
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
