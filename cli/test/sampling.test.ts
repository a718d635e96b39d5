import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpReceiver, type OtlpReceiver } from '../../shared/src/index.js';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { pki, request, startEtcd } from '../../apiserver/test/harness.js';

// samplingRatePerMillion as the real samplers apply it, across real
// processes: a kube-apiserver with a TracingConfiguration file, and etcd with
// its default (no sampled root of its own, a sampled parent always followed).

const ENV = { OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: '', OTEL_RESOURCE_ATTRIBUTES: '', K8S_TRACE_SIM_SEED: '20261121' };
const REQUESTS = 200;

let receiver: OtlpReceiver;
let etcd: Awaited<ReturnType<typeof startEtcd>>;
let dir: string;
const procs: RunningProcess[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  etcd = await startEtcd(['--experimental-enable-distributed-tracing', '--experimental-distributed-tracing-address', receiver.endpoint], ENV);
  dir = mkdtempSync(join(tmpdir(), 'sampling-'));
  const p = await pki();
  writeFileSync(join(dir, 'ca.crt'), p.ca.cert);
  writeFileSync(join(dir, 'apiserver.crt'), p.server.cert);
  writeFileSync(join(dir, 'apiserver.key'), p.server.key);
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  etcd.client.close();
  await etcd.proc.stop();
  await receiver.close();
});

async function apiserverWithRate(rate: number): Promise<{ url: string; stop: () => Promise<unknown> }> {
  const file = join(dir, `tracing-${rate}.yaml`);
  writeFileSync(file, ['apiVersion: apiserver.config.k8s.io/v1', 'kind: TracingConfiguration', `endpoint: ${receiver.endpoint}`, `samplingRatePerMillion: ${rate}`, ''].join('\n'));
  const port = await freePort();
  const proc = startProcess(
    [
      'apiserver', '--secure-port', String(port), '--etcd-servers', `http://127.0.0.1:${etcd.port}`,
      '--tls-cert-file', join(dir, 'apiserver.crt'), '--tls-private-key-file', join(dir, 'apiserver.key'), '--client-ca-file', join(dir, 'ca.crt'),
      '--tracing-config-file', file,
    ],
    { env: ENV },
  );
  procs.push(proc);
  await waitForListen({ host: '127.0.0.1', port }, 20_000);
  return { url: `https://127.0.0.1:${port}`, stop: () => proc.stop() };
}

/** Sends `n` GETs of a namespace's pods, each with a header of its own to find its spans by. */
async function send(url: string, n: number, tag: string, traceparent?: (i: number) => string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await request(url, 'GET', '/api/v1/namespaces/default/pods', {
      headers: { 'user-agent': `${tag}/${i}`, ...(traceparent ? { traceparent: traceparent(i) } : {}) },
    });
    expect(res.status).toBe(200);
  }
}

/** The request spans (SERVER, apiserver) whose user agent carries `tag`, once the exporters have flushed. */
async function serverSpans(tag: string, settleMs = 1500): Promise<ReturnType<OtlpReceiver['spans']>> {
  await new Promise((r) => setTimeout(r, settleMs));
  return receiver
    .spans()
    .filter((s) => s.resource['service.name'] === 'apiserver' && s.kind === 2 && String(s.attributes['user_agent.original'] ?? '').startsWith(`${tag}/`));
}

describe('samplingRatePerMillion across processes', () => {
  it('0: no apiserver root is exported, yet a sampled parent is followed by the apiserver and by etcd', async () => {
    const api = await apiserverWithRate(0);
    await send(api.url, 20, 'rate0-roots');
    expect(await serverSpans('rate0-roots')).toHaveLength(0);
    // A system:masters caller's context is honoured (1.33+), so its sampled flag decides.
    const traceId = (i: number): string => `4bf92f3577b34da6a3ce929d0e0e${String(4700 + i).padStart(4, '0')}`;
    await send(api.url, 5, 'rate0-parent', (i) => `00-${traceId(i)}-00f067aa0ba902b7-01`);
    const followed = await serverSpans('rate0-parent');
    expect(followed).toHaveLength(5);
    for (const s of followed) expect(s.parentSpanId).toBe('00f067aa0ba902b7');
    const etcdServer = receiver.spans().filter((s) => s.resource['service.name'] === 'etcd' && followed.some((f) => f.traceId === s.traceId));
    expect(etcdServer.length).toBeGreaterThanOrEqual(5);
    for (const s of etcdServer) expect(s.name).toMatch(/^etcdserverpb\.KV\//);
    // An unsampled parent is followed too: nothing.
    await send(api.url, 5, 'rate0-unsampled', (i) => `00-${traceId(100 + i)}-00f067aa0ba902b7-00`);
    expect(await serverSpans('rate0-unsampled')).toHaveLength(0);
    await api.stop();
  }, 60_000);

  it('1000000: every request is exported', async () => {
    const api = await apiserverWithRate(1_000_000);
    await send(api.url, 50, 'rate1m');
    expect(await serverSpans('rate1m')).toHaveLength(50);
    await api.stop();
  }, 60_000);

  it('500000: about half the requests are exported (seeded ids, binomial bounds)', async () => {
    const api = await apiserverWithRate(500_000);
    await send(api.url, REQUESTS, 'rate500k');
    const n = (await serverSpans('rate500k', 2500)).length;
    // Binomial(200, 0.5): σ ≈ 7.1; ±4σ.
    expect(n).toBeGreaterThan(REQUESTS / 2 - 29);
    expect(n).toBeLessThan(REQUESTS / 2 + 29);
    await api.stop();
  }, 90_000);
});
