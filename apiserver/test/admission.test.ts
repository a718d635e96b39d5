import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCA } from '../../shared/src/pki.js';
import { etcdValue, pod, request, startEtcd, startTestApiserver, type TestApiserver } from './harness.js';
import { startWebhook, type TestWebhook } from './webhook-server.js';

let etcd: Awaited<ReturnType<typeof startEtcd>>;
let api: TestApiserver;
let wh: TestWebhook;
beforeAll(async () => {
  etcd = await startEtcd();
  wh = await startWebhook();
  api = await startTestApiserver(etcd.port, { config: { webhookServiceAddresses: new Map([['default/wh', { host: '127.0.0.1', port: wh.port }]]) } });
});
afterAll(async () => {
  await api?.close();
  await wh?.close();
  etcd?.client.close();
  await etcd?.proc.stop();
});

const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const PODS = '/api/v1/namespaces/default/pods';
const podRule = (ops = ['CREATE']) => ({ operations: ops, apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] });
const configs: string[] = [];

/** Creates a webhook configuration and waits until the watch cache (which admission reads) has it. */
async function configure(path: string, name: string, webhooks: Record<string, unknown>[]): Promise<void> {
  const r = await request(api.url, 'POST', path, { body: { metadata: { name }, webhooks: webhooks.map((w) => ({ sideEffects: 'None', admissionReviewVersions: ['v1'], ...w })) } });
  expect(r.status).toBe(201);
  const rv = r.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
  await request(api.url, 'GET', `${path}?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`);
  configs.push(`${path}/${name}`);
}

afterEach(async () => {
  for (const c of configs.splice(0)) {
    const r = await request(api.url, 'DELETE', c);
    const rv = r.json<{ metadata?: { resourceVersion?: string } }>().metadata?.resourceVersion;
    if (rv) await request(api.url, 'GET', `${c.slice(0, c.lastIndexOf('/'))}?resourceVersion=${rv}`);
  }
  // Make sure the deletions reached the caches admission reads before the next test.
  const cur = await etcd.client.get('/nothing');
  await request(api.url, 'GET', `${MUTATING}?resourceVersion=${cur.revision}&resourceVersionMatch=NotOlderThan`);
  await request(api.url, 'GET', `${VALIDATING}?resourceVersion=${cur.revision}&resourceVersionMatch=NotOlderThan`);
  wh.received.length = 0;
});

describe('admission webhooks', () => {
  it('a mutating webhook behind a service reference patches the pod; the AdmissionReview is v1', async () => {
    await configure(MUTATING, 'mutate-pods', [
      { name: 'mutate.example.com', clientConfig: { service: { namespace: 'default', name: 'wh', path: '/mutate' }, caBundle: wh.caBundle }, rules: [podRule()] },
    ]);
    const r = await request(api.url, 'POST', `${PODS}?fieldManager=kubectl-run`, { body: pod('mutated') });
    expect(r.status).toBe(201);
    expect(r.json<{ metadata: { labels: Record<string, string> } }>().metadata.labels).toEqual({ app: 'mutated', mutated: 'true' });
    const stored = JSON.parse((await etcdValue(etcd.client, '/registry/pods/default/mutated'))?.value ?? '{}') as { metadata: { labels: Record<string, string> } };
    expect(stored.metadata.labels['mutated']).toBe('true');
    expect(wh.received).toHaveLength(1);
    const got = wh.received[0];
    expect(got?.path).toBe('/mutate?timeout=10s');
    expect(got?.servername).toBe('wh.default.svc');
    expect(got?.headers['user-agent']).toBe('kube-apiserver-admission');
    expect(got?.review.request).toMatchObject({
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      name: 'mutated',
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-run' },
    });
    expect(got?.review.request.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(got?.review.request.object?.metadata?.name).toBe('mutated');
  });

  it('a validating webhook denial is the webhook status, and nothing is stored', async () => {
    await configure(VALIDATING, 'deny-pods', [
      { name: 'deny.example.com', clientConfig: { url: `https://127.0.0.1:${wh.port}/deny`, caBundle: wh.caBundle }, rules: [podRule()] },
    ]);
    const r = await request(api.url, 'POST', PODS, { body: pod('deny-me') });
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ kind: 'Status', status: 'Failure', code: 403, message: 'admission webhook "deny.example.com" denied the request: pods named deny-me are not welcome' });
    expect(await etcdValue(etcd.client, '/registry/pods/default/deny-me')).toBeUndefined();
    expect((await request(api.url, 'POST', PODS, { body: pod('welcome') })).status).toBe(201);
  });

  it('UPDATE webhooks see the old object', async () => {
    await request(api.url, 'POST', PODS, { body: pod('updated') });
    await configure(VALIDATING, 'watch-updates', [
      { name: 'allow.example.com', clientConfig: { url: `https://127.0.0.1:${wh.port}/allow`, caBundle: wh.caBundle }, rules: [podRule(['UPDATE'])] },
    ]);
    const r = await request(api.url, 'PATCH', `${PODS}/updated`, { body: { metadata: { labels: { v: '2' } } }, contentType: 'application/merge-patch+json' });
    expect(r.status).toBe(200);
    const req = wh.received[0]?.review.request as Record<string, { metadata?: { labels?: Record<string, string> } }>;
    expect(req['operation']).toBe('UPDATE');
    expect(req['oldObject']?.metadata?.labels).toEqual({ app: 'updated' });
    expect(req['object']?.metadata?.labels).toEqual({ app: 'updated', v: '2' });
  });

  it.each([
    [
      'an unreachable webhook',
      { url: 'https://127.0.0.1:1/x' },
      10,
      'Internal error occurred: failed calling webhook "w.example.com": failed to call webhook: Post "https://127.0.0.1:1/x?timeout=10s": dial tcp 127.0.0.1:1: connect: connection refused',
    ],
    [
      'a certificate the caBundle does not verify',
      { url: 'PORT/allow', caBundle: 'OTHER_CA' },
      10,
      /failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/allow\?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority$/,
    ],
    ['a webhook slower than timeoutSeconds', { url: 'PORT/slow' }, 1, /failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/slow\?timeout=1s": context deadline exceeded$/],
    ['an empty answer', { url: 'PORT/garbage' }, 10, /received invalid webhook response: webhook response was absent$/],
  ])('%s fails the request with failurePolicy Fail and is skipped with Ignore', async (_name, cc, timeoutSeconds, message) => {
    const other = Buffer.from((await createCA('someone-else')).cert).toString('base64');
    const clientConfig = {
      ...cc,
      caBundle: (cc as { caBundle?: string }).caBundle === 'OTHER_CA' ? other : wh.caBundle,
      url: (cc.url as string).replace('PORT', `https://127.0.0.1:${wh.port}`),
    };
    await configure(MUTATING, 'failing', [{ name: 'w.example.com', clientConfig, timeoutSeconds, rules: [podRule()] }]);
    const fail = await request(api.url, 'POST', PODS, { body: pod('fails') });
    expect(fail.status).toBe(500);
    const s = fail.json<{ reason: string; message: string }>();
    expect(s.reason).toBe('InternalError');
    if (typeof message === 'string') expect(s.message).toBe(message);
    else expect(s.message).toMatch(message);
    expect(await etcdValue(etcd.client, '/registry/pods/default/fails')).toBeUndefined();
    await request(api.url, 'DELETE', configs.pop() as string);
    await configure(MUTATING, 'ignored', [{ name: 'w.example.com', clientConfig, timeoutSeconds, failurePolicy: 'Ignore', rules: [podRule()] }]);
    const name = `ignored-${timeoutSeconds}-${Math.random().toString(36).slice(2, 7)}`;
    expect((await request(api.url, 'POST', PODS, { body: pod(name) })).status).toBe(201);
  });

  it('selectors and rules decide which requests call a webhook', async () => {
    await request(api.url, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'team-a', labels: { team: 'a' } } } });
    await configure(MUTATING, 'selective', [
      {
        name: 'select.example.com',
        clientConfig: { url: `https://127.0.0.1:${wh.port}/mutate`, caBundle: wh.caBundle },
        rules: [podRule()],
        namespaceSelector: { matchLabels: { team: 'a' } },
        objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
      },
    ]);
    await request(api.url, 'POST', PODS, { body: pod('other-team') });
    await request(api.url, 'POST', '/api/v1/namespaces/team-a/pods', { body: { ...pod('opted-out'), metadata: { name: 'opted-out', labels: { skip: 'y' } } } });
    await request(api.url, 'POST', '/api/v1/namespaces/team-a/pods', { body: pod('selected') });
    await request(api.url, 'POST', '/api/v1/nodes', { body: { metadata: { name: 'not-a-pod' } } });
    expect(wh.received.map((r) => r.review.request.object?.metadata?.name)).toEqual(['selected']);
  });
});
