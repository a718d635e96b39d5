import { SpanKind, trace, type Span, type SpanContext } from '@opentelemetry/api';
import type { KubeObject } from '../../shared/src/index.js';
import type { Exchange } from './exchange.js';
import type { ListResult } from './etcd3-list.js';
import type { Output } from './negotiate.js';
import type { Caller, OpContext, Registry } from './registry.js';
import { normalizedVerb, type RequestInfo } from './request-info.js';
import { groupVersion, type ResourceInfo } from './resources.js';
import { traceFields } from './spans.js';
import { toTable, type IncludeObject } from './table.js';
import type { RequestTrace } from './trace-context.js';

export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

/** What every resource handler gets: the apiserver's parts and this request. */
export interface HandlerDeps {
  readonly registry: Registry;
  readonly maxRequestBytes: number;
  readonly bookmarkIntervalMs: number;
  readonly log: LogFn;
}

export interface ResourceRequest {
  readonly ex: Exchange;
  readonly info: RequestInfo;
  readonly res: ResourceInfo;
  /** Context of the innermost filter span (authorization). */
  readonly rt: RequestTrace;
  readonly user: Caller;
  readonly serverSpan: SpanContext | undefined;
}

/** utilnet.GetClientIP: X-Forwarded-For's first address, X-Real-Ip, else the peer. */
export function clientIp(ex: Exchange): string {
  const xff = ex.header('x-forwarded-for')?.split(',')[0]?.trim();
  if (xff) return xff;
  const real = ex.header('x-real-ip')?.trim();
  if (real) return real;
  return ex.remoteAddress ?? '';
}

/**
 * Starts the handler span (`Create`, `Get`, `List`…) with traceFields; the
 * caller ends it. `out` is where the response's SerializeObject hangs: the
 * handler span from 1.32, before that the request's context (the handler's
 * parent), because upstream serialized with req.Context().
 */
export function handlerSpan(r: ResourceRequest, name: string): { span: Span; op: OpContext; out: RequestTrace } {
  const profile = r.rt.tracers.profile;
  const fields = traceFields(profile, {
    accept: r.ex.header('accept') ?? '',
    auditId: r.rt.auditId,
    clientIp: clientIp(r.ex),
    info: r.info,
    protocol: r.ex.protocol,
    userAgent: r.ex.header('user-agent') ?? '',
    verb: normalizedVerb(r.ex.method, r.info, r.ex.query, r.ex.header('content-type')?.split(';')[0]?.trim()),
  });
  const span = r.rt.tracers.componentBase.startSpan(name, { kind: SpanKind.INTERNAL, attributes: fields }, r.rt.ctx);
  const rt: RequestTrace = { ...r.rt, ctx: trace.setSpan(r.rt.ctx, span) };
  return { span, op: { rt, span, user: r.user, serverSpan: r.serverSpan }, out: profile.serializeUnderHandler ? rt : r.rt };
}

/** A typed list's items carry no kind/apiVersion on the wire; watch events and single objects do. */
function listItem(o: KubeObject): KubeObject {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest as KubeObject;
}

export function listMeta(l: ListResult): Record<string, unknown> {
  return {
    resourceVersion: String(l.resourceVersion),
    ...(l.continueToken ? { continue: l.continueToken } : {}),
    ...(l.remainingItemCount !== undefined ? { remainingItemCount: l.remainingItemCount } : {}),
  };
}

/** The response body, media type and encoding group version for an object or a list. */
export function renderOutput(
  res: ResourceInfo,
  out: Output,
  include: IncludeObject,
  data: { object: KubeObject } | { list: ListResult },
): { body: unknown; mediaType: string; gv: string } {
  const gv = groupVersion(res);
  if (out.kind === 'table') {
    const items = 'object' in data ? [data.object] : data.list.items;
    const meta = 'object' in data ? { resourceVersion: data.object.metadata.resourceVersion ?? '' } : listMeta(data.list);
    return { body: toTable(res, items, meta, { include, noHeaders: false, tableVersion: out.version, now: Date.now() }), mediaType: out.mediaType, gv: `meta.k8s.io/${out.version}` };
  }
  if (out.kind === 'partial') {
    const apiVersion = `meta.k8s.io/${out.version}`;
    const partial = (o: KubeObject): Record<string, unknown> => ({ kind: 'PartialObjectMetadata', apiVersion, metadata: o.metadata });
    const body =
      'object' in data
        ? partial(data.object)
        : { kind: 'PartialObjectMetadataList', apiVersion, metadata: listMeta(data.list), items: data.list.items.map(partial) };
    return { body, mediaType: out.mediaType, gv: apiVersion };
  }
  const body =
    'object' in data
      ? data.object
      : { kind: `${res.kind}List`, apiVersion: gv, metadata: listMeta(data.list), items: data.list.items.map(listItem) };
  return { body, mediaType: out.mediaType, gv };
}
