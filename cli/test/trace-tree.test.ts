import { describe, expect, it } from 'vitest';
import type { ReceivedSpan } from '../../shared/src/index.js';
import { buildTree, formatDuration, formatTraceTree } from '../src/trace-tree.js';

function span(id: string, parent: string, name: string, service: string, start: number, end: number, status = 0): ReceivedSpan {
  return {
    traceId: 't'.repeat(32),
    spanId: id,
    parentSpanId: parent,
    traceState: '',
    flags: 1,
    name,
    kind: 1,
    startTimeUnixNano: BigInt(start) * 1_000_000n,
    endTimeUnixNano: BigInt(end) * 1_000_000n,
    attributes: {},
    events: [],
    links: [],
    status: { code: status, message: '' },
    resource: { 'service.name': service },
    scope: { name: '', version: '' },
    receivedAt: 0,
  };
}

describe('formatDuration', () => {
  it.each([
    [1_830_000_000n, '1.83 s'],
    [12_400_000n, '12.4 ms'],
    [85_000n, '85 µs'],
    [0n, '0 µs'],
  ])('%s', (ns, want) => expect(formatDuration(ns)).toBe(want));
});

describe('trace tree', () => {
  const spans = [
    span('c', 'b', 'etcdserverpb.KV/Txn', 'etcd', 3, 4),
    span('a', '', 'POST /api/v1/namespaces/{:namespace}/pods', 'apiserver', 0, 10),
    span('d', 'a', 'syncPod', 'kubelet', 6, 9, 2),
    span('b', 'a', 'Create etcd3', 'apiserver', 2, 5),
    span('e', 'zz', 'lost', 'kubelet', 1, 2),
  ];

  it('nests by parent and orders children by start', () => {
    const roots = buildTree(spans);
    expect(roots.map((r) => [r.span.name, r.orphan])).toEqual([
      ['POST /api/v1/namespaces/{:namespace}/pods', false],
      ['lost', true],
    ]);
    expect(roots[0]!.children.map((c) => c.span.name)).toEqual(['Create etcd3', 'syncPod']);
    expect(roots[0]!.children[0]!.children.map((c) => c.span.name)).toEqual(['etcdserverpb.KV/Txn']);
  });

  it('prints one indented line per span with service and duration', () => {
    const lines = formatTraceTree(spans).split('\n');
    expect(lines[0]).toBe(`trace ${'t'.repeat(32)} (5 spans, 10.0 ms)`);
    expect(lines[1]).toMatch(/^ {2}POST \/api\/v1\/namespaces\/\{:namespace\}\/pods +apiserver +10\.0 ms$/);
    expect(lines[2]).toMatch(/^ {4}Create etcd3 +apiserver +3\.0 ms$/);
    expect(lines[3]).toMatch(/^ {6}etcdserverpb\.KV\/Txn +etcd +1\.0 ms$/);
    expect(lines[4]).toMatch(/^ {4}syncPod \[error\] +kubelet +3\.0 ms$/);
    expect(lines[5]).toMatch(/^ {2}lost \(parent not received\) +kubelet +1\.0 ms$/);
  });
});
