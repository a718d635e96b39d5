import { describe, expect, it } from 'vitest';
import { context, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { GoTraceIdRatioSampler, perMillionSampler, seededIdGenerator, startTracing } from '../src/tracing.js';

const ROOT = context.active();
function withParent(sampled: boolean): Context {
  return trace.setSpanContext(ROOT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}
function decide(s: ReturnType<typeof perMillionSampler>, traceId: string, ctx: Context = ROOT): boolean {
  return s.shouldSample(ctx, traceId, 'x', 0, {}, []).decision === SamplingDecision.RECORD_AND_SAMPLED;
}

describe("the Go SDK's TraceIDRatioBased", () => {
  // bound = uint64(fraction × 2^63); x = uint64(id[8:16]) >> 1; sampled iff x < bound.
  it.each([
    [0.5, 'ffffffffffffffff7ffffffffffffffe', true],
    [0.5, '00000000000000007fffffffffffffff', true],
    [0.5, '00000000000000008000000000000000', false],
    [0.25, 'aaaaaaaaaaaaaaaa3fffffffffffffff', true],
    [0.25, 'aaaaaaaaaaaaaaaa4000000000000000', false],
    [0.000001, '00000000000000000000000000000001', true],
    [0.000001, '00000000000000000000300000000000', false],
    [0, '00000000000000000000000000000001', false],
  ])('fraction %d, trace id %s → %s', (fraction, id, want) => {
    const s = new GoTraceIdRatioSampler(fraction);
    expect(s.shouldSample(ROOT, id).decision === SamplingDecision.RECORD_AND_SAMPLED).toBe(want);
  });

  it('describes itself as Go does', () => {
    expect(String(new GoTraceIdRatioSampler(0.5))).toBe('TraceIDRatioBased{0.5}');
  });
});

describe('samplingRatePerMillion: ParentBased with a TraceIDRatio root', () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  it.each([
    [undefined, 'no parent', false],
    [0, 'no parent', false],
    [1_000_000, 'no parent', true],
    [0, 'sampled parent', true],
    [undefined, 'sampled parent', true],
    [1_000_000, 'unsampled parent', false],
  ] as const)('rate %s with %s → sampled %s', (rate, parent, want) => {
    const ctx = parent === 'no parent' ? ROOT : withParent(parent === 'sampled parent');
    expect(decide(perMillionSampler(rate), id, ctx)).toBe(want);
  });

  it('keeps about half of the roots at 500000, the same half for the same seed', () => {
    const count = (seed: number): number => {
      const ids = seededIdGenerator(seed);
      const s = perMillionSampler(500_000);
      let n = 0;
      for (let i = 0; i < 10_000; i++) if (decide(s, ids.generateTraceId())) n++;
      return n;
    };
    const n = count(42);
    // Binomial(10000, 0.5): σ = 50; ±4σ.
    expect(n).toBeGreaterThan(4800);
    expect(n).toBeLessThan(5200);
    expect(count(42)).toBe(n);
    expect(count(43)).not.toBe(n);
  });

  it.each([
    [10_000, 100],
    [100_000, 1_000],
    [900_000, 9_000],
  ])('keeps about %i per million', (rate, expected) => {
    const ids = seededIdGenerator(7);
    const s = perMillionSampler(rate);
    let n = 0;
    for (let i = 0; i < 10_000; i++) if (decide(s, ids.generateTraceId())) n++;
    const sigma = Math.sqrt(10_000 * (rate / 1e6) * (1 - rate / 1e6));
    expect(Math.abs(n - expected)).toBeLessThan(4 * sigma);
  });
});

describe('seeded ids', () => {
  it('replays the same ids for a seed, in lowercase hex of the right length', () => {
    const a = seededIdGenerator(1);
    const b = seededIdGenerator(1);
    const ta = [a.generateTraceId(), a.generateSpanId()];
    expect([b.generateTraceId(), b.generateSpanId()]).toEqual(ta);
    expect(ta[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ta[1]).toMatch(/^[0-9a-f]{16}$/);
    expect(seededIdGenerator(2).generateTraceId()).not.toBe(ta[0]);
  });

  it('gives each process of a seeded run its own stream', () => {
    const run = (resource: Record<string, string>): string => {
      const exporter = new InMemorySpanExporter();
      const t = startTracing({ resource, enabled: true, sampler: perMillionSampler(1_000_000), exporter, processor: 'simple', env: { K8S_TRACE_SIM_SEED: '99' } });
      t.tracer('s').startSpan('x').end();
      return exporter.getFinishedSpans()[0]?.spanContext().traceId ?? '';
    };
    const kubelet1 = run({ 'service.name': 'kubelet', 'host.name': 'node-1' });
    expect(run({ 'service.name': 'kubelet', 'host.name': 'node-1' })).toBe(kubelet1);
    expect(run({ 'service.name': 'kubelet', 'host.name': 'node-2' })).not.toBe(kubelet1);
    expect(run({ 'service.name': 'apiserver' })).not.toBe(kubelet1);
  });

  it('refuses a seed that is not an integer', () => {
    expect(() => startTracing({ resource: {}, enabled: false, sampler: perMillionSampler(0), env: { K8S_TRACE_SIM_SEED: 'abc' } })).toThrow(
      'K8S_TRACE_SIM_SEED=abc: want an integer',
    );
  });
});
