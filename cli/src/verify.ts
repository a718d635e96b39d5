import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FlagError, formatUsage, parseDuration, parseFlags, type CommandMain, type FlagSpecs } from '../../shared/src/index.js';
import { ManifestError, mergeManifest, parseManifest, type ExpectedTrace } from '../../shared/src/manifest.js';
import { BackendError, DEFAULT_QUERY_URL, openBackend, parseHeaders, type BackendKind } from './verify-backend.js';
import { summarize, type TraceResult, type VerifySummary } from './verify-compare.js';
import { pollTraces } from './verify-poll.js';

const FLAGS = {
  'data-dir': { type: 'string', default: './.k8s-trace-sim', metavar: 'DIR', help: 'the data directory of the `up` run to check (its sent.jsonl)' },
  manifest: { type: 'string', metavar: 'FILE', help: 'the sent manifest to check (default <data-dir>/sent.jsonl)' },
  query: { type: 'string', metavar: 'URL', help: `the built-in receiver's query API, Jaeger v2 /api/v3 (the default backend, at ${DEFAULT_QUERY_URL})` },
  jaeger: { type: 'string', metavar: 'URL', help: 'a Jaeger v2 query endpoint (UI base URL, e.g. http://localhost:16686)' },
  tempo: { type: 'string', metavar: 'URL', help: 'a Tempo query frontend (e.g. http://localhost:3200)' },
  header: { type: 'stringArray', metavar: 'KEY=VALUE', help: 'an HTTP header on every request, e.g. X-Scope-OrgID=tenant-1 (repeatable; a comma also separates headers)' },
  'ca-file': { type: 'string', metavar: 'FILE', help: 'PEM CA certificates to trust for an https backend' },
  'insecure-skip-verify': { type: 'bool', default: false, help: "don't verify the backend's TLS certificate" },
  timeout: { type: 'duration', default: 30_000, metavar: 'DURATION', help: 'keep polling for missing spans this long' },
  output: { type: 'string', default: 'text', metavar: 'text|json', help: 'report format' },
  since: { type: 'string', metavar: 'DURATION|TIME', help: 'only traces sent in the last DURATION (e.g. 10m) or since an RFC 3339 time' },
  service: { type: 'string', metavar: 'NAME', help: 'only traces with a span from this service.name' },
  limit: { type: 'int', default: 0, metavar: 'N', help: 'only the N traces sent last (0: all)' },
  help: { type: 'bool', default: false, help: 'show this help' },
} as const satisfies FlagSpecs;

const SUMMARY = `Check that a backend holds every trace a run sent.

Reads the sent manifest (every process appends one line per trace after each
OTLP export), asks the backend for each trace until all are complete or the
timeout passes, and reports each trace as found, missing, partial, wrong
parent or wrong attribute, with the loss and the time from send to queryable.
Exit status: 0 all found intact, 1 anything lost or wrong, 2 could not check.`;

/** `--since`: a Go duration back from now, or an absolute RFC 3339 time; unix ms. */
export function parseSince(raw: string, now: number): number {
  try {
    return now - parseDuration(raw);
  } catch {
    // not a duration: try a time
  }
  const t = /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(t)) throw new FlagError(`invalid --since "${raw}": want a duration such as 10m or an RFC 3339 time`);
  return t;
}

export interface Selection {
  readonly sinceMs?: number;
  readonly service?: string;
  /** 0: all. */
  readonly limit: number;
}

/** The traces to check: sent since, touching the service, the last `limit` by send time. */
export function selectTraces(traces: readonly ExpectedTrace[], sel: Selection): ExpectedTrace[] {
  let out = traces.filter(
    (t) =>
      (sel.sinceMs === undefined || t.lastSentAt >= sel.sinceMs) &&
      (sel.service === undefined || [...t.spans, ...t.unsent].some((s) => s.service === sel.service)),
  );
  if (sel.limit > 0 && out.length > sel.limit) {
    out = [...out].sort((a, b) => a.lastSentAt - b.lastSentAt).slice(-sel.limit);
  }
  return out;
}

/** Which backend, from the mutually exclusive --query/--jaeger/--tempo. */
export function chooseBackend(flags: { query?: string | undefined; jaeger?: string | undefined; tempo?: string | undefined }): {
  kind: BackendKind;
  url: string;
} {
  const given = (['query', 'jaeger', 'tempo'] as const).filter((k) => flags[k] !== undefined);
  if (given.length > 1) throw new FlagError(`--${given.join(', --')}: give one backend`);
  const kind = given[0] ?? 'query';
  return { kind, url: flags[kind] ?? DEFAULT_QUERY_URL };
}

const ms = (v: number): string => (v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`);
const span = (s: { service: string; name: string; spanId: string }): string => `${s.service} ${s.name} ${s.spanId}`;
const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

const LABEL: Readonly<Record<TraceResult['status'], string>> = {
  found: 'found',
  missing: 'missing',
  partial: 'partial',
  'wrong-parent': 'wrong parent',
  'wrong-attribute': 'wrong attribute',
  unsent: 'not sent',
};

/** A trace's report lines: one headline, then one line per problem. */
export function formatTrace(r: TraceResult): string[] {
  const root = r.root ? `  ${r.root.service} ${r.root.name}` : '';
  const after = r.queryableAfterMs !== undefined ? `  queryable after ${r.completeAtFirstPoll ? '≤ ' : ''}${ms(r.queryableAfterMs)}` : '';
  const lines = [`${LABEL[r.status].padEnd(16)} ${r.traceId}  ${r.foundSpans}/${r.expectedSpans} spans${root}${after}`];
  for (const s of r.missingSpans) lines.push(`    missing: ${span(s)}`);
  for (const s of r.wrongParents) lines.push(`    wrong parent: ${span(s)} has parent ${s.got || '(none)'}, want ${s.want || '(none)'}`);
  for (const s of r.wrongAttributes) lines.push(`    wrong attribute: ${span(s)} ${s.key} = ${show(s.got)}, want ${show(s.want)}`);
  for (const s of r.unsentSpans) lines.push(`    dropped before send: ${span(s)}`);
  if (r.unsentSpans.length > 0) lines.push(`    (the export failed: ${r.exportErrors.join('; ')})`);
  if (r.lastError !== undefined && r.status !== 'found') lines.push(`    last request failed: ${r.lastError}`);
  return lines;
}

export function formatSummary(s: VerifySummary): string {
  const parts = [
    `${s.traces} traces: ${s.found} found, ${s.missing} missing, ${s.partial} partial, ${s.wrongParent} wrong parent, ${s.wrongAttribute} wrong attribute, ${s.unsent} not sent`,
    `spans: ${s.spansFound}/${s.spansSent} found, ${s.lossPercent}% lost after send, ${s.spansUnsent} dropped before send`,
  ];
  if (s.latency) {
    parts.push(
      `send to queryable: median ${ms(s.latency.medianMs)}, p99 ${ms(s.latency.p99Ms)}${s.latency.upperBound ? ' (upper bounds for traces already there at the first poll)' : ''}`,
    );
  }
  return `${s.ok ? 'OK' : 'FAIL'}: ${parts.join('; ')}`;
}

/** Problems last, next to the summary, where a reader looks. */
const ORDER: readonly TraceResult['status'][] = ['found', 'unsent', 'wrong-attribute', 'wrong-parent', 'partial', 'missing'];

class UsageError extends Error {}

export const main: CommandMain = async (argv) => {
  try {
    process.exitCode = await verify(argv);
  } catch (err) {
    if (err instanceof FlagError || err instanceof UsageError) {
      process.stderr.write(`Error: ${err.message}\nRun 'k8s-trace-sim verify --help' for usage.\n`);
    } else {
      process.stderr.write(`Error: ${(err as Error).message}\n`);
    }
    process.exitCode = 2;
  }
};

async function verify(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(formatUsage('verify', SUMMARY, FLAGS) + '\n');
    return 0;
  }
  if (flags._.length > 0) throw new UsageError(`unexpected argument "${flags._[0]}"`);
  if (flags.output !== 'text' && flags.output !== 'json') throw new UsageError(`invalid --output "${flags.output}": want text or json`);
  if (flags.limit < 0) throw new UsageError(`invalid --limit ${flags.limit}: want 0 (all) or more`);
  if (flags.timeout <= 0) throw new UsageError(`invalid --timeout: want more than 0`);
  const { kind, url } = chooseBackend(flags);
  const headers = parseHeaders(flags.header ?? []);
  const sinceMs = flags.since !== undefined ? parseSince(flags.since, Date.now()) : undefined;
  let ca: Buffer | undefined;
  if (flags['ca-file'] !== undefined) {
    try {
      ca = readFileSync(flags['ca-file']);
    } catch (err) {
      throw new Error(`cannot read --ca-file: ${(err as Error).message}`);
    }
  }

  const path = resolve(flags.manifest ?? join(flags['data-dir'], 'sent.jsonl'));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ManifestError(
      e.code === 'ENOENT'
        ? `no manifest at ${path}: run \`k8s-trace-sim up\` first (it writes <data-dir>/sent.jsonl), or pass --manifest or --data-dir`
        : `cannot read the manifest ${path}: ${e.message}`,
    );
  }
  const all = mergeManifest(parseManifest(text, path));
  if (all.length === 0) throw new ManifestError(`the manifest ${path} lists no traces: nothing was exported yet`);
  const traces = selectTraces(all, { ...(sinceMs !== undefined ? { sinceMs } : {}), ...(flags.service !== undefined ? { service: flags.service } : {}), limit: flags.limit });
  if (traces.length === 0) throw new ManifestError(`none of the ${all.length} traces in ${path} matches --since/--service`);

  const backend = openBackend({ kind, url, headers, ...(ca ? { ca } : {}), insecureSkipVerify: flags['insecure-skip-verify'] });
  try {
    // One request first, so an unreachable or misconfigured backend is an error, not a 100 % loss.
    const probe = traces.find((t) => t.spans.length > 0);
    if (probe) {
      try {
        await backend.fetch(probe);
      } catch (err) {
        const msg = (err as Error).message;
        // The default backend lives in `up`: nothing listening usually means it is not running.
        const hint = kind === 'query' && /ECONNREFUSED/.test(msg) ? ' (is `k8s-trace-sim up` running? its query API listens there)' : '';
        throw new BackendError(`cannot query ${kind === 'query' ? 'the built-in receiver' : kind} at ${url}: ${msg}${hint}`);
      }
    }
    const asText = flags.output === 'text';
    if (asText) {
      const spans = traces.reduce((n, t) => n + t.spans.length, 0);
      process.stdout.write(`checking ${traces.length} traces (${spans} spans) from ${path} against ${kind} ${url}\n`);
    }
    const results = await pollTraces(traces, backend.fetch, { timeoutMs: flags.timeout });
    const summary = summarize(results);
    if (asText) {
      const sorted = [...results].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status));
      process.stdout.write(sorted.flatMap(formatTrace).join('\n') + '\n' + formatSummary(summary) + '\n');
    } else {
      process.stdout.write(JSON.stringify({ manifest: path, backend: { kind, url }, summary, traces: results }, null, 2) + '\n');
    }
    return summary.ok ? 0 : 1;
  } finally {
    backend.close();
  }
}
