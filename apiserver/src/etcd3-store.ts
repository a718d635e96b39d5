import { statusErrors, type KubeObject } from '../../shared/src/index.js';
import { decodeFromStorage, encodeForStorage } from './codec.js';
import type { EtcdClient, EtcdKv } from './etcd-client.js';
import type { ResourceInfo } from './resources.js';
import { storageSpanAttributes } from './spans.js';
import { inSpan, type RequestTrace } from './trace-context.js';
import { etcdError, type Preconditions, checkPreconditions } from './storage-errors.js';

/** An object as read from etcd: decoded, its raw bytes and mod revision. */
export interface ObjState {
  readonly obj: KubeObject | undefined;
  readonly data: Buffer;
  readonly rev: number;
}

export type TryUpdate = (current: KubeObject | undefined) => Promise<KubeObject> | KubeObject;

const LEASE_REUSE_SECONDS = 60;

/**
 * kube-apiserver's etcd3 store (storage/etcd3/store.go) for one resource:
 * the same Txn shapes, retries and span events. Keys passed in are relative
 * to --etcd-prefix (`/pods/default/nginx`), as the spans show them.
 */
export class Etcd3Store {
  private lease: { id: string; expires: number } | undefined;

  constructor(
    readonly info: ResourceInfo,
    private readonly etcd: EtcdClient,
    private readonly prefix: string,
  ) {}

  etcdKey(key: string): string {
    return this.prefix + key;
  }

  private nameOf(key: string): string {
    return key.slice(key.lastIndexOf('/') + 1);
  }

  private state(kv: EtcdKv | undefined): ObjState {
    if (!kv) return { obj: undefined, data: Buffer.alloc(0), rev: 0 };
    return { obj: decodeFromStorage(kv.value, kv.modRevision), data: kv.value, rev: kv.modRevision };
  }

  /** store.Get: a plain Range, no span of its own. */
  async get(rt: RequestTrace | undefined, key: string): Promise<ObjState> {
    try {
      const res = await this.etcd.get(this.etcdKey(key), rt?.ctx);
      return this.state(res.kvs[0]);
    } catch (e) {
      throw etcdError(e);
    }
  }

  /** leaseManager.GetLease: one lease reused for a minute, granted with that minute on top. */
  private async leaseFor(rt: RequestTrace, ttl: number): Promise<string> {
    const now = Date.now();
    const l = this.lease;
    if (l && now + ttl * 1000 < l.expires && now + (ttl + LEASE_REUSE_SECONDS) * 1000 > l.expires) return l.id;
    const id = await this.etcd.leaseGrant(ttl + LEASE_REUSE_SECONDS, rt.ctx);
    this.lease = { id, expires: now + (ttl + LEASE_REUSE_SECONDS) * 1000 };
    return id;
  }

  private attrs(rt: RequestTrace, key: string): ReturnType<typeof storageSpanAttributes> {
    const i = this.info;
    return storageSpanAttributes(rt.tracers.profile, { auditId: rt.auditId, key, goType: i.goType, group: i.group, resource: i.resource });
  }

  async create(rt: RequestTrace, key: string, obj: KubeObject): Promise<KubeObject> {
    return inSpan(rt, 'Create etcd3', this.attrs(rt, key), async (span, inner) => {
      if (obj.metadata.resourceVersion !== undefined && obj.metadata.resourceVersion !== '' && obj.metadata.resourceVersion !== '0') {
        throw statusErrors.internal('resourceVersion should not be set on objects to be created');
      }
      span.addEvent('About to Encode');
      const data = encodeForStorage(obj);
      span.addEvent('Encode succeeded', { len: data.length });
      const lease = this.info.ttlSeconds ? await this.leaseFor(inner, this.info.ttlSeconds) : undefined;
      span.addEvent('TransformToStorage succeeded');
      let res;
      try {
        res = await this.etcd.optimisticPut(this.etcdKey(key), data, 0, lease ? { lease } : {}, inner.ctx);
      } catch (e) {
        span.addEvent('Txn call failed', { err: String((e as Error).message) });
        throw etcdError(e);
      }
      span.addEvent('Txn call succeeded');
      if (!res.succeeded) throw statusErrors.alreadyExists(this.info.resource, this.nameOf(key), this.info.group);
      const out = decodeFromStorage(data, res.revision);
      span.addEvent('decode succeeded', { len: data.length });
      return out;
    });
  }

  /**
   * GuaranteedUpdate: start from the cached object when there is one (the
   * delegator passes the watch cache's copy), Txn If ModRevision=rev Then Put
   * Else Range, and retry from the fresh value on conflict.
   */
  async guaranteedUpdate(
    rt: RequestTrace,
    key: string,
    o: { cached?: ObjState | undefined; ignoreNotFound?: boolean; preconditions?: Preconditions; tryUpdate: TryUpdate },
  ): Promise<KubeObject> {
    return inSpan(rt, 'GuaranteedUpdate etcd3', this.attrs(rt, key), async (span, inner) => {
      const name = this.nameOf(key);
      const current = async (): Promise<ObjState> => {
        const s = await this.get(inner, key);
        if (!s.obj && !o.ignoreNotFound) throw statusErrors.notFound(this.info.resource, name, this.info.group);
        return s;
      };
      let state = o.cached ?? (await current());
      let isCurrent = o.cached === undefined;
      span.addEvent('initial value restored');
      for (;;) {
        const pre = state.obj ? checkPreconditions(o.preconditions, state.obj) : undefined;
        if (pre) {
          if (isCurrent) throw statusErrors.conflict(this.info.resource, name, this.info.group, pre);
          state = await current();
          isCurrent = true;
          continue;
        }
        let updated: KubeObject;
        try {
          updated = await o.tryUpdate(state.obj);
        } catch (e) {
          if (isCurrent) throw e;
          const cachedRev = state.rev;
          state = await current();
          isCurrent = true;
          if (cachedRev === state.rev) throw e;
          continue;
        }
        span.addEvent('About to Encode');
        const data = encodeForStorage(updated);
        span.addEvent('Encode succeeded', { len: data.length });
        if (state.obj && data.equals(state.data)) {
          // Nothing changed: no write, as upstream short-circuits.
          if (!isCurrent) {
            state = await current();
            isCurrent = true;
            if (!data.equals(state.data)) continue;
          }
          return decodeFromStorage(state.data, state.rev);
        }
        span.addEvent('TransformToStorage succeeded');
        const lease = this.info.ttlSeconds ? await this.leaseFor(inner, this.info.ttlSeconds) : undefined;
        span.addEvent('Transaction prepared');
        let res;
        try {
          res = await this.etcd.optimisticPut(this.etcdKey(key), data, state.rev, { getOnFailure: true, ...(lease ? { lease } : {}) }, inner.ctx);
        } catch (e) {
          span.addEvent('Txn call failed', { err: String((e as Error).message) });
          throw etcdError(e);
        }
        span.addEvent('Txn call completed');
        span.addEvent('Transaction committed');
        if (!res.succeeded) {
          state = this.state(res.current);
          if (!state.obj && !o.ignoreNotFound) throw statusErrors.notFound(this.info.resource, name, this.info.group);
          span.addEvent('Retry value restored');
          isCurrent = true;
          continue;
        }
        const out = decodeFromStorage(data, res.revision);
        span.addEvent('decode succeeded', { len: data.length });
        return out;
      }
    });
  }

  /** conditionalDelete: Txn If ModRevision=rev Then DeleteRange Else Range, retrying on conflict. */
  async delete(
    rt: RequestTrace,
    key: string,
    o: { cached?: ObjState | undefined; preconditions?: Preconditions; validate?: (obj: KubeObject) => Promise<void> },
  ): Promise<KubeObject> {
    const name = this.nameOf(key);
    const current = async (): Promise<ObjState> => {
      const s = await this.get(rt, key);
      if (!s.obj) throw statusErrors.notFound(this.info.resource, name, this.info.group);
      return s;
    };
    let state = o.cached ?? (await current());
    let isCurrent = o.cached === undefined;
    for (;;) {
      const obj = state.obj as KubeObject;
      const pre = checkPreconditions(o.preconditions, obj);
      let failure: unknown = pre ? statusErrors.conflict(this.info.resource, name, this.info.group, pre) : undefined;
      if (!failure && o.validate) {
        try {
          await o.validate(obj);
        } catch (e) {
          failure = e;
        }
      }
      if (failure) {
        if (isCurrent) throw failure;
        const cachedRev = state.rev;
        state = await current();
        isCurrent = true;
        if (cachedRev === state.rev) throw failure;
        continue;
      }
      let res;
      try {
        res = await this.etcd.optimisticDelete(this.etcdKey(key), state.rev, rt.ctx);
      } catch (e) {
        throw etcdError(e);
      }
      if (!res.succeeded) {
        state = this.state(res.current);
        if (!state.obj) throw statusErrors.notFound(this.info.resource, name, this.info.group);
        isCurrent = true;
        continue;
      }
      return decodeFromStorage(state.data, res.revision);
    }
  }
}
