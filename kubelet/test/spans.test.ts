import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  grpcMessageEvent,
  grpcSpanStart,
  grpcSpanStatus,
  grpcStatusAttributes,
  httpClientEndAttributes,
  httpClientSpanName,
  httpClientStartAttributes,
} from '../../shared/src/index.js';
import { checksImageFirst } from '../src/pod-actions.js';
import {
  KUBELET_PROFILES,
  kubeletResource,
  probeUserAgent,
  PROFILE_1_27,
  PROFILE_1_35,
  syncErrorOutcome,
  syncPodParent,
  syncPodSpan,
  terminationSpan,
  type KubeletProfile,
} from '../src/spans.js';

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

describe('kubelet profiles per version', () => {
  const SIZE = 42;
  it.each([
    // version, otelgrpc scope version, client attribute keys, message event keys, otelhttp scope version
    ['1.27', 'semver:0.35.0', ['message.id', 'message.type', 'message.uncompressed_size'], 'semver:0.35.1'],
    ['1.35', '0.60.0', ['message.compressed_size', 'message.id', 'message.type', 'message.uncompressed_size'], '0.61.0'],
  ] as const)('%s: CRI CLIENT spans from otelgrpc %s', (version, grpcVersion, eventKeys, httpVersion) => {
    const p = KUBELET_PROFILES[version] as KubeletProfile;
    expect(p.criGrpc.version).toBe(grpcVersion);
    expect(p.apiHttp.version).toBe(httpVersion);
    // The runtime is dialled over a unix socket: no parsable peer, no peer attributes.
    const start = grpcSpanStart(p.criGrpc, '/runtime.v1.RuntimeService/RunPodSandbox', SpanKind.CLIENT, undefined);
    expect(start).toEqual({
      name: 'runtime.v1.RuntimeService/RunPodSandbox',
      kind: SpanKind.CLIENT,
      attributes: { 'rpc.system': 'grpc', 'rpc.service': 'runtime.v1.RuntimeService', 'rpc.method': 'RunPodSandbox' },
    });
    expect(grpcStatusAttributes(p.criGrpc, 0)).toEqual({ 'rpc.grpc.status_code': 0 });
    for (const dir of ['SENT', 'RECEIVED'] as const) {
      const ev = grpcMessageEvent(p.criGrpc, dir, 1, SIZE) as Record<string, unknown>;
      expect(Object.keys(ev).sort()).toEqual([...eventKeys]);
      expect(ev['message.type']).toBe(dir);
      expect(ev['message.id']).toBe(1);
      expect(typeof ev['message.uncompressed_size']).toBe('number');
    }
    // A client span is Error for any non-OK code, with the status message.
    expect(grpcSpanStatus(p.criGrpc, SpanKind.CLIENT, 5, 'not found')).toEqual({ code: SpanStatusCode.ERROR, message: 'not found' });
    expect(grpcSpanStatus(p.criGrpc, SpanKind.CLIENT, 0, '')).toEqual({ code: SpanStatusCode.UNSET });
  });

  // Keys and types; the values are shared/otelhttp's to get right (its own table test).
  it.each([
    [
      '1.27',
      {
        'http.method': 'string',
        'http.url': 'string',
        'http.scheme': 'string',
        'http.host': 'string',
        'http.flavor': 'string',
        'http.user_agent': 'string',
        'http.request_content_length': 'number',
      },
      { 'http.status_code': 'number' },
    ],
    [
      '1.35',
      { 'http.request.method': 'string', 'url.full': 'string', 'server.address': 'string', 'server.port': 'number', 'network.protocol.version': 'string' },
      { 'http.response.status_code': 'number' },
    ],
  ] as const)('%s: apiserver CLIENT spans from otelhttp', (version, startTypes, endTypes) => {
    const p = KUBELET_PROFILES[version] as KubeletProfile;
    const url = new URL('https://127.0.0.1:6443/api/v1/namespaces/default/pods/nginx/status');
    const types = (a: Record<string, unknown>): Record<string, string> => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, typeof v]));
    expect(httpClientSpanName(p.apiHttp, 'PATCH')).toBe('HTTP PATCH');
    const start = httpClientStartAttributes(p.apiHttp, { method: 'PATCH', url, protocolVersion: '2', userAgent: p.userAgent, requestContentLength: 120 });
    expect(types(start)).toEqual(startTypes);
    expect(types(httpClientEndAttributes(p.apiHttp, 200))).toEqual(endTypes);
    if (version === '1.27') expect(start['http.user_agent']).toBe('kubelet/v1.27.1+k3s1 (linux/amd64) kubernetes/bc5b42c');
  });

  it.each([
    ['1.27', false, [], { code: SpanStatusCode.UNSET }],
    ['1.35', true, ['exception'], { code: SpanStatusCode.ERROR, message: 'boom' }],
  ] as const)('%s: a failed sync records the error on syncPod: %s', (version, records, events, status) => {
    const p = KUBELET_PROFILES[version] as KubeletProfile;
    expect(p.syncErrorStatus).toBe(records);
    const out = syncErrorOutcome(p, { type: 'errors.aggregate', message: 'boom' });
    expect(out.events.map((e) => e.name)).toEqual(events);
    expect(out.status).toEqual(status);
  });

  it.each([
    // version, policy, asks ImageStatus before deciding
    ['1.27', 'Always', true],
    ['1.27', 'IfNotPresent', true],
    ['1.27', 'Never', true],
    ['1.35', 'Always', false],
    ['1.35', 'IfNotPresent', true],
    ['1.35', 'Never', true],
  ] as const)('%s image manager, pull policy %s: ImageStatus first = %s', (version, policy, first) => {
    expect(checksImageFirst(KUBELET_PROFILES[version] as KubeletProfile, policy)).toBe(first);
  });

  it.each([
    ['1.27', 'v1.27.1+k3s1', 'kube-probe/1.27', false, { default: true, lockToDefault: false, preRelease: 'BETA' }],
    ['1.35', 'v1.35.0', 'kube-probe/1.35', true, { default: true, lockToDefault: true, preRelease: 'GA' }],
  ] as const)('%s: version %s, prober %s, pulled-image size %s, KubeletTracing gate', (version, kubeletVersion, probeUa, size, gate) => {
    const p = KUBELET_PROFILES[version] as KubeletProfile;
    expect(p.name).toBe(version);
    expect(p.kubeletVersion).toBe(kubeletVersion);
    expect(p.userAgent.startsWith(`kubelet/${kubeletVersion} (linux/amd64) kubernetes/`)).toBe(true);
    expect(probeUserAgent(p)).toBe(probeUa);
    expect(p.imageStatusAfterPull).toBe(size);
    expect(p.tracingGate).toEqual(gate);
    // Same span names, kinds, attributes and resource in both.
    expect(syncPodSpan(p, POD, 'create')).toEqual(syncPodSpan(PROFILE_1_35, POD, 'create'));
    expect(terminationSpan(p, 'syncTerminatingPod', POD)).toEqual(terminationSpan(PROFILE_1_35, 'syncTerminatingPod', POD));
  });

  it('the 1.27 profile is the one exported by name', () => {
    expect(KUBELET_PROFILES['1.27']).toBe(PROFILE_1_27);
    expect(Object.keys(KUBELET_PROFILES).sort()).toEqual(['1.27', '1.35']);
  });
});
