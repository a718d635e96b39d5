import { statusErrors, type KubeObject } from '../../shared/src/index.js';
import { Cacher, type LogFn } from './cacher.js';
import { encodeForStorage } from './codec.js';
import type { EtcdClient } from './etcd-client.js';
import { currentResourceVersion, etcd3List, type ListResult } from './etcd3-list.js';
import { Etcd3Store, type ObjState, type TryUpdate } from './etcd3-store.js';
import { encodeContinue, matchesPredicate, predicateEmpty, type ListOptions } from './list-options.js';
import type { ResourceInfo } from './resources.js';
import { cacherGetAttributes, cacherGetListAttributes } from './spans.js';
import type { Preconditions } from './storage-errors.js';
import { tooLargeResourceVersion } from './storage-errors.js';
import { currentSpan, inSpan, type RequestTrace } from './trace-context.js';
import type { WatchMux } from './watch-mux.js';

/** How long a read waits for the watch cache to catch up (blockTimeout). */
const FRESH_TIMEOUT_MS = 3000;

/**
 * One resource's storage as the registry sees it: the CacheDelegator in
 * front of the etcd3 store. Reads go to the watch cache where upstream's
 * delegation rules allow it; writes go to etcd starting from the cached
 * object.
 */
export class ResourceStorage {
  readonly store: Etcd3Store;
  readonly cacher: Cacher;

  constructor(
    readonly info: ResourceInfo,
    private readonly etcd: EtcdClient,
    mux: WatchMux,
    readonly etcdPrefix: string,
    log: LogFn,
  ) {
    this.store = new Etcd3Store(info, etcd, etcdPrefix);
    this.cacher = new Cacher(`${etcdPrefix}/${info.etcdResource}/`, etcd, mux, log);
  }

  /** `/pods/default/nginx`, `/minions/node-1`: the registry key, without the etcd prefix. */
  key(namespace: string, name: string): string {
    return this.info.namespaced ? `/${this.info.etcdResource}/${namespace}/${name}` : `/${this.info.etcdResource}/${name}`;
  }

  /** The list root: `/pods/default`, or `/pods` across namespaces. */
  rootKey(namespace: string): string {
    return this.info.namespaced && namespace !== '' ? `/${this.info.etcdResource}/${namespace}` : `/${this.info.etcdResource}`;
  }

  /** The watch cache's copy, for GuaranteedUpdate and Delete to start from. */
  cached(key: string): ObjState | undefined {
    const c = this.cacher.cache.get(this.store.etcdKey(key));
    if (!c) return undefined;
    return { obj: c.obj, data: encodeForStorage(c.obj), rev: c.rev };
  }

  /**
   * CacheDelegator.Get under `cacher.Get` (1.33+): etcd for resourceVersion "",
   * the cache otherwise. Before 1.33 the cacher's Get has no span: the
   * watch cache's events land on the caller's span (the handler's).
   */
  async get(rt: RequestTrace, key: string, resourceVersion: string): Promise<KubeObject> {
    const name = key.slice(key.lastIndexOf('/') + 1);
    const notFound = (): never => {
      throw statusErrors.notFound(this.info.resource, name, this.info.group);
    };
    const spanName = rt.tracers.profile.cacherGetSpan;
    if (spanName === undefined) {
      const rv = resourceVersion === '' ? 0 : Number(resourceVersion);
      if (resourceVersion === '' || (rv === 0 && !this.cacher.ready)) return (await this.store.get(rt, key)).obj ?? notFound();
      const span = currentSpan(rt);
      span?.addEvent('watchCache locked acquired');
      if (!(await this.cacher.fresh(rv, FRESH_TIMEOUT_MS))) throw tooLargeResourceVersion(rv, this.cacher.cache.rv);
      span?.addEvent('watchCache fresh enough');
      return this.cacher.cache.get(this.store.etcdKey(key))?.obj ?? notFound();
    }
    return inSpan(rt, spanName, cacherGetAttributes(rt.auditId, key, resourceVersion), async (span, inner) => {
      if (resourceVersion === '') {
        span.addEvent('About to Get from underlying storage');
        return (await this.store.get(inner, key)).obj ?? notFound();
      }
      if (!this.cacher.ready) {
        span.addEvent('About to Get from underlying storage - cache not initialized');
        return (await this.store.get(inner, key)).obj ?? notFound();
      }
      span.addEvent('About to fetch object from cache');
      const rv = Number(resourceVersion);
      if (!(await this.cacher.fresh(rv, FRESH_TIMEOUT_MS))) throw tooLargeResourceVersion(rv, this.cacher.cache.rv);
      return this.cacher.cache.get(this.store.etcdKey(key))?.obj ?? notFound();
    });
  }

  /** CacheDelegator.GetList with the release's delegation rules (shouldDelegateList). */
  async list(rt: RequestTrace, namespace: string, o: ListOptions): Promise<ListResult> {
    const key = this.rootKey(namespace);
    const toEtcd = (): Promise<ListResult> => etcd3List(rt, this.etcd, this.info, this.etcdPrefix, key, o);
    if (!rt.tracers.profile.consistentListFromCache) {
      // 1.27: resourceVersion "" (a consistent read), a continue, a limit with
      // resourceVersion other than "0" or an Exact match all go to etcd.
      const unsupportedMatch = o.resourceVersionMatch !== '' && o.resourceVersionMatch !== 'NotOlderThan';
      const delegate = o.resourceVersion === '' || o.continueToken !== '' || (o.limit > 0 && o.resourceVersion !== '0') || unsupportedMatch;
      if (delegate || (Number(o.resourceVersion) === 0 && !this.cacher.ready)) return toEtcd();
      const fromCache = await this.cacherGetList(rt, key, o, false);
      return fromCache === 'stale' ? toEtcd() : fromCache;
    }
    const exact =
      o.resourceVersionMatch === 'Exact' ||
      (o.resourceVersionMatch === '' && o.limit > 0 && o.resourceVersion !== '' && o.resourceVersion !== '0');
    // Without watch-cache snapshots, exact and continued reads are served by etcd.
    if (exact || o.continueToken !== '' || !this.cacher.ready) return toEtcd();
    const consistent = o.resourceVersion === '';
    const fromCache = await this.cacherGetList(rt, key, o, consistent);
    if (fromCache === 'stale') return toEtcd();
    return fromCache;
  }

  private cacherGetList(rt: RequestTrace, key: string, o: ListOptions, consistent: boolean): Promise<ListResult | 'stale'> {
    const i = this.info;
    const profile = rt.tracers.profile;
    return inSpan(rt, profile.cacherGetListSpan, cacherGetListAttributes(rt.auditId, i.group, i.resource), async (span, inner) => {
      span.addEvent('Ready');
      const listRv = consistent ? await currentResourceVersion(inner, this.etcd, i, this.etcdPrefix) : Number(o.resourceVersion);
      span.addEvent('watchCache locked acquired');
      if (!(await this.cacher.fresh(listRv, FRESH_TIMEOUT_MS))) {
        // A consistent read the cache cannot reach in time falls back to etcd, as upstream does.
        if (consistent) return 'stale' as const;
        throw tooLargeResourceVersion(listRv, this.cacher.cache.rv);
      }
      span.addEvent('watchCache fresh enough');
      const keyPrefix = `${this.etcdPrefix}${key}/`;
      const all = this.cacher.cache.list(keyPrefix);
      const rv = this.cacher.cache.rv;
      span.addEvent('Listed items from cache', { count: all.length });
      const limit = o.resourceVersion === '0' ? 0 : o.limit;
      const items: KubeObject[] = [];
      let lastKey = '';
      let hasMore = false;
      for (let n = 0; n < all.length; n++) {
        const c = all[n] as (typeof all)[number];
        if (matchesPredicate(i, o, c.obj)) {
          items.push(c.obj);
          lastKey = c.key;
        }
        if (limit > 0 && items.length >= limit) {
          hasMore = n < all.length - 1;
          break;
        }
      }
      const resized = profile.cacherListResized === 'selected' ? items.length > 0 : all.length > 0 && predicateEmpty(o);
      if (resized) span.addEvent('Resized result');
      span.addEvent('Filtered items', { count: items.length });
      return {
        items,
        resourceVersion: rv,
        continueToken: hasMore ? encodeContinue(`${lastKey}\u0000`, keyPrefix, rv) : '',
        remainingItemCount: hasMore && predicateEmpty(o) ? all.length - limit : undefined,
      };
    });
  }

  create(rt: RequestTrace, key: string, obj: KubeObject): Promise<KubeObject> {
    return this.store.create(rt, key, obj);
  }

  guaranteedUpdate(
    rt: RequestTrace,
    key: string,
    o: { ignoreNotFound?: boolean; preconditions?: Preconditions; tryUpdate: TryUpdate },
  ): Promise<KubeObject> {
    return this.store.guaranteedUpdate(rt, key, { ...o, cached: this.cached(key) });
  }

  delete(rt: RequestTrace, key: string, o: { preconditions?: Preconditions; validate?: (obj: KubeObject) => Promise<void> }): Promise<KubeObject> {
    return this.store.delete(rt, key, { ...o, cached: this.cached(key) });
  }
}
