import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TooOldError, WatchCache } from '../src/watch-cache.js';
import { pod, request, startEtcd, startTestApiserver, watch, type TestApiserver } from './harness.js';

let etcd: Awaited<ReturnType<typeof startEtcd>>;
let api: TestApiserver;
beforeAll(async () => {
  etcd = await startEtcd();
  api = await startTestApiserver(etcd.port);
  await request(api.url, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'w' } } });
});
afterAll(async () => {
  await api?.close();
  etcd?.client.close();
  await etcd?.proc.stop();
});

const PODS = '/api/v1/namespaces/w/pods';
const call = (method: string, path: string, body?: unknown, contentType?: string) =>
  request(api.url, method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
const listRv = async (path: string): Promise<string> => (await call('GET', path)).json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
const types = (evs: { type: string; object: { metadata?: Record<string, unknown> } }[]) => evs.map((e) => `${e.type} ${String(e.object.metadata?.['name'] ?? '')}`);

describe('watch from the watch cache', () => {
  it('from a list resourceVersion: ADDED, MODIFIED, DELETED with increasing resourceVersions', async () => {
    const rv = await listRv(PODS);
    const w = await watch(api.url, `${PODS}?watch=true&resourceVersion=${rv}`);
    expect(await w.status).toBe(200);
    await call('POST', PODS, pod('life'));
    await call('PATCH', `${PODS}/life`, { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
    await call('DELETE', `${PODS}/life`);
    await w.waitFor((e) => e.some((x) => x.type === 'DELETED'));
    // DELETE of an unbound pod writes deletionTimestamp first, then deletes: two MODIFIED events.
    expect(types(w.events)).toEqual(['ADDED life', 'MODIFIED life', 'MODIFIED life', 'DELETED life']);
    const rvs = w.events.map((e) => Number(e.object.metadata?.['resourceVersion']));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    expect(w.events[0]?.object['kind']).toBe('Pod');
    w.close();
  });

  it('resourceVersion unset or 0 starts with the current state as ADDED', async () => {
    await call('POST', PODS, pod('existing'));
    for (const q of ['watch=true', 'watch=true&resourceVersion=0']) {
      const w = await watch(api.url, `${PODS}?${q}`);
      await w.waitFor((e) => e.length >= 1);
      expect(types(w.events)).toEqual(['ADDED existing']);
      w.close();
    }
    await call('DELETE', `${PODS}/existing`);
  });

  it('selectors: an object entering the selection is ADDED, leaving it DELETED', async () => {
    const rv = await listRv(PODS);
    const w = await watch(api.url, `${PODS}?watch=1&labelSelector=tier%3Dfront&resourceVersion=${rv}`);
    await call('POST', PODS, { ...pod('mover'), metadata: { name: 'mover', labels: { tier: 'back' } } });
    await call('PATCH', `${PODS}/mover`, { metadata: { labels: { tier: 'front' } } }, 'application/merge-patch+json');
    await call('PATCH', `${PODS}/mover`, { metadata: { labels: { tier: 'back' } } }, 'application/merge-patch+json');
    await w.waitFor((e) => e.length >= 2);
    expect(types(w.events)).toEqual(['ADDED mover', 'DELETED mover']);
    expect((w.events[1]?.object.metadata?.['labels'] as Record<string, string>)['tier']).toBe('front');
    w.close();
  });

  it('the legacy /watch/ path watches one object by name', async () => {
    await call('POST', PODS, pod('one'));
    await call('POST', PODS, pod('two'));
    const w = await watch(api.url, '/api/v1/watch/namespaces/w/pods/two');
    await w.waitFor((e) => e.length >= 1);
    await call('PATCH', `${PODS}/one`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    await call('PATCH', `${PODS}/two`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    await w.waitFor((e) => e.length >= 2);
    expect(types(w.events)).toEqual(['ADDED two', 'MODIFIED two']);
    w.close();
  });

  it('all namespaces, bookmarks and timeoutSeconds', async () => {
    const rv = await listRv('/api/v1/pods');
    const w = await watch(api.url, `/api/v1/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=${rv}`);
    await call('POST', '/api/v1/namespaces/default/pods', pod('elsewhere'));
    await w.waitFor((e) => e.some((x) => x.type === 'BOOKMARK'));
    const bm = w.events.find((e) => e.type === 'BOOKMARK');
    expect(bm?.object).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
    const started = Date.now();
    await w.ended;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(types(w.events.filter((e) => e.type !== 'BOOKMARK'))).toContain('ADDED elsewhere');
  });

  it('sendInitialEvents ends the initial state with an annotated bookmark', async () => {
    const w = await watch(api.url, `${PODS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=`);
    await w.waitFor((e) => e.some((x) => x.type === 'BOOKMARK'));
    const bm = w.events.find((e) => e.type === 'BOOKMARK');
    expect(bm?.object.metadata?.['annotations']).toEqual({ 'k8s.io/initial-events-end': 'true' });
    expect(w.events.slice(0, w.events.indexOf(bm as never)).every((e) => e.type === 'ADDED')).toBe(true);
    w.close();
  });

  it('Table watch events: columns on the first event only, as kubectl get -w expects', async () => {
    const rv = await listRv(PODS);
    const w = await watch(api.url, `${PODS}?watch=true&resourceVersion=${rv}`, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
    });
    await call('POST', PODS, pod('tabled'));
    await call('DELETE', `${PODS}/tabled`);
    await w.waitFor((e) => e.length >= 3);
    const tables = w.events.map((e) => e.object as { kind: string; columnDefinitions: unknown; rows: { cells: unknown[] }[] });
    expect(tables.every((t) => t.kind === 'Table' && t.rows.length === 1)).toBe(true);
    expect(Array.isArray(tables[0]?.columnDefinitions)).toBe(true);
    expect(tables[1]?.columnDefinitions).toBeNull();
    expect(tables[0]?.rows[0]?.cells.slice(0, 3)).toEqual(['tabled', '0/1', 'Pending']);
    w.close();
  });

  it('a resourceVersion older than the cache is an ERROR event with 410 Expired', async () => {
    // A second apiserver primes its caches now, so revision 1 is older than its history.
    const late = await startTestApiserver(etcd.port);
    try {
      const w = await watch(late.url, `${PODS}?watch=true&resourceVersion=1`);
      expect(await w.status).toBe(200);
      await w.ended;
      expect(w.events).toHaveLength(1);
      expect(w.events[0]?.type).toBe('ERROR');
      expect(w.events[0]?.object).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: expect.stringMatching(/^too old resource version: 1 \(\d+\)$/) });
    } finally {
      await late.close();
    }
  });
});

describe('WatchCache', () => {
  it('keeps a bounded history; older resourceVersions are too old', () => {
    const c = new WatchCache(3);
    c.replace([], 10);
    for (let rev = 11; rev <= 15; rev++) c.apply('PUT', `/k${rev}`, { metadata: { name: `k${rev}` } }, rev);
    expect(c.rv).toBe(15);
    expect(c.eventsAfter(13).map((e) => e.rev)).toEqual([14, 15]);
    expect(c.eventsAfter(12).map((e) => e.rev)).toEqual([13, 14, 15]);
    expect(() => c.eventsAfter(11)).toThrow(TooOldError);
    expect(() => c.eventsAfter(11)).toThrow('too old resource version: 11 (12)');
  });

  it('waitFresh resolves on progress and times out otherwise', async () => {
    const c = new WatchCache();
    c.replace([], 5);
    const fresh = c.waitFresh(7, 1000);
    c.advance(7);
    expect(await fresh).toBe(true);
    expect(await c.waitFresh(9, 20)).toBe(false);
  });
});
