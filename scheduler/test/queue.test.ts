import { describe, expect, it } from 'vitest';
import { backoffMs, SchedulingQueue } from '../src/queue.js';
import { pod } from './fixtures.js';

const OPTS = { initialBackoffMs: 1000, maxBackoffMs: 10_000, maxUnschedulableMs: 300_000 };

function queue(): { q: SchedulingQueue; clock: { now: number } } {
  const clock = { now: 0 };
  return { q: new SchedulingQueue({ ...OPTS, now: () => clock.now }), clock };
}

describe('backoff', () => {
  it.each([
    [0, 0],
    [1, 1000],
    [2, 2000],
    [4, 8000],
    [5, 10_000],
    [60, 10_000],
  ])('after %i failures: %i ms', (attempts, ms) => {
    expect(backoffMs(OPTS, attempts)).toBe(ms);
  });
});

describe('SchedulingQueue', () => {
  it('pops pending pods first in, first out, each once', () => {
    const { q } = queue();
    q.add('a', pod('a'));
    q.add('b', pod('b'));
    q.add('a', pod('a'));
    expect(q.pop()?.uid).toBe('a');
    expect(q.pop()?.uid).toBe('b');
    expect(q.pop()).toBeUndefined();
  });

  it('skips deleted pods', () => {
    const { q } = queue();
    q.add('a', pod('a'));
    q.add('b', pod('b'));
    q.delete('a');
    expect(q.pop()?.uid).toBe('b');
  });

  it('keeps an unschedulable pod until a cluster event, then honours its backoff', () => {
    const { q, clock } = queue();
    q.add('a', pod('a'));
    q.pop();
    q.unschedulable('a');
    clock.now = 500;
    q.flush();
    expect(q.pop()).toBeUndefined();
    q.moveAllToActiveOrBackoff();
    expect(q.stateOf('a')).toBe('backoff');
    expect(q.nextWakeAt()).toBe(1000);
    clock.now = 1000;
    q.flush();
    expect(q.pop()).toMatchObject({ uid: 'a', attempts: 1 });
  });

  it('retries an unschedulable pod after podMaxInUnschedulablePodsDuration without any event', () => {
    const { q, clock } = queue();
    q.add('a', pod('a'));
    q.pop();
    q.unschedulable('a');
    expect(q.nextWakeAt()).toBe(300_000);
    clock.now = 300_000;
    q.flush();
    expect(q.pop()?.uid).toBe('a');
  });

  it('retries after an error with a growing backoff', () => {
    const { q, clock } = queue();
    q.add('a', pod('a'));
    q.pop();
    q.error('a');
    q.flush();
    expect(q.pop()).toBeUndefined();
    clock.now = 1000;
    q.flush();
    q.pop();
    q.error('a');
    expect(q.nextWakeAt()).toBe(3000);
  });

  it('an update to an unschedulable pod past its backoff makes it active again', () => {
    const { q, clock } = queue();
    q.add('a', pod('a'));
    q.pop();
    q.unschedulable('a');
    clock.now = 2000;
    q.add('a', pod('a', { cpu: '1' }));
    expect(q.pop()?.pod.spec.containers[0]?.resources).toEqual({ requests: { cpu: '1' } });
  });

  it('forgets a pod once done', () => {
    const { q } = queue();
    q.add('a', pod('a'));
    q.pop();
    q.done('a');
    expect(q.size).toBe(0);
  });
});
