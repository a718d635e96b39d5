import { describe, expect, it } from 'vitest';
import { ETCD_OTELGRPC, etcdResource, samplingRateError } from '../src/spans.js';

describe('etcd 3.5.21 tracing as data', () => {
  it('links otelgrpc 0.46.0 interceptors: v0.42 keys, no message events, server-fault errors only', () => {
    expect(ETCD_OTELGRPC).toEqual({ version: '0.46.0', keys: 'v0.42', messageEvents: 'none', serverErrors: 'server-fault' });
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
});
