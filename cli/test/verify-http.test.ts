import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, issueCert, type KeyPair } from '../../shared/src/pki.js';
import type { ManifestLine, ManifestSpan } from '../../shared/src/manifest.js';
import { freePort, startProcess } from '../../shared/src/testing/index.js';

/**
 * `k8s-trace-sim verify` as a process against small fake backends that answer
 * as Jaeger v2 and Tempo do: 404 until a trace is there, spans in pieces,
 * tenants, TLS.
 */

const T1 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T2 = '0af7651916cd43dd8448eb211c80319c';
const A = '00f067aa0ba902b7';
const B = '53995c3f42cd8ad8';
const C = 'b7ad6b7169203331';

const mspan = (spanId: string, parentSpanId: string, service: string, name: string, kind: number, attributes: ManifestSpan['attributes'] = {}): ManifestSpan => ({
  spanId,
  parentSpanId,
  name,
  kind,
  service,
  attributes,
});
const POST = mspan(A, '', 'apiserver', 'POST /api/v1/namespaces/{:namespace}/pods', 2, { 'audit-id': 'x-1', 'http.response.status_code': 201 });
const TXN = mspan(B, A, 'apiserver', 'etcdserverpb.KV/Txn', 3, { 'rpc.method': 'Txn' });
const TXN_ETCD = mspan(C, B, 'etcd', 'etcdserverpb.KV/Txn', 2, { 'rpc.method': 'Txn' });
const RANGE = mspan(C, '', 'etcd', 'etcdserverpb.KV/Range', 2, { 'rpc.method': 'Range' });

function writeManifest(lines: ManifestLine[], extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  const path = join(dir, 'sent.jsonl');
  writeFileSync(path, lines.map((l) => JSON.stringify(l) + '\n').join('') + extra);
  return path;
}

const now = Date.now();
const MANIFEST_LINES: ManifestLine[] = [
  { traceId: T1, service: 'apiserver', sentAt: now - 2000, spans: [POST, TXN] },
  { traceId: T2, service: 'etcd', sentAt: now - 1900, spans: [RANGE] },
  { traceId: T1, service: 'etcd', sentAt: now - 1800, spans: [TXN_ETCD] },
];

type Encode = 'hex' | 'base64';
const id = (hex: string, enc: Encode): string => (enc === 'hex' ? hex : Buffer.from(hex, 'hex').toString('base64'));
const attr = (v: unknown): Record<string, unknown> => (typeof v === 'number' ? { intValue: String(v) } : { stringValue: String(v) });

/** OTLP/JSON for some manifest spans, grouped per service as a backend returns them. */
function otlp(traceId: string, spans: ManifestSpan[], enc: Encode, wrap: 'jaeger' | 'tempo'): unknown {
  const services = [...new Set(spans.map((s) => s.service))];
  const resourceSpans = services.map((service) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeSpans: [
      {
        scope: {},
        spans: spans
          .filter((s) => s.service === service)
          .map((s) => ({
            traceId: id(traceId, enc),
            spanId: id(s.spanId, enc),
            ...(s.parentSpanId ? { parentSpanId: id(s.parentSpanId, enc) } : {}),
            name: s.name,
            kind: wrap === 'jaeger' ? s.kind : ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT'][s.kind],
            startTimeUnixNano: '1',
            endTimeUnixNano: '2',
            attributes: Object.entries(s.attributes).map(([key, v]) => ({ key, value: attr(v) })),
            status: {},
          })),
      },
    ],
  }));
  return wrap === 'jaeger' ? { result: { resourceSpans } } : { batches: resourceSpans };
}

interface Seen {
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}
type Handler = (req: Seen, count: number) => { status: number; body: unknown };

let servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

async function fakeBackend(handler: Handler, tls?: KeyPair): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const counts = new Map<string, number>();
  const listener: http.RequestListener = (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const s: Seen = { path: u.pathname, query: u.searchParams, headers: req.headers };
    seen.push(s);
    const n = (counts.get(u.pathname) ?? 0) + 1;
    counts.set(u.pathname, n);
    const { status, body } = handler(s, n);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, listener) : http.createServer(listener);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, seen };
}

const JAEGER_404 = { error: { httpCode: 404, message: 'trace not found' } };

async function verify(args: string[]): Promise<{ code: number | string; out: string; json: any }> {
  const p = startProcess(['verify', ...args]);
  const code = await p.exited;
  const out = p.output();
  let json: any;
  if (args.includes('json')) {
    const start = out.indexOf('{');
    json = start >= 0 ? JSON.parse(out.slice(start)) : undefined;
  }
  return { code, out, json };
}

describe('verify against a Jaeger v2 /api/v3 backend', () => {
  it('polls through 404s and partial answers until each trace is whole, then exits 0', async () => {
    const manifest = writeManifest(MANIFEST_LINES);
    const backend = await fakeBackend((req, n) => {
      if (req.path === `/jaeger/ui/api/v3/traces/${T1}`) {
        // Not there yet, then the apiserver's half, then everything.
        if (n <= 2) return { status: 404, body: JAEGER_404 };
        if (n === 3) return { status: 200, body: otlp(T1, [POST, TXN], 'hex', 'jaeger') };
        return { status: 200, body: otlp(T1, [POST, TXN, TXN_ETCD], 'hex', 'jaeger') };
      }
      if (req.path === `/jaeger/ui/api/v3/traces/${T2}`) return { status: 200, body: otlp(T2, [RANGE], 'hex', 'jaeger') };
      return { status: 404, body: JAEGER_404 };
    });
    const { code, out, json } = await verify(['--manifest', manifest, '--jaeger', `${backend.url}/jaeger/ui`, '--header', 'X-Scope-OrgID=team-a', '--output', 'json']);
    expect(code, out).toBe(0);
    expect(json.summary).toMatchObject({ traces: 2, found: 2, missing: 0, partial: 0, spansSent: 4, spansFound: 4, lossPercent: 0, ok: true });
    expect(json.summary.latency.count).toBe(2);
    expect(json.traces.map((t: any) => [t.traceId, t.status, t.foundSpans])).toEqual([
      [T1, 'found', 3],
      [T2, 'found', 1],
    ]);
    // T1 was asked for until whole (the first ask is the reachability probe); T2 once more after the probe.
    expect(backend.seen.filter((s) => s.path.endsWith(T1))).toHaveLength(4);
    for (const s of backend.seen) {
      expect(s.headers['x-scope-orgid']).toBe('team-a');
      expect(s.query.get('raw_traces')).toBe('true');
      const start = Date.parse(s.query.get('start_time') ?? '');
      const end = Date.parse(s.query.get('end_time') ?? '');
      expect(start).toBeLessThan(now - 2000);
      expect(end).toBeGreaterThan(now - 1800);
    }
  });

  it('reports the right trace missing, partial, re-parented and changed, with a text report, and exits 1', async () => {
    const T3 = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
    const T4 = 'ccccccccccccccccdddddddddddddddd';
    const manifest = writeManifest([
      ...MANIFEST_LINES,
      { traceId: T3, service: 'apiserver', sentAt: now - 1000, spans: [POST, TXN] },
      { traceId: T4, service: 'apiserver', sentAt: now - 1000, spans: [POST] },
    ]);
    const backend = await fakeBackend((req) => {
      if (req.path.endsWith(T1)) return { status: 200, body: otlp(T1, [POST, TXN], 'hex', 'jaeger') };
      if (req.path.endsWith(T3)) return { status: 200, body: otlp(T3, [POST, { ...TXN, parentSpanId: '' }], 'hex', 'jaeger') };
      if (req.path.endsWith(T4)) return { status: 200, body: otlp(T4, [{ ...POST, attributes: { 'audit-id': 'x-2', 'http.response.status_code': 201 } }], 'hex', 'jaeger') };
      return { status: 404, body: JAEGER_404 };
    });
    const { code, out } = await verify(['--manifest', manifest, '--query', backend.url, '--timeout', '1s']);
    expect(code, out).toBe(1);
    expect(out).toContain(`checking 4 traces (7 spans) from ${manifest} against query ${backend.url}`);
    expect(out).toMatch(new RegExp(`^partial +${T1}  2/3 spans  apiserver POST /api/v1/namespaces/\\{:namespace\\}/pods$`, 'm'));
    expect(out).toContain(`    missing: etcd etcdserverpb.KV/Txn ${C}`);
    expect(out).toMatch(new RegExp(`^missing +${T2}  0/1 spans  etcd etcdserverpb.KV/Range$`, 'm'));
    expect(out).toMatch(new RegExp(`^wrong parent +${T3}  2/2 spans`, 'm'));
    expect(out).toContain(`    wrong parent: apiserver etcdserverpb.KV/Txn ${B} has parent (none), want ${A}`);
    expect(out).toMatch(new RegExp(`^wrong attribute +${T4}  1/1 spans`, 'm'));
    expect(out).toContain(`audit-id = "x-2", want "x-1"`);
    expect(out).toContain('FAIL: 4 traces: 0 found, 1 missing, 1 partial, 1 wrong parent, 1 wrong attribute, 0 not sent; spans: 5/7 found, 28.57% lost after send, 0 dropped before send');
  });

  it('tells spans dropped before send from spans lost after', async () => {
    const manifest = writeManifest([
      { traceId: T1, service: 'apiserver', sentAt: now, spans: [POST, TXN] },
      { type: 'failed', traceId: T1, service: 'etcd', sentAt: now, error: '14 UNAVAILABLE: connection refused', spans: [TXN_ETCD] },
      { type: 'failed', traceId: T2, service: 'etcd', sentAt: now, error: '14 UNAVAILABLE: connection refused', spans: [RANGE] },
    ]);
    const backend = await fakeBackend(() => ({ status: 200, body: otlp(T1, [POST, TXN], 'hex', 'jaeger') }));
    const { code, out } = await verify(['--manifest', manifest, '--query', backend.url, '--timeout', '1s']);
    expect(code, out).toBe(1);
    expect(out).toMatch(new RegExp(`^found +${T1}  2/2 spans`, 'm'));
    expect(out).toContain(`    dropped before send: etcd etcdserverpb.KV/Txn ${C}`);
    expect(out).toContain('    (the export failed: 14 UNAVAILABLE: connection refused)');
    expect(out).toMatch(new RegExp(`^not sent +${T2}  0/0 spans`, 'm'));
    expect(out).toContain('FAIL: 2 traces: 1 found, 0 missing, 0 partial, 0 wrong parent, 0 wrong attribute, 1 not sent; spans: 2/2 found, 0% lost after send, 2 dropped before send');
    // The trace nothing of which was sent is never asked for.
    expect(backend.seen.filter((s) => s.path.endsWith(T2))).toEqual([]);
  });

  it('filters by --service, --since and --limit', async () => {
    const manifest = writeManifest([
      { traceId: T1, service: 'apiserver', sentAt: now - 3_600_000, spans: [POST] },
      { traceId: T2, service: 'etcd', sentAt: now, spans: [RANGE] },
    ]);
    const backend = await fakeBackend((req) =>
      req.path.endsWith(T2) ? { status: 200, body: otlp(T2, [RANGE], 'hex', 'jaeger') } : { status: 404, body: JAEGER_404 },
    );
    for (const filter of [['--service', 'etcd'], ['--since', '10m'], ['--limit', '1']]) {
      const { code, json, out } = await verify(['--manifest', manifest, '--query', backend.url, '--output', 'json', '--timeout', '1s', ...filter]);
      expect(code, out).toBe(0);
      expect(json.traces.map((t: any) => t.traceId)).toEqual([T2]);
    }
    const none = await verify(['--manifest', manifest, '--query', backend.url, '--service', 'kubelet']);
    expect(none.code).toBe(2);
    expect(none.out).toContain(`none of the 2 traces in ${manifest} matches --since/--service`);
  });
});

describe('verify against Tempo', () => {
  it('reads /api/traces/<id> (base64 ids, named kinds) with Accept: application/json and the tenant header', async () => {
    const manifest = writeManifest(MANIFEST_LINES);
    const backend = await fakeBackend((req) => {
      if (req.headers['x-scope-orgid'] !== 'tenant-1') return { status: 401, body: 'no org id\n' };
      if (req.path === `/api/traces/${T1}`) return { status: 200, body: otlp(T1, [POST, TXN, TXN_ETCD], 'base64', 'tempo') };
      if (req.path === `/api/traces/${T2}`) return { status: 200, body: otlp(T2, [RANGE], 'base64', 'tempo') };
      return { status: 404, body: 'trace not found\n' };
    });
    const ok = await verify(['--manifest', manifest, '--tempo', backend.url, '--header', 'X-Scope-OrgID=tenant-1', '--output', 'json']);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.json.summary).toMatchObject({ found: 2, ok: true });
    expect(backend.seen.every((s) => s.headers.accept === 'application/json' && s.query.toString() === '')).toBe(true);

    // Without the tenant, Tempo refuses: that is a setup error, not a loss.
    const refused = await verify(['--manifest', manifest, '--tempo', backend.url]);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain(`Error: cannot query tempo at ${backend.url}: GET ${backend.url}/api/traces/${T1}: HTTP 401: no org id`);
  });
});

describe('verify over TLS', () => {
  let ca: KeyPair;
  let serving: KeyPair;
  let caFile: string;
  beforeAll(async () => {
    ca = await createCA('verify-test-ca');
    serving = await issueCert(ca, { commonName: 'backend', ips: ['127.0.0.1'], usage: 'server' });
    caFile = join(mkdtempSync(join(tmpdir(), 'verify-ca-')), 'ca.crt');
    writeFileSync(caFile, ca.cert);
  });

  it('trusts --ca-file, refuses an unknown CA, and skips checks only when asked', async () => {
    const manifest = writeManifest([MANIFEST_LINES[1] as ManifestLine]);
    const backend = await fakeBackend(() => ({ status: 200, body: otlp(T2, [RANGE], 'hex', 'jaeger') }), serving);
    const trusted = await verify(['--manifest', manifest, '--jaeger', backend.url, '--ca-file', caFile]);
    expect(trusted.code, trusted.out).toBe(0);
    expect(trusted.out).toContain('OK: 1 traces: 1 found');
    const untrusted = await verify(['--manifest', manifest, '--jaeger', backend.url]);
    expect(untrusted.code).toBe(2);
    expect(untrusted.out).toMatch(/Error: cannot query jaeger at https:\/\/127\.0\.0\.1:\d+: GET .*: .*(self-signed|unable to verify|local issuer)/);
    const skipped = await verify(['--manifest', manifest, '--jaeger', backend.url, '--insecure-skip-verify']);
    expect(skipped.code, skipped.out).toBe(0);
  });
});

describe('verify errors (exit 2)', () => {
  it('an unreachable backend', async () => {
    const manifest = writeManifest(MANIFEST_LINES);
    const port = await freePort();
    const { code, out } = await verify(['--manifest', manifest, '--query', `http://127.0.0.1:${port}`]);
    expect(code).toBe(2);
    expect(out).toContain(`Error: cannot query the built-in receiver at http://127.0.0.1:${port}: GET http://127.0.0.1:${port}/api/v3/traces/${T1}: connect ECONNREFUSED 127.0.0.1:${port} (is \`k8s-trace-sim up\` running?`);
  });

  it.each<[string, string[] | ((dir: string) => string[]), string]>([
    ['no manifest in the data dir', (dir) => ['--data-dir', dir], 'sent.jsonl: run `k8s-trace-sim up` first'],
    ['a manifest with a broken line', () => ['--manifest', writeManifest(MANIFEST_LINES, 'oops\n' + JSON.stringify(MANIFEST_LINES[0]) + '\n')], 'sent.jsonl:4: not JSON'],
    ['an empty manifest', () => ['--manifest', writeManifest([])], 'lists no traces: nothing was exported yet'],
    ['two backends', ['--jaeger', 'http://a', '--tempo', 'http://b'], '--jaeger, --tempo: give one backend'],
    ['a bad header', ['--header', 'X-Scope-OrgID'], 'invalid --header "X-Scope-OrgID"'],
    ['a bad output', ['--output', 'yaml'], 'invalid --output "yaml"'],
    ['a bad --since', ['--since', 'last week'], 'invalid --since "last week"'],
    ['an unknown flag', ['--jaegr', 'x'], 'unknown flag: --jaegr'],
    ['a bad URL', () => ['--manifest', writeManifest(MANIFEST_LINES), '--tempo', 'tempo:3200'], 'invalid backend URL "tempo:3200"'],
  ])('%s', async (_name, args, msg) => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-empty-'));
    const { code, out } = await verify(typeof args === 'function' ? args(dir) : args);
    expect(code).toBe(2);
    expect(out).toContain(msg);
  });
});
