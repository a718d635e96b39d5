/**
 * One timer for many deadlines: pod resyncs (every pod, every minute),
 * restart back-offs and retry delays are kept in slots of `resolutionMs` and
 * fired by a single interval, instead of one setTimeout per pod. A key has at
 * most one deadline; scheduling it again moves it.
 */
export class TimerWheel {
  private readonly due = new Map<string, { slot: number; fn: () => void }>();
  private readonly slots = new Map<number, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private cursor: number;

  constructor(
    private readonly resolutionMs = 100,
    private readonly now: () => number = Date.now,
  ) {
    this.cursor = Math.floor(now() / resolutionMs);
  }

  get size(): number {
    return this.due.size;
  }

  /** Runs `fn` at (or just after) `at`, replacing the key's previous deadline. */
  schedule(key: string, at: number, fn: () => void): void {
    this.cancel(key);
    // An idle wheel's cursor is stale; catch it up rather than walk the empty slots later.
    if (this.due.size === 0) this.cursor = Math.floor(this.now() / this.resolutionMs);
    const slot = Math.max(Math.floor(at / this.resolutionMs), this.cursor);
    this.due.set(key, { slot, fn });
    let set = this.slots.get(slot);
    if (!set) this.slots.set(slot, (set = new Set()));
    set.add(key);
    this.start();
  }

  cancel(key: string): void {
    const d = this.due.get(key);
    if (!d) return;
    this.due.delete(key);
    this.slots.get(d.slot)?.delete(key);
  }

  has(key: string): boolean {
    return this.due.has(key);
  }

  /** Fires everything due by now; the interval calls it, tests may too. */
  tick(): void {
    const until = Math.floor(this.now() / this.resolutionMs);
    for (; this.cursor <= until; this.cursor++) {
      const set = this.slots.get(this.cursor);
      if (!set) continue;
      this.slots.delete(this.cursor);
      for (const key of set) {
        const d = this.due.get(key);
        if (!d || d.slot !== this.cursor) continue;
        this.due.delete(key);
        try {
          d.fn();
        } catch {
          // A callback's failure is the callback's business; the wheel keeps turning.
        }
      }
    }
    // The cursor stays on the current slot so deadlines within it are still caught.
    this.cursor = until;
    if (this.due.size === 0) this.stopTimer();
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.resolutionMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopTimer();
    this.due.clear();
    this.slots.clear();
  }
}
