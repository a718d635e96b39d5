import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import type { GrpcClientTracing } from '../../shared/src/index.js';
import type { Klog } from '../../shared/src/klog.js';
import { criErrorText, isCriNotFound, type CriClient } from './cri-client.js';
import {
  containerRecord,
  LABEL,
  podStatusOf,
  relistEntries,
  relistEvents,
  sandboxRecord,
  type CriContainer,
  type CriContainerStatus,
  type CriSandbox,
  type CriSandboxStatus,
  type PlegEvent,
  type RelistEntry,
  type RuntimePodStatus,
} from './runtime-status.js';

/**
 * The generic PLEG and the pod cache of one node: every second it lists
 * sandboxes and containers (background: each call its own root span),
 * compares with the last relist, re-reads the status of every pod that
 * changed (ListPodSandbox, PodSandboxStatus, ListContainers, ContainerStatus)
 * and tells the pod workers. Syncs after the first wait for a relist newer
 * than their previous run, as podCache.GetNewerThan makes them.
 */
export interface PlegOptions {
  readonly cri: CriClient;
  readonly tracing: GrpcClientTracing | undefined;
  /** Whether relist number n (from 0) gets spans, its status reads included; every one when absent. */
  readonly traceRelist?: (n: number) => boolean;
  /** The parent of an untraced relist's calls (an unsampled one). */
  readonly untracedContext?: () => Context;
  /** Restricts lists to this node's own sandboxes when several nodes share the runtime. */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly relistMs: number;
  readonly log: Klog;
  readonly onEvents: (events: readonly PlegEvent[], present: ReadonlySet<string>) => void;
}

export class Pleg {
  private prev = new Map<string, RelistEntry>();
  private readonly cache = new Map<string, RuntimePodStatus>();
  private readonly reinspect = new Set<string>();
  private cacheTime = 0;
  private waiters: Array<{ after: number; resolve: () => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private attempts = 0;
  relists = 0;

  constructor(private readonly o: PlegOptions) {}

  get(uid: string): RuntimePodStatus | undefined {
    return this.cache.get(uid);
  }

  set(uid: string, status: RuntimePodStatus): void {
    this.cache.set(uid, status);
  }

  delete(uid: string): void {
    this.cache.delete(uid);
  }

  /** Resolves once a relist that started after `after` (ms) has updated the cache, or at stop. */
  newerThan(after: number): Promise<void> {
    if (this.cacheTime > after || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ after, resolve }));
  }

  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      // A relist never takes the process down: whatever it throws is logged and the next one runs.
      this.running = this.relist()
        .catch((err: unknown) => this.o.log.error('generic.go:238', 'GenericPLEG: relist failed', { err: err instanceof Error ? err.message : String(err) }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.o.relistMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    await this.running;
  }

  private filter(extra: Record<string, string> = {}): { filter: object } {
    return { filter: { id: '', state: null, labelSelector: { ...this.o.selector, ...extra } } };
  }

  /** kubeGenericRuntimeManager.GetPodStatus: the pod's sandboxes and containers, newest first. */
  async podStatus(uid: string, ctx: Context = ROOT_CONTEXT): Promise<RuntimePodStatus> {
    const { cri, tracing: t } = this.o;
    const sel = { [LABEL.podUid]: uid };
    const boxes = await cri.runtime<{ items: CriSandbox[] }>('ListPodSandbox', this.filter(sel), t, ctx);
    const sandboxes = [];
    for (const b of [...boxes.items].sort((x, y) => Number(BigInt(y.createdAt) - BigInt(x.createdAt)))) {
      try {
        const r = await cri.runtime<{ status: CriSandboxStatus }>('PodSandboxStatus', { podSandboxId: b.id, verbose: false }, t, ctx);
        sandboxes.push(sandboxRecord(r.status));
      } catch (err) {
        // Removed between the list and the status call: that is normal, not an error.
        if (!isCriNotFound(err)) throw err;
      }
    }
    const list = await cri.runtime<{ containers: CriContainer[] }>('ListContainers', { filter: { id: '', state: null, podSandboxId: '', labelSelector: { ...this.o.selector, ...sel } } }, t, ctx);
    const containers = [];
    for (const c of list.containers) {
      try {
        const r = await cri.runtime<{ status: CriContainerStatus }>('ContainerStatus', { containerId: c.id, verbose: false }, t, ctx);
        containers.push(containerRecord(r.status));
      } catch (err) {
        if (!isCriNotFound(err)) throw err;
      }
    }
    return podStatusOf(uid, sandboxes, containers);
  }

  private async relist(): Promise<void> {
    const started = Date.now();
    const { cri, tracing: t } = this.o;
    const traced = this.o.traceRelist?.(this.attempts++) ?? true;
    const ctx = traced ? ROOT_CONTEXT : (this.o.untracedContext?.() ?? ROOT_CONTEXT);
    let curr: Map<string, RelistEntry>;
    try {
      const boxes = await cri.runtime<{ items: CriSandbox[] }>('ListPodSandbox', this.o.selector ? this.filter() : {}, t, ctx);
      const ctrs = await cri.runtime<{ containers: CriContainer[] }>(
        'ListContainers',
        { filter: { id: '', state: null, podSandboxId: '', labelSelector: { ...this.o.selector } } },
        t,
        ctx,
      );
      curr = relistEntries(boxes.items, ctrs.containers);
    } catch (err) {
      this.o.log.error('generic.go:238', 'GenericPLEG: Unable to retrieve pods', { err: criErrorText(err) });
      return;
    }
    this.relists++;
    const events = relistEvents(this.prev, curr);
    this.prev = curr;
    const present = new Set([...curr.values()].map((e) => e.uid));
    const changed = new Set([...events.map((e) => e.uid), ...this.reinspect]);
    this.reinspect.clear();
    for (const uid of changed) {
      if (this.stopped) return;
      if (!present.has(uid)) {
        this.cache.delete(uid);
        continue;
      }
      try {
        this.cache.set(uid, await this.podStatus(uid, ctx));
      } catch (err) {
        // Try again on the next relist, as needsReinspection does.
        this.reinspect.add(uid);
        this.o.log.error('generic.go:295', 'PLEG: Ignoring events for pod', { podUID: uid, err: criErrorText(err) });
      }
    }
    this.cacheTime = started;
    const ready = this.waiters.filter((w) => started > w.after);
    this.waiters = this.waiters.filter((w) => started <= w.after);
    for (const w of ready) w.resolve();
    this.o.onEvents(events, present);
  }
}
