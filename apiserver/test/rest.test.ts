import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdValue, pod, request, startEtcd, startTestApiserver, type TestApiserver } from './harness.js';

let etcd: Awaited<ReturnType<typeof startEtcd>>;
let api: TestApiserver;
beforeAll(async () => {
  etcd = await startEtcd();
  api = await startTestApiserver(etcd.port);
});
afterAll(async () => {
  await api?.close();
  etcd?.client.close();
  await etcd?.proc.stop();
});

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };
const call = (method: string, path: string, body?: unknown, contentType?: string) =>
  request(api.url, method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
const PODS = '/api/v1/namespaces/default/pods';

describe('objects in etcd as kube-apiserver stores them', () => {
  it('the default namespaces exist at startup, labelled with their names', async () => {
    const r = await call('GET', '/api/v1/namespaces');
    const names = r.json<{ items: Obj[] }>().items.map((n) => [n.metadata['name'], (n.metadata['labels'] as Record<string, string>)['kubernetes.io/metadata.name']]);
    expect(names).toEqual(expect.arrayContaining([['default', 'default'], ['kube-system', 'kube-system'], ['kube-public', 'kube-public'], ['kube-node-lease', 'kube-node-lease']]));
    expect(await etcdValue(etcd.client, '/registry/namespaces/kube-node-lease')).toBeDefined();
  });

  it('create: 201 with uid, creationTimestamp, generation and resourceVersion = the key mod_revision; stored as JSON without resourceVersion', async () => {
    const r = await call('POST', PODS, pod('store-me'));
    expect(r.status).toBe(201);
    const p = r.json<Obj>();
    expect(p['kind']).toBe('Pod');
    expect(p.metadata['uid']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(p.metadata['creationTimestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(p.metadata['generation']).toBe(1);
    const stored = await etcdValue(etcd.client, '/registry/pods/default/store-me');
    expect(String(stored?.modRevision)).toBe(p.metadata['resourceVersion']);
    expect(stored?.value.endsWith('}\n')).toBe(true);
    const json = JSON.parse(stored?.value ?? '{}') as Obj;
    expect(json.metadata['resourceVersion']).toBeUndefined();
    expect(json).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'store-me', uid: p.metadata['uid'] }, status: { phase: 'Pending', qosClass: 'BestEffort' } });
    expect(r.headers['audit-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('generateName, YAML bodies and dryRun', async () => {
    const gen = await call('POST', PODS, { ...pod(''), metadata: { generateName: 'web-' } });
    expect(gen.json<Obj>().metadata['name']).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const yaml = await call('POST', PODS, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-yaml\nspec:\n  containers:\n  - name: c\n    image: busybox\n', 'application/yaml');
    expect(yaml.status).toBe(201);
    const dry = await call('POST', `${PODS}?dryRun=All`, pod('dry'));
    expect(dry.status).toBe(201);
    expect(await etcdValue(etcd.client, '/registry/pods/default/dry')).toBeUndefined();
  });

  it('get, and 404 with the Status kubectl expects', async () => {
    await call('POST', PODS, pod('get-me'));
    expect((await call('GET', `${PODS}/get-me`)).json<Obj>().metadata['name']).toBe('get-me');
    const missing = await call('GET', `${PODS}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
  });

  it('objects go only into namespaces that exist', async () => {
    const r = await call('POST', '/api/v1/namespaces/nowhere/pods', pod('x'));
    expect(r.status).toBe(404);
    expect(r.json()).toMatchObject({ message: 'namespaces "nowhere" not found', details: { name: 'nowhere', kind: 'namespaces' } });
  });
});

describe('list', () => {
  it('label and field selectors, all namespaces, list resourceVersion from etcd, items without kind', async () => {
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'sel' } });
    for (const [n, tier] of [['a', 'front'], ['b', 'back'], ['c', 'front']]) {
      await call('POST', '/api/v1/namespaces/sel/pods', { ...pod(n as string), metadata: { name: n, labels: { tier } } });
    }
    const names = async (q: string): Promise<unknown[]> => (await call('GET', `/api/v1/namespaces/sel/pods?${q}`)).json<{ items: Obj[] }>().items.map((p) => p.metadata['name']);
    expect(await names('labelSelector=tier%3Dfront')).toEqual(['a', 'c']);
    expect(await names('labelSelector=tier%20notin%20(front)')).toEqual(['b']);
    expect(await names('fieldSelector=metadata.name%3Db')).toEqual(['b']);
    expect(await names('fieldSelector=status.phase%3DPending,metadata.name!%3Da')).toEqual(['b', 'c']);
    const all = await call('GET', '/api/v1/pods?labelSelector=tier');
    const list = all.json<{ kind: string; metadata: { resourceVersion: string }; items: Obj[] }>();
    expect(list.kind).toBe('PodList');
    expect(list.items.map((p) => `${p.metadata['namespace']}/${p.metadata['name']}`)).toEqual(['sel/a', 'sel/b', 'sel/c']);
    expect(list.items[0]?.['kind']).toBeUndefined();
    const header = await etcd.client.get('/nothing');
    expect(Number(list.metadata.resourceVersion)).toBeLessThanOrEqual(header.revision);
  });

  it('limit and continue page through at one resourceVersion, as upstream tokens say', async () => {
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'paged' } });
    for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await call('POST', '/api/v1/namespaces/paged/pods', pod(n));
    const first = (await call('GET', '/api/v1/namespaces/paged/pods?limit=2')).json<{ metadata: Record<string, unknown>; items: Obj[] }>();
    expect(first.items.map((p) => p.metadata['name'])).toEqual(['p1', 'p2']);
    expect(first.metadata['remainingItemCount']).toBe(3);
    const token = JSON.parse(Buffer.from(first.metadata['continue'] as string, 'base64url').toString()) as Record<string, unknown>;
    expect(token).toEqual({ v: 'meta.k8s.io/v1', rv: Number(first.metadata['resourceVersion']), start: 'p2\u0000' });
    await call('POST', '/api/v1/namespaces/paged/pods', pod('p0'));
    const seen = first.items.map((p) => p.metadata['name']);
    let cont = first.metadata['continue'] as string | undefined;
    while (cont) {
      const page = (await call('GET', `/api/v1/namespaces/paged/pods?limit=2&continue=${encodeURIComponent(cont)}`)).json<{ metadata: Record<string, unknown>; items: Obj[] }>();
      expect(page.metadata['resourceVersion']).toBe(first.metadata['resourceVersion']);
      seen.push(...page.items.map((p) => p.metadata['name']));
      cont = page.metadata['continue'] as string | undefined;
    }
    // p0 came after the first page's revision, so the snapshot does not show it.
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
  });

  it('resourceVersionMatch=Exact reads an old revision from etcd', async () => {
    const created = (await call('POST', PODS, pod('ephemeral'))).json<Obj>();
    const rv = created.metadata['resourceVersion'] as string;
    await call('DELETE', `${PODS}/ephemeral`);
    const now = (await call('GET', PODS)).json<{ items: Obj[] }>().items.map((p) => p.metadata['name']);
    expect(now).not.toContain('ephemeral');
    const then = await call('GET', `${PODS}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect(then.json<{ metadata: { resourceVersion: string }; items: Obj[] }>().items.map((p) => p.metadata['name'])).toContain('ephemeral');
    expect(then.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion).toBe(rv);
  });
});

describe('update and patch', () => {
  it('PUT with the current resourceVersion updates; a stale one is a 409; spec changes are forbidden', async () => {
    const p = (await call('POST', PODS, pod('put-me'))).json<Obj>();
    const updated = await call('PUT', `${PODS}/put-me`, { ...p, metadata: { ...p.metadata, labels: { v: '2' } } });
    expect(updated.status).toBe(200);
    const u = updated.json<Obj>();
    expect(Number(u.metadata['resourceVersion'])).toBeGreaterThan(Number(p.metadata['resourceVersion']));
    expect(u.metadata['generation']).toBe(1);
    const stale = await call('PUT', `${PODS}/put-me`, { ...p, metadata: { ...p.metadata, labels: { v: '3' } } });
    expect(stale.status).toBe(409);
    expect(stale.json()).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on pods "put-me": the object has been modified; please apply your changes to the latest version and try again',
    });
    const spec = await call('PUT', `${PODS}/put-me`, { ...u, spec: { ...(u['spec'] as object), restartPolicy: 'Never' } });
    expect(spec.status).toBe(422);
    expect(spec.json<{ message: string }>().message).toMatch(/^Pod "put-me" is invalid: spec: Forbidden: pod updates may not change fields other than/);
  });

  it('merge, strategic and JSON patches; the status subresource changes only status', async () => {
    await call('POST', PODS, pod('patch-me'));
    const merge = await call('PATCH', `${PODS}/patch-me`, { metadata: { labels: { m: '1' } } }, 'application/merge-patch+json');
    expect(merge.json<Obj>().metadata['labels']).toEqual({ app: 'patch-me', m: '1' });
    const smp = await call('PATCH', `${PODS}/patch-me`, { spec: { containers: [{ name: 'c', image: 'nginx:1.28' }] } }, 'application/strategic-merge-patch+json');
    expect((smp.json<Obj>()['spec'] as { containers: Obj[] }).containers).toMatchObject([{ name: 'c', image: 'nginx:1.28', imagePullPolicy: 'IfNotPresent' }]);
    const json = await call('PATCH', `${PODS}/patch-me`, [{ op: 'test', path: '/metadata/labels/m', value: '1' }, { op: 'remove', path: '/metadata/labels/m' }], 'application/json-patch+json');
    expect(json.json<Obj>().metadata['labels']).toEqual({ app: 'patch-me' });
    const status = await call(
      'PATCH',
      `${PODS}/patch-me/status`,
      { spec: { nodeName: 'sneaky' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
      'application/strategic-merge-patch+json',
    );
    const s = status.json<Obj>();
    expect(s['status']).toMatchObject({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    expect((s['spec'] as Obj)['nodeName']).toBeUndefined();
    const mainIgnoresStatus = await call('PATCH', `${PODS}/patch-me`, { status: { phase: 'Failed' } }, 'application/merge-patch+json');
    expect((mainIgnoresStatus.json<Obj>()['status'] as Obj)['phase']).toBe('Running');
  });
});

describe('binding and deletion', () => {
  it('binding sets nodeName and PodScheduled; binding again is a Conflict on pods/binding', async () => {
    await call('POST', PODS, pod('bind-me'));
    const b = await call('POST', `${PODS}/bind-me/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bind-me' }, target: { apiVersion: 'v1', kind: 'Node', name: 'n1' } });
    expect(b.status).toBe(201);
    expect(b.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const p = (await call('GET', `${PODS}/bind-me`)).json<Obj>();
    expect(p['spec']).toMatchObject({ nodeName: 'n1' });
    expect((p['status'] as { conditions: Obj[] }).conditions).toMatchObject([{ type: 'PodScheduled', status: 'True', lastProbeTime: null }]);
    expect((await call('GET', `/api/v1/pods?fieldSelector=spec.nodeName%3Dn1`)).json<{ items: Obj[] }>().items.map((x) => x.metadata['name'])).toEqual(['bind-me']);
    const again = await call('POST', `${PODS}/bind-me/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bind-me' }, target: { name: 'n2' } });
    expect(again.status).toBe(409);
    expect(again.json()).toMatchObject({ reason: 'Conflict', message: 'Operation cannot be fulfilled on pods/binding "bind-me": pod bind-me is already assigned to node "n1"' });
  });

  it('a bound pod is deleted gracefully and stays until a DELETE with gracePeriodSeconds=0; an unbound one goes at once', async () => {
    await call('POST', PODS, pod('graceful'));
    await call('POST', `${PODS}/graceful/binding`, { metadata: { name: 'graceful' }, target: { name: 'n1' } });
    const first = await call('DELETE', `${PODS}/graceful`, { propagationPolicy: 'Background' });
    expect(first.status).toBe(200);
    expect(first.json<Obj>().metadata).toMatchObject({ deletionGracePeriodSeconds: 30 });
    expect(await etcdValue(etcd.client, '/registry/pods/default/graceful')).toBeDefined();
    const table = await request(api.url, 'GET', `${PODS}/graceful`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    expect(table.json<{ rows: { cells: unknown[] }[] }>().rows[0]?.cells[2]).toBe('Terminating');
    const now = await call('DELETE', `${PODS}/graceful`, { gracePeriodSeconds: 0 });
    expect(now.status).toBe(200);
    expect(await etcdValue(etcd.client, '/registry/pods/default/graceful')).toBeUndefined();
    await call('POST', PODS, pod('quick'));
    expect((await call('DELETE', `${PODS}/quick`)).status).toBe(200);
    expect(await etcdValue(etcd.client, '/registry/pods/default/quick')).toBeUndefined();
  });

  it('delete preconditions and protected namespaces', async () => {
    await call('POST', PODS, pod('pre'));
    const r = await call('DELETE', `${PODS}/pre`, { preconditions: { uid: 'not-it' } });
    expect(r.status).toBe(409);
    expect(r.json<{ message: string }>().message).toMatch(/^Operation cannot be fulfilled on Pod "pre": the UID in the precondition \(not-it\) does not match the UID in record/);
    const ns = await call('DELETE', '/api/v1/namespaces/default');
    expect(ns.status).toBe(403);
    expect(ns.json()).toMatchObject({ reason: 'Forbidden', message: 'namespaces "default" is forbidden: this namespace may not be deleted' });
  });
});

describe('other resources', () => {
  it('nodes live under /registry/minions; their status has its own subresource', async () => {
    const n = await call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } });
    expect(n.status).toBe(201);
    expect(await etcdValue(etcd.client, '/registry/minions/node-1')).toBeDefined();
    const s = await call('PATCH', '/api/v1/nodes/node-1/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'application/strategic-merge-patch+json');
    expect((s.json<Obj>()['status'] as { conditions: Obj[] }).conditions).toEqual([{ type: 'Ready', status: 'True' }]);
  });

  it('events carry a lease (--event-ttl); leases may be created by PUT', async () => {
    const e = await call('POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'ev1' },
      involvedObject: { kind: 'Pod', name: 'x', namespace: 'default' },
      reason: 'Scheduled',
      message: 'ok',
      type: 'Normal',
    });
    expect(e.status).toBe(201);
    const kv = (await etcd.client.get('/registry/events/default/ev1')).kvs[0];
    expect(kv?.lease).not.toBe('0');
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } };
    const created = await call('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', lease);
    expect(created.status).toBe(201);
    const renewed = await call('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', { ...lease, spec: { ...lease.spec, renewTime: '2025-01-01T00:00:00.000000Z' } });
    expect(renewed.status).toBe(200);
  });

  it('webhook configurations get the v1 defaults', async () => {
    const r = await call('POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
      metadata: { name: 'cfg' },
      webhooks: [
        {
          name: 'never.example.com',
          clientConfig: { url: 'https://127.0.0.1:1/never' },
          rules: [{ operations: ['CREATE'], apiGroups: ['nothing.example.com'], apiVersions: ['v1'], resources: ['things'] }],
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        },
      ],
    });
    expect(r.status).toBe(201);
    expect((r.json<Obj>()['webhooks'] as Obj[])[0]).toMatchObject({ failurePolicy: 'Fail', matchPolicy: 'Equivalent', timeoutSeconds: 10, reinvocationPolicy: 'Never', namespaceSelector: {}, objectSelector: {} });
    expect(await call('DELETE', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/cfg').then((x) => x.status)).toBe(200);
  });
});
