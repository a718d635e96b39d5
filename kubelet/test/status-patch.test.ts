import { describe, expect, it } from 'vitest';
import { mergePatch } from '../../shared/src/testing/fake-apiserver.js';
import { diff, mergePodStatus, statusPatch } from '../src/status-patch.js';

describe('two-way strategic merge patch', () => {
  it.each([
    ['no change', { phase: 'Running' }, { phase: 'Running' }, undefined],
    ['a changed field', { phase: 'Pending' }, { phase: 'Running' }, { phase: 'Running' }],
    ['a new field', {}, { podIP: '10.0.0.1' }, { podIP: '10.0.0.1' }],
    ['a removed field is null', { reason: 'x', phase: 'Running' }, { phase: 'Running' }, { reason: null }],
    ['null and absent are the same', { a: 1 }, { a: 1, lastProbeTime: null }, undefined],
    ['nested maps carry only what changed', { s: { waiting: { reason: 'A' } } }, { s: { running: { startedAt: 't' } } }, { s: { running: { startedAt: 't' }, waiting: null } }],
    ['lists without a merge key are replaced whole', { containerStatuses: [{ name: 'a', ready: false }] }, { containerStatuses: [{ name: 'a', ready: true }] }, { containerStatuses: [{ name: 'a', ready: true }] }],
  ])('%s', (_why, a, b, want) => {
    expect(diff(a, b)).toEqual(want);
  });

  it('keyed lists carry only changed elements, identified by key, with the order they should have', () => {
    const old = { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }] };
    const next = { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] };
    expect(diff(old, next)).toEqual({
      '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'PodScheduled' }],
      conditions: [{ type: 'Ready', status: 'True', reason: null }],
    });
  });

  it('applied by a strategic merge, the patch reproduces the desired status', () => {
    const current = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } } }] };
    const desired = {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }],
      podIP: '10.244.0.3',
      containerStatuses: [{ name: 'web', state: { running: { startedAt: 't' } } }],
    };
    const p = statusPatch('u1', current as never, desired as never);
    expect(p?.metadata).toEqual({ uid: 'u1' });
    expect(mergePatch({ status: current }, { status: p?.status }, true)).toEqual({ status: desired });
  });

  it('no change, no patch', () => {
    expect(statusPatch('u1', { phase: 'Running' }, { phase: 'Running' })).toBeUndefined();
  });

  it('conditions the kubelet does not own stay, ahead of its own', () => {
    const merged = mergePodStatus(
      { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'example.com/gate', status: 'True' }] },
      { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] },
    );
    expect(merged.conditions?.map((c) => c.type)).toEqual(['example.com/gate', 'Ready', 'PodScheduled']);
  });
});
