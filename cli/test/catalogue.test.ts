/**
 * Keeps the README's span catalogue true: a real `up` (1.35, story mode,
 * fast timing) runs `kubectl get nodes` and `kubectl run` with the mutating
 * webhook and keeps running its background; every span it exports in that
 * window must have a catalogue row, every row must have been seen, with its
 * key attributes, events and parent or link, and none of the spans may show
 * a tell of kubernetes-traces.md §10.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../shared/src/otlp-receiver.js';
import { REPO_ROOT, freePort, startProcess, type RunningProcess } from '../../shared/src/testing/index.js';
import { describeSpan, findTells, formatViolations } from '../../shared/src/testing/tells.js';

const KUBECTL = '/usr/bin/kubectl';
const exec = promisify(execFile);
const KINDS: Record<string, number> = { INTERNAL: 1, SERVER: 2, CLIENT: 3 };
const KIND_NAMES = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT'];

type ParentRule =
  | { readonly root: true; readonly link?: { readonly service: string; readonly name: string } }
  | { readonly root: false; readonly service: string; readonly name?: string; readonly kind?: number };

interface Row {
  readonly name: string;
  readonly service: string;
  readonly kind: number;
  readonly keys: readonly string[];
  readonly events: readonly string[];
  readonly parents: readonly ParentRule[];
  readonly line: string;
}

const ticks = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

function parseParent(alt: string, line: string): ParentRule {
  const link = /^root \+ link to (\w+) `([^`]+)`$/.exec(alt);
  if (link) return { root: true, link: { service: link[1] as string, name: link[2] as string } };
  if (alt === 'root') return { root: true };
  const named = /^(\w+) `([^`]+)`$/.exec(alt);
  if (named) return { root: false, service: named[1] as string, name: named[2] as string };
  const kinded = /^(\w+) (INTERNAL|SERVER|CLIENT)$/.exec(alt);
  if (kinded) return { root: false, service: kinded[1] as string, kind: KINDS[kinded[2] as string] as number };
  throw new Error(`cannot read the parent "${alt}" in: ${line}`);
}

/** Drops parenthesised remarks (they are for the reader), leaving parentheses inside `code` alone. */
function stripRemarks(cell: string): string {
  let out = '';
  let code = false;
  let depth = 0;
  for (const ch of cell) {
    if (ch === '`') code = !code;
    if (!code && ch === '(') depth++;
    if (depth === 0) out += ch;
    if (!code && ch === ')' && depth > 0) depth--;
  }
  return out.replace(/\s+/g, ' ').trim();
}

/** The rows of the table between the span-catalogue markers. */
function parseCatalogue(readme: string): Row[] {
  const start = readme.indexOf('<!-- span-catalogue:start -->');
  const end = readme.indexOf('<!-- span-catalogue:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no span-catalogue markers');
  const rows: Row[] = [];
  for (const line of readme.slice(start, end).split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.replace(/^\|\s*|\s*\|\s*$/g, '').split(/\s+\|\s+/);
    if (cells.length !== 6) throw new Error(`expected 6 cells in: ${line}`);
    const [span, service, kind, keys, events, parents] = cells as [string, string, string, string, string, string];
    const names = ticks(span);
    if (names.length !== 1 || KINDS[kind] === undefined) throw new Error(`one span name and a kind per row: ${line}`);
    rows.push({
      name: names[0] as string,
      service,
      kind: KINDS[kind] as number,
      keys: ticks(keys),
      events: ticks(events),
      parents: stripRemarks(parents)
        .split(' or ')
        .map((a) => parseParent(a.trim(), line)),
      line,
    });
  }
  return rows;
}

const svc = (s: ReceivedSpan): string => String(s.resource['service.name'] ?? '');
const tripleOf = (service: string, name: string, kind: number): string => `${service} ${KIND_NAMES[kind] ?? kind} "${name}"`;
const nowNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parentMatches(rule: ParentRule, s: ReceivedSpan, byId: ReadonlyMap<string, ReceivedSpan>): boolean {
  if (rule.root) {
    if (s.parentSpanId !== '') return false;
    if (!rule.link) return s.links.length === 0;
    const { service, name } = rule.link;
    return s.links.length === 1 && s.links.some((l) => {
      const target = byId.get(l.spanId);
      return target !== undefined && svc(target) === service && target.name === name && target.kind === 3;
    });
  }
  const p = byId.get(s.parentSpanId);
  if (!p || s.links.length > 0) return false;
  return svc(p) === rule.service && (rule.name === undefined || p.name === rule.name) && (rule.kind === undefined || p.kind === rule.kind);
}

const rows = parseCatalogue(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
const rowKey = (r: Row): string => tripleOf(r.service, r.name, r.kind);

let receiver: OtlpReceiver;
let up: RunningProcess | undefined;
let home: string;
let dataDir: string;
/** Spans that started after `up` was ready and ended before the window closed. */
let windowSpans: ReceivedSpan[] = [];
/** Everything received, to look parents and link targets up in. */
let byId = new Map<string, ReceivedSpan>();

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await exec(KUBECTL, ['--cache-dir', join(home, 'cache'), ...args], {
    env: { ...process.env, HOME: home, KUBECONFIG: join(dataDir, 'kubeconfig') },
    timeout: 60_000,
  });
  return stdout;
}

describe('the README span catalogue', () => {
  it('has one row per (service, span, kind)', () => {
    expect(rows.length).toBeGreaterThan(40);
    const keys = rows.map(rowKey);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });
});

describe.skipIf(!existsSync(KUBECTL))('the README span catalogue against a real run', () => {
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    dataDir = mkdtempSync(join(tmpdir(), 'catalogue-up-'));
    home = mkdtempSync(join(tmpdir(), 'catalogue-home-'));
    const ports = { apiserver: await freePort(), etcd: await freePort(), webhook: await freePort() };
    const proc = startProcess(
      [
        'up', '--ui-listen', '127.0.0.1:0', '--data-dir', dataDir, '--timing', 'fast', '--mode', 'story',
        '--apiserver-port', String(ports.apiserver), '--etcd-port', String(ports.etcd), '--webhook-port', String(ports.webhook),
        '--otlp-endpoint', receiver.endpoint,
      ],
      { env: { OTEL_BSP_SCHEDULE_DELAY: '200' } },
    );
    up = proc;
    const ready = Date.now() + 60_000;
    while (!proc.output().includes('Press Ctrl-C to stop.')) {
      if (Date.now() > ready) throw new Error(`up is not ready:\n${proc.output()}`);
      await sleep(200);
    }
    const t0 = nowNs();
    expect(await kubectl('get', 'nodes')).toMatch(/\nnode-1\s+Ready/);
    expect(await kubectl('run', 'demo', '--image=nginx')).toBe('pod/demo created\n');
    // Wait on the spans, not with kubectl polls: those would be requests the catalogue does not cover.
    const seen = (): Set<string> => new Set(receiver.spans().filter((s) => s.startTimeUnixNano >= t0).map((s) => tripleOf(svc(s), s.name, s.kind)));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !rows.every((r) => r.line.includes('(occasional:') || seen().has(rowKey(r)))) await sleep(500);
    const tEnd = nowNs();
    // Let the batch processors flush whatever ended inside the window (parents included).
    await sleep(2000);
    const all = receiver.spans();
    byId = new Map(all.map((s) => [s.spanId, s]));
    windowSpans = all.filter((s) => s.startTimeUnixNano >= t0 && s.endTimeUnixNano <= tEnd);
  }, 180_000);

  afterAll(async () => {
    await up?.stop('SIGINT');
    await receiver?.close();
  });

  it('the run exported the pod creation in one story-mode tree', () => {
    const syncPod = windowSpans.find((s) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === 'demo' && s.attributes['k8s.pod.update_type'] === 'create');
    expect(syncPod).toBeDefined();
    const create = byId.get(syncPod?.parentSpanId ?? '');
    expect(create?.name).toBe('POST /api/v1/namespaces/{:namespace}/pods');
  });

  it('every span the run exported has a catalogue row', () => {
    const known = new Set(rows.map(rowKey));
    const missing = [...new Set(windowSpans.map((s) => tripleOf(svc(s), s.name, s.kind)))].filter((k) => !known.has(k));
    expect(missing).toEqual([]);
  });

  it('every catalogue row was seen (but those marked occasional)', () => {
    const seen = new Set(windowSpans.map((s) => tripleOf(svc(s), s.name, s.kind)));
    expect(rows.filter((r) => !seen.has(rowKey(r)) && !r.line.includes('(occasional:')).map((r) => r.line)).toEqual([]);
  });

  it("every span carries its row's key attributes", () => {
    const problems: string[] = [];
    for (const r of rows) {
      for (const s of windowSpans.filter((x) => svc(x) === r.service && x.name === r.name && x.kind === r.kind)) {
        const absent = r.keys.filter((k) => !(k in s.attributes));
        if (absent.length > 0) problems.push(`${describeSpan(s)} lacks ${absent.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("each row's events were seen on its spans", () => {
    const problems: string[] = [];
    for (const r of rows) {
      const names = new Set(windowSpans.filter((x) => svc(x) === r.service && x.name === r.name && x.kind === r.kind).flatMap((s) => s.events.map((e) => e.name)));
      const absent = r.events.filter((e) => !names.has(e));
      if (absent.length > 0) problems.push(`${rowKey(r)}: no event ${absent.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it("every span's parent or link is one its row names", () => {
    const problems: string[] = [];
    const byRow = new Map(rows.map((r) => [rowKey(r), r]));
    for (const s of windowSpans) {
      const r = byRow.get(tripleOf(svc(s), s.name, s.kind));
      if (!r || r.parents.some((rule) => parentMatches(rule, s, byId))) continue;
      const p = byId.get(s.parentSpanId);
      const actual = s.parentSpanId === '' ? 'root' : p ? `${svc(p)} "${p.name}"` : `missing parent ${s.parentSpanId}`;
      const links = s.links.map((l) => byId.get(l.spanId)).map((t) => (t ? ` + link to ${svc(t)} "${t.name}"` : ' + link to an unexported span'));
      problems.push(`${describeSpan(s)}: ${actual}${links.join('')}`);
    }
    expect(problems).toEqual([]);
  });

  it('shows none of the tells (1.35, story mode, fast timing)', () => {
    expect(formatViolations(findTells(windowSpans, { profile: '1.35', mode: 'story', realisticTiming: false }))).toBe('');
  });
});
