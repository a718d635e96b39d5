import type { Pod } from '../../shared/src/index.js';

/**
 * kube-scheduler's scheduling queue, small: activeQ (FIFO), backoffQ (pods
 * that failed, waiting out 1 s doubling to 10 s) and unschedulablePods
 * (waiting for a cluster event such as a node appearing, or 5 minutes).
 * It holds no timers: the scheduler asks `nextWakeAt` and calls `flush`.
 */
export interface QueueOptions {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** podMaxInUnschedulablePodsDuration. */
  readonly maxUnschedulableMs: number;
  readonly now: () => number;
}

export const DEFAULT_QUEUE_OPTIONS: Omit<QueueOptions, 'now'> = {
  initialBackoffMs: 1000,
  maxBackoffMs: 10_000,
  maxUnschedulableMs: 5 * 60_000,
};

type State = 'active' | 'backoff' | 'unschedulable' | 'inflight';

interface Entry {
  pod: Pod;
  state: State;
  attempts: number;
  /** When the last attempt failed. */
  failedAt: number;
}

/** Backoff after `attempts` failures: initial × 2^(attempts-1), capped. */
export function backoffMs(o: Pick<QueueOptions, 'initialBackoffMs' | 'maxBackoffMs'>, attempts: number): number {
  if (attempts <= 0) return 0;
  return Math.min(o.maxBackoffMs, o.initialBackoffMs * 2 ** Math.min(attempts - 1, 30));
}

export class SchedulingQueue {
  private readonly entries = new Map<string, Entry>();
  private active: string[] = [];
  private head = 0;

  constructor(private readonly o: QueueOptions) {}

  get size(): number {
    return this.entries.size;
  }

  has(uid: string): boolean {
    return this.entries.has(uid);
  }

  stateOf(uid: string): State | undefined {
    return this.entries.get(uid)?.state;
  }

  private activate(uid: string, e: Entry): void {
    e.state = 'active';
    this.active.push(uid);
  }

  /** A pending pod appeared or changed; a changed unschedulable pod gets another try. */
  add(uid: string, pod: Pod): void {
    const e = this.entries.get(uid);
    if (!e) {
      const entry: Entry = { pod, state: 'active', attempts: 0, failedAt: 0 };
      this.entries.set(uid, entry);
      this.activate(uid, entry);
      return;
    }
    e.pod = pod;
    if (e.state === 'unschedulable') this.requeue(uid, e);
  }

  delete(uid: string): void {
    // Stale ids left in `active` are skipped by pop.
    this.entries.delete(uid);
  }

  /** The next pod to schedule, now in flight until `done`, `unschedulable` or `error`. */
  pop(): { uid: string; pod: Pod; attempts: number } | undefined {
    while (this.head < this.active.length) {
      const uid = this.active[this.head++] as string;
      const e = this.entries.get(uid);
      if (!e || e.state !== 'active') continue;
      e.state = 'inflight';
      if (this.head > 1024 && this.head * 2 > this.active.length) {
        this.active = this.active.slice(this.head);
        this.head = 0;
      }
      return { uid, pod: e.pod, attempts: e.attempts };
    }
    return undefined;
  }

  /** Bound (or gone): forget the pod. */
  done(uid: string): void {
    this.entries.delete(uid);
  }

  /** No node fits: wait for a cluster event. */
  unschedulable(uid: string): void {
    const e = this.entries.get(uid);
    if (!e) return;
    e.attempts++;
    e.failedAt = this.o.now();
    e.state = 'unschedulable';
  }

  /** Binding or another error: retry after the backoff. */
  error(uid: string): void {
    const e = this.entries.get(uid);
    if (!e) return;
    e.attempts++;
    e.failedAt = this.o.now();
    e.state = 'backoff';
  }

  private requeue(uid: string, e: Entry): void {
    if (this.o.now() < e.failedAt + backoffMs(this.o, e.attempts)) e.state = 'backoff';
    else this.activate(uid, e);
  }

  /** A node was added or changed, or a pod left a node: every unschedulable pod may fit now. */
  moveAllToActiveOrBackoff(): void {
    for (const [uid, e] of this.entries) if (e.state === 'unschedulable') this.requeue(uid, e);
  }

  /** Moves pods whose backoff is over, and pods unschedulable for too long, to activeQ. */
  flush(): void {
    const now = this.o.now();
    for (const [uid, e] of this.entries) {
      if (e.state === 'backoff' && now >= e.failedAt + backoffMs(this.o, e.attempts)) this.activate(uid, e);
      else if (e.state === 'unschedulable' && now >= e.failedAt + this.o.maxUnschedulableMs) this.requeue(uid, e);
    }
  }

  /** When `flush` next has something to move, or undefined. */
  nextWakeAt(): number | undefined {
    let next: number | undefined;
    for (const e of this.entries.values()) {
      const at =
        e.state === 'backoff' ? e.failedAt + backoffMs(this.o, e.attempts) : e.state === 'unschedulable' ? e.failedAt + this.o.maxUnschedulableMs : undefined;
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }
}
