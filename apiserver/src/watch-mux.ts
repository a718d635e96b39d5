import type * as grpc from '@grpc/grpc-js';
import { EtcdClient, prefixEnd, type WatchResponse } from './etcd-client.js';

export interface WatchHandler {
  /** Events, progress notifications (no events, not created) and cancellations for this watcher. */
  onResponse(res: WatchResponse): void;
  /** The stream failed or ended; the watcher is gone and must be re-created. */
  onBroken(reason: string): void;
}

/**
 * All cacher watches on one etcd Watch stream, as clientv3 puts watchers with
 * the same context on one stream. Watch IDs are ours; progress requests
 * (RequestWatchProgress) ask etcd to confirm every watcher is current.
 */
export class WatchMux {
  private stream: grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>> | undefined;
  private readonly handlers = new Map<number, WatchHandler>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly etcd: EtcdClient) {}

  private open(): grpc.ClientDuplexStream<Record<string, unknown>, Record<string, unknown>> {
    if (this.stream) return this.stream;
    const s = this.etcd.openWatchStream();
    const broken = (reason: string): void => {
      if (this.stream !== s) return;
      this.stream = undefined;
      const hs = [...this.handlers.values()];
      this.handlers.clear();
      for (const h of hs) h.onBroken(reason);
    };
    s.on('data', (m: Record<string, unknown>) => {
      const { watchId, res } = EtcdClient.watchResponse(m);
      if (watchId === -1) {
        // A stream-wide progress notification: every watcher is current up to res.revision.
        for (const h of this.handlers.values()) h.onResponse(res);
        return;
      }
      const h = this.handlers.get(watchId);
      if (!h) return;
      if (res.canceled) this.handlers.delete(watchId);
      h.onResponse(res);
    });
    s.on('error', (e: Error) => broken(e.message));
    s.on('end', () => broken('watch stream ended'));
    this.stream = s;
    return s;
  }

  /** Watches `prefix` from `startRevision` with prev_kv, like the apiserver's watch cache. */
  watch(prefix: string, startRevision: number, h: WatchHandler): number {
    if (this.closed) throw new Error('watch mux closed');
    const id = this.nextId++;
    this.handlers.set(id, h);
    this.open().write({
      createRequest: { key: Buffer.from(prefix), rangeEnd: prefixEnd(prefix), startRevision, prevKv: true, watchId: id },
    });
    return id;
  }

  requestProgress(): void {
    if (this.stream && this.handlers.size > 0) this.stream.write({ progressRequest: {} });
  }

  close(): void {
    this.closed = true;
    const s = this.stream;
    this.stream = undefined;
    this.handlers.clear();
    s?.cancel();
  }
}
