/**
 * Decoded OTLP messages (as our proto loader gives them: camelCase, bytes as
 * Buffer, int64/fixed64 as decimal strings, enums as numbers, oneofs named in
 * `value`) turned into the OTLP/JSON encoding the Collector's file exporter
 * writes: hex ids, int64 as strings, enums as integers, default values left out.
 */

export type AttrValue = string | number | boolean | AttrValue[] | { [key: string]: AttrValue } | null;

interface RawAnyValue {
  value?: string;
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: RawAnyValue[] };
  kvlistValue?: { values?: RawKeyValue[] };
  bytesValue?: Buffer;
}
export interface RawKeyValue {
  key: string;
  value?: RawAnyValue | null;
}
export interface RawEvent {
  timeUnixNano?: string;
  name?: string;
  attributes?: RawKeyValue[];
  droppedAttributesCount?: number;
}
export interface RawLink {
  traceId?: Buffer;
  spanId?: Buffer;
  traceState?: string;
  attributes?: RawKeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
}
export interface RawSpan {
  traceId?: Buffer;
  spanId?: Buffer;
  traceState?: string;
  parentSpanId?: Buffer;
  flags?: number;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: RawKeyValue[];
  droppedAttributesCount?: number;
  events?: RawEvent[];
  droppedEventsCount?: number;
  links?: RawLink[];
  droppedLinksCount?: number;
  status?: { message?: string; code?: number } | null;
}
export interface RawScopeSpans {
  scope?: { name?: string; version?: string; attributes?: RawKeyValue[]; droppedAttributesCount?: number } | null;
  spans?: RawSpan[];
  schemaUrl?: string;
}
export interface RawResourceSpans {
  resource?: { attributes?: RawKeyValue[]; droppedAttributesCount?: number } | null;
  scopeSpans?: RawScopeSpans[];
  schemaUrl?: string;
}

export const hex = (b: Buffer | undefined): string => (b ? b.toString('hex') : '');

/** The plain JS value of an AnyValue; int64 beyond 2^53 stays a string. */
export function anyValueToJs(v: RawAnyValue | null | undefined): AttrValue {
  if (!v) return null;
  switch (v.value) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'intValue': {
      const n = Number(v.intValue);
      return Number.isSafeInteger(n) ? n : String(v.intValue);
    }
    case 'doubleValue':
      return v.doubleValue ?? 0;
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map(anyValueToJs);
    case 'kvlistValue':
      return attributesToJs(v.kvlistValue?.values);
    case 'bytesValue':
      return (v.bytesValue ?? Buffer.alloc(0)).toString('base64');
    default:
      return null;
  }
}

export function attributesToJs(kvs: RawKeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValueToJs(kv.value);
  return out;
}

function anyValueToJson(v: RawAnyValue | null | undefined): Record<string, unknown> {
  if (!v) return {};
  switch (v.value) {
    case 'stringValue':
      return { stringValue: v.stringValue ?? '' };
    case 'boolValue':
      return { boolValue: v.boolValue ?? false };
    case 'intValue':
      return { intValue: String(v.intValue ?? '0') };
    case 'doubleValue':
      return { doubleValue: v.doubleValue ?? 0 };
    case 'arrayValue':
      return { arrayValue: { values: (v.arrayValue?.values ?? []).map(anyValueToJson) } };
    case 'kvlistValue':
      return { kvlistValue: { values: attributesToJson(v.kvlistValue?.values) } };
    case 'bytesValue':
      return { bytesValue: (v.bytesValue ?? Buffer.alloc(0)).toString('base64') };
    default:
      return {};
  }
}

function attributesToJson(kvs: RawKeyValue[] | undefined): Array<Record<string, unknown>> {
  return (kvs ?? []).map((kv) => ({ key: kv.key, value: anyValueToJson(kv.value) }));
}

/** Copies `value` under `key` unless it is the proto3 default, as JSON encoders do. */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') return;
  if (Array.isArray(value) && value.length === 0) return;
  obj[key] = value;
}

function spanToJson(s: RawSpan): Record<string, unknown> {
  const o: Record<string, unknown> = { traceId: hex(s.traceId), spanId: hex(s.spanId) };
  put(o, 'traceState', s.traceState);
  put(o, 'parentSpanId', hex(s.parentSpanId));
  put(o, 'flags', s.flags);
  o['name'] = s.name ?? '';
  put(o, 'kind', s.kind);
  o['startTimeUnixNano'] = String(s.startTimeUnixNano ?? '0');
  o['endTimeUnixNano'] = String(s.endTimeUnixNano ?? '0');
  put(o, 'attributes', attributesToJson(s.attributes));
  put(o, 'droppedAttributesCount', s.droppedAttributesCount);
  put(
    o,
    'events',
    (s.events ?? []).map((e) => {
      const ev: Record<string, unknown> = { timeUnixNano: String(e.timeUnixNano ?? '0'), name: e.name ?? '' };
      put(ev, 'attributes', attributesToJson(e.attributes));
      put(ev, 'droppedAttributesCount', e.droppedAttributesCount);
      return ev;
    }),
  );
  put(o, 'droppedEventsCount', s.droppedEventsCount);
  put(
    o,
    'links',
    (s.links ?? []).map((l) => {
      const lk: Record<string, unknown> = { traceId: hex(l.traceId), spanId: hex(l.spanId) };
      put(lk, 'traceState', l.traceState);
      put(lk, 'attributes', attributesToJson(l.attributes));
      put(lk, 'droppedAttributesCount', l.droppedAttributesCount);
      put(lk, 'flags', l.flags);
      return lk;
    }),
  );
  put(o, 'droppedLinksCount', s.droppedLinksCount);
  const status: Record<string, unknown> = {};
  put(status, 'message', s.status?.message);
  put(status, 'code', s.status?.code);
  o['status'] = status;
  return o;
}

/** One ExportTraceServiceRequest as an OTLP/JSON `TracesData` object (one line of a file exporter's output). */
export function tracesDataToJson(resourceSpans: RawResourceSpans[]): Record<string, unknown> {
  return {
    resourceSpans: resourceSpans.map((rs) => {
      const r: Record<string, unknown> = {};
      const resource: Record<string, unknown> = {};
      put(resource, 'attributes', attributesToJson(rs.resource?.attributes));
      put(resource, 'droppedAttributesCount', rs.resource?.droppedAttributesCount);
      r['resource'] = resource;
      r['scopeSpans'] = (rs.scopeSpans ?? []).map((ss) => {
        const scope: Record<string, unknown> = {};
        put(scope, 'name', ss.scope?.name);
        put(scope, 'version', ss.scope?.version);
        put(scope, 'attributes', attributesToJson(ss.scope?.attributes));
        const out: Record<string, unknown> = { scope, spans: (ss.spans ?? []).map(spanToJson) };
        put(out, 'schemaUrl', ss.schemaUrl);
        return out;
      });
      put(r, 'schemaUrl', rs.schemaUrl);
      return r;
    }),
  };
}
