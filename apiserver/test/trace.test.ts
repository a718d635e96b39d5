import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { perMillionSampler, startOtlpReceiver, startTracing, type OtlpReceiver, type ReceivedSpan, type Tracing } from '../../shared/src/index.js';
import { apiserverInstanceId, apiserverResource } from '../src/spans.js';
import { pki, pod, request, startEtcd, startTestApiserver, type TestApiserver } from './harness.js';
import { startWebhook, type TestWebhook } from './webhook-server.js';

// The spans one apiserver request produces, as an OTLP receiver gets them
// from the in-process apiserver and the etcd-sim process: the 1.35 tree of
// kubernetes-traces.md §7 (flow A) and §8 (flow B).

const ETCD_ENV = { OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: '', OTEL_RESOURCE_ATTRIBUTES: '' };
const SCOPE = {
  otelhttp: { name: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp', version: '0.61.0' },
  otelgrpc: { name: 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc', version: '0.60.0' },
  filter: { name: 'k8s.op/apiserver/pkg/endpoints/filterlatency', version: '' },
  component: { name: 'k8s.io/component-base/tracing', version: '' },
};
const INTERNAL = 1;
const SERVER = 2;
const CLIENT = 3;

let receiver: OtlpReceiver;
let etcd: Awaited<ReturnType<typeof startEtcd>>;
let tracing: Tracing;
let api: TestApiserver;
let wh: TestWebhook;

beforeAll(async () => {
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  etcd = await startEtcd(
    ['--experimental-enable-distributed-tracing', '--experimental-distributed-tracing-address', receiver.endpoint, '--experimental-distributed-tracing-sampling-rate', '0'],
    ETCD_ENV,
  );
  wh = await startWebhook();
  tracing = startTracing({
    resource: apiserverResource('test-host'),
    enabled: true,
    endpoint: receiver.endpoint,
    sampler: perMillionSampler(1_000_000),
    processor: 'simple',
    env: {},
  });
  api = await startTestApiserver(etcd.port, { tracing, config: { webhookServiceAddresses: new Map([['default/wh', { host: '127.0.0.1', port: wh.port }]]) } });
  const cfg = await request(api.url, 'POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
    body: {
      metadata: { name: 'label-pods' },
      webhooks: [
        {
          name: 'mpod.example.com',
          clientConfig: { service: { namespace: 'default', name: 'wh', path: '/mutate' }, caBundle: wh.caBundle },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          objectSelector: { matchLabels: { traced: 'yes' } },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        },
      ],
    },
  });
  const rv = cfg.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
  await request(api.url, 'GET', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?resourceVersion=${rv}`);
});

afterAll(async () => {
  await api?.close();
  await tracing?.shutdown();
  await wh?.close();
  etcd?.client.close();
  await etcd?.proc.stop();
  await receiver?.close();
});

const only = (spans: readonly ReceivedSpan[], pred: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan => {
  const found = spans.filter(pred);
  if (found.length !== 1) throw new Error(`${what}: want 1 span, have ${found.length}`);
  return found[0] as ReceivedSpan;
};
const childOf = (spans: readonly ReceivedSpan[], parent: ReceivedSpan, name: string): ReceivedSpan =>
  only(spans, (s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId && s.name === name, `${name} under ${parent.name}`);
const eventNames = (s: ReceivedSpan): string[] => s.events.map((e) => e.name);
const within = (inner: ReceivedSpan, outer: ReceivedSpan): void => {
  expect(inner.startTimeUnixNano).toBeGreaterThanOrEqual(outer.startTimeUnixNano);
  expect(inner.endTimeUnixNano).toBeLessThanOrEqual(outer.endTimeUnixNano);
};
/**
 * Across processes the other side's SDK stamps starts with a millisecond
 * Date.now() (see shared/src/precise-clock.ts), so its span may poke out of
 * ours by less than a millisecond until it uses the same precise clock.
 */
const withinAcross = (inner: ReceivedSpan, outer: ReceivedSpan): void => {
  expect(inner.startTimeUnixNano).toBeGreaterThanOrEqual(outer.startTimeUnixNano - 1_000_000n);
  expect(inner.endTimeUnixNano).toBeLessThanOrEqual(outer.endTimeUnixNano + 1_000_000n);
};
const eventTime = (s: ReceivedSpan, name: string): bigint => s.events.find((e) => e.name === name)?.timeUnixNano ?? -1n;

/** Every span of one request: those carrying its audit ID, the filter spans under its SERVER span, and its authentication root. */
async function requestSpans(auditId: string, extra: (spans: ReceivedSpan[]) => boolean = () => true): Promise<ReceivedSpan[]> {
  return receiver.waitForSpans((all) => {
    const server = all.find((s) => s.kind === SERVER && s.attributes['audit-id'] === auditId);
    return server !== undefined && all.some((s) => s.name === 'SerializeObject' && s.attributes['audit-id'] === auditId) && extra(all);
  });
}

describe('flow A: create a pod with a mutating webhook (1.35, story mode)', () => {
  it('builds the span tree, shapes and events of kubernetes-traces.md §7', async () => {
    const r = await request(api.url, 'POST', '/api/v1/namespaces/default/pods?fieldManager=kubectl-run', {
      body: { ...pod('traced'), metadata: { name: 'traced', labels: { traced: 'yes' } } },
      headers: { 'user-agent': 'kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd' },
    });
    expect(r.status).toBe(201);
    const auditId = r.headers['audit-id'] as string;
    let all = await requestSpans(auditId);
    const server = only(all, (s) => s.kind === SERVER && s.attributes['audit-id'] === auditId, 'SERVER');
    const trace = all.filter((s) => s.traceId === server.traceId);

    // system:masters without a traceparent: the SERVER span hangs under the authentication root.
    const auth = only(trace, (s) => s.spanId === server.parentSpanId, 'authentication');
    expect(auth).toMatchObject({ name: 'authentication', kind: INTERNAL, parentSpanId: '', scope: SCOPE.filter, attributes: {} });
    expect(auth.endTimeUnixNano).toBeGreaterThanOrEqual(server.endTimeUnixNano);
    expect(server.startTimeUnixNano).toBeLessThanOrEqual(auth.startTimeUnixNano);

    expect(server).toMatchObject({ name: 'POST /api/v1/namespaces/{:namespace}/pods', scope: SCOPE.otelhttp, status: { code: 0 }, events: [] });
    expect(server.resource).toEqual({ 'service.name': 'apiserver', 'service.instance.id': apiserverInstanceId('test-host') });
    const a = server.attributes;
    expect(a).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': api.port,
      'http.request.method': 'POST',
      'url.scheme': 'https',
      'network.peer.address': '127.0.0.1',
      'user_agent.original': 'kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd',
      'client.address': '127.0.0.1',
      'url.path': '/api/v1/namespaces/default/pods',
      'network.protocol.version': '2',
      'http.target': '/api/v1/namespaces/default/pods?fieldManager=kubectl-run',
      'audit-id': auditId,
      'http.response.status_code': 201,
    });
    for (const k of ['network.peer.port', 'http.request.body.size', 'http.response.body.size']) expect(typeof a[k]).toBe('number');

    // audit ⊃ impersonation ⊃ priorityandfairness ⊃ authorization ⊃ Create
    let parent = server;
    for (const name of ['audit', 'impersonation', 'priorityandfairness', 'authorization']) {
      const f = childOf(trace, parent, name);
      expect(f).toMatchObject({ kind: INTERNAL, scope: SCOPE.filter, attributes: {}, events: [] });
      within(f, parent);
      parent = f;
    }
    const create = childOf(trace, parent, 'Create');
    expect(create).toMatchObject({ kind: INTERNAL, scope: SCOPE.component, status: { code: 0 } });
    expect(create.attributes).toEqual({
      accept: '',
      'audit-id': auditId,
      client: '127.0.0.1',
      'api-group': '',
      'api-version': 'v1',
      name: '',
      subresource: '',
      namespace: 'default',
      protocol: 'HTTP/2.0',
      resource: 'pods',
      scope: 'resource',
      url: '/api/v1/namespaces/default/pods',
      'user-agent': 'kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd',
      verb: 'POST',
    });
    expect(eventNames(create)).toEqual([
      'limitedReadBody succeeded',
      'About to convert to expected version',
      'Conversion done',
      'About to store object in database',
      'Write to database call succeeded',
      'About to write a response',
      'Writing http response done',
    ]);
    expect(typeof create.events[0]?.attributes['len']).toBe('number');

    const mutating = childOf(trace, create, 'Call mutating webhook');
    expect(mutating.attributes).toEqual({
      configuration: 'label-pods',
      webhook: 'mpod.example.com',
      resource: '/v1, Resource=pods',
      subresource: '',
      operation: 'CREATE',
      UID: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(eventNames(mutating)).toEqual(['Request completed', 'Patch applied']);
    const post = childOf(trace, mutating, 'HTTP POST');
    expect(post).toMatchObject({ kind: CLIENT, scope: SCOPE.otelhttp, status: { code: 0 }, events: [] });
    expect(post.attributes).toEqual({
      'http.request.method': 'POST',
      'url.full': 'https://wh.default.svc:443/mutate?timeout=10s',
      'server.address': 'wh.default.svc',
      'server.port': 443,
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
    });
    expect(eventTime(mutating, 'Request completed')).toBeGreaterThanOrEqual(post.endTimeUnixNano);
    const sent = wh.received.find((x) => x.review.request.object?.metadata?.name === 'traced');
    expect(sent?.headers['traceparent']).toBe(`00-${post.traceId}-${post.spanId}-01`);

    const store = childOf(trace, create, 'Create etcd3');
    expect(store.attributes).toEqual({ 'audit-id': auditId, key: '/pods/default/traced', type: '*core.Pod', group: '', resource: 'pods' });
    expect(eventNames(store)).toEqual(['About to Encode', 'Encode succeeded', 'TransformToStorage succeeded', 'Txn call succeeded', 'decode succeeded']);
    expect(store.startTimeUnixNano).toBeGreaterThanOrEqual(mutating.endTimeUnixNano);
    expect(eventTime(create, 'Write to database call succeeded')).toBeGreaterThanOrEqual(store.endTimeUnixNano);

    const txn = childOf(trace, store, 'etcdserverpb.KV/Txn');
    expect(txn).toMatchObject({ kind: CLIENT, scope: SCOPE.otelgrpc, status: { code: 0 } });
    expect(txn.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'etcdserverpb.KV',
      'rpc.method': 'Txn',
      'net.sock.peer.addr': '127.0.0.1',
      'net.sock.peer.port': etcd.port,
      'rpc.grpc.status_code': 0,
    });
    expect(txn.events.map((e) => [e.name, e.attributes['message.type'], e.attributes['message.id']])).toEqual([
      ['message', 'SENT', 1],
      ['message', 'RECEIVED', 1],
    ]);
    // etcd-sim exports in batches; wait for its SERVER span under our CLIENT span.
    all = await receiver.waitForSpans((spans) => spans.some((x) => x.parentSpanId === txn.spanId));
    const etcdServer = childOf(all, txn, 'etcdserverpb.KV/Txn');
    expect(etcdServer.kind).toBe(SERVER);
    expect(etcdServer.resource['service.name']).toBe('etcd');
    withinAcross(etcdServer, txn);

    const serialize = childOf(trace, create, 'SerializeObject');
    expect(serialize.attributes).toMatchObject({ 'audit-id': auditId, method: 'POST', url: '/api/v1/namespaces/default/pods', protocol: 'HTTP/2.0', mediaType: 'application/json' });
    expect(serialize.events.map((e) => [e.name, e.attributes['writer'] ?? null, typeof e.attributes['size']])).toEqual([
      ['About to start writing response', '*http2.responseWriter', 'number'],
      ['Write call succeeded', null, 'number'],
    ]);
    expect(eventTime(create, 'Writing http response done')).toBeGreaterThanOrEqual(serialize.endTimeUnixNano);

    // Nothing else in the trace: every span is one of the above.
    const known = new Set([auth, server, create, mutating, post, store, txn, serialize].map((s) => s.spanId));
    const extras = all.filter((s) => s.traceId === server.traceId).filter((s) => !known.has(s.spanId) && !['audit', 'impersonation', 'priorityandfairness', 'authorization'].includes(s.name));
    expect(extras.map((s) => s.name)).toEqual(['etcdserverpb.KV/Txn']);
    for (const s of trace.filter((x) => x.resource['service.name'] === 'apiserver')) {
      expect(Object.keys(s.resource).some((k) => k.startsWith('telemetry.sdk') || k.startsWith('process.'))).toBe(false);
    }

    // story mode: the stored pod names the create's SERVER span.
    const stored = (await request(api.url, 'GET', '/api/v1/namespaces/default/pods/traced')).json<{ metadata: { annotations: Record<string, string> } }>();
    expect(stored.metadata.annotations['trace.k8s-trace-sim.io/traceparent']).toBe(`00-${server.traceId}-${server.spanId}-01`);
  });

  it('the binding joins the create trace when the scheduler sends that traceparent as system:masters', async () => {
    const created = await request(api.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('bound') });
    const tp = created.json<{ metadata: { annotations: Record<string, string> } }>().metadata.annotations['trace.k8s-trace-sim.io/traceparent'] as string;
    const r = await request(api.url, 'POST', '/api/v1/namespaces/default/pods/bound/binding', {
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'node-1' } },
      headers: { traceparent: tp },
    });
    expect(r.status).toBe(201);
    const auditId = r.headers['audit-id'] as string;
    const all = await requestSpans(auditId);
    const server = only(all, (s) => s.kind === SERVER && s.attributes['audit-id'] === auditId, 'binding SERVER');
    const [, traceId, spanId] = tp.split('-');
    expect(server).toMatchObject({ name: 'POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding', traceId, parentSpanId: spanId, links: [] });
    const create = only(all, (s) => s.name === 'Create' && s.attributes['audit-id'] === auditId, 'Create');
    expect(create.attributes).toMatchObject({ name: 'bound', subresource: 'binding', scope: 'resource' });
    const update = childOf(all, create, 'GuaranteedUpdate etcd3');
    expect(update.attributes).toMatchObject({ key: '/pods/default/bound', type: '*core.Pod' });
    expect(eventNames(update)).toEqual([
      'initial value restored',
      'About to Encode',
      'Encode succeeded',
      'TransformToStorage succeeded',
      'Transaction prepared',
      'Txn call completed',
      'Transaction committed',
      'decode succeeded',
    ]);
    childOf(all, update, 'etcdserverpb.KV/Txn');
  });
});

describe('incoming trace context: parent for privileged callers, link for everyone else', () => {
  const caller = (): { traceId: string; spanId: string; header: string } => {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
  };

  it.each([
    ['system:masters', 'admin', 'parent'],
    ['system:nodes', 'node', 'link'],
    ['anonymous', null, 'link'],
  ] as const)('%s caller → %s', async (_who, certName, want) => {
    const p = await pki();
    const cert = certName === null ? null : p[certName];
    const tp = caller();
    const r = await request(api.url, 'GET', '/api/v1/namespaces/default/pods/bound', { headers: { traceparent: tp.header }, cert });
    expect(r.status).toBe(200);
    const auditId = r.headers['audit-id'] as string;
    const all = await requestSpans(auditId);
    const server = only(all, (s) => s.kind === SERVER && s.attributes['audit-id'] === auditId, 'SERVER');
    expect(server.name).toBe('GET /api/v1/namespaces/{:namespace}/pods/{:name}');
    if (want === 'parent') {
      expect(server).toMatchObject({ traceId: tp.traceId, parentSpanId: tp.spanId, links: [] });
    } else {
      expect(server.traceId).not.toBe(tp.traceId);
      expect(server.parentSpanId).toBe('');
      expect(server.links.map((l) => [l.traceId, l.spanId])).toEqual([[tp.traceId, tp.spanId]]);
    }
    const get = only(all, (s) => s.name === 'Get' && s.attributes['audit-id'] === auditId, 'Get');
    expect(eventNames(get)).toEqual(['About to Get from storage', 'About to write a response', 'Writing http response done']);
    const cacherGet = childOf(all, get, 'cacher.Get');
    expect(cacherGet.attributes).toEqual({ 'audit-id': auditId, key: '/pods/default/bound', 'resource-version': '' });
    expect(eventNames(cacherGet)).toEqual(['About to Get from underlying storage']);
    childOf(all, cacherGet, 'etcdserverpb.KV/Range');
  });
});

describe('flow B: kubectl get nodes', () => {
  it('List ⊃ cacher.GetList ⊃ List(recursive=true) etcd3 {limit 1} ⊃ Range, then SerializeObject', async () => {
    await request(api.url, 'POST', '/api/v1/nodes', { body: { metadata: { name: 'node-1' } } });
    const r = await request(api.url, 'GET', '/api/v1/nodes?limit=500', {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' },
    });
    expect(r.status).toBe(200);
    const auditId = r.headers['audit-id'] as string;
    const all = await requestSpans(auditId);
    const server = only(all, (s) => s.kind === SERVER && s.attributes['audit-id'] === auditId, 'SERVER');
    expect(server.name).toBe('GET /api/v1/nodes');
    expect(server.attributes['http.target']).toBe('/api/v1/nodes?limit=500');
    const list = only(all, (s) => s.name === 'List' && s.attributes['audit-id'] === auditId, 'List');
    expect(list.attributes).toMatchObject({ verb: 'LIST', scope: 'cluster', resource: 'nodes' });
    expect(list.events.map((e) => e.name)).toEqual(['About to List from storage', 'Listing from storage done', 'Writing http response done']);
    expect(list.events[2]?.attributes).toEqual({ count: 1 });
    const cacher = childOf(all, list, 'cacher.GetList');
    expect(cacher.attributes).toEqual({ 'audit-id': auditId, type: 'nodes' });
    expect(eventNames(cacher)).toEqual(['Ready', 'watchCache locked acquired', 'watchCache fresh enough', 'Listed items from cache', 'Resized result', 'Filtered items']);
    const etcdList = childOf(all, cacher, 'List(recursive=true) etcd3');
    expect(etcdList.attributes).toEqual({ 'audit-id': auditId, key: '/minions', resourceVersion: '', resourceVersionMatch: '', limit: 1, continue: '' });
    childOf(all, etcdList, 'etcdserverpb.KV/Range');
    const ser = childOf(all, list, 'SerializeObject');
    expect(ser.attributes['mediaType']).toBe('application/json;as=Table;v=v1;g=meta.k8s.io');
  });

  it('discovery and health requests are plain `GET` spans; 404 leaves the SERVER status unset, 5xx sets Error', async () => {
    const api1 = await request(api.url, 'GET', '/api');
    const missing = await request(api.url, 'GET', '/api/v1/namespaces/default/pods/none');
    const all = await requestSpans(missing.headers['audit-id'] as string, (s) => s.some((x) => x.attributes['audit-id'] === api1.headers['audit-id'] && x.kind === SERVER));
    const d = only(all, (s) => s.kind === SERVER && s.attributes['audit-id'] === api1.headers['audit-id'], '/api SERVER');
    expect(d.name).toBe('GET');
    const nf = only(all, (s) => s.kind === SERVER && s.attributes['audit-id'] === missing.headers['audit-id'], '404 SERVER');
    expect(nf.status.code).toBe(0);
    expect(nf.attributes['http.response.status_code']).toBe(404);
    // A webhook that cannot be reached makes the create a 500.
    await request(api.url, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
      body: {
        metadata: { name: 'broken' },
        webhooks: [
          {
            name: 'broken.example.com',
            clientConfig: { url: 'https://127.0.0.1:1/x' },
            rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
            objectSelector: { matchLabels: { broken: 'yes' } },
            sideEffects: 'None',
            admissionReviewVersions: ['v1'],
          },
        ],
      },
    });
    const cur = await etcd.client.get('/nothing');
    await request(api.url, 'GET', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations?resourceVersion=${cur.revision}`);
    const failed = await request(api.url, 'POST', '/api/v1/namespaces/default/pods', { body: { ...pod('broken'), metadata: { name: 'broken', labels: { broken: 'yes' } } } });
    expect(failed.status).toBe(500);
    const spans = await requestSpans(failed.headers['audit-id'] as string);
    const s500 = only(spans, (s) => s.kind === SERVER && s.attributes['audit-id'] === failed.headers['audit-id'], '500 SERVER');
    expect(s500.status.code).toBe(2);
    const create = only(spans, (s) => s.name === 'Create' && s.attributes['audit-id'] === failed.headers['audit-id'], 'Create');
    expect(create.status.code).toBe(0);
    expect(eventNames(create).slice(-1)).toEqual(['Write to database call failed']);
    const validating = childOf(spans, create, 'Call validating webhook');
    expect(childOf(spans, validating, 'HTTP POST')).toMatchObject({ status: { code: 2 }, attributes: { 'error.type': '*url.Error' } });
  });
});

describe('faithful mode', () => {
  it('never writes the story annotation', async () => {
    const faithful = await startTestApiserver(etcd.port, { tracing, config: { traceMode: 'faithful' } });
    try {
      const r = await request(faithful.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('faithful') });
      expect(r.json<{ metadata: { annotations?: unknown } }>().metadata.annotations).toBeUndefined();
    } finally {
      await faithful.close();
    }
  });
});
