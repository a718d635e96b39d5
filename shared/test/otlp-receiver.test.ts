import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, trace, ROOT_CONTEXT } from '@opentelemetry/api';
import {
  invalidSpanReason,
  loadProto,
  lookupService,
  parentBasedAlwaysOn,
  startOtlpReceiver,
  startTracing,
  type OtlpReceiver,
} from '../src/index.js';

let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function exportClient(endpoint: string): {
  exportRaw(req: unknown): Promise<{ partialSuccess?: { rejectedSpans: string; errorMessage: string } | null }>;
  close(): void;
} {
  const Svc = lookupService(loadProto('otlp/trace_service.proto'), 'opentelemetry.proto.collector.trace.v1.TraceService');
  const client = new Svc(endpoint, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Export(req: unknown, cb: (err: grpc.ServiceError | null, res: never) => void): void;
  };
  return {
    exportRaw: (req) => new Promise((resolve, reject) => client.Export(req, (err, res) => (err ? reject(err) : resolve(res)))),
    close: () => client.close(),
  };
}

const id = (hexStr: string): Buffer => Buffer.from(hexStr, 'hex');

describe('OTLP receiver', () => {
  it('receives what the SDK exporter sends, with the exact resource, scope, kinds, types, events and links', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    receiver = await startOtlpReceiver({ tracesFile: join(dir, 'traces.jsonl') });
    const tracing = startTracing({
      enabled: true,
      resource: { 'service.name': 'etcd' },
      endpoint: receiver.endpoint,
      sampler: parentBasedAlwaysOn(),
      processor: 'simple',
      env: {},
    });
    const tracer = tracing.tracer('scope-a', '1.2.3');
    const parent = tracer.startSpan('parent', { kind: SpanKind.CLIENT });
    const child = tracer.startSpan(
      'child',
      { kind: SpanKind.SERVER, attributes: { s: 'x', i: 7, b: true, d: 1.5, arr: ['a', 'b'] }, links: [{ context: parent.spanContext() }] },
      trace.setSpan(ROOT_CONTEXT, parent),
    );
    child.addEvent('message', { 'message.type': 'SENT', 'message.id': 1 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end();
    parent.end();
    await tracing.shutdown();
    const spans = await receiver.waitForSpans((s) => s.length === 2);
    const c = spans.find((s) => s.name === 'child');
    const p = spans.find((s) => s.name === 'parent');
    expect(c && p).toBeTruthy();
    expect(c!.parentSpanId).toBe(p!.spanId);
    expect(c!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(c!.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(p!.parentSpanId).toBe('');
    expect(c!.kind).toBe(2);
    expect(p!.kind).toBe(3);
    expect(c!.attributes).toEqual({ s: 'x', i: 7, b: true, d: 1.5, arr: ['a', 'b'] });
    expect(c!.events.map((e) => [e.name, e.attributes])).toEqual([['message', { 'message.type': 'SENT', 'message.id': 1 }]]);
    expect(c!.links).toEqual([{ traceId: p!.traceId, spanId: p!.spanId, attributes: {} }]);
    expect(c!.status).toEqual({ code: 2, message: 'boom' });
    // Nothing from the Node SDK's default resource: that would be a tell.
    expect(c!.resource).toEqual({ 'service.name': 'etcd' });
    expect(c!.scope).toEqual({ name: 'scope-a', version: '1.2.3' });
    expect(c!.endTimeUnixNano >= c!.startTimeUnixNano).toBe(true);
    expect(receiver.stats()).toMatchObject({ spansAccepted: 2, spansRejected: 0 });

    await receiver.close();
    const lines = readFileSync(join(dir, 'traces.jsonl'), 'utf8').trim().split('\n');
    const json = lines.map((l) => JSON.parse(l) as { resourceSpans: Array<Record<string, any>> });
    const jsonSpans = json.flatMap((j) => j.resourceSpans.flatMap((rs) => rs['scopeSpans'].flatMap((ss: any) => ss.spans)));
    const jc = jsonSpans.find((s: any) => s.name === 'child');
    // The Collector's file exporter encoding: hex ids, int64 as strings, enums as integers.
    expect(jc.traceId).toBe(c!.traceId);
    expect(jc.parentSpanId).toBe(p!.spanId);
    expect(jc.kind).toBe(2);
    expect(jc.status).toEqual({ message: 'boom', code: 2 });
    expect(typeof jc.startTimeUnixNano).toBe('string');
    expect(jc.attributes).toContainEqual({ key: 'i', value: { intValue: '7' } });
    expect(jc.attributes).toContainEqual({ key: 'd', value: { doubleValue: 1.5 } });
    expect(json[0]!.resourceSpans[0]!['resource']).toEqual({ attributes: [{ key: 'service.name', value: { stringValue: 'etcd' } }] });
    receiver = undefined;
  });

  it('reports rejected spans through partial_success and keeps the valid ones', async () => {
    receiver = await startOtlpReceiver();
    const client = exportClient(receiver.endpoint);
    const good = { traceId: id('0af7651916cd43dd8448eb211c80319c'), spanId: id('b7ad6b7169203331'), name: 'ok', kind: 2 };
    const badTrace = { traceId: id('00000000000000000000000000000000'), spanId: id('b7ad6b7169203332'), name: 'bad' };
    const badSpan = { traceId: id('0af7651916cd43dd8448eb211c80319c'), spanId: id('b7ad'), name: 'bad2' };
    const res = await client.exportRaw({ resourceSpans: [{ scopeSpans: [{ spans: [good, badTrace, badSpan] }] }] });
    expect(res.partialSuccess?.rejectedSpans).toBe('2');
    expect(res.partialSuccess?.errorMessage).toContain('invalid trace id');
    expect(res.partialSuccess?.errorMessage).toContain('invalid span id');
    expect(receiver.spans().map((s) => s.name)).toEqual(['ok']);
    const clean = await client.exportRaw({ resourceSpans: [{ scopeSpans: [{ spans: [{ ...good, spanId: id('b7ad6b7169203339') }] }] }] });
    // Fully accepted: partial_success stays unset, as the OTLP spec asks.
    expect(clean.partialSuccess ?? null).toBeNull();
    expect(receiver.stats()).toMatchObject({ exportRequests: 2, spansAccepted: 2, spansRejected: 2 });
    client.close();
  });

  it('evicts whole oldest traces beyond maxSpans', async () => {
    receiver = await startOtlpReceiver({ maxSpans: 3 });
    const client = exportClient(receiver.endpoint);
    const span = (t: string, s: string) => ({ traceId: id(t.repeat(32)), spanId: id(s.repeat(16)), name: `${t}${s}` });
    await client.exportRaw({ resourceSpans: [{ scopeSpans: [{ spans: [span('a', '1'), span('a', '2')] }] }] });
    await client.exportRaw({ resourceSpans: [{ scopeSpans: [{ spans: [span('b', '1'), span('b', '2')] }] }] });
    expect(receiver.traceIds()).toEqual(['b'.repeat(32)]);
    expect(receiver.stats().spansEvicted).toBe(2);
    client.close();
  });
});

describe('OTLP receiver without the OTLP/JSON copy', () => {
  it('still holds, indexes and counts every span, and keeps no JSON', async () => {
    const r = await startOtlpReceiver({ keepOtlpJson: false });
    const client = exportClient(r.endpoint);
    const span = (t: string, s: string) => ({ traceId: id(t.repeat(32)), spanId: id(s.repeat(16)), name: `${t}${s}` });
    await client.exportRaw({
      resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'etcd' } }] }, scopeSpans: [{ spans: [span('a', '1'), span('a', '2')] }] }],
    });
    expect(r.spans().map((s) => s.name).sort()).toEqual(['a1', 'a2']);
    expect(r.services()).toEqual(['etcd']);
    expect(r.stats().spansAccepted).toBe(2);
    expect(r.otlpResourceSpans('a'.repeat(32))).toEqual([]);
    client.close();
    await r.close();
  });
});

describe('invalidSpanReason', () => {
  it.each([
    ['valid root', { traceId: id('01'.repeat(16)), spanId: id('02'.repeat(8)) }, undefined],
    ['valid child', { traceId: id('01'.repeat(16)), spanId: id('02'.repeat(8)), parentSpanId: id('03'.repeat(8)) }, undefined],
    ['empty parent buffer', { traceId: id('01'.repeat(16)), spanId: id('02'.repeat(8)), parentSpanId: Buffer.alloc(0) }, undefined],
    ['no trace id', { spanId: id('02'.repeat(8)) }, 'invalid trace id'],
    ['zero trace id', { traceId: Buffer.alloc(16), spanId: id('02'.repeat(8)) }, 'invalid trace id'],
    ['short trace id', { traceId: id('01'.repeat(8)), spanId: id('02'.repeat(8)) }, 'invalid trace id'],
    ['zero span id', { traceId: id('01'.repeat(16)), spanId: Buffer.alloc(8) }, 'invalid span id'],
    ['long span id', { traceId: id('01'.repeat(16)), spanId: id('02'.repeat(9)) }, 'invalid span id'],
    ['short parent', { traceId: id('01'.repeat(16)), spanId: id('02'.repeat(8)), parentSpanId: id('03') }, 'invalid parent span id'],
  ])('%s', (_name, span, want) => {
    expect(invalidSpanReason(span)).toBe(want);
  });
});
