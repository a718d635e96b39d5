import { describe, expect, it } from 'vitest';
import {
  backgroundTells,
  expectedRouteName,
  findTells,
  formatViolations,
  type TellOptions,
  type TellSpan,
  type Violation,
} from '../src/testing/tells.js';
import type { AttrValue } from '../src/otlp-json.js';

/**
 * Each tell of kubernetes-traces.md §10 gets a minimal real-looking pod
 * creation that passes, and mutations of it that must be flagged with that
 * tell's number, for both profiles: no check can pass by checking nothing.
 */

type Profile = TellOptions['profile'];
type Attrs = Record<string, AttrValue>;
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attrs;
  events: Array<{ name: string; timeUnixNano: bigint; attributes: Attrs }>;
  links: Array<{ traceId: string; spanId: string; attributes: Attrs }>;
  status: { code: number; message: string };
  resource: Attrs;
  scope: { name: string; version: string };
}

const I = 1;
const S = 2;
const C = 3;
const T0 = 1_700_000_000_000_000_000n;
/** Milliseconds after T0. */
const at = (msec: number): bigint => T0 + BigInt(Math.round(msec * 1e6));

const RES = {
  apiserver: { 'service.name': 'apiserver', 'service.instance.id': 'apiserver-a3kq7m2xw5tbcd4hn6zpyue2fi' },
  etcd: { 'service.name': 'etcd' },
  webhook: { 'service.name': 'webhook', 'telemetry.sdk.language': 'go', 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.version': '1.36.0' },
  kubelet: { 'service.name': 'kubelet', 'host.name': 'node-1' },
  containerd: { 'service.name': 'containerd', 'telemetry.sdk.language': 'go', 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.version': '1.35.0' },
} as const;

const OTELHTTP = 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp';
const OTELGRPC = 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc';
const CB = 'k8s.io/component-base/tracing';
const FILTER = 'k8s.op/apiserver/pkg/endpoints/filterlatency';

const V = {
  '1.27': { http: 'semver:0.35.1', grpc: 'semver:0.35.0', etcd: 'semver:0.25.0', containerd: 'semver:0.40.0' },
  '1.35': { http: '0.61.0', grpc: '0.60.0', etcd: '0.46.0', containerd: '0.60.0' },
} as const;

let nextId = 1;
const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0');
const newTrace = (): string => hex(nextId++ * 7919, 32);

function mk(
  trace: string,
  parent: Span | undefined,
  name: string,
  kind: number,
  from: number,
  to: number,
  resource: Attrs,
  scope: [string, string],
  attributes: Attrs = {},
): Span {
  return {
    traceId: trace,
    spanId: hex(nextId++ * 104729, 16),
    parentSpanId: parent?.spanId ?? '',
    name,
    kind,
    startTimeUnixNano: at(from),
    endTimeUnixNano: at(to),
    attributes,
    events: [],
    links: [],
    status: { code: 0, message: '' },
    resource,
    scope: { name: scope[0], version: scope[1] },
  };
}

const ev = (s: Span, name: string, msec: number, attributes: Attrs = {}): void => {
  s.events.push({ name, timeUnixNano: at(msec), attributes });
};

/** The fixture: every span kept by name for the mutations. */
interface Fixture {
  spans: Span[];
  createServer: Span;
  create: Span;
  webhookCall: Span;
  webhookClient: Span;
  webhookServer: Span;
  createEtcd3: Span;
  txnClient: Span;
  txnServer: Span;
  serialize: Span;
  auth: Span;
  binding: Span;
  syncPod: Span;
  cri: Record<string, { client: Span; server: Span }>;
  patchClient: Span;
  patchServer: Span;
  list: Span;
}

function serverAttrs(p: Profile, method: string, target: string, status: number, ua: string, auditId: string): Attrs {
  const path = target.split('?')[0] as string;
  if (p === '1.27') {
    return {
      'net.transport': 'ip_tcp',
      'net.peer.ip': '127.0.0.1',
      'net.peer.port': 51712,
      'net.host.ip': '127.0.0.1',
      'net.host.port': 6443,
      'http.method': method,
      'http.target': target,
      'http.server_name': 'KubernetesAPI',
      'http.user_agent': ua,
      'http.scheme': 'https',
      'http.host': '127.0.0.1:6443',
      'http.flavor': '2',
      'http.status_code': status,
    };
  }
  return {
    'server.address': '127.0.0.1',
    'server.port': 6443,
    'http.request.method': method,
    'url.scheme': 'https',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': 51712,
    'user_agent.original': ua,
    'client.address': '127.0.0.1',
    'url.path': path,
    'network.protocol.version': '2',
    'http.target': target,
    'audit-id': auditId,
    'http.response.status_code': status,
  };
}

function clientAttrs(p: Profile, method: string, url: string, status: number): Attrs {
  const u = new URL(url);
  if (p === '1.27') {
    return { 'http.method': method, 'http.url': url, 'http.scheme': 'https', 'http.host': u.host, 'http.flavor': '1.1', 'http.status_code': status };
  }
  return {
    'http.request.method': method,
    'url.full': url,
    'server.address': u.hostname,
    'server.port': Number(u.port || 443),
    'network.protocol.version': '1.1',
    'http.response.status_code': status,
  };
}

function grpcAttrs(name: string, extra: Attrs = {}): Attrs {
  const [svc, method] = name.split('/') as [string, string];
  return { 'rpc.system': 'grpc', 'rpc.service': svc, 'rpc.method': method, ...extra, 'rpc.grpc.status_code': 0 };
}

function messages(p: Profile, s: Span, first: 'SENT' | 'RECEIVED'): void {
  const second = first === 'SENT' ? 'RECEIVED' : 'SENT';
  const attrs = (type: string): Attrs =>
    p === '1.27'
      ? { 'message.type': type, 'message.id': 1, 'message.uncompressed_size': 120 }
      : { 'message.type': type, 'message.id': 1, 'message.compressed_size': 120, 'message.uncompressed_size': 120 };
  const from = Number(s.startTimeUnixNano - T0) / 1e6;
  const to = Number(s.endTimeUnixNano - T0) / 1e6;
  ev(s, 'message', from + 0.01, attrs(first));
  ev(s, 'message', to - 0.01, attrs(second));
}

function traceFields(p: Profile, auditId: string, verb: string, url: string, scope: string, resource: string, ua: string): Attrs {
  const base: Attrs = { accept: 'application/json', 'audit-id': auditId, client: '127.0.0.1' };
  const info: Attrs = p === '1.27' ? {} : { 'api-group': '', 'api-version': 'v1', name: '', subresource: '', namespace: 'default' };
  return { ...base, ...info, protocol: 'HTTP/2.0', resource, scope, url, 'user-agent': ua, verb };
}

const KUBECTL = 'kubectl/v1.35.0 (linux/amd64) kubernetes/abcdef0';
const KUBELET_UA = 'kubelet/v1.35.0 (linux/amd64) kubernetes/abcdef0';

/** `kubectl run demo` with a mutating webhook, and `kubectl get nodes`, as the profile and mode emit them. */
function podCreation(p: Profile, mode: TellOptions['mode']): Fixture {
  const spans: Span[] = [];
  const add = (s: Span): Span => (spans.push(s), s);
  const A = RES.apiserver;
  const http = [OTELHTTP, V[p].http] as [string, string];
  const cb = [CB, ''] as [string, string];
  const filt = [FILTER, ''] as [string, string];
  const grpc = [OTELGRPC, V[p].grpc] as [string, string];

  // The create request.
  const tA = newTrace();
  const audit = '8c0b1ad1-3f3e-4a5e-9a55-3d3f1f1f6f01';
  const target = '/api/v1/namespaces/default/pods?fieldManager=kubectl-run';
  let createServer: Span;
  let auth: Span;
  let handlerParent: Span;
  if (p === '1.35') {
    auth = add(mk(tA, undefined, 'authentication', I, 0, 20, A, filt));
    createServer = add(mk(tA, auth, 'POST /api/v1/namespaces/{:namespace}/pods', S, 0.01, 19.9, A, http, serverAttrs(p, 'POST', target, 201, KUBECTL, audit)));
    let parent = createServer;
    for (const f of ['audit', 'impersonation', 'priorityandfairness', 'authorization']) parent = add(mk(tA, parent, f, I, 0.1, 19.8, A, filt));
    handlerParent = parent;
  } else {
    createServer = add(mk(tA, undefined, 'KubernetesAPI', S, 0, 20, A, http, serverAttrs(p, 'POST', target, 201, KUBECTL, audit)));
    auth = add(mk(tA, createServer, 'authentication', I, 0.05, 0.3, A, filt));
    handlerParent = auth;
  }
  const create = add(mk(tA, handlerParent, 'Create', I, 1, 19.5, A, cb, traceFields(p, audit, 'POST', '/api/v1/namespaces/default/pods', 'resource', 'pods', KUBECTL)));
  ev(create, 'limitedReadBody succeeded', 1.1, { len: 250 });
  ev(create, 'About to convert to expected version', 1.2);
  ev(create, 'Conversion done', 1.3);
  ev(create, 'About to store object in database', 1.4);
  const webhookCall = add(
    mk(tA, create, 'Call mutating webhook', I, 2, 10, A, cb, {
      configuration: 'pod-mutator',
      webhook: 'mpod.example.com',
      resource: '/v1, Resource=pods',
      subresource: '',
      operation: 'CREATE',
      UID: '0f9a6a2e-5b0e-4f7c-8f43-6b0c1e2d3a4b',
    }),
  );
  const webhookClient = add(
    mk(tA, webhookCall, 'HTTP POST', C, 2.5, 9.2, A, http, clientAttrs(p, 'POST', 'https://pod-mutator.webhook-system.svc:443/mutate-v1-pod?timeout=10s', 200)),
  );
  const webhookServer = add(
    mk(tA, webhookClient, '/mutate-v1-pod', S, 3, 9, RES.webhook, [OTELHTTP, '0.61.0'], {
      'http.request.method': 'POST',
      'url.scheme': 'https',
      'server.address': 'pod-mutator.webhook-system.svc',
      'server.port': 443,
      'user_agent.original': 'kube-apiserver-admission',
      'url.path': '/mutate-v1-pod',
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
    }),
  );
  ev(webhookCall, 'Request completed', 9.5);
  ev(webhookCall, 'Patch applied', 9.6);
  const storageAttrs: Attrs =
    p === '1.35'
      ? { 'audit-id': audit, key: '/pods/default/demo', type: '*core.Pod', group: '', resource: 'pods' }
      : { 'audit-id': audit, key: '/pods/default/demo', type: '*core.Pod', resource: 'pods' };
  const createEtcd3 = add(mk(tA, create, 'Create etcd3', I, 11, 15.5, A, cb, storageAttrs));
  for (const [n, t] of [['About to Encode', 11.1], ['Encode succeeded', 11.2], ['TransformToStorage succeeded', 11.3], ['Txn call succeeded', 15.2], ['decode succeeded', 15.3]] as const) {
    ev(createEtcd3, n, t, n === 'Encode succeeded' || n === 'decode succeeded' ? { len: 900 } : {});
  }
  const txnClient = add(
    mk(tA, createEtcd3, 'etcdserverpb.KV/Txn', C, 11.5, 15, A, grpc, grpcAttrs('etcdserverpb.KV/Txn', p === '1.35' ? { 'net.sock.peer.addr': '127.0.0.1', 'net.sock.peer.port': 2379 } : {})),
  );
  messages(p, txnClient, 'SENT');
  const txnServer = add(
    mk(tA, txnClient, 'etcdserverpb.KV/Txn', S, 12, 14.5, RES.etcd, [OTELGRPC, V[p].etcd], grpcAttrs('etcdserverpb.KV/Txn', p === '1.35' ? { 'net.sock.peer.addr': '127.0.0.1', 'net.sock.peer.port': 51000 } : { 'net.peer.ip': '127.0.0.1', 'net.peer.port': '51000' })),
  );
  if (p === '1.27') messages(p, txnServer, 'RECEIVED');
  ev(create, 'Write to database call succeeded', 16, { len: 900 });
  ev(create, 'About to write a response', 16.1);
  const serialize = add(
    mk(tA, p === '1.35' ? create : handlerParent, 'SerializeObject', I, 16.2, 18.5, A, cb, {
      'audit-id': audit,
      method: 'POST',
      url: '/api/v1/namespaces/default/pods',
      protocol: 'HTTP/2.0',
      mediaType: 'application/json',
      encoder: '{"encodeGV":"v1","encoder":"{\\"name\\":\\"json\\"}","name":"versioning"}',
    }),
  );
  ev(serialize, 'About to start writing response', 16.3, { writer: '*http2.responseWriter', size: 900 });
  ev(serialize, 'Write call succeeded', 18.4, { size: 900 });
  ev(create, 'Writing http response done', 19);

  // The scheduler's binding: story mode hangs it under the create, faithful mode starts a trace.
  const story = mode === 'story';
  const tB = story ? tA : newTrace();
  const bindingAttrs = serverAttrs(p, 'POST', '/api/v1/namespaces/default/pods/demo/binding', 201, 'kube-scheduler/v1.35.0', '2a4c6e80-1111-4222-8333-944455566677');
  const binding = add(
    mk(tB, story ? createServer : undefined, p === '1.35' ? 'POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding' : 'KubernetesAPI', S, 25, 35, A, http, bindingAttrs),
  );

  // The kubelet's syncPod and its CRI calls.
  const tC = story ? tA : newTrace();
  const kubelet = RES.kubelet;
  const syncPod = add(
    mk(tC, story ? createServer : undefined, 'syncPod', I, 40, 200, kubelet, ['k8s.io/kubernetes/pkg/kubelet', ''], {
      'k8s.pod.uid': '1201fb4f-00d8-4b42-8d66-7ac75e2ef99b',
      'k8s.pod': 'default/demo',
      'k8s.pod.name': 'demo',
      'k8s.pod.update_type': 'create',
      'k8s.namespace.name': 'default',
    }),
  );
  const cri: Fixture['cri'] = {};
  const calls: Array<[string, number, number]> = [
    ['runtime.v1.RuntimeService/RunPodSandbox', 50, 110],
    ['runtime.v1.RuntimeService/PodSandboxStatus', 111, 113],
    ['runtime.v1.ImageService/ImageStatus', 114, 116],
    ['runtime.v1.ImageService/PullImage', 117, 160],
    ['runtime.v1.RuntimeService/CreateContainer', 161, 180],
    ['runtime.v1.RuntimeService/StartContainer', 181, 195],
  ];
  for (const [name, from, to] of calls) {
    const client = add(mk(tC, syncPod, name, C, from, to, kubelet, grpc, grpcAttrs(name)));
    messages(p, client, 'SENT');
    const containerd = p === '1.27' ? { 'service.name': 'containerd', 'host.name': 'node-1' } : RES.containerd;
    const server = add(mk(tC, client, name, S, from + 0.5, to - 0.5, containerd, [OTELGRPC, V[p].containerd], grpcAttrs(name)));
    if (p === '1.27') messages(p, server, 'RECEIVED');
    cri[name.split('/')[1] as string] = { client, server };
  }
  const pull = cri['PullImage']?.server as Span;
  ev(pull, 'stop pulling image docker.io/library/nginx:latest: active requests=0, bytes read=6591', 150, { level: 'info' });
  if (p === '1.35') {
    const cc = cri['CreateContainer']?.server as Span;
    cc.attributes = { ...cc.attributes, 'sandbox.id': 'b'.repeat(64), 'sandbox.pid': 4242, 'container.id': 'c'.repeat(64), 'container.name': 'demo' };
    ev(cc, 'container created', 179, { 'container.create.duration': '17.9ms' });
  }

  // The status manager's PATCH: a kubelet root, and an apiserver root linked to it.
  const tD = newTrace();
  const patchClient = add(
    mk(tD, undefined, 'HTTP PATCH', C, 205, 230, kubelet, [OTELHTTP, V[p].http], clientAttrs(p, 'PATCH', 'https://127.0.0.1:6443/api/v1/namespaces/default/pods/demo/status', 200)),
  );
  const patchServer = add(
    mk(newTrace(), undefined, p === '1.35' ? 'PATCH /api/v1/namespaces/{:namespace}/pods/{:name}/status' : 'KubernetesAPI', S, 206, 229, A, http, serverAttrs(p, 'PATCH', '/api/v1/namespaces/default/pods/demo/status', 200, KUBELET_UA, '3b5d7f91-2222-4333-8444-a55566677788')),
  );
  patchServer.links.push({ traceId: tD, spanId: patchClient.spanId, attributes: {} });

  // kubectl get nodes.
  const tG = newTrace();
  const gAudit = '4c6e8002-3333-4444-8555-b66677788899';
  const gServer = add(mk(tG, undefined, p === '1.35' ? 'GET /api/v1/nodes' : 'KubernetesAPI', S, 300, 305, A, http, serverAttrs(p, 'GET', '/api/v1/nodes?limit=500', 200, KUBECTL, gAudit)));
  const list = add(mk(tG, gServer, 'List', I, 300.5, 304.5, A, cb, { ...traceFields(p, gAudit, 'LIST', '/api/v1/nodes', 'cluster', 'nodes', KUBECTL), ...(p === '1.35' ? { namespace: '' } : {}) }));
  ev(list, 'About to List from storage', 300.6);
  const etcdList = add(mk(tG, list, 'List(recursive=true) etcd3', I, 300.7, 302, A, cb, { 'audit-id': gAudit, key: '/minions', resourceVersion: '', resourceVersionMatch: '', limit: 500, continue: '' }));
  const range = add(mk(tG, etcdList, 'etcdserverpb.KV/Range', C, 300.8, 301.9, A, grpc, grpcAttrs('etcdserverpb.KV/Range')));
  messages(p, range, 'SENT');
  const rangeServer = add(
    mk(tG, range, 'etcdserverpb.KV/Range', S, 301, 301.7, RES.etcd, [OTELGRPC, V[p].etcd], grpcAttrs('etcdserverpb.KV/Range', p === '1.35' ? { 'net.sock.peer.addr': '127.0.0.1', 'net.sock.peer.port': 51000 } : { 'net.peer.ip': '127.0.0.1', 'net.peer.port': '51000' })),
  );
  if (p === '1.27') messages(p, rangeServer, 'RECEIVED');
  ev(list, 'Listing from storage done', 302.1);
  ev(list, 'Writing http response done', 304.4, { count: 1 });

  return { spans, createServer, create, webhookCall, webhookClient, webhookServer, createEtcd3, txnClient, txnServer, serialize, auth, binding, syncPod, cri, patchClient, patchServer, list };
}

const PROFILES: Profile[] = ['1.27', '1.35'];
const tellsOf = (vs: Violation[]): number[] => [...new Set(vs.map((v) => v.tell))].sort((a, b) => a - b);

describe('the good fixtures show no tell', () => {
  for (const p of PROFILES) {
    for (const mode of ['story', 'faithful'] as const) {
      it(`${p} ${mode}`, () => {
        const f = podCreation(p, mode);
        const found = findTells(f.spans, { profile: p, mode, realisticTiming: true });
        expect(formatViolations(found)).toBe('');
      });
    }
    it(`${p}: the other profile's spans are full of tells`, () => {
      const other = p === '1.27' ? '1.35' : '1.27';
      const found = tellsOf(findTells(podCreation(p, 'story').spans, { profile: other, mode: 'story' }));
      for (const t of [3, 4, 5, 6, 8]) expect(found).toContain(t);
    });
  }
});

type Mutation = (f: Fixture, p: Profile) => void;
interface Case {
  tell: number;
  what: string;
  mutate: Mutation;
  profiles?: Profile[];
  mode?: TellOptions['mode'];
  realisticTiming?: boolean;
}

const server = (f: Fixture, name: string) => f.cri[name]?.server as Span;
const client = (f: Fixture, name: string) => f.cri[name]?.client as Span;
const shift = (s: Span, fromMs: number, toMs: number): void => {
  s.startTimeUnixNano = at(fromMs);
  s.endTimeUnixNano = at(toMs);
};

const CASES: Case[] = [
  // 1 kinds
  { tell: 1, what: 'Create as SERVER', mutate: (f) => void (f.create.kind = S) },
  { tell: 1, what: 'etcd server span as CLIENT', mutate: (f) => void (f.txnServer.kind = C) },
  { tell: 1, what: 'syncPod as SERVER', mutate: (f) => void (f.syncPod.kind = S) },
  { tell: 1, what: 'webhook HTTP POST as INTERNAL', mutate: (f) => void (f.webhookClient.kind = I) },
  { tell: 1, what: 'containerd CRI span as CLIENT', mutate: (f) => void (server(f, 'RunPodSandbox').kind = C) },
  // 2 one trace (faithful)
  {
    tell: 2,
    what: 'syncPod under the create request',
    mode: 'faithful',
    mutate: (f) => {
      f.syncPod.traceId = f.createServer.traceId;
      f.syncPod.parentSpanId = f.createServer.spanId;
    },
  },
  { tell: 2, what: 'a root syncPod with a link', mode: 'faithful', mutate: (f) => void f.syncPod.links.push({ traceId: f.createServer.traceId, spanId: f.createServer.spanId, attributes: {} }) },
  {
    tell: 2,
    what: 'the binding inside the create trace',
    mode: 'faithful',
    mutate: (f) => {
      f.binding.traceId = f.createServer.traceId;
      f.binding.parentSpanId = f.createServer.spanId;
    },
  },
  // 3 names
  { tell: 3, what: 'literal namespace in the route name', profiles: ['1.35'], mutate: (f) => void (f.createServer.name = 'POST /api/v1/namespaces/default/pods') },
  { tell: 3, what: 'KubernetesAPI in 1.35', profiles: ['1.35'], mutate: (f) => void (f.createServer.name = 'KubernetesAPI') },
  { tell: 3, what: 'a route name in 1.27', profiles: ['1.27'], mutate: (f) => void (f.createServer.name = 'POST /api/v1/namespaces/{:namespace}/pods') },
  { tell: 3, what: 'a leading slash on a gRPC name', mutate: (f) => void (f.txnClient.name = '/etcdserverpb.KV/Txn') },
  { tell: 3, what: 'etcd.put', mutate: (f) => void (f.txnClient.name = 'etcd.put') },
  { tell: 3, what: 'KV.Txn', mutate: (f) => void (f.txnClient.name = 'KV.Txn') },
  { tell: 3, what: 'Txn', mutate: (f) => void (f.txnServer.name = 'Txn') },
  { tell: 3, what: 'the webhook client named after its path', mutate: (f) => void (f.webhookClient.name = 'POST /mutate-v1-pod') },
  { tell: 3, what: 'the webhook client named "webhook call"', mutate: (f) => void (f.webhookClient.name = 'webhook call') },
  { tell: 3, what: 'a CRI name without its package', mutate: (f) => void (client(f, 'PullImage').name = 'ImageService/PullImage') },
  // 4 message events
  { tell: 4, what: 'no RECEIVED on the etcd client span', mutate: (f) => void f.txnClient.events.pop() },
  { tell: 4, what: 'RECEIVED before SENT on a CRI client span', mutate: (f) => void client(f, 'StartContainer').events.reverse() },
  {
    tell: 4,
    what: 'message events on an etcd 3.5.21 server span',
    profiles: ['1.35'],
    mutate: (f) => void (f.txnServer.events = [...f.txnClient.events].reverse()),
  },
  { tell: 4, what: 'no message events on an etcd 3.5.7 server span', profiles: ['1.27'], mutate: (f) => void (f.txnServer.events = []) },
  {
    tell: 4,
    what: 'message events on a containerd 2.1 server span',
    profiles: ['1.35'],
    mutate: (f) => void server(f, 'RunPodSandbox').events.push({ name: 'message', timeUnixNano: at(52), attributes: { 'message.type': 'RECEIVED', 'message.id': 1 } }),
  },
  { tell: 4, what: 'a read event on an otelhttp span', mutate: (f) => void f.webhookServer.events.push({ name: 'read', timeUnixNano: at(4), attributes: { 'http.read_bytes': 10 } }) },
  {
    tell: 4,
    what: 'v0.65 message event keys',
    mutate: (f) => {
      for (const e of f.txnClient.events) e.attributes = { 'rpc.message.type': e.attributes['message.type'] ?? null, 'rpc.message.id': 1 };
    },
  },
  // 5 attribute generations
  { tell: 5, what: 'http.method beside http.request.method', profiles: ['1.35'], mutate: (f) => void (f.createServer.attributes['http.method'] = 'POST') },
  { tell: 5, what: 'stable keys on a 1.27 server span', profiles: ['1.27'], mutate: (f) => void (f.createServer.attributes['url.path'] = '/api/v1/namespaces/default/pods') },
  { tell: 5, what: 'net.peer.ip beside net.sock.peer.addr', mutate: (f) => void (f.txnServer.attributes = { ...f.txnServer.attributes, 'net.peer.ip': '127.0.0.1', 'net.sock.peer.addr': '127.0.0.1' }) },
  { tell: 5, what: 'rpc.grpc.status_code as a string', mutate: (f) => void (f.txnClient.attributes['rpc.grpc.status_code'] = '0') },
  {
    tell: 5,
    what: 'rpc.system.name before 1.36',
    mutate: (f) => {
      delete f.txnClient.attributes['rpc.system'];
      f.txnClient.attributes['rpc.system.name'] = 'grpc';
    },
  },
  { tell: 5, what: 'a string net.sock.peer.port on etcd 3.5.21', profiles: ['1.35'], mutate: (f) => void (f.txnServer.attributes['net.sock.peer.port'] = '51000') },
  { tell: 5, what: 'peer keys on a 1.27 etcd client span', profiles: ['1.27'], mutate: (f) => void (f.txnClient.attributes['net.sock.peer.addr'] = '127.0.0.1') },
  { tell: 5, what: 'audit-id on a 1.27 SERVER span', profiles: ['1.27'], mutate: (f) => void (f.createServer.attributes['audit-id'] = 'x') },
  // 6 spelling
  {
    tell: 6,
    what: 'audit_id',
    mutate: (f) => {
      f.create.attributes['audit_id'] = f.create.attributes['audit-id'] ?? '';
      delete f.create.attributes['audit-id'];
    },
  },
  { tell: 6, what: 'a prefixed apiserver key', mutate: (f) => void (f.createEtcd3.attributes['k8s.resource'] = 'pods') },
  {
    tell: 6,
    what: 'k8s.pod.update.type',
    mutate: (f) => {
      f.syncPod.attributes['k8s.pod.update.type'] = 'create';
      delete f.syncPod.attributes['k8s.pod.update_type'];
    },
  },
  { tell: 6, what: 'OTel k8s semconv on containerd', mutate: (f) => void (server(f, 'RunPodSandbox').attributes['k8s.pod.name'] = 'demo') },
  { tell: 6, what: 'a camelCase containerd key', mutate: (f) => void (server(f, 'RunPodSandbox').attributes['sandboxId'] = 'b') },
  {
    tell: 6,
    what: 'container.create.duration as a number',
    profiles: ['1.35'],
    mutate: (f) => {
      const e = server(f, 'CreateContainer').events.find((x) => x.name === 'container created');
      if (e) e.attributes['container.create.duration'] = 17.9;
    },
  },
  { tell: 6, what: 'api-group on 1.27 handler spans', profiles: ['1.27'], mutate: (f) => void (f.create.attributes['api-group'] = '') },
  { tell: 6, what: 'GroupResource resource without group in 1.35', profiles: ['1.35'], mutate: (f) => void delete f.createEtcd3.attributes['group'] },
  // 7 resources
  { tell: 7, what: 'service.name kube-apiserver', mutate: (f) => void (f.create.resource = { ...f.create.resource, 'service.name': 'kube-apiserver' }) },
  { tell: 7, what: 'telemetry.sdk on the apiserver', mutate: (f) => void (f.create.resource = { ...f.create.resource, 'telemetry.sdk.language': 'go' }) },
  { tell: 7, what: 'a bad service.instance.id', mutate: (f) => void (f.create.resource = { ...f.create.resource, 'service.instance.id': 'kube-apiserver-1' }) },
  { tell: 7, what: 'a kubelet without host.name', mutate: (f) => void (f.syncPod.resource = { 'service.name': 'kubelet' }) },
  { tell: 7, what: 'Node.js SDK on the kubelet', mutate: (f) => void (f.syncPod.resource = { ...f.syncPod.resource, 'telemetry.sdk.language': 'nodejs' }) },
  { tell: 7, what: 'process.runtime on the webhook', mutate: (f) => void (f.webhookServer.resource = { ...f.webhookServer.resource, 'process.runtime.name': 'nodejs' }) },
  { tell: 7, what: 'containerd 2.x without the SDK resource', profiles: ['1.35'], mutate: (f) => void (server(f, 'PullImage').resource = { 'service.name': 'containerd' }) },
  // 8 scopes
  { tell: 8, what: "etcd's otelgrpc version on the apiserver client", mutate: (f) => void (f.txnClient.scope = { name: OTELGRPC, version: '0.46.0' }) },
  { tell: 8, what: 'otelhttp v0.61 in 1.27', profiles: ['1.27'], mutate: (f) => void (f.createServer.scope = { name: OTELHTTP, version: '0.61.0' }) },
  { tell: 8, what: 'the filter scope spelt k8s.io', mutate: (f) => void (f.auth.scope = { name: 'k8s.io/apiserver/pkg/endpoints/filterlatency', version: '' }) },
  { tell: 8, what: 'a made-up component-base scope', mutate: (f) => void (f.create.scope = { name: 'k8s.io/apiserver', version: '' }) },
  { tell: 8, what: 'syncPod scope', mutate: (f) => void (f.syncPod.scope = { name: 'kubelet', version: '' }) },
  { tell: 8, what: 'the containerd version of etcd', mutate: (f) => void (f.txnServer.scope = { name: OTELGRPC, version: '0.60.0' }) },
  // 9 status
  {
    tell: 9,
    what: 'a 404 server span marked Error',
    mutate: (f, p) => {
      f.createServer.attributes[p === '1.35' ? 'http.response.status_code' : 'http.status_code'] = 404;
      f.createServer.status = { code: 2, message: '' };
    },
  },
  { tell: 9, what: 'status on a component-base span', mutate: (f) => void (f.create.status = { code: 2, message: 'boom' }) },
  { tell: 9, what: 'Ok on success', mutate: (f) => void (f.txnServer.status = { code: 1, message: '' }) },
  { tell: 9, what: 'a failed client call left Unset', mutate: (f) => void (f.txnClient.attributes['rpc.grpc.status_code'] = 9) },
  {
    tell: 9,
    what: 'NotFound on an etcd 3.5.21 server span marked Error',
    profiles: ['1.35'],
    mutate: (f) => {
      f.txnServer.attributes['rpc.grpc.status_code'] = 5;
      f.txnServer.status = { code: 2, message: 'not found' };
    },
  },
  { tell: 9, what: 'NotFound on an etcd 3.5.7 server span left Unset', profiles: ['1.27'], mutate: (f) => void (f.txnServer.attributes['rpc.grpc.status_code'] = 5) },
  { tell: 9, what: 'a 500 from the webhook not an error on the client', mutate: (f, p) => void (f.webhookClient.attributes[p === '1.35' ? 'http.response.status_code' : 'http.status_code'] = 500) },
  { tell: 9, what: 'syncPod Error before 1.31', profiles: ['1.27'], mutate: (f) => void (f.syncPod.status = { code: 2, message: 'x' }) },
  // 10 event vocabulary and order
  {
    tell: 10,
    what: 'Create events out of order',
    mutate: (f) => {
      const [a, b] = [f.create.events[1], f.create.events[2]];
      if (a && b) [f.create.events[1], f.create.events[2]] = [b, a];
    },
  },
  { tell: 10, what: 'an event Create never records', mutate: (f) => void f.create.events.splice(2, 0, { name: 'Validating object', timeUnixNano: at(1.25), attributes: {} }) },
  { tell: 10, what: '"Writing http response done" not last', mutate: (f) => void f.create.events.push({ name: 'About to write a response', timeUnixNano: at(19.1), attributes: {} }) },
  {
    tell: 10,
    what: '"Write to database call succeeded" before Create etcd3 ends',
    mutate: (f) => {
      const e = f.create.events.find((x) => x.name === 'Write to database call succeeded');
      if (e) e.timeUnixNano = at(15);
    },
  },
  {
    tell: 10,
    what: '"Writing http response done" before SerializeObject ends',
    mutate: (f) => {
      const e = f.create.events.find((x) => x.name === 'Writing http response done');
      if (e) e.timeUnixNano = at(18);
    },
  },
  { tell: 10, what: 'limitedReadBody without len', mutate: (f) => void ((f.create.events[0] as Span['events'][number]).attributes = {}) },
  { tell: 10, what: 'another audit id on Create etcd3', mutate: (f) => void (f.createEtcd3.attributes['audit-id'] = '00000000-0000-4000-8000-000000000000') },
  {
    tell: 10,
    what: '"Request completed" before the HTTP call ends',
    mutate: (f) => {
      const e = f.webhookCall.events.find((x) => x.name === 'Request completed');
      if (e) e.timeUnixNano = at(9.1);
    },
  },
  { tell: 10, what: '"Patch applied" without "Request completed"', mutate: (f) => void f.webhookCall.events.shift() },
  { tell: 10, what: 'List without count', mutate: (f) => void ((f.list.events[f.list.events.length - 1] as Span['events'][number]).attributes = {}) },
  // 11 timing
  { tell: 11, what: 'etcd server span outliving its client', mutate: (f) => shift(f.txnServer, 12, 15.2) },
  { tell: 11, what: 'webhook server starting with its client', mutate: (f) => void (f.webhookServer.startTimeUnixNano = f.webhookClient.startTimeUnixNano) },
  { tell: 11, what: 'containerd RunPodSandbox starting before the kubelet call', mutate: (f) => shift(server(f, 'RunPodSandbox'), 49, 109) },
  { tell: 11, what: 'CreateContainer before PullImage ends', mutate: (f) => shift(client(f, 'CreateContainer'), 159, 180) },
  { tell: 11, what: 'StartContainer before CreateContainer ends', mutate: (f) => shift(client(f, 'StartContainer'), 179.5, 195) },
  { tell: 11, what: 'syncPod before the binding completed', mutate: (f) => shift(f.syncPod, 34, 200) },
  { tell: 11, what: 'a linked server span outliving the kubelet call', mutate: (f) => void (f.patchServer.endTimeUnixNano = at(231)) },
  { tell: 11, what: 'a 0.1 ms write Txn', realisticTiming: true, mutate: (f) => shift(f.txnServer, 12, 12.1) },
  { tell: 11, what: 'a 0.2 ms webhook round trip', realisticTiming: true, mutate: (f) => (shift(f.webhookClient, 2.5, 2.7), shift(f.webhookServer, 2.55, 2.65)) },
  {
    tell: 11,
    what: 'a 20 ms RunPodSandbox',
    realisticTiming: true,
    mutate: (f) => (shift(client(f, 'RunPodSandbox'), 50, 70), shift(server(f, 'RunPodSandbox'), 50.5, 69.5)),
  },
  {
    tell: 11,
    what: 'a 43 ms cold pull',
    realisticTiming: true,
    mutate: (f) => {
      const e = server(f, 'PullImage').events[0];
      if (e) e.name = 'stop pulling image docker.io/library/nginx:latest: active requests=0, bytes read=72195292';
    },
  },
  // 12 ids and links
  { tell: 12, what: 'an upper-case trace id', mutate: (f) => void (f.create.traceId = f.create.traceId.toUpperCase().replace(/^0/, 'A')) },
  { tell: 12, what: 'a short span id', mutate: (f) => void (f.create.spanId = 'abc') },
  { tell: 12, what: 'a link on a CRI span', mutate: (f) => void client(f, 'PullImage').links.push({ traceId: f.createServer.traceId, spanId: f.createServer.spanId, attributes: {} }) },
  {
    tell: 12,
    what: 'a server link to an internal span',
    mutate: (f) => void (f.patchServer.links = [{ traceId: f.syncPod.traceId, spanId: f.syncPod.spanId, attributes: {} }]),
  },
  { tell: 12, what: 'the status PATCH without its link', mutate: (f) => void (f.patchServer.links = []) },
  {
    tell: 12,
    what: 'the status PATCH adopting the kubelet context',
    mutate: (f) => {
      f.patchServer.links = [];
      f.patchServer.traceId = f.patchClient.traceId;
      f.patchServer.parentSpanId = f.patchClient.spanId;
    },
  },
  // 14 http.target
  { tell: 14, what: 'http.target without the query', mutate: (f) => void (f.createServer.attributes['http.target'] = '/api/v1/namespaces/default/pods') },
  { tell: 14, what: 'no http.target', mutate: (f) => void delete f.createServer.attributes['http.target'] },
  { tell: 14, what: 'url.path with the query', profiles: ['1.35'], mutate: (f) => void (f.createServer.attributes['url.path'] = '/api/v1/namespaces/default/pods?fieldManager=kubectl-run') },
];

describe('each tell is flagged', () => {
  for (const c of CASES) {
    for (const p of c.profiles ?? PROFILES) {
      const mode = c.mode ?? 'story';
      it(`tell ${c.tell}, ${p} ${mode}: ${c.what}`, () => {
        const f = podCreation(p, mode);
        c.mutate(f, p);
        const opts = { profile: p, mode, realisticTiming: c.realisticTiming ?? false };
        expect(tellsOf(findTells(f.spans, opts))).toContain(c.tell);
        if (c.realisticTiming) expect(tellsOf(findTells(f.spans, { ...opts, realisticTiming: false }))).not.toContain(c.tell);
      });
    }
  }

  it('story mode allows syncPod and the binding under the create request (the documented simplification)', () => {
    for (const p of PROFILES) {
      const f = podCreation(p, 'story');
      expect(f.syncPod.parentSpanId).toBe(f.createServer.spanId);
      expect(tellsOf(findTells(f.spans, { profile: p, mode: 'story' }))).not.toContain(2);
      expect(tellsOf(findTells(f.spans, { profile: p, mode: 'faithful' }))).toContain(2);
    }
  });
});

describe('expectedRouteName', () => {
  it.each([
    ['POST', '/api/v1/namespaces/default/pods', '', 'POST /api/v1/namespaces/{:namespace}/pods'],
    ['GET', '/api/v1/nodes', 'limit=500', 'GET /api/v1/nodes'],
    ['POST', '/api/v1/namespaces/default/pods/demo/binding', '', 'POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding'],
    ['PATCH', '/api/v1/namespaces/default/pods/demo/status', '', 'PATCH /api/v1/namespaces/{:namespace}/pods/{:name}/status'],
    ['GET', '/apis/apps/v1/namespaces/default/deployments/web', '', 'GET /apis/apps/v1/namespaces/{:namespace}/deployments/{:name}'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', '', 'PUT /apis/coordination.k8s.io/v1/namespaces/{:namespace}/leases/{:name}'],
    ['GET', '/api/v1/namespaces/default', '', 'GET /api/v1/namespaces/{:namespace}/namespaces/{:name}'],
    ['PUT', '/api/v1/namespaces/default/finalize', '', 'PUT /api/v1/namespaces/{:namespace}/namespaces/{:name}/finalize'],
    ['GET', '/api/v1/watch/namespaces/default/pods', '', 'GET /api/v1/namespaces/{:namespace}/pods'],
    ['GET', '/api/v1/namespaces/default/pods', 'fieldSelector=metadata.name%3Ddemo', 'GET /api/v1/namespaces/{:namespace}/pods/{:name}'],
    ['GET', '/api/v1/pods', 'fieldSelector=spec.nodeName%3Dnode-1', 'GET /api/v1/pods'],
    ['GET', '/api', '', 'GET'],
    ['GET', '/api/v1', '', 'GET'],
    ['GET', '/apis/apps/v1', '', 'GET'],
    ['GET', '/livez', '', 'GET'],
    ['GET', '/openapi/v2', '', 'GET'],
  ])('%s %s ?%s → %s', (method, path, query, want) => {
    expect(expectedRouteName(method, path, query)).toBe(want);
  });
});

describe('backgroundTells (tell 13)', () => {
  /** 21 s of a one-node cluster's background at 100% sampling. */
  function background(): Span[] {
    const spans: Span[] = [];
    const grpc = [OTELGRPC, '0.60.0'] as [string, string];
    for (let sec = 0; sec < 21; sec++) {
      for (const m of ['ListPodSandbox', 'ListContainers']) {
        const name = `runtime.v1.RuntimeService/${m}`;
        spans.push(mk(newTrace(), undefined, name, C, sec * 1000, sec * 1000 + 3, RES.kubelet, grpc, grpcAttrs(name)));
      }
    }
    for (const sec of [3, 13]) {
      spans.push(
        mk(newTrace(), undefined, 'HTTP PUT', C, sec * 1000, sec * 1000 + 5, RES.kubelet, [OTELHTTP, '0.61.0'], clientAttrs('1.35', 'PUT', 'https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', 200)),
      );
      spans.push(mk(newTrace(), undefined, 'HTTP GET', C, sec * 1000 + 100, sec * 1000 + 103, RES.kubelet, [OTELHTTP, '0.61.0'], clientAttrs('1.35', 'GET', 'https://127.0.0.1:6443/api/v1/nodes/node-1?resourceVersion=0', 200)));
    }
    spans.push(mk(newTrace(), undefined, 'GET', S, 5000, 5001, RES.apiserver, [OTELHTTP, '0.61.0'], serverAttrs('1.35', 'GET', '/livez', 200, 'kube-probe/1.35', 'a')));
    return spans;
  }

  it('a cluster with its background shows none', () => {
    expect(backgroundTells(background(), 20)).toEqual([]);
  });

  it.each([
    ['PLEG ListPodSandbox', (s: Span) => s.name.endsWith('/ListPodSandbox')],
    ['PLEG ListContainers', (s: Span) => s.name.endsWith('/ListContainers')],
    ['lease renewals', (s: Span) => s.name === 'HTTP PUT'],
    ['node status', (s: Span) => s.name === 'HTTP GET'],
    ['health probes', (s: Span) => s.name === 'GET'],
  ])('without %s it is flagged', (_what, drop) => {
    const found = backgroundTells(background().filter((s) => !drop(s)), 20);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((v) => v.tell === 13)).toBe(true);
  });

  it('only the demo requests (no kubelet background at all) is flagged', () => {
    expect(backgroundTells(podCreation('1.35', 'story').spans.filter((s) => s.resource['service.name'] !== 'kubelet'), 20).map((v) => v.tell)).toContain(13);
  });
});

// The fixtures are typed loosely for mutation; findTells takes the receiver's read-only span type.
const _typecheck: readonly TellSpan[] = [] as Span[];
void _typecheck;

describe('tell 10: the Get span of a cached read', () => {
  const get = (events: string[]): TellSpan => ({
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    parentSpanId: 'c'.repeat(16),
    name: 'Get',
    kind: I,
    startTimeUnixNano: at(0),
    endTimeUnixNano: at(1),
    attributes: { 'audit-id': '3b1f1e6e-0d6c-4b7a-9d1e-2f6a1c0b9e11' },
    events: events.map((name, i) => ({ name, timeUnixNano: at(0.1 * (i + 1)), attributes: {} })),
    links: [],
    status: { code: 0, message: '' },
    resource: RES.apiserver,
    scope: { name: CB, version: '' },
  });
  const cached = ['About to Get from storage', 'watchCache locked acquired', 'watchCache fresh enough', 'About to write a response', 'Writing http response done'];
  const tell10 = (vs: Violation[]): string[] => vs.filter((v) => v.tell === 10).map((v) => v.message);

  it('1.27: the watch cache adds its events to the Get span itself (no cacher.Get span before 1.33)', () => {
    expect(tell10(findTells([get(cached)], { profile: '1.27', mode: 'faithful' }))).toEqual([]);
  });
  it('1.35: they belong to cacher.Get, so on Get they are a tell', () => {
    expect(tell10(findTells([get(cached)], { profile: '1.35', mode: 'faithful' }))).toEqual(['"watchCache locked acquired" is not an event of Get']);
  });
});
