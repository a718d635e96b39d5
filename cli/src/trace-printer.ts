import type { OtlpReceiver, ReceivedSpan } from '../../shared/src/index.js';
import { formatTraceTree } from './trace-tree.js';

const CREATE_ROUTE = 'POST /api/v1/namespaces/{:namespace}/pods';
const CREATE_TARGET = /^\/api\/v1\/namespaces\/[^/]+\/pods(\?|$)/;

/** Is this the apiserver's SERVER span for a pod create, under either naming generation? */
export function isPodCreateSpan(s: ReceivedSpan): boolean {
  if (s.kind !== 2 || s.resource['service.name'] !== 'apiserver') return false;
  if (s.name === CREATE_ROUTE) return true;
  const method = s.attributes['http.request.method'] ?? s.attributes['http.method'];
  return s.name === 'KubernetesAPI' && method === 'POST' && CREATE_TARGET.test(String(s.attributes['http.target'] ?? ''));
}

export interface PrinterOptions {
  /** Print once no span of the trace has arrived for this long. */
  readonly quietMs: number;
  /** In story mode a trace is whole only once the kubelet's syncPod is in it. */
  readonly waitForSyncPod: boolean;
  /** Print what there is after this long, even without syncPod (a pod that never ran). */
  readonly maxWaitMs: number;
}

/**
 * Watches the receiver and prints each pod-creation trace as a tree once it
 * is complete. Spans arrive in batches (the batch span processors export
 * every few seconds), so completion is judged by arrival quiet time.
 */
export function printCreationTraces(receiver: OtlpReceiver, out: (text: string) => void, opts: PrinterOptions): () => void {
  const pending = new Map<string, { first: number; last: number }>();
  const printed = new Set<string>();
  const unsubscribe = receiver.onSpans((spans: readonly ReceivedSpan[]) => {
    const now = Date.now();
    for (const s of spans) {
      if (printed.has(s.traceId)) continue;
      const p = pending.get(s.traceId);
      if (p) p.last = now;
      else if (isPodCreateSpan(s)) pending.set(s.traceId, { first: now, last: now });
    }
  });
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [id, p] of pending) {
      const spans = receiver.trace(id);
      const whole = !opts.waitForSyncPod || spans.some((s) => s.name === 'syncPod');
      if ((whole && now - p.last >= opts.quietMs) || now - p.first >= opts.maxWaitMs) {
        pending.delete(id);
        printed.add(id);
        out(formatTraceTree(spans) + '\n');
      }
    }
  }, 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
