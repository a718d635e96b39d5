import { describe, expect, it } from 'vitest';
import type { Pod } from '../../shared/src/index.js';
import { checksImageFirst, computePodActions, inBackoff, nextBackoff, pullDecision, pullPolicy, shouldStart, type Backoff } from '../src/pod-actions.js';
import { podStatusOf, type ContainerRecord, type SandboxRecord } from '../src/runtime-status.js';
import { PROFILE_1_35 } from '../src/spans.js';

const POLICY = { initialMs: 10_000, maxMs: 300_000 };

function pod(spec: Partial<Pod['spec']> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec } };
}

const sandbox = (id: string, ready = true, attempt = 0, createdAt = 1): SandboxRecord => ({ id, ready, attempt, createdAt, ip: ready ? '10.244.0.5' : '' });
function ctr(name: string, state: ContainerRecord['state'], extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return { id: `${name}-${extra.attempt ?? 0}`, name, attempt: 0, state, createdAt: 1000, startedAt: 1100, finishedAt: state === 'exited' ? 5000 : 0, exitCode: 0, reason: '', message: '', image: 'nginx', imageRef: 'sha', ...extra };
}

describe('image pull', () => {
  it.each([
    ['nginx', undefined, 'Always'],
    ['nginx:latest', undefined, 'Always'],
    ['nginx:1.25', undefined, 'IfNotPresent'],
    ['registry:5000/team/app', undefined, 'Always'],
    ['registry:5000/team/app:v2', undefined, 'IfNotPresent'],
    ['nginx@sha256:0123', undefined, 'IfNotPresent'],
    ['nginx:1.25', 'Always', 'Always'],
    ['nginx', 'Never', 'Never'],
  ] as const)('%s with imagePullPolicy %s → %s', (image, explicit, want) => {
    expect(pullPolicy({ name: 'c', image, ...(explicit ? { imagePullPolicy: explicit } : {}) })).toBe(want);
  });

  it.each([
    ['Always', false, false, 'pull'],
    ['Always', true, false, 'pull'],
    ['IfNotPresent', true, true, 'present'],
    ['IfNotPresent', false, true, 'pull'],
    ['Never', true, true, 'present'],
    ['Never', false, true, 'never-pull'],
  ] as const)('%s, present %s: ImageStatus first %s, then %s', (policy, present, first, decision) => {
    expect(checksImageFirst(PROFILE_1_35, policy)).toBe(first);
    expect(pullDecision(policy, present)).toBe(decision);
  });
});

describe('crash-loop back-off', () => {
  it.each([
    ['no entry', undefined, 5000, 6000, false],
    ['within 10 s of the exit', { durationMs: 10_000, lastUpdate: 1000 }, 5000, 14_000, true],
    ['10 s after the exit', { durationMs: 10_000, lastUpdate: 1000 }, 5000, 15_000, false],
    ['entry older than twice the cap is forgotten', { durationMs: 300_000, lastUpdate: 0 }, 700_000, 700_001, false],
  ] as const)('inBackoff: %s', (_why, b, finishedAt, now, want) => {
    expect(inBackoff(b, finishedAt, now, POLICY)).toBe(want);
  });

  it('doubles from 10 s to the 5 min cap, and starts over after a quiet spell', () => {
    let b: Backoff | undefined;
    const seen: number[] = [];
    for (let i = 0; i < 7; i++) {
      b = nextBackoff(b, i * 1000, POLICY);
      seen.push(b.durationMs);
    }
    expect(seen).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    expect(nextBackoff(b, 6000 + 600_001, POLICY).durationMs).toBe(10_000);
  });
});

describe('shouldStart', () => {
  it.each([
    ['never run', 'Always', undefined, true],
    ['running', 'Always', ctr('c', 'running'), false],
    ['created but never started', 'Never', ctr('c', 'created'), true],
    ['exited 0 under Always', 'Always', ctr('c', 'exited'), true],
    ['exited 0 under OnFailure', 'OnFailure', ctr('c', 'exited'), false],
    ['exited 1 under OnFailure', 'OnFailure', ctr('c', 'exited', { exitCode: 1 }), true],
    ['exited 1 under Never', 'Never', ctr('c', 'exited', { exitCode: 1 }), false],
  ] as const)('%s (%s) → %s', (_why, restartPolicy, latest, want) => {
    expect(shouldStart(pod({ restartPolicy }), latest)).toBe(want);
  });
});

describe('computePodActions', () => {
  const at = (now: number, backoffs: Map<string, Backoff> = new Map()) => ({ now, backoffs, policy: POLICY });

  it('a new pod: create the sandbox, start every container at attempt 0', () => {
    const p = pod({ containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'redis' }] });
    expect(computePodActions(p, undefined, at(0))).toEqual({
      createSandbox: true,
      sandboxAttempt: 0,
      sandboxId: '',
      start: [
        { name: 'a', init: false, attempt: 0 },
        { name: 'b', init: false, attempt: 0 },
      ],
      waiting: [],
    });
  });

  it('a running pod: nothing to do', () => {
    const st = podStatusOf('u1', [sandbox('s1')], [ctr('c', 'running')]);
    expect(computePodActions(pod(), st, at(0))).toMatchObject({ createSandbox: false, sandboxId: 's1', start: [], waiting: [] });
  });

  it('the first restart is immediate and arms the back-off', () => {
    const st = podStatusOf('u1', [sandbox('s1')], [ctr('c', 'exited', { exitCode: 1 })]);
    expect(computePodActions(pod(), st, at(6000)).start).toEqual([{ name: 'c', init: false, attempt: 1, backoff: { durationMs: 10_000, lastUpdate: 5000 } }]);
  });

  it('a restart inside the back-off waits, with the CrashLoopBackOff text and when to retry', () => {
    const st = podStatusOf('u1', [sandbox('s1')], [ctr('c', 'exited', { exitCode: 1, attempt: 1, finishedAt: 20_000 })]);
    const a = computePodActions(pod(), st, at(25_000, new Map([['c', { durationMs: 20_000, lastUpdate: 19_000 }]])));
    expect(a.start).toEqual([]);
    expect(a.waiting).toEqual([{ name: 'c', message: 'back-off 20s restarting failed container=c pod=p_default(u1)', retryAt: 40_000 }]);
  });

  it('a sandbox that died is recreated with the next attempt, unless the pod is done for good', () => {
    const died = podStatusOf('u1', [sandbox('s1', false, 0)], [ctr('c', 'exited', { exitCode: 1 })]);
    expect(computePodActions(pod(), died, at(0))).toMatchObject({ createSandbox: true, sandboxAttempt: 1, start: [{ name: 'c', attempt: 0 }] });
    expect(computePodActions(pod({ restartPolicy: 'Never' }), died, at(0))).toMatchObject({ createSandbox: false, start: [] });
  });

  it('init containers run one at a time before the others', () => {
    const p = pod({ initContainers: [{ name: 'i1', image: 'busybox' }, { name: 'i2', image: 'busybox' }] });
    expect(computePodActions(p, undefined, at(0)).start).toEqual([{ name: 'i1', init: true, attempt: 0 }]);
    const i1Running = podStatusOf('u1', [sandbox('s1')], [ctr('i1', 'running')]);
    expect(computePodActions(p, i1Running, at(0)).start).toEqual([]);
    const i1Done = podStatusOf('u1', [sandbox('s1')], [ctr('i1', 'exited')]);
    expect(computePodActions(p, i1Done, at(0)).start).toEqual([{ name: 'i2', init: true, attempt: 0 }]);
    const allDone = podStatusOf('u1', [sandbox('s1')], [ctr('i1', 'exited'), ctr('i2', 'exited')]);
    expect(computePodActions(p, allDone, at(0)).start).toEqual([{ name: 'c', init: false, attempt: 0 }]);
    const failedNever = podStatusOf('u1', [sandbox('s1')], [ctr('i1', 'exited', { exitCode: 2 })]);
    expect(computePodActions({ ...p, spec: { ...p.spec, restartPolicy: 'Never' } }, failedNever, at(0)).start).toEqual([]);
  });
});
