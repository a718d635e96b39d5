import { describe, expect, it } from 'vitest';
import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_ETCD_VERSION, ETCD_OTELGRPC, ETCD_PROFILES, ETCD_VERSIONS, etcdResource, etcdSampler, isEtcdVersion, samplingRateError } from '../src/spans.js';

describe('etcd tracing as data, per release', () => {
  it.each([
    // 3.5.7's server/go.mod: otelgrpc v0.25.0 interceptors.
    ['3.5.7', { version: 'semver:0.25.0', keys: 'v0.20', messageEvents: 'full', serverErrors: 'any' }, false],
    // 3.5.21: otelgrpc v0.46.0 interceptors; the sampling-rate flag came in 3.5.11.
    ['3.5.21', { version: '0.46.0', keys: 'v0.42', messageEvents: 'none', serverErrors: 'server-fault' }, true],
  ] as const)('%s links otelgrpc %o; sampling-rate flag %s', (version, otelgrpc, flag) => {
    expect(ETCD_PROFILES[version]).toEqual({ version, otelgrpc, samplingRateFlag: flag });
  });

  it('defaults to 3.5.21 and knows only the two releases', () => {
    expect(DEFAULT_ETCD_VERSION).toBe('3.5.21');
    expect(ETCD_OTELGRPC).toBe(ETCD_PROFILES['3.5.21'].otelgrpc);
    expect(ETCD_VERSIONS).toEqual(['3.5.7', '3.5.21']);
    expect(['3.5.7', '3.5.21', '3.5.8', '3.6.5', ''].map(isEtcdVersion)).toEqual([true, true, false, false, false]);
  });

  it.each([
    ['etcd', '', { 'service.name': 'etcd' }],
    ['etcd-a', 'member-1', { 'service.name': 'etcd-a', 'service.instance.id': 'member-1' }],
  ])('resource for %s/%s', (name, id, want) => {
    expect(etcdResource(name, id)).toEqual(want);
  });

  it.each([
    [0, undefined],
    [1_000_000, undefined],
    [-1, 'tracing sampling rate must be positive'],
    [1_000_001, 'tracing sampling rate must be less than 1000000'],
  ])('sampling rate %i', (rate, want) => {
    expect(samplingRateError(rate)).toBe(want);
  });

  const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
  const decide = (version: '3.5.7' | '3.5.21', rate: number, parent: 'none' | 'sampled' | 'unsampled'): SamplingDecision => {
    const ctx =
      parent === 'none'
        ? ROOT_CONTEXT
        : trace.setSpanContext(context.active(), {
            traceId: TRACE_ID,
            spanId: 'b7ad6b7169203331',
            traceFlags: parent === 'sampled' ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          });
    return etcdSampler(ETCD_PROFILES[version], rate).shouldSample(ctx, TRACE_ID, 'etcdserverpb.KV/Range', SpanKind.SERVER, {}, []).decision;
  };
  const { RECORD_AND_SAMPLED: YES, NOT_RECORD: NO } = SamplingDecision;

  it.each([
    // 3.5.5–3.5.10: ParentBased(NeverSample) whatever is asked (there is no flag to ask with).
    ['3.5.7', 1_000_000, 'none', NO],
    ['3.5.7', 0, 'sampled', YES],
    ['3.5.7', 0, 'unsampled', NO],
    // 3.5.11+: ParentBased(TraceIDRatioBased(rate/1e6)).
    ['3.5.21', 0, 'none', NO],
    ['3.5.21', 1_000_000, 'none', YES],
    ['3.5.21', 0, 'sampled', YES],
    ['3.5.21', 1_000_000, 'unsampled', NO],
  ] as const)('%s with rate %i and parent %s samples: %s', (version, rate, parent, want) => {
    expect(decide(version, rate, parent)).toBe(want);
  });
});
