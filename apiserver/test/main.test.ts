import { mkdtempSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../shared/src/index.js';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { apiserverInstanceId } from '../src/spans.js';
import { pki, pod, request, startEtcd } from './harness.js';

// `k8s-trace-sim apiserver` as a process: flags, TLS files, tracing config
// file, logging, shutdown.

const ENV = { OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_RESOURCE_ATTRIBUTES: '', OTEL_SERVICE_NAME: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' };
let etcd: Awaited<ReturnType<typeof startEtcd>>;
let receiver: OtlpReceiver;
let dir: string;
const procs: RunningProcess[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'apiserver-main-'));
  const p = await pki();
  writeFileSync(join(dir, 'apiserver.crt'), p.server.cert);
  writeFileSync(join(dir, 'apiserver.key'), p.server.key);
  writeFileSync(join(dir, 'ca.crt'), p.ca.cert);
  writeFileSync(
    join(dir, 'tracing.yaml'),
    `apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nendpoint: ${receiver.endpoint}\nsamplingRatePerMillion: 1000000\n`,
  );
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
});
afterAll(async () => {
  etcd?.client.close();
  await etcd?.proc.stop();
  await receiver?.close();
});

const run = (args: string[]): RunningProcess => {
  const p = startProcess(['apiserver', ...args], { env: ENV });
  procs.push(p);
  return p;
};
const tlsArgs = (): string[] => [
  `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
  `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
  `--client-ca-file=${join(dir, 'ca.crt')}`,
];

async function untilOutput(p: RunningProcess, re: RegExp, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(p.output())) {
    if (Date.now() > deadline) throw new Error(`no ${String(re)} in:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('k8s-trace-sim apiserver (the process)', () => {
  it('serves with the given certificates, traces to the configured endpoint, stops on SIGTERM', async () => {
    const port = await freePort();
    const p = run([...tlsArgs(), `--secure-port=${port}`, `--etcd-servers=http://127.0.0.1:${etcd.port}`, `--tracing-config-file=${join(dir, 'tracing.yaml')}`]);
    await waitForListen({ host: '127.0.0.1', port });
    await untilOutput(p, /caches populated; default namespaces present/);
    const url = `https://127.0.0.1:${port}`;
    const r = await request(url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('from-process') });
    expect(r.status).toBe(201);
    const auditId = r.headers['audit-id'] as string;
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.attributes['audit-id'] === auditId && s.kind === 2));
    const server = spans.find((s) => s.attributes['audit-id'] === auditId && s.kind === 2);
    expect(server?.resource).toEqual({ 'service.name': 'apiserver', 'service.instance.id': apiserverInstanceId(hostname()) });
    expect(r.json<{ metadata: { annotations: Record<string, string> } }>().metadata.annotations['trace.k8s-trace-sim.io/traceparent']).toBe(
      `00-${server?.traceId}-${server?.spanId}-01`,
    );
    expect(p.output()).toMatch(/^I\d{4} \d\d:\d\d:\d\d\.\d{6}\s+\d+ apiserver\.go:1\] "Serving securely on" address="127\.0\.0\.1:\d+"/m);
    expect(await p.stop('SIGTERM')).toBe(0);
    expect(p.output()).toContain('"apiserver stopped"');
  });

  it('without --tracing-config-file it does not trace; without --tls-cert-file it serves a self-signed certificate', async () => {
    const port = await freePort();
    const p = run([`--secure-port=${port}`, `--etcd-servers=http://127.0.0.1:${etcd.port}`]);
    await waitForListen({ host: '127.0.0.1', port });
    await untilOutput(p, /caches populated/);
    expect(p.output()).toContain('no --tls-cert-file given');
    const status = await new Promise<number>((resolve, reject) => {
      const s = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      s.on('error', reject);
      const req = s.request({ ':path': '/readyz' });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.on('close', () => s.close());
      req.end();
    });
    expect(status).toBe(200);
    expect(p.output()).not.toContain('tracing enabled');
  });

  it('--kube-version 1.27 with a v1beta1 tracing file: 1.27 /version and spans; with the gate off the file is refused', async () => {
    const file = join(dir, 'tracing-v1beta1.yaml');
    writeFileSync(file, `apiVersion: apiserver.config.k8s.io/v1beta1\nkind: TracingConfiguration\nendpoint: ${receiver.endpoint}\nsamplingRatePerMillion: 1000000\n`);
    const off = run(['--kube-version=1.27', '--feature-gates=APIServerTracing=false', `--tracing-config-file=${file}`]);
    expect(await off.exited).toBe(1);
    expect(off.output()).toContain('APIServerTracing feature is not enabled, but tracing config file was provided');

    const port = await freePort();
    const p = run([...tlsArgs(), '--kube-version', '1.27', '--feature-gates=APIServerTracing=true', `--secure-port=${port}`, `--etcd-servers=http://127.0.0.1:${etcd.port}`, `--tracing-config-file=${file}`]);
    await waitForListen({ host: '127.0.0.1', port });
    await untilOutput(p, /caches populated/);
    expect(p.output()).toMatch(/"Version" version="v1\.27\.16"/);
    const url = `https://127.0.0.1:${port}`;
    expect((await request(url, 'GET', '/version')).json()).toMatchObject({ major: '1', minor: '27', gitVersion: 'v1.27.16' });
    const r = await request(url, 'POST', '/api/v1/namespaces/default/pods', { body: pod('from-127') });
    expect(r.status).toBe(201);
    const auditId = r.headers['audit-id'] as string;
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === 'SerializeObject' && s.attributes['audit-id'] === auditId) && all.some((s) => s.name === 'KubernetesAPI'));
    const ser = spans.find((s) => s.name === 'SerializeObject' && s.attributes['audit-id'] === auditId);
    const auth = spans.find((s) => s.spanId === ser?.parentSpanId);
    const server = spans.find((s) => s.spanId === auth?.parentSpanId);
    expect(auth?.name).toBe('authentication');
    expect(server).toMatchObject({ name: 'KubernetesAPI', scope: { version: 'semver:0.35.1' } });
    expect(server?.resource).toEqual({ 'service.name': 'apiserver', 'service.instance.id': apiserverInstanceId(hostname()) });
    expect(await p.stop('SIGTERM')).toBe(0);
  });

  it('--help lists the kube-apiserver flags and the simulator ones', async () => {
    const p = run(['--help']);
    expect(await p.exited).toBe(0);
    for (const f of ['--secure-port', '--tls-cert-file', '--client-ca-file', '--etcd-servers', '--tracing-config-file', '--feature-gates', '--kube-version', '--trace-mode', '--webhook-service-address']) {
      expect(p.output()).toContain(f);
    }
  });

  it.each([
    [['--trace-mode=everything'], 'invalid argument "everything" for "--trace-mode" flag'],
    [['--tracing-config-file=/nope.yaml'], 'tracing-config-file /nope.yaml does not exist'],
    [['--kube-version=1.30'], 'invalid argument "1.30" for "--kube-version" flag: supported versions are 1.27, 1.35'],
    [['--feature-gates=APIServerTracing=false'], 'cannot set feature gate APIServerTracing to false, feature is locked to true'],
    [['--kube-version=1.27', '--feature-gates=Tracing=true'], 'invalid argument "Tracing=true" for "--feature-gates" flag: unrecognized feature gate: Tracing'],
    [['--etcd-servers=etcd:2379'], 'invalid --etcd-servers'],
  ])('%j exits 1: %s', async (args, message) => {
    const p = run(args);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(message);
  });

  it('a busy port is reported the way kube-apiserver reports it', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    try {
      const p = run([...tlsArgs(), `--secure-port=${port}`, `--etcd-servers=http://127.0.0.1:${etcd.port}`]);
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`failed to create listener: failed to listen on 127.0.0.1:${port}: listen tcp 127.0.0.1:${port}: bind: address already in use`);
    } finally {
      blocker.close();
    }
  });
});
