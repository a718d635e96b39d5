import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadProto, lookupService } from './proto.js';
import {
  attributesToJs,
  hex,
  tracesDataToJson,
  type AttrValue,
  type RawResourceSpans,
  type RawSpan,
} from './otlp-json.js';

/** One received span, flattened with its resource and scope for easy assertions and queries. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly flags: number;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Readonly<Record<string, AttrValue>>;
  readonly events: ReadonlyArray<{ name: string; timeUnixNano: bigint; attributes: Readonly<Record<string, AttrValue>> }>;
  readonly links: ReadonlyArray<{ traceId: string; spanId: string; attributes: Readonly<Record<string, AttrValue>> }>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string };
  readonly resource: Readonly<Record<string, AttrValue>>;
  readonly scope: { readonly name: string; readonly version: string };
  readonly receivedAt: number;
}

export interface OtlpReceiverOptions {
  host?: string;
  /** 0 (the default) lets the OS pick a free port. */
  port?: number;
  /** Oldest traces are evicted once more spans than this are held (default 200 000). */
  maxSpans?: number;
  /** Appends each accepted batch here as one OTLP/JSON line, as the Collector's file exporter does. */
  tracesFile?: string;
  /**
   * Keep each trace as it arrived in OTLP/JSON too, for the query API
   * (default true). A load generator's receiver that only counts spans turns
   * it off: the conversion costs as much as the decoding.
   */
  keepOtlpJson?: boolean;
}

/** One OTLP operation name seen for a service, as Jaeger's store indexes them. */
export interface ReceivedOperation {
  readonly name: string;
  /** OTLP SpanKind, 0 when unspecified. */
  readonly kind: number;
}

export interface ReceiverStats {
  exportRequests: number;
  spansAccepted: number;
  spansRejected: number;
  spansEvicted: number;
}

export interface OtlpReceiver {
  /** `host:port` to give an exporter. */
  readonly endpoint: string;
  readonly port: number;
  spans(): ReceivedSpan[];
  trace(traceId: string): ReceivedSpan[];
  /** Trace ids in the order their first span arrived (oldest first). */
  traceIds(): string[];
  /**
   * The trace as it arrived, in OTLP/JSON: one `ResourceSpans` JSON text per export request and
   * resource (as Jaeger's memory store keeps a trace), with attribute types, dropped counts,
   * trace states and scope attributes exactly as sent. Empty for an unknown trace.
   */
  otlpResourceSpans(traceId: string): string[];
  /** Every `service.name` a span arrived from, sorted; like Jaeger's, kept after its traces are evicted. */
  services(): string[];
  /** The span names and kinds seen for a service, sorted by name then kind. */
  operations(service: string): ReceivedOperation[];
  stats(): Readonly<ReceiverStats>;
  /** Called after every accepted batch with the spans it added. */
  onSpans(listener: (spans: readonly ReceivedSpan[]) => void): () => void;
  /** Resolves with all spans once `predicate` holds, or rejects after `timeoutMs` listing what did arrive. */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  clear(): void;
  close(): Promise<void>;
}

const ZERO = /^0*$/;

/** Why a span cannot be stored, or undefined when it can. Pure, so it is table-tested. */
export function invalidSpanReason(s: RawSpan): string | undefined {
  const t = hex(s.traceId);
  const id = hex(s.spanId);
  const parent = hex(s.parentSpanId);
  if (t.length !== 32 || ZERO.test(t)) return 'invalid trace id';
  if (id.length !== 16 || ZERO.test(id)) return 'invalid span id';
  if (parent !== '' && parent.length !== 16) return 'invalid parent span id';
  return undefined;
}

function flatten(rs: RawResourceSpans, receivedAt: number, accept: (s: RawSpan) => boolean): ReceivedSpan[] {
  const resource = attributesToJs(rs.resource?.attributes);
  const out: ReceivedSpan[] = [];
  for (const ss of rs.scopeSpans ?? []) {
    const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' };
    for (const s of ss.spans ?? []) {
      if (!accept(s)) continue;
      out.push({
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        traceState: s.traceState ?? '',
        flags: s.flags ?? 0,
        name: s.name ?? '',
        kind: s.kind ?? 0,
        startTimeUnixNano: BigInt(s.startTimeUnixNano ?? '0'),
        endTimeUnixNano: BigInt(s.endTimeUnixNano ?? '0'),
        attributes: attributesToJs(s.attributes),
        events: (s.events ?? []).map((e) => ({
          name: e.name ?? '',
          timeUnixNano: BigInt(e.timeUnixNano ?? '0'),
          attributes: attributesToJs(e.attributes),
        })),
        links: (s.links ?? []).map((l) => ({
          traceId: hex(l.traceId),
          spanId: hex(l.spanId),
          attributes: attributesToJs(l.attributes),
        })),
        status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        resource,
        scope,
        receivedAt,
      });
    }
  }
  return out;
}

/** One export request's spans of one trace from one resource, as OTLP/JSON texts. */
interface OtlpChunk {
  readonly resource: string;
  readonly schemaUrl: string | undefined;
  readonly scopes: Array<{ readonly scope: string; readonly schemaUrl: string | undefined; readonly spans: string[] }>;
}

function chunkJson(c: OtlpChunk): string {
  const scopes = c.scopes.map(
    (ss) => `{"scope":${ss.scope},"spans":[${ss.spans.join(',')}]${ss.schemaUrl ? `,"schemaUrl":${JSON.stringify(ss.schemaUrl)}` : ''}}`,
  );
  return `{"resource":${c.resource},"scopeSpans":[${scopes.join(',')}]${c.schemaUrl ? `,"schemaUrl":${JSON.stringify(c.schemaUrl)}` : ''}}`;
}

interface JsonResourceSpans {
  resource: unknown;
  schemaUrl?: string;
  scopeSpans: Array<{ scope: unknown; schemaUrl?: string; spans: Array<{ traceId: string }> }>;
}

/**
 * Splits one export request, already in OTLP/JSON, by trace: each trace gets one chunk per
 * resource, holding that resource's scopes with the trace's spans (Jaeger's memory store
 * reshuffles a batch the same way). The texts are kept rather than objects: a string costs a
 * byte a character, an object graph several times that.
 */
function splitByTrace(data: { resourceSpans: JsonResourceSpans[] }): Map<string, OtlpChunk[]> {
  const out = new Map<string, OtlpChunk[]>();
  for (const rs of data.resourceSpans) {
    const resource = JSON.stringify(rs.resource);
    const perTrace = new Map<string, OtlpChunk>();
    for (const ss of rs.scopeSpans) {
      const scope = JSON.stringify(ss.scope);
      const perTraceScope = new Map<string, string[]>();
      for (const span of ss.spans) {
        let chunk = perTrace.get(span.traceId);
        if (!chunk) perTrace.set(span.traceId, (chunk = { resource, schemaUrl: rs.schemaUrl, scopes: [] }));
        let spans = perTraceScope.get(span.traceId);
        if (!spans) {
          perTraceScope.set(span.traceId, (spans = []));
          chunk.scopes.push({ scope, schemaUrl: ss.schemaUrl, spans });
        }
        spans.push(JSON.stringify(span));
      }
    }
    for (const [traceId, chunk] of perTrace) {
      let list = out.get(traceId);
      if (!list) out.set(traceId, (list = []));
      list.push(chunk);
    }
  }
  return out;
}

/** Starts an OTLP/gRPC TraceService on host:port. */
export async function startOtlpReceiver(opts: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const host = opts.host ?? '127.0.0.1';
  const maxSpans = opts.maxSpans ?? 200_000;
  const byTrace = new Map<string, { spans: ReceivedSpan[]; chunks: OtlpChunk[] }>();
  const operations = new Map<string, Map<string, ReceivedOperation>>();
  let held = 0;
  const stats: ReceiverStats = { exportRequests: 0, spansAccepted: 0, spansRejected: 0, spansEvicted: 0 };
  const listeners = new Set<(spans: readonly ReceivedSpan[]) => void>();
  let file: WriteStream | undefined;
  if (opts.tracesFile) {
    mkdirSync(dirname(opts.tracesFile), { recursive: true });
    file = createWriteStream(opts.tracesFile, { flags: 'a' });
  }

  const entry = (traceId: string): { spans: ReceivedSpan[]; chunks: OtlpChunk[] } => {
    let e = byTrace.get(traceId);
    if (!e) byTrace.set(traceId, (e = { spans: [], chunks: [] }));
    return e;
  };
  const keepJson = opts.keepOtlpJson ?? true;
  const store = (spans: ReceivedSpan[], chunks: Map<string, OtlpChunk[]>): void => {
    for (const s of spans) {
      entry(s.traceId).spans.push(s);
      // Jaeger indexes only spans whose resource names a service (a string service.name).
      const service = s.resource['service.name'];
      if (typeof service !== 'string' || service === '') continue;
      let ops = operations.get(service);
      if (!ops) operations.set(service, (ops = new Map()));
      ops.set(`${s.name}\u0000${s.kind}`, { name: s.name, kind: s.kind });
    }
    for (const [traceId, list] of chunks) entry(traceId).chunks.push(...list);
    held += spans.length;
    // Whole traces go, oldest first (Map keeps insertion order), like Jaeger's memory store.
    for (const [id, e] of byTrace) {
      if (held <= maxSpans) break;
      byTrace.delete(id);
      held -= e.spans.length;
      stats.spansEvicted += e.spans.length;
    }
  };

  const service = lookupService(loadProto('otlp/trace_service.proto'), 'opentelemetry.proto.collector.trace.v1.TraceService');
  const server = new grpc.Server();
  server.addService(service.service, {
    Export: (
      call: grpc.ServerUnaryCall<{ resourceSpans?: RawResourceSpans[] }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      stats.exportRequests++;
      const now = Date.now();
      const accepted: ReceivedSpan[] = [];
      const reasons = new Map<string, number>();
      const acceptedRaw: RawResourceSpans[] = [];
      for (const rs of call.request.resourceSpans ?? []) {
        const keep = (s: RawSpan): boolean => {
          const why = invalidSpanReason(s);
          if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
          return !why;
        };
        accepted.push(...flatten(rs, now, keep));
        acceptedRaw.push({
          ...rs,
          scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({ ...ss, spans: (ss.spans ?? []).filter((s) => !invalidSpanReason(s)) })),
        });
      }
      const rejected = [...reasons.values()].reduce((a, b) => a + b, 0);
      stats.spansAccepted += accepted.length;
      stats.spansRejected += rejected;
      if (accepted.length > 0) {
        if (keepJson || file) {
          const json = tracesDataToJson(acceptedRaw) as unknown as { resourceSpans: JsonResourceSpans[] };
          store(accepted, keepJson ? splitByTrace(json) : new Map());
          if (file) file.write(JSON.stringify(json) + '\n');
        } else store(accepted, new Map());
      }
      // OTLP: partial_success is set only when something was rejected.
      callback(
        null,
        rejected > 0
          ? {
              partialSuccess: {
                rejectedSpans: String(rejected),
                errorMessage: [...reasons].map(([why, n]) => `${n} span(s) rejected: ${why}`).join('; '),
              },
            }
          : {},
      );
      if (accepted.length > 0) for (const l of listeners) l(accepted);
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });

  const all = (): ReceivedSpan[] => [...byTrace.values()].flatMap((e) => e.spans);
  return {
    endpoint: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    spans: all,
    trace: (id) => [...(byTrace.get(id)?.spans ?? [])],
    traceIds: () => [...byTrace.keys()],
    otlpResourceSpans: (id) => (byTrace.get(id)?.chunks ?? []).map(chunkJson),
    services: () => [...operations.keys()].sort(),
    operations: (service) =>
      [...(operations.get(service)?.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind - b.kind)),
    stats: () => ({ ...stats }),
    onSpans(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForSpans(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const spans = all();
          if (!predicate(spans)) return false;
          cleanup();
          resolve(spans);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          const names = all().map((s) => `${String(s.resource['service.name'])}:${s.name}`);
          reject(new Error(`spans not received within ${timeoutMs} ms; have ${names.length}: ${names.slice(0, 50).join(', ')}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        if (!check()) listeners.add(check);
      });
    },
    clear() {
      byTrace.clear();
      operations.clear();
      held = 0;
    },
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      if (file) {
        const f = file;
        await new Promise<void>((resolve) => f.end(() => resolve()));
      }
    },
  };
}
