/**
 * What a real cluster emits for `kubectl run` (with one mutating webhook) and
 * `kubectl get nodes`, per version profile, written from
 * kubernetes-traces.md (§1.1, §1.2, §2.2, §3, §5, §6.1, §7, §8) rather than
 * from our own output. The realism test compares received traces with it.
 *
 * Attribute types: s string, i int, d double, b bool.
 */
export type AttrType = 's' | 'i' | 'd' | 'b';
export type Attrs = Readonly<Record<string, AttrType>>;

export interface EventSpec {
  readonly name: string | RegExp;
  readonly attrs?: Attrs;
  readonly values?: Readonly<Record<string, unknown>>;
}

export interface SpanSpec {
  readonly service: string;
  readonly name: string;
  readonly kind: 'INTERNAL' | 'SERVER' | 'CLIENT';
  readonly scope: readonly [string, string | RegExp];
  /** The exact attribute keys and types; `optional` keys may be absent (a peer the client could not parse). */
  readonly attrs: Attrs;
  readonly optional?: Attrs;
  /** Events in order; undefined: not checked (log-line events carry ids and durations). */
  readonly events?: readonly EventSpec[];
  /** Default UNSET: success leaves status unset everywhere but containerd 1.7's pkg.cri.server spans. */
  readonly status?: 'UNSET' | 'OK' | 'ERROR';
  /** Children in start order. */
  readonly children?: readonly SpanSpec[];
}

export type Profile = '1.27' | '1.35';

/**
 * Scope versions: contrib modules before v0.42 created their tracers with
 * SemVersion(), which was "semver:" + Version(); later releases pass the bare
 * version.
 */
const V035 = /^semver:0\.35\.\d+$/;

const SCOPE = {
  otelhttp: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp',
  otelgrpc: 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc',
  filter: 'k8s.op/apiserver/pkg/endpoints/filterlatency',
  component: 'k8s.io/component-base/tracing',
  kubelet: 'k8s.io/kubernetes/pkg/kubelet',
};

// ---- generations -----------------------------------------------------------

const HTTP_SERVER_V061: Attrs = {
  'server.address': 's', 'server.port': 'i', 'http.request.method': 's', 'url.scheme': 's', 'network.peer.address': 's',
  'network.peer.port': 'i', 'user_agent.original': 's', 'client.address': 's', 'url.path': 's', 'network.protocol.version': 's',
  'http.response.body.size': 'i', 'http.response.status_code': 'i',
};
const HTTP_SERVER_V035: Attrs = {
  'net.transport': 's', 'net.peer.ip': 's', 'net.peer.port': 'i', 'net.host.ip': 's', 'net.host.port': 'i', 'http.method': 's',
  'http.target': 's', 'http.server_name': 's', 'http.user_agent': 's', 'http.scheme': 's', 'http.host': 's', 'http.flavor': 's',
  'http.wrote_bytes': 'i', 'http.status_code': 'i',
};

function serverAttrs(p: Profile, withBody: boolean): Attrs {
  if (p === '1.27') return { ...HTTP_SERVER_V035, ...(withBody ? { 'http.request_content_length': 'i', 'http.read_bytes': 'i' } : {}) };
  return { ...HTTP_SERVER_V061, 'http.target': 's', 'audit-id': 's', ...(withBody ? { 'http.request.body.size': 'i' } : {}) };
}

const RPC: Attrs = { 'rpc.system': 's', 'rpc.service': 's', 'rpc.method': 's', 'rpc.grpc.status_code': 'i' };

function messages(first: 'SENT' | 'RECEIVED', keys: Attrs): EventSpec[] {
  const second = first === 'SENT' ? 'RECEIVED' : 'SENT';
  return [
    { name: 'message', attrs: keys, values: { 'message.type': first, 'message.id': 1 } },
    { name: 'message', attrs: keys, values: { 'message.type': second, 'message.id': 1 } },
  ];
}
const MSG_FULL: Attrs = { 'message.type': 's', 'message.id': 'i', 'message.uncompressed_size': 'i' };
const MSG_STATS: Attrs = { ...MSG_FULL, 'message.compressed_size': 'i' };

/** The apiserver's (and kubelet's) client spans: 1.27 interceptors v0.35, 1.35 stats handler v0.60. */
function grpcClient(p: Profile, service: 'apiserver' | 'kubelet', name: string, children: SpanSpec[]): SpanSpec {
  const peer: Attrs = service === 'apiserver' && p === '1.35' ? { 'net.sock.peer.addr': 's', 'net.sock.peer.port': 'i' } : {};
  return {
    service,
    name,
    kind: 'CLIENT',
    scope: [SCOPE.otelgrpc, p === '1.27' ? V035 : '0.60.0'],
    attrs: RPC,
    optional: peer,
    events: messages('SENT', p === '1.27' ? MSG_FULL : MSG_STATS),
    children,
  };
}

/** etcd 3.5.7 (k3s 1.27.1): otelgrpc v0.25 interceptors; 3.5.21: v0.46, no events. */
function etcdServer(p: Profile, name: string): SpanSpec {
  return p === '1.27'
    ? { service: 'etcd', name, kind: 'SERVER', scope: [SCOPE.otelgrpc, 'semver:0.25.0'], attrs: { ...RPC, 'net.peer.ip': 's', 'net.peer.port': 's' }, events: messages('RECEIVED', MSG_FULL) }
    : { service: 'etcd', name, kind: 'SERVER', scope: [SCOPE.otelgrpc, '0.46.0'], attrs: { ...RPC, 'net.sock.peer.addr': 's', 'net.sock.peer.port': 'i' }, events: [] };
}

// ---- apiserver ------------------------------------------------------------

function handlerAttrs(p: Profile): Attrs {
  const base: Attrs = { accept: 's', 'audit-id': 's', client: 's', protocol: 's', resource: 's', scope: 's', url: 's', 'user-agent': 's', verb: 's' };
  return p === '1.27' ? base : { ...base, 'api-group': 's', 'api-version': 's', name: 's', subresource: 's', namespace: 's' };
}

const component = (name: string, attrs: Attrs, events: EventSpec[] | undefined, children: SpanSpec[] = []): SpanSpec => ({
  service: 'apiserver', name, kind: 'INTERNAL', scope: [SCOPE.component, ''], attrs, ...(events ? { events } : {}), children,
});

function storageAttrs(p: Profile): Attrs {
  return p === '1.27' ? { 'audit-id': 's', key: 's', type: 's', resource: 's' } : { 'audit-id': 's', key: 's', type: 's', group: 's', resource: 's' };
}

/** 1.27's deferredResponseWriter logs the writer and firstWrite on success; 1.35 moved the writer to the first event. */
const serialize = (p: Profile): SpanSpec =>
  component(
    'SerializeObject',
    { 'audit-id': 's', method: 's', url: 's', protocol: 's', mediaType: 's', encoder: 's' },
    p === '1.27'
      ? [
          { name: 'About to start writing response', attrs: { size: 'i' } },
          { name: 'Write call succeeded', attrs: { writer: 's', size: 'i', firstWrite: 'b' } },
        ]
      : [
          { name: 'About to start writing response', attrs: { writer: 's', size: 'i' } },
          { name: 'Write call succeeded', attrs: { size: 'i' } },
        ],
  );

/** The webhook demo's own SERVER span (a Go service on current otelhttp), child of the apiserver's `HTTP POST`. */
const WEBHOOK_SERVER: SpanSpec = {
  service: 'webhook',
  name: '/mutate-v1-pod',
  kind: 'SERVER',
  scope: [SCOPE.otelhttp, /^0\.\d+\.\d+$/],
  attrs: { ...HTTP_SERVER_V061, 'http.request.body.size': 'i' },
  events: [],
};

function webhookClient(p: Profile): SpanSpec {
  const attrs: Attrs =
    p === '1.27'
      ? { 'http.method': 's', 'http.url': 's', 'http.scheme': 's', 'http.host': 's', 'http.flavor': 's', 'http.user_agent': 's', 'http.request_content_length': 'i', 'http.status_code': 'i' }
      : { 'http.request.method': 's', 'url.full': 's', 'server.address': 's', 'server.port': 'i', 'network.protocol.version': 's', 'http.response.status_code': 'i' };
  return { service: 'apiserver', name: 'HTTP POST', kind: 'CLIENT', scope: [SCOPE.otelhttp, p === '1.27' ? V035 : '0.61.0'], attrs, events: [], children: [WEBHOOK_SERVER] };
}

function createHandler(p: Profile, withSerializeChild: boolean): SpanSpec {
  return component(
    'Create',
    handlerAttrs(p),
    [
      { name: 'limitedReadBody succeeded', attrs: { len: 'i' } },
      { name: 'About to convert to expected version' },
      { name: 'Conversion done' },
      { name: 'About to store object in database' },
      { name: 'Write to database call succeeded', attrs: { len: 'i' } },
      { name: 'About to write a response' },
      { name: 'Writing http response done' },
    ],
    [
      component('Call mutating webhook', { configuration: 's', webhook: 's', resource: 's', subresource: 's', operation: 's', UID: 's' }, [
        { name: 'Request completed' },
        { name: 'Patch applied' },
      ], [webhookClient(p)]),
      component('Create etcd3', storageAttrs(p), [
        { name: 'About to Encode' },
        { name: 'Encode succeeded', attrs: { len: 'i' } },
        { name: 'TransformToStorage succeeded' },
        { name: 'Txn call succeeded' },
        { name: 'decode succeeded', attrs: { len: 'i' } },
      ], [grpcClient(p, 'apiserver', 'etcdserverpb.KV/Txn', [etcdServer(p, 'etcdserverpb.KV/Txn')])]),
      ...(withSerializeChild ? [serialize(p)] : []),
    ],
  );
}

const FILTERS_134 = ['audit', 'impersonation', 'priorityandfairness', 'authorization'];

function filter(name: string, children: SpanSpec[]): SpanSpec {
  return { service: 'apiserver', name, kind: 'INTERNAL', scope: [SCOPE.filter, ''], attrs: {}, events: [], children };
}

/** Wraps a handler span in the 1.34+ nested filter chain. */
function chain(inner: SpanSpec): SpanSpec {
  return FILTERS_134.reduceRight<SpanSpec>((acc, f) => filter(f, [acc]), inner);
}

/**
 * The request's SERVER span with everything under it. 1.27: `KubernetesAPI`
 * ⊃ a short `authentication` that stays current, so the handler span and
 * SerializeObject (a sibling before 1.32) are its children. 1.35: route name,
 * the nested filter chain, SerializeObject a child of the handler span.
 */
function request(p: Profile, route: string, withBody: boolean, handler: (p: Profile, serializeChild: boolean) => SpanSpec): SpanSpec {
  if (p === '1.27') {
    return {
      service: 'apiserver', name: 'KubernetesAPI', kind: 'SERVER', scope: [SCOPE.otelhttp, V035], attrs: serverAttrs(p, withBody), events: [],
      children: [filter('authentication', [handler(p, false), serialize(p)])],
    };
  }
  return { service: 'apiserver', name: route, kind: 'SERVER', scope: [SCOPE.otelhttp, '0.61.0'], attrs: serverAttrs(p, withBody), events: [], children: [chain(handler(p, true))] };
}

/** kubectl run's create: the SERVER span and all below it. */
export function createRequest(p: Profile): SpanSpec {
  return request(p, 'POST /api/v1/namespaces/{:namespace}/pods', true, createHandler);
}

/** kubectl get nodes (`?limit=500`, Table): §8. */
export function getNodesRequest(p: Profile): SpanSpec {
  const listEvents: EventSpec[] = [
    { name: 'About to List from storage' },
    { name: 'Listing from storage done' },
    { name: 'Writing http response done', attrs: { count: 'i' } },
  ];
  const etcdList = (limitAttrs: Attrs): SpanSpec =>
    component('List(recursive=true) etcd3', limitAttrs, [], [grpcClient(p, 'apiserver', 'etcdserverpb.KV/Range', [etcdServer(p, 'etcdserverpb.KV/Range')])]);
  const listAttrs: Attrs = { 'audit-id': 's', key: 's', resourceVersion: 's', resourceVersionMatch: 's', limit: 'i', continue: 's' };
  return request(p, 'GET /api/v1/nodes', false, (prof, serializeChild) => {
    // 1.26–1.30: a consistent (RV="") list is served by etcd itself.
    if (prof === '1.27') return component('List', handlerAttrs(prof), listEvents, [etcdList(listAttrs)]);
    return component('List', handlerAttrs(prof), listEvents, [
      component('cacher.GetList', { 'audit-id': 's', type: 's' }, [
        { name: 'Ready' },
        { name: 'watchCache locked acquired' },
        { name: 'watchCache fresh enough' },
        { name: 'Listed items from cache', attrs: { count: 'i' } },
        { name: 'Resized result' },
        { name: 'Filtered items', attrs: { count: 'i' } },
      ], [etcdList(listAttrs)]),
      ...(serializeChild ? [serialize(prof)] : []),
    ]);
  });
}

/** The scheduler's binding: §7 A2. */
export function bindingRequest(p: Profile): SpanSpec {
  return request(p, 'POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding', true, (prof, serializeChild) =>
    component('Create', handlerAttrs(prof), undefined, [
      component('GuaranteedUpdate etcd3', storageAttrs(prof), undefined, [grpcClient(prof, 'apiserver', 'etcdserverpb.KV/Txn', [etcdServer(prof, 'etcdserverpb.KV/Txn')])]),
      ...(serializeChild ? [serialize(prof)] : []),
    ]),
  );
}

// ---- kubelet and containerd ----------------------------------------------

/** What the runtime's server span is, per bundled containerd (1.7.1 for 1.27, 2.1.4 for 1.35). */
function containerdServer(p: Profile, name: string): SpanSpec {
  const method = name.split('/')[1] ?? '';
  if (p === '1.27') {
    // containerd 1.7.1: otelgrpc 0.40 interceptors; image RPCs get a pkg.cri.server.<Method> child
    // (status Ok) that the CRI handler's SpanFromContext then decorates.
    const image = ['PullImage', 'ListImages', 'ImageStatus', 'RemoveImage', 'ImageFsInfo'].includes(method);
    const childAttrs: Attrs = method === 'PullImage' ? { 'image.ref': 's', 'snapshotter.name': 's' } : {};
    return {
      service: 'containerd', name, kind: 'SERVER', scope: [SCOPE.otelgrpc, 'semver:0.40.0'], attrs: RPC, optional: {},
      // tracing.StartSpan uses otel.Tracer(""): an empty scope name.
      children: image ? [{ service: 'containerd', name: `pkg.cri.server.${method}`, kind: 'INTERNAL', scope: ['', ''], attrs: childAttrs, status: 'OK' }] : [],
    };
  }
  const extra: Record<string, Attrs> = {
    RunPodSandbox: { 'sandbox.id': 's', 'sandbox.name': 's' },
    // sandbox.pid is a uint32, which containerd's tracing.Attribute type switch does not list: a string.
    CreateContainer: { 'sandbox.id': 's', 'sandbox.pid': 's', 'container.id': 's', 'container.name': 's', 'container.image.ref': 's' },
    StartContainer: { 'container.id': 's', 'sandbox.id': 's' },
    PullImage: { 'image.ref': 's', 'snapshotter.name': 's' },
  };
  return { service: 'containerd', name, kind: 'SERVER', scope: [SCOPE.otelgrpc, '0.60.0'], attrs: { ...RPC, ...(extra[method] ?? {}) }, children: [] };
}

const cri = (p: Profile, name: string): SpanSpec => grpcClient(p, 'kubelet', name, [containerdServer(p, name)]);

/** The create syncPod (§7 A3), image `nginx` (untagged ⇒ PullAlways), per the profile's image manager. */
export function syncPod(p: Profile): SpanSpec {
  const image =
    p === '1.27'
      ? ['runtime.v1.ImageService/ImageStatus', 'runtime.v1.ImageService/PullImage']
      : ['runtime.v1.ImageService/PullImage', 'runtime.v1.ImageService/ImageStatus'];
  return {
    service: 'kubelet',
    name: 'syncPod',
    kind: 'INTERNAL',
    scope: [SCOPE.kubelet, ''],
    attrs: { 'k8s.pod.uid': 's', 'k8s.pod': 's', 'k8s.pod.name': 's', 'k8s.pod.update_type': 's', 'k8s.namespace.name': 's' },
    events: [],
    children: [
      'runtime.v1.RuntimeService/RunPodSandbox',
      'runtime.v1.RuntimeService/PodSandboxStatus',
      ...image,
      'runtime.v1.RuntimeService/CreateContainer',
      'runtime.v1.RuntimeService/StartContainer',
    ].map((n) => cri(p, n)),
  };
}

// ---- resources -------------------------------------------------------------

export interface ResourceSpec {
  readonly keys: readonly string[];
  readonly values: Readonly<Record<string, string | RegExp>>;
}

export function resources(p: Profile): Readonly<Record<string, ResourceSpec>> {
  return {
    apiserver: { keys: ['service.name', 'service.instance.id'], values: { 'service.name': 'apiserver', 'service.instance.id': /^apiserver-[a-z2-7]{26}$/ } },
    kubelet: { keys: ['service.name', 'host.name'], values: { 'service.name': 'kubelet', 'host.name': 'node-1' } },
    etcd: { keys: ['service.name'], values: { 'service.name': 'etcd' } },
    // containerd 1.7 builds its resource with resource.WithHost() and the config's service_name; 2.x uses the SDK default.
    containerd:
      p === '1.27'
        ? { keys: ['service.name', 'host.name'], values: { 'service.name': 'containerd', 'host.name': /.+/ } }
        : {
            keys: ['service.name', 'telemetry.sdk.language', 'telemetry.sdk.name', 'telemetry.sdk.version'],
            values: { 'service.name': 'containerd', 'telemetry.sdk.language': 'go', 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.version': '1.35.0' },
          },
    webhook: {
      keys: ['service.name', 'telemetry.sdk.language', 'telemetry.sdk.name', 'telemetry.sdk.version'],
      values: { 'service.name': 'webhook', 'telemetry.sdk.language': 'go', 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.version': /^1\.\d+\.\d+$/ },
    },
  };
}
