import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeriodicPlan, revisionTarget, startAutoCompaction } from '../src/auto-compaction.js';
import { EtcdError } from '../src/errors.js';

describe('periodic compaction plan (v3compactor.Periodic)', () => {
  // As in Go, the check runs one tick after the last sample, so after the first
  // compaction the oldest kept sample is a period plus one tick old.
  it('1h retention: samples every 6 min, first compacts after an hour to the revision of an hour ago, then hourly', () => {
    const min = 60_000;
    const plan = new PeriodicPlan(60 * min, 0, 100);
    expect(plan.tickMs).toBe(6 * min);
    const out: [number, number | undefined][] = [];
    // The revision grows by 10 per tick.
    for (let i = 1; i <= 21; i++) {
      const t = plan.tick(i * 6 * min, 100 + 10 * i);
      if (t !== undefined) {
        out.push([i * 6, t]);
        plan.succeeded(i * 6 * min);
      }
    }
    expect(out).toEqual([
      [60, 100],
      [120, 190],
    ]);
  });

  it('a 24h retention samples every 6 min but keeps a day of samples; compacts hourly after the first day', () => {
    const plan = new PeriodicPlan(24 * 3_600_000, 0, 1);
    expect(plan.tickMs).toBe(360_000);
    const hits: [number, number][] = [];
    // The revision at tick i is 1 + i.
    for (let i = 1; i <= 250; i++) {
      const t = plan.tick(i * 360_000, 1 + i);
      if (t !== undefined) {
        hits.push([i, t]);
        plan.succeeded(i * 360_000);
      }
    }
    expect(hits).toEqual([
      [240, 1],
      [250, 10],
    ]);
  });

  it('a failed compaction is retried on the next tick', () => {
    const plan = new PeriodicPlan(10_000, 0, 5);
    expect(plan.tick(10_000, 6)).toBe(5);
    expect(plan.tick(11_000, 7)).toBe(5); // not marked succeeded
  });
});

describe('revision compaction (v3compactor.Revision)', () => {
  it.each([
    [1000, 100, 0, 900],
    [50, 100, 0, undefined], // not enough revisions yet
    [1000, 100, 900, undefined], // nothing new since the last one
    [1001, 100, 900, 901],
  ])('rev %i, keep %i, last %i → %s', (rev, keep, last, want) => {
    expect(revisionTarget(rev, keep, last)).toBe(want);
  });
});

describe('startAutoCompaction on timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A store whose revision grows by 10 a second and that records compactions. */
  function fakeStore(failWith?: EtcdError): { rev: number; calls: number[]; compact(rev: number): Promise<void> } {
    const t0 = Date.now();
    return {
      get rev() {
        return 1 + Math.floor((Date.now() - t0) / 100);
      },
      calls: [],
      compact(rev: number) {
        this.calls.push(rev);
        return failWith ? Promise.reject(failWith) : Promise.resolve();
      },
    };
  }

  it('revision mode compacts every 5 minutes to current - retention', async () => {
    vi.useFakeTimers();
    const store = fakeStore();
    const stop = startAutoCompaction({ mode: 'revision', retention: 1000 }, store, () => {});
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    stop();
    expect(store.calls).toEqual([2001, 5001, 8001]);
  });

  it('periodic mode with a 10 s period: first after 10 s, to the revision of 10 s before', async () => {
    vi.useFakeTimers();
    const store = fakeStore();
    const logs: string[] = [];
    const stop = startAutoCompaction({ mode: 'periodic', periodMs: 10_000 }, store, (_level, msg) => logs.push(msg));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(store.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_001);
    stop();
    expect(store.calls).toEqual([1, 91]);
    expect(logs).toContain('completed auto periodic compaction');
  });

  it('an already-compacted revision counts as done; other errors are logged and retried', async () => {
    vi.useFakeTimers();
    const compacted = fakeStore(new EtcdError('compacted'));
    const warnings: string[] = [];
    const stop1 = startAutoCompaction({ mode: 'periodic', periodMs: 10_000 }, compacted, (level) => warnings.push(level));
    await vi.advanceTimersByTimeAsync(12_000);
    stop1();
    expect([compacted.calls.length, warnings.includes('warn')]).toEqual([1, false]);
    const failing = fakeStore(new EtcdError('stopped'));
    const stop2 = startAutoCompaction({ mode: 'periodic', periodMs: 10_000 }, failing, (level) => warnings.push(level));
    await vi.advanceTimersByTimeAsync(12_000);
    stop2();
    expect([failing.calls.length, warnings.includes('warn')]).toEqual([3, true]);
  });
});
