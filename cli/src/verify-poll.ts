import type { ExpectedTrace } from '../../shared/src/manifest.js';
import { compareTrace, settled, type FetchedSpan, type TraceCheck, type TraceResult } from './verify-compare.js';

/** Fetches one trace: its spans, or undefined while the backend says it has none (404). Throws on a failed request. */
export type TraceFetcher = (trace: ExpectedTrace) => Promise<readonly FetchedSpan[] | undefined>;

export interface PollOptions {
  readonly timeoutMs: number;
  /** Requests in flight at once (default 8). */
  readonly concurrency?: number;
  /** Pause after the first round, doubled each round up to maxDelayMs (defaults 250 and 5000). */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface State {
  check?: TraceCheck;
  completeAt?: number;
  firstRound?: boolean;
  lastError?: string;
}

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Polls the backend for every trace until each is settled (complete, or with
 * nothing more to arrive) or the deadline passes. Ingest is asynchronous and a
 * trace may arrive in pieces, so missing and partial traces are asked for
 * again, with backoff, until the end; the first round always runs in full.
 */
export async function pollTraces(traces: readonly ExpectedTrace[], fetch: TraceFetcher, opts: PollOptions): Promise<TraceResult[]> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + opts.timeoutMs;
  const state = new Map<string, State>(traces.map((t) => [t.traceId, {}]));
  let delay = opts.initialDelayMs ?? 250;
  const pending = (): ExpectedTrace[] =>
    traces.filter((t) => {
      const check = state.get(t.traceId)?.check;
      return t.spans.length > 0 && !(check && settled(check));
    });
  for (let round = 0; pending().length > 0; round++) {
    // The last round runs at the deadline itself; none starts after it.
    await eachLimited(pending(), opts.concurrency ?? 8, async (t) => {
      if (round > 0 && now() > deadline) return;
      const st = state.get(t.traceId) as State;
      try {
        const spans = await fetch(t);
        st.check = compareTrace(t, spans ?? []);
        delete st.lastError;
        if (settled(st.check)) {
          st.completeAt = now();
          st.firstRound = round === 0;
        }
      } catch (err) {
        st.lastError = (err as Error).message;
      }
    });
    const left = deadline - now();
    if (left <= 0 || pending().length === 0) break;
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, opts.maxDelayMs ?? 5000);
  }
  return traces.map((t): TraceResult => {
    const st = state.get(t.traceId) as State;
    const check = st.check ?? compareTrace(t, []);
    return {
      ...check,
      ...(st.completeAt !== undefined
        ? { queryableAfterMs: Math.max(0, st.completeAt - t.lastSentAt), completeAtFirstPoll: st.firstRound === true }
        : {}),
      ...(st.lastError !== undefined ? { lastError: st.lastError } : {}),
    };
  });
}
