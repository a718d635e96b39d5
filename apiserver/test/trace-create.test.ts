import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTells, formatViolations } from '../../shared/src/testing/index.js';
import { apiserverInstanceId } from '../src/spans.js';
import { pod, request } from './harness.js';
import { CLIENT, INTERNAL, SCOPE, SERVER, childOf, eventNames, eventTime, only, requestSpans, startTraceRig, within, withinAcross, type TraceRig } from './trace-harness.js';

// The spans one create request produces, as an OTLP receiver gets them from
// the in-process apiserver and the etcd-sim process: the 1.35 tree of
// kubernetes-traces.md §7 (flow A), and the binding joining it in story mode.

let rig: TraceRig;
beforeAll(async () => {
  rig = await startTraceRig();
});
afterAll(async () => {
  await rig?.stop();
});

describe('flow A: create a pod with a mutating webhook (1.35, story mode)', () => {
  it('builds the span tree, shapes and events of kubernetes-traces.md §7', async () => {
    const r = await request(rig.api.url, 'POST', '/api/v1/namespaces/default/pods?fieldManager=kubectl-run', {
      body: { ...pod('traced'), metadata: { name: 'traced', labels: { traced: 'yes' } } },
      headers: { 'user-agent': 'kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd' },
    });
    expect(r.status).toBe(201);
    const auditId = r.headers['audit-id'] as string;
    let all = await requestSpans(rig.receiver, auditId);
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
      'server.port': rig.api.port,
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
    within(create, parent);
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
    within(mutating, create);
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
    within(post, mutating);
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
    const sent = rig.wh.received.find((x) => x.review.request.object?.metadata?.name === 'traced');
    expect(sent?.headers['traceparent']).toBe(`00-${post.traceId}-${post.spanId}-01`);

    const store = childOf(trace, create, 'Create etcd3');
    within(store, create);
    expect(store.attributes).toEqual({ 'audit-id': auditId, key: '/pods/default/traced', type: '*core.Pod', group: '', resource: 'pods' });
    expect(eventNames(store)).toEqual(['About to Encode', 'Encode succeeded', 'TransformToStorage succeeded', 'Txn call succeeded', 'decode succeeded']);
    expect(store.startTimeUnixNano).toBeGreaterThanOrEqual(mutating.endTimeUnixNano);
    expect(eventTime(create, 'Write to database call succeeded')).toBeGreaterThanOrEqual(store.endTimeUnixNano);

    const txn = childOf(trace, store, 'etcdserverpb.KV/Txn');
    within(txn, store);
    expect(txn).toMatchObject({ kind: CLIENT, scope: SCOPE.otelgrpc, status: { code: 0 } });
    expect(txn.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'etcdserverpb.KV',
      'rpc.method': 'Txn',
      'net.sock.peer.addr': '127.0.0.1',
      'net.sock.peer.port': rig.etcd.port,
      'rpc.grpc.status_code': 0,
    });
    expect(txn.events.map((e) => [e.name, e.attributes['message.type'], e.attributes['message.id']])).toEqual([
      ['message', 'SENT', 1],
      ['message', 'RECEIVED', 1],
    ]);
    // etcd-sim exports in batches; wait for its SERVER span under our CLIENT span.
    all = await rig.receiver.waitForSpans((spans) => spans.some((x) => x.parentSpanId === txn.spanId));
    const etcdServer = childOf(all, txn, 'etcdserverpb.KV/Txn');
    expect(etcdServer.kind).toBe(SERVER);
    expect(etcdServer.resource['service.name']).toBe('etcd');
    withinAcross(etcdServer, txn);

    const serialize = childOf(trace, create, 'SerializeObject');
    within(serialize, create);
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

    // The reference's tells (kubernetes-traces.md §10) for 1.35, on the apiserver's spans of this create.
    const ours = all.filter((s) => s.traceId === server.traceId && s.resource['service.name'] === 'apiserver');
    expect(formatViolations(findTells(ours, { profile: '1.35', mode: 'story' }))).toBe('');

    // story mode: the stored pod names the create's SERVER span.
    const stored = (await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/traced')).json<{ metadata: { annotations: Record<string, string> } }>();
    expect(stored.metadata.annotations['trace.k8s-trace-sim.io/traceparent']).toBe(`00-${server.traceId}-${server.spanId}-01`);
  });

  it('the binding joins the create trace when the scheduler sends that traceparent as system:masters', async () => {
    const created = await request(rig.api.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('bound') });
    const tp = created.json<{ metadata: { annotations: Record<string, string> } }>().metadata.annotations['trace.k8s-trace-sim.io/traceparent'] as string;
    const r = await request(rig.api.url, 'POST', '/api/v1/namespaces/default/pods/bound/binding', {
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'node-1' } },
      headers: { traceparent: tp },
    });
    expect(r.status).toBe(201);
    const auditId = r.headers['audit-id'] as string;
    const all = await requestSpans(rig.receiver, auditId);
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

