import type { CompactionPolicy } from './config.js';
import { EtcdError } from './errors.js';

const HOUR = 3_600_000;
/** The revision compactor looks every 5 minutes (v3compactor revInterval). */
export const REVISION_MODE_INTERVAL_MS = 5 * 60_000;

/**
 * v3compactor.Periodic as a pure state machine: a revision is sampled every
 * tenth of the period (at most every 6 minutes), and once a full period has
 * passed the store is compacted to the revision sampled one period ago; after
 * that, every period (capped at an hour).
 */
export class PeriodicPlan {
  readonly tickMs: number;
  private readonly compactEveryMs: number;
  private readonly keep: number;
  private readonly revs: number[] = [];
  private lastSuccess: number;
  private waitMs: number;

  constructor(
    private readonly periodMs: number,
    nowMs: number,
    firstRev: number,
  ) {
    const capped = Math.min(periodMs, HOUR);
    this.tickMs = capped / 10;
    this.compactEveryMs = capped;
    this.keep = Math.floor(periodMs / this.tickMs) + 1;
    this.lastSuccess = nowMs;
    this.waitMs = periodMs;
    this.revs.push(firstRev);
  }

  /** One tick: the revision to compact to now, if any. The current revision is sampled after deciding. */
  tick(nowMs: number, currentRev: number): number | undefined {
    let target: number | undefined;
    if (nowMs - this.lastSuccess >= this.waitMs) {
      this.waitMs = this.compactEveryMs;
      target = this.revs[0];
    }
    this.revs.push(currentRev);
    if (this.revs.length > this.keep) this.revs.shift();
    return target;
  }

  /** A compaction that worked, or found the revision already compacted, restarts the wait. */
  succeeded(nowMs: number): void {
    this.lastSuccess = nowMs;
  }

  get period(): number {
    return this.periodMs;
  }
}

/** v3compactor.Revision: keep the last `retention` revisions; skip when nothing changed. */
export function revisionTarget(currentRev: number, retention: number, previous: number): number | undefined {
  const rev = currentRev - retention;
  return rev <= 0 || rev === previous ? undefined : rev;
}

export interface Compactable {
  readonly rev: number;
  compact(rev: number): Promise<void>;
}

type Log = (level: 'info' | 'warn', msg: string, fields: object) => void;

/** Runs the policy on timers; returns a stop function. */
export function startAutoCompaction(policy: CompactionPolicy, target: Compactable, log: Log, now: () => number = Date.now): () => void {
  const attempt = async (rev: number, fields: object): Promise<boolean> => {
    try {
      await target.compact(rev);
      return true;
    } catch (e) {
      if (e instanceof EtcdError && e.kind === 'compacted') return true;
      log('warn', 'failed auto compaction', { revision: rev, ...fields, error: String(e) });
      return false;
    }
  };
  let timer: NodeJS.Timeout;
  if (policy.mode === 'periodic') {
    const plan = new PeriodicPlan(policy.periodMs, now(), target.rev);
    const period = `${policy.periodMs / 1000}s`;
    timer = setInterval(() => {
      const rev = plan.tick(now(), target.rev);
      if (rev === undefined) return;
      log('info', 'starting auto periodic compaction', { revision: rev, 'compact-period': period });
      void attempt(rev, { 'compact-period': period }).then((ok) => {
        if (!ok) return;
        plan.succeeded(now());
        log('info', 'completed auto periodic compaction', { revision: rev, 'compact-period': period });
      });
    }, plan.tickMs);
  } else {
    let previous = 0;
    timer = setInterval(() => {
      const rev = revisionTarget(target.rev, policy.retention, previous);
      if (rev === undefined) return;
      log('info', 'starting auto revision compaction', { revision: rev, 'revision-compaction-retention': policy.retention });
      void attempt(rev, {}).then((ok) => {
        if (ok) previous = rev;
      });
    }, REVISION_MODE_INTERVAL_MS);
  }
  timer.unref();
  return () => clearInterval(timer);
}
