import type { ExpectedTrace, ManifestSpan } from '../../shared/src/manifest.js';

/**
 * The comparison at the heart of `verify`: a trace as the manifest says it was
 * sent against the spans a backend returned for it. Pure, so every verdict is
 * table-tested.
 */

/** A span a backend returned, whatever dialect of OTLP/JSON it spoke. */
export interface FetchedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly service: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly status: number;
}

const SPAN_KINDS: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Readonly<Record<string, number>> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/**
 * An id as lowercase hex. Jaeger and our receiver write hex; Tempo's protobuf
 * JSON writes bytes as base64. The lengths never overlap (16 bytes: 32 hex or
 * 22–24 base64 characters; 8 bytes: 16 or 11–12), so the form is known by length.
 */
export function normalizeId(id: unknown, bytes: 8 | 16): string {
  if (typeof id !== 'string' || id === '') return '';
  if (id.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(id)) return id.toLowerCase();
  if (/^[A-Za-z0-9+/_-]+=*$/.test(id)) {
    // Node decodes base64url and unpadded base64 alike.
    const buf = Buffer.from(id, 'base64');
    if (buf.length === bytes) return buf.toString('hex');
  }
  return id.toLowerCase();
}

function enumValue(v: unknown, names: Readonly<Record<string, number>>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return names[v] ?? (/^\d+$/.test(v) ? Number(v) : 0);
  return 0;
}

/** An OTLP/JSON AnyValue as a plain value; int64 arrives as a string in protobuf JSON. */
export function jsonAnyValue(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if ('stringValue' in o) return o['stringValue'];
  if ('boolValue' in o) return o['boolValue'];
  if ('intValue' in o) {
    const n = Number(o['intValue']);
    return Number.isSafeInteger(n) ? n : String(o['intValue']);
  }
  if ('doubleValue' in o) return Number(o['doubleValue']);
  if ('arrayValue' in o) return (((o['arrayValue'] as { values?: unknown[] } | null)?.values ?? []) as unknown[]).map(jsonAnyValue);
  if ('kvlistValue' in o) return jsonAttributes((o['kvlistValue'] as { values?: unknown[] } | null)?.values);
  if ('bytesValue' in o) return o['bytesValue'];
  return null;
}

function jsonAttributes(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as Array<{ key?: unknown; value?: unknown }>) {
    if (typeof kv?.key === 'string') out[kv.key] = jsonAnyValue(kv.value);
  }
  return out;
}

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Every span in a backend's answer: Jaeger v2's `{"result": {"resourceSpans"}}`,
 * plain OTLP `{"resourceSpans"}`, Tempo's `{"batches"}` (`/api/traces`) or
 * `{"trace": {"resourceSpans"}}` (`/api/v2/traces`), with scopeSpans or the
 * older instrumentationLibrarySpans, numeric or named enums, hex or base64 ids.
 */
export function fetchedSpans(doc: unknown): FetchedSpan[] {
  if (typeof doc !== 'object' || doc === null) return [];
  const d = doc as Record<string, any>;
  const holder = d['result'] ?? d['trace'] ?? d;
  const resourceSpans = asArray(holder?.resourceSpans ?? holder?.batches);
  const out: FetchedSpan[] = [];
  for (const rs of resourceSpans as Array<Record<string, any>>) {
    const resource = jsonAttributes(rs?.['resource']?.attributes);
    const service = String(resource['service.name'] ?? '');
    for (const ss of asArray(rs?.['scopeSpans'] ?? rs?.['instrumentationLibrarySpans']) as Array<Record<string, any>>) {
      for (const s of asArray(ss?.['spans']) as Array<Record<string, any>>) {
        out.push({
          traceId: normalizeId(s['traceId'], 16),
          spanId: normalizeId(s['spanId'], 8),
          parentSpanId: normalizeId(s['parentSpanId'], 8),
          name: String(s['name'] ?? ''),
          kind: enumValue(s['kind'], SPAN_KINDS),
          service,
          attributes: jsonAttributes(s['attributes']),
          status: enumValue(s['status']?.code, STATUS_CODES),
        });
      }
    }
  }
  return out;
}

export type TraceStatus = 'found' | 'missing' | 'partial' | 'wrong-parent' | 'wrong-attribute' | 'unsent';

export interface SpanRef {
  readonly spanId: string;
  readonly name: string;
  readonly service: string;
}

export interface WrongParent extends SpanRef {
  readonly want: string;
  readonly got: string;
}

export interface WrongAttribute extends SpanRef {
  /** An attribute key, or `name`, `kind`, `service.name`, `status.code` for the span's own fields. */
  readonly key: string;
  readonly want: unknown;
  /** undefined: the backend has the span without this attribute. */
  readonly got: unknown;
}

export interface TraceCheck {
  readonly traceId: string;
  readonly status: TraceStatus;
  /** The root span as sent (or the first span when the root is elsewhere), for the report. */
  readonly root: SpanRef | undefined;
  readonly services: readonly string[];
  readonly expectedSpans: number;
  readonly foundSpans: number;
  readonly missingSpans: readonly SpanRef[];
  readonly wrongParents: readonly WrongParent[];
  readonly wrongAttributes: readonly WrongAttribute[];
  /** Spans whose export failed: dropped by the sender, not by the backend. */
  readonly unsentSpans: readonly SpanRef[];
  readonly exportErrors: readonly string[];
}

const ref = (s: ManifestSpan): SpanRef => ({ spanId: s.spanId, name: s.name, service: s.service });

/** Equal as values: 200 and "200" differ, [1,2] and [1,2] do not. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The verdict for one trace. Missing spans outrank a wrong parent, which
 * outranks a wrong attribute; every problem is listed whatever the verdict.
 * Spans the backend has beyond the manifest (from a process that kept no
 * manifest) are no problem.
 */
export function compareTrace(expected: ExpectedTrace, fetched: readonly FetchedSpan[]): TraceCheck {
  const byId = new Map<string, FetchedSpan>();
  for (const f of fetched) if (f.traceId === expected.traceId && !byId.has(f.spanId)) byId.set(f.spanId, f);
  const missingSpans: SpanRef[] = [];
  const wrongParents: WrongParent[] = [];
  const wrongAttributes: WrongAttribute[] = [];
  let foundSpans = 0;
  for (const s of expected.spans) {
    const got = byId.get(s.spanId);
    if (!got) {
      missingSpans.push(ref(s));
      continue;
    }
    foundSpans++;
    if (got.parentSpanId !== s.parentSpanId) wrongParents.push({ ...ref(s), want: s.parentSpanId, got: got.parentSpanId });
    const wrong = (key: string, want: unknown, value: unknown): void => {
      if (!same(want, value)) wrongAttributes.push({ ...ref(s), key, want, got: value });
    };
    wrong('name', s.name, got.name);
    wrong('kind', s.kind, got.kind);
    wrong('service.name', s.service, got.service);
    wrong('status.code', s.status ?? 0, got.status);
    for (const [key, want] of Object.entries(s.attributes)) wrong(key, want, got.attributes[key]);
  }
  const status: TraceStatus =
    expected.spans.length === 0
      ? 'unsent'
      : foundSpans === 0
        ? 'missing'
        : missingSpans.length > 0
          ? 'partial'
          : wrongParents.length > 0
            ? 'wrong-parent'
            : wrongAttributes.length > 0
              ? 'wrong-attribute'
              : 'found';
  const all = [...expected.spans, ...expected.unsent];
  const ids = new Set(all.map((s) => s.spanId));
  const root = all.find((s) => s.parentSpanId === '') ?? all.find((s) => !ids.has(s.parentSpanId)) ?? all[0];
  return {
    traceId: expected.traceId,
    status,
    root: root ? ref(root) : undefined,
    services: expected.services,
    expectedSpans: expected.spans.length,
    foundSpans,
    missingSpans,
    wrongParents,
    wrongAttributes,
    unsentSpans: expected.unsent.map(ref),
    exportErrors: expected.errors,
  };
}

/** A trace is settled when more polling cannot change its verdict. */
export function settled(check: TraceCheck): boolean {
  return check.status !== 'missing' && check.status !== 'partial';
}

/** Nearest-rank percentile of `values` (0 < p ≤ 100); undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface TraceResult extends TraceCheck {
  /** Ms from the trace's last send to the poll that first found it complete. */
  readonly queryableAfterMs?: number;
  /** The trace was complete at the first poll, so queryableAfterMs is only an upper bound. */
  readonly completeAtFirstPoll?: boolean;
  /** The last request for this trace that failed, when the deadline came before an answer. */
  readonly lastError?: string;
}

export interface VerifySummary {
  readonly traces: number;
  readonly found: number;
  readonly missing: number;
  readonly partial: number;
  readonly wrongParent: number;
  readonly wrongAttribute: number;
  /** Traces none of whose spans was exported. */
  readonly unsent: number;
  readonly spansSent: number;
  readonly spansFound: number;
  /** Spans the senders dropped themselves (failed exports). */
  readonly spansUnsent: number;
  /** Spans sent but not found, as a percentage of spans sent. */
  readonly lossPercent: number;
  readonly latency?: { readonly count: number; readonly medianMs: number; readonly p99Ms: number; readonly upperBound: boolean };
  /** Every sent span was found intact and nothing was dropped before sending. */
  readonly ok: boolean;
}

export function summarize(results: readonly TraceResult[]): VerifySummary {
  const count = (s: TraceStatus): number => results.filter((r) => r.status === s).length;
  const spansSent = results.reduce((n, r) => n + r.expectedSpans, 0);
  const spansFound = results.reduce((n, r) => n + r.foundSpans, 0);
  const spansUnsent = results.reduce((n, r) => n + r.unsentSpans.length, 0);
  const lat = results.flatMap((r) => (r.queryableAfterMs !== undefined ? [r.queryableAfterMs] : []));
  const found = count('found');
  return {
    traces: results.length,
    found,
    missing: count('missing'),
    partial: count('partial'),
    wrongParent: count('wrong-parent'),
    wrongAttribute: count('wrong-attribute'),
    unsent: count('unsent'),
    spansSent,
    spansFound,
    spansUnsent,
    lossPercent: spansSent === 0 ? 0 : Math.round(((spansSent - spansFound) / spansSent) * 10_000) / 100,
    ...(lat.length > 0
      ? {
          latency: {
            count: lat.length,
            medianMs: percentile(lat, 50) as number,
            p99Ms: percentile(lat, 99) as number,
            upperBound: results.some((r) => r.completeAtFirstPoll === true),
          },
        }
      : {}),
    ok: results.length > 0 && found === results.length && spansUnsent === 0,
  };
}
