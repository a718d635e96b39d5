import { SpanKind, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTELGRPC_SCOPE, type GrpcClientTracing, type Tracing } from '../../shared/src/index.js';
import type { ApiserverProfile } from './profile.js';
import { preciseTracer } from '../../shared/src/precise-clock.js';
import { SCOPES } from './spans.js';

/** The tracers of one apiserver, one per instrumentation scope it reports. */
export interface Tracers {
  readonly profile: ApiserverProfile;
  /** otelhttp: the SERVER span and the webhook `HTTP POST` CLIENT spans. */
  readonly http: Tracer;
  /** filterlatency: authentication, audit, impersonation, priorityandfairness, authorization. */
  readonly filter: Tracer;
  /** component-base/tracing: handler, admission, storage, cacher and SerializeObject spans. */
  readonly componentBase: Tracer;
  /** The otelgrpc client instrumentation of the etcd client, without its peer. */
  readonly etcdGrpc: Omit<GrpcClientTracing, 'peer'>;
}

/** Every tracer takes its times from one sub-millisecond clock, so nesting is exact (see precise-clock.ts). */
export function tracersFor(tracing: Tracing, profile: ApiserverProfile): Tracers {
  return {
    profile,
    http: preciseTracer(tracing.tracer(SCOPES.otelhttp, profile.otelhttp.version)),
    filter: preciseTracer(tracing.tracer(SCOPES.filterlatency)),
    componentBase: preciseTracer(tracing.tracer(SCOPES.componentBase)),
    etcdGrpc: { tracer: preciseTracer(tracing.tracer(OTELGRPC_SCOPE, profile.etcdGrpc.version)), profile: profile.etcdGrpc },
  };
}

/**
 * Where a request is in its trace: the context new spans hang from and the
 * audit ID every span of the request carries. Passed down explicitly, as Go
 * passes ctx.
 */
export interface RequestTrace {
  readonly tracers: Tracers;
  readonly ctx: Context;
  readonly auditId: string;
}

/**
 * A component-base span (tracing.Start): INTERNAL, never a status. `run`
 * gets a RequestTrace whose context is the new span; the span ends when
 * `run` settles, whatever the outcome.
 */
export async function inSpan<T>(
  rt: RequestTrace,
  name: string,
  attributes: Attributes,
  run: (span: Span, rt: RequestTrace) => Promise<T> | T,
): Promise<T> {
  const span = rt.tracers.componentBase.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, rt.ctx);
  try {
    return await run(span, { ...rt, ctx: trace.setSpan(rt.ctx, span) });
  } finally {
    span.end();
  }
}

/** The span a context carries, to add events to it (tracing.SpanFromContext). */
export function currentSpan(rt: RequestTrace): Span | undefined {
  return trace.getSpan(rt.ctx);
}
