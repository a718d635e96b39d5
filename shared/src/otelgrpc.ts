import { SpanKind, SpanStatusCode, type Attributes, type SpanStatus } from '@opentelemetry/api';
import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * What one release of go.opentelemetry.io/contrib/.../otelgrpc puts on a span.
 * Values come from kubernetes-traces.md §1.2; each imitated component picks
 * the release it links (etcd 3.5.21 → 0.46.0, containerd 2.1 → 0.60.0, …).
 */
export interface OtelGrpcProfile {
  /** The module version without the "v": the instrumentation scope version. */
  readonly version: string;
  /**
   * Attribute generation: `v0.20` net.peer.ip + string port; `v0.42`
   * net.sock.peer.addr + int port; `v0.61` server.address + server.port;
   * `v0.65` the RPC semconv v1.39 keys (rpc.system.name, string status).
   */
  readonly keys: 'v0.20' | 'v0.42' | 'v0.61' | 'v0.65';
  /**
   * Message events: `none`; `full` (type, id, uncompressed size: interceptors up
   * to v0.35); `type-id` (interceptors v0.42); `stats` (stats handler with
   * WithMessageEvents: type, id, compressed and uncompressed size).
   */
  readonly messageEvents: 'none' | 'full' | 'type-id' | 'stats';
  /** Server spans: `any` marks every error (≤ v0.35); `server-fault` only the server-fault codes (v0.42+). */
  readonly serverErrors: 'any' | 'server-fault';
}

export const OTELGRPC_SCOPE = 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc';

export interface Peer {
  readonly host: string;
  readonly port: number;
}

/** `etcdserverpb.KV/Range` from `/etcdserverpb.KV/Range`: otelgrpc drops the leading slash. */
export function grpcSpanName(fullMethod: string): string {
  return fullMethod.startsWith('/') ? fullMethod.slice(1) : fullMethod;
}

/** Splits `/pkg.Service/Method` into service and method, as otelgrpc's ParseFullMethod does. */
export function parseFullMethod(fullMethod: string): { service: string; method: string } | undefined {
  const name = grpcSpanName(fullMethod);
  const slash = name.lastIndexOf('/');
  if (slash <= 0 || slash === name.length - 1) return undefined;
  return { service: name.slice(0, slash), method: name.slice(slash + 1) };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * grpc-js peer strings look like `127.0.0.1:5123`, `[::1]:5123` or, on a unix
 * socket, a path or nothing useful. Only a parsable host:port yields a peer,
 * which is why CRI spans over containerd's socket carry no peer attributes.
 */
export function parsePeer(peer: string | undefined): Peer | undefined {
  if (!peer) return undefined;
  const p = peer.replace(/^(ipv4|ipv6):/, '');
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(p) ?? /^([^:/\s]+):(\d+)$/.exec(p);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { host: m[1], port };
}

/** An IPv4 or IPv6 literal (no brackets), as net.ParseIP would accept it for our purposes. */
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(':');
}

export function peerAttributes(profile: OtelGrpcProfile, peer: Peer | undefined): Attributes {
  if (!peer) return {};
  switch (profile.keys) {
    case 'v0.20':
      return { 'net.peer.ip': peer.host, 'net.peer.port': String(peer.port) };
    case 'v0.42':
      return isIpLiteral(peer.host)
        ? { 'net.sock.peer.addr': peer.host, 'net.sock.peer.port': peer.port }
        : { 'net.peer.name': peer.host, 'net.peer.port': peer.port };
    case 'v0.61':
    case 'v0.65':
      return { 'server.address': peer.host, 'server.port': peer.port };
  }
}

/** Name, kind and start attributes of an otelgrpc span, in otelgrpc's attribute order. */
export function grpcSpanStart(
  profile: OtelGrpcProfile,
  fullMethod: string,
  kind: SpanKind.CLIENT | SpanKind.SERVER,
  peer: Peer | undefined,
): { name: string; kind: SpanKind; attributes: Attributes } {
  const name = grpcSpanName(fullMethod);
  const parsed = parseFullMethod(fullMethod);
  const attributes: Attributes =
    profile.keys === 'v0.65'
      ? { 'rpc.system.name': 'grpc', ...(parsed ? { 'rpc.method': name } : {}) }
      : {
          'rpc.system': 'grpc',
          ...(parsed ? { 'rpc.service': parsed.service, 'rpc.method': parsed.method } : {}),
        };
  return { name, kind, attributes: { ...attributes, ...peerAttributes(profile, peer) } };
}

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(GrpcStatus)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

/** `NOT_FOUND` for 5: the names the v0.65 keys use. */
export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? 'UNKNOWN';
}

/** The status-code attribute set when the call ends. */
export function grpcStatusAttributes(profile: OtelGrpcProfile, code: number): Attributes {
  return profile.keys === 'v0.65'
    ? { 'rpc.response.status_code': grpcCodeName(code) }
    : { 'rpc.grpc.status_code': code };
}

const SERVER_FAULT_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.UNKNOWN,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

/**
 * Span status at the end of a call. Success is Unset, never Ok. Clients mark
 * every non-OK code; servers from v0.42 on only the server-fault codes.
 */
export function grpcSpanStatus(
  profile: OtelGrpcProfile,
  kind: SpanKind.CLIENT | SpanKind.SERVER,
  code: number,
  message: string,
): SpanStatus {
  if (code === GrpcStatus.OK) return { code: SpanStatusCode.UNSET };
  const isError = kind === SpanKind.CLIENT || profile.serverErrors === 'any' || SERVER_FAULT_CODES.has(code);
  return isError ? { code: SpanStatusCode.ERROR, message } : { code: SpanStatusCode.UNSET };
}

/**
 * Interceptor releases (≤ v0.45) record a message event whatever the outcome:
 * the client a RECEIVED for the empty reply after a failed call, the server a
 * SENT carrying the status proto. The stats handler sees no payload then.
 */
export function messageEventsOnError(profile: OtelGrpcProfile): boolean {
  return profile.messageEvents === 'full' || profile.messageEvents === 'type-id';
}

/** Serialized size of google.rpc.Status{code, message}, what the server interceptor's SENT event measures on an error. */
export function statusProtoSize(code: number, message: string): number {
  const varintLen = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);
  const len = Buffer.byteLength(message);
  return (code !== 0 ? 1 + varintLen(code) : 0) + (len > 0 ? 1 + varintLen(len) + len : 0);
}

/**
 * The `message` event for one message, or undefined when this otelgrpc
 * release (as wired by the component) records none.
 */
export function grpcMessageEvent(
  profile: OtelGrpcProfile,
  direction: 'SENT' | 'RECEIVED',
  id: number,
  size: number,
): Attributes | undefined {
  switch (profile.messageEvents) {
    case 'none':
      return undefined;
    case 'full':
      return { 'message.type': direction, 'message.id': id, 'message.uncompressed_size': size };
    case 'type-id':
      return { 'message.type': direction, 'message.id': id };
    case 'stats':
      return profile.keys === 'v0.65'
        ? {
            'rpc.message.type': direction,
            'rpc.message.id': id,
            'rpc.message.compressed_size': size,
            'rpc.message.uncompressed_size': size,
          }
        : {
            'message.type': direction,
            'message.id': id,
            'message.compressed_size': size,
            'message.uncompressed_size': size,
          };
  }
}
