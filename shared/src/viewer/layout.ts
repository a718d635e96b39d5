/**
 * The viewer's decisions, as pure functions: reading OTLP/JSON, nesting spans into a waterfall,
 * service colours, durations, the search box. The page ships these very functions to the
 * browser (page.ts embeds each one's source), so the table tests here test what runs there.
 * Hence each function is self-contained: no imports, no module-level constants, and no
 * function calls another except through the names page.ts embeds (`VIEWER_FUNCTIONS`).
 */

/** An OTLP/JSON AnyValue. */
export interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
}
export interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: JsonKeyValue[];
  events?: Array<{ timeUnixNano?: string; name?: string; attributes?: JsonKeyValue[] }>;
  links?: Array<{ traceId?: string; spanId?: string; attributes?: JsonKeyValue[] }>;
  status?: { code?: number; message?: string };
}
export interface JsonResourceSpans {
  resource?: { attributes?: JsonKeyValue[] };
  scopeSpans?: Array<{ scope?: { name?: string; version?: string; attributes?: JsonKeyValue[] }; spans?: JsonSpan[] }>;
}

/** One span as the viewer shows it. */
export interface ViewSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  service: string;
  attributes: JsonKeyValue[];
  events: Array<{ time: bigint; name: string; attributes: JsonKeyValue[] }>;
  links: Array<{ traceId: string; spanId: string; attributes: JsonKeyValue[] }>;
  status: { code: number; message: string };
  resource: JsonKeyValue[];
  scope: { name: string; version: string; attributes: JsonKeyValue[] };
}

/** A value's display text and its OTLP type (`string`, `int`, `double`, `bool`, `bytes`, `array`, `map`). */
export function anyValueText(v: JsonAnyValue | undefined): [text: string, type: string] {
  if (!v) return ['', 'empty'];
  if (v.stringValue !== undefined) return [v.stringValue, 'string'];
  if (v.boolValue !== undefined) return [String(v.boolValue), 'bool'];
  if (v.intValue !== undefined) return [String(v.intValue), 'int'];
  if (v.doubleValue !== undefined) return [String(v.doubleValue), 'double'];
  if (v.bytesValue !== undefined) return [v.bytesValue, 'bytes'];
  if (v.arrayValue !== undefined) {
    return ['[' + (v.arrayValue.values ?? []).map((x) => JSON.stringify(anyValueText(x)[0])).join(', ') + ']', 'array'];
  }
  if (v.kvlistValue !== undefined) {
    return ['{' + (v.kvlistValue.values ?? []).map((kv) => kv.key + ': ' + JSON.stringify(anyValueText(kv.value)[0])).join(', ') + '}', 'map'];
  }
  // proto3 JSON leaves defaults out: an empty string value arrives as {}.
  return ['', 'string'];
}

/** Every span of an OTLP/JSON `resourceSpans` list, with its resource and scope. */
export function flattenTrace(resourceSpans: JsonResourceSpans[]): ViewSpan[] {
  const out: ViewSpan[] = [];
  for (const rs of resourceSpans) {
    const resource = rs.resource?.attributes ?? [];
    const svc = resource.find((kv) => kv.key === 'service.name');
    const service = svc?.value?.stringValue ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '', attributes: ss.scope?.attributes ?? [] };
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name ?? '',
          kind: s.kind ?? 0,
          start: BigInt(s.startTimeUnixNano ?? '0'),
          end: BigInt(s.endTimeUnixNano ?? '0'),
          service,
          attributes: s.attributes ?? [],
          events: (s.events ?? []).map((e) => ({ time: BigInt(e.timeUnixNano ?? '0'), name: e.name ?? '', attributes: e.attributes ?? [] })),
          links: (s.links ?? []).map((l) => ({ traceId: l.traceId ?? '', spanId: l.spanId ?? '', attributes: l.attributes ?? [] })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

export interface WaterfallRow {
  span: ViewSpan;
  depth: number;
  /** Nanoseconds from the trace's first start. */
  offset: number;
  duration: number;
  /** The span names a parent the trace does not hold (not arrived yet, or lost). */
  orphan: boolean;
  children: number;
}

export interface Waterfall {
  rows: WaterfallRow[];
  start: bigint;
  /** From the first start to the last end, in nanoseconds. */
  duration: number;
}

/**
 * Spans in waterfall order: each span under its parent, siblings by start time (then name), a
 * span whose parent is missing shown as a root and marked orphan. Iterative, and every span
 * is shown exactly once, so neither a deep trace nor a parent cycle in bad data can hang it.
 */
export function layoutTrace(spans: ViewSpan[]): Waterfall {
  if (spans.length === 0) return { rows: [], start: 0n, duration: 0 };
  let min = spans[0]!.start;
  let max = spans[0]!.end;
  for (const s of spans) {
    if (s.start < min) min = s.start;
    if (s.end > max) max = s.end;
  }
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ViewSpan[]>();
  const roots: ViewSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId !== '' && s.parentSpanId !== s.spanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId);
      if (list) list.push(s);
      else children.set(s.parentSpanId, [s]);
    } else {
      roots.push(s);
    }
  }
  const order = (a: ViewSpan, b: ViewSpan): number => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  roots.sort(order);
  for (const list of children.values()) list.sort(order);
  const rows: WaterfallRow[] = [];
  const shown = new Set<ViewSpan>();
  const visit = (root: ViewSpan): void => {
    const stack: Array<[ViewSpan, number]> = [[root, 0]];
    while (stack.length > 0) {
      const [s, depth] = stack.pop()!;
      if (shown.has(s)) continue;
      shown.add(s);
      const kids = children.get(s.spanId) ?? [];
      rows.push({
        span: s,
        depth,
        offset: Number(s.start - min),
        duration: Number(s.end - s.start),
        orphan: s.parentSpanId !== '' && !ids.has(s.parentSpanId),
        children: kids.length,
      });
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, depth + 1]);
    }
  };
  for (const r of roots) visit(r);
  // Spans only reachable through a cycle: show them too, as roots.
  for (const s of [...spans].sort(order)) if (!shown.has(s)) visit(s);
  return { rows, start: min, duration: Number(max - min) };
}

/** A colour per service, by its place in the sorted list, so a service keeps its colour across traces. */
export function serviceColours(services: string[]): Record<string, string> {
  const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6'];
  const out: Record<string, string> = {};
  [...new Set(services)].sort().forEach((s, i) => {
    out[s] = palette[i % palette.length]!;
  });
  return out;
}

/** `1.83 s`, `12.4 ms`, `85 µs`, as `up` prints trace trees. */
export function formatDuration(ns: number): string {
  if (ns >= 1e9) return (ns / 1e9).toFixed(2) + ' s';
  if (ns >= 1e6) return (ns / 1e6).toFixed(1) + ' ms';
  return Math.round(ns / 1e3) + ' µs';
}

export interface SearchText {
  /** `key=value` terms: sent to the server as query.attributes. */
  attributes: Record<string, string>;
  /** Other words: matched here against the trace id, root service and root span name. */
  words: string[];
}

/** The search box: `key=value` terms (a value may be "quoted") and plain words. */
export function parseSearchText(text: string): SearchText {
  const out: SearchText = { attributes: {}, words: [] };
  const re = /([^\s=]+)=("([^"]*)"|\S*)|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[1] !== undefined) out.attributes[m[1]] = m[3] !== undefined ? m[3] : (m[2] ?? '');
    else {
      const w = (m[4] !== undefined ? m[4] : (m[5] ?? '')).toLowerCase();
      if (w !== '') out.words.push(w);
    }
  }
  return out;
}

/** Whether a trace summary holds every word (case-insensitive) in its id, root service or root span. */
export function summaryMatches(summary: { traceId: string; rootServiceName?: string; rootOperationName?: string }, words: string[]): boolean {
  const hay = (summary.traceId + ' ' + (summary.rootServiceName ?? '') + ' ' + (summary.rootOperationName ?? '')).toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** OTLP's kind and status code names. */
export function kindLabel(kind: number): string {
  return ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'][kind] ?? String(kind);
}
export function statusLabel(code: number): string {
  return ['UNSET', 'OK', 'ERROR'][code] ?? String(code);
}
