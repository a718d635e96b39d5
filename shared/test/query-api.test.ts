import { describe, expect, it } from 'vitest';
import {
  ApiError,
  adjustTrace,
  apiResponse,
  attrAsString,
  errorResponse,
  findTraces,
  goAtoi,
  goParseBool,
  operationsJson,
  parseFindTracesQuery,
  parseGetTraceRequest,
  parseGoDuration,
  parseRfc3339Nano,
  parseTraceIdParam,
  spanMatches,
  summarizeTrace,
  type TraceQuery,
  type TraceSource,
} from '../src/query-server.js';
import type { ReceivedSpan } from '../src/otlp-receiver.js';

const LAYOUT = '"2006-01-02T15:04:05.999999999Z07:00"';

describe('parseRfc3339Nano (Go time.Parse with RFC3339Nano)', () => {
  it.each([
    ['1970-01-01T00:00:00Z', 0n],
    ['2024-01-02T03:04:05Z', 1704164645_000_000_000n],
    ['2024-01-02T03:04:05.123456789Z', 1704164645_123_456_789n],
    ['2024-01-02T03:04:05.5Z', 1704164645_500_000_000n],
    // Past nine digits Go drops the rest.
    ['2024-01-02T03:04:05.1234567891Z', 1704164645_123_456_789n],
    ['2024-01-02T05:04:05+02:00', 1704164645_000_000_000n],
    ['2024-01-02T00:04:05-03:00', 1704164645_000_000_000n],
    ['2024-02-29T00:00:00Z', 1709164800_000_000_000n],
    ['0001-01-01T00:00:00Z', -62135596800_000_000_000n],
  ])('%s', (text, want) => {
    expect(parseRfc3339Nano(text)).toBe(want);
  });

  it.each([
    ['yesterday', `parsing time "yesterday" as ${LAYOUT}: cannot parse "yesterday" as "2006"`],
    ['', `parsing time "" as ${LAYOUT}: cannot parse "" as "2006"`],
    ['2024-01-01', `parsing time "2024-01-01" as ${LAYOUT}: cannot parse "" as "T"`],
    ['2024-01-01 00:00:00Z', `parsing time "2024-01-01 00:00:00Z" as ${LAYOUT}: cannot parse " 00:00:00Z" as "T"`],
    ['2024-01-01T00:00:00', `parsing time "2024-01-01T00:00:00" as ${LAYOUT}: cannot parse "" as "Z07:00"`],
    ['2024-1-01T00:00:00Z', `parsing time "2024-1-01T00:00:00Z" as ${LAYOUT}: cannot parse "1-01T00:00:00Z" as "01"`],
    ['2024-01-01T00:00:00+0100', `parsing time "2024-01-01T00:00:00+0100" as ${LAYOUT}: cannot parse "+0100" as "Z07:00"`],
    ['2024-13-01T00:00:00Z', 'parsing time "2024-13-01T00:00:00Z": month out of range'],
    ['2024-02-30T00:00:00Z', 'parsing time "2024-02-30T00:00:00Z": day out of range'],
    ['2023-02-29T00:00:00Z', 'parsing time "2023-02-29T00:00:00Z": day out of range'],
    ['2024-01-01T24:00:00Z', 'parsing time "2024-01-01T24:00:00Z": hour out of range'],
    ['2024-01-01T00:60:00Z', 'parsing time "2024-01-01T00:60:00Z": minute out of range'],
    ['2024-01-01T00:00:00Zjunk', 'parsing time "2024-01-01T00:00:00Zjunk": extra text: "junk"'],
  ])('%j is refused with Go\'s message', (text, message) => {
    expect(() => parseRfc3339Nano(text)).toThrow(message);
  });
});

describe('parseGoDuration (Go time.ParseDuration)', () => {
  it.each([
    ['0', 0n],
    ['1ns', 1n],
    ['1.5s', 1_500_000_000n],
    ['300ms', 300_000_000n],
    ['2us', 2_000n],
    ['2µs', 2_000n],
    ['1h2m3.5s', 3_723_500_000_000n],
    ['-1.5ms', -1_500_000n],
    ['+.5s', 500_000_000n],
    ['1.s', 1_000_000_000n],
  ])('%s', (text, want) => {
    expect(parseGoDuration(text)).toBe(want);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['abc', 'time: invalid duration "abc"'],
    ['.s', 'time: invalid duration ".s"'],
    ['10', 'time: missing unit in duration "10"'],
    ['1s5', 'time: missing unit in duration "1s5"'],
    ['5x', 'time: unknown unit "x" in duration "5x"'],
    ['5 s', 'time: unknown unit " s" in duration "5 s"'],
  ])('%j → %s', (text, message) => {
    expect(() => parseGoDuration(text)).toThrow(message);
  });
});

describe('Go strconv', () => {
  it.each([
    ['20', 20],
    ['+7', 7],
    ['-3', -3],
    ['007', 7],
  ])('Atoi(%j) = %d', (text, want) => expect(goAtoi(text)).toBe(want));
  it.each([
    ['ten', 'strconv.Atoi: parsing "ten": invalid syntax'],
    ['1.5', 'strconv.Atoi: parsing "1.5": invalid syntax'],
    ['-', 'strconv.Atoi: parsing "-": invalid syntax'],
    ['99999999999999999999', 'strconv.Atoi: parsing "99999999999999999999": value out of range'],
  ])('Atoi(%j) fails', (text, message) => expect(() => goAtoi(text)).toThrow(message));
  it.each([
    ['true', true],
    ['1', true],
    ['T', true],
    ['False', false],
    ['0', false],
  ])('ParseBool(%j) = %s', (text, want) => expect(goParseBool(text)).toBe(want));
  it('ParseBool refuses anything else', () => {
    expect(() => goParseBool('yes')).toThrow('strconv.ParseBool: parsing "yes": invalid syntax');
  });
});

describe('parseTraceIdParam (Jaeger v2.20 TraceIDFromString)', () => {
  const id = '0af7651916cd43dd8448eb211c80319c';
  it.each([
    [id, id],
    [id.toUpperCase(), id],
    ['1', '00000000000000000000000000000001'],
    ['8448eb211c80319c', '00000000000000008448eb211c80319c'],
    // base64 of the 16 bytes, padded, unpadded and URL-safe.
    [Buffer.from(id, 'hex').toString('base64'), id],
    [Buffer.from(id, 'hex').toString('base64').replace(/=+$/, ''), id],
    [Buffer.from('fbfffbfffbfffbfffbfffbfffbfffbff', 'hex').toString('base64url'), 'fbfffbfffbfffbfffbfffbfffbfffbff'],
    // eight bytes are a 64-bit id.
    [Buffer.from('8448eb211c80319c', 'hex').toString('base64'), '00000000000000008448eb211c80319c'],
  ])('%s', (text, want) => expect(parseTraceIdParam(text)).toBe(want));

  it.each([
    ['xyz!', 'strconv.ParseUint: parsing "xyz!": invalid syntax'],
    // Not hex, but base64 of one byte.
    ['zz', 'invalid length for TraceID'],
    [`${id}0`, `TraceID cannot be longer than 32 hex characters: ${id}0`],
    ['0af7651916cd43dd8448eb211c8031zz', 'strconv.ParseUint: parsing "8448eb211c8031zz": invalid syntax'],
  ])('%j is refused', (text, message) => expect(() => parseTraceIdParam(text)).toThrow(message));
});

describe('parseGetTraceRequest', () => {
  const id = '0af7651916cd43dd8448eb211c80319c';
  it('takes the window and raw_traces in either spelling, camelCase first', () => {
    expect(parseGetTraceRequest(id, new URLSearchParams('start_time=1970-01-01T00:00:01Z&endTime=1970-01-01T00:00:02Z&raw_traces=true'))).toEqual({
      traceId: id,
      startTime: 1_000_000_000n,
      endTime: 2_000_000_000n,
      rawTraces: true,
    });
    expect(parseGetTraceRequest(id, new URLSearchParams('rawTraces=false&raw_traces=true')).rawTraces).toBe(false);
  });
  it.each([
    ['nothex!', '', 'malformed parameter trace_id: strconv.ParseUint: parsing "nothex!": invalid syntax'],
    [id, 'start_time=now', `malformed parameter start_time: parsing time "now" as ${LAYOUT}: cannot parse "now" as "2006"`],
    [id, 'endTime=2024-01-01', `malformed parameter endTime: parsing time "2024-01-01" as ${LAYOUT}: cannot parse "" as "T"`],
    [id, 'raw_traces=yes', 'malformed parameter raw_traces: strconv.ParseBool: parsing "yes": invalid syntax'],
  ])('%s?%s → 400 %s', (segment, query, message) => {
    let err: unknown;
    try {
      parseGetTraceRequest(segment, new URLSearchParams(query));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toBe(message);
  });
});

const T1 = '2024-01-02T03:04:05Z';
const T2 = '2024-01-02T04:04:05.5Z';

describe('parseFindTracesQuery', () => {
  it('reads every parameter, snake_case and camelCase', () => {
    const q = parseFindTracesQuery(
      new URLSearchParams({
        'query.service_name': 'apiserver',
        'query.operationName': 'Create',
        'query.start_time_min': T1,
        'query.startTimeMax': T2,
        'query.attributes': '{"k8s.pod.name":"x","error":"true"}',
        'query.num_traces': '20',
        'query.duration_min': '1ms',
        'query.durationMax': '2s',
        'query.raw_traces': 'true',
      }),
    );
    expect(q).toEqual({
      serviceName: 'apiserver',
      operationName: 'Create',
      attributes: new Map([
        ['k8s.pod.name', 'x'],
        ['error', 'true'],
      ]),
      startTimeMin: 1704164645_000_000_000n,
      startTimeMax: 1704168245_500_000_000n,
      durationMin: 1_000_000n,
      durationMax: 2_000_000_000n,
      searchDepth: 20,
      rawTraces: true,
    });
  });

  it('defaults the depth to 100 and prefers query.search_depth over query.num_traces', () => {
    const base = { 'query.start_time_min': T1, 'query.start_time_max': T2 };
    expect(parseFindTracesQuery(new URLSearchParams(base)).searchDepth).toBe(100);
    expect(parseFindTracesQuery(new URLSearchParams({ ...base, 'query.search_depth': '5', 'query.num_traces': '7' })).searchDepth).toBe(5);
    expect(parseFindTracesQuery(new URLSearchParams({ ...base, 'query.searchDepth': '3', 'query.search_depth': '5' })).searchDepth).toBe(3);
  });

  const times = `query.start_time_min=${T1}&query.start_time_max=${T2}`;
  it.each([
    ['', 'query.startTimeMin and query.startTimeMax are required'],
    [`query.start_time_min=${T1}`, 'query.startTimeMin and query.startTimeMax are required'],
    [`query.service_name=x&query.start_time_max=${T2}`, 'query.startTimeMin and query.startTimeMax are required'],
    [`query.start_time_min=now&query.start_time_max=${T2}`, `malformed parameter query.start_time_min: parsing time "now" as ${LAYOUT}: cannot parse "now" as "2006"`],
    [`query.start_time_min=${T1}&query.startTimeMax=2024`, `malformed parameter query.startTimeMax: parsing time "2024" as ${LAYOUT}: cannot parse "" as "-"`],
    [`query.start_time_min=${T2}&query.start_time_max=${T1}`, 'query.startTimeMin must be before query.startTimeMax'],
    [`query.start_time_min=${T1}&query.start_time_max=${T1}`, 'query.startTimeMin must be before query.startTimeMax'],
    [`${times}&query.num_traces=many`, 'malformed parameter query.num_traces: strconv.Atoi: parsing "many": invalid syntax'],
    [`${times}&query.search_depth=1e3`, 'malformed parameter query.search_depth: strconv.Atoi: parsing "1e3": invalid syntax'],
    [`${times}&query.duration_min=5`, 'malformed parameter query.duration_min: time: missing unit in duration "5"'],
    [`${times}&query.durationMax=long`, 'malformed parameter query.durationMax: time: invalid duration "long"'],
    [`${times}&query.raw_traces=maybe`, 'malformed parameter query.raw_traces: strconv.ParseBool: parsing "maybe": invalid syntax'],
    [`${times}&query.attributes=[1]`, 'malformed parameter query.attributes: json: cannot unmarshal array into Go value of type map[string]string'],
    [`${times}&query.attributes={"n":1}`, 'malformed parameter query.attributes: json: cannot unmarshal number into Go struct field .n of type string'],
    // Attributes are read first, as Jaeger reads them.
    ['query.attributes=7', 'malformed parameter query.attributes: json: cannot unmarshal number into Go value of type map[string]string'],
  ])('%s → 400 %s', (query, message) => {
    expect(() => parseFindTracesQuery(new URLSearchParams(query))).toThrow(new ApiError(400, message));
  });
});

let nextId = 1;
function span(over: Partial<ReceivedSpan> & { service?: string }): ReceivedSpan {
  const { service = 'apiserver', ...rest } = over;
  const n = nextId++;
  return {
    traceId: 'a'.repeat(32),
    spanId: n.toString(16).padStart(16, '0'),
    parentSpanId: '',
    traceState: '',
    flags: 0,
    name: 'op',
    kind: 2,
    startTimeUnixNano: 1000n,
    endTimeUnixNano: 2000n,
    attributes: {},
    events: [],
    links: [],
    status: { code: 0, message: '' },
    resource: { 'service.name': service },
    scope: { name: 'scope', version: '1.0' },
    receivedAt: 0,
    ...rest,
  };
}

const query = (over: Partial<TraceQuery> = {}): TraceQuery => ({
  serviceName: '',
  operationName: '',
  attributes: new Map(),
  startTimeMin: 0n,
  startTimeMax: 1_000_000n,
  durationMin: 0n,
  durationMax: 0n,
  searchDepth: 100,
  rawTraces: false,
  ...over,
});

describe('spanMatches (Jaeger memory store validSpan)', () => {
  const s = span({
    name: 'Create',
    kind: 1,
    startTimeUnixNano: 5000n,
    endTimeUnixNano: 8000n,
    attributes: { resource: 'pods', code: 201, ok: true, ratio: 0.5, list: ['a', 'b'] },
    events: [{ name: 'e', timeUnixNano: 6000n, attributes: { 'event.key': 'v' } }],
    links: [{ traceId: 'b'.repeat(32), spanId: '1'.repeat(16), attributes: { 'link.key': 'w' } }],
    resource: { 'service.name': 'apiserver', 'host.name': 'node-1' },
    scope: { name: 'k8s.io/apiserver', version: '' },
    status: { code: 2, message: 'boom' },
  });
  it.each<[string, Partial<TraceQuery>, boolean]>([
    ['everything', {}, true],
    ['service', { serviceName: 'apiserver' }, true],
    ['other service', { serviceName: 'etcd' }, false],
    ['operation', { operationName: 'Create' }, true],
    ['other operation', { operationName: 'Get' }, false],
    ['start at the window edges', { startTimeMin: 5000n, startTimeMax: 5000n }, true],
    ['start after the window', { startTimeMax: 4999n }, false],
    ['start before the window', { startTimeMin: 5001n }, false],
    ['duration within', { durationMin: 3000n, durationMax: 3000n }, true],
    ['too short', { durationMin: 3001n }, false],
    ['too long', { durationMax: 2999n }, false],
    ['string attribute', { attributes: new Map([['resource', 'pods']]) }, true],
    ['int attribute as text', { attributes: new Map([['code', '201']]) }, true],
    ['bool attribute as text', { attributes: new Map([['ok', 'true']]) }, true],
    ['double attribute as text', { attributes: new Map([['ratio', '0.5']]) }, true],
    ['array attribute as JSON', { attributes: new Map([['list', '["a","b"]']]) }, true],
    ['wrong value', { attributes: new Map([['resource', 'nodes']]) }, false],
    ['resource attribute, plain key', { attributes: new Map([['host.name', 'node-1']]) }, true],
    ['resource attribute, resource. prefix', { attributes: new Map([['resource.host.name', 'node-1']]) }, true],
    ['resource. prefix looks only at the resource', { attributes: new Map([['resource.resource', 'pods']]) }, false],
    ['event attribute', { attributes: new Map([['event.key', 'v']]) }, true],
    ['link attribute', { attributes: new Map([['link.key', 'w']]) }, true],
    ['error=true on an Error span', { attributes: new Map([['error', 'true']]) }, true],
    ['error=false needs status Ok', { attributes: new Map([['error', 'false']]) }, false],
    ['error=garbage matches nothing', { attributes: new Map([['error', 'garbage']]) }, false],
    ['span.status', { attributes: new Map([['span.status', 'error']]) }, true],
    ['span.status other', { attributes: new Map([['span.status', 'OK']]) }, false],
    ['span.kind', { attributes: new Map([['span.kind', 'INTERNAL']]) }, true],
    ['span.kind other', { attributes: new Map([['span.kind', 'server']]) }, false],
    ['scope.name', { attributes: new Map([['scope.name', 'k8s.io/apiserver']]) }, true],
    ['scope.version empty', { attributes: new Map([['scope.version', '']]) }, true],
    ['all conditions at once', { serviceName: 'apiserver', operationName: 'Create', attributes: new Map([['resource', 'pods'], ['host.name', 'node-1']]) }, true],
    ['one condition failing', { serviceName: 'apiserver', operationName: 'Create', attributes: new Map([['resource', 'pods'], ['host.name', 'node-2']]) }, false],
  ])('%s', (_name, over, want) => {
    expect(spanMatches(s, query(over))).toBe(want);
  });

  it('needs a string service.name for a service match', () => {
    expect(spanMatches(span({ resource: { 'service.name': 7 } }), query({ serviceName: '7' }))).toBe(false);
  });
});

describe('attrAsString (pcommon Value.AsString)', () => {
  it.each([
    ['x', 'x'],
    [7, '7'],
    [1.5, '1.5'],
    [true, 'true'],
    [null, ''],
    [['a', 1], '["a",1]'],
    [{ k: 'v' }, '{"k":"v"}'],
  ])('%j → %s', (v, want) => expect(attrAsString(v)).toBe(want));
});

function source(traces: Record<string, ReceivedSpan[]>): TraceSource {
  return {
    traceIds: () => Object.keys(traces),
    trace: (id) => traces[id] ?? [],
    otlpResourceSpans: (id) => (traces[id] ?? []).map((s) => JSON.stringify({ resource: {}, scopeSpans: [{ scope: {}, spans: [{ traceId: s.traceId, spanId: s.spanId, name: s.name }] }] })),
    services: () => [...new Set(Object.values(traces).flatMap((l) => l.map((s) => String(s.resource['service.name']))))].sort(),
    operations: () => [],
  };
}

describe('findTraces', () => {
  const t = (c: string): string => c.repeat(32);
  const src = source({
    [t('1')]: [span({ traceId: t('1'), name: 'a' }), span({ traceId: t('1'), name: 'b', service: 'etcd' })],
    [t('2')]: [span({ traceId: t('2'), name: 'a' })],
    [t('3')]: [span({ traceId: t('3'), name: 'c', service: 'etcd' })],
  });
  it('returns the newest matching traces first, up to the depth', () => {
    expect(findTraces(src, query())).toEqual([t('3'), t('2'), t('1')]);
    expect(findTraces(src, query({ searchDepth: 2 }))).toEqual([t('3'), t('2')]);
    expect(findTraces(src, query({ operationName: 'a' }))).toEqual([t('2'), t('1')]);
    expect(findTraces(src, query({ serviceName: 'etcd' }))).toEqual([t('3'), t('1')]);
    // Service and operation must hold for the same span.
    expect(findTraces(src, query({ serviceName: 'etcd', operationName: 'a' }))).toEqual([]);
  });
  it.each([0, -1, 100_001])('refuses depth %d as the memory store does (500)', (searchDepth) => {
    expect(() => findTraces(src, query({ searchDepth }))).toThrow(new ApiError(500, 'search depth must be greater than 0 and less than max traces'));
  });
});

describe('responses', () => {
  it('errorResponse is Go http.Error around Jaeger GRPCGatewayError JSON', () => {
    expect(errorResponse(404, 'No traces found')).toEqual({
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
      body: '{"error":{"httpCode":404,"message":"No traces found"}}\n',
    });
    // Go's encoding/json escapes HTML characters.
    expect(errorResponse(400, 'a <b> & "c"').body).toBe('{"error":{"httpCode":400,"message":"a \\u003cb\\u003e \\u0026 \\"c\\""}}\n');
  });

  it('operationsJson filters by kind and names an unspecified kind internal, as Jaeger', () => {
    const ops = [
      { name: 'Create', kind: 1 },
      { name: 'GET', kind: 2 },
      { name: 'HTTP GET', kind: 3 },
      { name: 'old', kind: 0 },
    ];
    expect(JSON.parse(operationsJson(ops, ''))).toEqual({
      operations: [
        { name: 'Create', spanKind: 'internal' },
        { name: 'GET', spanKind: 'server' },
        { name: 'HTTP GET', spanKind: 'client' },
        { name: 'old', spanKind: 'internal' },
      ],
    });
    expect(JSON.parse(operationsJson(ops, 'server'))).toEqual({ operations: [{ name: 'GET', spanKind: 'server' }] });
    // Jaeger's store keeps an unspecified kind as "", so span_kind=internal does not find it.
    expect(JSON.parse(operationsJson(ops, 'internal'))).toEqual({ operations: [{ name: 'Create', spanKind: 'internal' }] });
    expect(operationsJson(ops, 'producer')).toBe('{}');
  });

  it('summarizeTrace is Jaeger TraceSummary: earliest root, orphans, per-service counts sorted, zeros left out', () => {
    const tid = 'c'.repeat(32);
    const root = span({ traceId: tid, name: 'late root', startTimeUnixNano: 300n, endTimeUnixNano: 900n });
    const early = span({ traceId: tid, name: 'early root', service: 'kubelet', startTimeUnixNano: 100n, endTimeUnixNano: 200n });
    const child = span({ traceId: tid, parentSpanId: root.spanId, service: 'etcd', startTimeUnixNano: 400n, endTimeUnixNano: 1000n, status: { code: 2, message: '' } });
    const orphan = span({ traceId: tid, parentSpanId: 'f'.repeat(16), startTimeUnixNano: 150n, endTimeUnixNano: 160n });
    expect(summarizeTrace(tid, [root, early, child, orphan])).toEqual({
      traceId: tid,
      rootServiceName: 'kubelet',
      rootOperationName: 'early root',
      minStartTimeUnixNano: '100',
      maxEndTimeUnixNano: '1000',
      spanCount: 4,
      errorSpanCount: 1,
      orphanSpanCount: 1,
      services: [
        { name: 'apiserver', spanCount: 2 },
        { name: 'etcd', spanCount: 1, errorSpanCount: 1 },
        { name: 'kubelet', spanCount: 1 },
      ],
    });
  });

  it('adjustTrace sorts attributes by key and events by name (stably), and drops duplicate spans', () => {
    const kv = (key: string) => ({ key, value: { stringValue: key } });
    const spanJson = {
      traceId: 'a'.repeat(32),
      spanId: '1'.repeat(16),
      attributes: [kv('z'), kv('a')],
      events: [
        { name: 'b', attributes: [kv('y'), kv('x')] },
        { name: 'a', timeUnixNano: '2' },
        { name: 'a', timeUnixNano: '1' },
      ],
      links: [{ attributes: [kv('n'), kv('m')] }],
    };
    const rs = { resource: { attributes: [kv('service.name'), kv('host.name')] }, scopeSpans: [{ scope: {}, spans: [spanJson, structuredClone(spanJson)] }] };
    const [out] = adjustTrace([rs]);
    expect(out!.resource.attributes!.map((a) => a.key)).toEqual(['host.name', 'service.name']);
    expect(out!.scopeSpans[0]!.spans).toHaveLength(1);
    const s = out!.scopeSpans[0]!.spans[0]!;
    expect(s.attributes!.map((a) => a.key)).toEqual(['a', 'z']);
    expect(s.events!.map((e) => [e.name, (e as { timeUnixNano?: string }).timeUnixNano])).toEqual([
      ['a', '2'],
      ['a', '1'],
      ['b', undefined],
    ]);
    expect(s.events![2]!.attributes!.map((a) => a.key)).toEqual(['x', 'y']);
    expect(s.links![0]!.attributes!.map((a) => a.key)).toEqual(['m', 'n']);
  });
});

describe('apiResponse routing', () => {
  const src = source({});
  const get = (path: string, method = 'GET') => apiResponse(src, method, new URL(path, 'http://x'));
  it.each([
    ['/api/v3/services', 200, '{}'],
    ['/api/v3/operations?service=none', 200, '{}'],
    ['/api/v3/traces/0af7651916cd43dd8448eb211c80319c', 404, '{"error":{"httpCode":404,"message":"No traces found"}}\n'],
    [`/api/v3/traces?query.start_time_min=${T1}&query.start_time_max=${T2}`, 404, '{"error":{"httpCode":404,"message":"No traces found"}}\n'],
    ['/api/v3/traces', 400, '{"error":{"httpCode":400,"message":"query.startTimeMin and query.startTimeMax are required"}}\n'],
    [`/api/v3/trace-summaries?query.start_time_min=${T1}&query.start_time_max=${T2}`, 200, '{}'],
  ])('%s → %d', (path, status, body) => {
    const r = get(path)!;
    expect(r.status).toBe(status);
    expect(r.body).toBe(body);
  });
  it('leaves other paths to the caller and refuses other methods with 405', () => {
    expect(get('/')).toBeUndefined();
    expect(get('/api/v2/services')).toBeUndefined();
    expect(get('/api/v3/traces/a/b')).toBeUndefined();
    expect(get('/api/v3/services', 'POST')).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD' } });
  });
});
