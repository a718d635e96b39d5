/**
 * The built-in receiver's read side: the viewer page at `/` and Jaeger v2's `/api/v3` HTTP JSON
 * API (jaegertracing/jaeger v2.20.0, `cmd/jaeger/internal/extension/jaegerquery/internal/apiv3/`
 * http_gateway.go and query_parser.go, over the memory store in `internal/storage/v2/memory`),
 * so tools written for Jaeger work against us and ours against Jaeger.
 *
 * Requests are parsed and answered by pure functions (`parseGetTraceRequest`,
 * `parseFindTracesQuery`, `findTraces`, `apiResponse`…), table-tested against Jaeger's formats;
 * `startQueryServer` only binds them to node:http. Where Go's libraries word an error (time.Parse,
 * time.ParseDuration, strconv), the message is Go's, since clients match on it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { OtlpReceiver, ReceivedOperation, ReceivedSpan } from './otlp-receiver.js';
import type { AttrValue } from './otlp-json.js';
import { viewerHtml } from './viewer/page.js';

// ---------------------------------------------------------------------------------------------
// Go's value parsers, with Go's error messages.

/** Go's strconv.Quote for the strings we meet (JSON's escaping agrees on ASCII). */
export const goQuote = (s: string): string => JSON.stringify(s);

const RFC3339_NANO = '2006-01-02T15:04:05.999999999Z07:00';
const isDigit = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Go's `time.Parse(time.RFC3339Nano, value)` as Unix nanoseconds. Walks the layout's elements as
 * Go does, so a bad value gets Go's message (`cannot parse "x" as "2006"`, `month out of range`,
 * `extra text: "…"`). Digits past the ninth fractional one are dropped, as Go drops them.
 */
export function parseRfc3339Nano(value: string): bigint {
  let rest = value;
  const cannot = (elem: string): Error =>
    new Error(`parsing time ${goQuote(value)} as ${goQuote(RFC3339_NANO)}: cannot parse ${goQuote(rest)} as ${goQuote(elem)}`);
  const outOfRange = (what: string): Error => new Error(`parsing time ${goQuote(value)}: ${what} out of range`);
  const fixed = (n: number, elem: string): number => {
    for (let i = 0; i < n; i++) if (!isDigit(rest, i)) throw cannot(elem);
    const v = Number(rest.slice(0, n));
    rest = rest.slice(n);
    return v;
  };
  const literal = (lit: string): void => {
    if (!rest.startsWith(lit)) throw cannot(lit);
    rest = rest.slice(lit.length);
  };
  const year = fixed(4, '2006');
  literal('-');
  const month = fixed(2, '01');
  if (month < 1 || month > 12) throw outOfRange('month');
  literal('-');
  const day = fixed(2, '02');
  literal('T');
  // Go reads the hour with one or two digits ("15" is not a fixed-width element).
  if (!isDigit(rest, 0)) throw cannot('15');
  const hour = fixed(isDigit(rest, 1) ? 2 : 1, '15');
  if (hour > 23) throw outOfRange('hour');
  literal(':');
  const minute = fixed(2, '04');
  if (minute > 59) throw outOfRange('minute');
  literal(':');
  const second = fixed(2, '05');
  if (second > 59) throw outOfRange('second');
  let nanos = 0;
  // ".999999999": optional; a comma is a decimal separator too.
  if (rest.length >= 2 && (rest[0] === '.' || rest[0] === ',') && isDigit(rest, 1)) {
    let i = 1;
    while (isDigit(rest, i)) i++;
    nanos = Number(rest.slice(1, Math.min(i, 10)).padEnd(9, '0'));
    rest = rest.slice(i);
  }
  let offsetSeconds = 0;
  if (rest.startsWith('Z')) {
    rest = rest.slice(1);
  } else {
    const sign = rest[0];
    if (rest.length < 6 || rest[3] !== ':' || (sign !== '+' && sign !== '-') || !isDigit(rest, 1) || !isDigit(rest, 2) || !isDigit(rest, 4) || !isDigit(rest, 5)) {
      throw cannot('Z07:00');
    }
    const hh = Number(rest.slice(1, 3));
    const mm = Number(rest.slice(4, 6));
    if (hh > 24) throw outOfRange('time zone offset hour');
    if (mm > 60) throw outOfRange('time zone offset minute');
    offsetSeconds = (sign === '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    rest = rest.slice(6);
  }
  if (rest !== '') throw new Error(`parsing time ${goQuote(value)}: extra text: ${goQuote(rest)}`);
  if (day < 1 || day > daysIn(month, year)) throw outOfRange('day');
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return (BigInt(d.getTime() / 1000) - BigInt(offsetSeconds)) * 1_000_000_000n + BigInt(nanos);
}

const DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5
  'μs': 1_000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's `time.ParseDuration` in nanoseconds ("1.5h", "300ms", "-2m3s"), with Go's messages. */
export function parseGoDuration(orig: string): bigint {
  const invalid = (): Error => new Error(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s, 0))) throw invalid();
    let i = 0;
    while (isDigit(s, i)) i++;
    const whole = s.slice(0, i);
    s = s.slice(i);
    let frac = '';
    if (s[0] === '.') {
      let j = 1;
      while (isDigit(s, j)) j++;
      frac = s.slice(1, j);
      s = s.slice(j);
      if (whole === '' && frac === '') throw invalid();
    } else if (whole === '') {
      throw invalid();
    }
    let u = 0;
    while (u < s.length && s[u] !== '.' && !isDigit(s, u)) u++;
    if (u === 0) throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = DURATION_UNITS[unitName];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(unitName)} in duration ${goQuote(orig)}`);
    total += BigInt(whole === '' ? 0 : whole) * unit;
    // Go adds the fraction through a float64, as here.
    if (frac !== '') total += BigInt(Math.trunc(Number(`0.${frac}`) * Number(unit)));
    if (total > 9_223_372_036_854_775_807n) throw invalid();
  }
  return neg ? -total : total;
}

/** Go's `strconv.Atoi`. */
export function goAtoi(s: string): number {
  const syntax = (): Error => new Error(`strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const m = /^[+-]?(\d+)$/.exec(s);
  if (!m) throw syntax();
  const n = BigInt(s);
  if (n > 9_223_372_036_854_775_807n || n < -9_223_372_036_854_775_808n) {
    throw new Error(`strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  }
  return Number(n);
}

/** Go's `strconv.ParseBool`. */
export function goParseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
}

function parseHexUint64(s: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`);
  return BigInt(`0x${s}`);
}

const BASE64_FORMS: ReadonlyArray<{ re: RegExp; padded: boolean; url: boolean }> = [
  { re: /^[A-Za-z0-9+/]*={0,2}$/, padded: true, url: false },
  { re: /^[A-Za-z0-9_-]*={0,2}$/, padded: true, url: true },
  { re: /^[A-Za-z0-9+/]*$/, padded: false, url: false },
  { re: /^[A-Za-z0-9_-]*$/, padded: false, url: true },
];

function decodeBase64Strict(s: string): Buffer | undefined {
  for (const f of BASE64_FORMS) {
    if (!f.re.test(s)) continue;
    if (f.padded ? s.length % 4 !== 0 : s.length % 4 === 1) continue;
    return Buffer.from(s, f.url ? 'base64url' : 'base64');
  }
  return undefined;
}

/**
 * A trace id path segment as Jaeger v2.20 reads it: hex of up to 32 digits (shorter ids are
 * zero-padded, as Jaeger's model.TraceID does), else standard or URL-safe base64 of 8 or 16 bytes.
 * Returns the 32-digit lowercase hex id.
 */
export function parseTraceIdParam(s: string): string {
  let hexErr: Error;
  try {
    if (s.length > 32) throw new Error(`TraceID cannot be longer than 32 hex characters: ${s}`);
    const hiLen = Math.max(0, s.length - 16);
    const hi = hiLen > 0 ? parseHexUint64(s.slice(0, hiLen)) : 0n;
    const lo = parseHexUint64(s.slice(hiLen));
    return hi.toString(16).padStart(16, '0') + lo.toString(16).padStart(16, '0');
  } catch (err) {
    hexErr = err as Error;
  }
  // 128 bits are 24 base64 characters with padding, 22 without.
  if (s.length > 24) throw hexErr;
  const b = decodeBase64Strict(s);
  if (!b) throw hexErr;
  if (b.length !== 16 && b.length !== 8) throw new Error('invalid length for TraceID');
  return b.toString('hex').padStart(32, '0');
}

// ---------------------------------------------------------------------------------------------
// Requests.

/** A 4xx/5xx answer in Jaeger's GRPCGatewayError form. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const malformed = (param: string, err: unknown): ApiError =>
  new ApiError(400, `malformed parameter ${param}: ${err instanceof Error ? err.message : String(err)}`);

/** Jaeger's getQueryParam: the camelCase name wins, the snake_case alias is the fallback; "" is absent. */
function param(q: URLSearchParams, canonical: string, deprecated: string): [value: string, name: string] {
  const v = q.get(canonical) ?? '';
  if (v !== '') return [v, canonical];
  return [q.get(deprecated) ?? '', deprecated];
}

export interface GetTraceRequest {
  readonly traceId: string;
  /** Accepted and checked as Jaeger does; its memory store ignores the window, and so do we. */
  readonly startTime?: bigint;
  readonly endTime?: bigint;
  readonly rawTraces: boolean;
}

/** `GET /api/v3/traces/{trace_id}`: the path segment (already percent-decoded) and the query. */
export function parseGetTraceRequest(traceIdSegment: string, q: URLSearchParams): GetTraceRequest {
  let traceId: string;
  try {
    traceId = parseTraceIdParam(traceIdSegment);
  } catch (err) {
    throw malformed('trace_id', err);
  }
  const out: { traceId: string; startTime?: bigint; endTime?: bigint; rawTraces: boolean } = { traceId, rawTraces: false };
  const [start, startName] = param(q, 'startTime', 'start_time');
  if (start !== '') {
    try {
      out.startTime = parseRfc3339Nano(start);
    } catch (err) {
      throw malformed(startName, err);
    }
  }
  const [end, endName] = param(q, 'endTime', 'end_time');
  if (end !== '') {
    try {
      out.endTime = parseRfc3339Nano(end);
    } catch (err) {
      throw malformed(endName, err);
    }
  }
  const [raw, rawName] = param(q, 'rawTraces', 'raw_traces');
  if (raw !== '') {
    try {
      out.rawTraces = goParseBool(raw);
    } catch (err) {
      throw malformed(rawName, err);
    }
  }
  return out;
}

export interface TraceQuery {
  readonly serviceName: string;
  readonly operationName: string;
  /** query.attributes, a JSON map of strings (Jaeger ≥ 2.19). */
  readonly attributes: ReadonlyMap<string, string>;
  readonly startTimeMin: bigint;
  readonly startTimeMax: bigint;
  /** 0n when not given. */
  readonly durationMin: bigint;
  readonly durationMax: bigint;
  readonly searchDepth: number;
  readonly rawTraces: boolean;
}

/** Jaeger's default when neither query.search_depth nor query.num_traces is given. */
export const DEFAULT_SEARCH_DEPTH = 100;

function parseAttributesParam(text: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Go's decoder words syntax errors by position; ours says what it can.
    throw new Error(text.trim() === '' ? 'unexpected end of JSON input' : `invalid JSON: ${text}`);
  }
  if (parsed === null) return new Map();
  const kind = Array.isArray(parsed) ? 'array' : typeof parsed === 'object' ? 'object' : typeof parsed === 'boolean' ? 'bool' : typeof parsed;
  if (kind !== 'object') throw new Error(`json: cannot unmarshal ${kind} into Go value of type map[string]string`);
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (v === null) {
      out.set(k, '');
      continue;
    }
    if (typeof v !== 'string') {
      const vk = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;
      throw new Error(`json: cannot unmarshal ${vk} into Go struct field .${k} of type string`);
    }
    out.set(k, v);
  }
  return out;
}

/**
 * `GET /api/v3/traces` (and `/api/v3/trace-summaries`) query parameters, checked in Jaeger
 * v2.20's order with its messages: both start-time bounds required, RFC 3339 with nanoseconds.
 */
export function parseFindTracesQuery(q: URLSearchParams): TraceQuery {
  const [serviceName] = param(q, 'query.serviceName', 'query.service_name');
  const [operationName] = param(q, 'query.operationName', 'query.operation_name');
  let attributes = new Map<string, string>();
  const attrs = q.get('query.attributes') ?? '';
  if (attrs !== '') {
    try {
      attributes = parseAttributesParam(attrs);
    } catch (err) {
      throw malformed('query.attributes', err);
    }
  }
  const [minText, minName] = param(q, 'query.startTimeMin', 'query.start_time_min');
  const [maxText, maxName] = param(q, 'query.startTimeMax', 'query.start_time_max');
  if (minText === '' || maxText === '') throw new ApiError(400, 'query.startTimeMin and query.startTimeMax are required');
  let startTimeMin: bigint;
  let startTimeMax: bigint;
  try {
    startTimeMin = parseRfc3339Nano(minText);
  } catch (err) {
    throw malformed(minName, err);
  }
  try {
    startTimeMax = parseRfc3339Nano(maxText);
  } catch (err) {
    throw malformed(maxName, err);
  }
  if (!(startTimeMin < startTimeMax)) throw new ApiError(400, 'query.startTimeMin must be before query.startTimeMax');
  let [depthText, depthName] = param(q, 'query.searchDepth', 'query.search_depth');
  if (depthText === '') [depthText, depthName] = [q.get('query.num_traces') ?? '', 'query.num_traces'];
  let searchDepth = DEFAULT_SEARCH_DEPTH;
  if (depthText !== '') {
    try {
      searchDepth = goAtoi(depthText);
    } catch (err) {
      throw malformed(depthName, err);
    }
  }
  const duration = (canonical: string, deprecated: string): bigint => {
    const [text, name] = param(q, canonical, deprecated);
    if (text === '') return 0n;
    try {
      return parseGoDuration(text);
    } catch (err) {
      throw malformed(name, err);
    }
  };
  const durationMin = duration('query.durationMin', 'query.duration_min');
  const durationMax = duration('query.durationMax', 'query.duration_max');
  let rawTraces = false;
  const [raw, rawName] = param(q, 'query.rawTraces', 'query.raw_traces');
  if (raw !== '') {
    try {
      rawTraces = goParseBool(raw);
    } catch (err) {
      throw malformed(rawName, err);
    }
  }
  return { serviceName, operationName, attributes, startTimeMin, startTimeMax, durationMin, durationMax, searchDepth, rawTraces };
}

// ---------------------------------------------------------------------------------------------
// Search, as Jaeger's memory store matches.

/** pcommon.Value.AsString for a received attribute value. */
export function attrAsString(v: AttrValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

const KIND_NAMES = ['', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

/** Jaeger's lower-case span kind name; '' for unspecified. */
export const kindName = (kind: number): string => KIND_NAMES[kind] ?? '';

function kindFromString(s: string): number {
  const i = KIND_NAMES.indexOf(s.toLowerCase() as (typeof KIND_NAMES)[number]);
  return i > 0 ? i : 0;
}

function statusFromString(s: string): number {
  const u = s.toUpperCase();
  return u === 'OK' ? 1 : u === 'ERROR' ? 2 : 0;
}

const serviceOf = (s: ReceivedSpan): string => {
  const v = s.resource['service.name'];
  return typeof v === 'string' ? v : '';
};

const hasAttr = (attrs: Readonly<Record<string, AttrValue>>, key: string, want: string): boolean =>
  key in attrs && attrAsString(attrs[key]) === want;

/**
 * Jaeger's validSpan: one span satisfies every condition. `error`, `span.status`, `span.kind`,
 * `scope.name` and `scope.version` test the span itself; `resource.X` only the resource; any
 * other key the span, its resource, its events' or its links' attributes.
 */
export function spanMatches(s: ReceivedSpan, q: TraceQuery): boolean {
  if (q.serviceName !== '' && serviceOf(s) !== q.serviceName) return false;
  if (q.operationName !== '' && q.operationName !== s.name) return false;
  if (s.startTimeUnixNano < q.startTimeMin || s.startTimeUnixNano > q.startTimeMax) return false;
  const duration = s.endTimeUnixNano - s.startTimeUnixNano;
  if (q.durationMin !== 0n && duration < q.durationMin) return false;
  if (q.durationMax !== 0n && duration > q.durationMax) return false;
  for (const [key, want] of q.attributes) {
    switch (key) {
      case 'error': {
        let wantError: boolean;
        try {
          wantError = goParseBool(want);
        } catch {
          return false;
        }
        if (s.status.code !== (wantError ? 2 : 1)) return false;
        continue;
      }
      case 'span.status':
        if (s.status.code !== statusFromString(want)) return false;
        continue;
      case 'span.kind':
        if (s.kind !== kindFromString(want)) return false;
        continue;
      case 'scope.name':
        if (s.scope.name !== want) return false;
        continue;
      case 'scope.version':
        if (s.scope.version !== want) return false;
        continue;
    }
    if (key.startsWith('resource.')) {
      if (!hasAttr(s.resource, key.slice('resource.'.length), want)) return false;
      continue;
    }
    const found =
      hasAttr(s.attributes, key, want) ||
      hasAttr(s.resource, key, want) ||
      s.events.some((e) => hasAttr(e.attributes, key, want)) ||
      s.links.some((l) => hasAttr(l.attributes, key, want));
    if (!found) return false;
  }
  return true;
}

/** What the API reads from the receiver (an interface, so tests can hand in fixed data). */
export type TraceSource = Pick<OtlpReceiver, 'traceIds' | 'trace' | 'otlpResourceSpans' | 'services' | 'operations'>;

/** Jaeger's memory store keeps 100 000 traces by default; a deeper search is refused. */
export const MAX_SEARCH_DEPTH = 100_000;

/** Trace ids matching the query, newest first (by first arrival), at most searchDepth of them. */
export function findTraces(source: Pick<TraceSource, 'traceIds' | 'trace'>, q: TraceQuery, maxSearchDepth = MAX_SEARCH_DEPTH): string[] {
  if (q.searchDepth <= 0 || q.searchDepth > maxSearchDepth) {
    throw new ApiError(500, 'search depth must be greater than 0 and less than max traces');
  }
  const ids = source.traceIds();
  const out: string[] = [];
  for (let i = ids.length - 1; i >= 0 && out.length < q.searchDepth; i--) {
    const id = ids[i] as string;
    if (source.trace(id).some((s) => spanMatches(s, q))) out.push(id);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Responses.

interface JsonKv {
  key: string;
  value: unknown;
}
interface JsonSpan {
  attributes?: JsonKv[];
  events?: Array<{ name: string; attributes?: JsonKv[] }>;
  links?: Array<{ attributes?: JsonKv[] }>;
  [k: string]: unknown;
}
interface JsonResourceSpans {
  resource: { attributes?: JsonKv[] };
  scopeSpans: Array<{ scope: { attributes?: JsonKv[] }; spans: JsonSpan[] }>;
}

const byKey = (a: JsonKv, b: JsonKv): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const sortAttrs = (o: { attributes?: JsonKv[] }): void => {
  o.attributes?.sort(byKey);
};

/**
 * Jaeger's query-side adjusters, applied unless raw_traces is set: SortCollections (attributes by
 * key everywhere, events by name, stably) and DeduplicateSpans (an identical span, resource and
 * scope included, is kept once). Its other standard adjusters change nothing our processes
 * send: no client and server share a span id, no `ip` attribute is numeric, no span carries
 * telemetry.sdk attributes, no link is empty, and clock-skew adjustment is off by default.
 */
export function adjustTrace(resourceSpans: JsonResourceSpans[]): JsonResourceSpans[] {
  const seen = new Set<string>();
  for (const rs of resourceSpans) {
    sortAttrs(rs.resource);
    for (const ss of rs.scopeSpans) {
      sortAttrs(ss.scope);
      for (const span of ss.spans) {
        sortAttrs(span);
        span.events?.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const e of span.events ?? []) sortAttrs(e);
        for (const l of span.links ?? []) sortAttrs(l);
      }
      const resourceKey = JSON.stringify(rs.resource.attributes ?? []) + JSON.stringify(ss.scope.attributes ?? []);
      ss.spans = ss.spans.filter((span) => {
        const key = resourceKey + JSON.stringify(span);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
  }
  return resourceSpans;
}

/** The `result` of a trace answer: every trace's ResourceSpans, raw or adjusted. */
export function tracesResultJson(source: Pick<TraceSource, 'otlpResourceSpans'>, traceIds: readonly string[], raw: boolean): string {
  const parts: string[] = [];
  for (const id of traceIds) {
    const chunks = source.otlpResourceSpans(id);
    if (raw) parts.push(...chunks);
    else parts.push(...adjustTrace(chunks.map((c) => JSON.parse(c) as JsonResourceSpans)).map((rs) => JSON.stringify(rs)));
  }
  return `{"result":{"resourceSpans":[${parts.join(',')}]}}`;
}

/** Jaeger v2.19+'s TraceSummary, in proto3 JSON (zero values left out, uint64 as strings). */
export function summarizeTrace(traceId: string, spans: readonly ReceivedSpan[]): Record<string, unknown> {
  const ids = new Set(spans.map((s) => s.spanId));
  const services = new Map<string, { spanCount: number; errorSpanCount: number }>();
  let root: ReceivedSpan | undefined;
  let min: bigint | undefined;
  let max: bigint | undefined;
  let errors = 0;
  let orphans = 0;
  for (const s of spans) {
    const svc = serviceOf(s);
    let st = services.get(svc);
    if (!st) services.set(svc, (st = { spanCount: 0, errorSpanCount: 0 }));
    st.spanCount++;
    if (s.status.code === 2) {
      st.errorSpanCount++;
      errors++;
    }
    if (min === undefined || s.startTimeUnixNano < min) min = s.startTimeUnixNano;
    if (max === undefined || s.endTimeUnixNano > max) max = s.endTimeUnixNano;
    if (s.parentSpanId === '') {
      // Of several roots, the earliest one names the trace.
      if (!root || s.startTimeUnixNano < root.startTimeUnixNano) root = s;
    } else if (!ids.has(s.parentSpanId)) {
      orphans++;
    }
  }
  const out: Record<string, unknown> = { traceId };
  const put = (k: string, v: string | number | undefined): void => {
    if (v !== undefined && v !== '' && v !== 0 && v !== '0') out[k] = v;
  };
  put('rootServiceName', root ? serviceOf(root) : '');
  put('rootOperationName', root?.name);
  put('minStartTimeUnixNano', min?.toString());
  put('maxEndTimeUnixNano', max?.toString());
  put('spanCount', spans.length);
  put('errorSpanCount', errors);
  put('orphanSpanCount', orphans);
  const svcs = [...services]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, st]) => {
      const o: Record<string, unknown> = {};
      if (name !== '') o['name'] = name;
      if (st.spanCount) o['spanCount'] = st.spanCount;
      if (st.errorSpanCount) o['errorSpanCount'] = st.errorSpanCount;
      return o;
    });
  if (svcs.length > 0) out['services'] = svcs;
  return out;
}

/** Jaeger's GetOperations answer: kind filter as its store applies it, unspecified shown as internal. */
export function operationsJson(ops: readonly ReceivedOperation[], spanKind: string): string {
  const list = ops
    .filter((o) => spanKind === '' || kindName(o.kind) === spanKind)
    .map((o) => ({ name: o.name, spanKind: kindName(o.kind) || 'internal' }));
  // proto3 JSON leaves an empty repeated field out.
  return list.length > 0 ? JSON.stringify({ operations: list }) : '{}';
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Go's encoding/json escapes these in strings (HTML safety), so Jaeger's error bodies do. */
const goJson = (v: unknown): string =>
  JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Jaeger's error answer: its JSON written by Go's http.Error (text/plain, nosniff, a newline). */
export function errorResponse(status: number, message: string): ApiResponse {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
    body: goJson({ error: { httpCode: status, message } }) + '\n',
  };
}

const json = (body: string): ApiResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body });
const NOT_FOUND: ApiResponse = {
  status: 404,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  body: '404 page not found\n',
};

/**
 * Answers one `/api/v3` request as Jaeger v2.20 does, or undefined when the path is not one of
 * its routes. `method` is GET or HEAD (the caller drops a HEAD answer's body).
 */
export function apiResponse(source: TraceSource, method: string, url: URL, maxSearchDepth = MAX_SEARCH_DEPTH): ApiResponse | undefined {
  const path = url.pathname;
  const q = url.searchParams;
  const route =
    path === '/api/v3/services' || path === '/api/v3/operations' || path === '/api/v3/traces' || path === '/api/v3/trace-summaries'
      ? path
      : /^\/api\/v3\/traces\/[^/]+$/.test(path)
        ? 'trace'
        : undefined;
  if (!route) return undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD', 'x-content-type-options': 'nosniff' }, body: 'Method Not Allowed\n' };
  }
  try {
    switch (route) {
      case '/api/v3/services': {
        const services = source.services();
        return json(services.length > 0 ? JSON.stringify({ services }) : '{}');
      }
      case '/api/v3/operations': {
        const [spanKind] = param(q, 'spanKind', 'span_kind');
        return json(operationsJson(source.operations(q.get('service') ?? ''), spanKind));
      }
      case 'trace': {
        let segment: string;
        try {
          segment = decodeURIComponent(path.slice('/api/v3/traces/'.length));
        } catch {
          return NOT_FOUND;
        }
        const req = parseGetTraceRequest(segment, q);
        if (source.trace(req.traceId).length === 0) return errorResponse(404, 'No traces found');
        return json(tracesResultJson(source, [req.traceId], req.rawTraces));
      }
      case '/api/v3/traces': {
        const query = parseFindTracesQuery(q);
        const ids = findTraces(source, query, maxSearchDepth);
        if (ids.length === 0) return errorResponse(404, 'No traces found');
        return json(tracesResultJson(source, ids, query.rawTraces));
      }
      default: {
        const query = parseFindTracesQuery(q);
        const ids = findTraces(source, query, maxSearchDepth);
        // Unlike a search, an empty summary list is a 200 with nothing in it.
        const summaries = ids.map((id) => summarizeTrace(id, source.trace(id)));
        return json(summaries.length > 0 ? JSON.stringify({ summaries }) : '{}');
      }
    }
  } catch (err) {
    if (err instanceof ApiError) return errorResponse(err.status, err.message);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The server.

export interface QueryServerOptions {
  readonly receiver: OtlpReceiver;
  readonly host?: string;
  /** 0 (the default) lets the OS pick a free port. */
  readonly port?: number;
  /** Deepest search allowed (Jaeger's memory store: its max_traces, 100 000 by default). */
  readonly maxSearchDepth?: number;
}

export interface QueryServer {
  /** `http://host:port`, the viewer's address. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The live-update stream the viewer listens to (ours, not Jaeger's): Server-Sent Events. */
export const EVENTS_PATH = '/viewer/events';
/** At most one event per this many milliseconds, however fast spans arrive. */
const EVENT_INTERVAL_MS = 500;

/**
 * Serves the viewer at `/`, Jaeger's `/api/v3` over the receiver's spans, and at EVENTS_PATH a
 * Server-Sent Events stream: `event: spans` with `{"traceIds":[…],"spans":N}` naming the traces
 * that grew since the last event. Rejects with the listen error (EADDRINUSE…) if it cannot bind.
 */
export async function startQueryServer(opts: QueryServerOptions): Promise<QueryServer> {
  const { receiver } = opts;
  const host = opts.host ?? '127.0.0.1';
  const maxSearchDepth = opts.maxSearchDepth ?? MAX_SEARCH_DEPTH;
  const streams = new Set<ServerResponse>();
  const page = viewerHtml();

  let pendingIds = new Set<string>();
  let pendingSpans = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    const data = JSON.stringify({ traceIds: [...pendingIds].slice(0, 500), spans: pendingSpans });
    pendingIds = new Set();
    pendingSpans = 0;
    for (const res of streams) res.write(`event: spans\ndata: ${data}\n\n`);
  };
  const unsubscribe = receiver.onSpans((spans) => {
    if (streams.size === 0) return;
    for (const s of spans) pendingIds.add(s.traceId);
    pendingSpans += spans.length;
    timer ??= setTimeout(flush, EVENT_INTERVAL_MS);
  });
  const keepAlive = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (r: ApiResponse): void => {
      res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.body) });
      res.end(method === 'HEAD' ? undefined : r.body);
    };
    const api = apiResponse(receiver, method, url, maxSearchDepth);
    if (api) return send(api);
    if (url.pathname === '/' && (method === 'GET' || method === 'HEAD')) {
      return send({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, body: page });
    }
    if (url.pathname === EVENTS_PATH && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    send(NOT_FOUND);
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      // A bug must not take the receiver down with it: answer as Go's server would, and go on.
      if (!res.headersSent) send500(res, err);
    }
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      unsubscribe();
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      for (const res of streams) res.end();
      streams.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

function send500(res: ServerResponse, err: unknown): void {
  const r = errorResponse(500, err instanceof Error ? err.message : String(err));
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}
