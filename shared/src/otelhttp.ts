import { SpanKind, SpanStatusCode, type Attributes, type SpanStatus } from '@opentelemetry/api';

/**
 * What one release of go.opentelemetry.io/contrib/.../otelhttp puts on a span
 * (kubernetes-traces.md §1.3, §2.2 A and E). `v0.61` is the stable HTTP
 * semconv generation that Kubernetes 1.35 links; older generations join as
 * version profiles need them.
 */
export interface OtelHttpProfile {
  readonly version: string;
  readonly keys: 'v0.61';
}

export const OTELHTTP_SCOPE = 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp';

export interface HttpServerRequestInfo {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly scheme: 'http' | 'https';
  /** Host the client asked for (Host or :authority), split into name and port. */
  readonly host: string;
  readonly port: number | undefined;
  readonly peerAddress: string | undefined;
  readonly peerPort: number | undefined;
  readonly userAgent: string | undefined;
  /** X-Forwarded-For's first address, if any. */
  readonly forwardedFor: string | undefined;
  /** "1.1" or "2". */
  readonly protocolVersion: string;
}

/** Attributes otelhttp's handler sets when the request arrives, in its order. */
export function httpServerStartAttributes(_profile: OtelHttpProfile, r: HttpServerRequestInfo): Attributes {
  const a: Attributes = { 'server.address': r.host };
  if (r.port !== undefined) a['server.port'] = r.port;
  a['http.request.method'] = r.method;
  a['url.scheme'] = r.scheme;
  if (r.peerAddress) a['network.peer.address'] = r.peerAddress;
  if (r.peerPort !== undefined) a['network.peer.port'] = r.peerPort;
  if (r.userAgent) a['user_agent.original'] = r.userAgent;
  const client = r.forwardedFor ?? r.peerAddress;
  if (client) a['client.address'] = client;
  a['url.path'] = r.path;
  a['network.protocol.version'] = r.protocolVersion;
  return a;
}

/** Attributes set when the handler returns. */
export function httpServerEndAttributes(
  _profile: OtelHttpProfile,
  r: { requestBodySize: number; responseBodySize: number; statusCode: number },
): Attributes {
  const a: Attributes = {};
  if (r.requestBodySize > 0) a['http.request.body.size'] = r.requestBodySize;
  if (r.responseBodySize > 0) a['http.response.body.size'] = r.responseBodySize;
  a['http.response.status_code'] = r.statusCode;
  return a;
}

/** Server spans: only 5xx is an error (v0.35+); 4xx leaves status Unset. */
export function httpServerStatus(_profile: OtelHttpProfile, statusCode: number): SpanStatus {
  return statusCode >= 500 ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.UNSET };
}

/** `HTTP POST`: otelhttp's Transport names client spans `HTTP <METHOD>` from v0.21 on. */
export function httpClientSpanName(_profile: OtelHttpProfile, method: string): string {
  return `HTTP ${method.toUpperCase()}`;
}

export function httpClientStartAttributes(
  _profile: OtelHttpProfile,
  r: { method: string; url: URL; protocolVersion: string },
): Attributes {
  const port = r.url.port !== '' ? Number(r.url.port) : r.url.protocol === 'https:' ? 443 : 80;
  return {
    'http.request.method': r.method.toUpperCase(),
    'url.full': r.url.toString(),
    'server.address': r.url.hostname.replace(/^\[|\]$/g, ''),
    'server.port': port,
    'network.protocol.version': r.protocolVersion,
  };
}

export function httpClientEndAttributes(_profile: OtelHttpProfile, statusCode: number): Attributes {
  return statusCode >= 400
    ? { 'http.response.status_code': statusCode, 'error.type': String(statusCode) }
    : { 'http.response.status_code': statusCode };
}

/** Client spans: any status ≥ 400, or a transport failure, is an error. */
export function httpClientStatus(_profile: OtelHttpProfile, statusCode: number | undefined, error?: string): SpanStatus {
  if (statusCode === undefined) return { code: SpanStatusCode.ERROR, ...(error ? { message: error } : {}) };
  return statusCode >= 400 ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.UNSET };
}

export const HTTP_CLIENT_KIND = SpanKind.CLIENT;
export const HTTP_SERVER_KIND = SpanKind.SERVER;
