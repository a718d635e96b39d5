import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../shared/src/index.js';
import { startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { boundPod, startRuntime, startTestKubelet, until, type RuntimeProcess, type TestKubelet } from './harness.js';

// Failures of the peers must not stop a kubelet: API errors are retried,
// a runtime that goes away makes the node NotReady, and its return makes it
// Ready again and brings the pods back.

let runtime: RuntimeProcess;
let replacement: RunningProcess | undefined;
let k: TestKubelet;

beforeAll(async () => {
  runtime = await startRuntime();
  k = await startTestKubelet(runtime, ['--node-status-update-frequency', '100ms', '--record-events=false'], {
    node: { backoff: { initialMs: 200, maxMs: 400 }, errorBackoffMs: 200, loops: { relistMs: 100, runtimeStatusMs: 100 } },
  });
});

afterAll(async () => {
  await k?.stop();
  await replacement?.stop();
  await runtime?.stop();
});

const pod = (name: string): Pod | undefined => k.api.get<Pod>(`pods/default/${name}`);
const ready = (): string | undefined => k.api.get<Node>('nodes/node-1')?.status?.conditions?.find((c) => c.type === 'Ready')?.status;

describe('peer failures', () => {
  it('retries status updates the apiserver refused', async () => {
    k.api.failNext('PATCH', /\/pods\/flaky\/status$/, 500, 3);
    k.api.failNext('GET', /\/pods\/flaky$/, 503, 1);
    k.api.put('pods/default/flaky', boundPod('flaky', 'node-1', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] }));
    await until(() => pod('flaky')?.status?.phase === 'Running', 15_000, 'Running despite errors');
    expect(k.logs.some((l) => l.includes('Failed to update status for pod'))).toBe(true);
  });

  it('keeps renewing the lease after a failed renewal', async () => {
    const before = k.kubelet.nodes[0]!.lease.renewals;
    k.api.failNext('PUT', /\/leases\/node-1$/, 500, 1);
    await k.kubelet.nodes[0]!.lease.sync();
    await k.kubelet.nodes[0]!.lease.sync();
    expect(k.kubelet.nodes[0]!.lease.renewals).toBeGreaterThan(before);
  });

  it('reports NotReady while the runtime is gone, and Ready with the pod running again once it is back', async () => {
    await until(() => ready() === 'True', 5000, 'Ready');
    await runtime.proc.stop();
    await until(() => ready() === 'False', 10_000, 'NotReady');
    expect(k.api.get<Node>('nodes/node-1')?.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'KubeletNotReady' });
    replacement = startProcess(['runtime', '--address', runtime.socket, '--timing', 'fast']);
    await waitForListen({ path: runtime.socket });
    await until(() => ready() === 'True', 15_000, 'Ready again');
    // The new runtime has none of the old containers: the kubelet makes a new sandbox and starts the pod again.
    await until(() => (pod('flaky')?.status?.containerStatuses?.[0]?.state.running ? pod('flaky') : undefined), 15_000, 'running again');
    expect(pod('flaky')?.status?.phase).toBe('Running');
  });
});
