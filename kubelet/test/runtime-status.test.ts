import { describe, expect, it } from 'vitest';
import { containerRecord, latestContainers, podIp, podStatusOf, relistEntries, relistEvents, sandboxRecord, type RelistEntry } from '../src/runtime-status.js';

const entries = (o: Record<string, RelistEntry['state']>): Map<string, RelistEntry> => new Map(Object.entries(o).map(([id, state]) => [id, { uid: 'u1', state }]));

describe('PLEG relist events', () => {
  it.each([
    ['nothing changed', { c1: 'running' }, { c1: 'running' }, []],
    ['a container started', {}, { c1: 'running' }, ['ContainerStarted']],
    ['created only: no event yet', {}, { c1: 'created' }, []],
    ['created, then started', { c1: 'created' }, { c1: 'running' }, ['ContainerStarted']],
    ['a container exited', { c1: 'running' }, { c1: 'exited' }, ['ContainerDied']],
    ['an exited container was removed', { c1: 'exited' }, {}, ['ContainerRemoved']],
    ['a running container vanished', { c1: 'running' }, {}, ['ContainerDied', 'ContainerRemoved']],
    ['state unknown', { c1: 'running' }, { c1: 'unknown' }, ['ContainerChanged']],
    ['a sandbox became ready', {}, { s1: 'sandbox-ready' }, ['ContainerStarted']],
    ['a sandbox stopped', { s1: 'sandbox-ready' }, { s1: 'sandbox-notready' }, ['ContainerDied']],
  ] as const)('%s', (_why, prev, curr, want) => {
    expect(relistEvents(entries(prev), entries(curr)).map((e) => e.type)).toEqual(want);
  });

  it('reads pod uids from sandbox metadata and container labels', () => {
    const m = relistEntries(
      [{ id: 's1', metadata: { name: 'p', uid: 'u1', namespace: 'default', attempt: 0 }, state: 0, createdAt: '1', labels: {} }],
      [
        { id: 'c1', podSandboxId: 's1', metadata: { name: 'c', attempt: 0 }, state: 1, createdAt: '2', labels: { 'io.kubernetes.pod.uid': 'u1' } },
        { id: 'x', podSandboxId: 's9', metadata: { name: 'c', attempt: 0 }, state: 1, createdAt: '2', labels: {} },
      ],
    );
    expect([...m]).toEqual([
      ['s1', { uid: 'u1', state: 'sandbox-ready' }],
      ['c1', { uid: 'u1', state: 'running' }],
    ]);
  });
});

describe('runtime pod status', () => {
  it('converts CRI statuses: nanoseconds to milliseconds, restart count from the annotation', () => {
    expect(
      containerRecord({
        id: 'c1',
        metadata: { name: 'web', attempt: 3 },
        state: 2,
        createdAt: '1748772000000000000',
        startedAt: '1748772001000000000',
        finishedAt: '1748772002500000000',
        exitCode: 137,
        image: { image: 'docker.io/library/nginx:latest' },
        imageRef: 'docker.io/library/nginx@sha256:abc',
        reason: 'Error',
        message: '',
        labels: {},
        annotations: { 'io.kubernetes.container.restartCount': '3' },
      }),
    ).toEqual({
      id: 'c1',
      name: 'web',
      attempt: 3,
      state: 'exited',
      createdAt: 1748772000000,
      startedAt: 1748772001000,
      finishedAt: 1748772002500,
      exitCode: 137,
      reason: 'Error',
      message: '',
      image: 'docker.io/library/nginx:latest',
      imageRef: 'docker.io/library/nginx@sha256:abc',
    });
    expect(sandboxRecord({ id: 's1', metadata: { name: 'p', uid: 'u', namespace: 'd', attempt: 1 }, state: 1, createdAt: '5000000', labels: {}, network: { ip: '', additionalIps: [] } })).toEqual({
      id: 's1',
      ready: false,
      attempt: 1,
      createdAt: 5,
      ip: '',
    });
  });

  it('orders newest first and finds the latest and previous container of a name', () => {
    const base = { state: 'exited' as const, startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', message: '', image: '', imageRef: '' };
    const st = podStatusOf(
      'u1',
      [
        { id: 'old', ready: false, attempt: 0, createdAt: 1, ip: '' },
        { id: 'new', ready: true, attempt: 1, createdAt: 2, ip: '10.0.0.9' },
      ],
      [
        { ...base, id: 'a0', name: 'a', attempt: 0, createdAt: 10 },
        { ...base, id: 'a1', name: 'a', attempt: 1, createdAt: 20 },
        { ...base, id: 'b0', name: 'b', attempt: 0, createdAt: 15 },
      ],
    );
    expect(st.sandboxes.map((s) => s.id)).toEqual(['new', 'old']);
    expect(latestContainers(st, 'a')).toMatchObject({ latest: { id: 'a1' }, previous: { id: 'a0' } });
    expect(latestContainers(st, 'b')).toEqual({ latest: expect.objectContaining({ id: 'b0' }) });
    expect(latestContainers(st, 'zzz')).toEqual({});
    expect(podIp(st)).toBe('10.0.0.9');
    expect(podIp(undefined)).toBe('');
  });
});
