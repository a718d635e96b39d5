import { createHash } from 'node:crypto';
import type { Attributes } from '@opentelemetry/api';
import { OTELHTTP_SCOPE, httpClientStartAttributes } from '../../shared/src/index.js';
import type { ApiserverProfile } from './profile.js';
import { cleanScope, type RequestInfo } from './request-info.js';

/**
 * Span shapes of kube-apiserver (kubernetes-traces.md §2.2), as pure
 * functions of a profile and request facts. The request pipeline only
 * applies what these return.
 */
export const SCOPES = {
  otelhttp: OTELHTTP_SCOPE,
  filterlatency: 'k8s.op/apiserver/pkg/endpoints/filterlatency',
  componentBase: 'k8s.io/component-base/tracing',
} as const;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding, as Go's base32.StdEncoding.WithPadding(NoPadding). */
export function base32NoPadding(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * APIServerID (server/config.go, 1.27+): SHA-256 over the uint16-length-
 * prefixed hostname and "kube-apiserver", first 16 bytes, lower-case base32.
 */
export function apiserverInstanceId(hostname: string): string {
  const prefixed = (s: string): Buffer => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  const hash = createHash('sha256').update(Buffer.concat([prefixed(hostname), prefixed('kube-apiserver')])).digest();
  return `apiserver-${base32NoPadding(hash.subarray(0, 16)).toLowerCase()}`;
}

/** The only resource attributes kube-apiserver reports. */
export function apiserverResource(hostname: string): Attributes {
  return { 'service.name': 'apiserver', 'service.instance.id': apiserverInstanceId(hostname) };
}

/** filters/traces.go: route template for resource requests, the bare method otherwise. */
export function serverSpanName(profile: ApiserverProfile, method: string, info: RequestInfo): string {
  if (!profile.routeSpanNames) return 'KubernetesAPI';
  if (!info.isResourceRequest) return method;
  let name = `/${info.apiPrefix}`;
  if (info.apiGroup !== '') name += `/${info.apiGroup}`;
  name += `/${info.apiVersion}`;
  if (info.namespace !== '') name += '/namespaces/{:namespace}';
  name += `/${info.resource}`;
  if (info.name !== '') name += '/{:name}';
  if (info.subresource !== '') name += `/${info.subresource}`;
  return `${method} ${name}`;
}

export type IncomingParent =
  | { readonly kind: 'remote' }
  | { readonly kind: 'local' }
  | { readonly kind: 'root'; readonly link: boolean };

/**
 * Where the SERVER span hangs (filters/traces.go with otelhttp's public
 * endpoint rule). Privileged callers keep their context: the caller's span if
 * they sent one, else (1.33+) the authentication span the filter runs in.
 * Everyone else starts a new root, linked to a valid incoming span context.
 * Which groups count comes from the profile and the mode: story mode under
 * 1.27 honours them as 1.33+ does, its documented simplification.
 */
export function incomingParent(profile: ApiserverProfile, mode: 'story' | 'faithful', groups: readonly string[], remoteValid: boolean): IncomingParent {
  const privileged = mode === 'story' ? profile.storyPrivilegedGroups : profile.privilegedGroups;
  if (groups.some((g) => privileged.includes(g))) {
    if (remoteValid) return { kind: 'remote' };
    if (profile.authentication === 'root') return { kind: 'local' };
    return { kind: 'root', link: false };
  }
  return { kind: 'root', link: remoteValid && profile.linkUntrustedCallers };
}

const MAX_USER_AGENT = 1024;

/** lazyTruncatedUserAgent */
export function truncateUserAgent(ua: string | undefined): string {
  if (ua === undefined) return '';
  return ua.length > MAX_USER_AGENT ? `${ua.slice(0, MAX_USER_AGENT)}...TRUNCATED` : ua;
}

export interface TraceFieldInput {
  readonly accept: string;
  readonly auditId: string;
  readonly clientIp: string;
  readonly info: RequestInfo;
  /** "HTTP/2.0" or "HTTP/1.1" (Go's req.Proto). */
  readonly protocol: string;
  readonly userAgent: string;
  /** normalizedVerb() */
  readonly verb: string;
}

/** handlers/trace_util.go traceFields, in its order; every value a string. 1.29 added the RequestInfo fields. */
export function traceFields(profile: ApiserverProfile, r: TraceFieldInput): Attributes {
  return {
    accept: r.accept,
    'audit-id': r.auditId,
    client: r.clientIp,
    ...(profile.traceFieldsRequestInfo
      ? {
          'api-group': r.info.apiGroup,
          'api-version': r.info.apiVersion,
          name: r.info.name,
          subresource: r.info.subresource,
          namespace: r.info.namespace,
        }
      : {}),
    protocol: r.protocol,
    resource: r.info.resource,
    scope: cleanScope(r.info),
    url: r.info.path,
    'user-agent': truncateUserAgent(r.userAgent),
    verb: r.verb,
  };
}

/** Attributes of `Create etcd3` and `GuaranteedUpdate etcd3` (store.go). */
export function storageSpanAttributes(
  profile: ApiserverProfile,
  r: { auditId: string; key: string; goType: string; group: string; resource: string },
): Attributes {
  const base: Attributes = { 'audit-id': r.auditId, key: r.key, type: r.goType };
  if (profile.splitGroupResource) return { ...base, group: r.group, resource: r.resource };
  return { ...base, resource: r.group === '' ? r.resource : `${r.resource}.${r.group}` };
}

export function etcdListSpan(
  recursive: boolean,
  r: { auditId: string; key: string; resourceVersion: string; resourceVersionMatch: string; limit: number; continueToken: string },
): { name: string; attributes: Attributes } {
  return {
    name: `List(recursive=${recursive}) etcd3`,
    attributes: {
      'audit-id': r.auditId,
      key: r.key,
      resourceVersion: r.resourceVersion,
      resourceVersionMatch: r.resourceVersionMatch,
      limit: r.limit,
      continue: r.continueToken,
    },
  };
}

/** cacher.GetList's `type` is the GroupResource string: "pods", "leases.coordination.k8s.io". */
export function cacherGetListAttributes(auditId: string, group: string, resource: string): Attributes {
  return { 'audit-id': auditId, type: group === '' ? resource : `${resource}.${group}` };
}

export function cacherGetAttributes(auditId: string, key: string, resourceVersion: string): Attributes {
  return { 'audit-id': auditId, key, 'resource-version': resourceVersion };
}

/** The versioning JSON encoder's runtime.Identifier, as SerializeObject records it. */
export function encoderIdentifier(groupVersion: string): string {
  return JSON.stringify({
    encodeGV: groupVersion,
    encoder: JSON.stringify({ name: 'json', pretty: 'false', strict: 'false', yaml: 'false' }),
    name: 'versioning',
  });
}

export function serializeObjectAttributes(r: {
  auditId: string;
  method: string;
  path: string;
  protocol: string;
  mediaType: string;
  encoder: string;
}): Attributes {
  return { 'audit-id': r.auditId, method: r.method, url: r.path, protocol: r.protocol, mediaType: r.mediaType, encoder: r.encoder };
}

/**
 * responsewriters.deferredResponseWriter's two events for one write. 1.27
 * names the writer (%T of the wrapped ResponseWriter) on the second event and
 * says whether it was the first write; 1.35 names it on the first.
 */
export function serializeObjectEvents(
  profile: ApiserverProfile,
  r: { writer: string; size: number },
): { start: Attributes; succeeded: Attributes } {
  if (profile.serializeEvents === 'v1.27') {
    return { start: { size: r.size }, succeeded: { writer: r.writer, size: r.size, firstWrite: true } };
  }
  return { start: { writer: r.writer, size: r.size }, succeeded: { size: r.size } };
}

/**
 * What %T prints for the ResponseWriter SerializeObject writes to. 1.27's
 * handlers write through responsewriter.WrapForHTTP1Or2 (metrics, audit,
 * timeout filters): a value type for HTTP/2, a pointer that adds Hijack for
 * HTTP/1.1. 1.35 writes to the server's own writer.
 */
export function responseWriterType(profile: ApiserverProfile, protocol: string): string {
  const http2 = protocol === 'HTTP/2.0';
  if (profile.serializeEvents === 'v1.27') return http2 ? 'responsewriter.outerWithCloseNotifyAndFlush' : '*responsewriter.outerWithCloseNotifyFlushAndHijack';
  return http2 ? '*http2.responseWriter' : '*http.response';
}

/** schema.GroupVersionResource.String(): "/v1, Resource=pods". */
export function gvrString(group: string, version: string, resource: string): string {
  return `${group}/${version}, Resource=${resource}`;
}

export function admissionSpan(
  kind: 'mutating' | 'validating',
  r: { configuration: string; webhook: string; group: string; version: string; resource: string; subresource: string; operation: string; uid: string },
): { name: string; attributes: Attributes } {
  return {
    name: kind === 'mutating' ? 'Call mutating webhook' : 'Call validating webhook',
    attributes: {
      configuration: r.configuration,
      webhook: r.webhook,
      resource: gvrString(r.group, r.version, r.resource),
      subresource: r.subresource,
      operation: r.operation,
      UID: r.uid,
    },
  };
}

/**
 * The webhook `HTTP POST` CLIENT span's start attributes. Go keeps an explicit
 * :443 in the URL it built from a service reference, which WHATWG URL drops,
 * so the URL (and, for semconv v1.12, the Host it came from) is the Go string.
 * Go never sets request.TLS on a client request, so v1.12's http.scheme reads
 * "http" for the https call.
 */
/** The host:port of a URL exactly as written (WHATWG URL would drop a :443 that Go keeps and sends as Host). */
export function goUrlHost(goUrl: string): string | undefined {
  return /^[a-z]+:\/\/([^/?#]*)/i.exec(goUrl)?.[1];
}

export function webhookClientAttributes(profile: ApiserverProfile, goUrl: string, body: { userAgent: string; contentLength: number }): Attributes {
  const url = new URL(goUrl);
  const attrs = httpClientStartAttributes(profile.otelhttp, {
    method: 'POST',
    url,
    protocolVersion: profile.webhookProtocolVersion,
    userAgent: body.userAgent,
    requestContentLength: body.contentLength,
    requestTls: false,
  });
  if (profile.otelhttp.keys === 'v0.35') {
    const host = goUrlHost(goUrl) ?? url.host;
    return { ...attrs, 'http.url': goUrl, 'http.host': host };
  }
  return { ...attrs, 'url.full': goUrl };
}

/**
 * The CLIENT span's record of a failed round trip. semconv v1.12 otelhttp
 * (v0.35) calls RecordError: an `exception` event with the Go type of the
 * transport's error (not yet wrapped in *url.Error, which http.Client adds
 * outside the transport).
 */
export function webhookTransportError(profile: ApiserverProfile, goType: string, message: string): { attributes: Attributes; exception: Attributes | undefined } {
  if (profile.otelhttp.keys === 'v0.35') return { attributes: {}, exception: { 'exception.type': goType, 'exception.message': message } };
  return { attributes: { 'error.type': '*url.Error' }, exception: undefined };
}

/**
 * story mode's one simplification: the create's SERVER span context, written
 * on the pod so the scheduler and kubelet can join the trace.
 */
export const STORY_TRACEPARENT_ANNOTATION = 'trace.k8s-trace-sim.io/traceparent';

export function storyTraceparent(ctx: { traceId: string; spanId: string; traceFlags: number }): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 1) === 1 ? '01' : '00'}`;
}
