import type { Tracer } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  OTELGRPC_SCOPE,
  OTELHTTP_SCOPE,
  perMillionSampler,
  resolveOtlpEndpoint,
  startTracing,
  type GrpcClientTracing,
  type OtelHttpProfile,
  type Tracing,
} from '../../shared/src/index.js';
import { KUBELET_SCOPE, kubeletResource, type KubeletProfile } from './spans.js';

/**
 * Tracing for the simulated nodes of one process. Each node is its own
 * kubelet with its own tracer provider (resource {service.name, host.name}),
 * as component-base builds one per process; the nodes share one OTLP
 * exporter, so fifty nodes keep one connection to the collector.
 */

export interface TracingConfig {
  /** The KubeletTracing gate is on and a tracing block is configured. */
  readonly enabled: boolean;
  /** The KubeletConfiguration tracing.endpoint; without one, OTLP's environment or localhost:4317. */
  readonly endpoint?: string | undefined;
  readonly samplingRatePerMillion: number;
}

export interface NodeTracing {
  readonly provider: Tracing;
  /** The tracer syncPod and friends use. */
  readonly kubelet: Tracer;
  /** otelgrpc around the CRI client; undefined when tracing is off, so calls skip span work entirely. */
  readonly cri: GrpcClientTracing | undefined;
  /** otelhttp around the apiserver client. */
  readonly http: { readonly tracer: Tracer; readonly profile: OtelHttpProfile } | undefined;
}

/** One exporter shared by many batch processors: each provider's shutdown flushes, only `close` shuts it. */
export class SharedExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, done);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush?.();
  }

  close(): Promise<void> {
    return this.inner.shutdown();
  }
}

export interface ProcessTracing {
  readonly enabled: boolean;
  readonly endpoint: string | undefined;
  forNode(nodeName: string): NodeTracing;
  /** Shuts every node's provider down (flushing its spans), then the exporter. */
  shutdown(): Promise<void>;
}

export function startProcessTracing(
  cfg: TracingConfig,
  profile: KubeletProfile,
  opts: { env?: NodeJS.ProcessEnv; exporter?: SpanExporter; processor?: 'batch' | 'simple' } = {},
): ProcessTracing {
  const env = opts.env ?? process.env;
  const enabled = cfg.enabled;
  const endpoint = enabled ? resolveOtlpEndpoint(cfg.endpoint, env) : undefined;
  const shared = enabled ? new SharedExporter(opts.exporter ?? new OTLPTraceExporter({ url: endpoint as string })) : undefined;
  const nodes: NodeTracing[] = [];
  return {
    enabled,
    endpoint,
    forNode(nodeName) {
      const provider = startTracing({
        resource: kubeletResource(nodeName),
        enabled,
        sampler: perMillionSampler(cfg.samplingRatePerMillion),
        ...(shared ? { exporter: shared } : {}),
        processor: opts.processor ?? 'batch',
        env,
      });
      // Tracing.tracer() gives spans sub-millisecond times, so a CRI span never seems to outlast its syncPod.
      const t: NodeTracing = {
        provider,
        kubelet: provider.tracer(KUBELET_SCOPE),
        cri: enabled ? { tracer: provider.tracer(OTELGRPC_SCOPE, profile.criGrpc.version), profile: profile.criGrpc } : undefined,
        http: enabled ? { tracer: provider.tracer(OTELHTTP_SCOPE, profile.apiHttp.version), profile: profile.apiHttp } : undefined,
      };
      nodes.push(t);
      return t;
    },
    async shutdown() {
      await Promise.allSettled(nodes.map((n) => n.provider.shutdown()));
      await shared?.close();
    },
  };
}
