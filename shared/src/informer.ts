import type { KubeList, KubeObject, Status, WatchEvent } from './k8s/types.js';
import { StatusError } from './k8s/errors.js';
import type { RequestOptions, WatchHandle } from './kube-client.js';

/**
 * client-go's reflector and informer store, reduced to what the scheduler
 * and kubelet use: list (paged), then watch from the list's resourceVersion
 * with bookmarks and a randomised timeout; re-watch from the last version
 * seen when a watch ends; relist only when the server says the version is
 * gone (410). Handlers see add/update/delete as a shared informer delivers
 * them, including the deletes a relist discovers.
 */

/** What an informer needs from an apiserver client; KubeClient has it, and so do traced wrappers. */
export interface ListWatcher {
  list<T extends KubeObject>(path: string, o?: RequestOptions): Promise<KubeList<T>>;
  watch<T extends KubeObject>(
    path: string,
    query: RequestOptions['query'],
    onEvent: (e: WatchEvent<T>) => void,
    o?: RequestOptions,
  ): WatchHandle;
}

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
  /** After the first list has been delivered (cache.WaitForCacheSync). */
  onSynced?(): void;
}

export interface InformerOptions<T extends KubeObject> {
  readonly client: ListWatcher;
  /** Collection path, e.g. `/api/v1/pods`. */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly handlers: InformerHandlers<T>;
  readonly log?: (msg: string) => void;
  /** client-go's minWatchTimeout (5 min): each watch asks for a timeout between it and twice it. */
  readonly minWatchTimeoutSeconds?: number;
  readonly random?: () => number;
  /** Backoff after a failed list or watch: client-go uses 800 ms doubling to 30 s. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

/** The store key: uid when the object has one (a recreated object is a new one), else namespace/name. */
export function objectKey(o: KubeObject): string {
  return o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

const isGone = (e: unknown): boolean => e instanceof StatusError && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private stopped = false;
  private synced = false;
  private current: WatchHandle | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: InformerOptions<T>) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.stop();
    this.wake?.();
    await this.loop;
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  private call(fn: () => void): void {
    // A handler's bug must not stop the informer (client-go recovers from handler panics too).
    try {
      fn();
    } catch (err) {
      this.log(`informer handler for ${this.o.path} failed: ${String(err)}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private selectors(): Record<string, string | undefined> {
    return { fieldSelector: this.o.fieldSelector, labelSelector: this.o.labelSelector };
  }

  /** Lists every page and replaces the store, delivering the differences; returns the list's resourceVersion. */
  private async relist(consistent: boolean): Promise<string> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      // "0" lets the apiserver answer from its watch cache, as the reflector's first list does.
      const query = { ...this.selectors(), limit: 500, ...(cont ? { continue: cont } : consistent ? {} : { resourceVersion: '0' }) };
      const page = await this.o.client.list<T>(this.o.path, { query });
      items.push(...(page.items ?? []));
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont && !this.stopped);
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, item);
      if (!old) this.call(() => this.o.handlers.onAdd?.(item));
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.call(() => this.o.handlers.onUpdate?.(old, item));
    }
    for (const [key, old] of [...this.store]) {
      if (seen.has(key)) continue;
      this.store.delete(key);
      this.call(() => this.o.handlers.onDelete?.(old));
    }
    return rv;
  }

  private apply(e: WatchEvent<T>): void {
    const obj = e.object;
    const key = objectKey(obj);
    if (e.type === 'DELETED') {
      const old = this.store.get(key);
      this.store.delete(key);
      this.call(() => this.o.handlers.onDelete?.(old ?? obj));
      return;
    }
    const old = this.store.get(key);
    this.store.set(key, obj);
    if (old) this.call(() => this.o.handlers.onUpdate?.(old, obj));
    else this.call(() => this.o.handlers.onAdd?.(obj));
  }

  /** One watch from `rv`; resolves with the last version seen and whether the server said it is gone. */
  private watchOnce(rv: string): Promise<{ rv: string; gone: boolean; events: number }> {
    const min = this.o.minWatchTimeoutSeconds ?? 300;
    const random = this.o.random ?? Math.random;
    let last = rv;
    let gone = false;
    let events = 0;
    const query = {
      ...this.selectors(),
      resourceVersion: rv,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.floor(min * (1 + random())),
    };
    const handle = this.o.client.watch<T>(this.o.path, query, (e) => {
      if (e.type === 'ERROR') {
        const status = e.object as unknown as Status;
        if (status.code === 410) gone = true;
        else this.log(`watch of ${this.o.path} reported an error: ${status.message ?? status.code}`);
        handle.stop();
        return;
      }
      events++;
      const v = e.object.metadata?.resourceVersion;
      if (v) last = v;
      if (e.type !== 'BOOKMARK') this.apply(e);
    });
    this.current = handle;
    return handle.done.then(
      () => ({ rv: last, gone, events }),
      (err: unknown) => {
        if (isGone(err)) return { rv: last, gone: true, events };
        throw err;
      },
    );
  }

  private async run(): Promise<void> {
    const backoff = this.o.backoff ?? { initialMs: 800, maxMs: 30_000 };
    let delay = backoff.initialMs;
    let consistent = false;
    while (!this.stopped) {
      let rv: string;
      try {
        rv = await this.relist(consistent);
      } catch (err) {
        if (this.stopped) return;
        this.log(`failed to list ${this.o.path}: ${err instanceof Error ? err.message : String(err)}`);
        await this.sleep(delay);
        delay = Math.min(delay * 2, backoff.maxMs);
        continue;
      }
      if (!this.synced) {
        this.synced = true;
        this.call(() => this.o.handlers.onSynced?.());
      }
      delay = backoff.initialMs;
      while (!this.stopped) {
        const started = Date.now();
        try {
          const r = await this.watchOnce(rv);
          rv = r.rv;
          if (r.gone) break;
          // A watch the server ends at once with nothing in it would otherwise spin.
          if (r.events === 0 && Date.now() - started < 1000) await this.sleep(delay);
          else delay = backoff.initialMs;
        } catch (err) {
          if (this.stopped) return;
          this.log(`watch of ${this.o.path} failed: ${err instanceof Error ? err.message : String(err)}`);
          await this.sleep(delay);
          delay = Math.min(delay * 2, backoff.maxMs);
        }
      }
      // After a 410 the reflector relists consistently (no resourceVersion).
      consistent = true;
    }
  }
}
