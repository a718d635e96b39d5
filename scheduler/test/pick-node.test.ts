import { describe, expect, it } from 'vitest';
import { matchesNodeAffinity, pickNode, scoreNode, tolerates } from '../src/pick-node.js';
import { EMPTY_USAGE, podRequests, usageOf, type NodeUsage } from '../src/resources.js';
import { node, pod } from './fixtures.js';

const usage = (entries: Record<string, NodeUsage>): Map<string, NodeUsage> => new Map(Object.entries(entries));
const full = (n: number): NodeUsage => ({ ...EMPTY_USAGE, pods: n });

describe('pickNode', () => {
  it.each([
    ['the only Ready node', pod('a'), [node('n1')], usage({}), 'n1'],
    ['skips a NotReady node', pod('a'), [node('n1', { ready: false }), node('n2')], usage({}), 'n2'],
    ['skips a cordoned node', pod('a'), [node('n1', { unschedulable: true }), node('n2')], usage({}), 'n2'],
    ['least allocated wins', pod('a'), [node('n1'), node('n2')], usage({ n1: usageOf([pod('x'), pod('y')]) }), 'n2'],
    ['spreads pods without requests by their non-zero defaults', pod('a'), [node('n1'), node('n2')], usage({ n2: usageOf([pod('x')]) }), 'n1'],
    ['skips a node at max pods', pod('a'), [node('n1', { pods: '2' }), node('n2')], usage({ n1: full(2), n2: usageOf([pod('p', { cpu: '3' })]) }), 'n2'],
    ['room for the cpu request', pod('a', { cpu: '2' }), [node('n1', { cpu: '1' }), node('n2', { cpu: '4' })], usage({}), 'n2'],
    ['room for the memory request', pod('a', { memory: '6Gi' }), [node('n1', { memory: '4Gi' }), node('n2')], usage({}), 'n2'],
    ['nodeSelector', pod('a', { spec: { nodeSelector: { disk: 'ssd' } } }), [node('n1'), node('n2', { labels: { disk: 'ssd' } })], usage({}), 'n2'],
    ['tolerated taint', pod('a', { spec: { tolerations: [{ key: 'gpu', operator: 'Exists' }] } }), [node('n1', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] })], usage({}), 'n1'],
    ['PreferNoSchedule taints do not filter', pod('a'), [node('n1', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] })], usage({}), 'n1'],
  ])('%s', (_why, p, nodes, u, want) => {
    expect(pickNode(p, nodes, u).node).toBe(want);
  });

  it('breaks ties with the random source: 0 keeps the first by name, values near 1 take the last', () => {
    const nodes = [node('n3'), node('n1'), node('n2')];
    expect(pickNode(pod('a'), nodes, usage({})).node).toBe('n1');
    expect(pickNode(pod('a'), nodes, usage({}), () => 0.99).node).toBe('n3');
  });

  it.each([
    ['no nodes', pod('a'), [], 'no nodes available to schedule pods'],
    [
      'mixed reasons, sorted as strings, with the preemption summary',
      pod('a', { cpu: '3' }),
      [node('n1', { cpu: '2' }), node('n2', { ready: false }), node('n3', { unschedulable: true })],
      '0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. ' +
        'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    ],
    [
      'several resources short on one node',
      pod('a', { cpu: '8', memory: '64Gi' }),
      [node('n1')],
      '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    ],
    [
      'affinity',
      pod('a', { spec: { nodeSelector: { zone: 'b' } } }),
      [node('n1'), node('n2')],
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    ],
  ])('unschedulable: %s', (_why, p, nodes, message) => {
    const r = pickNode(p, nodes, usage({}));
    expect(r.node).toBeUndefined();
    expect('message' in r ? r.message : '').toBe(message);
  });
});

describe('filters and scores', () => {
  it.each([
    [{ key: 'k', operator: 'Exists' }, { key: 'k', effect: 'NoSchedule' }, true],
    [{ operator: 'Exists' }, { key: 'anything', effect: 'NoExecute' }, true],
    [{ key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoSchedule' }, true],
    [{ key: 'k', value: 'w' }, { key: 'k', value: 'v', effect: 'NoSchedule' }, false],
    [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }, { key: 'k', effect: 'NoSchedule' }, false],
  ] as const)('toleration %j vs taint %j → %s', (t, taint, want) => {
    expect(tolerates(t, taint)).toBe(want);
  });

  const term = (matchExpressions: object[]) => ({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } },
  });
  it.each([
    [term([{ key: 'zone', operator: 'In', values: ['a', 'b'] }]), { zone: 'a' }, true],
    [term([{ key: 'zone', operator: 'NotIn', values: ['a'] }]), { zone: 'a' }, false],
    [term([{ key: 'gpu', operator: 'Exists' }]), {}, false],
    [term([{ key: 'gpu', operator: 'DoesNotExist' }]), {}, true],
    [term([{ key: 'cores', operator: 'Gt', values: ['8'] }]), { cores: '16' }, true],
    [term([{ key: 'cores', operator: 'Lt', values: ['8'] }]), { cores: 'many' }, false],
    [term([]), { zone: 'a' }, false],
  ])('node affinity %j on labels %j → %s', (spec, labels, want) => {
    expect(matchesNodeAffinity(pod('a', { spec }), node('n', { labels }))).toBe(want);
  });

  it('scores an empty node higher than a busy one, and a balanced node higher than a lopsided one', () => {
    const req = podRequests(pod('a'));
    const at = (cpu: number, memory: number): NodeUsage => ({ ...EMPTY_USAGE, pods: 1, nonzeroCpu: cpu, nonzeroMemory: memory });
    expect(scoreNode(req, node('n'), EMPTY_USAGE)).toBe(97 + 99);
    expect(scoreNode(req, node('n'), at(2000, 4 * 2 ** 30))).toBe(47 + 99);
    expect(scoreNode(req, node('n'), at(3600, 0.8 * 2 ** 30))).toBe(47 + 59);
  });
});
