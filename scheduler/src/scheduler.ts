import { isConflict, isNotFound, type KubeClient, type KubeObject, type Node, type Pod } from '../../shared/src/index.js';
import { Informer } from '../../shared/src/informer.js';
import type { Klog } from '../../shared/src/klog.js';
import { binding, bindingTraceparent, needsScheduling, occupiesNode, podKey, schedulerEvent, unschedulablePatch, type TraceMode } from './objects.js';
import { pickNode } from './pick-node.js';
import { DEFAULT_QUEUE_OPTIONS, SchedulingQueue, type QueueOptions } from './queue.js';
import { addPod, podRequests, removePod, type NodeUsage, type Requests } from './resources.js';

export interface SchedulerOptions {
  readonly client: KubeClient;
  readonly traceMode: TraceMode;
  /** Tie-breaks among equally good nodes; seeded by main so a run can be replayed. */
  readonly random: () => number;
  readonly log: Klog;
  /** Post Scheduled / FailedScheduling events. */
  readonly recordEvents: boolean;
  /** reportingInstance of the events: `default-scheduler-<hostname>`. */
  readonly instance: string;
  readonly queue?: Partial<Omit<QueueOptions, 'now'>>;
}

interface Placed {
  readonly node: string;
  readonly req: Requests;
}

/**
 * The scheduling loop: one informer over all pods (pending ones feed the
 * queue, assigned ones the node usage) and one over nodes; pods are placed
 * one at a time and bound asynchronously, counted on their node ("assumed")
 * from the moment the binding is sent, as kube-scheduler's cache does.
 */
export class Scheduler {
  private readonly nodes = new Map<string, Node>();
  private readonly placed = new Map<string, Placed>();
  private readonly usage = new Map<string, NodeUsage>();
  private readonly queue: SchedulingQueue;
  private readonly pods: Informer<Pod>;
  private readonly nodeInformer: Informer<Node>;
  private readonly lastFailure = new Map<string, string>();
  private readonly inflight = new Set<Promise<void>>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped = false;
  private nanos = 0n;
  readonly stats = { bound: 0, bindErrors: 0, unschedulable: 0 };

  constructor(private readonly o: SchedulerOptions) {
    this.queue = new SchedulingQueue({ ...DEFAULT_QUEUE_OPTIONS, ...o.queue, now: Date.now });
    const log = (msg: string): void => o.log.error('reflector.go:158', msg);
    this.pods = new Informer<Pod>({
      client: o.client,
      path: '/api/v1/pods',
      // kube-scheduler's pod informer: finished pods neither need a node nor occupy one.
      fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
      log,
      handlers: {
        onAdd: (p) => this.podChanged(p),
        onUpdate: (_old, p) => this.podChanged(p),
        onDelete: (p) => this.podGone(p),
        onSynced: () => this.kick(),
      },
    });
    this.nodeInformer = new Informer<Node>({
      client: o.client,
      path: '/api/v1/nodes',
      log,
      handlers: {
        onAdd: (n) => this.nodeChanged(n),
        onUpdate: (old, n) => this.nodeChanged(n, old),
        onDelete: (n) => this.nodes.delete(n.metadata.name ?? ''),
        onSynced: () => this.kick(),
      },
    });
  }

  start(): void {
    this.nodeInformer.start();
    this.pods.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await Promise.all([this.pods.stop(), this.nodeInformer.stop()]);
    await Promise.allSettled([...this.inflight]);
  }

  /** Node name → pods counted on it, for tests and logs. */
  usageOf(node: string): NodeUsage | undefined {
    return this.usage.get(node);
  }

  private place(uid: string, node: string, req: Requests): void {
    if (this.placed.has(uid)) return;
    this.placed.set(uid, { node, req });
    this.usage.set(node, addPod(this.usage.get(node) ?? { pods: 0, cpu: 0, memory: 0, ephemeralStorage: 0, nonzeroCpu: 0, nonzeroMemory: 0 }, req));
  }

  private unplace(uid: string): void {
    const p = this.placed.get(uid);
    if (!p) return;
    this.placed.delete(uid);
    const u = this.usage.get(p.node);
    if (u) this.usage.set(p.node, removePod(u, p.req));
    // Room on a node: pods that did not fit may now (AssignedPodDelete).
    this.queue.moveAllToActiveOrBackoff();
    this.kick();
  }

  private podChanged(pod: Pod): void {
    const uid = pod.metadata.uid ?? podKey(pod);
    if (occupiesNode(pod)) {
      this.queue.done(uid);
      this.place(uid, pod.spec.nodeName as string, podRequests(pod));
    } else if (pod.spec.nodeName) {
      this.unplace(uid);
    } else if (needsScheduling(pod)) {
      // Once a binding is on its way the pod is placed; a late event still showing it unassigned changes nothing.
      if (this.placed.has(uid)) return;
      this.queue.add(uid, pod);
      this.kick();
    } else {
      this.queue.delete(uid);
    }
  }

  private podGone(pod: Pod): void {
    const uid = pod.metadata.uid ?? podKey(pod);
    this.queue.delete(uid);
    this.lastFailure.delete(uid);
    this.unplace(uid);
  }

  private nodeChanged(node: Node, old?: Node): void {
    this.nodes.set(node.metadata.name ?? '', node);
    // Heartbeat-only updates change nothing the filters read.
    if (old && JSON.stringify(schedulingView(old)) === JSON.stringify(schedulingView(node))) return;
    this.queue.moveAllToActiveOrBackoff();
    this.kick();
  }

  /** Drains activeQ on a later tick, so a burst of watch events is handled in one pass. */
  private kick(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.draining = false;
    if (this.stopped || !this.pods.hasSynced || !this.nodeInformer.hasSynced) return;
    this.queue.flush();
    // A bounded batch per tick keeps watch events and binding replies flowing under load.
    let more = false;
    for (let i = 0; i < 256; i++) {
      const next = this.queue.pop();
      if (!next) break;
      try {
        this.scheduleOne(next.uid, next.pod);
      } catch (err) {
        // One odd pod must not stop the loop: it goes back with a back-off.
        this.o.log.error('schedule_one.go:1032', 'Error scheduling pod; retrying', { pod: podKey(next.pod), err: String(err) });
        this.queue.error(next.uid);
      }
      more = i === 255;
    }
    this.armWake();
    if (more) this.kick();
  }

  private armWake(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const at = this.queue.nextWakeAt();
    if (at === undefined) return;
    this.wakeTimer = setTimeout(() => this.kick(), Math.max(10, at - Date.now()));
    this.wakeTimer.unref();
  }

  private scheduleOne(uid: string, pod: Pod): void {
    const result = pickNode(pod, [...this.nodes.values()], this.usage, this.o.random);
    if (result.node === undefined) {
      this.stats.unschedulable++;
      this.queue.unschedulable(uid);
      this.o.log.v(2, 'schedule_one.go:1055', 'Unable to schedule pod; no fit; waiting', { pod: podKey(pod), err: result.message });
      this.recordFailure(uid, pod, result.message);
      return;
    }
    this.place(uid, result.node, podRequests(pod));
    this.track(this.bind(uid, pod, result.node, result.feasible));
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async bind(uid: string, pod: Pod, node: string, feasible: number): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const traceparent = bindingTraceparent(pod, this.o.traceMode);
    try {
      await this.o.client.create(`/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/binding`, binding(pod, node), {
        ...(traceparent ? { headers: { traceparent } } : {}),
      });
    } catch (err) {
      this.stats.bindErrors++;
      this.placed.delete(uid);
      const u = this.usage.get(node);
      if (u) this.usage.set(node, removePod(u, podRequests(pod)));
      if (isNotFound(err) || isConflict(err) || (err as { code?: number }).code === 409) {
        // Deleted meanwhile, or bound by someone else: nothing left to do.
        this.queue.done(uid);
        return;
      }
      this.o.log.error('schedule_one.go:1032', 'Error scheduling pod; retrying', { pod: podKey(pod), err: String(err) });
      this.queue.error(uid);
      this.armWake();
      return;
    }
    this.stats.bound++;
    this.queue.done(uid);
    this.lastFailure.delete(uid);
    this.o.log.v(2, 'schedule_one.go:314', 'Successfully bound pod to node', { pod: podKey(pod), node, evaluatedNodes: this.nodes.size, feasibleNodes: feasible });
    if (this.o.recordEvents) {
      this.postEvent(pod, { type: 'Normal', reason: 'Scheduled', action: 'Binding', message: `Successfully assigned ${podKey(pod)} to ${node}` });
    }
  }

  /** FailedScheduling: the event once per distinct message, and the PodScheduled=False condition. */
  private recordFailure(uid: string, pod: Pod, message: string): void {
    if (this.lastFailure.get(uid) === message) return;
    this.lastFailure.set(uid, message);
    if (this.o.recordEvents) this.postEvent(pod, { type: 'Warning', reason: 'FailedScheduling', action: 'Scheduling', message });
    const patch = unschedulablePatch(pod, message, new Date());
    if (!patch) return;
    const path = `/api/v1/namespaces/${pod.metadata.namespace ?? 'default'}/pods/${pod.metadata.name}/status`;
    this.track(
      this.o.client.patch(path, 'strategic', patch).then(
        () => undefined,
        (err: unknown) => {
          if (!isNotFound(err)) this.o.log.error('schedule_one.go:1098', 'Error updating pod', { pod: podKey(pod), err: String(err) });
        },
      ),
    );
  }

  private postEvent(pod: Pod, e: Parameters<typeof schedulerEvent>[1]): void {
    const now = new Date();
    const base = BigInt(now.getTime()) * 1_000_000n;
    this.nanos = this.nanos >= base ? this.nanos + 1n : base;
    const ev: KubeObject = schedulerEvent(pod, e, this.o.instance, now, this.nanos);
    this.track(
      this.o.client.create(`/api/v1/namespaces/${pod.metadata.namespace ?? 'default'}/events`, ev).then(
        () => undefined,
        (err: unknown) => this.o.log.v(2, 'event_broadcaster.go:253', 'Server rejected event (will not retry!)', { reason: e.reason, err: String(err) }),
      ),
    );
  }
}

/** The parts of a Node the filters read; anything else changing is not a reason to retry pods. */
function schedulingView(n: Node): unknown {
  return {
    labels: n.metadata.labels,
    unschedulable: n.spec?.unschedulable,
    taints: n.spec?.taints,
    allocatable: n.status?.allocatable,
    ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status,
  };
}
