import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AlwaysOnSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../src/tracing.js';
import {
  keyAttributes,
  ManifestError,
  mergeManifest,
  parseManifest,
  SENT_FILE_ENV,
  type ManifestLine,
  type ManifestSpan,
} from '../src/manifest.js';

/** An exporter that acknowledges, or fails, every batch. */
class FakeExporter implements SpanExporter {
  batches: ReadableSpan[][] = [];
  constructor(private readonly fail: Error | undefined) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.batches.push(spans);
    done(this.fail ? { code: ExportResultCode.FAILED, error: this.fail } : { code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

function readLines(path: string): ManifestLine[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ManifestLine);
}

/** Two traces through one provider: a SERVER root with an INTERNAL error child, and a lone CLIENT root. */
async function exportTwoTraces(opts: { file: string | undefined; fail?: Error; service?: string }): Promise<FakeExporter> {
  const exporter = new FakeExporter(opts.fail);
  const tracing = startTracing({
    resource: { 'service.name': opts.service ?? 'apiserver' },
    enabled: true,
    sampler: new AlwaysOnSampler(),
    exporter,
    processor: 'batch',
    env: opts.file ? { [SENT_FILE_ENV]: opts.file } : {},
  });
  const tracer = tracing.tracer('test');
  const root = tracer.startSpan('POST /api/v1/namespaces/{:namespace}/pods', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'url.path': '/api/v1/namespaces/default/pods', 'http.response.status_code': 201, 'audit-id': 'a-1', 'user_agent.original': 'kubectl/v1.35' },
  });
  const child = tracer.startSpan('Create', { attributes: { verb: 'create', resource: 'pods', 'long': 'x'.repeat(300) } }, trace.setSpan(context.active(), root));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  root.end();
  tracer.startSpan('etcdserverpb.KV/Range', { kind: SpanKind.CLIENT, attributes: { 'rpc.method': 'Range', 'rpc.service': 'etcdserverpb.KV' } }).end();
  // The batch processor's flush rejects when the export failed; the manifest is what is under test.
  await tracing.shutdown().catch((err: unknown) => {
    if (!opts.fail) throw err;
  });
  return exporter;
}

describe('the sent manifest, as startTracing writes it', () => {
  it('appends one line per trace after a successful export, with the key attributes only', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'manifest-')), 'sub', 'sent.jsonl');
    const before = Date.now();
    const exporter = await exportTwoTraces({ file });
    expect(exporter.batches.flat()).toHaveLength(3);
    const lines = readLines(file);
    expect(lines).toHaveLength(2);
    const [first, second] = lines as [ManifestLine, ManifestLine];
    expect(first.type).toBeUndefined();
    expect(first.service).toBe('apiserver');
    expect(first.sentAt).toBeGreaterThanOrEqual(before);
    expect(first.sentAt).toBeLessThanOrEqual(Date.now());
    const [create, post] = first.spans as [ManifestSpan, ManifestSpan];
    // Children end first, so the batch holds them first.
    expect(create).toEqual({
      spanId: create.spanId,
      parentSpanId: post.spanId,
      name: 'Create',
      kind: 1,
      service: 'apiserver',
      attributes: { verb: 'create', resource: 'pods' },
      status: 2,
    });
    expect(post).toEqual({
      spanId: post.spanId,
      parentSpanId: '',
      name: 'POST /api/v1/namespaces/{:namespace}/pods',
      kind: 2,
      service: 'apiserver',
      attributes: { 'http.request.method': 'POST', 'url.path': '/api/v1/namespaces/default/pods', 'http.response.status_code': 201, 'audit-id': 'a-1' },
    });
    expect(second.spans).toEqual([
      expect.objectContaining({ name: 'etcdserverpb.KV/Range', kind: 3, parentSpanId: '', attributes: { 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Range' } }),
    ]);
    expect(second.traceId).not.toBe(first.traceId);
    // What the exporter really sent is what the manifest says.
    const sentIds = exporter.batches.flat().map((s) => s.spanContext().spanId).sort();
    expect(lines.flatMap((l) => l.spans.map((s) => s.spanId)).sort()).toEqual(sentIds);
  });

  it('writes a failed line, with the reason, for an export that failed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'manifest-')), 'sent.jsonl');
    await exportTwoTraces({ file, fail: new Error('14 UNAVAILABLE: No connection established') });
    const lines = readLines(file);
    expect(lines.map((l) => [l.type, l.error, l.spans.length])).toEqual([
      ['failed', '14 UNAVAILABLE: No connection established', 2],
      ['failed', '14 UNAVAILABLE: No connection established', 1],
    ]);
  });

  it('never fails an export because the manifest cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    // A directory where the file should be: open(2) fails with EISDIR.
    const exporter = await exportTwoTraces({ file: dir });
    expect(exporter.batches.flat()).toHaveLength(3);
  });

  it('several writers append to one file without tearing lines', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'manifest-')), 'sent.jsonl');
    await Promise.all(['etcd', 'kubelet', 'containerd', 'webhook'].map((service) => exportTwoTraces({ file, service })));
    const lines = readLines(file);
    expect(lines).toHaveLength(8);
    expect(new Set(lines.map((l) => l.service))).toEqual(new Set(['etcd', 'kubelet', 'containerd', 'webhook']));
  });
});

describe('keyAttributes', () => {
  it.each([
    [{ 'k8s.pod.name': 'demo', 'k8s.pod': 'default/demo', 'net.peer.ip': '10.0.0.1' }, { 'k8s.pod': 'default/demo', 'k8s.pod.name': 'demo' }],
    [{ 'rpc.grpc.status_code': 0, 'rpc.method': 'Txn', 'message.type': 'SENT' }, { 'rpc.method': 'Txn', 'rpc.grpc.status_code': 0 }],
    [{ 'http.target': '/x?' + 'a'.repeat(300) }, {}],
    [{ 'url.full': 'https://127.0.0.1:6443/api/v1/nodes/node-1' }, { 'url.full': 'https://127.0.0.1:6443/api/v1/nodes/node-1' }],
    [{ resource: 'pods', verb: 'get', accept: 'application/json' }, { verb: 'get', resource: 'pods' }],
    [{}, {}],
  ])('%j → %j', (attrs, want) => {
    expect(keyAttributes(attrs)).toEqual(want);
  });
});

const T1 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T2 = '0af7651916cd43dd8448eb211c80319c';
const sp = (spanId: string, parentSpanId = '', service = 'apiserver', name = 'x'): ManifestSpan => ({ spanId, parentSpanId, name, kind: 1, service, attributes: {} });
const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const C = 'cccccccccccccccc';

describe('parseManifest', () => {
  const good = JSON.stringify({ traceId: T1, service: 'etcd', sentAt: 5, spans: [sp(A)] });
  it('reads lines, skipping blank ones', () => {
    expect(parseManifest(`${good}\n\n${good}\n`)).toHaveLength(2);
  });
  it('skips a last line still being written', () => {
    expect(parseManifest(`${good}\n{"traceId":"4bf9`)).toHaveLength(1);
  });
  it('fills in what an older or hand-written line leaves out', () => {
    const [line] = parseManifest(JSON.stringify({ traceId: T1, service: 'etcd', sentAt: 5, spans: [{ spanId: A, name: 'n' }] }));
    expect(line?.spans[0]).toEqual({ spanId: A, parentSpanId: '', name: 'n', kind: 0, service: 'etcd', attributes: {} });
  });
  it.each([
    ['not json\n', 'm.jsonl:1: not JSON'],
    [`${good}\n[1]\n`, 'm.jsonl:2: not a JSON object'],
    ['{"traceId":"xyz","sentAt":1,"spans":[]}\n', 'm.jsonl:1: traceId is not 32 lowercase hex digits'],
    [`{"traceId":"${T1}","spans":[]}\n`, 'm.jsonl:1: sentAt is not a number of milliseconds'],
    [`{"traceId":"${T1}","sentAt":1}\n`, 'm.jsonl:1: spans is not an array'],
    [`{"traceId":"${T1}","sentAt":1,"spans":[{"spanId":"12","name":"a"}]}\n`, 'm.jsonl:1: spans[0].spanId is not 16 lowercase hex digits'],
    [`{"traceId":"${T1}","sentAt":1,"spans":[{"spanId":"${A}","parentSpanId":"zz","name":"a"}]}\n`, 'm.jsonl:1: spans[0].parentSpanId'],
    [`{"traceId":"${T1}","sentAt":1,"spans":[{"spanId":"${A}"}]}\n`, 'm.jsonl:1: spans[0].name is not a string'],
    [`{"type":"lost","traceId":"${T1}","sentAt":1,"spans":[]}\n`, 'm.jsonl:1: unknown type "lost"'],
  ])('rejects %j', (text, msg) => {
    expect(() => parseManifest(text, 'm.jsonl')).toThrow(ManifestError);
    expect(() => parseManifest(text, 'm.jsonl')).toThrow(msg);
  });
});

describe('mergeManifest', () => {
  const line = (traceId: string, service: string, sentAt: number, spans: ManifestSpan[], failed?: string): ManifestLine => ({
    ...(failed ? { type: 'failed' as const, error: failed } : {}),
    traceId,
    service,
    sentAt,
    spans,
  });
  it.each<[string, ManifestLine[], Array<{ traceId: string; services: string[]; first: number; last: number; spans: string[]; unsent: string[]; errors: string[] }>]>([
    ['one line', [line(T1, 'apiserver', 10, [sp(A), sp(B, A)])], [{ traceId: T1, services: ['apiserver'], first: 10, last: 10, spans: [A, B], unsent: [], errors: [] }]],
    [
      'a trace over three processes is the union of its lines',
      [line(T1, 'apiserver', 10, [sp(A)]), line(T2, 'kubelet', 11, [sp(C)]), line(T1, 'etcd', 12, [sp(B, A, 'etcd')]), line(T1, 'kubelet', 30, [sp(C, A, 'kubelet')])],
      [
        { traceId: T1, services: ['apiserver', 'etcd', 'kubelet'], first: 10, last: 30, spans: [A, B, C], unsent: [], errors: [] },
        { traceId: T2, services: ['kubelet'], first: 11, last: 11, spans: [C], unsent: [], errors: [] },
      ],
    ],
    ['a span recorded twice counts once', [line(T1, 'etcd', 10, [sp(A)]), line(T1, 'etcd', 11, [sp(A)])], [{ traceId: T1, services: ['etcd'], first: 10, last: 11, spans: [A], unsent: [], errors: [] }]],
    [
      'a failed export is kept apart, with its reason',
      [line(T1, 'apiserver', 10, [sp(A)]), line(T1, 'etcd', 12, [sp(B, A, 'etcd')], 'UNAVAILABLE')],
      [{ traceId: T1, services: ['apiserver', 'etcd'], first: 10, last: 12, spans: [A], unsent: [B], errors: ['UNAVAILABLE'] }],
    ],
    [
      'a span that failed and then went out counts as sent, in either order',
      [line(T1, 'etcd', 10, [sp(A)], 'DEADLINE_EXCEEDED'), line(T1, 'etcd', 12, [sp(A), sp(B)]), line(T1, 'etcd', 13, [sp(B)], 'UNAVAILABLE')],
      [{ traceId: T1, services: ['etcd'], first: 10, last: 13, spans: [A, B], unsent: [], errors: ['DEADLINE_EXCEEDED', 'UNAVAILABLE'] }],
    ],
    ['a trace that only failed has nothing expected', [line(T2, 'webhook', 5, [sp(A)], 'x')], [{ traceId: T2, services: ['webhook'], first: 5, last: 5, spans: [], unsent: [A], errors: ['x'] }]],
    ['nothing', [], []],
  ])('%s', (_name, lines, want) => {
    const got = mergeManifest(lines).map((t) => ({
      traceId: t.traceId,
      services: [...t.services],
      first: t.firstSentAt,
      last: t.lastSentAt,
      spans: t.spans.map((s) => s.spanId),
      unsent: t.unsent.map((s) => s.spanId),
      errors: [...t.errors],
    }));
    expect(got).toEqual(want);
  });
});
