/**
 * The complete trace shapes of `kubectl run` (with the mutating webhook) and
 * `kubectl get nodes`, for each version profile and each mode, against
 * realism-spec.ts (written from kubernetes-traces.md): names, kinds, parents,
 * attribute keys and types, events and their order, status, resources,
 * scopes, and the timing rules of §10 tell 11.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findTells, formatViolations, freePort, startProcess, type RunningProcess, type TellSpan } from '../../shared/src/testing/index.js';
import { bindingRequest, createRequest, getNodesRequest, resources, syncPod, type AttrType, type Profile, type SpanSpec } from './realism-spec.js';

const KUBECTL = '/usr/bin/kubectl';
const exec = promisify(execFile);
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS = ['UNSET', 'OK', 'ERROR'];

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  start: bigint;
  end: bigint;
  attrs: Record<string, { type: AttrType | 'array'; value: unknown }>;
  events: Array<{ name: string; time: bigint; attrs: Record<string, { type: AttrType | 'array'; value: unknown }> }>;
  links: Array<{ traceId: string; spanId: string }>;
  status: string;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  service: string;
}

type JsonAny = Record<string, unknown>;

/** OTLP/JSON lines with attribute types kept (int vs double vs string), which the shared reader folds. */
function readTyped(path: string): Span[] {
  const typed = (list: unknown): Span['attrs'] => {
    const out: Span['attrs'] = {};
    for (const kv of (list as Array<{ key: string; value: JsonAny }>) ?? []) {
      const v = kv.value;
      if ('stringValue' in v) out[kv.key] = { type: 's', value: v['stringValue'] };
      else if ('intValue' in v) out[kv.key] = { type: 'i', value: Number(v['intValue']) };
      else if ('doubleValue' in v) out[kv.key] = { type: 'd', value: v['doubleValue'] };
      else if ('boolValue' in v) out[kv.key] = { type: 'b', value: v['boolValue'] };
      else out[kv.key] = { type: 'array', value: v };
    }
    return out;
  };
  const spans: Span[] = [];
  if (!existsSync(path)) return spans;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    for (const rs of (JSON.parse(line) as { resourceSpans: JsonAny[] }).resourceSpans) {
      const resource = Object.fromEntries(Object.entries(typed((rs['resource'] as JsonAny | undefined)?.['attributes'])).map(([k, v]) => [k, v.value]));
      for (const ss of (rs['scopeSpans'] as JsonAny[]) ?? []) {
        const scope = (ss['scope'] as { name?: string; version?: string } | undefined) ?? {};
        for (const s of (ss['spans'] as JsonAny[]) ?? []) {
          spans.push({
            traceId: s['traceId'] as string,
            spanId: s['spanId'] as string,
            parentSpanId: (s['parentSpanId'] as string | undefined) ?? '',
            name: s['name'] as string,
            kind: KINDS[(s['kind'] as number | undefined) ?? 0] ?? '?',
            start: BigInt(s['startTimeUnixNano'] as string),
            end: BigInt(s['endTimeUnixNano'] as string),
            attrs: typed(s['attributes']),
            events: ((s['events'] as JsonAny[] | undefined) ?? []).map((e) => ({ name: e['name'] as string, time: BigInt(e['timeUnixNano'] as string), attrs: typed(e['attributes']) })),
            links: ((s['links'] as Array<{ traceId: string; spanId: string }> | undefined) ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            status: STATUS[((s['status'] as { code?: number } | undefined)?.code) ?? 0] ?? '?',
            resource,
            scope: { name: scope.name ?? '', version: scope.version ?? '' },
            service: String(resource['service.name'] ?? ''),
          });
        }
      }
    }
  }
  return spans;
}

const matches = (want: string | RegExp, got: string): boolean => (typeof want === 'string' ? want === got : want.test(got));

/** Every difference between a received span (with its subtree) and the spec, as readable lines. */
function compare(all: readonly Span[], got: Span, want: SpanSpec, path: string, skip: ReadonlySet<string> = new Set()): string[] {
  const here = `${path}/${want.name}`;
  const errs: string[] = [];
  if (got.service !== want.service) errs.push(`${here}: service ${got.service}, want ${want.service}`);
  if (got.name !== want.name) errs.push(`${here}: name "${got.name}"`);
  if (got.kind !== want.kind) errs.push(`${here}: kind ${got.kind}, want ${want.kind}`);
  if (!matches(want.scope[0], got.scope.name) || !matches(want.scope[1], got.scope.version)) {
    errs.push(`${here}: scope ${got.scope.name}@${got.scope.version}, want ${String(want.scope[0])}@${String(want.scope[1])}`);
  }
  const status = want.status ?? 'UNSET';
  if (got.status !== status) errs.push(`${here}: status ${got.status}, want ${status}`);
  const optional = want.optional ?? {};
  for (const [k, t] of Object.entries(want.attrs)) {
    const a = got.attrs[k];
    if (!a) errs.push(`${here}: attribute ${k} missing`);
    else if (a.type !== t) errs.push(`${here}: attribute ${k} is ${a.type}, want ${t}`);
  }
  for (const [k, a] of Object.entries(got.attrs)) {
    if (k in want.attrs) continue;
    if (k in optional) {
      if (a.type !== optional[k]) errs.push(`${here}: attribute ${k} is ${a.type}, want ${optional[k]}`);
    } else errs.push(`${here}: unexpected attribute ${k}`);
  }
  if (want.events) {
    const names = got.events.map((e) => e.name);
    if (got.events.length !== want.events.length) errs.push(`${here}: events [${names.join(' | ')}], want ${want.events.length}: [${want.events.map((e) => String(e.name)).join(' | ')}]`);
    else {
      want.events.forEach((we, i) => {
        const ge = got.events[i];
        if (!ge) return;
        if (!matches(we.name, ge.name)) errs.push(`${here}: event ${i} "${ge.name}", want "${String(we.name)}"`);
        if (we.attrs) {
          const keys = Object.keys(ge.attrs).sort().join(',');
          if (keys !== Object.keys(we.attrs).sort().join(',')) errs.push(`${here}: event "${ge.name}" attributes ${keys}, want ${Object.keys(we.attrs).sort().join(',')}`);
          for (const [k, t] of Object.entries(we.attrs)) if (ge.attrs[k] && ge.attrs[k].type !== t) errs.push(`${here}: event "${ge.name}" ${k} is ${ge.attrs[k].type}, want ${t}`);
        }
        for (const [k, v] of Object.entries(we.values ?? {})) if (ge.attrs[k]?.value !== v) errs.push(`${here}: event "${ge.name}" ${k}=${String(ge.attrs[k]?.value)}, want ${String(v)}`);
      });
    }
  }
  const kids = all
    .filter((s) => s.traceId === got.traceId && s.parentSpanId === got.spanId && !skip.has(s.spanId))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const wantKids = want.children ?? [];
  if (kids.length !== wantKids.length) {
    errs.push(`${here}: children [${kids.map((k) => `${k.service}:${k.name}`).join(', ')}], want [${wantKids.map((k) => `${k.service}:${k.name}`).join(', ')}]`);
  } else {
    kids.forEach((k, i) => errs.push(...compare(all, k, wantKids[i] as SpanSpec, here, skip)));
  }
  return errs;
}

/** Every client→server pair under `root` (the server span's service differs), for the nesting rule of tell 11. */
function crossProcessPairs(all: readonly Span[], root: Span): Array<[Span, Span]> {
  const pairs: Array<[Span, Span]> = [];
  const walk = (s: Span): void => {
    for (const c of all.filter((x) => x.traceId === s.traceId && x.parentSpanId === s.spanId)) {
      if (s.kind === 'CLIENT' && c.kind === 'SERVER' && c.service !== s.service) pairs.push([s, c]);
      walk(c);
    }
  };
  walk(root);
  return pairs;
}

interface Run {
  spans: Span[];
  output: string;
}

async function runCase(profile: Profile, mode: 'story' | 'faithful'): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), `realism-${profile}-${mode}-`));
  const home = mkdtempSync(join(tmpdir(), 'realism-home-'));
  const tracesFile = join(dataDir, 'traces.jsonl');
  // freePort's port can be taken by another test's process before a child binds it: start again on new ports then.
  let up: RunningProcess | undefined;
  for (let attempt = 1; !up; attempt++) {
    const p = startProcess(
      [
        'up', '--ui-listen', '127.0.0.1:0', '--data-dir', dataDir, '--timing', 'fast', '--kube-version', profile, '--mode', mode, '--background-traffic', 'off',
        '--apiserver-port', String(await freePort()), '--etcd-port', String(await freePort()), '--webhook-port', String(await freePort()),
        '--otlp-listen', `127.0.0.1:${await freePort()}`, '--traces-file', tracesFile, '--print-traces=false',
      ],
      { env: { OTEL_BSP_SCHEDULE_DELAY: '200', K8S_TRACE_SIM_SEED: '4' } },
    );
    const end = Date.now() + 40_000;
    while (!p.output().includes('Press Ctrl-C to stop.')) {
      if (p.child.exitCode !== null && attempt < 3 && /address already in use/.test(p.output())) break;
      if (Date.now() > end || p.child.exitCode !== null) {
        await p.stop('SIGINT');
        throw new Error(`up did not start:\n${p.output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (p.output().includes('Press Ctrl-C to stop.')) up = p;
  }
  try {
    const kubectl = async (...args: string[]): Promise<string> =>
      (await exec(KUBECTL, ['--cache-dir', join(home, 'cache'), ...args], { env: { ...process.env, HOME: home, KUBECONFIG: join(dataDir, 'kubeconfig') }, timeout: 60_000 })).stdout;
    await kubectl('get', 'nodes');
    await kubectl('run', 'demo', '--image=nginx');
    const until = Date.now() + 30_000;
    while ((await kubectl('get', 'pod', 'demo', '-o', 'jsonpath={.status.phase}')) !== 'Running') {
      if (Date.now() > until) throw new Error('demo not Running');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Let every batch processor flush the last spans (schedule delay 200 ms).
    await new Promise((r) => setTimeout(r, 2000));
    return { spans: readTyped(tracesFile), output: up.output() };
  } finally {
    await up.stop('SIGINT');
  }
}

const CASES: Array<[Profile, 'story' | 'faithful']> = [
  ['1.35', 'story'],
  ['1.35', 'faithful'],
  ['1.27', 'story'],
  ['1.27', 'faithful'],
];

describe.skipIf(!existsSync(KUBECTL)).each(CASES)('Kubernetes %s, %s mode', (profile, mode) => {
  let run: Run;
  let all: Span[];
  const server = (pred: (s: Span) => boolean, what: string): Span => {
    const found = all.filter((s) => s.service === 'apiserver' && s.kind === 'SERVER' && pred(s));
    if (found.length !== 1) throw new Error(`${found.length} SERVER spans for ${what}`);
    return found[0] as Span;
  };
  const target = (s: Span): string => String(s.attrs['http.target']?.value ?? '');
  const fromKubectl = (s: Span): boolean => String(s.attrs['user_agent.original']?.value ?? s.attrs['http.user_agent']?.value ?? '').startsWith('kubectl');
  const create = (): Span => server((s) => fromKubectl(s) && target(s).startsWith('/api/v1/namespaces/default/pods?fieldManager=kubectl-run'), 'the create');
  const getNodes = (): Span => server((s) => fromKubectl(s) && target(s).startsWith('/api/v1/nodes?limit=500'), 'get nodes');
  const binding = (): Span => server((s) => target(s).startsWith('/api/v1/namespaces/default/pods/demo/binding'), 'the binding');
  const sync = (): Span => {
    const found = all.filter((s) => s.name === 'syncPod' && s.attrs['k8s.pod.name']?.value === 'demo' && s.attrs['k8s.pod.update_type']?.value === 'create');
    if (found.length !== 1) throw new Error(`${found.length} create syncPods`);
    return found[0] as Span;
  };
  const parent = (s: Span): Span | undefined => all.find((p) => p.traceId === s.traceId && p.spanId === s.parentSpanId);

  beforeAll(async () => {
    run = await runCase(profile, mode);
    all = run.spans;
  }, 120_000);

  afterAll(() => undefined);

  it('up says which release it imitates', () => {
    expect(run.output).toContain(`(Kubernetes ${profile}, ${mode} mode`);
  });

  it.each([
    ['kubectl run: the create', () => createRequest(profile), () => create()],
    ['kubectl get nodes', () => getNodesRequest(profile), () => getNodes()],
    ['the scheduler binding', () => bindingRequest(profile), () => binding()],
    ['the kubelet syncPod', () => syncPod(profile), () => sync()],
  ] as const)('%s has the real shape', (_what, spec, got) => {
    // Story mode hangs the binding and syncPod under the create: each is checked on its own.
    const joined = mode === 'story' ? new Set([binding().spanId, sync().spanId]) : new Set<string>();
    expect(compare(all, got(), spec(), '', joined).join('\n')).toBe('');
  });

  it('kubectl requests start at the apiserver, rooted as the release roots them', () => {
    for (const s of [create(), getNodes()]) {
      expect(s.links).toEqual([]);
      if (profile === '1.27') {
        // 1.22–1.32: the tracing filter is outermost; KubernetesAPI is a root.
        expect(s.parentSpanId).toBe('');
      } else {
        // 1.33+: authentication runs first and is a root of its own; a system:masters caller's request hangs under it.
        const auth = parent(s);
        expect(auth?.name).toBe('authentication');
        expect(auth?.parentSpanId).toBe('');
        expect(all.filter((x) => x.traceId === s.traceId && x.parentSpanId === auth?.spanId)).toHaveLength(1);
      }
    }
  });

  it(mode === 'faithful' ? 'the create, the binding and syncPod are separate traces with nothing linking them' : 'the create, the binding and syncPod form one tree', () => {
    const c = create();
    const b = binding();
    const p = sync();
    if (mode === 'faithful') {
      expect(new Set([c.traceId, b.traceId, p.traceId]).size).toBe(3);
      expect(p.parentSpanId).toBe('');
      expect(p.links).toEqual([]);
      // The scheduler is not traced and not privileged: its request is a new root with no link.
      expect(b.links).toEqual([]);
      if (profile === '1.27') expect(b.parentSpanId).toBe('');
      else expect(parent(b)?.name ?? '').toBe('');
      for (const s of all) for (const l of s.links) expect([b.traceId, p.traceId, c.traceId]).not.toContain(l.traceId);
    } else {
      expect(b.traceId).toBe(c.traceId);
      expect(p.traceId).toBe(c.traceId);
      expect(parent(b)).toBeDefined();
      expect(parent(p)).toBeDefined();
    }
  });

  it('status PATCHes from the kubelet are apiserver roots linked to the kubelet client span (1.26+)', () => {
    const patches = all.filter((s) => s.service === 'apiserver' && s.kind === 'SERVER' && target(s).startsWith('/api/v1/namespaces/default/pods/demo/status'));
    expect(patches.length).toBeGreaterThanOrEqual(1);
    for (const s of patches) {
      const kubeletClient = all.find((k) => k.service === 'kubelet' && k.name === 'HTTP PATCH' && s.links.some((l) => l.spanId === k.spanId && l.traceId === k.traceId));
      expect(kubeletClient).toBeDefined();
      expect(kubeletClient?.kind).toBe('CLIENT');
      if (profile === '1.27') expect(s.parentSpanId).toBe('');
      else expect(parent(s)?.name ?? '').toBe('');
    }
  });

  it('no tell of kubernetes-traces.md §10 appears anywhere in the run', () => {
    const values = (a: Span['attrs']): Record<string, never> =>
      Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.value])) as Record<string, never>;
    const tellSpans: TellSpan[] = all.map((s) => ({
      traceId: s.traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      name: s.name,
      kind: KINDS.indexOf(s.kind),
      startTimeUnixNano: s.start,
      endTimeUnixNano: s.end,
      attributes: values(s.attrs),
      events: s.events.map((e) => ({ name: e.name, timeUnixNano: e.time, attributes: values(e.attrs) })),
      links: s.links.map((l) => ({ ...l, attributes: {} })),
      status: { code: STATUS.indexOf(s.status), message: '' },
      resource: s.resource as Record<string, never>,
      scope: s.scope,
    }));
    expect(formatViolations(findTells(tellSpans, { profile, mode }))).toBe(formatViolations([]));
  });

  it('the webhook sees the service name the apiserver dialled, as Go sends it in Host', () => {
    const wh = all.find((s) => s.service === 'webhook' && s.kind === 'SERVER' && s.traceId === create().traceId);
    expect(wh?.attrs['server.address']?.value).toBe('pod-mutator.webhook-system.svc');
    expect(wh?.attrs['server.port']?.value).toBe(443);
  });

  it('every service reports exactly its real resource', () => {
    const want = resources(profile);
    for (const [service, spec] of Object.entries(want)) {
      const seen = all.filter((s) => s.service === service);
      expect(seen.length, service).toBeGreaterThan(0);
      for (const r of new Set(seen.map((s) => JSON.stringify(s.resource)))) {
        const res = JSON.parse(r) as Record<string, unknown>;
        expect(Object.keys(res).sort(), service).toEqual([...spec.keys].sort());
        for (const [k, v] of Object.entries(spec.values)) expect(matches(v, String(res[k])), `${service} ${k}=${String(res[k])}`).toBe(true);
      }
    }
  });

  it('timing: servers nest strictly inside their clients; the CRI calls follow each other; syncPod starts after the binding', () => {
    for (const root of [create(), getNodes(), binding(), sync()]) {
      for (const [c, s] of crossProcessPairs(all, root)) {
        expect(s.start > c.start, `${s.service} ${s.name} starts after its client`).toBe(true);
        expect(s.end < c.end, `${s.service} ${s.name} ends before its client`).toBe(true);
      }
    }
    const kids = all.filter((s) => s.traceId === sync().traceId && s.parentSpanId === sync().spanId);
    const byName = (n: string): Span => kids.find((k) => k.name === `runtime.v1.${n}`) as Span;
    expect(byName('RuntimeService/CreateContainer').start > byName('ImageService/PullImage').end).toBe(true);
    expect(byName('RuntimeService/StartContainer').start > byName('RuntimeService/CreateContainer').end).toBe(true);
    expect(sync().start > binding().end).toBe(true);
  });
});
