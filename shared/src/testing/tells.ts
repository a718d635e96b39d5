import type { ReceivedSpan } from '../otlp-receiver.js';
import type { AttrValue } from '../otlp-json.js';

/**
 * The "tells" of kubernetes-traces.md §10: what gives a trace away as fake to
 * someone who has read real kube-apiserver, etcd, kubelet and containerd
 * traces. findTells is a pure function over received spans, so a test can run
 * it over everything a real run exported and expect nothing back.
 */

/** The parts of a received span the checks read. */
export type TellSpan = Pick<
  ReceivedSpan,
  | 'traceId'
  | 'spanId'
  | 'parentSpanId'
  | 'name'
  | 'kind'
  | 'startTimeUnixNano'
  | 'endTimeUnixNano'
  | 'attributes'
  | 'events'
  | 'links'
  | 'status'
  | 'resource'
  | 'scope'
>;

export interface Violation {
  /** The tell's number in kubernetes-traces.md §10 (1–14). */
  readonly tell: number;
  readonly message: string;
  /** The offending span; absent when the tell is about what is missing. */
  readonly span?: TellSpan;
}

export interface TellOptions {
  readonly profile: '1.27' | '1.35';
  readonly mode: 'faithful' | 'story';
  /**
   * Also flag the durations the reference calls impossible (a write Txn under
   * 0.2 ms, RunPodSandbox under 50 ms, …). Off for `--timing fast` runs.
   */
  readonly realisticTiming?: boolean;
}

const KIND = { internal: 1, server: 2, client: 3 } as const;
const KIND_NAMES: Record<number, string> = { 0: 'UNSPECIFIED', 1: 'INTERNAL', 2: 'SERVER', 3: 'CLIENT', 4: 'PRODUCER', 5: 'CONSUMER' };
const STATUS = { unset: 0, ok: 1, error: 2 } as const;

export const SCOPE_NAMES = {
  otelhttp: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp',
  otelgrpc: 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc',
  componentBase: 'k8s.io/component-base/tracing',
  filterlatency: 'k8s.op/apiserver/pkg/endpoints/filterlatency',
  kubelet: 'k8s.io/kubernetes/pkg/kubelet',
  otelttrpc: 'github.com/containerd/otelttrpc',
} as const;

/** How one component's otelgrpc behaves in a profile (§1.2, §3, §6.1). */
interface GrpcSide {
  readonly scopeVersion: RegExp;
  /** `full`: type, id and uncompressed size (interceptors ≤ v0.40); `stats`: also the compressed size. */
  readonly events: 'none' | 'full' | 'stats';
  /** Peer keys: `v0.20` net.peer.ip + string port; `v0.42` net.sock.peer.* with int port; `none` none at all. */
  readonly peer: 'none' | 'v0.20' | 'v0.42' | 'v0.42-or-none';
  /** Server status for a non-OK code: `any` marks all, `server-fault` only the server-fault codes. */
  readonly serverErrors: 'any' | 'server-fault' | 'unknown';
}

interface TellProfile {
  /** 1.31+: route-template SERVER span names; before, `KubernetesAPI`. */
  readonly routeNames: boolean;
  /** semconv v1.12 (`http.method`) or stable (`http.request.method`) on the apiserver's and kubelet's otelhttp spans. */
  readonly httpKeys: 'old' | 'stable';
  readonly otelhttpVersion: RegExp;
  readonly apiserverEtcd: GrpcSide;
  readonly kubeletCri: GrpcSide;
  readonly etcdServer: GrpcSide;
  readonly containerdServer: GrpcSide;
  /** 1.34+: `audit-id` on the SERVER span. */
  readonly serverAuditId: boolean;
  /** 1.29+: traceFields adds api-group, api-version, name, subresource, namespace. */
  readonly handlerInfoFields: boolean;
  /** 1.34+: storage spans carry `group` and `resource` rather than one GroupResource string. */
  readonly splitGroupResource: boolean;
  /** 1.31+ (PR #125017): a failed syncPod has status Error. */
  readonly syncPodErrorStatus: boolean;
  /** containerd 1.7: `pkg.cri.server.*` image spans end Ok. */
  readonly containerdCriOk: boolean;
}

const PROFILES: Readonly<Record<TellOptions['profile'], TellProfile>> = {
  // k3s v1.27.1: otelhttp/otelgrpc v0.35.x, etcd 3.5.7 (otelgrpc v0.25 interceptors), containerd 1.7.1 (v0.40 interceptors).
  // Until v0.46 the contrib tracers' scope version is SemVersion(): "semver:" + the module version.
  '1.27': {
    routeNames: false,
    httpKeys: 'old',
    otelhttpVersion: /^semver:0\.35\.\d+$/,
    apiserverEtcd: { scopeVersion: /^semver:0\.35\.\d+$/, events: 'full', peer: 'none', serverErrors: 'any' },
    kubeletCri: { scopeVersion: /^semver:0\.35\.\d+$/, events: 'full', peer: 'none', serverErrors: 'any' },
    etcdServer: { scopeVersion: /^semver:0\.25\.0$/, events: 'full', peer: 'v0.20', serverErrors: 'any' },
    containerdServer: { scopeVersion: /^semver:0\.40\.0$/, events: 'full', peer: 'none', serverErrors: 'unknown' },
    serverAuditId: false,
    handlerInfoFields: false,
    splitGroupResource: false,
    syncPodErrorStatus: false,
    containerdCriOk: true,
  },
  // otelhttp v0.61.0, otelgrpc v0.60.0 stats handlers, etcd 3.5.21 (v0.46.0), containerd 2.1.4 (v0.60.0, no options).
  '1.35': {
    routeNames: true,
    httpKeys: 'stable',
    otelhttpVersion: /^0\.61\.0$/,
    apiserverEtcd: { scopeVersion: /^0\.60\.0$/, events: 'stats', peer: 'v0.42-or-none', serverErrors: 'server-fault' },
    kubeletCri: { scopeVersion: /^0\.60\.0$/, events: 'stats', peer: 'none', serverErrors: 'server-fault' },
    etcdServer: { scopeVersion: /^0\.46\.0$/, events: 'none', peer: 'v0.42', serverErrors: 'server-fault' },
    containerdServer: { scopeVersion: /^0\.60\.0$/, events: 'none', peer: 'none', serverErrors: 'server-fault' },
    serverAuditId: true,
    handlerInfoFields: true,
    splitGroupResource: true,
    syncPodErrorStatus: true,
    containerdCriOk: false,
  },
};

// ---------------------------------------------------------------------------
// What a span is, from the service that emitted it and its name.

type Role =
  | 'apiserver-server'
  | 'apiserver-http-client'
  | 'apiserver-grpc-client'
  | 'apiserver-filter'
  | 'apiserver-internal'
  | 'etcd-server'
  | 'kubelet-sync'
  | 'kubelet-internal'
  | 'kubelet-grpc-client'
  | 'kubelet-http-client'
  | 'containerd-server'
  | 'containerd-ttrpc'
  | 'containerd-internal'
  | 'webhook-server'
  | 'other';

const FILTER_SPANS = new Set(['authentication', 'audit', 'impersonation', 'constrainedimpersonation', 'priorityandfairness', 'authorization']);
const SYNC_SPANS = new Set(['syncPod', 'syncTerminatingPod', 'syncTerminatedPod']);
const HTTP_METHODS = 'GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE';
const HTTP_CLIENT_NAME = new RegExp(`^HTTP (${HTTP_METHODS})$`);
const BARE_METHOD = new RegExp(`^(${HTTP_METHODS})$`);
const ROUTE_NAME = new RegExp(`^(${HTTP_METHODS}) /`);
/** A gRPC method as otelgrpc names it, or with the leading slash it must not have. */
const GRPC_NAME = /^\/?[A-Za-z_][\w.]*\/\w+$/;

export const service = (s: TellSpan): string => String(s.resource['service.name'] ?? '');

function roleOf(s: TellSpan): Role {
  const svc = service(s);
  const n = s.name;
  switch (svc) {
    case 'apiserver':
      if (n === 'KubernetesAPI' || ROUTE_NAME.test(n) || BARE_METHOD.test(n)) return 'apiserver-server';
      if (HTTP_CLIENT_NAME.test(n)) return 'apiserver-http-client';
      if (GRPC_NAME.test(n)) return 'apiserver-grpc-client';
      if (FILTER_SPANS.has(n)) return 'apiserver-filter';
      return 'apiserver-internal';
    case 'etcd':
      return GRPC_NAME.test(n) ? 'etcd-server' : 'other';
    case 'kubelet':
      if (SYNC_SPANS.has(n)) return 'kubelet-sync';
      if (HTTP_CLIENT_NAME.test(n)) return 'kubelet-http-client';
      if (GRPC_NAME.test(n)) return 'kubelet-grpc-client';
      return 'kubelet-internal';
    case 'containerd':
      if (/^\/?containerd\.task\./.test(n)) return 'containerd-ttrpc';
      if (GRPC_NAME.test(n)) return 'containerd-server';
      return 'containerd-internal';
    case 'webhook':
      return s.scope.name === SCOPE_NAMES.otelhttp ? 'webhook-server' : 'other';
    default:
      return 'other';
  }
}

const EXPECTED_KIND: Partial<Record<Role, number>> = {
  'apiserver-server': KIND.server,
  'apiserver-http-client': KIND.client,
  'apiserver-grpc-client': KIND.client,
  'apiserver-filter': KIND.internal,
  'apiserver-internal': KIND.internal,
  'etcd-server': KIND.server,
  'kubelet-sync': KIND.internal,
  'kubelet-internal': KIND.internal,
  'kubelet-grpc-client': KIND.client,
  'kubelet-http-client': KIND.client,
  'containerd-server': KIND.server,
  'containerd-ttrpc': KIND.client,
  'containerd-internal': KIND.internal,
  'webhook-server': KIND.server,
};

const isHttpRole = (r: Role): boolean =>
  r === 'apiserver-server' || r === 'apiserver-http-client' || r === 'kubelet-http-client' || r === 'webhook-server';
const isGrpcRole = (r: Role): boolean =>
  r === 'apiserver-grpc-client' || r === 'kubelet-grpc-client' || r === 'etcd-server' || r === 'containerd-server';

function grpcSide(p: TellProfile, r: Role): GrpcSide | undefined {
  switch (r) {
    case 'apiserver-grpc-client':
      return p.apiserverEtcd;
    case 'kubelet-grpc-client':
      return p.kubeletCri;
    case 'etcd-server':
      return p.etcdServer;
    case 'containerd-server':
      return p.containerdServer;
    default:
      return undefined;
  }
}

/** Streaming RPCs: their message events are one per message, not one each way. */
const STREAMING = new Set([
  'etcdserverpb.Watch/Watch',
  'etcdserverpb.Lease/LeaseKeepAlive',
  'etcdserverpb.Maintenance/Snapshot',
  'runtime.v1.RuntimeService/GetContainerEvents',
]);

// ---------------------------------------------------------------------------
// Small helpers.

const nanos = (s: TellSpan): bigint => s.endTimeUnixNano - s.startTimeUnixNano;
const ms = (n: bigint): string => `${(Number(n) / 1e6).toFixed(3)} ms`;
const isInt = (v: AttrValue | undefined): boolean => typeof v === 'number' && Number.isInteger(v);
const str = (v: AttrValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export function describeSpan(s: TellSpan): string {
  return `${service(s) || '?'} ${KIND_NAMES[s.kind] ?? s.kind} "${s.name}" (span ${s.spanId}, trace ${s.traceId})`;
}

/** One line per violation, for test failure messages. */
export function formatViolations(vs: readonly Violation[]): string {
  return vs.map((v) => `tell ${v.tell}: ${v.message}${v.span ? ` — ${describeSpan(v.span)}` : ''}`).join('\n');
}

/** The request path (no query) of an apiserver or webhook SERVER span, from url.path or http.target. */
function requestPath(s: TellSpan): string | undefined {
  const p = str(s.attributes['url.path']) ?? str(s.attributes['http.target']);
  return p?.split('?')[0];
}

function requestMethod(s: TellSpan): string | undefined {
  return str(s.attributes['http.request.method']) ?? str(s.attributes['http.method']);
}

function httpStatusCode(s: TellSpan): AttrValue | undefined {
  return s.attributes['http.response.status_code'] ?? s.attributes['http.status_code'];
}

/** The URL a client span asked for: url.full (stable) or http.url (v1.12). */
function clientUrl(s: TellSpan): URL | undefined {
  const u = str(s.attributes['url.full']) ?? str(s.attributes['http.url']);
  if (!u) return undefined;
  try {
    return new URL(u);
  } catch {
    return undefined;
  }
}

/** fields.Selector.RequiresExactMatch("metadata.name") over a raw fieldSelector. */
function exactName(fieldSelector: string | null): string | undefined {
  for (const term of (fieldSelector ?? '').split(',')) {
    const m = /^metadata\.name(==|=)([^=]*)$/.exec(term.trim());
    if (m && m[2] !== undefined && m[2] !== '' && !m[2].includes('/') && !m[2].includes('%') && m[2] !== '.' && m[2] !== '..') return m[2];
  }
  return undefined;
}

/**
 * The SERVER span name kube-apiserver ≥ 1.31 gives a request
 * (filters/traces.go getSpanNameFromRequestInfo over RequestInfoFactory's
 * parse): the method alone for non-resource paths. A list or watch whose
 * fieldSelector pins metadata.name gets `{:name}` too, as RequestInfo sets
 * Name from it.
 */
export function expectedRouteName(method: string, path: string, query = ''): string {
  let parts = path.replace(/^\/+|\/+$/g, '').split('/').filter((p) => p !== '');
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return method;
  const prefix = parts[0] as string;
  parts = parts.slice(1);
  let group = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return method;
    group = parts[0] as string;
    parts = parts.slice(1);
  }
  const version = parts[0] as string;
  parts = parts.slice(1);
  let verb = '';
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    verb = parts[0];
    parts = parts.slice(1);
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1] as string;
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  let name = `/${prefix}`;
  if (group !== '') name += `/${group}`;
  name += `/${version}`;
  if (namespace !== '') name += '/namespaces/{:namespace}';
  name += `/${parts[0] ?? ''}`;
  const listByName = parts.length === 1 && (method === 'GET' || method === 'HEAD') && exactName(new URLSearchParams(query).get('fieldSelector')) !== undefined;
  if (parts.length >= 2 || listByName) name += '/{:name}';
  if (parts.length >= 3 && verb !== 'proxy') name += `/${parts[2]}`;
  return `${method} ${name}`;
}

// ---------------------------------------------------------------------------
// The checks. Each pushes violations for one tell.

type Push = (tell: number, message: string, span?: TellSpan) => void;

interface Ctx {
  readonly spans: readonly TellSpan[];
  readonly byId: ReadonlyMap<string, TellSpan>;
  readonly children: ReadonlyMap<string, readonly TellSpan[]>;
  readonly role: (s: TellSpan) => Role;
  readonly p: TellProfile;
  readonly opts: TellOptions;
  readonly push: Push;
}

function tell1Kinds(c: Ctx): void {
  for (const s of c.spans) {
    const want = EXPECTED_KIND[c.role(s)];
    if (want !== undefined && s.kind !== want) c.push(1, `kind ${KIND_NAMES[s.kind] ?? s.kind}, must be ${KIND_NAMES[want]}`, s);
  }
}

function tell2OneTrace(c: Ctx): void {
  // Story mode's documented simplification joins these on purpose.
  if (c.opts.mode !== 'faithful') return;
  const traces = new Map<string, TellSpan[]>();
  for (const s of c.spans) {
    if (s.name === 'syncPod' && service(s) === 'kubelet' && (s.parentSpanId !== '' || s.links.length > 0)) {
      c.push(2, 'syncPod must be a root span with no link', s);
    }
    let t = traces.get(s.traceId);
    if (!t) traces.set(s.traceId, (t = []));
    t.push(s);
  }
  for (const t of traces.values()) {
    const servers = t.filter((s) => c.role(s) === 'apiserver-server');
    if (servers.length > 1) {
      c.push(2, `${servers.length} apiserver requests in one trace (${servers.map((s) => s.name).join(', ')}): each request is its own trace`, servers[1]);
    }
    const kubelet = t.find((s) => service(s) === 'kubelet');
    if (kubelet && servers.length > 0) c.push(2, 'a kubelet span shares a trace with an apiserver request', kubelet);
  }
}

const ETCD_NAME = /^etcdserverpb\.[A-Za-z]+\/[A-Za-z]+$/;
const CRI_NAME = /^runtime\.v1\.(RuntimeService|ImageService)\/[A-Za-z]+$/;

function tell3Names(c: Ctx): void {
  for (const s of c.spans) {
    const r = c.role(s);
    if ((isGrpcRole(r) || r === 'containerd-ttrpc') && s.name.startsWith('/')) c.push(3, 'gRPC span names have no leading slash', s);
    if ((r === 'apiserver-grpc-client' || r === 'etcd-server') && !ETCD_NAME.test(s.name)) {
      c.push(3, 'etcd spans are named like etcdserverpb.KV/Txn', s);
    }
    if (r === 'kubelet-grpc-client' && !CRI_NAME.test(s.name)) c.push(3, 'CRI spans are named like runtime.v1.RuntimeService/RunPodSandbox', s);
    if (service(s) === 'etcd' && r === 'other') c.push(3, 'etcd emits only otelgrpc server spans', s);
    if (r === 'apiserver-internal' && /^(webhook|etcd)\b|^(KV\.|Txn$|Range$)/i.test(s.name)) c.push(3, 'not a name kube-apiserver uses', s);
    if (r === 'apiserver-server') {
      const method = requestMethod(s);
      const path = requestPath(s);
      const query = str(s.attributes['http.target'])?.split('?')[1] ?? '';
      if (!c.p.routeNames) {
        if (s.name !== 'KubernetesAPI') c.push(3, 'before 1.31 every apiserver SERVER span is named KubernetesAPI', s);
      } else if (s.name === 'KubernetesAPI') {
        c.push(3, 'KubernetesAPI is the pre-1.31 name; 1.31+ names the route', s);
      } else if (method !== undefined && path !== undefined) {
        const want = expectedRouteName(method, path, query);
        if (s.name !== want) c.push(3, `route name must be "${want}" (placeholders {:namespace}/{:name}, never literal values)`, s);
      }
    }
    // The webhook call is otelhttp's Transport span: `HTTP POST`, never the path or a made-up name.
    if (c.role(s) === 'apiserver-internal' && /^Call (mutating|validating) webhook$/.test(s.name)) {
      for (const k of c.children.get(s.spanId) ?? []) {
        if (service(k) === 'apiserver' && k.name !== 'HTTP POST') c.push(3, 'the webhook client span is named HTTP POST', k);
      }
    }
  }
}

function messageEvents(s: TellSpan): TellSpan['events'] {
  return s.events.filter((e) => e.name === 'message');
}

function grpcOk(s: TellSpan): boolean {
  const code = s.attributes['rpc.grpc.status_code'];
  return code === undefined || code === 0;
}

const MESSAGE_KEYS = {
  full: { required: ['message.type', 'message.id'], allowed: ['message.type', 'message.id', 'message.uncompressed_size'] },
  stats: {
    required: ['message.type', 'message.id'],
    allowed: ['message.type', 'message.id', 'message.compressed_size', 'message.uncompressed_size'],
  },
} as const;

function tell4Events(c: Ctx): void {
  for (const s of c.spans) {
    const r = c.role(s);
    if (isHttpRole(r)) {
      // No ReadEvents/WriteEvents by default; a transport error is the only event an old otelhttp records.
      const extra = s.events.filter((e) => !(e.name === 'exception' && s.status.code === STATUS.error));
      if (extra.length > 0) c.push(4, `otelhttp spans carry no events (has ${extra.map((e) => e.name).join(', ')})`, s);
      continue;
    }
    const side = grpcSide(c.p, r);
    if (!side) continue;
    const msgs = messageEvents(s);
    if (side.events === 'none') {
      if (msgs.length > 0) c.push(4, `this ${r.replace(/-.*/, '')} version records no message events (has ${msgs.length})`, s);
      continue;
    }
    if (STREAMING.has(s.name)) continue;
    const server = s.kind === KIND.server;
    const order = server ? (['RECEIVED', 'SENT'] as const) : (['SENT', 'RECEIVED'] as const);
    const got = msgs.map((e) => `${String(e.attributes['message.type'])}#${String(e.attributes['message.id'])}`);
    // A stats-handler client records no RECEIVED when the call fails: no response message arrives.
    const wantBoth = grpcOk(s) || side.events === 'full' || server;
    const want = wantBoth ? [`${order[0]}#1`, `${order[1]}#1`] : [`${order[0]}#1`];
    if (got.join(',') !== want.join(',')) {
      c.push(4, `a unary call has message events ${want.join(' then ')} (id 1), got [${got.join(', ')}]`, s);
    }
    const keys = MESSAGE_KEYS[side.events];
    for (const e of msgs) {
      const k = Object.keys(e.attributes);
      const missing = keys.required.filter((x) => !k.includes(x));
      const unknown = k.filter((x) => !(keys.allowed as readonly string[]).includes(x));
      if (missing.length > 0 || unknown.length > 0) {
        c.push(4, `message event keys: missing [${missing.join(', ')}], not of this otelgrpc [${unknown.join(', ')}]`, s);
        break;
      }
      if (!isInt(e.attributes['message.id'])) c.push(4, 'message.id is an int', s);
    }
  }
}

const OLD_HTTP = new Set([
  'http.method',
  'http.status_code',
  'http.url',
  'http.scheme',
  'http.host',
  'http.flavor',
  'http.user_agent',
  'http.server_name',
  'http.client_ip',
  'http.read_bytes',
  'http.wrote_bytes',
  'http.request_content_length',
  'http.response_content_length',
  'net.transport',
  'net.peer.ip',
  'net.peer.name',
  'net.peer.port',
  'net.host.ip',
  'net.host.name',
  'net.host.port',
  'net.sock.peer.addr',
  'net.sock.peer.port',
  'net.protocol.name',
  'net.protocol.version',
]);
const STABLE_HTTP = new Set([
  'http.request.method',
  'http.response.status_code',
  'url.full',
  'url.path',
  'url.scheme',
  'url.query',
  'server.address',
  'server.port',
  'network.peer.address',
  'network.peer.port',
  'client.address',
  'network.protocol.name',
  'network.protocol.version',
  'http.request.body.size',
  'http.response.body.size',
  'error.type',
  'user_agent.original',
]);

const PEER_KEYS: Record<'v0.20' | 'v0.42' | 'v0.61', readonly string[]> = {
  'v0.20': ['net.peer.ip', 'net.peer.port'],
  'v0.42': ['net.sock.peer.addr', 'net.sock.peer.port', 'net.peer.name', 'net.peer.port'],
  'v0.61': ['server.address', 'server.port'],
};
const ALL_PEER_KEYS = new Set(Object.values(PEER_KEYS).flat());

function tell5Generations(c: Ctx): void {
  for (const s of c.spans) {
    const r = c.role(s);
    const keys = Object.keys(s.attributes);
    if (isHttpRole(r)) {
      // http.target is added by Kubernetes itself on its stable-semconv SERVER span; user_agent.original is in both v1.20 and stable.
      const old = keys.filter((k) => OLD_HTTP.has(k) && k !== 'http.target');
      const stable = keys.filter((k) => STABLE_HTTP.has(k) && k !== 'user_agent.original');
      if (old.length > 0 && stable.length > 0) c.push(5, `mixes HTTP semconv generations: ${old.join(', ')} with ${stable.join(', ')}`, s);
      if (r !== 'webhook-server') {
        if (c.p.httpKeys === 'old' && (stable.length > 0 || keys.includes('user_agent.original') || !keys.includes('http.method'))) {
          c.push(5, `this profile's otelhttp uses semconv v1.12 keys (http.method, http.status_code…), has ${keys.join(', ')}`, s);
        }
        if (c.p.httpKeys === 'stable' && (old.length > 0 || !keys.includes('http.request.method'))) {
          c.push(5, `this profile's otelhttp uses the stable HTTP keys (http.request.method…), has ${keys.join(', ')}`, s);
        }
      }
      const code = httpStatusCode(s);
      if (code !== undefined && !isInt(code)) c.push(5, 'the HTTP status code attribute is an int', s);
      if (r === 'apiserver-server' && keys.includes('audit-id') !== c.p.serverAuditId) {
        c.push(5, c.p.serverAuditId ? '1.34+ puts audit-id on the SERVER span' : 'audit-id on the SERVER span is 1.34+', s);
      }
    }
    if (isGrpcRole(r) || r === 'containerd-ttrpc') {
      if ('rpc.system.name' in s.attributes || 'rpc.response.status_code' in s.attributes) {
        c.push(5, 'rpc.system.name / rpc.response.status_code are otelgrpc v0.65+ (Kubernetes 1.36); ≤ 1.35 uses rpc.system and rpc.grpc.status_code', s);
      }
      const system = s.attributes['rpc.system'];
      if (system !== (r === 'containerd-ttrpc' ? 'ttrpc' : 'grpc')) c.push(5, `rpc.system is "${r === 'containerd-ttrpc' ? 'ttrpc' : 'grpc'}"`, s);
      const code = s.attributes['rpc.grpc.status_code'];
      if (code === undefined) c.push(5, 'rpc.grpc.status_code is set when the call ends', s);
      else if (!isInt(code)) c.push(5, 'rpc.grpc.status_code is an int', s);
      const slash = s.name.replace(/^\//, '').lastIndexOf('/');
      const svc = s.name.replace(/^\//, '').slice(0, slash);
      const method = s.name.replace(/^\//, '').slice(slash + 1);
      if (s.attributes['rpc.service'] !== svc || s.attributes['rpc.method'] !== method) {
        c.push(5, `rpc.service "${svc}" and rpc.method "${method}" (the short method)`, s);
      }
      const side = grpcSide(c.p, r);
      const peer = keys.filter((k) => ALL_PEER_KEYS.has(k));
      if (side && peer.length > 0) {
        const allowed = side.peer === 'v0.20' ? PEER_KEYS['v0.20'] : side.peer === 'none' ? [] : PEER_KEYS['v0.42'];
        const wrong = peer.filter((k) => !allowed.includes(k));
        if (wrong.length > 0) c.push(5, `peer keys ${wrong.join(', ')} are not this otelgrpc's (${allowed.join(', ') || 'none over this connection'})`, s);
        const port = s.attributes['net.peer.port'];
        if (side.peer === 'v0.20' && port !== undefined && typeof port !== 'string') c.push(5, 'otelgrpc ≤ v0.35 writes net.peer.port as a string', s);
        const sockPort = s.attributes['net.sock.peer.port'];
        if (sockPort !== undefined && !isInt(sockPort)) c.push(5, 'net.sock.peer.port is an int', s);
      } else if (side && side.peer === 'v0.42' && s.kind === KIND.server && !keys.includes('net.sock.peer.addr')) {
        c.push(5, 'this otelgrpc server records the caller as net.sock.peer.addr/port', s);
      } else if (side && side.peer === 'v0.20' && s.kind === KIND.server && !keys.includes('net.peer.ip')) {
        c.push(5, 'this otelgrpc server records the caller as net.peer.ip/port', s);
      }
    }
  }
}

const HANDLER_SPANS = new Set(['Create', 'Get', 'List', 'Update', 'Patch', 'Delete', 'DeleteCollection', 'Watch']);
const TRACE_FIELDS = ['accept', 'audit-id', 'client', 'protocol', 'resource', 'scope', 'url', 'user-agent', 'verb'];
const TRACE_FIELDS_129 = ['api-group', 'api-version', 'name', 'subresource', 'namespace'];
const LIST_ETCD_KEYS = ['audit-id', 'key', 'resourceVersion', 'resourceVersionMatch', 'limit', 'continue'];

/** The exact keys of each component-base span kube-apiserver emits (§2.2 C–F). */
function componentBaseKeys(p: TellProfile, name: string): readonly string[] | undefined {
  if (HANDLER_SPANS.has(name)) return p.handlerInfoFields ? [...TRACE_FIELDS, ...TRACE_FIELDS_129] : TRACE_FIELDS;
  if (/^(Create|GuaranteedUpdate|Delete|Get) etcd3$/.test(name)) {
    return p.splitGroupResource ? ['audit-id', 'key', 'type', 'group', 'resource'] : ['audit-id', 'key', 'type', 'resource'];
  }
  if (/^List\(recursive=(true|false)\) etcd3$/.test(name)) return LIST_ETCD_KEYS;
  if (name === 'cacher list' || name === 'cacher.GetList') return ['audit-id', 'type'];
  if (name === 'cacher.Get') return ['audit-id', 'key', 'resource-version'];
  if (name === 'SerializeObject') return ['audit-id', 'method', 'url', 'protocol', 'mediaType', 'encoder'];
  if (name === 'Call mutating webhook' || name === 'Call validating webhook') {
    return ['configuration', 'webhook', 'resource', 'subresource', 'operation', 'UID'];
  }
  return undefined;
}

/** Spellings that look right and are not what kube-apiserver writes. */
const MISSPELT: Record<string, string> = {
  audit_id: 'audit-id',
  auditID: 'audit-id',
  auditId: 'audit-id',
  'audit.id': 'audit-id',
  user_agent: 'user-agent',
  userAgent: 'user-agent',
  apiGroup: 'api-group',
  api_group: 'api-group',
  apiVersion: 'api-version',
  api_version: 'api-version',
  uid: 'UID',
  media_type: 'mediaType',
  'media-type': 'mediaType',
  resource_version: 'resourceVersion',
};
const SYNC_KEYS = ['k8s.pod.uid', 'k8s.pod', 'k8s.pod.name', 'k8s.pod.update_type', 'k8s.namespace.name'];
const GO_DURATION = /^(\d+(\.\d+)?(ns|µs|us|ms|s|m|h))+$/;

function tell6Spelling(c: Ctx): void {
  for (const s of c.spans) {
    const r = c.role(s);
    const keys = Object.keys(s.attributes);
    if (r === 'apiserver-internal') {
      for (const k of keys) {
        if (MISSPELT[k]) c.push(6, `"${k}" is spelt "${MISSPELT[k]}" by kube-apiserver`, s);
        else if (!/^[A-Za-z]+(-[A-Za-z]+)*$/.test(k)) c.push(6, `"${k}": apiserver keys are hyphenated and unprefixed`, s);
      }
      const want = componentBaseKeys(c.p, s.name);
      if (want) {
        const extra = keys.filter((k) => !want.includes(k));
        const missing = want.filter((k) => !keys.includes(k));
        if (extra.length > 0 || missing.length > 0) c.push(6, `keys: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`, s);
      }
      for (const [k, v] of Object.entries(s.attributes)) {
        if (k === 'limit' ? !isInt(v) : typeof v !== 'string') c.push(6, `"${k}" is ${k === 'limit' ? 'an int' : 'a string'}`, s);
      }
    }
    if (r === 'apiserver-filter' && keys.length > 0) c.push(6, 'filter spans carry no attributes', s);
    if (r === 'kubelet-sync') {
      const extra = keys.filter((k) => !SYNC_KEYS.includes(k));
      const missing = s.name === 'syncPod' ? ['k8s.pod.uid', 'k8s.pod', 'k8s.pod.update_type'].filter((k) => !keys.includes(k)) : [];
      if (extra.length > 0 || missing.length > 0) c.push(6, `kubelet keys: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`, s);
      for (const [k, v] of Object.entries(s.attributes)) if (typeof v !== 'string') c.push(6, `"${k}" is a string`, s);
    }
    if (service(s) === 'containerd') {
      const own = [
        ...keys.filter((k) => !k.startsWith('rpc.')),
        ...s.events.filter((e) => e.name !== 'message').flatMap((e) => Object.keys(e.attributes)),
      ];
      for (const k of own) {
        if (k.startsWith('k8s.')) c.push(6, `"${k}": containerd does not use the OTel k8s semconv`, s);
        else if (!/^[a-z]+(\.[a-z]+(_[a-z]+)*)*$/.test(k)) c.push(6, `"${k}": containerd keys are dotted lower case (sandbox.id)`, s);
      }
      for (const e of s.events) {
        for (const [k, v] of Object.entries(e.attributes)) {
          if (k.endsWith('.duration') && !(typeof v === 'string' && GO_DURATION.test(v))) c.push(6, `"${k}" is a Go duration string like "48.1ms"`, s);
        }
      }
    }
  }
}

const APISERVER_ID = /^apiserver-[a-z2-7]{26}$/;

function tell7Resources(c: Ctx): void {
  const seen = new Set<string>();
  for (const s of c.spans) {
    // Resources are per process; one report per distinct resource is enough.
    const key = JSON.stringify(s.resource);
    if (seen.has(key)) continue;
    seen.add(key);
    const res = s.resource;
    const svc = service(s);
    const keys = Object.keys(res);
    if (res['telemetry.sdk.language'] === 'nodejs' || keys.some((k) => k.startsWith('process.runtime.'))) {
      c.push(7, `a Node.js SDK signature in the ${svc} resource`, s);
    }
    const sdk = keys.filter((k) => k.startsWith('telemetry.sdk.'));
    if ((svc === 'apiserver' || svc === 'kubelet' || svc === 'etcd') && sdk.length > 0) c.push(7, `${svc} has no ${sdk.join(', ')}`, s);
    if (svc === 'apiserver') {
      const extra = keys.filter((k) => k !== 'service.name' && k !== 'service.instance.id');
      if (extra.length > 0) c.push(7, `kube-apiserver's resource is service.name and service.instance.id only (has ${extra.join(', ')})`, s);
      if (!APISERVER_ID.test(String(res['service.instance.id'] ?? ''))) c.push(7, 'service.instance.id is apiserver-<26 base32 chars>', s);
    }
    if (svc === 'kubelet' && typeof res['host.name'] !== 'string') c.push(7, 'the kubelet resource has host.name', s);
    // 1.7.1 builds its resource from host.name and service.name alone; 2.x takes the SDK default.
    if (svc === 'containerd' && c.opts.profile === '1.35' && res['telemetry.sdk.language'] !== 'go') {
      c.push(7, 'containerd 2.x reports the Go SDK default resource', s);
    }
    if (['kube-apiserver', 'k8s-apiserver', 'kube-kubelet'].includes(svc)) c.push(7, `service.name "${svc}" is not what the component reports`, s);
  }
}

function tell8Scopes(c: Ctx): void {
  for (const s of c.spans) {
    const r = c.role(s);
    const want = ((): { name: string; version?: RegExp } | undefined => {
      switch (r) {
        case 'apiserver-server':
        case 'apiserver-http-client':
        case 'kubelet-http-client':
          return { name: SCOPE_NAMES.otelhttp, version: c.p.otelhttpVersion };
        case 'webhook-server':
          return { name: SCOPE_NAMES.otelhttp };
        case 'apiserver-grpc-client':
        case 'kubelet-grpc-client':
        case 'etcd-server':
        case 'containerd-server':
          return { name: SCOPE_NAMES.otelgrpc, version: (grpcSide(c.p, r) as GrpcSide).scopeVersion };
        case 'apiserver-filter':
          return { name: SCOPE_NAMES.filterlatency };
        case 'apiserver-internal':
          return { name: SCOPE_NAMES.componentBase };
        case 'kubelet-sync':
          return { name: SCOPE_NAMES.kubelet };
        case 'containerd-ttrpc':
          return { name: SCOPE_NAMES.otelttrpc };
        case 'containerd-internal':
          return { name: '' };
        default:
          return undefined;
      }
    })();
    if (r === 'kubelet-internal' && !s.scope.name.startsWith(SCOPE_NAMES.kubelet)) c.push(8, `kubelet scopes are ${SCOPE_NAMES.kubelet}/…`, s);
    if (!want) continue;
    if (s.scope.name !== want.name) c.push(8, `scope "${s.scope.name}", must be "${want.name}"`, s);
    else if (want.version && !want.version.test(s.scope.version)) c.push(8, `scope version "${s.scope.version}" is not this profile's (${want.version.source})`, s);
  }
}

const SERVER_FAULT = new Set([2, 4, 12, 13, 14, 15]);

function tell9Status(c: Ctx): void {
  for (const s of c.spans) {
    const r = c.role(s);
    const code = s.status.code;
    if (code === STATUS.ok && !(c.p.containerdCriOk && r === 'containerd-internal' && s.name.startsWith('pkg.cri.server.'))) {
      c.push(9, 'success is Unset, never Ok', s);
      continue;
    }
    if ((r === 'apiserver-internal' || r === 'apiserver-filter') && code !== STATUS.unset) c.push(9, 'component-base spans never carry a status', s);
    if (r === 'kubelet-sync' && code === STATUS.error && !c.p.syncPodErrorStatus) c.push(9, 'syncPod has no status before 1.31', s);
    if (r === 'apiserver-server' || r === 'webhook-server') {
      const http = httpStatusCode(s);
      if (typeof http === 'number') {
        const want = http >= 500 ? STATUS.error : STATUS.unset;
        if (code !== want) c.push(9, `HTTP ${http} leaves a server span ${want === STATUS.error ? 'Error' : 'Unset'}`, s);
      }
    }
    if (r === 'apiserver-http-client' || r === 'kubelet-http-client') {
      const http = httpStatusCode(s);
      const want = typeof http !== 'number' || http >= 400 ? STATUS.error : STATUS.unset;
      if (code !== want) c.push(9, `a client span is Error exactly when the response is ≥ 400 or never came (status ${String(http)})`, s);
    }
    const grpc = s.attributes['rpc.grpc.status_code'];
    if (isGrpcRole(r) && typeof grpc === 'number') {
      if (grpc === 0 && code !== STATUS.unset) c.push(9, 'a successful call is Unset', s);
      if (grpc !== 0 && s.kind === KIND.client && code !== STATUS.error) c.push(9, `a client span is Error for code ${grpc}`, s);
      const side = grpcSide(c.p, r) as GrpcSide;
      if (grpc !== 0 && s.kind === KIND.server && side.serverErrors !== 'unknown') {
        const want = side.serverErrors === 'any' || SERVER_FAULT.has(grpc) ? STATUS.error : STATUS.unset;
        if (code !== want) c.push(9, `this otelgrpc leaves a server span ${want === STATUS.error ? 'Error' : 'Unset'} for code ${grpc}`, s);
      }
    }
  }
}

type Vocabulary = ReadonlyArray<readonly string[]>;
const CREATE_EVENTS: Vocabulary = [
  ['limitedReadBody succeeded', 'limitedReadBody failed'],
  ['About to convert to expected version'],
  ['Conversion done'],
  ['About to store object in database'],
  ['Write to database call succeeded', 'Write to database call failed'],
  ['About to write a response'],
  ['Writing http response done'],
];
const HANDLER_EVENTS: Record<string, Vocabulary> = {
  Create: CREATE_EVENTS,
  Update: CREATE_EVENTS,
  Patch: [
    ['limitedReadBody succeeded', 'limitedReadBody failed'],
    ['Recorded the audit event'],
    ['About to apply patch'],
    ['About to check admission control'],
    ['Object stored in database'],
    ['About to write a response'],
    ['Writing http response done'],
  ],
  Delete: [
    ['limitedReadBody succeeded', 'limitedReadBody failed'],
    ['Decoded delete options'],
    ['Recorded the audit event'],
    ['About to delete object from database'],
    ['Object deleted from database'],
    ['About to write a response'],
    ['Writing http response done'],
  ],
  Get: [['About to process Get options'], ['About to Get from storage'], ['About to write a response'], ['Writing http response done']],
  List: [['About to List from storage'], ['Listing from storage done'], ['Writing http response done']],
  'Create etcd3': [
    ['About to Encode'],
    ['Encode succeeded', 'Encode failed'],
    ['TransformToStorage succeeded', 'TransformToStorage failed'],
    ['Txn call succeeded', 'Txn call failed'],
    ['decode succeeded', 'decode failed'],
  ],
  'GuaranteedUpdate etcd3': [
    ['initial value restored', 'Retry value restored'],
    ['About to Encode'],
    ['Encode succeeded', 'Encode failed'],
    ['TransformToStorage succeeded', 'TransformToStorage failed'],
    ['Transaction prepared'],
    ['Txn call completed'],
    ['Transaction committed'],
    ['decode succeeded', 'decode failed'],
  ],
  SerializeObject: [['About to start writing response'], ['Write call succeeded', 'Write call failed']],
  'Call mutating webhook': [['Request completed'], ['Patch applied']],
  'Call validating webhook': [['Request completed']],
};

/** Index of an event in its vocabulary, or -1. */
const rank = (v: Vocabulary, name: string): number => v.findIndex((alts) => alts.includes(name));

/**
 * Before 1.33 a cached Get has no cacher.Get span: the watch cache's
 * waitUntilFreshAndBlock adds its two events to the current span, the Get.
 */
const GET_BEFORE_133: Vocabulary = [
  ['About to process Get options'],
  ['About to Get from storage'],
  ['watchCache locked acquired'],
  ['watchCache fresh enough'],
  ['About to write a response'],
  ['Writing http response done'],
];

function handlerVocabulary(name: string, profile: TellOptions['profile']): Vocabulary | undefined {
  return name === 'Get' && profile === '1.27' ? GET_BEFORE_133 : HANDLER_EVENTS[name];
}

function tell10Events(c: Ctx): void {
  for (const s of c.spans) {
    if (c.role(s) !== 'apiserver-internal') continue;
    const vocab = handlerVocabulary(s.name, c.opts.profile);
    if (!vocab) continue;
    let last = -1;
    for (const e of s.events) {
      const i = rank(vocab, e.name);
      if (i < 0) {
        c.push(10, `"${e.name}" is not an event of ${s.name}`, s);
        break;
      }
      // GuaranteedUpdate starts over after a conflict.
      if (i < last && !(e.name === 'Retry value restored')) {
        c.push(10, `"${e.name}" out of order on ${s.name}`, s);
        break;
      }
      last = i;
    }
    const at = (name: string) => s.events.find((e) => e.name === name);
    const kids = c.children.get(s.spanId) ?? [];
    for (const e of s.events) {
      if (/^(limitedReadBody|Write to database call) /.test(e.name) && !isInt(e.attributes['len'])) c.push(10, `"${e.name}" carries len (int)`, s);
    }
    const written = at('Write to database call succeeded');
    const storage = kids.find((k) => /^(Create|GuaranteedUpdate) etcd3$/.test(k.name));
    if (written && storage && written.timeUnixNano < storage.endTimeUnixNano) {
      c.push(10, `"Write to database call succeeded" precedes the end of ${storage.name}`, s);
    }
    const done = at('Writing http response done');
    if (done && s.events[s.events.length - 1] !== done) c.push(10, '"Writing http response done" is the last event', s);
    if (done && s.name === 'List' && !isInt(done.attributes['count'])) c.push(10, 'List\'s "Writing http response done" carries count (int)', s);
    if (done && HANDLER_SPANS.has(s.name)) {
      const audit = s.attributes['audit-id'];
      const serialize = c.spans.filter((x) => x.traceId === s.traceId && x.name === 'SerializeObject' && x.attributes['audit-id'] === audit);
      for (const x of serialize) {
        if (done.timeUnixNano < x.endTimeUnixNano) c.push(10, '"Writing http response done" comes after SerializeObject ends', s);
      }
    }
    if (/^Call (mutating|validating) webhook$/.test(s.name)) {
      const completed = at('Request completed');
      for (const k of kids) {
        if (k.kind === KIND.client && completed && completed.timeUnixNano < k.endTimeUnixNano) {
          c.push(10, '"Request completed" comes after the HTTP call ends', s);
        }
      }
      if (at('Patch applied') && !completed) c.push(10, '"Patch applied" follows "Request completed"', s);
    }
  }
  // One audit id per request: the SERVER span (1.34+) and every apiserver span under it, up to the next request.
  for (const server of c.spans) {
    if (c.role(server) !== 'apiserver-server') continue;
    const ids = new Set<string>();
    const own = server.attributes['audit-id'];
    if (typeof own === 'string') ids.add(own);
    const stack = [...(c.children.get(server.spanId) ?? [])];
    let offender: TellSpan | undefined;
    while (stack.length > 0) {
      const s = stack.pop() as TellSpan;
      if (service(s) !== 'apiserver' || c.role(s) === 'apiserver-server') continue;
      const id = s.attributes['audit-id'];
      if (typeof id === 'string') {
        ids.add(id);
        if (ids.size > 1 && !offender) offender = s;
      }
      stack.push(...(c.children.get(s.spanId) ?? []));
    }
    if (offender) c.push(10, `one request carries ${ids.size} audit ids`, offender);
  }
}

function inside(server: TellSpan, client: TellSpan): boolean {
  return server.startTimeUnixNano > client.startTimeUnixNano && server.endTimeUnixNano < client.endTimeUnixNano;
}

function isWatch(s: TellSpan): boolean {
  const target = str(s.attributes['http.target']) ?? '';
  return /[?&]watch=(true|1)(&|$)/i.test(target) || /^\/apis?\/(.+\/)?watch\//.test(target);
}

function podBindingPath(pod: string): string | undefined {
  const [ns, name] = pod.split('/');
  return ns && name ? `/api/v1/namespaces/${ns}/pods/${name}/binding` : undefined;
}

function tell11Timing(c: Ctx): void {
  for (const s of c.spans) {
    if (s.endTimeUnixNano < s.startTimeUnixNano) c.push(11, 'ends before it starts', s);
    // A watch ends when the client hangs up; the server notices after the client span has ended.
    if (s.kind !== KIND.server || isWatch(s)) continue;
    const parent = c.byId.get(s.parentSpanId);
    if (parent && parent.kind === KIND.client && !inside(s, parent)) {
      c.push(11, `server span not strictly inside its client span ${describeSpan(parent)}`, s);
    }
    for (const l of s.links) {
      const caller = c.byId.get(l.spanId);
      if (caller && caller.kind === KIND.client && !inside(s, caller)) c.push(11, `server span not strictly inside the client span it links to`, s);
    }
  }
  // CRI order under one syncPod.
  for (const [parentId, kids] of c.children) {
    if (!c.byId.has(parentId)) continue;
    const cri = kids.filter((k) => c.role(k) === 'kubelet-grpc-client');
    const before = (name: string, after: TellSpan) =>
      cri.filter((k) => k.name === name && k.startTimeUnixNano < after.startTimeUnixNano && k.endTimeUnixNano > after.startTimeUnixNano);
    for (const k of cri) {
      if (k.name === 'runtime.v1.RuntimeService/CreateContainer' && before('runtime.v1.ImageService/PullImage', k).length > 0) {
        c.push(11, 'CreateContainer starts before PullImage ends', k);
      }
      if (k.name === 'runtime.v1.RuntimeService/StartContainer' && before('runtime.v1.RuntimeService/CreateContainer', k).length > 0) {
        c.push(11, 'StartContainer starts before CreateContainer ends', k);
      }
    }
  }
  // A pod's first syncPod follows its binding.
  for (const s of c.spans) {
    if (s.name !== 'syncPod' || s.attributes['k8s.pod.update_type'] !== 'create') continue;
    const path = podBindingPath(String(s.attributes['k8s.pod'] ?? ''));
    const bindings = c.spans.filter((b) => c.role(b) === 'apiserver-server' && requestPath(b) === path);
    if (bindings.length === 0) continue;
    const dist = (b: TellSpan): bigint => {
      const d = b.endTimeUnixNano - s.startTimeUnixNano;
      return d < 0n ? -d : d;
    };
    const nearest = bindings.reduce((a, b) => (dist(b) < dist(a) ? b : a));
    if (s.startTimeUnixNano < nearest.endTimeUnixNano) c.push(11, 'syncPod starts before the binding completed', s);
  }
  if (!c.opts.realisticTiming) return;
  const atLeast = (s: TellSpan, min: bigint, what: string) => {
    if (nanos(s) < min) c.push(11, `${what} takes at least ${ms(min)} (took ${ms(nanos(s))})`, s);
  };
  for (const s of c.spans) {
    const r = c.role(s);
    if (r === 'etcd-server' && s.name === 'etcdserverpb.KV/Txn' && grpcOk(s)) atLeast(s, 200_000n, 'a write Txn');
    if (r === 'apiserver-http-client' && /^Call (mutating|validating) webhook$/.test(c.byId.get(s.parentSpanId)?.name ?? '')) {
      atLeast(s, 300_000n, 'a webhook TLS round trip');
    }
    if ((r === 'kubelet-grpc-client' || r === 'containerd-server') && s.name === 'runtime.v1.RuntimeService/RunPodSandbox' && grpcOk(s)) {
      atLeast(s, 50_000_000n, 'RunPodSandbox');
    }
    // containerd logs the bytes it fetched; a pull that fetched layers (megabytes) was cold.
    if (r === 'containerd-server' && s.name === 'runtime.v1.ImageService/PullImage') {
      const read = s.events.map((e) => /bytes read=(\d+)/.exec(e.name)).find((m) => m);
      if (read && Number(read[1]) > 1_000_000) atLeast(s, 1_000_000_000n, 'a cold image pull');
    }
  }
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

function tell12Ids(c: Ctx): void {
  for (const s of c.spans) {
    if (!TRACE_ID.test(s.traceId) || /^0+$/.test(s.traceId)) c.push(12, `trace id "${s.traceId}" is 32 lower-case hex digits, not all zero`, s);
    if (!SPAN_ID.test(s.spanId) || /^0+$/.test(s.spanId)) c.push(12, `span id "${s.spanId}" is 16 lower-case hex digits, not all zero`, s);
    if (s.parentSpanId !== '' && !SPAN_ID.test(s.parentSpanId)) c.push(12, `parent span id "${s.parentSpanId}" is 16 lower-case hex digits`, s);
    if (s.links.length === 0) continue;
    if (c.role(s) !== 'apiserver-server') {
      c.push(12, 'only apiserver SERVER spans carry links', s);
      continue;
    }
    for (const l of s.links) {
      if (!TRACE_ID.test(l.traceId) || !SPAN_ID.test(l.spanId)) c.push(12, 'a link with malformed ids', s);
      const target = c.byId.get(l.spanId);
      if (target && target.kind !== KIND.client) c.push(12, `links point to the caller's CLIENT span, not ${describeSpan(target)}`, s);
    }
  }
  // The kubelet is never privileged: the apiserver span for its request is a new root linked to its client span.
  const servers = c.spans.filter((s) => c.role(s) === 'apiserver-server');
  for (const k of c.spans) {
    if (c.role(k) !== 'kubelet-http-client') continue;
    const url = clientUrl(k);
    if (!url) continue;
    const target = url.pathname + url.search;
    const ua = (s: TellSpan): string => str(s.attributes['user_agent.original']) ?? str(s.attributes['http.user_agent']) ?? '';
    const candidates = servers.filter((s) => s.attributes['http.target'] === target && ua(s).startsWith('kubelet/') && inside(s, k));
    const adopted = candidates.find((s) => s.parentSpanId === k.spanId);
    if (adopted) c.push(12, 'the apiserver does not adopt a kubelet\'s trace context (system:nodes is not privileged)', adopted);
    else if (candidates.length > 0 && !candidates.some((s) => s.links.some((l) => l.spanId === k.spanId))) {
      c.push(12, 'the apiserver span for a kubelet request links to the kubelet\'s client span (1.26+)', candidates[0]);
    }
  }
}

function tell14Target(c: Ctx): void {
  for (const s of c.spans) {
    if (c.role(s) !== 'apiserver-server') continue;
    const target = str(s.attributes['http.target']);
    if (target === undefined) {
      c.push(14, 'the apiserver SERVER span carries http.target (path and query)', s);
      continue;
    }
    const path = str(s.attributes['url.path']);
    if (c.p.httpKeys === 'stable') {
      if (path === undefined) c.push(14, 'stable HTTP semconv has url.path', s);
      else if (path.includes('?')) c.push(14, 'url.path has no query', s);
      else if (!(target === path || target.startsWith(`${path}?`))) c.push(14, `http.target "${target}" is url.path "${path}" plus the query`, s);
    }
    // kubectl names itself as field manager on every write (?fieldManager=kubectl-run, kubectl-create, …).
    const ua = str(s.attributes['user_agent.original']) ?? str(s.attributes['http.user_agent']) ?? '';
    const method = requestMethod(s) ?? '';
    if (ua.startsWith('kubectl/') && ['POST', 'PUT', 'PATCH'].includes(method) && !/[?&]fieldManager=kubectl-/.test(target)) {
      c.push(14, `http.target "${target}" lacks kubectl's ?fieldManager= query`, s);
    }
  }
}

/** Every tell of §10 that one set of spans can show, except 13 (see backgroundTells). */
export function findTells(spans: readonly TellSpan[], opts: TellOptions): Violation[] {
  const out: Violation[] = [];
  const byId = new Map<string, TellSpan>();
  const children = new Map<string, TellSpan[]>();
  for (const s of spans) {
    byId.set(s.spanId, s);
    if (s.parentSpanId === '') continue;
    let list = children.get(s.parentSpanId);
    if (!list) children.set(s.parentSpanId, (list = []));
    list.push(s);
  }
  const roles = new Map<TellSpan, Role>();
  const c: Ctx = {
    spans,
    byId,
    children,
    role: (s) => {
      let r = roles.get(s);
      if (r === undefined) roles.set(s, (r = roleOf(s)));
      return r;
    },
    p: PROFILES[opts.profile],
    opts,
    push: (tell, message, span) => out.push(span ? { tell, message, span } : { tell, message }),
  };
  tell1Kinds(c);
  tell2OneTrace(c);
  tell3Names(c);
  tell4Events(c);
  tell5Generations(c);
  tell6Spelling(c);
  tell7Resources(c);
  tell8Scopes(c);
  tell9Status(c);
  tell10Events(c);
  tell11Timing(c);
  tell12Ids(c);
  tell14Target(c);
  return out;
}

/**
 * Tell 13: spans exported over `windowSeconds` by a cluster at 100% sampling
 * show its background — PLEG relists about every second, a lease renewal and
 * a node-status check every 10 s per node, apiserver health probes. A store
 * with only the demo's requests looks synthetic.
 */
export function backgroundTells(spans: readonly TellSpan[], windowSeconds: number): Violation[] {
  const out: Violation[] = [];
  const nodes = new Set(spans.filter((s) => service(s) === 'kubelet').map((s) => String(s.resource['host.name'] ?? '')));
  if (nodes.size === 0) out.push({ tell: 13, message: 'no kubelet spans at all' });
  const per10s = Math.floor(windowSeconds / 10.4);
  for (const node of nodes) {
    const mine = spans.filter((s) => service(s) === 'kubelet' && s.resource['host.name'] === node && s.parentSpanId === '');
    for (const m of ['ListPodSandbox', 'ListContainers']) {
      const n = mine.filter((s) => s.name === `runtime.v1.RuntimeService/${m}`).length;
      const want = Math.max(1, Math.floor(windowSeconds / 2));
      if (n < want) out.push({ tell: 13, message: `${node}: ${n} PLEG ${m} root traces in ${windowSeconds} s (relist every ~1 s)` });
    }
    const urls = mine.filter((s) => HTTP_CLIENT_NAME.test(s.name)).map((s) => ({ s, url: clientUrl(s) }));
    const leases = urls.filter(({ s, url }) => s.name === 'HTTP PUT' && url?.pathname.endsWith(`/namespaces/kube-node-lease/leases/${node}`)).length;
    if (leases < per10s) out.push({ tell: 13, message: `${node}: ${leases} lease renewals in ${windowSeconds} s (every 10 s)` });
    const status = urls.filter(({ url }) => url?.pathname === `/api/v1/nodes/${node}` || url?.pathname === `/api/v1/nodes/${node}/status`).length;
    if (status < per10s) out.push({ tell: 13, message: `${node}: ${status} node status updates in ${windowSeconds} s (every 10 s)` });
  }
  if (windowSeconds >= 10) {
    const probes = spans.filter((s) => service(s) === 'apiserver' && s.kind === KIND.server && /^\/(livez|readyz|healthz)(\/|$)/.test(requestPath(s) ?? ''));
    if (probes.length === 0) out.push({ tell: 13, message: `no apiserver health probes (/livez, /readyz, /healthz) in ${windowSeconds} s` });
  }
  return out;
}
