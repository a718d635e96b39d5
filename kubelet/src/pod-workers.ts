import type { Pod } from '../../shared/src/index.js';
import type { Rand } from '../../shared/src/random.js';
import type { NodeContext, PodRecord } from './node-context.js';
import { nextStep, type Work, type WorkerEvent, type WorkerState } from './pod-stages.js';
import type { UpdateType } from './spans.js';
import { syncPod } from './sync-pod.js';
import { removeRuntimePod, syncTerminatedPod, syncTerminatingPod } from './terminate.js';
import type { TimerWheel } from './wheel.js';

/**
 * One node's pod workers (pod_workers.go): one serial queue per pod, so a
 * pod's syncs never overlap, while different pods sync in parallel. Each
 * event goes through the stage table (pod-stages.ts); the work it names is
 * queued, and queued syncs of the same pod collapse into one. Resyncs and
 * retries are deadlines on the process's timer wheel, not timers per pod.
 */

interface Worker {
  readonly record: PodRecord;
  state: WorkerState;
  queue: Array<{ work: Work; updateType: UpdateType }>;
  busy: boolean;
  /** Has a sync run yet: the first is `create`, no need to wait for the pod cache. */
  synced: boolean;
  lastSyncEnd: number;
}

/** workerBackOffPeriod: a failed sync is retried after 10 s (jittered by up to half). */
const ERROR_BACKOFF_MS = 10_000;

/**
 * Between a watch event and SyncPod a real kubelet passes the reflector's
 * DeltaFIFO, the config channel, the sync loop and pod admission: a few to a
 * few tens of milliseconds (kubernetes-traces.md §7 A3 puts binding→syncPod at
 * 20–300 ms). Without it a simulated syncPod can start before the apiserver has
 * even finished the binding whose watch event started it, a tell (§10.11).
 */
export const ADMISSION_DELAY_MS = { min: 10, max: 30 } as const;

const PRIORITY: Readonly<Record<UpdateType, number>> = { sync: 0, update: 1, create: 2, kill: 3 };

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  /** Pods this node finished with; a late watch event about one must not start it again. */
  private readonly finished = new Set<string>();
  private closed = false;
  readonly stats = { syncs: 0, syncErrors: 0, terminated: 0 };

  constructor(
    private readonly n: NodeContext,
    private readonly wheel: TimerWheel,
    private readonly random: Rand,
    private readonly opts: { errorBackoffMs?: number; admissionDelayMs?: { min: number; max: number } } = {},
  ) {}

  get size(): number {
    return this.workers.size;
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  stateOf(uid: string): WorkerState | undefined {
    return this.workers.get(uid)?.state;
  }

  uids(): string[] {
    return [...this.workers.keys()];
  }

  /** A pod bound to this node appeared (watch ADDED or the initial list). */
  add(pod: Pod): void {
    const uid = pod.metadata.uid as string;
    if (this.finished.has(uid)) return;
    if (this.workers.has(uid)) return this.update(pod, true);
    const record: PodRecord = { pod, uid, seen: new Date(), reasons: new Map(), backoffs: new Map(), sandboxConfig: undefined, deleting: !!pod.metadata.deletionTimestamp, removed: false };
    const w: Worker = { record, state: 'syncing', queue: [], busy: false, synced: false, lastSyncEnd: 0 };
    this.workers.set(uid, w);
    const phase = pod.status?.phase;
    // A pod already finished or being deleted when first seen (a kubelet restart) is not started again.
    if (record.deleting) this.dispatch(w, 'deletion-requested');
    else if (phase === 'Succeeded' || phase === 'Failed') this.dispatch(w, 'completed');
    else {
      const { min, max } = this.opts.admissionDelayMs ?? ADMISSION_DELAY_MS;
      // One short-lived timer per new pod; anything that happens to the pod meanwhile queues behind the create.
      w.busy = true;
      setTimeout(() => {
        w.busy = false;
        if (w.state === 'syncing' && !w.queue.some((q) => q.work === 'syncPod')) w.queue.unshift({ work: 'syncPod', updateType: 'create' });
        void this.drain(w);
      }, min + (max - min) * this.random());
    }
  }

  /** The pod changed in the API. Status-only changes (our own PATCHes echoed back) are not a reason to sync. */
  update(pod: Pod, specChanged: boolean): void {
    const w = this.workers.get(pod.metadata.uid as string);
    if (!w) return this.add(pod);
    if (w.state === 'finished') return;
    w.record.pod = pod;
    if (pod.metadata.deletionTimestamp && !w.record.deleting) {
      w.record.deleting = true;
      this.dispatch(w, 'deletion-requested');
    } else if (specChanged) this.dispatch(w, 'update', 'update');
  }

  /** The pod is gone from the API. */
  remove(uid: string): void {
    const w = this.workers.get(uid);
    if (!w) return;
    w.record.removed = true;
    this.dispatch(w, w.state === 'terminated' ? 'deleted' : 'removed');
  }

  /** A PLEG event, a resync or a retry: sync if the pod is still syncing. */
  sync(uid: string): void {
    const w = this.workers.get(uid);
    if (w) this.dispatch(w, 'update', 'sync');
  }

  close(): void {
    this.closed = true;
  }

  private dispatch(w: Worker, event: WorkerEvent, updateType: UpdateType = 'sync'): void {
    if (this.closed) return;
    const step = nextStep(w.state, event, w.record.deleting || w.record.removed);
    if (step.to !== w.state) {
      w.state = step.to;
      // Leaving `syncing` drops syncs not yet started: termination wins.
      if (step.to !== 'syncing') w.queue = w.queue.filter((q) => q.work !== 'syncPod');
    }
    if (step.work === 'none') return;
    const queued = step.work === 'syncPod' ? w.queue.find((q) => q.work === 'syncPod') : undefined;
    if (queued) {
      if (PRIORITY[updateType] > PRIORITY[queued.updateType]) queued.updateType = updateType;
    } else w.queue.push({ work: step.work, updateType: w.synced ? updateType : 'create' });
    void this.drain(w);
  }

  private async drain(w: Worker): Promise<void> {
    if (w.busy) return;
    w.busy = true;
    try {
      for (let item = w.queue.shift(); item && !this.closed; item = w.queue.shift()) await this.run(w, item.work, item.updateType);
    } finally {
      w.busy = false;
    }
  }

  private key(w: Worker): string {
    return `${this.n.spec.name}/pod/${w.record.uid}`;
  }

  private requeue(w: Worker, at: number): void {
    this.wheel.schedule(this.key(w), at, () => this.sync(w.record.uid));
  }

  private async run(w: Worker, work: Work, updateType: UpdateType): Promise<void> {
    const n = this.n;
    const r = w.record;
    try {
      switch (work) {
        case 'syncPod': {
          // Later syncs work from a pod cache newer than the previous sync (podCache.GetNewerThan).
          if (w.synced) await n.pleg.newerThan(w.lastSyncEnd);
          if (w.state !== 'syncing' || this.closed) return;
          this.stats.syncs++;
          const result = await syncPod(n, r, w.synced ? updateType : 'create', n.pleg.get(r.uid));
          w.synced = true;
          w.lastSyncEnd = Date.now();
          if (result.terminal) return this.dispatch(w, 'completed');
          const jitter = (ms: number): number => ms * (1 + 0.5 * this.random());
          if (result.error) this.stats.syncErrors++;
          const next = result.error
            ? w.lastSyncEnd + jitter(this.opts.errorBackoffMs ?? ERROR_BACKOFF_MS)
            : w.lastSyncEnd + jitter(n.cfg.syncFrequencyMs);
          this.requeue(w, Math.min(next, result.retryAt ?? Infinity));
          return;
        }
        case 'syncTerminatingPod':
          this.wheel.cancel(this.key(w));
          await n.pleg.newerThan(w.lastSyncEnd);
          await syncTerminatingPod(n, r, n.pleg.get(r.uid));
          return this.dispatch(w, 'stopped');
        case 'syncTerminatedPod':
          syncTerminatedPod(n, r);
          this.stats.terminated++;
          return this.dispatch(w, 'cleaned');
        case 'deletePod':
          if (!r.removed) await n.status.deletePod(r.pod, n.status.get(r.uid) ?? r.pod.status ?? {});
          return this.dispatch(w, 'deleted');
        case 'removeRuntimePod':
          await removeRuntimePod(n, r);
          this.workers.delete(r.uid);
          this.finished.add(r.uid);
          // Bounded: uids are never reused, and late events come within seconds.
          if (this.finished.size > 10_000) this.finished.delete(this.finished.values().next().value as string);
          n.status.forget(r.uid);
          return;
        case 'none':
          return;
      }
    } catch (err) {
      // Nothing a sync does may stop the worker: log it and try the same step again later.
      n.log.error('pod_workers.go:1297', 'Error syncing pod, skipping', { pod: `${r.pod.metadata.namespace}/${r.pod.metadata.name}`, podUID: r.uid, err: err instanceof Error ? err.message : String(err) });
      const retry = (): void => {
        w.queue.push({ work, updateType });
        void this.drain(w);
      };
      this.wheel.schedule(`${this.key(w)}/retry`, Date.now() + (this.opts.errorBackoffMs ?? ERROR_BACKOFF_MS), retry);
    }
  }
}
