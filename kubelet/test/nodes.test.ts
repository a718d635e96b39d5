import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../shared/src/index.js';
import { CriClient } from '../src/cri-client.js';
import { NODE_LABEL } from '../src/pod-config.js';
import { boundPod, startRuntime, startTestKubelet, until, type RuntimeProcess, type TestKubelet } from './harness.js';

// Several simulated nodes in one process on one runtime: each registers as
// itself, runs only its own pods, and never mistakes another node's
// sandboxes for orphans.

let runtime: RuntimeProcess;
let k: TestKubelet;

beforeAll(async () => {
  runtime = await startRuntime();
  k = await startTestKubelet(runtime, ['--nodes', '3', '--record-events=false']);
});

afterAll(async () => {
  await k?.stop();
  await runtime?.stop();
});

describe('three nodes, one runtime', () => {
  it('registers three nodes with their own addresses and leases', () => {
    const nodes = k.api.objects<Node>('nodes/').sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    expect(nodes.map((n) => [n.metadata.name, n.status?.addresses?.[0]?.address, n.spec?.podCIDR])).toEqual([
      ['node-1', '172.18.0.2', '10.244.1.0/24'],
      ['node-2', '172.18.0.3', '10.244.2.0/24'],
      ['node-3', '172.18.0.4', '10.244.3.0/24'],
    ]);
    expect(k.api.objects('leases/').map((l) => l.metadata.name).sort()).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('each node runs its own pods, labels what it creates, and leaves the others alone', async () => {
    for (const n of [1, 2, 3]) k.api.put(`pods/default/p${n}`, boundPod(`p${n}`, `node-${n}`, { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] }));
    await until(() => [1, 2, 3].every((n) => k.api.get<Pod>(`pods/default/p${n}`)?.status?.phase === 'Running'), 10_000, 'all Running');
    expect([1, 2, 3].map((n) => k.api.get<Pod>(`pods/default/p${n}`)?.status?.hostIP)).toEqual(['172.18.0.2', '172.18.0.3', '172.18.0.4']);
    const cri = new CriClient(runtime.endpoint);
    try {
      const boxes = await cri.runtime<{ items: Array<{ labels: Record<string, string>; metadata: { name: string } }> }>('ListPodSandbox', {});
      expect(boxes.items.map((b) => [b.metadata.name, b.labels[NODE_LABEL]]).sort()).toEqual([
        ['p1', 'node-1'],
        ['p2', 'node-2'],
        ['p3', 'node-3'],
      ]);
      // Several relists later, nobody has torn down a neighbour's pod.
      await new Promise((r) => setTimeout(r, 600));
      const ctrs = await cri.runtime<{ containers: Array<{ state: number }> }>('ListContainers', {});
      expect(ctrs.containers.map((c) => c.state)).toEqual([1, 1, 1]);
    } finally {
      cri.close();
    }
    expect(k.api.objects('events/')).toEqual([]);
  });
});
