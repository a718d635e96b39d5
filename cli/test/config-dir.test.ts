/**
 * `up --kube-version 1.27 --config-dir examples/k3d-tutorial`: the k3d
 * tutorial's own files decide what is traced, and the result is what the
 * tutorial shows in Jaeger: the apiserver, kubelet and containerd services,
 * and a kubelet `syncPod` found by the tag k8s.pod=default/echo-command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, readOtlpJsonLines, REPO_ROOT, startProcess, type FileSpan, type RunningProcess } from '../../shared/src/testing/index.js';

const KUBECTL = '/usr/bin/kubectl';
const exec = promisify(execFile);
const EXAMPLE = join(REPO_ROOT, 'examples', 'k3d-tutorial');
const FILES = ['config/apiserver-tracing.yaml', 'config/kubelet-tracing.yaml', 'config.toml.tmpl'];

let up: RunningProcess;
let dataDir: string;
let home: string;
let spans: FileSpan[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'k3d-example-'));
  home = mkdtempSync(join(tmpdir(), 'k3d-home-'));
  // The example's files name localhost:4317; tests run side by side, so a
  // copy names a free port instead and nothing else changes.
  const otlp = await freePort();
  const dir = join(dataDir, 'k3d-tutorial');
  cpSync(EXAMPLE, dir, { recursive: true });
  for (const f of FILES) {
    const p = join(dir, f);
    const text = readFileSync(p, 'utf8');
    expect(text).toContain('localhost:4317');
    writeFileSync(p, text.replaceAll('localhost:4317', `127.0.0.1:${otlp}`));
  }
  const tracesFile = join(dataDir, 'traces.jsonl');
  up = startProcess(
    [
      'up', '--ui-listen', '127.0.0.1:0', '--data-dir', dataDir, '--timing', 'fast', '--kube-version', '1.27', '--config-dir', dir, '--print-traces=false',
      '--apiserver-port', String(await freePort()), '--etcd-port', String(await freePort()), '--webhook-port', String(await freePort()),
      '--otlp-listen', `127.0.0.1:${otlp}`, '--traces-file', tracesFile,
    ],
    { env: { OTEL_BSP_SCHEDULE_DELAY: '200' } },
  );
  const end = Date.now() + 40_000;
  while (!up.output().includes('Press Ctrl-C to stop.')) {
    if (Date.now() > end || up.child.exitCode !== null) throw new Error(`up did not start:\n${up.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!existsSync(KUBECTL)) return;
  const kubectl = async (...args: string[]): Promise<string> =>
    (await exec(KUBECTL, ['--cache-dir', join(home, 'cache'), ...args], { env: { ...process.env, HOME: home, KUBECONFIG: join(dataDir, 'kubeconfig') }, timeout: 60_000 })).stdout;
  await kubectl('run', '--restart=Never', '--image=alpine', 'echo-command', '--', 'echo', 'hi');
  const until = Date.now() + 30_000;
  while ((await kubectl('get', 'pod', 'echo-command', '-o', 'jsonpath={.status.phase}')) !== 'Succeeded') {
    if (Date.now() > until) throw new Error('echo-command did not finish');
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 2000));
  spans = readOtlpJsonLines(tracesFile);
}, 90_000);

afterAll(async () => {
  await up?.stop('SIGINT');
});

describe.skipIf(!existsSync(KUBECTL))('up --config-dir examples/k3d-tutorial', () => {
  it('says where tracing comes from', () => {
    expect(up.output()).toContain('(Kubernetes 1.27, story mode');
    expect(up.output()).toContain('tracing    as configured in');
  });

  it('traces exactly the three components the tutorial configures', () => {
    expect([...new Set(spans.map((s) => s.service))].sort()).toEqual(['apiserver', 'containerd', 'kubelet']);
  });

  it('shows the syncPod the tutorial searches for (service kubelet, operation syncPod, tag k8s.pod=default/echo-command), with its CRI calls', () => {
    const syncs = spans.filter((s) => s.service === 'kubelet' && s.name === 'syncPod' && s.attributes['k8s.pod'] === 'default/echo-command');
    expect(syncs.length).toBeGreaterThanOrEqual(1);
    const create = syncs.find((s) => s.attributes['k8s.pod.update_type'] === 'create');
    expect(create).toBeDefined();
    const cri = spans.filter((s) => s.traceId === create?.traceId && s.parentSpanId === create?.spanId).map((s) => s.name);
    expect(cri).toContain('runtime.v1.RuntimeService/RunPodSandbox');
    expect(cri).toContain('runtime.v1.RuntimeService/StartContainer');
    // containerd's server spans sit under the kubelet's client spans.
    const run = spans.find((s) => s.traceId === create?.traceId && s.service === 'kubelet' && s.name === 'runtime.v1.RuntimeService/RunPodSandbox');
    expect(spans.some((s) => s.service === 'containerd' && s.parentSpanId === run?.spanId)).toBe(true);
  });

  it('the apiserver spans are 1.27 ones: KubernetesAPI, with the semconv v1.12 keys', () => {
    const api = spans.filter((s) => s.service === 'apiserver' && s.kind === 2);
    expect(api.length).toBeGreaterThan(0);
    for (const s of api) {
      expect(s.name).toBe('KubernetesAPI');
      expect(s.attributes['http.server_name']).toBe('KubernetesAPI');
      expect(s.attributes).not.toHaveProperty('http.request.method');
    }
  });

  it("containerd's resource is containerd 1.7's, with the config's service_name", () => {
    const res = spans.find((s) => s.service === 'containerd')?.resource ?? {};
    expect(res['service.name']).toBe('containerd');
    expect(res).not.toHaveProperty('telemetry.sdk.language', 'nodejs');
  });
});
