import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { kubeletResource, PROFILE_1_35, syncErrorOutcome, syncPodParent, syncPodSpan, terminationSpan, type KubeletProfile } from '../src/spans.js';

const POD = { uid: '0b4e6a52-1111-4222-8333-444455556666', name: 'nginx', namespace: 'default' };
const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('kubelet span shapes (1.35)', () => {
  it('resource is exactly service.name and host.name', () => {
    expect(kubeletResource('node-7')).toEqual({ 'service.name': 'kubelet', 'host.name': 'node-7' });
  });

  it.each(['create', 'update', 'sync', 'kill'] as const)('syncPod %s: INTERNAL with five string attributes in SyncPod order', (updateType) => {
    const s = syncPodSpan(PROFILE_1_35, POD, updateType);
    expect(s.name).toBe('syncPod');
    expect(s.kind).toBe(SpanKind.INTERNAL);
    expect(Object.entries(s.attributes)).toEqual([
      ['k8s.pod.uid', POD.uid],
      ['k8s.pod', 'default/nginx'],
      ['k8s.pod.name', 'nginx'],
      ['k8s.pod.update_type', updateType],
      ['k8s.namespace.name', 'default'],
    ]);
    for (const v of Object.values(s.attributes)) expect(typeof v).toBe('string');
  });

  it.each(['syncTerminatingPod', 'syncTerminatedPod'] as const)('%s carries no update type', (which) => {
    const s = terminationSpan(PROFILE_1_35, which, { ...POD, namespace: 'kube-system' });
    expect(s).toEqual({
      name: which,
      kind: SpanKind.INTERNAL,
      attributes: { 'k8s.pod.uid': POD.uid, 'k8s.pod': 'kube-system/nginx', 'k8s.pod.name': 'nginx', 'k8s.namespace.name': 'kube-system' },
    });
  });

  it('a failed sync: exception event with the Go error type, status Error with its text (1.31+)', () => {
    const err = { type: 'errors.aggregate', message: 'failed to "StartContainer" for "nginx" with ErrImagePull: "boom"' };
    expect(syncErrorOutcome(PROFILE_1_35, err)).toEqual({
      events: [{ name: 'exception', attributes: { 'exception.type': 'errors.aggregate', 'exception.message': err.message } }],
      status: { code: SpanStatusCode.ERROR, message: err.message },
    });
    const before131: KubeletProfile = { ...PROFILE_1_35, name: '1.30', syncErrorStatus: false };
    expect(syncErrorOutcome(before131, err)).toEqual({ events: [], status: { code: SpanStatusCode.UNSET } });
  });

  it.each([
    ['story create with a valid annotation joins it', 'story', 'create', { 'trace.k8s-trace-sim.io/traceparent': TP }, TP],
    ['story create, unsampled flags still join (the sampler decides)', 'story', 'create', { 'trace.k8s-trace-sim.io/traceparent': TP.replace(/01$/, '00') }, TP.replace(/01$/, '00')],
    ['story update stays a root', 'story', 'update', { 'trace.k8s-trace-sim.io/traceparent': TP }, undefined],
    ['story sync stays a root', 'story', 'sync', { 'trace.k8s-trace-sim.io/traceparent': TP }, undefined],
    ['faithful create is a root', 'faithful', 'create', { 'trace.k8s-trace-sim.io/traceparent': TP }, undefined],
    ['no annotation', 'story', 'create', undefined, undefined],
    ['malformed annotation', 'story', 'create', { 'trace.k8s-trace-sim.io/traceparent': '00-xyz' }, undefined],
    ['surrounding blanks are tolerated', 'story', 'create', { 'trace.k8s-trace-sim.io/traceparent': ` ${TP} ` }, TP],
  ] as const)('syncPod parent: %s', (_why, mode, updateType, annotations, want) => {
    expect(syncPodParent(mode, updateType, annotations)).toBe(want);
  });

  it('1.35 wires otelgrpc 0.60.0 with message events and otelhttp 0.61.0, and its image manager skips ImageStatus before Always pulls', () => {
    expect(PROFILE_1_35.criGrpc).toEqual({ version: '0.60.0', keys: 'v0.42', messageEvents: 'stats', serverErrors: 'server-fault' });
    expect(PROFILE_1_35.apiHttp).toEqual({ version: '0.61.0', keys: 'v0.61' });
    expect(PROFILE_1_35.imageStatusBeforeAlwaysPull).toBe(false);
    expect(PROFILE_1_35.imageStatusAfterPull).toBe(true);
  });
});
