import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';

/**
 * The traffic a kubelet makes when no pod is changing (kubernetes-traces.md
 * §5, §10 tell 13): PLEG relists, runtime and image housekeeping, the lease,
 * node status, events, and on the control-plane node the prober's health
 * checks of the apiserver's static pod. `--background-traffic` turns it down
 * for demos: `low` traces a tenth of the relists and probes a tenth as
 * often; `off` leaves no background span at all. The calls the kubelet needs
 * to work (relists that notice exits, lease renewals, node status) still
 * happen in `off`, only untraced: a node that stopped renewing its lease
 * would go NotReady. Untraced CRI calls carry an unsampled parent, so the
 * runtime stays quiet as well; apiserver requests carry none (the apiserver
 * does not adopt a kubelet's parent anyway, and samples its own roots).
 */

export type BackgroundTraffic = 'full' | 'low' | 'off';

export const BACKGROUND_TRAFFIC: readonly BackgroundTraffic[] = ['full', 'low', 'off'];

/**
 * kubeadm's probes on the kube-apiserver static pod (controlplane manifests):
 * liveness GET /livez every 10 s, readiness GET /readyz every 1 s, both over
 * HTTPS to the advertise address and port, 15 s timeout.
 */
export const APISERVER_PROBES = [
  { path: '/livez', periodMs: 10_000 },
  { path: '/readyz', periodMs: 1000 },
] as const;

export const PROBE_TIMEOUT_MS = 15_000;

export interface BackgroundPlan {
  /** Whether housekeeping calls (runtime Status, images, lease, node status, events, informer) get spans. */
  readonly traced: boolean;
  /** Every how many relists one is traced; 0 traces none. */
  readonly relistTraceEvery: number;
  /** The probes the control-plane node runs, with their periods. */
  readonly probes: ReadonlyArray<{ readonly path: string; readonly periodMs: number }>;
}

export function backgroundPlan(mode: BackgroundTraffic, probes: BackgroundPlan['probes'] = APISERVER_PROBES): BackgroundPlan {
  switch (mode) {
    case 'full':
      return { traced: true, relistTraceEvery: 1, probes };
    case 'low':
      return { traced: true, relistTraceEvery: 10, probes: probes.map((p) => ({ ...p, periodMs: p.periodMs * 10 })) };
    case 'off':
      return { traced: false, relistTraceEvery: 0, probes: [] };
  }
}

/** Whether relist number `n` (counting from 0) is traced. */
export function relistTraced(plan: BackgroundPlan, n: number): boolean {
  return plan.relistTraceEvery > 0 && n % plan.relistTraceEvery === 0;
}

/**
 * The context an untraced background CRI call runs under: a parent whose
 * sampler said no. otelgrpc then sends `traceparent: …-00`, as a real kubelet
 * does for a call its sampler dropped, and a ParentBased runtime (containerd
 * 2.x's ParentBased(AlwaysOn)) drops its server span too; with no traceparent
 * at all that runtime would start a root span for every relist.
 */
export function unsampledContext(): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.NONE });
}
