import { statusErrors, type KubeObject } from '../../shared/src/index.js';
import { decodeFromStorage } from './codec.js';
import type { EtcdClient, RangeResult } from './etcd-client.js';
import { decodeContinue, encodeContinue, matchesPredicate, predicateEmpty, type ListOptions } from './list-options.js';
import type { ResourceInfo } from './resources.js';
import { etcdListSpan } from './spans.js';
import { CONTINUE_EXPIRED, LIST_EXPIRED, etcdError, isCompacted, isFutureRev, tooLargeResourceVersion } from './storage-errors.js';
import { inSpan, type RequestTrace } from './trace-context.js';

export interface ListResult {
  readonly items: KubeObject[];
  readonly resourceVersion: number;
  readonly continueToken: string;
  readonly remainingItemCount: number | undefined;
}

/** Upstream doubles the page size up to this while selectors drop items. */
const MAX_LIMIT = 10_000;

/**
 * store.GetList (storage/etcd3/store.go): Range pages of the prefix at one
 * revision until the limit is filled, under a `List(recursive=true) etcd3`
 * span; continue tokens and resourceVersion semantics as upstream.
 */
export async function etcd3List(
  rt: RequestTrace,
  etcd: EtcdClient,
  info: ResourceInfo,
  etcdPrefix: string,
  key: string,
  o: Pick<ListOptions, 'label' | 'field' | 'limit' | 'continueToken' | 'resourceVersion' | 'resourceVersionMatch'>,
): Promise<ListResult> {
  const span = etcdListSpan(true, {
    auditId: rt.auditId,
    key,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    limit: o.limit,
    continueToken: o.continueToken,
  });
  return inSpan(rt, span.name, span.attributes, async (_span, inner) => {
    const keyPrefix = `${etcdPrefix}${key}/`;
    let withRev = 0;
    let from: string | undefined;
    const paging = o.limit > 0;
    if (o.continueToken !== '') {
      if (o.resourceVersion !== '' && o.resourceVersion !== '0') {
        throw statusErrors.badRequest('specifying resource version is not allowed when using continue');
      }
      const c = decodeContinue(o.continueToken, keyPrefix);
      from = c.fromKey;
      if (c.rv > 0) withRev = c.rv;
    } else if (o.resourceVersion !== '') {
      const rv = Number(o.resourceVersion);
      if (o.resourceVersionMatch === 'Exact' || (o.resourceVersionMatch === '' && paging && rv !== 0)) withRev = rv;
    }
    const minimum = o.resourceVersionMatch !== 'Exact' && o.resourceVersion !== '' ? Number(o.resourceVersion) : 0;
    const items: KubeObject[] = [];
    let limit = o.limit;
    let hasMore = false;
    let lastKey = '';
    let res: RangeResult | undefined;
    for (;;) {
      try {
        res = await etcd.list(keyPrefix, { ...(paging ? { limit } : {}), revision: withRev, ...(from !== undefined ? { from } : {}) }, inner.ctx);
      } catch (e) {
        if (isFutureRev(e)) throw tooLargeResourceVersion(withRev, 0);
        if (isCompacted(e)) throw statusErrors.gone(o.continueToken !== '' ? CONTINUE_EXPIRED : LIST_EXPIRED);
        throw etcdError(e);
      }
      if (minimum > res.revision) throw tooLargeResourceVersion(minimum, res.revision);
      hasMore = res.kvs.length < res.count;
      if (withRev === 0) withRev = res.revision;
      for (const kv of res.kvs) {
        if (paging && items.length >= o.limit) {
          hasMore = true;
          break;
        }
        lastKey = kv.key;
        let obj: KubeObject;
        try {
          obj = decodeFromStorage(kv.value, kv.modRevision);
        } catch (e) {
          throw etcdError(e);
        }
        if (matchesPredicate(info, o, obj)) items.push(obj);
      }
      from = `${lastKey}\u0000`;
      if (!hasMore || !paging || items.length >= o.limit) break;
      limit = Math.min(limit * 2, MAX_LIMIT);
    }
    const continueToken = hasMore ? encodeContinue(`${lastKey}\u0000`, keyPrefix, withRev) : '';
    const remainingItemCount = hasMore && predicateEmpty(o) ? (res?.count ?? 0) - o.limit : undefined;
    return { items, resourceVersion: withRev, continueToken, remainingItemCount };
  });
}

/** GetCurrentResourceVersion: a one-item list of the whole resource, for its header revision. */
export async function currentResourceVersion(rt: RequestTrace, etcd: EtcdClient, info: ResourceInfo, etcdPrefix: string): Promise<number> {
  const res = await etcd3List(rt, etcd, info, etcdPrefix, `/${info.etcdResource}`, {
    label: [],
    field: [],
    limit: 1,
    continueToken: '',
    resourceVersion: '',
    resourceVersionMatch: '',
  });
  return res.resourceVersion;
}
