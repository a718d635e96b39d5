import { describe, expect, it } from 'vitest';
import type { ExpectedTrace, ManifestSpan } from '../../shared/src/manifest.js';
import {
  compareTrace,
  fetchedSpans,
  normalizeId,
  percentile,
  summarize,
  type FetchedSpan,
  type TraceResult,
  type TraceStatus,
} from '../src/verify-compare.js';
import { pollTraces } from '../src/verify-poll.js';
import { parseHeaders, traceUrl } from '../src/verify-backend.js';
import { chooseBackend, formatSummary, formatTrace, parseSince, selectTraces } from '../src/verify.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const ROOT = '00f067aa0ba902b7';
const CHILD = '53995c3f42cd8ad8';
const ETCD = 'b7ad6b7169203331';

const mspan = (spanId: string, parentSpanId: string, service: string, name: string, kind: number, attributes: ManifestSpan['attributes'] = {}, status?: number): ManifestSpan => ({
  spanId,
  parentSpanId,
  name,
  kind,
  service,
  attributes,
  ...(status !== undefined ? { status } : {}),
});

const POST = mspan(ROOT, '', 'apiserver', 'POST /api/v1/namespaces/{:namespace}/pods', 2, { 'http.response.status_code': 201, 'audit-id': 'a-1' });
const TXN_CLIENT = mspan(CHILD, ROOT, 'apiserver', 'etcdserverpb.KV/Txn', 3, { 'rpc.method': 'Txn' });
const TXN_SERVER = mspan(ETCD, CHILD, 'etcd', 'etcdserverpb.KV/Txn', 2, { 'rpc.method': 'Txn', 'rpc.grpc.status_code': 0 });

function expected(spans: ManifestSpan[], unsent: ManifestSpan[] = [], extra: Partial<ExpectedTrace> = {}): ExpectedTrace {
  return {
    traceId: TID,
    services: [...new Set([...spans, ...unsent].map((s) => s.service))].sort(),
    firstSentAt: 1000,
    lastSentAt: 2000,
    spans,
    unsent,
    errors: unsent.length > 0 ? ['14 UNAVAILABLE'] : [],
    ...extra,
  };
}

/** The fetched form of a manifest span, with changes. */
const got = (s: ManifestSpan, change: Partial<FetchedSpan> = {}): FetchedSpan => ({
  traceId: TID,
  spanId: s.spanId,
  parentSpanId: s.parentSpanId,
  name: s.name,
  kind: s.kind,
  service: s.service,
  attributes: { ...s.attributes, 'net.peer.port': 2379 },
  status: s.status ?? 0,
  ...change,
});

// Jaeger v2's GET /api/v3/traces/{id}: numeric kind and status, hex ids, int64 as strings, resource per process.
const JAEGER_TRACE = {
  result: {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'apiserver' } }] },
        scopeSpans: [
          {
            scope: { name: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp', version: '0.61.0' },
            spans: [
              {
                traceId: TID,
                spanId: ROOT,
                name: 'POST /api/v1/namespaces/{:namespace}/pods',
                kind: 2,
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000000021000000',
                attributes: [
                  { key: 'http.response.status_code', value: { intValue: '201' } },
                  { key: 'audit-id', value: { stringValue: 'a-1' } },
                ],
                status: {},
              },
              {
                traceId: TID,
                spanId: CHILD,
                parentSpanId: ROOT,
                name: 'etcdserverpb.KV/Txn',
                kind: 3,
                startTimeUnixNano: '1700000000001000000',
                endTimeUnixNano: '1700000000005000000',
                attributes: [{ key: 'rpc.method', value: { stringValue: 'Txn' } }],
                status: { code: 2, message: 'x' },
              },
            ],
          },
        ],
      },
    ],
  },
};

// Tempo's GET /api/traces/<id>: "batches", base64 ids, named enums.
const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
const TEMPO_TRACE = {
  batches: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'etcd' } }] },
      scopeSpans: [
        {
          scope: { name: 'go.etcd.io/etcd' },
          spans: [
            {
              traceId: b64(TID),
              spanId: b64(ETCD),
              parentSpanId: b64(CHILD),
              name: 'etcdserverpb.KV/Txn',
              kind: 'SPAN_KIND_SERVER',
              attributes: [
                { key: 'rpc.method', value: { stringValue: 'Txn' } },
                { key: 'rpc.grpc.status_code', value: { intValue: '0' } },
                { key: 'sizes', value: { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }] } } },
                { key: 'ok', value: { boolValue: true } },
              ],
              status: { code: 'STATUS_CODE_OK' },
            },
          ],
        },
      ],
    },
  ],
};

// Older Tempo and Collector dumps: instrumentationLibrarySpans.
const OLD_OTLP = {
  resourceSpans: [{ resource: { attributes: [] }, instrumentationLibrarySpans: [{ spans: [{ traceId: TID, spanId: ETCD, name: 'n', kind: 1 }] }] }],
};

describe('fetchedSpans: every dialect of OTLP/JSON a backend answers', () => {
  it("reads Jaeger v2's /api/v3 answer", () => {
    expect(fetchedSpans(JAEGER_TRACE)).toEqual([
      { traceId: TID, spanId: ROOT, parentSpanId: '', name: 'POST /api/v1/namespaces/{:namespace}/pods', kind: 2, service: 'apiserver', attributes: { 'http.response.status_code': 201, 'audit-id': 'a-1' }, status: 0 },
      { traceId: TID, spanId: CHILD, parentSpanId: ROOT, name: 'etcdserverpb.KV/Txn', kind: 3, service: 'apiserver', attributes: { 'rpc.method': 'Txn' }, status: 2 },
    ]);
  });
  it("reads Tempo's batches with base64 ids and named enums", () => {
    expect(fetchedSpans(TEMPO_TRACE)).toEqual([
      {
        traceId: TID,
        spanId: ETCD,
        parentSpanId: CHILD,
        name: 'etcdserverpb.KV/Txn',
        kind: 2,
        service: 'etcd',
        attributes: { 'rpc.method': 'Txn', 'rpc.grpc.status_code': 0, sizes: [1, 2.5], ok: true },
        status: 1,
      },
    ]);
  });
  it('reads instrumentationLibrarySpans and Tempo v2 {"trace": …}', () => {
    expect(fetchedSpans(OLD_OTLP).map((s) => [s.spanId, s.kind, s.service])).toEqual([[ETCD, 1, '']]);
    expect(fetchedSpans({ trace: { resourceSpans: TEMPO_TRACE.batches } }).map((s) => s.spanId)).toEqual([ETCD]);
  });
  it.each([[null], ['x'], [{}], [{ result: {} }], [{ resourceSpans: 'no' }], [{ batches: [{ scopeSpans: [{ spans: null }] }] }]])('finds no spans in %j', (doc) => {
    expect(fetchedSpans(doc)).toEqual([]);
  });
});

describe('normalizeId', () => {
  it.each([
    [TID, 16, TID],
    [TID.toUpperCase(), 16, TID],
    [b64(TID), 16, TID],
    [ROOT, 8, ROOT],
    [b64(ROOT), 8, ROOT],
    // base64url, as some gateways write it
    [Buffer.from(ROOT, 'hex').toString('base64url'), 8, ROOT],
    ['', 8, ''],
    [undefined, 8, ''],
    ['nothex', 8, 'nothex'],
  ] as const)('%j (%d bytes) → %j', (id, bytes, want) => {
    expect(normalizeId(id, bytes)).toBe(want);
  });
});

describe('compareTrace', () => {
  const all = [POST, TXN_CLIENT, TXN_SERVER];
  it.each<[string, ExpectedTrace, FetchedSpan[], TraceStatus, Partial<Record<'missing' | 'parents' | 'attrs' | 'unsent', unknown>>]>([
    ['everything there (extra attributes and spans are fine)', expected(all), [...all.map((s) => got(s)), got(mspan('1111111111111111', ROOT, 'webhook', 'extra', 2))], 'found', {}],
    ['nothing there', expected(all), [], 'missing', { missing: [ROOT, CHILD, ETCD] }],
    ['spans of another trace do not count', expected(all), all.map((s) => got(s, { traceId: '0af7651916cd43dd8448eb211c80319c' })), 'missing', { missing: [ROOT, CHILD, ETCD] }],
    ['the etcd span lost', expected(all), [got(POST), got(TXN_CLIENT)], 'partial', { missing: [ETCD] }],
    ['a duplicate does not hide a loss', expected(all), [got(POST), got(POST), got(TXN_SERVER)], 'partial', { missing: [CHILD] }],
    ['a re-parented span', expected(all), [got(POST), got(TXN_CLIENT), got(TXN_SERVER, { parentSpanId: ROOT })], 'wrong-parent', { parents: [[ETCD, CHILD, ROOT]] }],
    ['a root that gained a parent', expected(all), [got(POST, { parentSpanId: ETCD }), got(TXN_CLIENT), got(TXN_SERVER)], 'wrong-parent', { parents: [[ROOT, '', ETCD]] }],
    ['a changed key attribute', expected(all), [got(POST, { attributes: { 'http.response.status_code': 500, 'audit-id': 'a-1' } }), got(TXN_CLIENT), got(TXN_SERVER)], 'wrong-attribute', { attrs: [[ROOT, 'http.response.status_code', 201, 500]] }],
    ['a key attribute dropped', expected(all), [got(POST), got(TXN_CLIENT, { attributes: {} }), got(TXN_SERVER)], 'wrong-attribute', { attrs: [[CHILD, 'rpc.method', 'Txn', undefined]] }],
    ['an int sent and a string stored', expected(all), [got(POST, { attributes: { 'http.response.status_code': '201', 'audit-id': 'a-1' } }), got(TXN_CLIENT), got(TXN_SERVER)], 'wrong-attribute', { attrs: [[ROOT, 'http.response.status_code', 201, '201']] }],
    ['renamed, re-kinded, moved to another service, status lost', expected(all), [got(POST, { name: 'POST' }), got(TXN_CLIENT, { kind: 1 }), got(TXN_SERVER, { service: 'unknown_service' })], 'wrong-attribute', {
      attrs: [[ROOT, 'name', POST.name, 'POST'], [CHILD, 'kind', 3, 1], [ETCD, 'service.name', 'etcd', 'unknown_service']],
    }],
    ['an error status sent, unset stored', expected([mspan(ROOT, '', 'kubelet', 'syncPod', 1, {}, 2)]), [got(mspan(ROOT, '', 'kubelet', 'syncPod', 1))], 'wrong-attribute', { attrs: [[ROOT, 'status.code', 2, 0]] }],
    ['a loss outranks a wrong parent', expected(all), [got(POST, { parentSpanId: ETCD }), got(TXN_CLIENT)], 'partial', { missing: [ETCD], parents: [[ROOT, '', ETCD]] }],
    ['the sent half found, the failed half reported apart', expected([POST, TXN_CLIENT], [TXN_SERVER]), [got(POST), got(TXN_CLIENT)], 'found', { unsent: [ETCD] }],
    ['nothing sent at all', expected([], [TXN_SERVER]), [], 'unsent', { unsent: [ETCD] }],
  ])('%s → %s', (_name, exp, fetched, status, details) => {
    const c = compareTrace(exp, fetched);
    expect(c.status).toBe(status);
    expect(c.missingSpans.map((s) => s.spanId)).toEqual(details.missing ?? []);
    expect(c.wrongParents.map((s) => [s.spanId, s.want, s.got])).toEqual(details.parents ?? []);
    expect(c.wrongAttributes.map((s) => [s.spanId, s.key, s.want, s.got])).toEqual(details.attrs ?? []);
    expect(c.unsentSpans.map((s) => s.spanId)).toEqual(details.unsent ?? []);
    expect(c.foundSpans + c.missingSpans.length).toBe(c.expectedSpans);
  });

  it('names the root, even when it lives in another trace part', () => {
    expect(compareTrace(expected([TXN_CLIENT, POST]), []).root).toEqual({ spanId: ROOT, name: POST.name, service: 'apiserver' });
    // Only the etcd span was recorded: its parent is elsewhere, so it stands for the root.
    expect(compareTrace(expected([TXN_SERVER]), []).root?.spanId).toBe(ETCD);
  });

  it('compares the Jaeger fixture with the manifest it came from', () => {
    const c = compareTrace(expected([POST, { ...TXN_CLIENT, status: 2 }]), fetchedSpans(JAEGER_TRACE));
    expect(c.status).toBe('found');
  });
});

describe('percentile (nearest rank)', () => {
  it.each([
    [[], 50, undefined],
    [[7], 99, 7],
    [[3, 1, 2], 50, 2],
    [[1, 2, 3, 4], 50, 2],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
    [Array.from({ length: 100 }, (_, i) => i + 1), 100, 100],
  ])('%j p%d → %j', (values, p, want) => {
    expect(percentile(values, p)).toBe(want);
  });
});

describe('summarize', () => {
  const r = (status: TraceStatus, expectedSpans: number, foundSpans: number, extra: Partial<TraceResult> = {}): TraceResult => ({
    traceId: TID,
    status,
    root: undefined,
    services: [],
    expectedSpans,
    foundSpans,
    missingSpans: [],
    wrongParents: [],
    wrongAttributes: [],
    unsentSpans: [],
    exportErrors: [],
    ...extra,
  });
  it('counts verdicts, loss and latency', () => {
    const s = summarize([
      r('found', 10, 10, { queryableAfterMs: 100 }),
      r('found', 2, 2, { queryableAfterMs: 300, completeAtFirstPoll: true }),
      r('partial', 4, 3),
      r('missing', 4, 0),
    ]);
    expect(s).toEqual({
      traces: 4,
      found: 2,
      missing: 1,
      partial: 1,
      wrongParent: 0,
      wrongAttribute: 0,
      unsent: 0,
      spansSent: 20,
      spansFound: 15,
      spansUnsent: 0,
      lossPercent: 25,
      latency: { count: 2, medianMs: 100, p99Ms: 300, upperBound: true },
      ok: false,
    });
    expect(formatSummary(s)).toBe(
      'FAIL: 4 traces: 2 found, 1 missing, 1 partial, 0 wrong parent, 0 wrong attribute, 0 not sent; spans: 15/20 found, 25% lost after send, 0 dropped before send; send to queryable: median 100 ms, p99 300 ms (upper bounds for traces already there at the first poll)',
    );
  });
  it.each<[string, TraceResult[], boolean]>([
    ['all found', [r('found', 3, 3), r('found', 1, 1)], true],
    ['a wrong attribute', [r('found', 3, 3), r('wrong-attribute', 1, 1)], false],
    ['spans dropped before send', [r('found', 3, 3, { unsentSpans: [{ spanId: ETCD, name: 'x', service: 'etcd' }] })], false],
    ['nothing checked', [], false],
  ])('%s → ok %s', (_n, results, ok) => {
    expect(summarize(results).ok).toBe(ok);
  });
});

describe('formatTrace', () => {
  it('gives a headline and one line per problem', () => {
    const c = compareTrace(expected([POST, TXN_CLIENT, TXN_SERVER]), [got(POST, { attributes: { 'audit-id': 'b' } }), got(TXN_CLIENT, { parentSpanId: '' })]);
    expect(formatTrace({ ...c, lastError: 'HTTP 503' })).toEqual([
      `partial          ${TID}  2/3 spans  apiserver POST /api/v1/namespaces/{:namespace}/pods`,
      `    missing: etcd etcdserverpb.KV/Txn ${ETCD}`,
      `    wrong parent: apiserver etcdserverpb.KV/Txn ${CHILD} has parent (none), want ${ROOT}`,
      `    wrong attribute: apiserver POST /api/v1/namespaces/{:namespace}/pods ${ROOT} http.response.status_code = (absent), want 201`,
      `    wrong attribute: apiserver POST /api/v1/namespaces/{:namespace}/pods ${ROOT} audit-id = "b", want "a-1"`,
      '    last request failed: HTTP 503',
    ]);
    expect(formatTrace({ ...compareTrace(expected([POST]), [got(POST)]), queryableAfterMs: 1234, completeAtFirstPoll: true })).toEqual([
      `found            ${TID}  1/1 spans  apiserver POST /api/v1/namespaces/{:namespace}/pods  queryable after ≤ 1.23 s`,
    ]);
  });
});

describe('pollTraces', () => {
  /** A clock that only moves when the poller sleeps or a request takes time. */
  function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
    let t = 10_000;
    const slept: number[] = [];
    return {
      now: () => t,
      sleep: async (ms) => {
        slept.push(ms);
        t += ms;
      },
      slept,
    };
  }
  const exp = (traceId: string, spans: ManifestSpan[], unsent: ManifestSpan[] = []): ExpectedTrace => ({ ...expected(spans, unsent), traceId, lastSentAt: 9_000 });
  const T2 = '0af7651916cd43dd8448eb211c80319c';

  it('asks again while spans arrive in pieces, and times each trace from its send', async () => {
    const clock = fakeClock();
    const calls: string[] = [];
    // Round 0: 404; round 1: the apiserver's part; round 2: all of it.
    const answers = [undefined, [got(POST), got(TXN_CLIENT)], [got(POST), got(TXN_CLIENT), got(TXN_SERVER)]];
    const results = await pollTraces(
      [exp(TID, [POST, TXN_CLIENT, TXN_SERVER]), exp(T2, [], [TXN_SERVER])],
      async (t) => {
        calls.push(t.traceId);
        return answers[Math.min(calls.length - 1, answers.length - 1)];
      },
      { timeoutMs: 30_000, ...clock },
    );
    expect(calls).toEqual([TID, TID, TID]);
    expect(clock.slept).toEqual([250, 500]);
    expect(results.map((r) => [r.traceId, r.status])).toEqual([
      [TID, 'found'],
      [T2, 'unsent'],
    ]);
    expect(results[0]?.queryableAfterMs).toBe(10_000 + 750 - 9_000);
    expect(results[0]?.completeAtFirstPoll).toBe(false);
  });

  it('gives up at the deadline with what it has, backing off up to the cap', async () => {
    const clock = fakeClock();
    let n = 0;
    const results = await pollTraces(
      [exp(TID, [POST, TXN_CLIENT])],
      async () => {
        n++;
        return [got(POST)];
      },
      { timeoutMs: 3_000, maxDelayMs: 1000, ...clock },
    );
    expect(clock.slept).toEqual([250, 500, 1000, 1000, 250]);
    expect(n).toBe(6);
    expect(results[0]?.status).toBe('partial');
    expect(results[0]?.queryableAfterMs).toBeUndefined();
  });

  it('keeps the last error of a trace it never got', async () => {
    const clock = fakeClock();
    const results = await pollTraces(
      [exp(TID, [POST])],
      async () => {
        throw new Error('HTTP 503: busy');
      },
      { timeoutMs: 1_000, ...clock },
    );
    expect(results[0]?.status).toBe('missing');
    expect(results[0]?.lastError).toBe('HTTP 503: busy');
  });

  it('settles a wrong parent at once: no more spans are coming', async () => {
    const clock = fakeClock();
    let n = 0;
    const results = await pollTraces(
      [exp(TID, [POST, TXN_CLIENT])],
      async () => {
        n++;
        return [got(POST), got(TXN_CLIENT, { parentSpanId: '' })];
      },
      { timeoutMs: 30_000, ...clock },
    );
    expect(n).toBe(1);
    expect(results[0]?.status).toBe('wrong-parent');
    expect(results[0]?.completeAtFirstPoll).toBe(true);
  });

  it('keeps no more than `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const traces = Array.from({ length: 20 }, (_, i) => exp(i.toString(16).padStart(32, '0'), [POST]));
    await pollTraces(
      traces,
      async (t) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return [got(POST, { traceId: t.traceId })];
      },
      { timeoutMs: 5_000, concurrency: 3 },
    );
    expect(peak).toBe(3);
  });
});

describe('selecting traces', () => {
  const t = (id: string, last: number, services: string[]): ExpectedTrace => ({
    ...expected(services.map((s, i) => mspan(`${i}`.padStart(16, 'a'), '', s, 'x', 1))),
    traceId: id.padStart(32, '0'),
    lastSentAt: last,
  });
  const traces = [t('1', 100, ['apiserver']), t('2', 300, ['kubelet', 'containerd']), t('3', 200, ['etcd', 'apiserver'])];
  it.each<[string, Parameters<typeof selectTraces>[1], string[]]>([
    ['all', { limit: 0 }, ['1', '2', '3']],
    ['since', { sinceMs: 200, limit: 0 }, ['2', '3']],
    ['service', { service: 'apiserver', limit: 0 }, ['1', '3']],
    ['the last two sent', { limit: 2 }, ['3', '2']],
    ['everything combined', { service: 'apiserver', sinceMs: 150, limit: 5 }, ['3']],
    ['no match', { service: 'scheduler', limit: 0 }, []],
  ])('%s', (_n, sel, want) => {
    expect(selectTraces(traces, sel).map((x) => x.traceId.replace(/^0+/, ''))).toEqual(want);
  });

  it.each([
    ['10m', 1_000_000 - 600_000],
    ['1h30m', 1_000_000 - 5_400_000],
    ['2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:00Z')],
    ['2026-01-01T00:00:00.5+01:00', Date.parse('2026-01-01T00:00:00.5+01:00')],
  ])('--since %s', (raw, want) => {
    expect(parseSince(raw, 1_000_000)).toBe(want);
  });
  it.each(['yesterday', '10 minutes', '2026-13-45T00:00:00Z'])('--since %s is refused', (raw) => {
    expect(() => parseSince(raw, 0)).toThrow(/invalid --since/);
  });
});

describe('backend options', () => {
  it.each([
    [{}, { kind: 'query', url: 'http://127.0.0.1:16686' }],
    [{ query: 'http://h:1' }, { kind: 'query', url: 'http://h:1' }],
    [{ jaeger: 'https://j/jaeger/ui' }, { kind: 'jaeger', url: 'https://j/jaeger/ui' }],
    [{ tempo: 'http://t:3200' }, { kind: 'tempo', url: 'http://t:3200' }],
  ])('%j → %j', (flags, want) => {
    expect(chooseBackend(flags)).toEqual(want);
  });
  it('refuses two backends', () => {
    expect(() => chooseBackend({ jaeger: 'http://a', tempo: 'http://b' })).toThrow('--jaeger, --tempo: give one backend');
  });

  it.each([
    [['X-Scope-OrgID=tenant-1'], { 'X-Scope-OrgID': 'tenant-1' }],
    [['Authorization: Bearer abc=='], { Authorization: 'Bearer abc==' }],
    [['A=1', 'B='], { A: '1', B: '' }],
    [[], {}],
  ])('--header %j', (list, want) => {
    expect(parseHeaders(list)).toEqual(want);
  });
  it.each(['novalue', '=x', 'bad header=1'])('--header %j is refused', (h) => {
    expect(() => parseHeaders([h])).toThrow(/invalid --header/);
  });

  it.each([
    ['query', 'http://127.0.0.1:16686', `http://127.0.0.1:16686/api/v3/traces/${TID}?start_time=1969-12-31T23%3A00%3A01.000Z&end_time=1970-01-01T00%3A10%3A02.000Z&raw_traces=true`],
    ['jaeger', 'https://jaeger.example/jaeger/ui/', `https://jaeger.example/jaeger/ui/api/v3/traces/${TID}?start_time=1969-12-31T23%3A00%3A01.000Z&end_time=1970-01-01T00%3A10%3A02.000Z&raw_traces=true`],
    ['tempo', 'http://tempo:3200', `http://tempo:3200/api/traces/${TID}`],
  ] as const)('%s at %s', (kind, base, want) => {
    expect(traceUrl(kind, base, expected([POST]))).toBe(want);
  });
});
