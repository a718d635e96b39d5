import { describe, expect, it } from 'vitest';
import { binding, bindingTraceparent, needsScheduling, occupiesNode, schedulerEvent, unschedulablePatch } from '../src/objects.js';
import { pod } from './fixtures.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('binding traceparent', () => {
  it.each([
    ['story forwards the annotation', 'story', { 'trace.k8s-trace-sim.io/traceparent': TP }, TP],
    ['faithful never sends one', 'faithful', { 'trace.k8s-trace-sim.io/traceparent': TP }, undefined],
    ['no annotation, no header', 'story', undefined, undefined],
    ['a malformed value is not forwarded', 'story', { 'trace.k8s-trace-sim.io/traceparent': 'garbage' }, undefined],
    ['unsampled contexts are forwarded as they are', 'story', { 'trace.k8s-trace-sim.io/traceparent': TP.replace(/01$/, '00') }, TP.replace(/01$/, '00')],
  ] as const)('%s', (_why, mode, annotations, want) => {
    expect(bindingTraceparent(pod('a', annotations ? { annotations } : {}), mode)).toBe(want);
  });
});

describe('which pods', () => {
  it.each([
    ['pending, default scheduler', pod('a'), true, false],
    ['another scheduler', pod('a', { spec: { schedulerName: 'other' } }), false, false],
    ['already assigned', pod('a', { spec: { nodeName: 'n1' } }), false, true],
    ['being deleted', { ...pod('a'), metadata: { ...pod('a').metadata, deletionTimestamp: '2025-01-01T00:00:00Z' } }, false, false],
    ['assigned and finished', { ...pod('a', { spec: { nodeName: 'n1' } }), status: { phase: 'Succeeded' as const } }, false, false],
  ])('%s', (_why, p, schedule, occupies) => {
    expect(needsScheduling(p)).toBe(schedule);
    expect(occupiesNode(p)).toBe(occupies);
  });
});

describe('objects', () => {
  it('binding is the v1 Binding the contract names', () => {
    expect(binding(pod('nginx'), 'node-1')).toEqual({
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'nginx', namespace: 'default', uid: 'uid-nginx' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' },
    });
  });

  it('PodScheduled=False patch, not repeated for the same message, keeping the transition time', () => {
    const now = new Date('2025-06-01T10:00:00.123Z');
    const patch = unschedulablePatch(pod('a'), 'msg', now) as { status: { conditions: object[] } };
    expect(patch).toEqual({
      metadata: { uid: 'uid-a' },
      status: {
        conditions: [
          { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: '2025-06-01T10:00:00Z', reason: 'Unschedulable', message: 'msg' },
        ],
      },
    });
    const after = { ...pod('a'), status: { conditions: patch.status.conditions as never } };
    expect(unschedulablePatch(after, 'msg', new Date())).toBeUndefined();
    expect(unschedulablePatch(after, 'other', new Date('2025-06-01T11:00:00Z'))).toMatchObject({
      status: { conditions: [{ message: 'other', lastTransitionTime: '2025-06-01T10:00:00Z' }] },
    });
  });

  it('Scheduled event as the events.k8s.io recorder fills it', () => {
    const now = new Date('2025-06-01T10:00:00.123Z');
    const ev = schedulerEvent(pod('nginx'), { type: 'Normal', reason: 'Scheduled', action: 'Binding', message: 'Successfully assigned default/nginx to node-1' }, 'default-scheduler-host', now, 0x1234n);
    expect(ev).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'nginx.1234', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'nginx', namespace: 'default', uid: 'uid-nginx' },
      reason: 'Scheduled',
      type: 'Normal',
      action: 'Binding',
      eventTime: '2025-06-01T10:00:00.123000Z',
      reportingComponent: 'default-scheduler',
      reportingInstance: 'default-scheduler-host',
    });
  });
});
