import { statusErrors, type KubeObject } from '../../shared/src/index.js';
import type { HandlerDeps, ResourceRequest } from './handler-context.js';
import { matchesPredicate, type ListOptions } from './list-options.js';
import type { Output } from './negotiate.js';
import type { OpContext } from './registry.js';
import { groupVersion } from './resources.js';
import { writeError } from './serialize.js';
import { toTable, type IncludeObject } from './table.js';
import { TooOldError, withResourceVersion, type CacheEvent } from './watch-cache.js';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** minRequestTimeout (1800 s) × (1 + rand): how long a watch without timeoutSeconds lasts. */
const MIN_REQUEST_TIMEOUT_S = 1800;
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/**
 * A cacheWatcher over HTTP: newline-delimited WatchEvents from the watch
 * cache, filtered by namespace, name and selectors (an object leaving the
 * selection is DELETED, one entering it ADDED), optional bookmarks, an
 * ERROR event with 410 Expired for a resourceVersion the cache no longer
 * reaches, and Table-wrapped objects when kubectl asks for them.
 */
export async function serveWatch(d: HandlerDeps, r: ResourceRequest, op: OpContext, opts: ListOptions, out: Output, include: IncludeObject): Promise<void> {
  const storage = d.registry.storage(r.res);
  const cacher = storage.cacher;
  const gv = groupVersion(r.res);
  if (!(await cacher.waitReady(10_000))) {
    writeError(r.rt.tracers.profile.serializeUnderHandler ? op.rt : r.rt, r.ex, statusErrors.unavailable(`storage is (re)initializing`), gv, d.log);
    return;
  }
  const keyPrefix = `${storage.etcdPrefix}${storage.rootKey(r.info.namespace)}/`;
  const matches = (o: KubeObject | undefined): boolean => o !== undefined && matchesPredicate(r.res, opts, o);
  let headers = out.kind === 'table';
  const encode = (type: EventType, obj: unknown): string => {
    let body = obj;
    if (out.kind === 'table' && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
      const o = obj as KubeObject;
      body = toTable(r.res, [o], { resourceVersion: o.metadata.resourceVersion ?? '' }, { include, noHeaders: !headers, tableVersion: out.version, now: Date.now() });
      headers = false;
    }
    return `${JSON.stringify({ type, object: body })}\n`;
  };

  const ex = r.ex;
  ex.startStream('application/json');
  let lastRv = 0;
  const send = (type: EventType, obj: unknown, rev: number): void => {
    ex.write(encode(type, obj));
    if (rev > lastRv) lastRv = rev;
  };
  /** cacheWatcher.convertToWatchEvent */
  const deliver = (e: CacheEvent): void => {
    if (!e.key.startsWith(keyPrefix)) return;
    const cur = e.type === 'DELETED' ? false : matches(e.obj);
    const old = e.type === 'ADDED' ? false : matches(e.prev);
    if (e.type === 'DELETED') {
      if (old) send('DELETED', e.obj, e.rev);
    } else if (cur && old) send('MODIFIED', e.obj, e.rev);
    else if (cur) send('ADDED', e.obj, e.rev);
    else if (old && e.prev) send('DELETED', withResourceVersion(e.prev, e.rev), e.rev);
    if (e.rev > lastRv) lastRv = e.rev;
  };
  const bookmark = (rev: number, initialEnd = false): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(rev) };
    if (initialEnd) metadata['annotations'] = { [INITIAL_EVENTS_END]: 'true' };
    send('BOOKMARK', { kind: r.res.kind, apiVersion: gv, metadata }, rev);
  };

  const cache = cacher.cache;
  const rv = opts.resourceVersion;
  const initial = rv === '' || rv === '0' || opts.sendInitialEvents === true;
  let backlog: CacheEvent[] = [];
  if (initial) {
    // State synthesis: every current object as ADDED, at the cache's revision.
    if (opts.sendInitialEvents === true && rv !== '' && rv !== '0') await cacher.fresh(Number(rv), 3000);
    const at = cache.rv;
    for (const c of cache.list(keyPrefix)) if (matches(c.obj)) send('ADDED', c.obj, c.rev);
    lastRv = at;
    if (opts.sendInitialEvents === true && opts.allowWatchBookmarks) bookmark(at, true);
  } else {
    try {
      backlog = cache.eventsAfter(Number(rv));
      lastRv = Number(rv);
    } catch (e) {
      if (!(e instanceof TooOldError)) throw e;
      // The error travels as an ERROR event on a 200 stream, as cacher's errWatcher sends it.
      ex.write(encode('ERROR', statusErrors.gone(e.message).status));
      ex.end();
      return;
    }
  }
  for (const e of backlog) deliver(e);

  await new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      unsubscribe();
      unreset();
      clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      ex.end();
      resolve();
    };
    const unsubscribe = cache.subscribe((e) => {
      if (e.rev > lastRv) deliver(e);
    });
    const unreset = cacher.onReset(finish);
    const seconds = opts.timeoutSeconds && opts.timeoutSeconds > 0 ? opts.timeoutSeconds : MIN_REQUEST_TIMEOUT_S * (1 + Math.random());
    const timer = setTimeout(finish, seconds * 1000);
    const ticker = opts.allowWatchBookmarks
      ? setInterval(() => bookmark(Math.max(cache.rv, lastRv)), d.bookmarkIntervalMs)
      : undefined;
    ex.onClose(finish);
    if (ex.closed) finish();
  });
}
