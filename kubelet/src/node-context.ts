import { ROOT_CONTEXT, trace, type Context, type Span } from '@opentelemetry/api';
import { extractFromHeaders, type Pod } from '../../shared/src/index.js';
import type { Klog } from '../../shared/src/klog.js';
import type { KubeletConfig, NodeSpec } from './config.js';
import type { CriClient } from './cri-client.js';
import type { EventRecorder } from './events.js';
import type { NodeApi } from './kube-api.js';
import type { Backoff, BackoffPolicy } from './pod-actions.js';
import type { NodeFacts } from './pod-config.js';
import type { WaitingReason } from './pod-status.js';
import type { Pleg } from './pleg.js';
import { syncErrorOutcome, type GoError, type SpanShape } from './spans.js';
import type { StatusManager } from './status-manager.js';
import type { NodeTracing } from './tracing.js';

/** Everything a sync of one node needs: that node's clients, caches and tracing. */
export interface NodeContext {
  readonly spec: NodeSpec;
  readonly cfg: KubeletConfig;
  readonly facts: NodeFacts;
  readonly tracing: NodeTracing;
  readonly cri: CriClient;
  readonly api: NodeApi;
  readonly pleg: Pleg;
  readonly status: StatusManager;
  readonly events: EventRecorder;
  readonly log: Klog;
  readonly backoff: BackoffPolicy;
}

/** What the pod worker keeps for one pod between syncs. */
export interface PodRecord {
  pod: Pod;
  readonly uid: string;
  /** When the kubelet first saw the pod (kubernetes.io/config.seen). */
  readonly seen: Date;
  /** Why each container is not running, from the last sync (reasonCache). */
  readonly reasons: Map<string, WaitingReason>;
  readonly backoffs: Map<string, Backoff>;
  /** The PodSandboxConfig the sandbox was created with; CreateContainer sends it again. */
  sandboxConfig: Record<string, unknown> | undefined;
  deleting: boolean;
  removed: boolean;
}

export interface SyncResult {
  /** Every container is done and none will restart. */
  readonly terminal: boolean;
  readonly error?: GoError;
  /** When to try again, if sooner than the regular resync (a back-off ending). */
  readonly retryAt?: number;
}

/** Starts one of the kubelet's INTERNAL spans; the context carries it to the CRI calls beneath. */
export function startSpan(n: NodeContext, shape: SpanShape, parent: Context = ROOT_CONTEXT): { span: Span; ctx: Context } {
  const span = n.tracing.kubelet.startSpan(shape.name, { kind: shape.kind, attributes: shape.attributes }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

/** The parent a story-mode traceparent stands for. */
export function remoteParent(traceparent: string | undefined): Context {
  return traceparent ? extractFromHeaders({ traceparent }) : ROOT_CONTEXT;
}

export function endSpan(n: NodeContext, span: Span, err: GoError | undefined): void {
  if (err) {
    const outcome = syncErrorOutcome(n.cfg.profile, err);
    for (const e of outcome.events) span.addEvent(e.name, e.attributes);
    span.setStatus(outcome.status);
  }
  span.end();
}

/** Go's %q for the strings in kubelet error texts. */
export const goQuote = (s: string): string => JSON.stringify(s);

/** utilerrors.NewAggregate: one error prints as itself, several as a bracketed list. */
export function aggregate(messages: readonly string[]): GoError | undefined {
  if (messages.length === 0) return undefined;
  return { type: 'errors.aggregate', message: messages.length === 1 ? (messages[0] as string) : `[${messages.join(', ')}]` };
}

/** SyncResult.Error's wording: `failed to "StartContainer" for "nginx" with ErrImagePull: "…"`. */
export function syncFailure(action: string, target: string, reason: string, message: string): string {
  return `failed to ${goQuote(action)} for ${goQuote(target)} with ${reason}: ${goQuote(message)}`;
}
