import { ROOT_CONTEXT, SpanKind, isSpanContextValid, trace, type Context, type Span } from '@opentelemetry/api';
import { extractFromHeaders, httpServerEndAttributes, httpServerStartAttributes, httpServerStatus, statusErrors } from '../../shared/src/index.js';
import { ANONYMOUS, authenticate } from './authn.js';
import type { Exchange } from './exchange.js';
import type { Caller } from './registry.js';
import { parseRequestInfo, type RequestInfo } from './request-info.js';
import { serveNonResource, type NonResourceDeps } from './non-resource.js';
import { routeResource } from './routes.js';
import type { HandlerDeps } from './handler-context.js';
import { incomingParent, serverSpanName } from './spans.js';
import type { RequestTrace, Tracers } from './trace-context.js';
import { writeError } from './serialize.js';

export interface PipelineDeps extends HandlerDeps, NonResourceDeps {
  readonly tracers: Tracers;
  readonly anonymousAuth: boolean;
  readonly traceMode: 'story' | 'faithful';
}

function hostPort(ex: Exchange): { host: string; port: number | undefined } {
  const h = ex.header(':authority') ?? ex.header('host') ?? '';
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(h) ?? /^([^:]*)(?::(\d+))?$/.exec(h);
  return { host: m?.[1] ?? h, port: m?.[2] !== undefined ? Number(m[2]) : undefined };
}

/** Go's req.ContentLength: the header's value, else 0 (unknown lengths are never reported). */
function contentLength(ex: Exchange): number {
  const n = Number(ex.header('content-length') ?? '0');
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * The handler chain of kube-apiserver as spans, per release:
 * - 1.33+: `authentication` (a root of its own, wrapping everything), then the
 *   otelhttp SERVER span named by route (parent or link per the caller's
 *   group), then audit ⊃ impersonation ⊃ priorityandfairness ⊃ authorization
 *   around the handler (1.34+).
 * - 1.26–1.32: the SERVER span (`KubernetesAPI`) outside everything, a new
 *   root linked to a caller's traceparent; `authentication` its child, ended
 *   as soon as the caller is known yet still the context every later span
 *   hangs from.
 */
export async function handleRequest(p: PipelineDeps, ex: Exchange, receivedAt: number): Promise<void> {
  const { tracers } = p;
  const profile = tracers.profile;
  const info = parseRequestInfo(ex.method, ex.path, ex.query);
  const authRoot = profile.authentication === 'root' ? tracers.filter.startSpan('authentication', { kind: SpanKind.INTERNAL }, ROOT_CONTEXT) : undefined;
  const user: Caller = authenticate(ex.socket);
  const unauthorized = user === ANONYMOUS && !p.anonymousAuth;
  if (unauthorized && authRoot) {
    // The failed-authentication handler answers before the tracing filter runs.
    writeError({ tracers, ctx: trace.setSpan(ROOT_CONTEXT, authRoot), auditId: ex.auditId }, ex, statusErrors.unauthorized(), 'v1', p.log);
    authRoot.end();
    return;
  }
  const remote = extractFromHeaders(ex.headers);
  const remoteSc = trace.getSpanContext(remote);
  const remoteValid = remoteSc !== undefined && isSpanContextValid(remoteSc) && remoteSc.isRemote === true;
  const decision = incomingParent(profile, p.traceMode, user.groups, remoteValid);
  const parent: Context =
    decision.kind === 'remote' ? remote : decision.kind === 'local' && authRoot ? trace.setSpan(ROOT_CONTEXT, authRoot) : ROOT_CONTEXT;
  const { host, port } = hostPort(ex);
  const server = tracers.http.startSpan(
    serverSpanName(profile, ex.method, info),
    {
      kind: SpanKind.SERVER,
      ...(profile.serverStartsAtReceived ? { startTime: receivedAt } : {}),
      attributes: httpServerStartAttributes(profile.otelhttp, {
        method: ex.method,
        path: ex.path,
        target: ex.requestUri,
        serverName: 'KubernetesAPI',
        requestContentLength: contentLength(ex),
        scheme: 'https',
        host,
        port,
        peerAddress: ex.remoteAddress,
        peerPort: ex.remotePort,
        userAgent: ex.header('user-agent'),
        forwardedFor: ex.header('x-forwarded-for')?.split(',')[0]?.trim(),
        protocolVersion: ex.protocol === 'HTTP/2.0' ? '2' : '1.1',
      }),
      ...(decision.kind === 'root' && decision.link && remoteSc ? { links: [{ context: remoteSc }] } : {}),
      ...(decision.kind === 'root' ? { root: true } : {}),
    },
    parent,
  );
  // filters/traces.go adds these inside the otelhttp handler.
  if (profile.serverHttpTarget) server.setAttribute('http.target', ex.requestUri);
  if (profile.serverAuditId) server.setAttribute('audit-id', ex.auditId);
  let ctx = trace.setSpan(parent, server);
  if (!authRoot) {
    // filterlatency before 1.34: the span ends when authentication completes
    // but stays in the request context.
    const auth = tracers.filter.startSpan('authentication', { kind: SpanKind.INTERNAL }, ctx);
    auth.end();
    ctx = trace.setSpan(ctx, auth);
  }
  const filters: Span[] = [];
  if (!unauthorized) {
    for (const name of profile.filterSpans) {
      const s = tracers.filter.startSpan(name, { kind: SpanKind.INTERNAL }, ctx);
      filters.push(s);
      ctx = trace.setSpan(ctx, s);
    }
  }
  const rt: RequestTrace = { tracers, ctx, auditId: ex.auditId };
  try {
    if (unauthorized) writeError(rt, ex, statusErrors.unauthorized(), 'v1', p.log);
    else await dispatch(p, ex, info, rt, user, server);
  } catch (e) {
    writeError(rt, ex, e, 'v1', p.log);
  } finally {
    for (const s of filters.reverse()) s.end();
    server.setAttributes(
      httpServerEndAttributes(profile.otelhttp, { requestBodySize: ex.bytesRead, responseBodySize: ex.bytesWritten, statusCode: ex.status || 200 }),
    );
    server.setStatus(httpServerStatus(profile.otelhttp, ex.status || 200));
    server.end();
    authRoot?.end();
  }
}

async function dispatch(p: PipelineDeps, ex: Exchange, info: RequestInfo, rt: RequestTrace, user: Caller, server: Span): Promise<void> {
  if (!info.isResourceRequest) {
    await serveNonResource(p, ex, rt);
    return;
  }
  await routeResource(p, { ex, info, rt, user, serverSpan: server.spanContext() });
}
