import type { KubeObject } from '../../shared/src/index.js';
import { decodeFromStorage } from './codec.js';
import type { EtcdClient, EtcdKv, WatchResponse } from './etcd-client.js';
import { WatchCache, type CachedObject } from './watch-cache.js';
import type { WatchMux } from './watch-mux.js';

export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

const RESTART_DELAY_MS = 1000;

/**
 * Keeps one resource's watch cache in step with etcd, as the cacher's
 * reflector does: list the prefix, then watch it from the list revision + 1
 * with prev_kv. A broken stream or a compacted start re-lists; every HTTP
 * watch on the old state is then ended so clients re-list too.
 */
export class Cacher {
  readonly cache = new WatchCache();
  private readyFlag = false;
  private readyWaiters: (() => void)[] = [];
  private readonly resetListeners = new Set<() => void>();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Full etcd prefix with a trailing slash: `/registry/pods/`. */
    readonly keyPrefix: string,
    private readonly etcd: EtcdClient,
    private readonly mux: WatchMux,
    private readonly log: LogFn,
  ) {}

  get ready(): boolean {
    return this.readyFlag;
  }

  start(): void {
    void this.prime();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Resolves once the first list is in, false after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.readyFlag) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      t.unref();
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Called when the cache was rebuilt and watchers must start over. */
  onReset(fn: () => void): () => void {
    this.resetListeners.add(fn);
    return () => this.resetListeners.delete(fn);
  }

  /**
   * Waits until the cache has seen everything up to `rev`, asking etcd for a
   * progress notification when nothing in this resource changed since.
   */
  async fresh(rev: number, timeoutMs: number): Promise<boolean> {
    if (this.cache.rv >= rev) return true;
    this.mux.requestProgress();
    return this.cache.waitFresh(rev, timeoutMs);
  }

  private decode(kv: EtcdKv): KubeObject | undefined {
    try {
      return decodeFromStorage(kv.value, kv.modRevision);
    } catch (e) {
      this.log('skipping undecodable object in etcd', { key: kv.key, error: (e as Error).message });
      return undefined;
    }
  }

  private async prime(): Promise<void> {
    if (this.stopped) return;
    try {
      const res = await this.etcd.list(this.keyPrefix, {});
      const items: CachedObject[] = [];
      for (const kv of res.kvs) {
        const obj = this.decode(kv);
        if (obj) items.push({ key: kv.key, obj, rev: kv.modRevision });
      }
      const wasReady = this.readyFlag;
      this.cache.replace(items, res.revision);
      if (wasReady) for (const l of [...this.resetListeners]) l();
      this.mux.watch(this.keyPrefix, res.revision + 1, {
        onResponse: (r) => this.onResponse(r),
        onBroken: (reason) => this.restart(`watch broken: ${reason}`),
      });
      this.readyFlag = true;
      for (const w of this.readyWaiters.splice(0)) w();
    } catch (e) {
      this.restart(`list failed: ${(e as Error).message}`);
    }
  }

  private onResponse(r: WatchResponse): void {
    if (r.canceled) {
      this.restart(r.compactRevision > 0 ? `watch start compacted at ${r.compactRevision}` : 'watch canceled');
      return;
    }
    if (r.events.length > 0) {
      for (const e of r.events) {
        this.cache.apply(e.type, e.kv.key, e.type === 'PUT' ? this.decode(e.kv) : undefined, e.kv.modRevision);
      }
      this.cache.advance(r.revision);
      return;
    }
    // The created ack's revision says nothing about what was delivered; progress notifications do.
    if (!r.created) this.cache.advance(r.revision);
  }

  private restart(why: string): void {
    if (this.stopped) return;
    this.log('cacher restarting', { prefix: this.keyPrefix, reason: why });
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.prime(), RESTART_DELAY_MS);
    this.timer.unref();
  }
}
