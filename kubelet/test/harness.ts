import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Pod } from '../../shared/src/index.js';
import { klog } from '../../shared/src/klog.js';
import { startFakeApiserver, type FakeApiserver } from '../../shared/src/testing/fake-apiserver.js';
import { startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { parseKubeletFlags, type KubeletConfig } from '../src/config.js';
import { Kubelet, type KubeletOptions } from '../src/kubelet.js';

/** A real runtime process on a unix socket in a temporary directory, with fast timing. */
export interface RuntimeProcess {
  readonly socket: string;
  readonly endpoint: string;
  readonly proc: RunningProcess;
  stop(): Promise<void>;
}

export async function startRuntime(extraArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RuntimeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-rt-'));
  const socket = join(dir, 'containerd.sock');
  const proc = startProcess(['runtime', '--address', socket, '--timing', 'fast', '--seed', '7', ...extraArgs], { env });
  await waitForListen({ path: socket });
  return {
    socket,
    endpoint: `unix://${socket}`,
    proc,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function config(runtime: RuntimeProcess, flags: readonly string[] = []): KubeletConfig {
  const parsed = parseKubeletFlags(['--kubeconfig', 'unused', '--container-runtime-endpoint', runtime.endpoint, ...flags]);
  if (parsed.help) throw new Error('unexpected help');
  return parsed.config;
}

export interface TestKubelet {
  readonly api: FakeApiserver;
  readonly kubelet: Kubelet;
  readonly exporter: InMemorySpanExporter;
  readonly logs: string[];
  stop(): Promise<void>;
}

/**
 * A Kubelet in this process against a fake apiserver, recording spans in
 * memory. `server` can put something in front of the fake apiserver (the
 * kubeconfig's address the kubelet is given).
 */
export async function startTestKubelet(
  runtime: RuntimeProcess,
  flags: readonly string[] = [],
  extra: Partial<KubeletOptions> = {},
  server: (api: FakeApiserver) => string = (api) => api.url,
): Promise<TestKubelet> {
  const api = await startFakeApiserver();
  const exporter = new InMemorySpanExporter();
  const logs: string[] = [];
  const kubelet = new Kubelet({
    cfg: config(runtime, flags),
    credentials: { server: server(api) },
    log: klog(4, (l) => logs.push(l)),
    seed: 1,
    exporter,
    processor: 'simple',
    env: {},
    node: { backoff: { initialMs: 300, maxMs: 1200 }, errorBackoffMs: 300, loops: { relistMs: 100 } },
    ...extra,
  });
  await kubelet.start();
  return {
    api,
    kubelet,
    exporter,
    logs,
    async stop() {
      await kubelet.stop();
      await api.close();
    },
  };
}

let counter = 0;

/** A pod as the apiserver stores it after the scheduler bound it to `node`. */
export function boundPod(name: string, node: string, spec: Partial<Pod['spec']> = {}, meta: Record<string, unknown> = {}): Pod {
  counter++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`, generation: 1, ...meta },
    spec: { containers: [{ name, image: 'nginx' }], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, nodeName: node, ...spec },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-06-01T10:00:00Z' }] },
  };
}

export async function until<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
