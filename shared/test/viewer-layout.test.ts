import { describe, expect, it } from 'vitest';
import { Script, createContext, runInContext } from 'node:vm';
import {
  anyValueText,
  flattenTrace,
  formatDuration,
  layoutTrace,
  parseSearchText,
  serviceColours,
  summaryMatches,
  type JsonResourceSpans,
  type ViewSpan,
} from '../src/viewer/layout.js';
import { VIEWER_FUNCTIONS, viewerHtml } from '../src/viewer/page.js';

describe('anyValueText', () => {
  it.each([
    [{ stringValue: 'x' }, ['x', 'string']],
    [{ intValue: '201' }, ['201', 'int']],
    [{ doubleValue: 1 }, ['1', 'double']],
    [{ boolValue: false }, ['false', 'bool']],
    [{ bytesValue: 'AQI=' }, ['AQI=', 'bytes']],
    [{ arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }] } }, ['["a", "2"]', 'array']],
    [{ kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } }, ['{k: "v"}', 'map']],
    // proto3 JSON leaves an empty string out.
    [{}, ['', 'string']],
    [undefined, ['', 'empty']],
  ])('%j', (v, want) => expect(anyValueText(v)).toEqual(want));
});

const T = 'ab'.repeat(16);
function rs(service: string, spans: Array<{ id: string; parent?: string; name: string; start: number; end: number; code?: number }>): JsonResourceSpans {
  return {
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeSpans: [
      {
        scope: { name: 'scope', version: '1' },
        spans: spans.map((s) => ({
          traceId: T,
          spanId: s.id,
          ...(s.parent ? { parentSpanId: s.parent } : {}),
          name: s.name,
          kind: 2,
          startTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(s.start)),
          endTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(s.end)),
          status: s.code ? { code: s.code } : {},
        })),
      },
    ],
  };
}

describe('flattenTrace', () => {
  it('reads spans with their service, resource, scope, events and links', () => {
    const spans = flattenTrace([
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'etcd' } }] },
        scopeSpans: [
          {
            scope: { name: 'go.etcd.io', version: '3.5' },
            spans: [
              {
                traceId: T,
                spanId: '01'.repeat(8),
                name: 'x',
                startTimeUnixNano: '1700000000000000001',
                endTimeUnixNano: '1700000000000000002',
                events: [{ name: 'e', timeUnixNano: '1700000000000000001' }],
                links: [{ traceId: 'cd'.repeat(16), spanId: '02'.repeat(8) }],
                status: { code: 2, message: 'boom' },
              },
            ],
          },
        ],
      },
      { scopeSpans: [{ spans: [{ traceId: T, spanId: '03'.repeat(8) }] }] },
    ]);
    expect(spans).toHaveLength(2);
    expect(spans[0]).toMatchObject({
      service: 'etcd',
      parentSpanId: '',
      kind: 0,
      start: 1700000000000000001n,
      end: 1700000000000000002n,
      events: [{ name: 'e', time: 1700000000000000001n, attributes: [] }],
      links: [{ traceId: 'cd'.repeat(16), spanId: '02'.repeat(8), attributes: [] }],
      status: { code: 2, message: 'boom' },
      scope: { name: 'go.etcd.io', version: '3.5', attributes: [] },
    });
    expect(spans[1]).toMatchObject({ service: '', name: '', start: 0n, resource: [] });
  });
});

const rows = (spans: ViewSpan[]): string[] => layoutTrace(spans).rows.map((r) => `${'  '.repeat(r.depth)}${r.span.name}${r.orphan ? ' (orphan)' : ''}`);

describe('layoutTrace', () => {
  it('nests children under parents, siblings by start time, across resources', () => {
    const spans = flattenTrace([
      rs('apiserver', [
        { id: 'a1', name: 'POST', start: 0, end: 100 },
        { id: 'a3', parent: 'a1', name: 'Create', start: 10, end: 90 },
        { id: 'a2', parent: 'a1', name: 'audit', start: 5, end: 95 },
      ]),
      rs('etcd', [{ id: 'e1', parent: 'a3', name: 'Txn', start: 20, end: 30 }]),
    ]);
    expect(rows(spans)).toEqual(['POST', '  audit', '  Create', '    Txn']);
    const w = layoutTrace(spans);
    expect(w.duration).toBe(100);
    expect(w.rows.map((r) => [r.offset, r.duration, r.children])).toEqual([
      [0, 100, 2],
      [5, 90, 0],
      [10, 80, 1],
      [20, 10, 0],
    ]);
  });

  it('shows a span whose parent has not arrived as a marked root, in start order', () => {
    const spans = flattenTrace([rs('kubelet', [{ id: 'k2', parent: 'gone', name: 'syncPod', start: 50, end: 60 }, { id: 'k1', name: 'root', start: 0, end: 10 }])]);
    expect(rows(spans)).toEqual(['root', 'syncPod (orphan)']);
  });

  it('shows every span once even with a parent cycle or a self-parent', () => {
    const spans = flattenTrace([
      rs('x', [
        { id: 'c1', parent: 'c2', name: 'one', start: 0, end: 1 },
        { id: 'c2', parent: 'c1', name: 'two', start: 1, end: 2 },
        { id: 's', parent: 's', name: 'self', start: 2, end: 3 },
      ]),
    ]);
    expect(rows(spans).sort()).toEqual(['  two', 'one', 'self'].sort());
    expect(layoutTrace(spans).rows).toHaveLength(3);
  });

  it('handles a deep chain without recursion, and an empty trace', () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => ({ id: `s${i}`, ...(i ? { parent: `s${i - 1}` } : {}), name: `n${i}`, start: i, end: 20_000 }));
    const w = layoutTrace(flattenTrace([rs('x', chain)]));
    expect(w.rows.at(-1)!.depth).toBe(19_999);
    expect(layoutTrace([])).toEqual({ rows: [], start: 0n, duration: 0 });
  });
});

describe('serviceColours', () => {
  it('gives each service its own colour, by sorted place, whatever the input order', () => {
    const a = serviceColours(['kubelet', 'apiserver', 'etcd', 'containerd', 'webhook']);
    const b = serviceColours(['webhook', 'etcd', 'containerd', 'apiserver', 'kubelet', 'etcd']);
    expect(a).toEqual(b);
    expect(new Set(Object.values(a)).size).toBe(5);
  });
});

describe('formatDuration', () => {
  it.each([
    [85_000, '85 µs'],
    [400, '0 µs'],
    [12_400_000, '12.4 ms'],
    [1_830_000_000, '1.83 s'],
  ])('%d ns → %s', (ns, want) => expect(formatDuration(ns)).toBe(want));
});

describe('parseSearchText and summaryMatches', () => {
  it.each([
    ['', {}, []],
    ['Pods  authentication', {}, ['pods', 'authentication']],
    ['name=demo', { name: 'demo' }, []],
    ['k8s.pod.name="my pod" error=true POST', { 'k8s.pod.name': 'my pod', error: 'true' }, ['post']],
    ['"two words"', {}, ['two words']],
    ['empty=', { empty: '' }, []],
  ])('%j', (text, attributes, words) => expect(parseSearchText(text)).toEqual({ attributes, words }));

  it('matches every word in the id, root service or root span name', () => {
    const s = { traceId: 'abc123', rootServiceName: 'apiserver', rootOperationName: 'POST /api/v1/namespaces/{:namespace}/pods' };
    expect(summaryMatches(s, [])).toBe(true);
    expect(summaryMatches(s, ['post', 'apiserver'])).toBe(true);
    expect(summaryMatches(s, ['abc1'])).toBe(true);
    expect(summaryMatches(s, ['post', 'kubelet'])).toBe(false);
    expect(summaryMatches({ traceId: 'x' }, ['x'])).toBe(true);
  });
});

describe('viewer page', () => {
  const html = viewerHtml();
  const script = /<script>\n([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';

  it('embeds the layout functions it tests, and its script compiles', () => {
    for (const f of VIEWER_FUNCTIONS) expect(script).toContain(f.toString());
    expect(() => new Script(script)).not.toThrow();
  });

  it('runs the embedded functions standalone, as a browser would', () => {
    const ctx = createContext({});
    runInContext(VIEWER_FUNCTIONS.map((f) => f.toString()).join('\n'), ctx);
    const out = runInContext(
      `const w = layoutTrace(flattenTrace(${JSON.stringify([rs('a', [{ id: 'p', name: 'parent', start: 0, end: 10 }, { id: 'c', parent: 'p', name: 'child', start: 1, end: 2 }])])}));
       JSON.stringify(w.rows.map((r) => [r.span.name, r.depth, formatDuration(r.duration)]))`,
      ctx,
    ) as string;
    expect(JSON.parse(out)).toEqual([
      ['parent', 0, '0 µs'],
      ['child', 1, '0 µs'],
    ]);
  });
});
