import { describe, expect, it } from 'vitest';
import { resourceByName } from '../src/resources.js';
import { humanDuration, toTable } from '../src/table.js';

const NOW = Date.parse('2025-01-01T01:00:00Z');
const opts = { include: 'Metadata' as const, noHeaders: false, tableVersion: 'v1', now: NOW };

describe('server-side printing', () => {
  it.each([
    [-3000, '<invalid>'],
    [-500, '0s'],
    [5000, '5s'],
    [119_000, '119s'],
    [150_000, '2m30s'],
    [180_000, '3m'],
    [11 * 60_000, '11m'],
    [4 * 3_600_000 + 5 * 60_000, '4h5m'],
    [30 * 3_600_000, '30h'],
    [3 * 86_400_000 + 2 * 3_600_000, '3d2h'],
    [40 * 86_400_000, '40d'],
    [3 * 365 * 86_400_000 + 10 * 86_400_000, '3y10d'],
  ])('HumanDuration(%i ms) = %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  it('pods: NAME READY STATUS RESTARTS AGE, wide IP NODE NOMINATED NODE READINESS GATES', () => {
    const pods = [
      {
        metadata: { name: 'web', creationTimestamp: '2025-01-01T00:59:00Z', resourceVersion: '7' },
        spec: { containers: [{ name: 'c' }], nodeName: 'n1' },
        status: {
          phase: 'Running',
          podIPs: [{ ip: '10.0.0.5' }],
          containerStatuses: [{ name: 'c', ready: true, restartCount: 2, state: { running: {} } }],
        },
      },
      {
        metadata: { name: 'new', creationTimestamp: '2025-01-01T00:59:55Z' },
        spec: { containers: [{ name: 'c' }] },
        status: { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] },
      },
      { metadata: { name: 'going', deletionTimestamp: '2025-01-01T01:00:30Z', creationTimestamp: '2025-01-01T00:00:00Z' }, spec: { containers: [{}] }, status: { phase: 'Running' } },
    ];
    const t = toTable(resourceByName('pods'), pods, { resourceVersion: '9' }, opts) as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[]; object: unknown }[] };
    expect(t.columnDefinitions.map((c) => `${c.name}:${c.priority}`)).toEqual([
      'Name:0',
      'Ready:0',
      'Status:0',
      'Restarts:0',
      'Age:0',
      'IP:1',
      'Node:1',
      'Nominated Node:1',
      'Readiness Gates:1',
    ]);
    expect(t.rows.map((r) => r.cells)).toEqual([
      ['web', '1/1', 'Running', '2', '60s', '10.0.0.5', 'n1', '<none>', '<none>'],
      ['new', '0/1', 'ContainerCreating', '0', '5s', '<none>', '<none>', '<none>', '<none>'],
      ['going', '0/1', 'Terminating', '0', '60m', '<none>', '<none>', '<none>', '<none>'],
    ]);
    expect(t.rows[0]?.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pods[0]?.metadata });
  });

  it('nodes: STATUS from the Ready condition, ROLES from labels, wide addresses and node info', () => {
    const node = {
      metadata: { name: 'n1', creationTimestamp: '2025-01-01T00:00:00Z', labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '172.18.0.2' }],
        nodeInfo: { kubeletVersion: 'v1.32.4', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://2.1.4' },
      },
    };
    const t = toTable(resourceByName('nodes'), [node], {}, { ...opts, include: 'None' }) as { rows: { cells: unknown[]; object?: unknown }[] };
    expect(t.rows[0]).toEqual({
      cells: ['n1', 'Ready,SchedulingDisabled', 'control-plane', '60m', 'v1.32.4', '172.18.0.2', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'containerd://2.1.4'],
    });
  });

  it('watch events after the first carry no column definitions; includeObject=Object embeds the object', () => {
    const ns = { metadata: { name: 'default', creationTimestamp: '2025-01-01T00:00:00Z' }, status: { phase: 'Active' } };
    const t = toTable(resourceByName('namespaces'), [ns], {}, { ...opts, noHeaders: true, include: 'Object' }) as Record<string, unknown>;
    expect(t['columnDefinitions']).toBeNull();
    expect(t['rows']).toEqual([{ cells: ['default', 'Active', '60m'], object: ns }]);
  });
});
