import * as http2 from 'node:http2';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { KubeObject, WatchEvent } from '../k8s/types.js';

/**
 * A small in-memory Kubernetes API over cleartext HTTP/2 for unit-level tests
 * of the scheduler and kubelet: pods (with status and binding), nodes (with
 * status), leases and events; list with field selectors, watch with
 * bookmarks-free resume from a resourceVersion, merge and strategic-merge
 * patches, graceful pod deletion. The real apiserver is what end-to-end tests
 * use; this one exists so a component's own logic can be driven and
 * inspected quickly, and so failures can be injected.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
  readonly at: number;
}

interface Watcher {
  readonly prefix: string;
  readonly match: (o: KubeObject) => boolean;
  readonly stream: http2.ServerHttp2Stream;
}

export interface FakeApiserver {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Objects under a collection prefix such as `pods/` or `nodes/`. */
  objects<T extends KubeObject = KubeObject>(prefix: string): T[];
  get<T extends KubeObject = KubeObject>(key: string): T | undefined;
  /** Creates or replaces an object directly (as another client would), notifying watchers. */
  put(key: string, obj: KubeObject): KubeObject;
  remove(key: string): void;
  /** The next `count` requests matching method and path answer with this status. */
  failNext(method: string, path: RegExp, code: number, count?: number): void;
  close(): Promise<void>;
}

type Resource = { store: string; ns?: string; name?: string; sub?: string; kind: string; apiVersion: string };

function route(path: string): Resource | undefined {
  const core = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/(pods|nodes|events)(?:\/([^/]+))?(?:\/(status|binding))?$/.exec(path);
  if (core) {
    const kinds: Record<string, string> = { pods: 'Pod', nodes: 'Node', events: 'Event' };
    return { store: core[2] as string, ns: core[1], name: core[3], sub: core[4], kind: kinds[core[2] as string] as string, apiVersion: 'v1' };
  }
  const lease = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(path);
  if (lease) return { store: 'leases', ns: lease[1], name: lease[2], kind: 'Lease', apiVersion: 'coordination.k8s.io/v1' };
  return undefined;
}

const keyOf = (r: Resource, name: string): string => (r.ns ? `${r.store}/${r.ns}/${name}` : `${r.store}/${name}`);

function field(o: KubeObject, path: string): string {
  let v: unknown = o;
  for (const p of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[p];
  return v === undefined || v === null ? '' : String(v);
}

function selector(raw: string | null): (o: KubeObject) => boolean {
  if (!raw) return () => true;
  const terms = raw.split(',').map((t) => {
    const ne = t.indexOf('!=');
    if (ne >= 0) return { f: t.slice(0, ne), v: t.slice(ne + 2), neg: true };
    const eq = t.indexOf('=');
    return { f: t.slice(0, eq), v: t.slice(eq + (t[eq + 1] === '=' ? 2 : 1)), neg: false };
  });
  return (o) => terms.every((t) => (field(o, t.f) === t.v) !== t.neg);
}

const MERGE_KEYS: Record<string, string> = { conditions: 'type', podIPs: 'ip', hostIPs: 'ip', addresses: 'type' };

/** Strategic merge for the lists the components patch (by merge key, honouring `$setElementOrder/`); JSON merge patch otherwise. */
export function mergePatch(target: unknown, patch: unknown, strategic: boolean): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else if (strategic && Array.isArray(v) && MERGE_KEYS[k] && Array.isArray(out[k])) {
      const mk = MERGE_KEYS[k] as string;
      const list = [...(out[k] as Array<Record<string, unknown>>)];
      for (const item of v as Array<Record<string, unknown>>) {
        const i = list.findIndex((x) => x[mk] === item[mk]);
        if (i >= 0) list[i] = mergePatch(list[i], item, true) as Record<string, unknown>;
        else list.push(mergePatch({}, item, true) as Record<string, unknown>);
      }
      out[k] = list;
    } else out[k] = mergePatch(out[k], v, strategic);
  }
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    const order = /^\$setElementOrder\/(.+)$/.exec(k);
    const field = order?.[1];
    if (!field || !strategic || !Array.isArray(v) || !Array.isArray(out[field]) || !MERGE_KEYS[field]) continue;
    const mk = MERGE_KEYS[field] as string;
    const wanted = (v as Array<Record<string, unknown>>).map((e) => e[mk]);
    const pos = (e: Record<string, unknown>): number => {
      const i = wanted.indexOf(e[mk]);
      return i < 0 ? wanted.length : i;
    };
    out[field] = [...(out[field] as Array<Record<string, unknown>>)].sort((a, b) => pos(a) - pos(b));
  }
  return out;
}

export async function startFakeApiserver(): Promise<FakeApiserver> {
  const store = new Map<string, KubeObject>();
  const log: Array<{ rv: number; type: WatchEvent['type']; key: string; obj: KubeObject; old?: KubeObject }> = [];
  const watchers = new Set<Watcher>();
  const requests: RecordedRequest[] = [];
  const failures: Array<{ method: string; path: RegExp; code: number; count: number }> = [];
  let rv = 1;

  const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

  const notify = (type: WatchEvent['type'], key: string, obj: KubeObject, old?: KubeObject): void => {
    log.push({ rv, type, key, obj, ...(old ? { old } : {}) });
    for (const w of watchers) sendEvent(w, type, key, obj, old);
  };

  function sendEvent(w: Watcher, type: WatchEvent['type'], key: string, obj: KubeObject, old?: KubeObject): void {
    if (!key.startsWith(w.prefix)) return;
    const now = w.match(obj);
    const before = old ? w.match(old) : false;
    let t: WatchEvent['type'] | undefined = type;
    // Objects entering or leaving the selector are ADDED / DELETED for this watcher, as the watch cache does.
    if (type === 'MODIFIED') t = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    else if (!now) t = undefined;
    if (t && !w.stream.closed) w.stream.write(JSON.stringify({ type: t, object: obj }) + '\n');
  }

  const write = (key: string, obj: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject => {
    const old = store.get(key);
    rv++;
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    store.set(key, stored);
    notify(type, key, stored, old);
    return stored;
  };

  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const url = new URL(String(headers[':path']), 'http://x');
    const method = String(headers[':method']);
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      const h: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':')) h[k] = Array.isArray(v) ? v.join(',') : v === undefined ? undefined : String(v);
      requests.push({ method, path: url.pathname, query: url.searchParams, headers: h, body, at: Date.now() });
      const reply = (code: number, obj: unknown): void => {
        if (stream.closed) return;
        stream.respond({ ':status': code, 'content-type': 'application/json' });
        stream.end(JSON.stringify(obj));
      };
      const fail = failures.find((f) => f.count > 0 && f.method === method && f.path.test(url.pathname));
      if (fail) {
        fail.count--;
        return reply(fail.code, status(fail.code, fail.code === 409 ? 'Conflict' : 'InternalError', 'injected failure'));
      }
      const r = route(url.pathname);
      if (!r) return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      const prefix = r.ns ? `${r.store}/${r.ns}/` : `${r.store}/`;
      if (!r.name) {
        if (method === 'GET' && url.searchParams.get('watch') === 'true') {
          const match = selector(url.searchParams.get('fieldSelector'));
          const w: Watcher = { prefix, match, stream };
          stream.respond({ ':status': 200, 'content-type': 'application/json' });
          const from = Number(url.searchParams.get('resourceVersion') ?? '0');
          for (const e of log) if (e.rv > from) sendEvent(w, e.type, e.key, e.obj, e.old);
          watchers.add(w);
          stream.on('close', () => watchers.delete(w));
          return;
        }
        if (method === 'GET') {
          const match = selector(url.searchParams.get('fieldSelector'));
          const items = [...store].filter(([k, o]) => k.startsWith(prefix) && match(o)).map(([, o]) => o);
          return reply(200, { apiVersion: r.apiVersion, kind: `${r.kind}List`, metadata: { resourceVersion: String(rv) }, items });
        }
        if (method === 'POST') {
          const obj = body as KubeObject;
          const name = obj.metadata?.name ?? `${obj.metadata?.generateName ?? 'obj-'}${randomUUID().slice(0, 5)}`;
          const key = keyOf(r, name);
          if (store.has(key)) return reply(409, status(409, 'AlreadyExists', `${r.store} "${name}" already exists`));
          const meta = { ...obj.metadata, name, ...(r.ns ? { namespace: r.ns } : {}), uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
          return reply(201, write(key, { ...obj, apiVersion: r.apiVersion, kind: r.kind, metadata: meta }, 'ADDED'));
        }
        return reply(405, status(405, 'MethodNotAllowed', 'method not allowed'));
      }
      const key = keyOf(r, r.name);
      const cur = store.get(key);
      if (r.sub === 'binding' && method === 'POST') {
        if (!cur) return reply(404, status(404, 'NotFound', `pods "${r.name}" not found`));
        const spec = cur['spec'] as Record<string, unknown>;
        if (spec['nodeName']) return reply(409, status(409, 'Conflict', `pod ${r.name} is already assigned to node "${String(spec['nodeName'])}"`));
        const target = (body as { target: { name: string } }).target.name;
        const st = (cur['status'] ?? {}) as Record<string, unknown>;
        const conditions = [...((st['conditions'] as object[]) ?? []), { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString() }];
        write(key, { ...cur, spec: { ...spec, nodeName: target }, status: { ...st, conditions } }, 'MODIFIED');
        return reply(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
      }
      if (!cur) return reply(404, status(404, 'NotFound', `${r.store} "${r.name}" not found`));
      if (method === 'GET') return reply(200, cur);
      if (method === 'PUT') {
        const obj = body as KubeObject;
        if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion) {
          return reply(409, status(409, 'Conflict', `Operation cannot be fulfilled on ${r.store} "${r.name}": the object has been modified; please apply your changes to the latest version and try again`));
        }
        return reply(200, write(key, { ...obj, metadata: { ...cur.metadata, ...obj.metadata } }, 'MODIFIED'));
      }
      if (method === 'PATCH') {
        const strategic = String(headers['content-type']).includes('strategic');
        const p = (body ?? {}) as Record<string, unknown>;
        const uid = (p['metadata'] as { uid?: string } | undefined)?.uid;
        if (uid && uid !== cur.metadata.uid) return reply(409, status(409, 'Conflict', 'uid mismatch'));
        const patch = r.sub === 'status' ? { status: p['status'] } : p;
        return reply(200, write(key, mergePatch(cur, patch, strategic) as KubeObject, 'MODIFIED'));
      }
      if (method === 'DELETE') {
        const q = url.searchParams.get('gracePeriodSeconds');
        const opts = { ...(q !== null ? { gracePeriodSeconds: Number(q) } : {}), ...((body ?? {}) as { gracePeriodSeconds?: number; preconditions?: { uid?: string } }) };
        if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid) return reply(409, status(409, 'Conflict', 'Precondition failed: UID in precondition'));
        const spec = (cur['spec'] ?? {}) as Record<string, unknown>;
        const grace = opts.gracePeriodSeconds ?? (spec['terminationGracePeriodSeconds'] as number | undefined) ?? 30;
        const phase = (cur['status'] as { phase?: string } | undefined)?.phase;
        if (r.store === 'pods' && grace > 0 && spec['nodeName'] && phase !== 'Succeeded' && phase !== 'Failed') {
          if (cur.metadata.deletionTimestamp) return reply(200, cur);
          return reply(200, write(key, { ...cur, metadata: { ...cur.metadata, deletionTimestamp: new Date(Date.now() + grace * 1000).toISOString(), deletionGracePeriodSeconds: grace } }, 'MODIFIED'));
        }
        store.delete(key);
        rv++;
        const gone = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(rv) } };
        notify('DELETED', key, gone, cur);
        return reply(200, gone);
      }
      return reply(405, status(405, 'MethodNotAllowed', 'method not allowed'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    objects: <T extends KubeObject>(prefix: string) => [...store].filter(([k]) => k.startsWith(prefix)).map(([, o]) => o as T),
    get: <T extends KubeObject>(key: string) => store.get(key) as T | undefined,
    put(key, obj) {
      const existing = store.get(key);
      const meta = { uid: existing?.metadata.uid ?? randomUUID(), creationTimestamp: new Date().toISOString(), ...obj.metadata };
      return write(key, { ...obj, metadata: meta }, existing ? 'MODIFIED' : 'ADDED');
    },
    remove(key) {
      const cur = store.get(key);
      if (!cur) return;
      store.delete(key);
      rv++;
      notify('DELETED', key, { ...cur, metadata: { ...cur.metadata, resourceVersion: String(rv) } }, cur);
    },
    failNext(method, path, code, count = 1) {
      failures.push({ method, path, code, count });
    },
    async close() {
      for (const w of watchers) w.stream.close();
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
