import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, type KubeObject, type Pod } from '../../shared/src/index.js';
import { klog } from '../../shared/src/klog.js';
import { seededRandom } from '../../shared/src/random.js';
import { startFakeApiserver, type FakeApiserver } from '../../shared/src/testing/fake-apiserver.js';
import type { TraceMode } from '../src/objects.js';
import { Scheduler } from '../src/scheduler.js';
import { node, pod } from './fixtures.js';

// The scheduling loop against an in-memory apiserver: what it binds, what it
// sends with the binding, and how it waits for room. The full path against
// the real apiserver is in e2e.test.ts.

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

let api: FakeApiserver;
let client: KubeClient;
let scheduler: Scheduler;

async function start(mode: TraceMode = 'story', extra: { recordEvents?: boolean } = {}): Promise<void> {
  api = await startFakeApiserver();
  client = new KubeClient({ server: api.url, userAgent: 'test' });
  scheduler = new Scheduler({
    client,
    traceMode: mode,
    random: seededRandom(1),
    log: klog(0, () => {}),
    recordEvents: extra.recordEvents ?? true,
    instance: 'default-scheduler-test',
    queue: { initialBackoffMs: 50, maxBackoffMs: 200 },
  });
  scheduler.start();
}

afterEach(async () => {
  await scheduler?.stop();
  client?.close();
  await api?.close();
});

async function until<T>(check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const nodeOf = (name: string): string | undefined => api.get<Pod>(`pods/default/${name}`)?.spec.nodeName;
const bindings = () => api.requests.filter((r) => r.path.endsWith('/binding'));
const events = (reason: string) => api.objects<KubeObject & { reason: string; message: string }>('events/').filter((e) => e.reason === reason);

describe('scheduler', () => {
  it('binds a pending pod, forwarding its traceparent in story mode, and records Scheduled', async () => {
    await start('story');
    api.put('nodes/node-1', node('node-1'));
    api.put('pods/default/nginx', pod('nginx', { annotations: { 'trace.k8s-trace-sim.io/traceparent': TP } }));
    expect(await until(() => nodeOf('nginx'))).toBe('node-1');
    const [b] = bindings();
    expect(b?.method).toBe('POST');
    expect(b?.path).toBe('/api/v1/namespaces/default/pods/nginx/binding');
    expect(b?.headers['traceparent']).toBe(TP);
    expect(b?.body).toMatchObject({ kind: 'Binding', metadata: { name: 'nginx', namespace: 'default' }, target: { kind: 'Node', name: 'node-1' } });
    const ev = await until(() => events('Scheduled')[0]);
    expect(ev.message).toBe('Successfully assigned default/nginx to node-1');
  });

  it('sends no traceparent in faithful mode', async () => {
    await start('faithful');
    api.put('nodes/node-1', node('node-1'));
    api.put('pods/default/nginx', pod('nginx', { annotations: { 'trace.k8s-trace-sim.io/traceparent': TP } }));
    await until(() => nodeOf('nginx'));
    expect(bindings()[0]?.headers['traceparent']).toBeUndefined();
  });

  it('spreads pods over equal nodes and ignores pods of other schedulers', async () => {
    await start('story', { recordEvents: false });
    api.put('nodes/node-1', node('node-1'));
    api.put('nodes/node-2', node('node-2'));
    for (let i = 0; i < 10; i++) api.put(`pods/default/p${i}`, pod(`p${i}`));
    api.put('pods/default/other', pod('other', { spec: { schedulerName: 'my-scheduler' } }));
    await until(() => Array.from({ length: 10 }, (_, i) => nodeOf(`p${i}`)).every((n) => n !== undefined));
    const counts = new Map<string, number>();
    for (let i = 0; i < 10; i++) counts.set(nodeOf(`p${i}`) as string, (counts.get(nodeOf(`p${i}`) as string) ?? 0) + 1);
    expect(counts).toEqual(new Map([['node-1', 5], ['node-2', 5]]));
    expect(nodeOf('other')).toBeUndefined();
    expect(events('Scheduled')).toHaveLength(0);
  });

  it('keeps an unschedulable pod pending with FailedScheduling, and binds it once a node appears', async () => {
    await start();
    api.put('nodes/node-1', node('node-1', { ready: false }));
    api.put('pods/default/nginx', pod('nginx'));
    const failed = await until(() => events('FailedScheduling')[0]);
    expect(failed.message).toBe(
      '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    const cond = await until(() => api.get<Pod>('pods/default/nginx')?.status?.conditions?.find((c) => c.type === 'PodScheduled'));
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    api.put('nodes/node-2', node('node-2'));
    expect(await until(() => nodeOf('nginx'))).toBe('node-2');
  });

  it('waits for room: a pod that finishes frees its slot', async () => {
    await start('story', { recordEvents: false });
    api.put('nodes/node-1', node('node-1', { pods: '1' }));
    api.put('pods/default/a', pod('a'));
    await until(() => nodeOf('a'));
    api.put('pods/default/b', pod('b'));
    await until(() => api.requests.some((r) => r.path.endsWith('/b/status')));
    expect(nodeOf('b')).toBeUndefined();
    const a = api.get<Pod>('pods/default/a') as Pod;
    api.put('pods/default/a', { ...a, status: { phase: 'Succeeded' } });
    expect(await until(() => nodeOf('b'))).toBe('node-1');
    expect(scheduler.usageOf('node-1')?.pods).toBe(1);
  });

  it('retries a failed binding after its backoff', async () => {
    await start('story', { recordEvents: false });
    api.failNext('POST', /\/binding$/, 500, 2);
    api.put('nodes/node-1', node('node-1'));
    api.put('pods/default/nginx', pod('nginx'));
    expect(await until(() => nodeOf('nginx'))).toBe('node-1');
    expect(bindings()).toHaveLength(3);
    // The binding is stored before its reply reaches the scheduler.
    await until(() => scheduler.stats.bound === 1);
    expect(scheduler.stats).toMatchObject({ bound: 1, bindErrors: 2 });
  });
});
