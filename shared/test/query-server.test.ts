import { afterEach, describe, expect, it } from 'vitest';
import { get as httpGet, request, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadProto, lookupService, startOtlpReceiver, startQueryServer, type OtlpReceiver, type QueryServer } from '../src/index.js';

let receiver: OtlpReceiver | undefined;
let server: QueryServer | undefined;
let client: { exportRaw(req: unknown): Promise<unknown>; close(): void } | undefined;
afterEach(async () => {
  client?.close();
  await server?.close();
  await receiver?.close();
  client = undefined;
  server = undefined;
  receiver = undefined;
});

async function start(receiverOptions: { maxSpans?: number } = {}): Promise<{ base: string; send: (resourceSpans: unknown[]) => Promise<void> }> {
  receiver = await startOtlpReceiver(receiverOptions);
  server = await startQueryServer({ receiver });
  const Svc = lookupService(loadProto('otlp/trace_service.proto'), 'opentelemetry.proto.collector.trace.v1.TraceService');
  const c = new Svc(receiver.endpoint, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Export(req: unknown, cb: (err: grpc.ServiceError | null, res: unknown) => void): void;
  };
  client = {
    exportRaw: (req) => new Promise((resolve, reject) => c.Export(req, (err, res) => (err ? reject(err) : resolve(res)))),
    close: () => c.close(),
  };
  const exporter = client;
  return { base: server.url, send: async (resourceSpans) => void (await exporter.exportRaw({ resourceSpans })) };
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}
function fetchText(url: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const id = (h: string): Buffer => Buffer.from(h, 'hex');
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const NS = 1_704_164_645_000_000_000n; // 2024-01-02T03:04:05Z
const at = (ms: number): string => String(NS + BigInt(ms) * 1_000_000n);
const T = '0af7651916cd43dd8448eb211c80319c';
const U = '1bf7651916cd43dd8448eb211c80319c';
const WINDOW = 'query.start_time_min=2024-01-02T03:00:00Z&query.start_time_max=2024-01-02T04:00:00.000000001Z';

/** Two export requests: the apiserver's two spans of T, then etcd's span of T and its own trace U. */
async function sendFixture(send: (rs: unknown[]) => Promise<void>): Promise<void> {
  await send([
    {
      resource: { attributes: [str('service.name', 'apiserver'), str('host.name', 'node-1')] },
      scopeSpans: [
        {
          scope: { name: 'k8s.io/apiserver', version: '1.35.0' },
          spans: [
            {
              traceId: id(T),
              spanId: id('1111111111111111'),
              name: 'POST /api/v1/namespaces/{:namespace}/pods',
              kind: 2,
              startTimeUnixNano: at(0),
              endTimeUnixNano: at(20),
              attributes: [
                str('z.last', 'v'),
                { key: 'http.response.status_code', value: { intValue: '201' } },
                { key: 'ratio', value: { doubleValue: 1 } },
                { key: 'ok', value: { boolValue: true } },
              ],
              events: [
                { name: 'b event', timeUnixNano: at(1) },
                { name: 'a event', timeUnixNano: at(2), attributes: [str('k', 'v')] },
              ],
            },
            {
              traceId: id(T),
              spanId: id('2222222222222222'),
              parentSpanId: id('1111111111111111'),
              name: 'Create',
              kind: 1,
              startTimeUnixNano: at(1),
              endTimeUnixNano: at(19),
              attributes: [str('name', 'demo'), str('resource', 'pods')],
              status: { code: 2, message: 'boom' },
              links: [{ traceId: id(U), spanId: id('4444444444444444'), attributes: [str('why', 'caller')] }],
            },
          ],
        },
      ],
    },
  ]);
  await send([
    {
      resource: { attributes: [str('service.name', 'etcd')] },
      scopeSpans: [
        {
          scope: { name: 'go.etcd.io/etcd/server', version: '3.5.21' },
          spans: [
            {
              traceId: id(T),
              spanId: id('3333333333333333'),
              parentSpanId: id('2222222222222222'),
              name: 'etcdserverpb.KV/Txn',
              kind: 2,
              startTimeUnixNano: at(5),
              endTimeUnixNano: at(7),
            },
            {
              traceId: id(U),
              spanId: id('4444444444444444'),
              name: 'etcdserverpb.KV/Range',
              kind: 2,
              startTimeUnixNano: at(30),
              endTimeUnixNano: at(31),
            },
          ],
        },
      ],
    },
  ]);
}

describe('query server: Jaeger v2 /api/v3 over the receiver', () => {
  it('answers Jaeger snapshot GetTrace and FindTraces shapes (numeric kind and status, hex ids)', async () => {
    const { base, send } = await start();
    // jaeger v2.20 apiv3/snapshots/GetTrace.json: one span, empty resource and scope (times added: real spans have them).
    await send([
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: id('00000000000000000000000000000001'),
                spanId: id('0000000000000002'),
                name: 'foobar',
                kind: 2,
                status: { code: 2 },
                startTimeUnixNano: at(0),
                endTimeUnixNano: at(1),
              },
            ],
          },
        ],
      },
    ]);
    const snapshot = {
      result: {
        resourceSpans: [
          {
            resource: {},
            scopeSpans: [
              {
                scope: {},
                spans: [
                  {
                    kind: 2,
                    name: 'foobar',
                    spanId: '0000000000000002',
                    status: { code: 2 },
                    traceId: '00000000000000000000000000000001',
                    startTimeUnixNano: at(0),
                    endTimeUnixNano: at(1),
                  },
                ],
              },
            ],
          },
        ],
      },
    };
    for (const path of ['/api/v3/traces/00000000000000000000000000000001', '/api/v3/traces/1?raw_traces=true', `/api/v3/traces?${WINDOW}`]) {
      const r = await fetchText(base + path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type']).toBe('application/json');
      expect(JSON.parse(r.body)).toEqual(snapshot);
    }
  });

  it('answers the services, operations and trace-summaries snapshots', async () => {
    const { base, send } = await start();
    await send([
      {
        resource: { attributes: [str('service.name', 'frontend')] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: id('00000000000000000000000000000001'),
                spanId: id('0000000000000001'),
                name: 'HTTP GET /',
                kind: 2,
                startTimeUnixNano: '1000000000000',
                endTimeUnixNano: '1001000000000',
              },
              {
                traceId: id('00000000000000000000000000000001'),
                spanId: id('0000000000000002'),
                parentSpanId: id('0000000000000001'),
                name: 'get_users',
                kind: 2,
                status: { code: 2 },
                startTimeUnixNano: '1000000000001',
                endTimeUnixNano: '1000000000002',
              },
            ],
          },
        ],
      },
    ]);
    expect(JSON.parse((await fetchText(`${base}/api/v3/services`)).body)).toEqual({ services: ['frontend'] });
    expect(JSON.parse((await fetchText(`${base}/api/v3/operations?service=frontend&span_kind=server`)).body)).toEqual({
      operations: [
        { name: 'HTTP GET /', spanKind: 'server' },
        { name: 'get_users', spanKind: 'server' },
      ],
    });
    expect((await fetchText(`${base}/api/v3/operations?service=frontend&spanKind=client`)).body).toBe('{}');
    const r = await fetchText(`${base}/api/v3/trace-summaries?query.start_time_min=1970-01-01T00:00:00Z&query.start_time_max=1970-01-01T00:20:00Z`);
    expect(r.status).toBe(200);
    // jaeger v2.20 apiv3/snapshots/FindTraceSummaries.json
    expect(JSON.parse(r.body)).toEqual({
      summaries: [
        {
          errorSpanCount: 1,
          maxEndTimeUnixNano: '1001000000000',
          minStartTimeUnixNano: '1000000000000',
          rootOperationName: 'HTTP GET /',
          rootServiceName: 'frontend',
          services: [{ errorSpanCount: 1, name: 'frontend', spanCount: 2 }],
          spanCount: 2,
          traceId: '00000000000000000000000000000001',
        },
      ],
    });
  });

  it('returns a trace as it arrived with raw_traces, and adjusted (sorted) without', async () => {
    const { base, send } = await start();
    await sendFixture(send);
    const raw = await fetchText(`${base}/api/v3/traces/${T}?raw_traces=true`);
    expect(raw.status).toBe(200);
    // OTLP/JSON as Jaeger writes it: int64 as strings, a double stays a double, numeric enums.
    expect(raw.body).toContain('{"key":"http.response.status_code","value":{"intValue":"201"}}');
    expect(raw.body).toContain('{"key":"ratio","value":{"doubleValue":1}}');
    expect(raw.body).toContain('"status":{"message":"boom","code":2}');
    const rawJson = JSON.parse(raw.body) as { result: { resourceSpans: Array<{ resource: unknown; scopeSpans: Array<{ scope: unknown; spans: Array<Record<string, unknown>> }> }> } };
    // One ResourceSpans per export request and resource; the second request's U span is not here.
    expect(rawJson.result.resourceSpans.map((rs) => rs.resource)).toEqual([
      { attributes: [str('service.name', 'apiserver'), str('host.name', 'node-1')] },
      { attributes: [str('service.name', 'etcd')] },
    ]);
    expect(rawJson.result.resourceSpans[1]!.scopeSpans).toEqual([
      {
        scope: { name: 'go.etcd.io/etcd/server', version: '3.5.21' },
        spans: [
          {
            traceId: T,
            spanId: '3333333333333333',
            parentSpanId: '2222222222222222',
            name: 'etcdserverpb.KV/Txn',
            kind: 2,
            startTimeUnixNano: at(5),
            endTimeUnixNano: at(7),
            status: {},
          },
        ],
      },
    ]);
    const root = rawJson.result.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect((root['attributes'] as Array<{ key: string }>).map((a) => a.key)).toEqual(['z.last', 'http.response.status_code', 'ratio', 'ok']);
    expect((root['events'] as Array<{ name: string }>).map((e) => e.name)).toEqual(['b event', 'a event']);
    const child = rawJson.result.resourceSpans[0]!.scopeSpans[0]!.spans[1]!;
    expect(child['links']).toEqual([{ traceId: U, spanId: '4444444444444444', attributes: [str('why', 'caller')] }]);

    const adjusted = JSON.parse((await fetchText(`${base}/api/v3/traces/${T}`)).body) as typeof rawJson;
    const aroot = adjusted.result.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect((aroot['attributes'] as Array<{ key: string }>).map((a) => a.key)).toEqual(['http.response.status_code', 'ok', 'ratio', 'z.last']);
    expect((aroot['events'] as Array<{ name: string }>).map((e) => e.name)).toEqual(['a event', 'b event']);
    expect(adjusted.result.resourceSpans[0]!.resource).toEqual({ attributes: [str('host.name', 'node-1'), str('service.name', 'apiserver')] });
    // The base64 form of the id finds the same trace (Jaeger v2.20).
    expect((await fetchText(`${base}/api/v3/traces/${encodeURIComponent(id(T).toString('base64'))}?raw_traces=true`)).body).toBe(raw.body);
  });

  it('searches as Jaeger: newest first, service, operation, attributes, durations, depth; 404 when nothing matches', async () => {
    const { base, send } = await start();
    await sendFixture(send);
    const ids = async (query: string, window = WINDOW): Promise<string[] | number> => {
      const r = await fetchText(`${base}/api/v3/traces?${window}&query.raw_traces=true&${query}`);
      if (r.status !== 200) return r.status;
      const body = JSON.parse(r.body) as { result: { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string }> }> }> } };
      return [...new Set(body.result.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.traceId))))];
    };
    // U's first span arrived after T's, so U is the newer trace.
    expect(await ids('')).toEqual([U, T]);
    expect(await ids('query.num_traces=1')).toEqual([U]);
    expect(await ids('query.service_name=etcd')).toEqual([U, T]);
    expect(await ids('query.service_name=apiserver')).toEqual([T]);
    expect(await ids('query.service_name=etcd&query.operation_name=etcdserverpb.KV/Range')).toEqual([U]);
    expect(await ids('query.service_name=apiserver&query.operation_name=etcdserverpb.KV/Range')).toBe(404);
    expect(await ids(`query.attributes=${encodeURIComponent('{"name":"demo"}')}`)).toEqual([T]);
    expect(await ids(`query.attributes=${encodeURIComponent('{"error":"true","resource":"pods"}')}`)).toEqual([T]);
    expect(await ids(`query.attributes=${encodeURIComponent('{"resource.host.name":"node-1"}')}`)).toEqual([T]);
    expect(await ids('query.duration_min=19ms')).toEqual([T]);
    expect(await ids('query.duration_max=1500us')).toEqual([U]);
    // U's only span starts at +30 ms.
    expect(await ids('', 'query.start_time_min=2024-01-02T03:04:05.025Z&query.start_time_max=2024-01-02T03:04:06Z')).toEqual([U]);
    // The bounds hold to the nanosecond, both inclusive.
    expect(await ids('', `query.startTimeMin=2024-01-02T03:04:05.03Z&query.startTimeMax=2024-01-02T03:04:05.030000001Z`)).toEqual([U]);
    expect(await ids('', `query.startTimeMin=2024-01-02T03:04:05.030000001Z&query.startTimeMax=2024-01-02T03:04:06Z`)).toBe(404);

    const empty = await fetchText(`${base}/api/v3/traces?${WINDOW}&query.service_name=scheduler`);
    expect(empty).toMatchObject({
      status: 404,
      body: '{"error":{"httpCode":404,"message":"No traces found"}}\n',
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
    });
    const unknown = await fetchText(`${base}/api/v3/traces/${'f'.repeat(32)}`);
    expect(unknown).toMatchObject({ status: 404, body: '{"error":{"httpCode":404,"message":"No traces found"}}\n' });
    const bad = await fetchText(`${base}/api/v3/traces?query.service_name=etcd`);
    expect(bad).toMatchObject({ status: 400, body: '{"error":{"httpCode":400,"message":"query.startTimeMin and query.startTimeMax are required"}}\n' });
    const deep = await fetchText(`${base}/api/v3/traces?${WINDOW}&query.search_depth=0`);
    expect(deep).toMatchObject({ status: 500, body: '{"error":{"httpCode":500,"message":"search depth must be greater than 0 and less than max traces"}}\n' });
  });

  it('keeps services and operations, sorted, with kinds, and forgets them on clear()', async () => {
    const { base, send } = await start();
    await sendFixture(send);
    expect(receiver!.services()).toEqual(['apiserver', 'etcd']);
    expect(receiver!.operations('etcd')).toEqual([
      { name: 'etcdserverpb.KV/Range', kind: 2 },
      { name: 'etcdserverpb.KV/Txn', kind: 2 },
    ]);
    expect(JSON.parse((await fetchText(`${base}/api/v3/operations?service=apiserver`)).body)).toEqual({
      operations: [
        { name: 'Create', spanKind: 'internal' },
        { name: 'POST /api/v1/namespaces/{:namespace}/pods', spanKind: 'server' },
      ],
    });
    receiver!.clear();
    expect((await fetchText(`${base}/api/v3/services`)).body).toBe('{}');
    expect(receiver!.otlpResourceSpans(T)).toEqual([]);
  });

  it('keeps services and operations after their traces are evicted, as Jaeger does', async () => {
    const { base, send } = await start({ maxSpans: 1 });
    await sendFixture(send);
    expect(receiver!.traceIds()).toEqual([U]);
    expect(receiver!.otlpResourceSpans(T)).toEqual([]);
    expect(JSON.parse((await fetchText(`${base}/api/v3/services`)).body)).toEqual({ services: ['apiserver', 'etcd'] });
    expect((await fetchText(`${base}/api/v3/traces/${T}`)).status).toBe(404);
  });

  it('serves the viewer page, HEAD without a body, 404 elsewhere', async () => {
    const { base } = await start();
    const page = await fetchText(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>k8s-trace-sim traces</title>');
    // Everything is inline: nothing to fetch from elsewhere.
    expect(page.body).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\//);
    const head = await fetchText(`${base}/api/v3/services`, 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(await fetchText(`${base}/nope`)).toMatchObject({ status: 404, body: '404 page not found\n' });
  });

  it('streams an event naming the traces that grew (Server-Sent Events)', async () => {
    const { base, send } = await start();
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpGet(`${base}/viewer/events`, resolve).on('error', reject));
    expect(res.headers['content-type']).toBe('text/event-stream');
    let text = '';
    res.setEncoding('utf8');
    const got = new Promise<string>((resolve) => {
      res.on('data', (d: string) => {
        text += d;
        const m = /event: spans\ndata: (.*)\n\n/.exec(text);
        if (m) resolve(m[1] as string);
      });
    });
    await sendFixture(send);
    const data = JSON.parse(await got) as { traceIds: string[]; spans: number };
    expect(data.traceIds.sort()).toEqual([T, U]);
    expect(data.spans).toBe(4);
    res.destroy();
  });

  it('rejects a busy port with EADDRINUSE', async () => {
    const busy = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    const port = (busy.address() as { port: number }).port;
    receiver = await startOtlpReceiver();
    await expect(startQueryServer({ receiver, port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    busy.close();
  });
});
