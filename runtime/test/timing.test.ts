import { describe, expect, it } from 'vitest';
import { randomHex, seededRandom, standardNormal } from '../src/random.js';
import { FAST, pullDuration, REALISTIC, sampleRange, stepDuration, TIMING_TABLES, type Step } from '../src/timing.js';

const STEPS = Object.keys(REALISTIC.steps) as Step[];

describe('timing tables', () => {
  it.each(Object.values(TIMING_TABLES))('$name: every range is ordered and positive', (table) => {
    expect(Object.keys(table.steps).sort()).toEqual([...STEPS].sort());
    for (const r of [...Object.values(table.steps), table.downloadMiBps, table.unpackMiBps]) {
      expect(r.min).toBeGreaterThan(0);
      expect(r.min).toBeLessThanOrEqual(r.median);
      expect(r.median).toBeLessThanOrEqual(r.max);
    }
  });

  // The reference's ranges (kubernetes-traces.md §7): the simulated steps must stay inside them.
  it.each([
    ['RunPodSandbox', ['sandboxPrepare', 'podNetwork', 'sandboxStart'] as Step[], 300, 1500],
    ['CreateContainer', ['containerCreate'] as Step[], 20, 150],
    ['StartContainer', ['containerStart'] as Step[], 50, 300],
    ['PodSandboxStatus', ['sandboxStatus'] as Step[], 1, 5],
    ['ImageStatus', ['imageStatus'] as Step[], 1, 5],
  ])('realistic %s medians add up to within %s', (_rpc, steps, lo, hi) => {
    const median = steps.reduce((s, st) => s + REALISTIC.steps[st].median, 0);
    expect(median).toBeGreaterThanOrEqual(lo);
    expect(median).toBeLessThanOrEqual(hi);
  });

  it('fast steps stay in single milliseconds', () => {
    for (const r of Object.values(FAST.steps)) expect(r.max).toBeLessThanOrEqual(5);
  });
});

describe('jitter', () => {
  it('is a pure function of the random sequence', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const draws = (r: () => number) => STEPS.map((s) => stepDuration(REALISTIC, s, r));
    expect(draws(a)).toEqual(draws(b));
    expect(draws(seededRandom(43))).not.toEqual(draws(seededRandom(42)));
  });

  const seq = (...values: number[]) => {
    let i = 0;
    return () => values[i++ % values.length] as number;
  };
  it.each([
    ['far below the median', seq(1 - 1e-9, 0.5), 10],
    ['far above the median', seq(1 - 1e-9, 0), 40],
    ['at the median', seq(0, 0), 20],
  ])('clamps to [min, max]: %s', (_name, rand, want) => {
    expect(sampleRange({ min: 10, median: 20, max: 40 }, rand)).toBeCloseTo(want, 9);
  });

  it('centres on the median', () => {
    const rand = seededRandom(7);
    const range = REALISTIC.steps.containerStart;
    const samples = Array.from({ length: 4000 }, () => sampleRange(range, rand)).sort((x, y) => x - y);
    const median = samples[2000] as number;
    expect(median).toBeGreaterThan(range.median * 0.9);
    expect(median).toBeLessThan(range.median * 1.1);
    expect(samples[0]).toBeGreaterThanOrEqual(range.min);
    expect(samples[3999]).toBeLessThanOrEqual(range.max);
  });

  it('returns the median for a degenerate range', () => {
    expect(sampleRange({ min: 5, median: 5, max: 5 }, seededRandom(1))).toBe(5);
  });

  it('standard normal draws have mean ~0 and sd ~1', () => {
    const rand = seededRandom(3);
    const xs = Array.from({ length: 5000 }, () => standardNormal(rand));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
  });

  it('draws 64 lowercase hex digits for ids, deterministically', () => {
    const id = randomHex(seededRandom(9), 64);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(randomHex(seededRandom(9), 64)).toBe(id);
  });
});

describe('pullDuration', () => {
  const nginxBytes = 72_195_292;
  it('a cached pull only resolves: 0.3–2 s realistic', () => {
    const rand = seededRandom(1);
    for (let i = 0; i < 200; i++) {
      const ms = pullDuration(REALISTIC, nginxBytes, true, rand);
      expect(ms).toBeGreaterThanOrEqual(300);
      expect(ms).toBeLessThanOrEqual(2000);
    }
  });
  it('a cold pull of nginx takes seconds: within 3–30 s realistic', () => {
    const rand = seededRandom(2);
    for (let i = 0; i < 200; i++) {
      const ms = pullDuration(REALISTIC, nginxBytes, false, rand);
      expect(ms).toBeGreaterThanOrEqual(1500);
      expect(ms).toBeLessThanOrEqual(30_000);
    }
  });
  it('grows with the image size', () => {
    const small = pullDuration(REALISTIC, 2_000_000, false, () => 0.5);
    const big = pullDuration(REALISTIC, 200_000_000, false, () => 0.5);
    expect(big).toBeGreaterThan(small * 5);
  });
  it('stays a few milliseconds in fast mode', () => {
    expect(pullDuration(FAST, nginxBytes, false, seededRandom(3))).toBeLessThan(20);
  });
});
