import type { Pod } from '../../shared/src/index.js';
import type { Klog } from '../../shared/src/klog.js';
import type { NodeApi } from './kube-api.js';
import { apiTime } from './pod-status.js';

/**
 * One node's event recorder (client-go record.EventBroadcaster as the
 * kubelet wires it): core/v1 Events posted in the background, each its own
 * root `HTTP POST`, limited by --event-qps/--event-burst, and a repeat of the
 * same event within ten minutes counted on the existing object with a PATCH
 * (the EventCorrelator's aggregation, simplified).
 */

export interface EventSpec {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  /** `spec.containers{nginx}` for container events. */
  readonly fieldPath?: string;
}

/** The Event object as the kubelet's recorder creates it. */
export function eventObject(pod: Pod, e: EventSpec, node: string, name: string, now: Date): Record<string, unknown> {
  const t = apiTime(now);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: pod.metadata.namespace ?? 'default' },
    involvedObject: {
      kind: 'Pod',
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      apiVersion: 'v1',
      ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
      ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}),
    },
    reason: e.reason,
    message: e.message,
    source: { component: 'kubelet', host: node },
    firstTimestamp: t,
    lastTimestamp: t,
    count: 1,
    type: e.type,
    eventTime: null,
    reportingComponent: 'kubelet',
    reportingInstance: node,
  };
}

/** A token bucket: `qps` tokens a second up to `burst`; qps 0 is unlimited. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    if (this.qps <= 0) return true;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const AGGREGATE_WINDOW_MS = 10 * 60_000;
const CACHE_LIMIT = 4096;

export class EventRecorder {
  private readonly bucket: TokenBucket;
  private readonly seen = new Map<string, { name: string; namespace: string; count: number; at: number }>();
  private nanos = 0n;
  dropped = 0;

  constructor(
    private readonly api: NodeApi,
    private readonly node: string,
    qps: number,
    burst: number,
    private readonly log: Klog,
    private readonly enabled = true,
  ) {
    this.bucket = new TokenBucket(qps, burst);
  }

  event(pod: Pod, e: EventSpec): void {
    if (!this.enabled) return;
    if (!this.bucket.take()) {
      this.dropped++;
      return;
    }
    const now = new Date();
    const key = [pod.metadata.uid, e.fieldPath ?? '', e.type, e.reason, e.message].join('\u0000');
    const prior = this.seen.get(key);
    const ns = pod.metadata.namespace ?? 'default';
    if (prior && now.getTime() - prior.at < AGGREGATE_WINDOW_MS) {
      prior.count++;
      prior.at = now.getTime();
      const body = { count: prior.count, lastTimestamp: apiTime(now), message: e.message };
      void this.api.patch(`/api/v1/namespaces/${prior.namespace}/events/${prior.name}`, 'strategic', body).catch((err: unknown) => this.failed(e, err));
      return;
    }
    const base = BigInt(now.getTime()) * 1_000_000n;
    this.nanos = this.nanos >= base ? this.nanos + 1n : base;
    const name = `${pod.metadata.name}.${this.nanos.toString(16)}`;
    if (this.seen.size >= CACHE_LIMIT) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, { name, namespace: ns, count: 1, at: now.getTime() });
    void this.api.create(`/api/v1/namespaces/${ns}/events`, eventObject(pod, e, this.node, name, now)).catch((err: unknown) => this.failed(e, err));
  }

  private failed(e: EventSpec, err: unknown): void {
    this.log.v(2, 'event.go:368', 'Server rejected event (will not retry!)', { reason: e.reason, err: err instanceof Error ? err.message : String(err) });
  }
}
