import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNotFound, KubeClient, loadKubeconfig, renderKubeconfig, startOtlpReceiver, type KubeObject, type Node, type OtlpReceiver, type Pod, type ReceivedSpan } from '../../shared/src/index.js';
import { createCA, issueCert } from '../../shared/src/pki.js';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { startRuntime, type RuntimeProcess } from './harness.js';

// The whole path with real processes: etcd-sim, the apiserver (TLS, client
// certificates), the runtime, the scheduler (system:masters) and a kubelet
// (system:node:node-1), all tracing to one receiver in story mode. A pod is
// created, scheduled, run and deleted; the create trace gathers the
// binding (the scheduler forwards the pod's traceparent and is privileged)
// and the kubelet's syncPod with its CRI calls and containerd's spans.

const QUIET_OTEL = {
  OTEL_BSP_SCHEDULE_DELAY: '50',
  OTEL_SERVICE_NAME: '',
  OTEL_RESOURCE_ATTRIBUTES: '',
  OTEL_SDK_DISABLED: '',
  OTEL_TRACES_SAMPLER: '',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_PROTOCOL: '',
};

let dir: string;
let receiver: OtlpReceiver;
let runtime: RuntimeProcess;
const procs: RunningProcess[] = [];
let admin: KubeClient;

async function writeCluster(apiPort: number): Promise<{ admin: string; kubelet: string; files: Record<string, string> }> {
  const ca = await createCA('kubernetes');
  const server = await issueCert(ca, { commonName: 'kube-apiserver', dnsNames: ['localhost'], ips: ['127.0.0.1'], usage: 'server' });
  const adm = await issueCert(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' });
  const node = await issueCert(ca, { commonName: 'system:node:node-1', organizations: ['system:nodes'], usage: 'client' });
  const files: Record<string, string> = {
    ca: join(dir, 'ca.crt'),
    cert: join(dir, 'apiserver.crt'),
    key: join(dir, 'apiserver.key'),
    tracing: join(dir, 'tracing.yaml'),
  };
  writeFileSync(files['ca'] as string, ca.cert);
  writeFileSync(files['cert'] as string, server.cert);
  writeFileSync(files['key'] as string, server.key);
  writeFileSync(files['tracing'] as string, `apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nendpoint: ${receiver.endpoint}\nsamplingRatePerMillion: 1000000\n`);
  const kubeconfig = (name: string, user: string, kp: { cert: string; key: string }): string => {
    const path = join(dir, `${name}.kubeconfig`);
    writeFileSync(path, renderKubeconfig({ clusterName: 'sim', userName: user, server: `https://127.0.0.1:${apiPort}`, ca: ca.cert, cert: kp.cert, key: kp.key }));
    return path;
  };
  return { admin: kubeconfig('admin', 'kubernetes-admin', adm), kubelet: kubeconfig('kubelet', 'system:node:node-1', node), files };
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): RunningProcess {
  const p = startProcess(args, { env: { ...QUIET_OTEL, ...env } });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelet-e2e-'));
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  const etcdPort = await freePort();
  const apiPort = await freePort();
  const cluster = await writeCluster(apiPort);
  start(['etcd', '--listen-client-urls', `http://127.0.0.1:${etcdPort}`, '--data-dir', join(dir, 'etcd'), '--unsafe-no-fsync']);
  await waitForListen({ host: '127.0.0.1', port: etcdPort });
  const f = cluster.files;
  start([
    'apiserver',
    '--secure-port', String(apiPort),
    '--tls-cert-file', f['cert'] as string,
    '--tls-private-key-file', f['key'] as string,
    '--client-ca-file', f['ca'] as string,
    '--etcd-servers', `http://127.0.0.1:${etcdPort}`,
    '--tracing-config-file', f['tracing'] as string,
    '--trace-mode', 'story',
  ]);
  await waitForListen({ host: '127.0.0.1', port: apiPort });
  runtime = await startRuntime(['--otlp-endpoint', receiver.endpoint], QUIET_OTEL);
  start([
    'kubelet',
    '--kubeconfig', cluster.kubelet,
    '--container-runtime-endpoint', runtime.endpoint,
    '--hostname-override', 'node-1',
    '--tracing-endpoint', receiver.endpoint,
    '--tracing-sampling-rate-per-million', '1000000',
  ]);
  start(['scheduler', '--kubeconfig', cluster.admin, '--leader-elect=false']);
  admin = new KubeClient({ ...loadKubeconfig(cluster.admin), userAgent: 'e2e' });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const node = await admin.get<Node>('/api/v1/nodes/node-1').catch(() => undefined);
    if (node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
    if (Date.now() > deadline) throw new Error(`node-1 never became Ready:\n${procs.map((p) => p.output()).join('\n').slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  admin?.close();
  for (const p of [...procs].reverse()) await p.stop();
  await runtime?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function podNow(name: string): Promise<Pod | undefined> {
  try {
    return await admin.get<Pod>(`/api/v1/namespaces/default/pods/${name}`);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms:\n${procs.map((p) => p.output()).join('\n').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a pod through the real control plane', () => {
  let created: Pod;

  it('is scheduled, run and reported Running', async () => {
    created = await admin.create<Pod>('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nginx', namespace: 'default' },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] },
    });
    const running = await eventually(async () => {
      const p = await podNow('nginx');
      return p?.status?.phase === 'Running' ? p : undefined;
    }, 'Running');
    expect(running.spec.nodeName).toBe('node-1');
    expect(running.status?.podIP).toMatch(/^10\.244\./);
    expect(running.status?.hostIP).toBe('172.18.0.2');
    expect(running.status?.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ]);
    expect(running.status?.containerStatuses?.[0]).toMatchObject({ name: 'nginx', ready: true, started: true, restartCount: 0 });
  });

  it('gathers binding and syncPod (with CRI and containerd spans) under the create trace', async () => {
    const annotation = created.metadata.annotations?.['trace.k8s-trace-sim.io/traceparent'] as string;
    expect(annotation).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, spanId] = annotation.split('-') as [string, string, string];
    const spans = await receiver.waitForSpans(
      (all) =>
        all.filter((s) => s.traceId === traceId && s.resource['service.name'] === 'containerd').length >= 7 &&
        all.filter((s) => s.traceId === traceId && s.resource['service.name'] === 'kubelet').length >= 8 &&
        all.some((s) => s.traceId === traceId && s.name === 'POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding'),
      20_000,
    );
    const trace = spans.filter((s) => s.traceId === traceId);
    const binding = trace.find((s) => s.name === 'POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding' && s.kind === 2) as ReceivedSpan;
    expect(binding).toBeDefined();
    const sync = trace.find((s) => s.name === 'syncPod') as ReceivedSpan;
    expect(sync.parentSpanId).toBe(spanId);
    expect(sync.resource).toEqual({ 'service.name': 'kubelet', 'host.name': 'node-1' });
    // The kubelet only hears of the pod once the binding is stored.
    expect(sync.startTimeUnixNano).toBeGreaterThan(binding.endTimeUnixNano);
    const cri = trace.filter((s) => s.parentSpanId === sync.spanId).sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));
    expect(cri.map((s) => s.name.split('/')[1])).toEqual(['RunPodSandbox', 'PodSandboxStatus', 'ImageStatus', 'PullImage', 'ImageStatus', 'CreateContainer', 'StartContainer']);
    for (const c of cri) expect(trace.filter((s) => s.parentSpanId === c.spanId).map((s) => [s.name, s.resource['service.name']])).toEqual([[c.name, 'containerd']]);
  });

  it("links the apiserver's status PATCH span to the kubelet's client span, which stays a root", async () => {
    const spans = await receiver.waitForSpans(
      (all) => all.some((s) => s.name === 'PATCH /api/v1/namespaces/{:namespace}/pods/{:name}/status' && s.links.some((l) => all.some((c) => c.spanId === l.spanId))),
      20_000,
    );
    const server = spans.find((s) => s.name === 'PATCH /api/v1/namespaces/{:namespace}/pods/{:name}/status' && s.links.some((l) => spans.some((c) => c.spanId === l.spanId))) as ReceivedSpan;
    const client = spans.find((s) => s.spanId === server.links[0]?.spanId) as ReceivedSpan;
    expect(client).toMatchObject({ name: 'HTTP PATCH', kind: 3, parentSpanId: '' });
    expect(client.resource).toEqual({ 'service.name': 'kubelet', 'host.name': 'node-1' });
    expect(server.traceId).not.toBe(client.traceId);
  });

  it('keeps a renewed lease and records events from the scheduler and the kubelet', async () => {
    const lease = await admin.get<KubeObject & { spec: { holderIdentity: string; renewTime: string } }>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1');
    expect(lease.spec.holderIdentity).toBe('node-1');
    const reasons = await eventually(async () => {
      const list = await admin.list<KubeObject & { reason: string; involvedObject: { name: string } }>('/api/v1/namespaces/default/events');
      const r = list.items.filter((e) => e.involvedObject.name === 'nginx').map((e) => e.reason);
      return ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started'].every((x) => r.includes(x)) ? r : undefined;
    }, 'events');
    expect(reasons).toContain('Scheduled');
  });

  it('is deleted gracefully: the kubelet stops it and removes it from the API', async () => {
    await admin.delete('/api/v1/namespaces/default/pods/nginx');
    await eventually(async () => ((await podNow('nginx')) === undefined ? true : undefined), 'pod gone');
    const spans = await receiver.waitForSpans((all) => {
      const t = all.find((s) => s.name === 'syncTerminatingPod');
      return t !== undefined && all.filter((s) => s.parentSpanId === t.spanId).length >= 2;
    }, 10_000);
    const term = spans.find((s) => s.name === 'syncTerminatingPod') as ReceivedSpan;
    expect(term.parentSpanId).toBe('');
    const children = spans.filter((s) => s.parentSpanId === term.spanId).map((s) => s.name.split('/')[1]);
    expect(children.slice(0, 2)).toEqual(['StopContainer', 'StopPodSandbox']);
  });
});
