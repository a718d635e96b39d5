import { readFileSync, existsSync } from 'node:fs';

/** A span read back from an OTLP/JSON lines file (the Collector file exporter format). */
export interface FileSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; time: bigint; attributes: Record<string, unknown> }>;
  links: Array<{ traceId: string; spanId: string }>;
  status: { code: number; message: string };
  service: string;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
}

type JsonKv = { key: string; value: Record<string, unknown> };

function value(v: Record<string, unknown> | undefined): unknown {
  if (!v) return null;
  if ('stringValue' in v) return v['stringValue'];
  if ('boolValue' in v) return v['boolValue'];
  if ('intValue' in v) return Number(v['intValue']);
  if ('doubleValue' in v) return v['doubleValue'];
  if ('arrayValue' in v) return ((v['arrayValue'] as { values?: Array<Record<string, unknown>> }).values ?? []).map(value);
  return null;
}

function attrs(list: JsonKv[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = value(kv.value);
  return out;
}

/** Every span in an OTLP/JSON lines file; an absent file reads as none. */
export function readOtlpJsonLines(path: string): FileSpan[] {
  if (!existsSync(path)) return [];
  const out: FileSpan[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const doc = JSON.parse(line) as { resourceSpans: Array<Record<string, any>> };
    for (const rs of doc.resourceSpans) {
      const resource = attrs(rs['resource']?.attributes);
      for (const ss of rs['scopeSpans'] ?? []) {
        for (const s of ss.spans ?? []) {
          out.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind ?? 0,
            start: BigInt(s.startTimeUnixNano),
            end: BigInt(s.endTimeUnixNano),
            attributes: attrs(s.attributes),
            events: (s.events ?? []).map((e: any) => ({ name: e.name, time: BigInt(e.timeUnixNano), attributes: attrs(e.attributes) })),
            links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
            status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
            service: String(resource['service.name'] ?? ''),
            resource,
            scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
          });
        }
      }
    }
  }
  return out;
}
