import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../shared/src/index.js';
import { CriClient } from '../src/cri-client.js';
import { boundPod, startRuntime, startTestKubelet, until, type RuntimeProcess, type TestKubelet } from './harness.js';

// The kubelet's own logic against a real runtime process and an in-memory
// apiserver: registration, lease, a pod's whole life (create, Running,
// restarts, completion, graceful deletion), and failures that must not stop
// it. The full path against the real apiserver is in e2e.test.ts.

let runtime: RuntimeProcess;
let k: TestKubelet;

beforeAll(async () => {
  runtime = await startRuntime();
  k = await startTestKubelet(runtime);
});

afterAll(async () => {
  await k?.stop();
  await runtime?.stop();
});

const pod = (name: string): Pod | undefined => k.api.get<Pod>(`pods/default/${name}`);
const phase = (name: string): string | undefined => pod(name)?.status?.phase;

describe('node', () => {
  it('registers its Node with conditions, capacity, addresses and nodeInfo', () => {
    const node = k.api.get<Node>('nodes/node-1') as Node;
    expect(node.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux' });
    expect(node.spec?.podCIDR).toBe('10.244.1.0/24');
    expect(node.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ]);
    expect(node.status?.capacity).toMatchObject({ cpu: '8', memory: '33554432Ki', pods: '110', 'ephemeral-storage': '104857600Ki' });
    expect(node.status?.allocatable).toMatchObject({ cpu: '8', memory: '33452032Ki', pods: '110' });
    expect(node.status?.addresses).toEqual([
      { type: 'InternalIP', address: '172.18.0.2' },
      { type: 'Hostname', address: 'node-1' },
    ]);
    expect(node.status?.nodeInfo).toMatchObject({ kubeletVersion: 'v1.35.0', containerRuntimeVersion: 'containerd://2.1.4', operatingSystem: 'linux', architecture: 'amd64' });
  });

  it('holds a Lease in kube-node-lease owned by the node', () => {
    const lease = k.api.get('leases/kube-node-lease/node-1') as { spec: Record<string, unknown>; metadata: { ownerReferences?: object[] } };
    expect(lease.spec).toMatchObject({ holderIdentity: 'node-1', leaseDurationSeconds: 40 });
    expect(String(lease.spec['renewTime'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(lease.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: k.api.get<Node>('nodes/node-1')?.metadata.uid }]);
  });
});

describe('pods', () => {
  it('runs a bound pod and reports it Running with IPs, conditions and container status', async () => {
    k.api.put('pods/default/web', boundPod('web', 'node-1'));
    await until(() => phase('web') === 'Running', 10_000, 'Running');
    const st = pod('web')?.status as NonNullable<Pod['status']>;
    expect(st.hostIP).toBe('172.18.0.2');
    expect(st.podIP).toMatch(/^10\.244\./);
    expect(st.podIPs).toEqual([{ ip: st.podIP }]);
    expect(st.qosClass).toBe('BestEffort');
    expect(st.startTime).toMatch(/Z$/);
    expect(st.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ]);
    const [cs] = st.containerStatuses ?? [];
    expect(cs).toMatchObject({ name: 'web', ready: true, started: true, restartCount: 0, image: 'docker.io/library/nginx:latest' });
    expect(cs?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(cs?.imageID).toMatch(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    expect(cs?.state.running?.startedAt).toMatch(/Z$/);
    // Pending with ContainerCreating came first.
    const patches = k.api.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/default/pods/web/status');
    expect((patches[0]?.body as { status: Pod['status'] }).status?.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect((patches[0]?.body as { metadata: { uid: string } }).metadata.uid).toBe(pod('web')?.metadata.uid);
  });

  it('finishes a graceful deletion: stops everything, then DELETEs with grace 0 and the uid precondition', async () => {
    const uid = pod('web')?.metadata.uid;
    const p = pod('web') as Pod;
    k.api.put('pods/default/web', { ...p, metadata: { ...p.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 30 } });
    await until(() => pod('web') === undefined, 10_000, 'pod gone');
    const del = k.api.requests.find((r) => r.method === 'DELETE' && r.path === '/api/v1/namespaces/default/pods/web');
    expect(del?.body).toEqual({ gracePeriodSeconds: 0, preconditions: { uid } });
    const cri = new CriClient(runtime.endpoint);
    try {
      const check = async (): Promise<boolean> => {
        const boxes = await cri.runtime<{ items: unknown[] }>('ListPodSandbox', {});
        const ctrs = await cri.runtime<{ containers: unknown[] }>('ListContainers', {});
        return boxes.items.length === 0 && ctrs.containers.length === 0;
      };
      const deadline = Date.now() + 5000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error('runtime not cleaned up');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      cri.close();
    }
  });

  it.each([
    ['Succeeded', 'Never', ['sh', '-c', 'exit 0'], 0, 'Completed'],
    ['Failed', 'Never', ['sh', '-c', 'exit 3'], 3, 'Error'],
    ['Succeeded', 'OnFailure', ['sh', '-c', 'true'], 0, 'Completed'],
  ] as const)('a pod ends %s under restartPolicy %s', async (want, restartPolicy, command, exitCode, reason) => {
    const name = `job-${want.toLowerCase()}-${restartPolicy.toLowerCase()}`;
    k.api.put(`pods/default/${name}`, boundPod(name, 'node-1', { restartPolicy, containers: [{ name: 'main', image: 'busybox:1.36', command: [...command] }] }));
    await until(() => phase(name) === want, 10_000, want);
    const cs = pod(name)?.status?.containerStatuses?.[0];
    expect(cs?.state.terminated).toMatchObject({ exitCode, reason });
    expect(cs?.ready).toBe(false);
    expect(pod(name)?.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: want === 'Succeeded' ? 'PodCompleted' : 'ContainersNotReady' });
  });

  it('restarts an exiting container under restartPolicy Always, counting restarts, with CrashLoopBackOff in between', async () => {
    k.api.put('pods/default/crash', boundPod('crash', 'node-1', { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'exit 1'] }] }));
    await until(() => (pod('crash')?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 15_000, 'two restarts');
    const cs = pod('crash')?.status?.containerStatuses?.[0];
    expect(cs?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(phase('crash')).toBe('Running');
    const waits = k.api.requests
      .filter((r) => r.method === 'PATCH' && r.path.endsWith('/crash/status'))
      .map((r) => (r.body as { status: Pod['status'] }).status?.containerStatuses?.[0]?.state?.waiting?.reason)
      .filter((x) => x !== undefined);
    expect(waits).toContain('CrashLoopBackOff');
  });

  it('reports ErrImageNeverPull for a missing image with pull policy Never, and keeps the pod Pending', async () => {
    k.api.put('pods/default/never', boundPod('never', 'node-1', { containers: [{ name: 'main', image: 'redis:7', imagePullPolicy: 'Never' }] }));
    await until(() => pod('never')?.status?.containerStatuses?.[0]?.state.waiting?.reason === 'ErrImageNeverPull', 10_000, 'ErrImageNeverPull');
    expect(pod('never')?.status?.containerStatuses?.[0]?.state.waiting?.message).toBe('Container image "redis:7" is not present with pull policy of Never');
    expect(phase('never')).toBe('Pending');
  });
});
