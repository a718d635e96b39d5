/**
 * The whole simulator, started the way a newcomer starts it (`up`), driven
 * with the real /usr/bin/kubectl, with the spans read back from the built-in
 * receiver's OTLP/JSON file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, readOtlpJsonLines, startProcess, type FileSpan, type RunningProcess } from '../../shared/src/testing/index.js';

const KUBECTL = '/usr/bin/kubectl';
const exec = promisify(execFile);
let up: RunningProcess;
let dataDir: string;
let home: string;
let tracesFile: string;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await exec(KUBECTL, ['--cache-dir', join(home, 'cache'), ...args], {
    env: { ...process.env, HOME: home, KUBECONFIG: join(dataDir, 'kubeconfig') },
    timeout: 60_000,
  });
  return stdout;
}

async function kubectlFails(...args: string[]): Promise<string> {
  try {
    await kubectl(...args);
  } catch (err) {
    return String((err as { stderr?: string }).stderr);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded`);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const phase = (name: string) => kubectl('get', 'pod', name, '-o', 'jsonpath={.status.phase}');

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'e2e-up-'));
  home = mkdtempSync(join(tmpdir(), 'e2e-home-'));
  tracesFile = join(dataDir, 'traces.jsonl');
  const ports = { apiserver: await freePort(), etcd: await freePort(), webhook: await freePort(), otlp: await freePort() };
  up = startProcess([
    'up', '--ui-listen', '127.0.0.1:0', '--data-dir', dataDir, '--timing', 'fast',
    '--apiserver-port', String(ports.apiserver), '--etcd-port', String(ports.etcd), '--webhook-port', String(ports.webhook),
    '--otlp-listen', `127.0.0.1:${ports.otlp}`, '--traces-file', tracesFile,
  ], { env: { OTEL_BSP_SCHEDULE_DELAY: '200' } });
  await until('up', async () => (up.output().includes('Press Ctrl-C to stop.') ? true : undefined), 30_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${up.output()}`);
  });
}, 60_000);

afterAll(async () => {
  await up?.stop('SIGINT');
});

describe.skipIf(!existsSync(KUBECTL))('kubectl against k8s-trace-sim up', () => {
  it('prints the kubeconfig export line and the endpoints', () => {
    expect(up.output()).toContain(`export KUBECONFIG=${join(dataDir, 'kubeconfig')}`);
    expect(up.output()).toMatch(/k8s-trace-sim is up in \d+\.\d s/);
  });

  it('get nodes shows the simulated node Ready', async () => {
    const out = await kubectl('get', 'nodes');
    expect(out).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    expect(out).toMatch(/\nnode-1\s+Ready\s+<none>\s+\S+\s+v1\.35\.\d+\n/);
  });

  it('run creates a pod that reaches Running, mutated by the webhook, shown by get, -o wide and describe', async () => {
    expect(await kubectl('run', 'demo', '--image=nginx')).toBe('pod/demo created\n');
    await until('demo Running', async () => ((await phase('demo')) === 'Running' ? true : undefined));
    const get = await kubectl('get', 'pods');
    expect(get).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(get).toMatch(/\ndemo\s+1\/1\s+Running\s+0\s+\S+\n/);
    const wide = await kubectl('get', 'pods', '-o', 'wide');
    expect(wide).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
    expect(wide).toMatch(/\ndemo\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+node-1\s+<none>\s+<none>\n/);
    const describe = await kubectl('describe', 'pod', 'demo');
    expect(describe).toMatch(/^Name:\s+demo$/m);
    expect(describe).toMatch(/^Node:\s+node-1\//m);
    expect(describe).toMatch(/^Status:\s+Running$/m);
    expect(describe).toMatch(/admission\.k8s-trace-sim\.io\/mutated=true/);
    expect(describe).toMatch(/^Containers:\n\s+demo:/m);
  });

  it('run --restart=Never -- echo hi reaches Succeeded', async () => {
    expect(await kubectl('run', 'hi', '--image=busybox', '--restart=Never', '--', 'echo', 'hi')).toBe('pod/hi created\n');
    await until('hi Succeeded', async () => ((await phase('hi')) === 'Succeeded' ? true : undefined));
    expect(await kubectl('get', 'pod', 'hi')).toMatch(/\nhi\s+0\/1\s+Completed\s+0\s+\S+\n/);
  });

  it('create -f and apply -f of a pod manifest', async () => {
    const manifest = join(home, 'pod.yaml');
    const write = (image: string) =>
      writeFileSync(manifest, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  containers:\n  - name: web\n    image: ${image}\n`);
    write('nginx:1.27');
    expect(await kubectl('create', '-f', manifest)).toBe('pod/web created\n');
    expect(await kubectlFails('create', '-f', manifest)).toContain('Error from server (AlreadyExists): error when creating');
    const applyManifest = join(home, 'applied.yaml');
    writeFileSync(applyManifest, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: applied\n  labels:\n    tier: one\nspec:\n  containers:\n  - name: app\n    image: nginx\n`);
    expect(await kubectl('apply', '-f', applyManifest)).toBe('pod/applied created\n');
    expect(await kubectl('apply', '-f', applyManifest)).toBe('pod/applied unchanged\n');
    writeFileSync(applyManifest, `apiVersion: v1\nkind: Pod\nmetadata:\n  name: applied\n  labels:\n    tier: two\nspec:\n  containers:\n  - name: app\n    image: nginx\n`);
    expect(await kubectl('apply', '-f', applyManifest)).toBe('pod/applied configured\n');
    expect(await kubectl('get', 'pod', 'applied', '-o', 'jsonpath={.metadata.labels.tier}')).toBe('two');
  });

  it('get pods -w sees a new pod go from Pending to Running', async () => {
    const w = spawn(KUBECTL, ['--cache-dir', join(home, 'cache'), 'get', 'pods', '-w'], {
      env: { ...process.env, HOME: home, KUBECONFIG: join(dataDir, 'kubeconfig') },
    });
    let out = '';
    w.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until('watch list', async () => (out.includes('NAME') ? true : undefined));
      await kubectl('run', 'watched', '--image=nginx');
      await until('watched Running in the watch', async () => (/\nwatched\s+1\/1\s+Running/.test(out) ? true : undefined));
      expect(out).toMatch(/\nwatched\s+0\/1\s+(Pending|ContainerCreating)/);
    } finally {
      w.kill();
    }
  });

  it('delete pod returns once the pod is gone', async () => {
    expect(await kubectl('delete', 'pod', 'demo')).toBe('pod "demo" deleted\n');
    expect(await kubectlFails('get', 'pod', 'demo')).toContain('Error from server (NotFound): pods "demo" not found');
  });

  it('the creation of demo is one trace: apiserver, webhook, etcd, kubelet and containerd, parents real', async () => {
    const spans = await until('the demo trace', async () => {
      const all = readOtlpJsonLines(tracesFile);
      const create = all.find(
        (s) => s.name === 'POST /api/v1/namespaces/{:namespace}/pods' && String(s.attributes['http.target']).startsWith('/api/v1/namespaces/default/pods') && all.some((x) => x.traceId === s.traceId && x.name === 'syncPod' && x.attributes['k8s.pod.name'] === 'demo'),
      );
      if (!create) return undefined;
      const trace = all.filter((s) => s.traceId === create.traceId);
      return trace.some((s) => s.name === 'runtime.v1.RuntimeService/StartContainer' && s.service === 'containerd') ? trace : undefined;
    });
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: FileSpan) => byId.get(s.parentSpanId);
    const one = (name: string, service: string, kind: number): FileSpan => {
      const found = spans.filter((s) => s.name === name && s.service === service && s.kind === kind);
      expect(found.length, `${service} ${name}`).toBeGreaterThanOrEqual(1);
      return found[0]!;
    };
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['apiserver', 'webhook', 'etcd', 'kubelet', 'containerd']));
    // Every parent is in the trace: nothing crossed a process without W3C context.
    for (const s of spans) if (s.parentSpanId !== '') expect(byId.has(s.parentSpanId), `parent of ${s.service} ${s.name}`).toBe(true);

    const create = one('POST /api/v1/namespaces/{:namespace}/pods', 'apiserver', 2);
    const hook = one('Call mutating webhook', 'apiserver', 1);
    const post = spans.find((s) => s.name === 'HTTP POST' && s.service === 'apiserver' && s.parentSpanId === hook.spanId)!;
    expect(post.kind).toBe(3);
    const hookServer = one('/mutate-v1-pod', 'webhook', 2);
    expect(hookServer.parentSpanId).toBe(post.spanId);
    const txnClient = spans.find((s) => s.name === 'etcdserverpb.KV/Txn' && s.service === 'apiserver' && parentOf(s)?.name === 'Create etcd3')!;
    expect(txnClient.kind).toBe(3);
    const txnServer = spans.find((s) => s.name === 'etcdserverpb.KV/Txn' && s.service === 'etcd' && s.parentSpanId === txnClient.spanId)!;
    expect(txnServer.kind).toBe(2);
    expect(txnServer.start > txnClient.start && txnServer.end < txnClient.end).toBe(true);

    const binding = one('POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding', 'apiserver', 2);
    const sync = one('syncPod', 'kubelet', 1);
    expect(sync.start >= binding.end).toBe(true);
    for (const name of ['RunPodSandbox', 'PodSandboxStatus', 'CreateContainer', 'StartContainer']) {
      const client = spans.find((s) => s.name === `runtime.v1.RuntimeService/${name}` && s.service === 'kubelet')!;
      expect(client.kind).toBe(3);
      expect(client.parentSpanId).toBe(sync.spanId);
      const server = spans.find((s) => s.name === client.name && s.service === 'containerd')!;
      expect(server.kind).toBe(2);
      expect(server.parentSpanId).toBe(client.spanId);
    }
    // Both joins hang off the create request's trace.
    expect(create.traceId).toBe(sync.traceId);
    expect(binding.traceId).toBe(create.traceId);
  });

  it('up printed the creation trace as a tree', async () => {
    await until('the printed tree', async () => (/\n\s+syncPod\s+kubelet\s+/.test(up.output()) ? true : undefined));
    expect(up.output()).toMatch(/\n\s+POST \/api\/v1\/namespaces\/\{:namespace\}\/pods\s+apiserver\s+[\d.]+ (ms|s)\n/);
    expect(up.output()).toMatch(/\n\s+runtime\.v1\.RuntimeService\/RunPodSandbox\s+containerd\s+/);
  });
});
