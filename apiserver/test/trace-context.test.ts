import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pki, pod, request, startTestApiserver } from './harness.js';
import { SERVER, childOf, eventNames, only, requestSpans, startTraceRig, type TraceRig } from './trace-harness.js';

// How the apiserver treats incoming trace context, flow B (kubectl get
// nodes, kubernetes-traces.md §8), span status rules and faithful mode.

let rig: TraceRig;
beforeAll(async () => {
  rig = await startTraceRig();
  await request(rig.api.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('bound') });
});
afterAll(async () => {
  await rig?.stop();
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
    const r = await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/bound', { headers: { traceparent: tp.header }, cert });
    expect(r.status).toBe(200);
    const auditId = r.headers['audit-id'] as string;
    const all = await requestSpans(rig.receiver, auditId);
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
    await request(rig.api.url, 'POST', '/api/v1/nodes', { body: { metadata: { name: 'node-1' } } });
    const r = await request(rig.api.url, 'GET', '/api/v1/nodes?limit=500', {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' },
    });
    expect(r.status).toBe(200);
    const auditId = r.headers['audit-id'] as string;
    const all = await requestSpans(rig.receiver, auditId);
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
    const api1 = await request(rig.api.url, 'GET', '/api');
    const missing = await request(rig.api.url, 'GET', '/api/v1/namespaces/default/pods/none');
    const all = await requestSpans(rig.receiver, missing.headers['audit-id'] as string, (s) => s.some((x) => x.attributes['audit-id'] === api1.headers['audit-id'] && x.kind === SERVER));
    const d = only(all, (s) => s.kind === SERVER && s.attributes['audit-id'] === api1.headers['audit-id'], '/api SERVER');
    expect(d.name).toBe('GET');
    const nf = only(all, (s) => s.kind === SERVER && s.attributes['audit-id'] === missing.headers['audit-id'], '404 SERVER');
    expect(nf.status.code).toBe(0);
    expect(nf.attributes['http.response.status_code']).toBe(404);
    // A webhook that cannot be reached makes the create a 500.
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
    const spans = await requestSpans(rig.receiver, failed.headers['audit-id'] as string);
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
    const faithful = await startTestApiserver(rig.etcd.port, { tracing: rig.tracing, config: { traceMode: 'faithful' } });
    try {
      const r = await request(faithful.url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('faithful') });
      expect(r.json<{ metadata: { annotations?: unknown } }>().metadata.annotations).toBeUndefined();
    } finally {
      await faithful.close();
    }
  });
});
