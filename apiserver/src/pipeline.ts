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
}

function hostPort(ex: Exchange): { host: string; port: number | undefined } {
  const h = ex.header(':authority') ?? ex.header('host') ?? '';
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(h) ?? /^([^:]*)(?::(\d+))?$/.exec(h);
  return { host: m?.[1] ?? h, port: m?.[2] !== undefined ? Number(m[2]) : undefined };
}

/**
 * The handler chain of a 1.34+ kube-apiserver as spans: `authentication`
 * (a root of its own, wrapping everything), the otelhttp SERVER span named
 * by route (parent or link per the caller's group), then audit ⊃
 * impersonation ⊃ priorityandfairness ⊃ authorization around the handler.
 */
export async function handleRequest(p: PipelineDeps, ex: Exchange, receivedAt: number): Promise<void> {
  const { tracers } = p;
  const profile = tracers.profile;
  const info = parseRequestInfo(ex.method, ex.path, ex.query);
  const auth = tracers.filter.startSpan('authentication', { kind: SpanKind.INTERNAL }, ROOT_CONTEXT);
  const user: Caller = authenticate(ex.socket);
  if (user === ANONYMOUS && !p.anonymousAuth) {
    // The failed-authentication handler answers before the tracing filter runs.
    writeError({ tracers, ctx: trace.setSpan(ROOT_CONTEXT, auth), auditId: ex.auditId }, ex, statusErrors.unauthorized(), 'v1', p.log);
    auth.end();
    return;
  }
  const remote = extractFromHeaders(ex.headers);
  const remoteSc = trace.getSpanContext(remote);
  const remoteValid = remoteSc !== undefined && isSpanContextValid(remoteSc) && remoteSc.isRemote === true;
  const decision = incomingParent(profile, user.groups, remoteValid);
  const parent: Context = decision.kind === 'remote' ? remote : decision.kind === 'local' ? trace.setSpan(ROOT_CONTEXT, auth) : ROOT_CONTEXT;
  const { host, port } = hostPort(ex);
  const server = tracers.http.startSpan(
    serverSpanName(profile, ex.method, info),
    {
      kind: SpanKind.SERVER,
      ...(profile.serverStartsAtReceived ? { startTime: receivedAt } : {}),
      attributes: httpServerStartAttributes(profile.otelhttp, {
        method: ex.method,
        path: ex.path,
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
  server.setAttribute('http.target', ex.requestUri);
  server.setAttribute('audit-id', ex.auditId);
  let ctx = trace.setSpan(parent, server);
  const filters: Span[] = [];
  for (const name of profile.filterSpans) {
    const s = tracers.filter.startSpan(name, { kind: SpanKind.INTERNAL }, ctx);
    filters.push(s);
    ctx = trace.setSpan(ctx, s);
  }
  const rt: RequestTrace = { tracers, ctx, auditId: ex.auditId };
  try {
    await dispatch(p, ex, info, rt, user, server);
  } catch (e) {
    writeError(rt, ex, e, 'v1', p.log);
  } finally {
    for (const s of filters.reverse()) s.end();
    server.setAttributes(
      httpServerEndAttributes(profile.otelhttp, { requestBodySize: ex.bytesRead, responseBodySize: ex.bytesWritten, statusCode: ex.status || 200 }),
    );
    server.setStatus(httpServerStatus(profile.otelhttp, ex.status || 200));
    server.end();
    auth.end();
  }
}

async function dispatch(p: PipelineDeps, ex: Exchange, info: RequestInfo, rt: RequestTrace, user: Caller, server: Span): Promise<void> {
  if (!info.isResourceRequest) {
    await serveNonResource(p, ex, rt);
    return;
  }
  await routeResource(p, { ex, info, rt, user, serverSpan: server.spanContext() });
}
