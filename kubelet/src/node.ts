import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import type { KubeClient, Pod } from '../../shared/src/index.js';
import { Informer } from '../../shared/src/informer.js';
import type { Klog } from '../../shared/src/klog.js';
import type { Rand } from '../../shared/src/random.js';
import { backgroundPlan, relistTraced, unsampledContext, type BackgroundPlan } from './background.js';
import type { KubeletConfig, NodeSpec } from './config.js';
import { criErrorText, type CriClient } from './cri-client.js';
import { EventRecorder } from './events.js';
import { LeaseController } from './lease.js';
import type { NodeContext } from './node-context.js';
import { nodeImages, type RuntimeFacts } from './node-object.js';
import { NodeStatusReporter } from './node-status.js';
import { CRASH_LOOP_BACKOFF, type BackoffPolicy } from './pod-actions.js';
import { DEFAULT_DNS, NODE_LABEL } from './pod-config.js';
import { PodWorkers } from './pod-workers.js';
import { Pleg } from './pleg.js';
import { ApiserverProber } from './prober.js';
import { probeUserAgent } from './spans.js';
import { StatusManager } from './status-manager.js';
import type { NodeTracing } from './tracing.js';
import type { TimerWheel } from './wheel.js';

/**
 * One simulated node: a kubelet of its own (tracer provider, status manager,
 * PLEG, pod workers, lease, node status), sharing the process's apiserver
 * connection, CRI channel and timer wheel with the other nodes.
 */

/**
 * The background loops a kubelet runs next to its syncs, each call a root
 * span (kubernetes-traces.md §5) unless --background-traffic says otherwise.
 */
export const BACKGROUND_LOOPS = {
  /** updateRuntimeUp: runtime Status every 5 s; a runtime that is not ready makes the node NotReady. */
  runtimeStatusMs: 5000,
  /** The image manager refreshes its cache with ListImages every 30 s; node status lists the images. */
  imageListMs: 30_000,
  /** The eviction manager's 10 s housekeeping reads image filesystem stats (ImageFsInfo). */
  imageFsMs: 10_000,
  /** GenericPLEG relistPeriod. */
  relistMs: 1000,
} as const;

export interface NodeDeps {
  readonly spec: NodeSpec;
  readonly cfg: KubeletConfig;
  readonly cri: CriClient;
  readonly kube: KubeClient;
  readonly server: string;
  readonly tracing: NodeTracing;
  /** The node that hosts the control plane's static pods: its prober checks the apiserver. */
  readonly controlPlane?: boolean;
  readonly wheel: TimerWheel;
  readonly log: Klog;
  readonly random: Rand;
  /** Several nodes share the runtime: label and filter what each creates. */
  readonly sharedRuntime: boolean;
  readonly kernelVersion: string;
  readonly osImage: string;
  /** Tests shorten the restart back-off and retry delays. */
  readonly backoff?: BackoffPolicy;
  readonly errorBackoffMs?: number;
  readonly loops?: Partial<Record<keyof typeof BACKGROUND_LOOPS, number>>;
  readonly probes?: BackgroundPlan['probes'];
}

export class SimNode {
  readonly ctx: NodeContext;
  readonly workers: PodWorkers;
  readonly reporter: NodeStatusReporter;
  readonly lease: LeaseController;
  readonly prober: ApiserverProber | undefined;
  private readonly plan: BackgroundPlan;
  /** The parent of housekeeping CRI calls: none, or an unsampled one when background traffic is off. */
  private readonly bgCtx: () => Context;
  private readonly pods: Informer<Pod>;
  private readonly timers: NodeJS.Timeout[] = [];
  private runtimeReady = true;
  private facts: RuntimeFacts;
  private stopped = false;
  private readonly orphansHandled = new Set<string>();

  constructor(private readonly d: NodeDeps) {
    const api = d.kube.withTracing(d.tracing.http);
    this.plan = backgroundPlan(d.cfg.background, d.probes);
    const plan = this.plan;
    // Housekeeping still talks to the apiserver and the runtime when it is not traced: the same connections, no spans.
    const bgApi = plan.traced ? api : d.kube.withTracing(undefined);
    this.bgCtx = plan.traced ? () => ROOT_CONTEXT : unsampledContext;
    const loops = { ...BACKGROUND_LOOPS, ...d.loops };
    const status = new StatusManager(api, d.wheel, d.log, d.spec.name);
    const pleg = new Pleg({
      cri: d.cri,
      tracing: d.tracing.cri,
      traceRelist: (n) => relistTraced(plan, n),
      untracedContext: unsampledContext,
      selector: d.sharedRuntime ? { [NODE_LABEL]: d.spec.name } : undefined,
      relistMs: loops.relistMs,
      log: d.log,
      onEvents: (events, present) => this.onPleg(events.map((e) => e.uid), present),
    });
    this.ctx = {
      spec: d.spec,
      cfg: d.cfg,
      facts: { name: d.spec.name, labelSandboxes: d.sharedRuntime, ...DEFAULT_DNS },
      tracing: d.tracing,
      cri: d.cri,
      api,
      pleg,
      status,
      events: new EventRecorder(bgApi, d.spec.name, d.cfg.eventQps, d.cfg.eventBurst, d.log, d.cfg.recordEvents),
      log: d.log,
      backoff: d.backoff ?? CRASH_LOOP_BACKOFF,
    };
    this.workers = new PodWorkers(this.ctx, d.wheel, d.random, { ...(d.errorBackoffMs !== undefined ? { errorBackoffMs: d.errorBackoffMs } : {}) });
    this.facts = { containerRuntimeVersion: '', kernelVersion: d.kernelVersion, osImage: d.osImage, runtimeHandlers: [], features: {}, images: [] };
    this.reporter = new NodeStatusReporter(bgApi, d.spec, d.cfg, () => this.facts, () => this.runtimeReady, d.log);
    this.lease = new LeaseController(bgApi, d.spec.name, () => this.reporter.uid, d.cfg.nodeLeaseDurationSeconds, d.log);
    this.prober =
      d.controlPlane && plan.probes.length > 0
        ? new ApiserverProber({ server: d.server, probes: plan.probes, userAgent: probeUserAgent(d.cfg.profile), log: d.log, random: d.random })
        : undefined;
    this.pods = new Informer<Pod>({
      client: bgApi,
      path: '/api/v1/pods',
      fieldSelector: `spec.nodeName=${d.spec.name}`,
      log: (msg) => d.log.error('reflector.go:158', msg),
      handlers: {
        onAdd: (p) => this.workers.add(p),
        onUpdate: (old, p) => this.workers.update(p, specChanged(old, p)),
        onDelete: (p) => this.workers.remove(p.metadata.uid as string),
      },
    });
  }

  get name(): string {
    return this.d.spec.name;
  }

  get podsSynced(): boolean {
    return this.pods.hasSynced;
  }

  /** Version and Status first, then everything runs in the background; resolves once the node is registered. */
  async start(): Promise<void> {
    const { cri } = this.d;
    const loops = { ...BACKGROUND_LOOPS, ...this.d.loops };
    try {
      const v = await cri.runtime<{ runtimeName: string; runtimeVersion: string }>('Version', { version: '0.1.0' }, this.d.tracing.cri, this.bgCtx());
      this.facts = { ...this.facts, containerRuntimeVersion: `${v.runtimeName}://${v.runtimeVersion.replace(/^v/, '')}` };
    } catch (err) {
      this.d.log.error('kuberuntime_manager.go:292', 'Get runtime version failed', { err: criErrorText(err) });
    }
    await this.runtimeStatus();
    await this.listImages();
    this.ctx.pleg.start();
    this.pods.start();
    this.prober?.start();
    const every = (ms: number, fn: () => Promise<void>): void => {
      // Staggered, so fifty nodes do not all call at the same instant.
      const first = setTimeout(() => {
        if (this.stopped) return;
        void fn();
        const t = setInterval(() => void fn(), ms);
        t.unref();
        this.timers.push(t);
      }, this.d.random() * ms);
      first.unref();
      this.timers.push(first);
    };
    every(loops.runtimeStatusMs, () => this.runtimeStatus());
    every(loops.imageListMs, () => this.listImages());
    every(loops.imageFsMs, () => this.imageFs());
    every(this.d.cfg.nodeLeaseDurationSeconds * 250, () => this.lease.sync());
    every(this.d.cfg.nodeStatusUpdateFrequencyMs, () => (this.reporter.registered ? this.reporter.update() : this.registerOnce()));
    if (this.d.cfg.registerNode) await this.registerWithBackoff();
    await this.lease.sync();
  }

  private async registerOnce(): Promise<void> {
    if (this.d.cfg.registerNode) await this.reporter.register();
  }

  /** registerWithAPIServer: 100 ms doubling to 7 s between attempts, until it works or the node stops. */
  private async registerWithBackoff(): Promise<void> {
    let step = 100;
    while (!this.stopped && !(await this.reporter.register())) {
      await new Promise((r) => setTimeout(r, step));
      step = Math.min(step * 2, 7000);
    }
  }

  private async runtimeStatus(): Promise<void> {
    try {
      const res = await this.d.cri.runtime<{
        status: { conditions: Array<{ type: string; status: boolean }> } | null;
        runtimeHandlers: Array<{ name: string; features: Record<string, boolean> | null }>;
        features: Record<string, boolean> | null;
      }>('Status', { verbose: false }, this.d.tracing.cri, this.bgCtx());
      const cond = (type: string): boolean => res.status?.conditions.find((c) => c.type === type)?.status === true;
      this.runtimeReady = cond('RuntimeReady') && cond('NetworkReady');
      this.facts = {
        ...this.facts,
        runtimeHandlers: (res.runtimeHandlers ?? []).map((h) => ({ name: h.name, features: { ...h.features } })),
        features: { ...res.features },
      };
    } catch (err) {
      this.runtimeReady = false;
      this.d.log.error('kubelet.go:3061', 'Container runtime sanity check failed', { err: criErrorText(err) });
    }
  }

  private async listImages(): Promise<void> {
    try {
      const res = await this.d.cri.image<{ images: Array<{ repoTags: string[]; repoDigests: string[]; size: string }> }>('ListImages', { filter: null }, this.d.tracing.cri, this.bgCtx());
      this.facts = { ...this.facts, images: nodeImages(res.images) };
    } catch (err) {
      this.d.log.error('image_gc_manager.go:222', 'Failed to update image list', { err: criErrorText(err) });
    }
  }

  private async imageFs(): Promise<void> {
    await this.d.cri.image('ImageFsInfo', {}, this.d.tracing.cri, this.bgCtx()).catch((err: unknown) => {
      this.d.log.error('eviction_manager.go:290', 'Eviction manager: failed to get summary stats', { err: criErrorText(err) });
    });
  }

  private onPleg(uids: readonly string[], present: ReadonlySet<string>): void {
    for (const uid of new Set(uids)) this.workers.sync(uid);
    if (!this.pods.hasSynced) return;
    // HandlePodCleanups: what the runtime runs for pods this node does not know is torn down, once.
    for (const uid of present) {
      if (this.workers.has(uid) || this.orphansHandled.has(uid)) continue;
      this.orphansHandled.add(uid);
      void this.removeOrphan(uid);
    }
  }

  private async removeOrphan(uid: string): Promise<void> {
    const { cri, tracing } = this.d;
    const status = await this.ctx.pleg.podStatus(uid).catch(() => undefined);
    for (const c of status?.containers ?? []) {
      if (c.state === 'running') await cri.runtime('StopContainer', { containerId: c.id, timeout: '2' }, tracing.cri).catch(() => undefined);
      await cri.runtime('RemoveContainer', { containerId: c.id }, tracing.cri).catch(() => undefined);
    }
    for (const sb of status?.sandboxes ?? []) {
      await cri.runtime('StopPodSandbox', { podSandboxId: sb.id }, tracing.cri).catch(() => undefined);
      await cri.runtime('RemovePodSandbox', { podSandboxId: sb.id }, tracing.cri).catch(() => undefined);
    }
    this.ctx.pleg.delete(uid);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.workers.close();
    this.ctx.status.close();
    await Promise.all([this.pods.stop(), this.ctx.pleg.stop(), this.prober?.stop()]);
  }
}

/** podsDiffer: what makes an API update a sync (`update`) rather than a status echo (reconcile). */
export function specChanged(old: Pod, pod: Pod): boolean {
  const view = (p: Pod): string => JSON.stringify([p.spec, p.metadata.labels, p.metadata.annotations, p.metadata.deletionTimestamp, p.metadata.deletionGracePeriodSeconds]);
  return view(old) !== view(pod);
}
