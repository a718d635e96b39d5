import { SpanKind, SpanStatusCode, type Attributes, type SpanStatus } from '@opentelemetry/api';
import { isIpLiteral } from './otelgrpc.js';

/**
 * What one release of go.opentelemetry.io/contrib/.../otelhttp puts on a span
 * (kubernetes-traces.md §1.3, §2.2 A and E). `v0.35` is semconv v1.12
 * (`http.method`, `net.peer.ip`, `net.transport=ip_tcp`; Kubernetes 1.26–1.28);
 * `v0.61` is the stable HTTP semconv that Kubernetes 1.35 links.
 */
export interface OtelHttpProfile {
  readonly version: string;
  readonly keys: 'v0.35' | 'v0.61';
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
  /** v0.35: the request URI, path and query (`http.target`). Defaults to the path. */
  readonly target?: string;
  /** v0.35: the handler's operation name (`http.server_name`), e.g. "KubernetesAPI". */
  readonly serverName?: string;
  /** v0.35: Content-Length when positive (`http.request_content_length`). */
  readonly requestContentLength?: number;
}


/** Attributes otelhttp's handler sets when the request arrives, in its order. */
export function httpServerStartAttributes(profile: OtelHttpProfile, r: HttpServerRequestInfo): Attributes {
  if (profile.keys === 'v0.35') {
    // semconv v1.12: NetAttributesFromHTTPRequest("tcp", r), then
    // HTTPServerAttributesFromHTTPRequest: target, server name, client IP,
    // then the common attributes (user agent, content length, scheme, host,
    // flavor, method), in Go's append order.
    const a: Attributes = { 'net.transport': 'ip_tcp' };
    if (r.peerAddress) a['net.peer.ip'] = r.peerAddress;
    if (r.peerPort !== undefined) a['net.peer.port'] = r.peerPort;
    if (r.host) a[isIpLiteral(r.host) ? 'net.host.ip' : 'net.host.name'] = r.host;
    if (r.port !== undefined) a['net.host.port'] = r.port;
    a['http.target'] = r.target ?? r.path;
    if (r.serverName) a['http.server_name'] = r.serverName;
    if (r.forwardedFor) a['http.client_ip'] = r.forwardedFor;
    if (r.userAgent) a['http.user_agent'] = r.userAgent;
    if (r.requestContentLength !== undefined && r.requestContentLength > 0) a['http.request_content_length'] = r.requestContentLength;
    a['http.scheme'] = r.scheme;
    a['http.host'] = r.port !== undefined ? `${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}` : r.host;
    a['http.flavor'] = r.protocolVersion;
    a['http.method'] = r.method;
    return a;
  }
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
  profile: OtelHttpProfile,
  r: { requestBodySize: number; responseBodySize: number; statusCode: number },
): Attributes {
  const a: Attributes = {};
  if (profile.keys === 'v0.35') {
    if (r.requestBodySize > 0) a['http.read_bytes'] = r.requestBodySize;
    if (r.responseBodySize > 0) a['http.wrote_bytes'] = r.responseBodySize;
    a['http.status_code'] = r.statusCode;
    return a;
  }
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
  profile: OtelHttpProfile,
  r: {
    method: string;
    url: URL;
    protocolVersion: string;
    userAgent?: string;
    requestContentLength?: number;
    /**
     * v0.35: whether Go's request.TLS is set, which decides `http.scheme`.
     * Go's client never sets it on an outgoing request, so a real Go client
     * reports "http" even for https: the default.
     */
    requestTls?: boolean;
  },
): Attributes {
  const port = r.url.port !== '' ? Number(r.url.port) : r.url.protocol === 'https:' ? 443 : 80;
  if (profile.keys === 'v0.35') {
    // semconv v1.12 HTTPClientAttributesFromHTTPRequest, in Go's append order:
    // the URL without credentials, user agent, content length, then scheme
    // (request.TLS), host, flavor (the request's Proto: http.NewRequest makes
    // every outgoing request HTTP/1.1, whatever the transport speaks), method.
    const url = new URL(r.url.toString());
    url.username = '';
    url.password = '';
    const a: Attributes = { 'http.url': url.toString() };
    if (r.userAgent) a['http.user_agent'] = r.userAgent;
    if (r.requestContentLength !== undefined && r.requestContentLength > 0) a['http.request_content_length'] = r.requestContentLength;
    a['http.scheme'] = r.requestTls === true ? 'https' : 'http';
    a['http.host'] = r.url.host;
    a['http.flavor'] = '1.1';
    a['http.method'] = r.method.toUpperCase();
    return a;
  }
  return {
    'http.request.method': r.method.toUpperCase(),
    'url.full': r.url.toString(),
    'server.address': r.url.hostname.replace(/^\[|\]$/g, ''),
    'server.port': port,
    'network.protocol.version': r.protocolVersion,
  };
}

export function httpClientEndAttributes(profile: OtelHttpProfile, statusCode: number): Attributes {
  if (profile.keys === 'v0.35') return { 'http.status_code': statusCode };
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
