import { CoreV1Api, KubeConfig, KubernetesObjectApi, Watch, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeconfig } from '../../shared/src/index.js';
import { pki, startEtcd, startTestApiserver, type TestApiserver } from './harness.js';

// @kubernetes/client-node 1.4.0 (node-fetch over HTTP/1.1 with TLS client
// certificates) against this apiserver: protocols.md §5.
let etcd: Awaited<ReturnType<typeof startEtcd>>;
let api: TestApiserver;
let kc: KubeConfig;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startTestApiserver(etcd.port);
  const p = await pki();
  kc = new KubeConfig();
  kc.loadFromString(renderKubeconfig({ clusterName: 'sim', userName: 'admin', server: api.url, ca: p.ca.cert, cert: p.admin.cert, key: p.admin.key }));
});
afterAll(async () => {
  await api?.close();
  etcd?.client.close();
  await etcd?.proc.stop();
});

const body = (name: string): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { via: 'client-node' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

describe('@kubernetes/client-node 1.4.0', () => {
  it('creates, reads, lists and deletes pods', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const created = await core.createNamespacedPod({ namespace: 'default', body: body('cn-1') });
    expect(created.metadata?.uid).toBeDefined();
    expect(created.spec?.containers[0]?.imagePullPolicy).toBe('Always');
    expect(created.status?.phase).toBe('Pending');
    const read = await core.readNamespacedPod({ name: 'cn-1', namespace: 'default' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'via=client-node' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['cn-1']);
    expect(list.metadata?.resourceVersion).toMatch(/^\d+$/);
    await core.deleteNamespacedPod({ name: 'cn-1', namespace: 'default' });
    await expect(core.readNamespacedPod({ name: 'cn-1', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  });

  it('watches pods from a list resourceVersion', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const rv = (await core.listNamespacedPod({ namespace: 'default' })).metadata?.resourceVersion ?? '';
    const events: string[] = [];
    let done: (err?: unknown) => void = () => {};
    const finished = new Promise<unknown>((resolve) => (done = resolve));
    const seen = new Promise<void>((resolve) => {
      void new Watch(kc)
        .watch(
          '/api/v1/namespaces/default/pods',
          { resourceVersion: rv, allowWatchBookmarks: true },
          (type, obj: V1Pod) => {
            if (type === 'BOOKMARK') return;
            events.push(`${type} ${obj.metadata?.name ?? ''}`);
            if (type === 'DELETED') resolve();
          },
          (err) => done(err),
        )
        .then((ctl) => seen.finally(() => ctl.abort()));
    });
    await core.createNamespacedPod({ namespace: 'default', body: body('cn-2') });
    await core.deleteNamespacedPod({ name: 'cn-2', namespace: 'default' });
    await seen;
    expect(events[0]).toBe('ADDED cn-2');
    expect(events.at(-1)).toBe('DELETED cn-2');
    await Promise.race([finished, new Promise((r) => setTimeout(r, 1000))]);
  });

  it('KubernetesObjectApi maps the kind through /api/v1 discovery', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const created = await objects.create(body('cn-3'));
    expect(created.metadata?.namespace).toBe('default');
    await objects.delete(created);
  });
});
