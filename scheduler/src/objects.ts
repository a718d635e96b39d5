import type { KubeObject, Pod } from '../../shared/src/index.js';

/**
 * The objects kube-scheduler writes, built by pure functions: the Binding, the
 * FailedScheduling status patch, and the Scheduled/FailedScheduling events.
 */

export const SCHEDULER_NAME = 'default-scheduler';

/** The annotation the apiserver adds to each created pod in story mode. */
export const TRACEPARENT_ANNOTATION = 'trace.k8s-trace-sim.io/traceparent';

export type TraceMode = 'story' | 'faithful';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The traceparent header for the binding POST. kube-scheduler is not traced,
 * so in faithful mode it sends none; story mode forwards the pod's
 * annotation, which a 1.33+ apiserver honours because the scheduler's
 * credentials are in system:masters. A malformed value is not forwarded.
 */
export function bindingTraceparent(pod: Pod, mode: TraceMode): string | undefined {
  if (mode !== 'story') return undefined;
  const v = pod.metadata.annotations?.[TRACEPARENT_ANNOTATION]?.trim();
  return v !== undefined && TRACEPARENT.test(v) ? v : undefined;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}

/** Pods this scheduler is responsible for: ours by name, unassigned, not being deleted, not finished. */
export function needsScheduling(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return (
    (pod.spec.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    !pod.spec.nodeName &&
    !pod.metadata.deletionTimestamp &&
    phase !== 'Succeeded' &&
    phase !== 'Failed'
  );
}

/** Pods that occupy a node: assigned and not in a terminal phase. */
export function occupiesNode(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.spec.nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}

export function binding(pod: Pod, node: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace ?? 'default', ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
    target: { apiVersion: 'v1', kind: 'Node', name: node },
  };
}

/**
 * The PodScheduled=False condition patch (util.PatchPodStatus), or undefined
 * when the pod already carries this exact condition, which kube-scheduler
 * does not rewrite.
 */
export function unschedulablePatch(pod: Pod, message: string, now: Date): object | undefined {
  const current = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (current && current.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return undefined;
  const transition = current?.status === 'False' && current.lastTransitionTime ? current.lastTransitionTime : rfc3339(now);
  return {
    metadata: { uid: pod.metadata.uid },
    status: {
      conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: transition, reason: 'Unschedulable', message }],
    },
  };
}

/** metav1.Time: seconds precision. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

/**
 * An Event as kube-scheduler's events.k8s.io recorder stores it, posted
 * through core/v1 (what the simulated apiserver serves): eventTime set, the
 * legacy timestamps empty, named `<pod>.<unix nanos in hex>` like client-go.
 */
export function schedulerEvent(
  pod: Pod,
  e: { type: 'Normal' | 'Warning'; reason: string; action: string; message: string },
  instance: string,
  now: Date,
  /** Unix nanoseconds for the name; the caller keeps them unique. */
  nanos: bigint = BigInt(now.getTime()) * 1_000_000n,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata.name}.${nanos.toString(16)}`, namespace: pod.metadata.namespace ?? 'default' },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.metadata.name,
      namespace: pod.metadata.namespace ?? 'default',
      uid: pod.metadata.uid,
      resourceVersion: pod.metadata.resourceVersion,
    },
    reason: e.reason,
    message: e.message,
    source: {},
    firstTimestamp: null,
    lastTimestamp: null,
    type: e.type,
    eventTime: microTime(now),
    action: e.action,
    reportingComponent: SCHEDULER_NAME,
    reportingInstance: instance,
  };
}
