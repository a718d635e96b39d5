import { describe, expect, it } from 'vitest';
import { applyJsonPatch, decodeJsonPatch, mergePatch, PatchError, type Json } from '../src/json-patch.js';
import { strategicMergePatch } from '../src/strategic-merge.js';

const pod = (): Json => ({
  metadata: { name: 'p', labels: { a: '1', b: '2' } },
  spec: {
    containers: [
      { name: 'c1', image: 'nginx:1', env: [{ name: 'A', value: '1' }] },
      { name: 'c2', image: 'redis:7' },
    ],
    tolerations: [{ key: 'k' }],
  },
  status: {
    phase: 'Pending',
    conditions: [{ type: 'PodScheduled', status: 'True' }],
    containerStatuses: [
      { name: 'c1', ready: false },
      { name: 'c2', ready: false },
    ],
  },
});

describe('JSON merge patch (RFC 7386)', () => {
  it.each([
    [{ metadata: { labels: { a: null, c: '3' } } }, { name: 'p', labels: { b: '2', c: '3' } }],
    [{ metadata: { labels: null } }, { name: 'p' }],
  ])('%j', (patch, metadata) => {
    expect((mergePatch(pod(), patch as Json) as { metadata: unknown }).metadata).toEqual(metadata);
  });

  it('replaces lists whole', () => {
    const out = mergePatch(pod(), { spec: { containers: [{ name: 'x', image: 'y' }] } }) as { spec: { containers: unknown[] } };
    expect(out.spec.containers).toEqual([{ name: 'x', image: 'y' }]);
  });
});

describe('JSON patch (RFC 6902)', () => {
  it.each([
    [[{ op: 'add', path: '/metadata/labels/c', value: '3' }], '/metadata/labels', { a: '1', b: '2', c: '3' }],
    [[{ op: 'remove', path: '/metadata/labels/a' }], '/metadata/labels', { b: '2' }],
    [[{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' }], '/spec/containers/0/image', 'nginx:2'],
    [[{ op: 'add', path: '/spec/containers/-', value: { name: 'c3' } }], '/spec/containers/2/name', 'c3'],
    [[{ op: 'move', from: '/metadata/labels/a', path: '/metadata/labels/z' }], '/metadata/labels', { b: '2', z: '1' }],
    [[{ op: 'copy', from: '/metadata/labels/a', path: '/metadata/labels/y' }], '/metadata/labels', { a: '1', b: '2', y: '1' }],
    [[{ op: 'test', path: '/metadata/name', value: 'p' }, { op: 'add', path: '/metadata/labels/t', value: 'ok' }], '/metadata/labels/t', 'ok'],
    [[{ op: 'add', path: '/metadata/annotations', value: { 'a~b/c': 'x' } }, { op: 'replace', path: '/metadata/annotations/a~0b~1c', value: 'y' }], '/metadata/annotations', { 'a~b/c': 'y' }],
  ])('%j', (ops, at, want) => {
    let cur: unknown = applyJsonPatch(pod(), decodeJsonPatch(ops));
    for (const p of at.slice(1).split('/')) cur = (cur as Record<string, unknown>)[p];
    expect(cur).toEqual(want);
  });

  it.each([
    [[{ op: 'test', path: '/metadata/name', value: 'q' }], 'testing value /metadata/name failed: test failed'],
    [[{ op: 'replace', path: '/metadata/nope', value: 1 }], 'replace operation does not apply: doc is missing key: /metadata/nope: missing value'],
    [[{ op: 'remove', path: '/spec/containers/9' }], 'remove operation does not apply: doc is missing path: "/spec/containers/9": missing value'],
    [[{ op: 'add', path: '/a/b/c', value: 1 }], 'add operation does not apply: doc is missing path: "/a/b/c": missing value'],
    [[{ op: 'frob', path: '/a' }], 'Unexpected kind: frob'],
  ])('%j fails with %j and leaves the input alone', (ops, message) => {
    const input = pod();
    const before = JSON.stringify(input);
    expect(() => applyJsonPatch(input, decodeJsonPatch(ops))).toThrow(message);
    expect(JSON.stringify(input)).toBe(before);
  });

  it('a patch that is not a list cannot be decoded', () => {
    expect(() => decodeJsonPatch({ op: 'add' })).toThrow(PatchError);
  });
});

describe('strategic merge patch', () => {
  const smp = (patch: Json): Record<string, unknown> => strategicMergePatch(pod(), patch) as Record<string, unknown>;

  it('merges containers by name and keeps the others', () => {
    const out = smp({ spec: { containers: [{ name: 'c2', image: 'redis:8' }, { name: 'c3', image: 'busybox' }] } }) as { spec: { containers: Record<string, unknown>[] } };
    expect(out.spec.containers.map((c) => [c['name'], c['image']])).toEqual([
      ['c1', 'nginx:1'],
      ['c2', 'redis:8'],
      ['c3', 'busybox'],
    ]);
    expect(out.spec.containers[0]?.['env']).toEqual([{ name: 'A', value: '1' }]);
  });

  it('merges conditions by type and replaces container statuses whole, as upstream (no merge key)', () => {
    const out = smp({
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'c2', ready: true }],
      },
    }) as { status: { conditions: unknown[]; containerStatuses: unknown[]; phase: string } };
    expect(out.status.phase).toBe('Running');
    expect(out.status.conditions).toEqual([
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'True' },
    ]);
    expect(out.status.containerStatuses).toEqual([{ name: 'c2', ready: true }]);
    const state = smp({ status: { containerStatuses: [{ name: 'c1', state: { running: { startedAt: 't' } } }] } }) as {
      status: { containerStatuses: Array<{ state: unknown }> };
    };
    // A merge by name would have kept the old waiting state beside the new running one.
    expect(state.status.containerStatuses).toEqual([{ name: 'c1', state: { running: { startedAt: 't' } } }]);
  });

  it('$patch: delete removes a list element; null removes a field; lists without a key are replaced', () => {
    const out = smp({
      metadata: { labels: { a: null } },
      spec: { containers: [{ name: 'c1', $patch: 'delete' }], tolerations: [{ key: 'other' }] },
    }) as { metadata: { labels: unknown }; spec: { containers: unknown[]; tolerations: unknown[] } };
    expect(out.metadata.labels).toEqual({ b: '2' });
    expect(out.spec.containers).toEqual([{ name: 'c2', image: 'redis:7' }]);
    expect(out.spec.tolerations).toEqual([{ key: 'other' }]);
  });

  it('$patch: replace on a map or list, and $setElementOrder', () => {
    const replaced = smp({ metadata: { labels: { $patch: 'replace', only: 'me' } } }) as { metadata: { labels: unknown } };
    expect(replaced.metadata.labels).toEqual({ only: 'me' });
    const ordered = smp({
      status: { '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'PodScheduled' }], conditions: [{ type: 'Ready', status: 'True' }] },
    } as unknown as Json) as { status: { conditions: { type: string }[] } };
    expect(ordered.status.conditions.map((c) => c.type)).toEqual(['Ready', 'PodScheduled']);
  });
});
