import { isConflict, isNotFound, StatusError, type Pod, type PodStatus } from '../../shared/src/index.js';
import type { Klog } from '../../shared/src/klog.js';
import type { NodeApi } from './kube-api.js';
import { mergePodStatus, statusPatch } from './status-patch.js';
import type { TimerWheel } from './wheel.js';

/**
 * One node's status manager (pkg/kubelet/status): syncs hand it the status
 * they want, it sends it in the background, outside any sync span, so each
 * request is a root `HTTP GET` + `HTTP PATCH` pair. Only the newest status of
 * a pod is sent; an unchanged one sends nothing after the GET. When a pod is
 * finished it PATCHes the final status and DELETEs the pod with grace 0 and
 * the uid precondition.
 */

interface Entry {
  namespace: string;
  name: string;
  status: PodStatus;
  version: number;
  deleting?: { resolve: () => void };
}

const RETRY_MS = 1000;

export class StatusManager {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();
  private readonly inflight = new Set<string>();
  private closed = false;
  readonly stats = { gets: 0, patches: 0, deletes: 0, errors: 0 };

  constructor(
    private readonly api: NodeApi,
    private readonly wheel: TimerWheel,
    private readonly log: Klog,
    private readonly key: string,
    private readonly concurrency = 8,
  ) {}

  /** The status last set for the pod: the base the next status is computed from. */
  get(uid: string): PodStatus | undefined {
    return this.entries.get(uid)?.status;
  }

  setPodStatus(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata.uid as string;
    const e = this.entries.get(uid);
    if (e) {
      // updateStatusInternal: the same status again is ignored, so a sync that changes nothing costs the apiserver nothing.
      if (JSON.stringify(e.status) === JSON.stringify(status)) return;
      e.status = status;
      e.version++;
    } else {
      this.entries.set(uid, { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', status, version: 1 });
    }
    this.mark(uid);
  }

  /** Resolves once the final status is written and the pod deleted from the API (or found gone). */
  deletePod(pod: Pod, finalStatus: PodStatus): Promise<void> {
    this.setPodStatus(pod, finalStatus);
    const e = this.entries.get(pod.metadata.uid as string) as Entry;
    return new Promise((resolve) => {
      e.deleting = { resolve };
      this.mark(pod.metadata.uid as string);
    });
  }

  forget(uid: string): void {
    this.entries.delete(uid);
    this.dirty.delete(uid);
    this.wheel.cancel(`${this.key}/status/${uid}`);
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.deleting?.resolve();
  }

  private mark(uid: string): void {
    this.dirty.add(uid);
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    for (const uid of this.dirty) {
      if (this.inflight.size >= this.concurrency) return;
      if (this.inflight.has(uid)) continue;
      this.dirty.delete(uid);
      this.inflight.add(uid);
      void this.sync(uid).finally(() => {
        this.inflight.delete(uid);
        this.pump();
      });
    }
  }

  private retry(uid: string): void {
    this.stats.errors++;
    this.wheel.schedule(`${this.key}/status/${uid}`, Date.now() + RETRY_MS, () => this.mark(uid));
  }

  private async sync(uid: string): Promise<void> {
    const e = this.entries.get(uid);
    if (!e) return;
    const version = e.version;
    const path = `/api/v1/namespaces/${e.namespace}/pods/${e.name}`;
    let current: Pod;
    try {
      this.stats.gets++;
      current = await this.api.get<Pod>(path);
    } catch (err) {
      if (isNotFound(err)) return this.done(e);
      this.log.info('status_manager.go:914', 'Failed to get status for pod', { pod: `${e.namespace}/${e.name}`, err: String(err) });
      return this.retry(uid);
    }
    if (current.metadata.uid !== uid) {
      this.log.v(2, 'status_manager.go:928', 'Pod was deleted and then recreated, skipping status update', { pod: `${e.namespace}/${e.name}`, oldPodUID: uid });
      return this.done(e);
    }
    const patch = statusPatch(uid, current.status, mergePodStatus(current.status, e.status));
    try {
      if (patch) {
        this.stats.patches++;
        await this.api.patch(`${path}/status`, 'strategic', patch);
      }
      if (e.deleting && e.version === version) {
        this.stats.deletes++;
        await this.api.delete(path, { gracePeriodSeconds: 0, preconditions: { uid } });
        this.log.v(2, 'status_manager.go:1019', 'Pod fully terminated and removed from etcd', { pod: `${e.namespace}/${e.name}` });
        return this.done(e);
      }
    } catch (err) {
      // Gone, or replaced by a pod of the same name: nothing of ours is left to write.
      if (isNotFound(err) || isConflict(err) || (err instanceof StatusError && err.code === 409)) return this.done(e);
      this.log.info('status_manager.go:946', 'Failed to update status for pod', { pod: `${e.namespace}/${e.name}`, err: String(err) });
      return this.retry(uid);
    }
    if (e.version !== version || e.deleting) this.mark(uid);
  }

  private done(e: Entry): void {
    e.deleting?.resolve();
    e.deleting = undefined;
  }
}
