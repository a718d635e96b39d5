import type { ReceivedSpan } from '../../shared/src/index.js';

export interface TreeNode {
  readonly span: ReceivedSpan;
  readonly children: TreeNode[];
  /** True when the span names a parent that is not in the trace (not received, or in another trace). */
  readonly orphan: boolean;
}

/** Parent/child forest of one trace, children ordered by start time. */
export function buildTree(spans: readonly ReceivedSpan[]): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  for (const s of spans) nodes.set(s.spanId, { span: s, children: [], orphan: false });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId === '' ? undefined : nodes.get(node.span.parentSpanId);
    if (parent) parent.children.push(node);
    else roots.push(node.span.parentSpanId === '' ? node : { ...node, orphan: true });
  }
  const byStart = (a: TreeNode, b: TreeNode): number =>
    a.span.startTimeUnixNano < b.span.startTimeUnixNano ? -1 : a.span.startTimeUnixNano > b.span.startTimeUnixNano ? 1 : 0;
  const sort = (list: TreeNode[]): void => {
    list.sort(byStart);
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** `1.83 s`, `12.4 ms`, `85 µs`. */
export function formatDuration(nanos: bigint): string {
  const ns = Number(nanos);
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${Math.round(ns / 1e3)} µs`;
}

/** The trace as an indented tree: span name, service and duration per line. */
export function formatTraceTree(spans: readonly ReceivedSpan[]): string {
  if (spans.length === 0) return '';
  const rows: Array<{ label: string; service: string; duration: string }> = [];
  const walk = (n: TreeNode, depth: number): void => {
    rows.push({
      label: `${'  '.repeat(depth)}${n.span.name}${n.orphan ? ' (parent not received)' : ''}${n.span.status.code === 2 ? ' [error]' : ''}`,
      service: String(n.span.resource['service.name'] ?? '?'),
      duration: formatDuration(n.span.endTimeUnixNano - n.span.startTimeUnixNano),
    });
    for (const c of n.children) walk(c, depth + 1);
  };
  for (const r of buildTree(spans)) walk(r, 0);
  const start = spans.reduce((m, s) => (s.startTimeUnixNano < m ? s.startTimeUnixNano : m), spans[0]!.startTimeUnixNano);
  const end = spans.reduce((m, s) => (s.endTimeUnixNano > m ? s.endTimeUnixNano : m), spans[0]!.endTimeUnixNano);
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  const serviceWidth = Math.max(...rows.map((r) => r.service.length));
  const head = `trace ${spans[0]!.traceId} (${spans.length} spans, ${formatDuration(end - start)})`;
  return [head, ...rows.map((r) => `  ${r.label.padEnd(labelWidth)}  ${r.service.padEnd(serviceWidth)}  ${r.duration.padStart(9)}`)].join('\n');
}
