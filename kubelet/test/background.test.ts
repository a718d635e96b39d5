import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../shared/src/index.js';
import { createCA, issueCert } from '../../shared/src/pki.js';
import { APISERVER_PROBES, backgroundPlan, relistTraced } from '../src/background.js';
import { probeOnce } from '../src/prober.js';
import { boundPod, startRuntime, startTestKubelet, until, type RuntimeProcess, type TestKubelet } from './harness.js';

// --background-traffic: what a node does when nothing changes. `full` traces
// every relist, housekeeping call, lease renewal and node status read, and the
// control-plane node probes the apiserver (untraced, HTTP/1.1, kube-probe);
// `low` traces a tenth of the relists and probes ten times less often; `off`
// leaves no background span, while relists and lease renewals go on.

describe('background plan', () => {
  it.each([
    ['full', true, 1, [10_000, 1000]],
    ['low', true, 10, [100_000, 10_000]],
    ['off', false, 0, []],
  ] as const)('%s: housekeeping traced %s, one relist in %d traced, probe periods %j', (mode, traced, every, periods) => {
    const plan = backgroundPlan(mode);
    expect(plan.traced).toBe(traced);
    expect(plan.relistTraceEvery).toBe(every);
    expect(plan.probes.map((p) => p.periodMs)).toEqual(periods);
    expect(plan.probes.map((p) => p.path)).toEqual(periods.length ? ['/livez', '/readyz'] : []);
  });

  it('the probes are kubeadm\'s on the apiserver static pod', () => {
    expect(APISERVER_PROBES).toEqual([
      { path: '/livez', periodMs: 10_000 },
      { path: '/readyz', periodMs: 1000 },
    ]);
  });

  it.each([
    ['full', [0, 1, 2, 3], [true, true, true, true]],
    ['low', [0, 1, 9, 10, 11, 20], [true, false, false, true, false, true]],
    ['off', [0, 1, 10], [false, false, false]],
  ] as const)('%s: which relists are traced', (mode, ns, want) => {
    const plan = backgroundPlan(mode);
    expect(ns.map((n) => relistTraced(plan, n))).toEqual(want);
  });
});

interface ProbeSeen {
  readonly path: string;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * The fake apiserver speaks only cleartext HTTP/2; the prober speaks
 * HTTP/1.1 as the real one does. This sits at the kubeconfig's address:
 * connections opening with the HTTP/2 preface go through to the fake
 * apiserver, the rest are probes, recorded and answered `ok`.
 */
async function startFrontDoor(): Promise<{ server: (target: string) => string; probes: ProbeSeen[]; close(): Promise<void> }> {
  const probes: ProbeSeen[] = [];
  let target: URL | undefined;
  const h1: Server = createHttpServer((req, res) => {
    probes.push({ path: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers });
    res.end('ok');
  });
  const tcp: TcpServer = createTcpServer((sock) => {
    sock.once('data', (chunk) => {
      sock.pause();
      if (chunk.subarray(0, 4).toString('latin1') === 'PRI ' && target) {
        const up = connect(Number(target.port), target.hostname, () => {
          up.write(chunk);
          sock.pipe(up).pipe(sock);
          sock.resume();
        });
        up.on('error', () => sock.destroy());
        sock.on('error', () => up.destroy());
        return;
      }
      sock.unshift(chunk);
      h1.emit('connection', sock);
      sock.resume();
    });
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  return {
    server: (t) => {
      target = new URL(t);
      return url;
    },
    probes,
    close: () => new Promise((r) => tcp.close(() => r())),
  };
}

const FAST_PROBES = [
  { path: '/livez', periodMs: 400 },
  { path: '/readyz', periodMs: 100 },
];

// The runtime exports too: containerd 2.x samples ParentBased(AlwaysOn), so a call without trace context would be a root there.
const RUNTIME_ENV = {
  OTEL_BSP_SCHEDULE_DELAY: '50',
  OTEL_SERVICE_NAME: '',
  OTEL_RESOURCE_ATTRIBUTES: '',
  OTEL_SDK_DISABLED: '',
  OTEL_TRACES_SAMPLER: '',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_PROTOCOL: '',
};

let receiver: OtlpReceiver;
let runtime: RuntimeProcess;
let dir: string;
let leaseConfig: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  runtime = await startRuntime(['--otlp-endpoint', receiver.endpoint], RUNTIME_ENV);
  dir = mkdtempSync(join(tmpdir(), 'kubelet-bg-'));
  // Renewals every quarter of the lease: 500 ms instead of 10 s.
  leaseConfig = join(dir, 'kubelet.yaml');
  writeFileSync(leaseConfig, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeLeaseDurationSeconds: 2\ntracing:\n  samplingRatePerMillion: 1000000\n');
}, 30_000);

afterAll(async () => {
  await runtime?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startNode(mode: string, version = '1.35'): Promise<{ k: TestKubelet; probes: ProbeSeen[]; stop(): Promise<void> }> {
  receiver.clear();
  const door = await startFrontDoor();
  const k = await startTestKubelet(
    runtime,
    ['--config', leaseConfig, '--background-traffic', mode, '--kube-version', version, '--node-status-update-frequency', '500ms'],
    { node: { backoff: { initialMs: 300, maxMs: 1200 }, errorBackoffMs: 300, loops: { relistMs: 100, runtimeStatusMs: 300 }, probes: FAST_PROBES } },
    (api) => door.server(api.url),
  );
  return {
    k,
    probes: door.probes,
    async stop() {
      await k.stop();
      await door.close();
    },
  };
}

const url = (s: ReadableSpan): string => String(s.attributes['url.full'] ?? s.attributes['http.url'] ?? '');
const roots = (spans: readonly ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name && s.parentSpanContext === undefined);

describe('--background-traffic full', () => {
  let node: Awaited<ReturnType<typeof startNode>>;
  beforeAll(async () => {
    node = await startNode('full', '1.27');
  }, 30_000);
  afterAll(async () => node?.stop());

  it('traces relists, runtime status, lease renewals and node status reads, each a root span', async () => {
    const spans = await until(() => {
      const s = node.k.exporter.getFinishedSpans();
      const leases = roots(s, 'HTTP PUT').filter((x) => url(x).includes('/leases/node-1')).length;
      const nodeReads = roots(s, 'HTTP GET').filter((x) => url(x).includes('/api/v1/nodes/node-1')).length;
      return leases >= 2 && nodeReads >= 1 && roots(s, 'runtime.v1.RuntimeService/Status').length >= 2 ? s : undefined;
    }, 15_000, 'lease renewals, node status reads, runtime status');
    const relists = node.k.kubelet.nodes[0]?.ctx.pleg.relists ?? 0;
    expect(roots(spans, 'runtime.v1.RuntimeService/ListPodSandbox').length).toBeGreaterThanOrEqual(Math.min(relists, 5));
    expect(roots(spans, 'runtime.v1.RuntimeService/ListContainers').length).toBeGreaterThanOrEqual(Math.min(relists, 5));
    for (const s of roots(spans, 'HTTP PUT')) expect(s.kind).toBe(2);
  });

  it('the control-plane node probes the apiserver: HTTP/1.1, kube-probe, no trace context', async () => {
    await until(() => node.probes.some((p) => p.path === '/livez') && node.probes.filter((p) => p.path === '/readyz').length >= 3, 10_000, 'probes');
    for (const p of node.probes) {
      expect(p.httpVersion).toBe('1.1');
      expect(p.headers['user-agent']).toBe('kube-probe/1.27');
      expect(p.headers['accept']).toBe('*/*');
      expect(p.headers['connection']).toBe('close');
      expect(p.headers['traceparent']).toBeUndefined();
    }
    // The prober makes no span of its own.
    expect(node.k.exporter.getFinishedSpans().some((s) => url(s).includes('/livez') || url(s).includes('/readyz'))).toBe(false);
  });
});

describe('--background-traffic low', () => {
  let node: Awaited<ReturnType<typeof startNode>>;
  beforeAll(async () => {
    node = await startNode('low');
  }, 30_000);
  afterAll(async () => node?.stop());

  it('traces one relist in ten and probes ten times less often', async () => {
    const started = Date.now();
    const pleg = node.k.kubelet.nodes[0]?.ctx.pleg;
    await until(() => (pleg?.relists ?? 0) >= 25, 15_000, '25 relists');
    const spans = node.k.exporter.getFinishedSpans();
    const traced = roots(spans, 'runtime.v1.RuntimeService/ListPodSandbox').length;
    const relists = pleg?.relists ?? 0;
    expect(traced).toBeGreaterThanOrEqual(Math.floor(relists / 10));
    expect(traced).toBeLessThanOrEqual(Math.ceil(relists / 10) + 1);
    // Housekeeping is still traced.
    expect(roots(spans, 'HTTP PUT').some((s) => url(s).includes('/leases/node-1'))).toBe(true);
    // containerd's server spans hang under the traced relists only.
    await new Promise((r) => setTimeout(r, 300));
    const serverLists = receiver.spans().filter((s) => s.name === 'runtime.v1.RuntimeService/ListPodSandbox');
    const kubeletIds = new Set(spans.map((s) => s.spanContext().spanId));
    expect(serverLists.length).toBeGreaterThanOrEqual(1);
    expect(serverLists.filter((s) => !kubeletIds.has(s.parentSpanId)).length).toBeLessThanOrEqual(1);
    const elapsed = Date.now() - started + 1000;
    expect(node.probes.filter((p) => p.path === '/readyz').length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 1);
  });
});

describe('--background-traffic off', () => {
  let node: Awaited<ReturnType<typeof startNode>>;
  // The runtime is shared: a span the previous node's last call left in its batch may still arrive.
  let since = 0n;
  beforeAll(async () => {
    since = BigInt(Date.now()) * 1_000_000n;
    node = await startNode('off');
  }, 30_000);
  afterAll(async () => node?.stop());

  it('leaves no background span, while relists and lease renewals go on untraced, and does not probe', async () => {
    const n = node.k.kubelet.nodes[0];
    await until(() => (n?.lease.renewals ?? 0) >= 3 && (n?.ctx.pleg.relists ?? 0) >= 10, 15_000, 'renewals and relists');
    expect(node.k.exporter.getFinishedSpans()).toEqual([]);
    expect(node.probes).toEqual([]);
    // The runtime follows the unsampled parent its calls carry: nothing there either.
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.spans().filter((s) => s.startTimeUnixNano >= since).map((s) => s.name)).toEqual([]);
    const leasePuts = node.k.api.requests.filter((r) => r.method === 'PUT' && r.path.includes('/leases/node-1'));
    expect(leasePuts.length).toBeGreaterThanOrEqual(2);
    for (const r of leasePuts) expect(r.headers['traceparent']).toBeUndefined();
  });

  it('a pod still gets its syncPod and status spans; its events and the relists that see it do not', async () => {
    node.k.api.put('pods/default/quiet', boundPod('quiet', 'node-1', { containers: [{ name: 'quiet', image: 'nginx:1.25' }] }));
    await until(() => node.k.api.objects('events/').length >= 4, 15_000, 'events posted');
    const spans = node.k.exporter.getFinishedSpans();
    const sync = spans.find((s) => s.name === 'syncPod');
    expect(sync).toBeDefined();
    expect(spans.some((s) => s.name === 'HTTP PATCH' && url(s).endsWith('/pods/quiet/status'))).toBe(true);
    expect(spans.some((s) => s.name === 'HTTP POST')).toBe(false);
    const syncIds = new Set(spans.filter((s) => s.name === 'syncPod').map((s) => s.spanContext().spanId));
    const criRoots = spans.filter((s) => s.name.startsWith('runtime.v1.') && !syncIds.has(s.parentSpanContext?.spanId ?? ''));
    expect(criRoots.map((s) => s.name)).toEqual([]);
  });
});

describe('probeOnce', () => {
  let https: Server;
  let seen: ProbeSeen[];
  beforeAll(async () => {
    seen = [];
    // A certificate from a CA the prober does not know: probes do not verify.
    const ca = await createCA('probe-test-ca');
    const cert = await issueCert(ca, { commonName: 'apiserver', ips: ['127.0.0.1'], usage: 'server' });
    https = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      seen.push({ path: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers });
      res.writeHead(req.url === '/readyz' ? 500 : 200);
      res.end('x');
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => https.close(() => r())));

  it('GETs over TLS without verifying, with the prober headers, and reports the status', async () => {
    const base = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
    expect(await probeOnce(base, '/livez', 'kube-probe/1.35')).toBe(200);
    expect(await probeOnce(base, '/readyz', 'kube-probe/1.35')).toBe(500);
    expect(seen.map((s) => [s.path, s.httpVersion, s.headers['user-agent'], s.headers['accept']])).toEqual([
      ['/livez', '1.1', 'kube-probe/1.35', '*/*'],
      ['/readyz', '1.1', 'kube-probe/1.35', '*/*'],
    ]);
  });

  it('a refused connection is a failed probe, not an exception', async () => {
    expect(await probeOnce('http://127.0.0.1:1', '/livez', 'kube-probe/1.35', 1000)).toBeUndefined();
  });
});
