/**
 * docker-compose.yaml and the Dockerfile, checked without a Docker engine
 * (none runs where this project is tested):
 *
 * 1. the files themselves: every service, image tag, port, volume, depends_on
 *    condition, healthcheck, command flag and environment variable refers to
 *    something that exists, and our commands accept every flag they are given
 *    (each command parses them with its own flag specs: `<args> --help`);
 * 2. the same commands, run as local processes: only hosts, ports and paths are
 *    rewritten (service names and bind addresses to 127.0.0.1, container ports
 *    to free ports, volume paths to directories here), the services start in
 *    depends_on order, each is held to its own healthcheck, the demo job
 *    creates a pod that reaches Running and prints its trace's link, and the
 *    spans arrive at a local OTLP receiver, `k8s-trace-sim collector`, which
 *    plays Jaeger (OTLP in, /api/v3 out).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import {
  freePort,
  readOtlpJsonLines,
  REPO_ROOT,
  startProcess,
  waitForListen,
  type FileSpan,
  type RunningProcess,
} from '../../shared/src/testing/index.js';
import { KubeClient, loadKubeconfig, parseFlags, type Pod } from '../../shared/src/index.js';
import { KUBE_VERSIONS, planUp, UP_FLAGS } from '../src/up-plan.js';
import { WEBHOOK_SERVICE } from '../src/cluster-files.js';

// ---------------------------------------------------------------------------
// The compose model, and the pure functions both halves use.

interface Healthcheck {
  readonly test: readonly string[];
  readonly interval?: string;
  readonly timeout?: string;
  readonly retries?: number;
}
interface Dependency {
  readonly condition: string;
  readonly required?: boolean;
}
interface Service {
  readonly build?: string;
  readonly image?: string;
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly ports?: readonly string[];
  readonly expose?: readonly string[];
  readonly volumes?: readonly string[];
  readonly healthcheck?: Healthcheck;
  readonly depends_on?: Readonly<Record<string, Dependency>>;
  readonly profiles?: readonly string[];
}
interface Compose {
  readonly name: string;
  readonly services: Readonly<Record<string, Service>>;
  readonly volumes: Readonly<Record<string, unknown>>;
}

const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yaml');

/** The file as compose reads it: YAML merge keys (`<<: *anchor`) resolved, `x-` extensions kept. */
function loadCompose(text: string): Compose {
  return parse(text, { merge: true }) as Compose;
}

/**
 * Compose's variable interpolation for the forms this file may use: `$$`,
 * `${VAR}`, `${VAR:-default}` (unset or empty) and `${VAR-default}` (unset).
 * Anything else (`$VAR`, `${VAR:?…}`) is refused, so the checks never guess.
 */
export function interpolate(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/\$(\$|\{([^}]*)\}|[A-Za-z_]?)/g, (whole, body: string, braced: string | undefined) => {
    if (body === '$') return '$';
    const m = braced !== undefined ? /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$/.exec(braced) : null;
    if (!m) throw new Error(`unsupported interpolation ${whole} in "${value}"`);
    const v = env[m[1] as string];
    if (m[2] === ':-') return v === undefined || v === '' ? (m[3] as string) : v;
    if (m[2] === '-') return v === undefined ? (m[3] as string) : v;
    if (v === undefined) throw new Error(`${whole} is unset and has no default`);
    return v;
  });
}

/** The variables a value interpolates, with their defaults. */
function variables(value: string): Array<{ name: string; fallback: string | undefined }> {
  return [...value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g)].map((m) => ({ name: m[1] as string, fallback: m[2] }));
}

/** "SRC:TARGET[:ro]": a named volume when SRC has no slash, else a bind mount relative to the compose file. */
function parseVolume(v: string): { source: string; target: string; named: boolean; readOnly: boolean } {
  const [source, target, mode, ...rest] = v.split(':');
  if (!source || !target || rest.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) throw new Error(`volume "${v}": want SRC:TARGET[:ro]`);
  return { source, target, named: !source.includes('/'), readOnly: mode === 'ro' };
}

/** "[HOST_IP:]HOST:CONTAINER" */
function parsePort(p: string): { host: number; container: number } {
  const m = /^(?:[\d.]+:)?(\d+):(\d+)$/.exec(p);
  if (!m) throw new Error(`port "${p}": want HOST:CONTAINER`);
  return { host: Number(m[1]), container: Number(m[2]) };
}

/**
 * Ports a service's own processes listen on inside its container: `expose`,
 * the container side of `ports`, and loopback ports its healthcheck probes
 * (the kubelet's healthz answers on 127.0.0.1 only).
 */
function listens(s: Service): number[] {
  const probed = (s.healthcheck?.test ?? []).flatMap((a) => [...a.matchAll(/(?:127\.0\.0\.1|localhost):(\d+)/g)].map((m) => Number(m[1])));
  return [...new Set([...(s.expose ?? []).map(Number), ...(s.ports ?? []).map((p) => parsePort(p).container), ...probed])];
}

/** How one service's strings become local ones. */
interface LocalMap {
  /** Compose service names; each resolves to 127.0.0.1 here. */
  readonly services: ReadonlySet<string>;
  /** service → container port → local port. */
  readonly ports: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** Host port → the service publishing it (`ports:`), for `localhost:16686` in a link meant for the host. */
  readonly published: ReadonlyMap<number, string>;
  /** The service's own mounts: container path → local path. */
  readonly mounts: ReadonlyArray<{ readonly target: string; readonly local: string }>;
}

const LOOPBACK = new Set(['0.0.0.0', '127.0.0.1', 'localhost']);

/**
 * Rewrites one argument or environment value of service `self` for a local
 * run: `service:port` to 127.0.0.1 and the service's local port, the port of
 * `0.0.0.0:port` and `127.0.0.1:port` to the local one (`localhost` becomes
 * 127.0.0.1, which the local listeners serve), a bare container port the
 * service listens on to its local port, and an absolute path to where its
 * volume is here. Throws on a host:port or path with no local counterpart, so
 * nothing silently talks to something else.
 */
export function localize(value: string, self: string, m: LocalMap): string {
  const own = m.ports.get(self) ?? new Map<number, number>();
  if (/^\d+$/.test(value) && own.has(Number(value))) return String(own.get(Number(value)));
  let out = value.replace(/(?<![\w.-])([A-Za-z0-9][A-Za-z0-9.-]*):(\d+)(?![\w.])/g, (whole, host: string, port: string) => {
    const p = Number(port);
    let owner: string | undefined;
    if (m.services.has(host)) owner = host;
    else if (LOOPBACK.has(host)) owner = own.has(p) ? self : m.published.get(p);
    else return whole;
    const local = owner !== undefined ? m.ports.get(owner)?.get(p) : undefined;
    if (local === undefined) throw new Error(`${self}: "${value}": nothing here plays ${host}:${port}`);
    return `${host === '0.0.0.0' ? host : '127.0.0.1'}:${local}`;
  });
  out = out.replace(/(^|unix:\/\/|=)(\/[^\s,]*)/g, (_, lead: string, path: string) => {
    const mount = [...m.mounts]
      .sort((a, b) => b.target.length - a.target.length)
      .find((mt) => path === mt.target || path.startsWith(mt.target + '/'));
    if (!mount) throw new Error(`${self}: "${value}": ${path} is in none of the service's volumes`);
    return lead + mount.local + path.slice(mount.target.length);
  });
  for (const s of m.services) {
    if (new RegExp(`(^|//|@|=)${s.replace(/[.-]/g, '\\$&')}(?=[:/])`).test(out)) throw new Error(`${self}: "${value}" still names service ${s}`);
  }
  return out;
}

/** Services in an order that starts each after everything it depends on; throws on a cycle or an unknown name. */
function startOrder(services: Readonly<Record<string, Service>>, active: (name: string) => boolean): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`depends_on cycle: ${[...path, name].join(' → ')}`);
    const s = services[name];
    if (!s) throw new Error(`${path.at(-1)} depends on unknown service ${name}`);
    state.set(name, 'visiting');
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) if (active(dep) || d.required !== false) visit(dep, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(services)) if (active(name)) visit(name, []);
  return order;
}

/** The final stage of a Dockerfile: its base, WORKDIR, ENV, ENTRYPOINT and CMD. */
function imageConfig(dockerfile: string): { workdir: string; env: Record<string, string>; entrypoint: string[]; cmd: string[] } {
  const stages = dockerfile.split(/^FROM /m);
  const last = stages.at(-1) as string;
  const json = (instr: string): string[] => {
    const m = new RegExp(`^${instr} (\\[.*\\])$`, 'm').exec(last);
    if (!m) throw new Error(`the final stage has no exec-form ${instr}`);
    return JSON.parse(m[1] as string) as string[];
  };
  const env: Record<string, string> = {};
  for (const m of last.matchAll(/^ENV ([A-Z_]+)=(\S+)$/gm)) env[m[1] as string] = m[2] as string;
  return { workdir: /^WORKDIR (\S+)$/m.exec(last)?.[1] ?? '/', env, entrypoint: json('ENTRYPOINT'), cmd: json('CMD') };
}

/** Whether a .dockerignore pattern list leaves `path` out of the build context (the subset of the syntax used here). */
function dockerIgnored(path: string, patterns: readonly string[]): boolean {
  const segments = path.split('/');
  return patterns.some((p) => {
    if (p.startsWith('**/')) {
      const tail = p.slice(3);
      const re = new RegExp(`^${tail.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
      return segments.some((s) => re.test(s));
    }
    return path === p || path.startsWith(p + '/');
  });
}

function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolvePromise) => {
    execFile(cmd, [...args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolvePromise({ code, out: stdout + stderr });
    });
  });
}

const compose = loadCompose(readFileSync(COMPOSE_FILE, 'utf8'));
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const image = imageConfig(dockerfile);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const OUR_IMAGE = `k8s-trace-sim:${pkg.version}`;
/** Each of our processes, and the command that runs it (as `up` names its children). */
const COMPONENTS = ['etcd', 'runtime', 'webhook', 'apiserver', 'scheduler', 'kubelet'] as const;
/** Services that run once and exit; everything else runs until stopped. */
const JOBS = new Set(['init', 'register-webhook', 'demo', 'verify']);
/** Long-running services with no healthcheck, and why. */
const NO_HEALTHCHECK: Record<string, string> = {
  'otel-collector': 'its image is scratch plus the binary: no program to run a check with',
};
const ours = (s: Service): boolean => s.image === OUR_IMAGE;
const PUBLISHED = new Map(Object.entries(compose.services).flatMap(([n, s]) => (s.ports ?? []).map((p) => [parsePort(p).host, n] as const)));
const staticVolumes = new Map<string, string>();
/** Ports as they are, binds to the repository's files, each named volume to a directory of its own: paths a static check can open. */
function staticMap(n: string): LocalMap {
  const names = Object.keys(compose.services);
  const volume = (name: string): string => {
    if (!staticVolumes.has(name)) staticVolumes.set(name, mkdtempSync(join(tmpdir(), `compose-${name}-`)));
    return staticVolumes.get(name) as string;
  };
  return {
    services: new Set(names),
    ports: new Map(names.map((x) => [x, new Map(listens(compose.services[x] as Service).map((p) => [p, p]))])),
    published: PUBLISHED,
    mounts: (compose.services[n]?.volumes ?? []).map(parseVolume).map((v) => ({
      target: v.target,
      local: v.named ? volume(v.source) : resolve(REPO_ROOT, v.source),
    })),
  };
}
const argv = (s: Service): string[] => [...(s.entrypoint ?? image.entrypoint), ...(s.command ?? image.cmd)].map((a) => interpolate(a, {}));

// ---------------------------------------------------------------------------

describe('compose helpers', () => {
  it('interpolates as compose does', () => {
    const env = { SET: 'x', EMPTY: '' };
    const cases: Array<[string, string]> = [
      ['${SET}', 'x'],
      ['${UNSET:-d}', 'd'],
      ['${EMPTY:-d}', 'd'],
      ['${EMPTY-d}', ''],
      ['${UNSET-d}', 'd'],
      ['http://${UNSET:-jaeger:4317}/', 'http://jaeger:4317/'],
      ['$$HOME', '$HOME'],
      ['plain', 'plain'],
    ];
    for (const [input, want] of cases) expect(interpolate(input, env), input).toBe(want);
    for (const bad of ['$HOME', '${UNSET}', '${X:?required}']) expect(() => interpolate(bad, env), bad).toThrow();
  });

  it('rewrites hosts, ports and paths, and refuses what it cannot place', () => {
    const m: LocalMap = {
      services: new Set(['etcd', 'apiserver', 'jaeger']),
      ports: new Map([
        ['etcd', new Map([[2379, 30001]])],
        ['apiserver', new Map([[6443, 30002]])],
        ['jaeger', new Map([[4317, 30003], [16686, 30004]])],
      ]),
      published: new Map([[6443, 'apiserver'], [16686, 'jaeger']]),
      mounts: [
        { target: '/etc/kubernetes', local: '/tmp/k' },
        { target: '/etc/kubernetes/extra', local: '/tmp/x' },
        { target: '/run/containerd', local: '/tmp/c' },
      ],
    };
    const cases: Array<[string, string, string]> = [
      ['apiserver', 'http://etcd:2379', 'http://127.0.0.1:30001'],
      ['etcd', 'http://0.0.0.0:2379', 'http://0.0.0.0:30001'],
      ['etcd', 'jaeger:4317', '127.0.0.1:30003'],
      ['apiserver', '0.0.0.0', '0.0.0.0'],
      ['apiserver', '6443', '30002'],
      ['etcd', '6443', '6443'],
      ['apiserver', 'https://127.0.0.1:6443/readyz', 'https://127.0.0.1:30002/readyz'],
      ['demo', 'http://localhost:16686', 'http://127.0.0.1:30004'],
      ['apiserver', 'webhook-system/pod-mutator=apiserver:6443', 'webhook-system/pod-mutator=127.0.0.1:30002'],
      ['apiserver', '/etc/kubernetes/pki/ca.crt', '/tmp/k/pki/ca.crt'],
      ['apiserver', '/etc/kubernetes/extra/f', '/tmp/x/f'],
      ['apiserver', 'unix:///run/containerd/containerd.sock', 'unix:///tmp/c/containerd.sock'],
      ['apiserver', 'pod-mutator.webhook-system.svc', 'pod-mutator.webhook-system.svc'],
      ['apiserver', 'examples/compose/x.mjs', 'examples/compose/x.mjs'],
      ['etcd', 'etcd', 'etcd'],
    ];
    for (const [self, input, want] of cases) expect(localize(input, self, m), `${self}: ${input}`).toBe(want);
    const refused: Array<[string, string]> = [
      ['etcd', 'jaeger:4318'],
      ['etcd', 'localhost:9999'],
      ['etcd', '/var/lib/etcd'],
      ['etcd', '/etc/kubernetesX/f'],
      ['etcd', 'https://apiserver/'],
    ];
    for (const [self, input] of refused) expect(() => localize(input, self, m), `${self}: ${input}`).toThrow();
  });

  it('orders services after their dependencies and finds cycles', () => {
    const dep = (names: string[]): Record<string, Dependency> => Object.fromEntries(names.map((n) => [n, { condition: 'service_started' }]));
    const ok = { a: { depends_on: dep(['b', 'c']) }, b: { depends_on: dep(['c']) }, c: {}, p: { profiles: ['x'] } };
    expect(startOrder(ok, (n) => n !== 'p')).toEqual(['c', 'b', 'a']);
    expect(() => startOrder({ a: { depends_on: dep(['b']) }, b: { depends_on: dep(['a']) } }, () => true)).toThrow(/cycle/);
    expect(() => startOrder({ a: { depends_on: dep(['zz']) } }, () => true)).toThrow(/unknown service zz/);
    expect(startOrder({ a: { depends_on: { p: { condition: 'service_started', required: false } } }, p: {} }, (n) => n === 'a')).toEqual(['a']);
  });

  it('reads the .dockerignore subset used here', () => {
    const patterns = ['.git', 'node_modules', '**/test', '**/*.log', 'bench/results'];
    const cases: Array<[string, boolean]> = [
      ['shared/test/x.test.ts', true],
      ['shared/src/testing/index.ts', false],
      ['node_modules/yaml/index.js', true],
      ['bench/results/a.json', true],
      ['bench/pods.ts', false],
      ['a/b/c.log', true],
      ['shared/proto/otlp/trace_service.proto', false],
    ];
    for (const [path, want] of cases) expect(dockerIgnored(path, patterns), path).toBe(want);
  });
});

// ---------------------------------------------------------------------------

describe('docker-compose.yaml, read as a file', () => {
  const names = Object.keys(compose.services);

  it('has one service per process, as `up` starts them, plus Jaeger, the optional Collector, init and the jobs', () => {
    expect(compose.name).toBe('k8s-trace-sim');
    expect(names.sort()).toEqual(
      ['apiserver', 'demo', 'etcd', 'init', 'jaeger', 'kubelet', 'otel-collector', 'register-webhook', 'runtime', 'scheduler', 'verify', 'webhook'].sort(),
    );
    for (const c of COMPONENTS) {
      const runners = names.filter((n) => ours(compose.services[n] as Service) && argv(compose.services[n] as Service)[2] === c);
      expect(runners, `services running k8s-trace-sim ${c}`).toEqual([c]);
    }
  });

  it('uses only service keys compose knows (no typo is silently ignored)', () => {
    const keys = new Set(['build', 'image', 'entrypoint', 'command', 'environment', 'ports', 'expose', 'volumes', 'healthcheck', 'depends_on', 'profiles']);
    const top = new Set(['name', 'services', 'volumes']);
    for (const k of Object.keys(compose)) expect(top.has(k) || k.startsWith('x-'), `top-level key ${k}`).toBe(true);
    for (const [n, s] of Object.entries(compose.services)) {
      for (const k of Object.keys(s)) expect(keys.has(k), `${n}.${k}`).toBe(true);
      for (const k of Object.keys(s.healthcheck ?? {})) expect(['test', 'interval', 'timeout', 'retries'], `${n}.healthcheck.${k}`).toContain(k);
      for (const [d, dep] of Object.entries(s.depends_on ?? {})) for (const k of Object.keys(dep)) expect(['condition', 'required'], `${n}.depends_on.${d}.${k}`).toContain(k);
    }
  });

  it('pins every image to an exact version; ours is built here and tagged with package.json\'s version', () => {
    const pinned: Record<string, RegExp> = {
      jaeger: /^jaegertracing\/jaeger:2\.\d+\.\d+$/,
      'otel-collector': /^otel\/opentelemetry-collector:0\.\d+\.\d+$/,
    };
    for (const [n, s] of Object.entries(compose.services)) {
      expect(s.image, `${n}.image`).toBeDefined();
      expect(s.image, `${n}.image`).not.toMatch(/:latest$|^[^:]+$/);
      if (pinned[n]) expect(s.image, n).toMatch(pinned[n] as RegExp);
      else {
        expect(s.image, n).toBe(OUR_IMAGE);
        expect(s.build, `${n}.build`).toBe('.');
      }
    }
    // The Dockerfile's base: an exact Node release of the major package.json asks for.
    const major = /(\d+)/.exec(pkg.engines.node)?.[1];
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1] as string);
    expect(bases.length).toBeGreaterThan(0);
    for (const b of bases) expect(b).toMatch(new RegExp(`^node:${major}\\.\\d+\\.\\d+-[a-z]+-slim$`));
    expect(new Set(bases).size).toBe(1);
  });

  it('publishes, exposes and probes only ports a process listens on, each host port once', () => {
    const hostPorts: number[] = [];
    const jaegerPorts = new Set([4317, 4318, 16686]); // Jaeger v2's OTLP gRPC, OTLP HTTP, UI + query API
    for (const [n, s] of Object.entries(compose.services)) {
      if (ours(s)) {
        for (const p of listens(s)) expect(argv(s).some((a) => a === String(p) || a.endsWith(`:${p}`)), `${n} listens on ${p}`).toBe(true);
      }
      for (const p of s.ports ?? []) {
        const { host, container } = parsePort(p);
        hostPorts.push(host);
        if (n === 'jaeger') expect(jaegerPorts.has(container), `${n} ${p}`).toBe(true);
        else expect(argv(s), `${n} publishes ${p}`).toContain(String(container));
      }
      for (const e of s.expose ?? []) {
        if (n === 'otel-collector') {
          const cfg = parse(readFileSync(join(REPO_ROOT, 'examples/compose/otel-collector.yaml'), 'utf8')) as Record<string, any>;
          const endpoints = Object.values(cfg['receivers'].otlp.protocols).map((p: any) => p.endpoint);
          expect(endpoints, `${n} exposes ${e}`).toContain(`0.0.0.0:${e}`);
        } else expect(argv(s).some((a) => a === e || a.endsWith(`:${e}`)), `${n} exposes ${e}`).toBe(true);
      }
    }
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('mounts files that exist, declares every named volume, and lets the image\'s user write each one', () => {
    const declared = new Set(Object.keys(compose.volumes));
    const used = new Set<string>();
    const mkdir = /^RUN mkdir -p ([^\\\n]+)\\\n && chown node:node (.+)$/m.exec(dockerfile);
    expect(mkdir, 'the Dockerfile creates the mount points').not.toBeNull();
    const owned = new Set((mkdir?.[2] ?? '').trim().split(/\s+/));
    for (const [n, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const vol = parseVolume(v);
        if (vol.named) {
          expect(declared.has(vol.source), `${n}: volume ${vol.source} is declared`).toBe(true);
          used.add(vol.source);
          if (ours(s) && !vol.readOnly) expect(owned.has(vol.target), `${n}: ${vol.target} is owned by node in the image`).toBe(true);
        } else {
          expect(vol.source.startsWith('./'), `${n}: ${v} is relative to the repository`).toBe(true);
          expect(existsSync(resolve(REPO_ROOT, vol.source)), `${n}: ${vol.source} exists`).toBe(true);
          expect(vol.readOnly, `${n}: ${v} is read-only`).toBe(true);
          // Scripts mounted into our image run from its WORKDIR.
          if (vol.target.startsWith(image.workdir + '/')) expect(vol.target.slice(image.workdir.length + 1)).toBe(vol.source.slice(2));
        }
      }
    }
    expect([...used].sort()).toEqual([...declared].sort());
  });

  it('puts every path a command, healthcheck or variable names inside a volume of that service, and every script it runs exists', () => {
    for (const [n, s] of Object.entries(compose.services)) {
      if (!ours(s)) continue;
      const m = staticMap(n);
      const values = [...argv(s), ...(s.healthcheck?.test.slice(1) ?? []), ...Object.values(s.environment ?? {}).map((v) => interpolate(v, {}))];
      for (const v of values) expect(() => localize(v, n, m)).not.toThrow();
      for (const script of values.filter((v) => v.endsWith('.mjs') || v.endsWith('.js'))) {
        expect(existsSync(join(REPO_ROOT, script)), `${n}: ${script}`).toBe(true);
        // In the container the script is there only if the image or a mount puts it there.
        const inImage = script.startsWith('bin/');
        const mounted = (s.volumes ?? []).map(parseVolume).some((v) => join(image.workdir, script).startsWith(v.target + '/'));
        expect(inImage || mounted, `${n}: ${script} is in the container`).toBe(true);
      }
    }
  });

  it('starts each service after what it needs, with conditions its dependencies can meet, in `up`\'s stages', () => {
    for (const [n, s] of Object.entries(compose.services)) {
      for (const [d, dep] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[d];
        expect(target, `${n} depends on ${d}`).toBeDefined();
        if (dep.condition === 'service_healthy') expect(target?.healthcheck, `${n} waits for ${d} to be healthy`).toBeDefined();
        else if (dep.condition === 'service_completed_successfully') expect(JOBS.has(d), `${n} waits for ${d} to complete`).toBe(true);
        else expect(dep.condition, `${n} → ${d}`).toBe('service_started');
        if (dep.required === false) expect(target?.profiles, `${n} → ${d}: optional only for a profile's service`).toBeDefined();
      }
    }
    expect(() => startOrder(compose.services, () => true)).not.toThrow();
    // b waits, directly or through others, for a.
    const waitsFor = (b: string, a: string, seen = new Set<string>()): boolean =>
      Object.keys(compose.services[b]?.depends_on ?? {}).some((d) => d === a || (!seen.has(d) && (seen.add(d), waitsFor(d, a, seen))));
    const before = (a: string, b: string): void => expect(waitsFor(b, a), `${b} waits for ${a}`).toBe(true);
    for (const c of COMPONENTS) before('init', c);
    before('jaeger', 'init'); // nothing exports before the backend is up
    for (const c of ['etcd', 'webhook']) before(c, 'apiserver');
    before('apiserver', 'register-webhook');
    for (const c of ['scheduler', 'kubelet']) before('register-webhook', c);
    before('runtime', 'kubelet');
    for (const c of ['jaeger', 'apiserver', 'webhook', 'scheduler', 'kubelet']) expect(compose.services.demo?.depends_on?.[c]?.condition, `demo waits for ${c}`).toBe('service_healthy');
  });

  it('gives every long-running service a healthcheck that runs a program its image has', async () => {
    const usage = await run(process.execPath, ['examples/compose/healthcheck.mjs']);
    expect(usage.code).toBe(2);
    for (const [n, s] of Object.entries(compose.services)) {
      if (JOBS.has(n)) {
        expect(s.healthcheck, `${n} is a job`).toBeUndefined();
        continue;
      }
      if (NO_HEALTHCHECK[n]) {
        expect(s.healthcheck, n).toBeUndefined();
        continue;
      }
      const test = s.healthcheck?.test ?? [];
      expect(test[0], `${n}: exec form`).toBe('CMD');
      if (n === 'jaeger') {
        // Alpine's busybox wget, against the healthcheckv2 extension Jaeger's all-in-one config enables.
        expect(test.slice(1)).toEqual(['wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:13133/status']);
        continue;
      }
      expect(test.slice(1, 3), n).toEqual(['node', 'examples/compose/healthcheck.mjs']);
      expect(usage.out, `${n}: a check healthcheck.mjs has`).toContain(`${test[3]} `);
    }
  });

  it('gives our commands only flags they accept: each parses its own arguments (`… --help` fails on a bad flag or value)', async () => {
    const cli = join(REPO_ROOT, 'bin/k8s-trace-sim.js');
    // The apiserver reads its certificates before anything else: give the volumes what init writes there.
    const [node, ...init] = argv(compose.services.init as Service).map((a) => localize(a, 'init', staticMap('init')));
    expect(node).toBe('node');
    const ran = await run(process.execPath, init);
    expect(ran.code, ran.out).toBe(0);
    const checked: string[] = [];
    for (const [n, s] of Object.entries(compose.services)) {
      if (!ours(s) || s.entrypoint) continue;
      // Paths as the container sees them: the mounted files, and the named volumes after init.
      const args = argv(s).slice(2).map((a) => localize(a, n, staticMap(n)));
      const r = await run(process.execPath, [cli, ...args, '--help']);
      expect(r.code, `${n}: k8s-trace-sim ${args.join(' ')} --help\n${r.out}`).toBe(0);
      expect(r.out).toContain(`k8s-trace-sim ${args[0]} [flags]`);
      // The same check fails for a flag the command lacks.
      const bad = await run(process.execPath, [cli, ...args, '--no-such-flag', '--help']);
      expect(bad.code, `${n} with --no-such-flag`).not.toBe(0);
      checked.push(n);
    }
    expect(checked.sort()).toEqual([...COMPONENTS, 'init', 'verify'].sort());
  });

  it('mirrors the flags `up` gives each process, apart from documented differences', () => {
    const flags = parseFlags([], UP_FLAGS);
    const files = { pkiDir: '/p', apiserverCert: '/p/a.crt', apiserverKey: '/p/a.key', webhookCertDir: '/p/w', schedulerKubeconfig: '/s', kubeletKubeconfig: '/k' };
    const plan = planUp(flags, {}, files, { check: async () => true, what: 'x' });
    // What compose does instead, and why.
    const instead: Record<string, Record<string, string>> = {
      runtime: { '--otlp-endpoint': 'containerd 2.x reads OTEL_EXPORTER_OTLP_ENDPOINT, which compose sets' },
      webhook: { '--otlp-endpoint': 'the webhook reads OTEL_EXPORTER_OTLP_ENDPOINT, which compose sets' },
      kubelet: {
        '--tracing-endpoint': 'the kubelet reads OTEL_EXPORTER_OTLP_ENDPOINT when its config names no endpoint',
        '--tracing-sampling-rate-per-million': 'in the mounted KubeletConfiguration',
      },
    };
    const listensEverywhere = new Set(['--bind-address']); // a container serves its network, not only its loopback
    for (const child of plan.children) {
      const s = compose.services[child.name] as Service;
      const mine = argv(s).slice(2);
      expect(mine[0]).toBe(child.args[0]);
      for (let i = 1; i < child.args.length; i++) {
        const flag = child.args[i] as string;
        if (!flag.startsWith('--')) continue;
        const value = child.args[i + 1]?.startsWith('--') === false ? (child.args[i + 1] as string) : undefined;
        if (instead[child.name]?.[flag]) {
          expect(mine, `${child.name} ${flag}`).not.toContain(flag);
          continue;
        }
        expect(mine, `${child.name} ${flag}`).toContain(flag);
        const given = mine[mine.indexOf(flag) + 1];
        // Hosts, ports in URLs and paths differ by design; plain values must not.
        if (value !== undefined && !/[/:]/.test(value) && !listensEverywhere.has(flag)) expect(given, `${child.name} ${flag}`).toBe(value);
      }
    }
  });

  it('runs one release: the versions `up` pairs with --kube-version 1.35, one trace mode everywhere', () => {
    const flag = (n: string, f: string): string | undefined => {
      const a = argv(compose.services[n] as Service);
      return a.includes(f) ? a[a.indexOf(f) + 1] : undefined;
    };
    const kube = flag('apiserver', '--kube-version') as keyof typeof KUBE_VERSIONS;
    expect(kube).toBe('1.35');
    expect(flag('kubelet', '--kube-version')).toBe(kube);
    expect(flag('etcd', '--etcd-version')).toBe(KUBE_VERSIONS[kube].etcd);
    expect(flag('runtime', '--containerd-version')).toBe(KUBE_VERSIONS[kube].containerd);
    for (const n of ['apiserver', 'scheduler', 'kubelet']) expect(flag(n, '--trace-mode'), n).toBe('story');
    expect(flag('init', '--mode')).toBe('story');
    expect(flag('kubelet', '--nodes')).toBe('1');
  });

  it('wires the processes to each other by service name and port', () => {
    const flag = (n: string, f: string): string => {
      const a = argv(compose.services[n] as Service);
      expect(a, `${n} ${f}`).toContain(f);
      return a[a.indexOf(f) + 1] as string;
    };
    const listenPort = (n: string): number => listens(compose.services[n] as Service)[0] as number;
    expect(flag('apiserver', '--etcd-servers')).toBe(`http://etcd:${listenPort('etcd')}`);
    expect(flag('etcd', '--advertise-client-urls')).toBe(`http://etcd:${listenPort('etcd')}`);
    expect(flag('init', '--apiserver-url')).toBe(`https://apiserver:${flag('apiserver', '--secure-port')}`);
    expect(flag('apiserver', '--webhook-service-address')).toBe(`${WEBHOOK_SERVICE.namespace}/${WEBHOOK_SERVICE.name}=webhook:${flag('webhook', '--port')}`);
    expect(compose.services.webhook?.healthcheck?.test).toContain(`${WEBHOOK_SERVICE.name}.${WEBHOOK_SERVICE.namespace}.svc`);
    // The CRI socket: one path, on a volume both runtime and kubelet mount.
    const socket = flag('runtime', '--address');
    expect(flag('kubelet', '--container-runtime-endpoint')).toBe(`unix://${socket}`);
    const volumeOf = (n: string): string | undefined =>
      (compose.services[n]?.volumes ?? []).map(parseVolume).find((v) => socket.startsWith(v.target + '/'))?.source;
    expect(volumeOf('runtime')).toBeDefined();
    expect(volumeOf('kubelet')).toBe(volumeOf('runtime'));
    // The kubeconfigs and certificates init writes are what the others read.
    const dataDir = flag('init', '--data-dir');
    for (const [n, f, file] of [
      ['scheduler', '--kubeconfig', 'scheduler.conf'],
      ['kubelet', '--kubeconfig', 'kubelet.conf'],
      ['register-webhook', '--kubeconfig', 'kubeconfig'],
      ['demo', '--kubeconfig', 'kubeconfig'],
      ['apiserver', '--client-ca-file', 'pki/ca.crt'],
      ['apiserver', '--tls-cert-file', 'pki/apiserver.crt'],
      ['apiserver', '--tls-private-key-file', 'pki/apiserver.key'],
      ['webhook', '--cert-dir', 'pki/webhook'],
    ] as const) expect(flag(n, f), `${n} ${f}`).toBe(`${dataDir}/${file}`);
    // Jaeger: OTLP in on 4317, the query API the demo and verify read on 16686.
    expect(flag('demo', '--jaeger-url')).toBe('http://jaeger:16686');
    expect(flag('verify', '--jaeger')).toBe('http://jaeger:16686');
    expect(flag('demo', '--link-base')).toBe('http://localhost:16686');
    expect(compose.services.jaeger?.ports).toContain('16686:16686');
    // The sent manifest: init empties it, every traced process appends to it, verify reads it.
    const sent = flag('init', '--sent-file');
    expect(flag('verify', '--manifest')).toBe(sent);
  });

  it('sets only environment variables the code reads, pointing at a service that listens there', async () => {
    const src = (['shared', 'apiserver', 'etcd-sim', 'kubelet', 'runtime', 'webhook', 'scheduler', 'cli'] as const).map((d) => join(REPO_ROOT, d, 'src'));
    const otelSdk = join(REPO_ROOT, 'node_modules/@opentelemetry/sdk-trace-base/build/src');
    const reads = async (name: string): Promise<boolean> => {
      const r = await run('grep', ['-rqF', name, ...src, otelSdk]);
      return r.code === 0;
    };
    const env = new Map<string, string>();
    for (const s of Object.values(compose.services)) for (const [k, v] of Object.entries(s.environment ?? {})) env.set(k, interpolate(v, {}));
    for (const k of env.keys()) expect(await reads(k), `${k} is read somewhere`).toBe(true);
    const endpoint = new URL(env.get('OTEL_EXPORTER_OTLP_ENDPOINT') as string);
    expect(listens(compose.services[endpoint.hostname] as Service)).toContain(Number(endpoint.port));
    const init = argv(compose.services.init as Service);
    expect(env.get('K8S_TRACE_SIM_SENT_FILE')).toBe(init[init.indexOf('--sent-file') + 1]);
    expect(env.get('OTEL_EXPORTER_OTLP_PROTOCOL')).toBe('grpc');
  });

  it('interpolates one variable, OTLP_ENDPOINT, defaulting to Jaeger; its documented alternative is the Collector', () => {
    const text = readFileSync(COMPOSE_FILE, 'utf8');
    const vars = variables(text);
    expect(new Set(vars.map((v) => v.name))).toEqual(new Set(['OTLP_ENDPOINT']));
    for (const v of vars) expect(v.fallback).toBe('jaeger:4317');
    expect(text).toContain('OTLP_ENDPOINT=otel-collector:4317 docker compose --profile collector up');
    expect(listens(compose.services['otel-collector'] as Service)).toContain(4317);
    expect(compose.services['otel-collector']?.profiles).toEqual(['collector']);
    // Every component then names the same endpoint, by flag or by variable.
    const alt = { OTLP_ENDPOINT: 'otel-collector:4317' };
    expect(interpolate(compose.services.etcd?.environment?.['OTEL_EXPORTER_OTLP_ENDPOINT'] as string, alt)).toBe('http://otel-collector:4317');
    const etcd = (compose.services.etcd?.command ?? []).map((a) => interpolate(a, alt));
    expect(etcd[etcd.indexOf('--experimental-distributed-tracing-address') + 1]).toBe('otel-collector:4317');
  });

  it('mounts tracing files the 1.35 components read, with no endpoint of their own so the variable decides', () => {
    const apiserver = parse(readFileSync(join(REPO_ROOT, 'examples/compose/config/apiserver-tracing.yaml'), 'utf8')) as Record<string, unknown>;
    expect(apiserver).toEqual({ apiVersion: KUBE_VERSIONS['1.35'].tracingConfigApiVersion, kind: 'TracingConfiguration', samplingRatePerMillion: 1_000_000 });
    const kubelet = parse(readFileSync(join(REPO_ROOT, 'examples/compose/config/kubelet-config.yaml'), 'utf8')) as Record<string, unknown>;
    expect(kubelet).toEqual({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', tracing: { samplingRatePerMillion: 1_000_000 } });
  });

  it('configures the Collector as the k3d tutorial does: OTLP in, batch, OTLP/gRPC out to Jaeger', () => {
    const cfg = parse(readFileSync(join(REPO_ROOT, 'examples/compose/otel-collector.yaml'), 'utf8')) as Record<string, any>;
    const pipeline = cfg['service'].pipelines.traces;
    expect(pipeline).toEqual({ receivers: ['otlp'], processors: ['batch'], exporters: ['otlp_grpc/jaeger'] });
    for (const [kind, list] of [['receivers', pipeline.receivers], ['processors', pipeline.processors], ['exporters', pipeline.exporters]] as const) {
      for (const c of list as string[]) expect(cfg[kind][c], `${kind}.${c}`).toBeDefined();
    }
    const exporter = cfg['exporters']['otlp_grpc/jaeger'];
    expect(exporter.tls.insecure).toBe(true);
    const [host, port] = (exporter.endpoint as string).split(':');
    expect(listens(compose.services[host as string] as Service)).toContain(Number(port));
    const vol = (compose.services['otel-collector']?.volumes ?? []).map(parseVolume)[0];
    expect(compose.services['otel-collector']?.command).toEqual([`--config=${vol?.target}`]);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('copies sources that exist and are in the build context, and every project tsc builds', () => {
    const build = dockerfile.split(/^FROM /m)[1] as string;
    const copies = [...build.matchAll(/^COPY (?!--from)(.+) (\S+)$/gm)].flatMap((m) => (m[1] as string).split(' '));
    for (const c of copies) {
      expect(existsSync(join(REPO_ROOT, c)), c).toBe(true);
      expect(dockerIgnored(c, ignore), `${c} is in the build context`).toBe(false);
    }
    const refs = (JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.json'), 'utf8')) as { references: Array<{ path: string }> }).references.map((r) =>
      r.path.replace(/^\.\//, ''),
    );
    for (const r of refs) expect(copies, `the build copies ${r}`).toContain(r);
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.base.json', 'tsconfig.json', 'bin']) expect(copies).toContain(f);
    // Installed from the lockfile before the sources arrive, so a source change reuses the dependency layer.
    expect(build.indexOf('RUN npm ci')).toBeGreaterThan(build.indexOf('COPY package.json package-lock.json'));
    expect(build.indexOf('RUN npm ci')).toBeLessThan(build.indexOf('COPY shared'));
  });

  it('ships what the CLI reads at run time and runs it as its entrypoint', () => {
    const final = dockerfile.split(/^FROM /m).at(-1) as string;
    for (const p of ['package.json', 'node_modules', 'bin', 'dist', 'shared/proto']) expect(final, p).toMatch(new RegExp(`^COPY --from=build /app/${p} `, 'm'));
    expect(statSync(join(REPO_ROOT, 'shared/proto')).isDirectory()).toBe(true);
    expect(image.workdir).toBe('/app');
    expect(image.entrypoint).toEqual(['node', 'bin/k8s-trace-sim.js']);
    expect(final).toMatch(/^USER node$/m);
  });

  it('leaves local builds, dependencies and state out of the context', () => {
    for (const p of ['node_modules/x', 'dist/cli/src/main.js', '.git/HEAD', '.k8s-trace-sim/kubeconfig', 'cli/test/compose.test.ts']) expect(dockerIgnored(p, ignore), p).toBe(true);
    for (const p of ['cli/src/main.ts', 'shared/proto/otlp/trace_service.proto', 'package-lock.json']) expect(dockerIgnored(p, ignore), p).toBe(false);
  });
});

// ---------------------------------------------------------------------------

/** What `docker compose up` starts (no profile), plus a job run explicitly afterwards. */
describe('docker-compose.yaml, run as local processes', () => {
  const names = Object.keys(compose.services);
  const activeByDefault = (n: string): boolean => !compose.services[n]?.profiles;
  const tmp = mkdtempSync(join(tmpdir(), 'compose-run-'));
  const tracesFile = join(tmp, 'jaeger-traces.jsonl');
  const procs = new Map<string, RunningProcess>();
  const healthyAfter = new Map<string, number>();
  const unhealthyBefore = new Map<string, number>();
  let local: Map<string, LocalMap>;
  let demoOut = '';
  let link = '';
  let spans: FileSpan[] = [];
  const t0 = Date.now();

  /** Jaeger's image cannot run here: `k8s-trace-sim collector` plays it, OTLP/gRPC in and /api/v3 out. */
  const JAEGER_STAND_IN = new Set([4317, 16686]);

  const localArgv = (n: string, values: readonly string[]): string[] => {
    const m = local.get(n) as LocalMap;
    const out = values.map((v) => localize(v, n, m));
    if (out[0] === 'node') out[0] = process.execPath;
    return out;
  };
  const localEnv = (n: string): NodeJS.ProcessEnv => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('K8S_TRACE_SIM_')));
    const own = Object.fromEntries(Object.entries(compose.services[n]?.environment ?? {}).map(([k, v]) => [k, localize(interpolate(v, {}), n, local.get(n) as LocalMap)]));
    return { ...inherited, ...image.env, ...own };
  };

  const start = (n: string): RunningProcess => {
    const s = compose.services[n] as Service;
    let p: RunningProcess;
    if (n === 'jaeger') {
      const ports = local.get(n)?.ports.get(n) as ReadonlyMap<number, number>;
      p = startProcess(['collector', '--listen', `127.0.0.1:${ports.get(4317)}`, '--ui-listen', `127.0.0.1:${ports.get(16686)}`, '--traces-file', tracesFile]);
    } else {
      const [cmd, ...args] = localArgv(n, argv(s));
      p = startProcess(args, { command: cmd as string, env: localEnv(n), cwd: REPO_ROOT });
    }
    procs.set(n, p);
    return p;
  };

  const healthy = async (n: string): Promise<void> => {
    const p = procs.get(n) as RunningProcess;
    const deadline = Date.now() + 90_000;
    let last = '';
    for (;;) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${n} exited before it was healthy:\n${p.output()}`);
      if (n === 'jaeger') {
        const ports = local.get(n)?.ports.get(n) as ReadonlyMap<number, number>;
        await Promise.all([...JAEGER_STAND_IN].map((port) => waitForListen({ host: '127.0.0.1', port: ports.get(port) as number }, 20_000)));
        return;
      }
      const [cmd, ...args] = localArgv(n, (compose.services[n]?.healthcheck?.test ?? []).slice(1));
      const r = await run(cmd as string, args, { env: localEnv(n), timeoutMs: 10_000 });
      if (r.code === 0) return;
      last = r.out;
      if (Date.now() > deadline) throw new Error(`${n} never passed its healthcheck: ${last}\n${p.output()}`);
      await new Promise((r2) => setTimeout(r2, 300));
    }
  };

  const launched = new Map<string, Promise<void>>();
  /** Starts `n` once its depends_on conditions hold; resolves when it is healthy (or, for a job, has exited 0). */
  const bringUp = (n: string): Promise<void> => {
    const known = launched.get(n);
    if (known) return known;
    const done = (async () => {
      const deps = Object.entries(compose.services[n]?.depends_on ?? {}).filter(([d, dep]) => activeByDefault(d) || dep.required !== false);
      await Promise.all(deps.map(([d]) => bringUp(d)));
      // A healthcheck that passed with nothing running would prove nothing.
      if (compose.services[n]?.healthcheck && n !== 'jaeger') {
        const [cmd, ...args] = localArgv(n, (compose.services[n]?.healthcheck?.test ?? []).slice(1));
        unhealthyBefore.set(n, (await run(cmd as string, args, { env: localEnv(n), timeoutMs: 10_000 })).code);
      }
      const p = start(n);
      if (JOBS.has(n)) {
        const code = await p.exited;
        if (code !== 0) throw new Error(`${n} exited with ${code}:\n${p.output()}`);
      } else {
        await healthy(n);
      }
      healthyAfter.set(n, Date.now() - t0);
    })();
    launched.set(n, done);
    return done;
  };

  beforeAll(async () => {
    // Every container port a process here listens on gets a free local port;
    // Jaeger's only where the stand-in serves it.
    const ports = new Map<string, Map<number, number>>();
    for (const n of names) {
      const mine = new Map<number, number>();
      for (const p of listens(compose.services[n] as Service)) {
        if (n === 'jaeger' && !JAEGER_STAND_IN.has(p)) continue;
        if (n === 'otel-collector') continue;
        mine.set(p, await freePort());
      }
      ports.set(n, mine);
    }
    const published = new Map<number, string>();
    for (const n of names) for (const p of compose.services[n]?.ports ?? []) published.set(parsePort(p).host, n);
    const volumeDir = (name: string): string => {
      const d = join(tmp, 'volumes', name);
      mkdirSync(d, { recursive: true });
      return d;
    };
    local = new Map(
      names.map((n) => [
        n,
        {
          services: new Set(names),
          ports,
          published,
          mounts: (compose.services[n]?.volumes ?? []).map(parseVolume).map((v) => ({ target: v.target, local: v.named ? volumeDir(v.source) : resolve(REPO_ROOT, v.source) })),
        },
      ]),
    );
    const order = startOrder(compose.services, activeByDefault);
    await Promise.all(order.map((n) => bringUp(n)));
    demoOut = procs.get('demo')?.output() ?? '';
    const ui = ports.get('jaeger')?.get(16686);
    link = new RegExp(`http://127\\.0\\.0\\.1:${ui}/trace/[0-9a-f]{32}`).exec(demoOut)?.[0] ?? '';
    spans = readOtlpJsonLines(tracesFile);
  }, 240_000);

  afterAll(async () => {
    for (const n of [...procs.keys()].reverse()) await procs.get(n)?.stop('SIGTERM');
  });

  it('starts every service `docker compose up` starts, each passing its own healthcheck (Jaeger played by k8s-trace-sim collector)', () => {
    const expected = names.filter(activeByDefault).sort();
    expect([...healthyAfter.keys()].sort()).toEqual(expected);
    // Each healthcheck failed (exit 1, not a usage error) before its service started.
    const checked = expected.filter((n) => compose.services[n]?.healthcheck && n !== 'jaeger');
    expect(Object.fromEntries(checked.map((n) => [n, unhealthyBefore.get(n)]))).toEqual(Object.fromEntries(checked.map((n) => [n, 1])));
    // Not run here: the Collector (profile `collector`, off by default) and verify (run below, as `docker compose run` would).
    expect(names.filter((n) => !activeByDefault(n)).sort()).toEqual(['otel-collector', 'verify']);
  });

  it('runs the demo job: a pod reaches Running and the link to its trace is printed', async () => {
    expect(demoOut).toMatch(/demo: created pod default\/demo-\S+ \(image nginx\)/);
    expect(link, demoOut).not.toBe('');
    const name = /created pod default\/(demo-\S+)/.exec(demoOut)?.[1] as string;
    const kubeconfig = localize('/etc/kubernetes/kubeconfig', 'demo', local.get('demo') as LocalMap);
    const client = new KubeClient({ ...loadKubeconfig(kubeconfig), userAgent: 'compose-test', timeoutMs: 10_000 });
    try {
      const pod = await client.get<Pod>(`/api/v1/namespaces/default/pods/${name}`);
      expect(pod.status?.phase).toBe('Running');
      expect(pod.metadata.labels?.['admission.k8s-trace-sim.io/mutated']).toBe('true'); // the registered webhook ran
    } finally {
      client.close();
    }
  });

  it('delivers the pod\'s creation to the OTLP receiver as one trace across every traced component', async () => {
    const traceId = link.slice(-32);
    // The demo waited for the trace to be queryable, so it is in the receiver's file too.
    const trace = spans.filter((s) => s.traceId === traceId);
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['apiserver', 'webhook', 'etcd', 'kubelet', 'containerd']));
    const names2 = new Set(trace.map((s) => s.name));
    for (const n of ['POST /api/v1/namespaces/{:namespace}/pods', 'Call mutating webhook', '/mutate-v1-pod', 'etcdserverpb.KV/Txn', 'syncPod', 'runtime.v1.RuntimeService/RunPodSandbox', 'runtime.v1.ImageService/PullImage']) {
      expect(names2.has(n), n).toBe(true);
    }
    const res = await fetch(link.replace(/\/trace\/([0-9a-f]{32})$/, '/api/v3/traces/$1'));
    expect(res.status).toBe(200);
  });

  it('lets verify (`docker compose run --rm verify`) find everything the components exported', async () => {
    const [cmd, ...args] = localArgv('verify', argv(compose.services.verify as Service));
    const r = await run(cmd as string, args, { env: localEnv('verify'), timeoutMs: 90_000 });
    expect(r.code, r.out).toBe(0);
  }, 120_000);
});
