import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedSpan } from '../../shared/src/index.js';
import { findTells, formatViolations } from '../../shared/src/testing/index.js';
import { PROFILE_1_27 } from '../src/profile.js';
import { apiserverInstanceId } from '../src/spans.js';
import { pki, pod, request, startTestApiserver, type TestApiserver } from './harness.js';
import { CLIENT, INTERNAL, SERVER, childOf, eventNames, eventTime, only, requestSpans, scopesOf, serverOf, startTraceRig, within, withinAcross, type TraceRig } from './trace-harness.js';

// The 1.27 profile (k3s v1.27.1, the k3d tutorial): the spans of a create
// with a mutating webhook (kubernetes-traces.md §7, 1.26–1.32 variant), of
// `kubectl get nodes` (§8, 1.26–1.30) and of a GET, as an OTLP receiver gets
// them from the in-process apiserver and the etcd-sim process.

const SCOPE = scopesOf(PROFILE_1_27);
const FILTERS_OF_1_34 = ['audit', 'impersonation', 'priorityandfairness', 'authorization'];
const UA = 'kubectl/v1.27.16 (linux/amd64) kubernetes/cbb86e0';

let rig: TraceRig;
beforeAll(async () => {
  rig = await startTraceRig({ profile: PROFILE_1_27 });
  await request(rig.api.url, 'POST', '/api/v1/nodes', { body: { metadata: { name: 'node-1' } } });
});
afterAll(async () => {
  await rig?.stop();
});

const serverFor = async (auditId: string, extra?: (all: ReceivedSpan[]) => boolean): Promise<{ all: ReceivedSpan[]; server: ReceivedSpan; trace: ReceivedSpan[] }> => {
  const all = await requestSpans(rig.receiver, auditId, extra);
  const server = serverOf(all, auditId) as ReceivedSpan;
  return { all, server, trace: all.filter((s) => s.traceId === server.traceId) };
};

/** One trace's apiserver spans (etcd-sim's own spans are its tests' business). */
const apiserverOnly = (all: readonly ReceivedSpan[], server: ReceivedSpan): ReceivedSpan[] =>
  all.filter((x) => x.traceId === server.traceId && x.resource['service.name'] === 'apiserver');

const caller = (): { traceId: string; spanId: string; header: string } => {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
};

describe('1.27 flow A: create a pod with a mutating webhook', () => {
  it('KubernetesAPI ⊃ authentication ⊃ {Create ⊃ webhook, etcd; SerializeObject}', async () => {
    const body = JSON.stringify({ ...pod('traced'), metadata: { name: 'traced', labels: { traced: 'yes' } } });
    const r = await request(rig.api.url, 'POST', '/api/v1/namespaces/default/pods?fieldManager=kubectl-run', {
      body,
      headers: { 'user-agent': UA, accept: 'application/json', 'content-length': String(body.length) },
    });
    expect(r.status).toBe(201);
    const auditId = r.headers['audit-id'] as string;
    let { all, server, trace } = await serverFor(auditId);

    // A new root, named KubernetesAPI, with semconv v1.12 attributes and no audit-id.
    expect(server).toMatchObject({ name: 'KubernetesAPI', kind: SERVER, parentSpanId: '', links: [], events: [], scope: SCOPE.otelhttp, status: { code: 0 } });
    expect(server.resource).toEqual({ 'service.name': 'apiserver', 'service.instance.id': apiserverInstanceId('test-host') });
    expect(server.attributes).toEqual({
      'net.transport': 'ip_tcp',
      'net.peer.ip': '127.0.0.1',
      'net.peer.port': expect.any(Number),
      'net.host.ip': '127.0.0.1',
      'net.host.port': rig.api.port,
      'http.method': 'POST',
      'http.target': '/api/v1/namespaces/default/pods?fieldManager=kubectl-run',
      'http.server_name': 'KubernetesAPI',
      'http.user_agent': UA,
      'http.request_content_length': body.length,
      'http.scheme': 'https',
      'http.host': `127.0.0.1:${rig.api.port}`,
      'http.flavor': '2',
      'http.read_bytes': body.length,
      'http.wrote_bytes': expect.any(Number),
      'http.status_code': 201,
    });

    // The only filter span: short, yet the parent of everything after it.
    expect(trace.filter((s) => s.parentSpanId === server.spanId).map((s) => s.name)).toEqual(['authentication']);
    const auth = childOf(trace, server, 'authentication');
    expect(auth).toMatchObject({ kind: INTERNAL, scope: SCOPE.filter, attributes: {}, events: [], status: { code: 0 } });
    within(auth, server);
    expect(trace.filter((s) => FILTERS_OF_1_34.includes(s.name))).toEqual([]);
    expect(trace.filter((s) => s.parentSpanId === auth.spanId).map((s) => s.name).sort()).toEqual(['Create', 'SerializeObject']);

    const create = childOf(trace, auth, 'Create');
    within(create, server);
    expect(create.startTimeUnixNano).toBeGreaterThanOrEqual(auth.endTimeUnixNano);
    expect(create).toMatchObject({ kind: INTERNAL, scope: SCOPE.component, status: { code: 0 } });
    expect(create.attributes).toEqual({
      accept: 'application/json',
      'audit-id': auditId,
      client: '127.0.0.1',
      protocol: 'HTTP/2.0',
      resource: 'pods',
      scope: 'resource',
      url: '/api/v1/namespaces/default/pods',
      'user-agent': UA,
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
    expect(create.events[0]?.attributes).toEqual({ len: body.length });
    expect(create.events[4]?.attributes).toEqual({ len: body.length });

    const mutating = childOf(trace, create, 'Call mutating webhook');
    within(mutating, create);
    expect(mutating.attributes).toMatchObject({ configuration: 'label-pods', webhook: 'mpod.example.com', resource: '/v1, Resource=pods', operation: 'CREATE' });
    expect(eventNames(mutating)).toEqual(['Request completed', 'Patch applied']);
    const post = childOf(trace, mutating, 'HTTP POST');
    within(post, mutating);
    expect(post).toMatchObject({ kind: CLIENT, scope: SCOPE.otelhttp, status: { code: 0 }, events: [] });
    expect(post.attributes).toEqual({
      'http.method': 'POST',
      'http.url': 'https://wh.default.svc:443/mutate?timeout=10s',
      'http.scheme': 'http',
      'http.host': 'wh.default.svc:443',
      'http.flavor': '1.1',
      'http.user_agent': 'kube-apiserver-admission',
      'http.request_content_length': expect.any(Number),
      'http.status_code': 200,
    });
    expect(eventTime(mutating, 'Request completed')).toBeGreaterThanOrEqual(post.endTimeUnixNano);
    const sent = rig.wh.received.find((x) => x.review.request.object?.metadata?.name === 'traced');
    expect(sent?.headers['traceparent']).toBe(`00-${post.traceId}-${post.spanId}-01`);
    expect(sent?.headers['content-length']).toBe(String(post.attributes['http.request_content_length']));

    const store = childOf(trace, create, 'Create etcd3');
    within(store, create);
    expect(store.attributes).toEqual({ 'audit-id': auditId, key: '/pods/default/traced', type: '*core.Pod', resource: 'pods' });
    expect(eventNames(store)).toEqual(['About to Encode', 'Encode succeeded', 'TransformToStorage succeeded', 'Txn call succeeded', 'decode succeeded']);
    expect(store.startTimeUnixNano).toBeGreaterThanOrEqual(mutating.endTimeUnixNano);
    expect(eventTime(create, 'Write to database call succeeded')).toBeGreaterThanOrEqual(store.endTimeUnixNano);

    // otelgrpc v0.35 interceptors: no peer (the etcd-endpoints:// target), always-on message events with sizes.
    const txn = childOf(trace, store, 'etcdserverpb.KV/Txn');
    within(txn, store);
    expect(txn).toMatchObject({ kind: CLIENT, scope: SCOPE.otelgrpc, status: { code: 0 } });
    expect(txn.attributes).toEqual({ 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Txn', 'rpc.grpc.status_code': 0 });
    expect(txn.events.map((e) => [e.name, e.attributes['message.type'], e.attributes['message.id'], typeof e.attributes['message.uncompressed_size']])).toEqual([
      ['message', 'SENT', 1, 'number'],
      ['message', 'RECEIVED', 1, 'number'],
    ]);
    all = await rig.receiver.waitForSpans((spans) => spans.some((x) => x.parentSpanId === txn.spanId));
    const etcdServer = childOf(all, txn, 'etcdserverpb.KV/Txn');
    expect(etcdServer.kind).toBe(SERVER);
    withinAcross(etcdServer, txn);

    // SerializeObject hangs from the request's context, beside Create, and ends before Create's last event.
    const serialize = childOf(trace, auth, 'SerializeObject');
    within(serialize, create);
    expect(serialize.attributes).toMatchObject({ 'audit-id': auditId, method: 'POST', url: '/api/v1/namespaces/default/pods', protocol: 'HTTP/2.0', mediaType: 'application/json' });
    expect(serialize.events.map((e) => [e.name, e.attributes])).toEqual([
      ['About to start writing response', { size: expect.any(Number) }],
      ['Write call succeeded', { writer: 'responsewriter.outerWithCloseNotifyAndFlush', size: expect.any(Number), firstWrite: true }],
    ]);
    expect(eventTime(create, 'About to write a response')).toBeLessThanOrEqual(serialize.startTimeUnixNano);
    expect(eventTime(create, 'Writing http response done')).toBeGreaterThanOrEqual(serialize.endTimeUnixNano);

    const known = new Set([auth, server, create, mutating, post, store, txn, serialize].map((s) => s.spanId));
    expect(all.filter((s) => s.traceId === server.traceId && !known.has(s.spanId)).map((s) => s.name)).toEqual(['etcdserverpb.KV/Txn']);

    // The reference's tells (kubernetes-traces.md §10) for 1.27, on the apiserver's spans of this create.
    expect(formatViolations(findTells(apiserverOnly(all, server), { profile: '1.27', mode: 'story' }))).toBe('');

    // story mode: the stored pod names the create's SERVER span.
    const stored = (await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/traced')).json<{ metadata: { annotations: Record<string, string> } }>();
    expect(stored.metadata.annotations['trace.k8s-trace-sim.io/traceparent']).toBe(`00-${server.traceId}-${server.spanId}-01`);
  });

  it('404 and 409 leave KubernetesAPI Unset; a webhook that cannot be reached makes a 500, Error, with an exception event on HTTP POST', async () => {
    const missing = await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/none');
    expect(missing.status).toBe(404);
    const nf = (await serverFor(missing.headers['audit-id'] as string)).server;
    expect(nf).toMatchObject({ name: 'KubernetesAPI', status: { code: 0 } });
    expect(nf.attributes['http.status_code']).toBe(404);

    await request(rig.api.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('twice') });
    const dup = await request(rig.api.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('twice') });
    expect(dup.status).toBe(409);
    const d = await serverFor(dup.headers['audit-id'] as string);
    expect(d.server.status.code).toBe(0);
    expect(d.server.attributes['http.status_code']).toBe(409);
    const create = only(d.trace, (s) => s.name === 'Create', 'Create');
    expect(eventNames(create).slice(-1)).toEqual(['Write to database call failed']);
    expect(childOf(d.trace, create, 'Create etcd3').status.code).toBe(0);

    await request(rig.api.url, 'POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', {
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
    const cur = await rig.etcd.client.get('/nothing');
    await request(rig.api.url, 'GET', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations?resourceVersion=${cur.revision}`);
    const failed = await request(rig.api.url, 'POST', '/api/v1/namespaces/default/pods', { body: { ...pod('broken'), metadata: { name: 'broken', labels: { broken: 'yes' } } } });
    expect(failed.status).toBe(500);
    const f = await serverFor(failed.headers['audit-id'] as string);
    expect(f.server.status.code).toBe(2);
    const validating = childOf(f.trace, only(f.trace, (s) => s.name === 'Create', 'Create'), 'Call validating webhook');
    const post = childOf(f.trace, validating, 'HTTP POST');
    expect(post.status).toEqual({ code: 2, message: 'dial tcp 127.0.0.1:1: connect: connection refused' });
    expect(post.attributes).not.toHaveProperty('error.type');
    expect(post.events.map((e) => [e.name, e.attributes])).toEqual([
      ['exception', { 'exception.type': '*net.OpError', 'exception.message': 'dial tcp 127.0.0.1:1: connect: connection refused' }],
    ]);
  });
});

describe('1.27 incoming trace context', () => {
  it('story mode: a system:masters caller\'s traceparent is the parent (the documented simplification); a node\'s is a link', async () => {
    const p = await pki();
    const tp = caller();
    const masters = await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/traced', { headers: { traceparent: tp.header } });
    const m = (await serverFor(masters.headers['audit-id'] as string)).server;
    expect(m).toMatchObject({ name: 'KubernetesAPI', traceId: tp.traceId, parentSpanId: tp.spanId, links: [] });

    const tp2 = caller();
    const node = await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/traced', { headers: { traceparent: tp2.header }, cert: p.node });
    const n = (await serverFor(node.headers['audit-id'] as string)).server;
    expect(n.parentSpanId).toBe('');
    expect(n.traceId).not.toBe(tp2.traceId);
    expect(n.links.map((l) => [l.traceId, l.spanId])).toEqual([[tp2.traceId, tp2.spanId]]);
  });

  it('faithful mode: every request is a new root, linked to a valid traceparent, whoever sends it; no story annotation', async () => {
    const faithful = await startTestApiserver(rig.etcd.port, { tracing: rig.tracing, config: { profile: PROFILE_1_27, traceMode: 'faithful' } });
    try {
      const tp = caller();
      const r = await request(faithful.url, 'GET', '/api/v1/namespaces/default/pods/traced', { headers: { traceparent: tp.header } });
      const s = (await serverFor(r.headers['audit-id'] as string)).server;
      expect(s.parentSpanId).toBe('');
      expect(s.traceId).not.toBe(tp.traceId);
      expect(s.links.map((l) => [l.traceId, l.spanId])).toEqual([[tp.traceId, tp.spanId]]);
      const created = await request(faithful.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('faithful-127') });
      expect(created.json<{ metadata: { annotations?: unknown } }>().metadata.annotations).toBeUndefined();
    } finally {
      await faithful.close();
    }
  });

  it('a rejected anonymous request still has KubernetesAPI ⊃ authentication, with the 401 serialized under authentication', async () => {
    const api: TestApiserver = await startTestApiserver(rig.etcd.port, { tracing: rig.tracing, config: { profile: PROFILE_1_27, anonymousAuth: false } });
    try {
      const r = await request(api.url, 'GET', '/api/v1/namespaces/default/pods', { cert: null });
      expect(r.status).toBe(401);
      const { server, trace } = await serverFor(r.headers['audit-id'] as string);
      expect(server).toMatchObject({ name: 'KubernetesAPI', status: { code: 0 } });
      expect(server.attributes['http.status_code']).toBe(401);
      const auth = childOf(trace, server, 'authentication');
      childOf(trace, auth, 'SerializeObject');
      expect(trace.map((s) => s.name).sort()).toEqual(['KubernetesAPI', 'SerializeObject', 'authentication']);
    } finally {
      await api.close();
    }
  });
});

describe('1.27 flow B and reads', () => {
  it('get nodes: List ⊃ List(recursive=true) etcd3 {limit 500} ⊃ Range (resourceVersion "" goes to etcd), SerializeObject beside List', async () => {
    const r = await request(rig.api.url, 'GET', '/api/v1/nodes?limit=500', {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', 'user-agent': UA },
    });
    expect(r.status).toBe(200);
    const auditId = r.headers['audit-id'] as string;
    const { server, trace } = await serverFor(auditId);
    expect(server).toMatchObject({ name: 'KubernetesAPI', parentSpanId: '', status: { code: 0 } });
    expect(server.attributes).toMatchObject({ 'http.method': 'GET', 'http.target': '/api/v1/nodes?limit=500', 'http.status_code': 200 });
    expect(server.attributes).not.toHaveProperty('http.read_bytes');
    expect(server.attributes).not.toHaveProperty('http.request_content_length');
    const auth = childOf(trace, server, 'authentication');
    const list = childOf(trace, auth, 'List');
    expect(list.attributes).toEqual({
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      'audit-id': auditId,
      client: '127.0.0.1',
      protocol: 'HTTP/2.0',
      resource: 'nodes',
      scope: 'cluster',
      url: '/api/v1/nodes',
      'user-agent': UA,
      verb: 'LIST',
    });
    expect(list.events.map((e) => [e.name, e.attributes])).toEqual([
      ['About to List from storage', {}],
      ['Listing from storage done', {}],
      ['Writing http response done', { count: 1 }],
    ]);
    const etcdList = childOf(trace, list, 'List(recursive=true) etcd3');
    expect(etcdList.attributes).toEqual({ 'audit-id': auditId, key: '/minions', resourceVersion: '', resourceVersionMatch: '', limit: 500, continue: '' });
    expect(etcdList.events).toEqual([]);
    const range = childOf(trace, etcdList, 'etcdserverpb.KV/Range');
    expect(range.attributes).toEqual({ 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Range', 'rpc.grpc.status_code': 0 });
    const ser = childOf(trace, auth, 'SerializeObject');
    expect(ser.attributes['mediaType']).toBe('application/json;as=Table;v=v1;g=meta.k8s.io');
    expect(trace.map((s) => s.name).sort()).toEqual(['KubernetesAPI', 'List', 'List(recursive=true) etcd3', 'SerializeObject', 'authentication', 'etcdserverpb.KV/Range']);
    const withEtcd = await rig.receiver.waitForSpans((spans) => spans.some((x) => x.parentSpanId === range.spanId));
    expect(formatViolations(findTells(apiserverOnly(withEtcd, server), { profile: '1.27', mode: 'faithful' }))).toBe('');
  });

  it('a list at resourceVersion 0 is served by the watch cache under `cacher list`', async () => {
    const r = await request(rig.api.url, 'GET', '/api/v1/nodes?resourceVersion=0');
    const auditId = r.headers['audit-id'] as string;
    const { trace } = await serverFor(auditId);
    const list = only(trace, (s) => s.name === 'List', 'List');
    const cacher = childOf(trace, list, 'cacher list');
    expect(cacher.attributes).toEqual({ 'audit-id': auditId, type: 'nodes' });
    expect(cacher.events.map((e) => [e.name, e.attributes])).toEqual([
      ['Ready', {}],
      ['watchCache locked acquired', {}],
      ['watchCache fresh enough', {}],
      ['Listed items from cache', { count: 1 }],
      ['Resized result', {}],
      ['Filtered items', { count: 1 }],
    ]);
    expect(trace.filter((s) => s.parentSpanId === cacher.spanId)).toEqual([]);
  });

  it('get one pod: Get ⊃ Range from etcd, no cacher span; at resourceVersion 0 the watch cache events land on Get', async () => {
    const r = await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/traced');
    const auditId = r.headers['audit-id'] as string;
    const { trace } = await serverFor(auditId);
    const auth = only(trace, (s) => s.name === 'authentication', 'authentication');
    const get = childOf(trace, auth, 'Get');
    expect(eventNames(get)).toEqual(['About to Get from storage', 'About to write a response', 'Writing http response done']);
    childOf(trace, get, 'etcdserverpb.KV/Range');
    childOf(trace, auth, 'SerializeObject');
    expect(trace.map((s) => s.name).sort()).toEqual(['Get', 'KubernetesAPI', 'SerializeObject', 'authentication', 'etcdserverpb.KV/Range']);

    const cached = await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/traced?resourceVersion=0');
    const c = await serverFor(cached.headers['audit-id'] as string);
    const cget = only(c.trace, (s) => s.name === 'Get', 'Get');
    expect(eventNames(cget)).toEqual(['About to Get from storage', 'watchCache locked acquired', 'watchCache fresh enough', 'About to write a response', 'Writing http response done']);
    expect(c.trace.map((s) => s.name).sort()).toEqual(['Get', 'KubernetesAPI', 'SerializeObject', 'authentication']);
  });

  it('/version reports v1.27.16, under a span still named KubernetesAPI', async () => {
    const r = await request(rig.api.url, 'GET', '/version');
    expect(r.json()).toEqual(PROFILE_1_27.versionInfo);
    const d = await request(rig.api.url, 'GET', '/api', { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json' } });
    expect(d.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList');
    const { server } = await serverFor(d.headers['audit-id'] as string);
    expect(server.name).toBe('KubernetesAPI');
    const v2 = await request(rig.api.url, 'GET', '/api', { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect(v2.json<{ kind: string }>().kind).toBe('APIVersions');
  });
});
