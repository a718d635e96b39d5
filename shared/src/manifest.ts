import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * The sent manifest: every process started with K8S_TRACE_SIM_SENT_FILE appends,
 * after each OTLP export, one JSON line per trace in the batch. Processes write
 * to the same file at once (O_APPEND, one write per line), so a trace's whole
 * expected tree is the union of its lines. `k8s-trace-sim verify` reads it back.
 */
export const SENT_FILE_ENV = 'K8S_TRACE_SIM_SENT_FILE';

export type ManifestValue = string | number | boolean | ManifestValue[];

export interface ManifestSpan {
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly service: string;
  /** Only the key attributes (KEY_ATTRIBUTES), so lines stay small. */
  readonly attributes: Readonly<Record<string, ManifestValue>>;
  /** OTLP StatusCode, written only when set (1 ok, 2 error). */
  readonly status?: number;
}

export interface ManifestLine {
  /**
   * Absent (or 'sent') for an export the receiver acknowledged; 'failed' for one
   * the exporter gave up on, so verify can tell "dropped before send" from
   * "lost after send".
   */
  readonly type?: 'sent' | 'failed';
  readonly traceId: string;
  readonly service: string;
  /** Unix ms when the export finished. */
  readonly sentAt: number;
  /** Why the export failed (failed lines only). */
  readonly error?: string;
  readonly spans: readonly ManifestSpan[];
}

/**
 * Attributes that identify what a span is about and that a backend must keep:
 * the pod, the route, the RPC method, the audit id. Anything else (sizes,
 * peers, timings) would make the lines long without telling traces apart.
 */
export const KEY_ATTRIBUTES: readonly string[] = [
  'k8s.pod',
  'k8s.pod.name',
  'k8s.pod.uid',
  'k8s.namespace.name',
  'k8s.pod.update_type',
  'http.method',
  'http.request.method',
  'http.target',
  'url.path',
  'url.full',
  'http.status_code',
  'http.response.status_code',
  'rpc.service',
  'rpc.method',
  'rpc.grpc.status_code',
  'audit-id',
  'verb',
  'resource',
];

/** Longer strings (whole request URLs with a query) are left out rather than cut, so comparisons stay exact. */
const MAX_VALUE_LENGTH = 256;

export function keyAttributes(attrs: Attributes): Record<string, ManifestValue> {
  const out: Record<string, ManifestValue> = {};
  for (const key of KEY_ATTRIBUTES) {
    const v = attrs[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' && v.length > MAX_VALUE_LENGTH) continue;
    if (Array.isArray(v)) {
      const values = v.filter((x): x is string | number | boolean => x !== null && x !== undefined);
      out[key] = values;
    } else {
      out[key] = v as string | number | boolean;
    }
  }
  return out;
}

/**
 * One line per trace in an exported batch, in the order the traces first
 * appear. Pure, so the shape of the manifest is table-tested.
 */
export function manifestLines(spans: readonly ReadableSpan[], sentAt: number, error?: string): ManifestLine[] {
  const byTrace = new Map<string, { service: string; spans: ManifestSpan[] }>();
  for (const s of spans) {
    const ctx = s.spanContext();
    const service = String(s.resource.attributes['service.name'] ?? '');
    let entry = byTrace.get(ctx.traceId);
    if (!entry) byTrace.set(ctx.traceId, (entry = { service, spans: [] }));
    entry.spans.push({
      spanId: ctx.spanId,
      parentSpanId: s.parentSpanContext?.spanId ?? '',
      name: s.name,
      // The API's SpanKind counts from INTERNAL = 0; OTLP (what backends return) from 1.
      kind: s.kind + 1,
      service,
      attributes: keyAttributes(s.attributes),
      ...(s.status.code !== 0 ? { status: s.status.code } : {}),
    });
  }
  return [...byTrace].map(([traceId, t]) => ({
    ...(error !== undefined ? { type: 'failed' as const } : {}),
    traceId,
    service: t.service,
    sentAt,
    ...(error !== undefined ? { error } : {}),
    spans: t.spans,
  }));
}

/**
 * Wraps an exporter so each finished export is written to the manifest at
 * `path`: acknowledged batches as sent lines, failed ones as failed lines. A
 * manifest that cannot be written is reported once and never stops the export.
 */
export function recordingExporter(inner: SpanExporter, path: string, log: (msg: string) => void = (m) => process.stderr.write(m + '\n')): SpanExporter {
  let fd: number | undefined;
  let broken = false;
  const append = (lines: ManifestLine[]): void => {
    if (broken || lines.length === 0) return;
    try {
      if (fd === undefined) {
        mkdirSync(dirname(path), { recursive: true });
        fd = openSync(path, 'a');
      }
      // One write(2) per export on an O_APPEND descriptor: a regular file's
      // inode lock keeps other processes' writes from landing inside it, and
      // a batch costs one system call instead of one per trace.
      let text = '';
      for (const line of lines) text += JSON.stringify(line) + '\n';
      writeSync(fd, text);
    } catch (err) {
      broken = true;
      log(`cannot write the sent manifest ${path}: ${(err as Error).message}; verify will not know about later exports`);
    }
  };
  return {
    export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
      inner.export(spans, (result) => {
        const ok = result.code === ExportResultCode.SUCCESS;
        append(manifestLines(spans, Date.now(), ok ? undefined : (result.error?.message ?? 'export failed')));
        resultCallback(result);
      });
    },
    async shutdown(): Promise<void> {
      await inner.shutdown();
      if (fd !== undefined) {
        closeSync(fd);
        fd = undefined;
      }
    },
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** Everything the manifest says about one trace, merged over its lines. */
export interface ExpectedTrace {
  readonly traceId: string;
  /** Services with a line for this trace, sorted. */
  readonly services: readonly string[];
  readonly firstSentAt: number;
  readonly lastSentAt: number;
  /** Spans a receiver acknowledged: the backend must hold every one. */
  readonly spans: readonly ManifestSpan[];
  /** Spans whose export failed: dropped by the sender, never seen by the backend. */
  readonly unsent: readonly ManifestSpan[];
  /** Distinct reasons the failed exports gave. */
  readonly errors: readonly string[];
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

function checkLine(v: unknown, where: string): ManifestLine {
  const bad = (why: string): never => {
    throw new ManifestError(`${where}: ${why}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('not a JSON object');
  const o = v as Record<string, unknown>;
  if (o['type'] !== undefined && o['type'] !== 'sent' && o['type'] !== 'failed') bad(`unknown type ${JSON.stringify(o['type'])}`);
  if (typeof o['traceId'] !== 'string' || !HEX32.test(o['traceId'])) bad('traceId is not 32 lowercase hex digits');
  if (typeof o['sentAt'] !== 'number' || !Number.isFinite(o['sentAt'])) bad('sentAt is not a number of milliseconds');
  if (!Array.isArray(o['spans'])) bad('spans is not an array');
  for (const [i, s] of (o['spans'] as unknown[]).entries()) {
    if (typeof s !== 'object' || s === null) bad(`spans[${i}] is not an object`);
    const sp = s as Record<string, unknown>;
    if (typeof sp['spanId'] !== 'string' || !HEX16.test(sp['spanId'])) bad(`spans[${i}].spanId is not 16 lowercase hex digits`);
    if (sp['parentSpanId'] !== undefined && sp['parentSpanId'] !== '' && (typeof sp['parentSpanId'] !== 'string' || !HEX16.test(sp['parentSpanId']))) {
      bad(`spans[${i}].parentSpanId is not 16 lowercase hex digits`);
    }
    if (typeof sp['name'] !== 'string') bad(`spans[${i}].name is not a string`);
  }
  const spans = (o['spans'] as Array<Record<string, unknown>>).map(
    (sp): ManifestSpan => ({
      spanId: sp['spanId'] as string,
      parentSpanId: (sp['parentSpanId'] as string | undefined) ?? '',
      name: sp['name'] as string,
      kind: typeof sp['kind'] === 'number' ? sp['kind'] : 0,
      service: typeof sp['service'] === 'string' ? sp['service'] : String(o['service'] ?? ''),
      attributes: (typeof sp['attributes'] === 'object' && sp['attributes'] !== null ? sp['attributes'] : {}) as Record<string, ManifestValue>,
      ...(typeof sp['status'] === 'number' && sp['status'] !== 0 ? { status: sp['status'] } : {}),
    }),
  );
  return {
    ...(o['type'] === 'failed' ? { type: 'failed' as const } : {}),
    traceId: o['traceId'] as string,
    service: typeof o['service'] === 'string' ? o['service'] : '',
    sentAt: o['sentAt'] as number,
    ...(typeof o['error'] === 'string' ? { error: o['error'] } : {}),
    spans,
  };
}

/**
 * Lines of a manifest file. A last line without its newline may still be
 * being written by a running process, so it is skipped rather than rejected;
 * any other bad line is an error naming the line.
 */
export function parseManifest(text: string, source = 'manifest'): ManifestLine[] {
  const rows = text.split('\n');
  const out: ManifestLine[] = [];
  for (const [i, row] of rows.entries()) {
    if (row.trim() === '') continue;
    const unterminated = i === rows.length - 1;
    let v: unknown;
    try {
      v = JSON.parse(row);
    } catch (err) {
      if (unterminated) continue;
      throw new ManifestError(`${source}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    out.push(checkLine(v, `${source}:${i + 1}`));
  }
  return out;
}

/**
 * The expected traces, one per trace id in order of first appearance. A span
 * seen more than once counts once; one that failed and was later sent counts
 * as sent.
 */
export function mergeManifest(lines: readonly ManifestLine[]): ExpectedTrace[] {
  interface Acc {
    services: Set<string>;
    first: number;
    last: number;
    sent: Map<string, ManifestSpan>;
    failed: Map<string, ManifestSpan>;
    errors: Set<string>;
  }
  const byTrace = new Map<string, Acc>();
  for (const line of lines) {
    let acc = byTrace.get(line.traceId);
    if (!acc) {
      acc = { services: new Set(), first: line.sentAt, last: line.sentAt, sent: new Map(), failed: new Map(), errors: new Set() };
      byTrace.set(line.traceId, acc);
    }
    if (line.service !== '') acc.services.add(line.service);
    acc.first = Math.min(acc.first, line.sentAt);
    acc.last = Math.max(acc.last, line.sentAt);
    const failed = line.type === 'failed';
    if (failed) acc.errors.add(line.error ?? 'export failed');
    for (const s of line.spans) {
      if (failed) {
        if (!acc.sent.has(s.spanId) && !acc.failed.has(s.spanId)) acc.failed.set(s.spanId, s);
      } else {
        acc.failed.delete(s.spanId);
        if (!acc.sent.has(s.spanId)) acc.sent.set(s.spanId, s);
      }
    }
  }
  return [...byTrace].map(([traceId, a]) => ({
    traceId,
    services: [...a.services].sort(),
    firstSentAt: a.first,
    lastSentAt: a.last,
    spans: [...a.sent.values()],
    unsent: [...a.failed.values()],
    errors: [...a.errors],
  }));
}
