import { describe, expect, it } from 'vitest';
import type { ContainerStatus, Pod } from '../../shared/src/index.js';
import { qosClass } from '../src/pod-config.js';
import { generatePodStatus, getPhase, type StatusInputs } from '../src/pod-status.js';
import { podStatusOf, type ContainerRecord } from '../src/runtime-status.js';

const NOW = new Date('2025-06-01T10:00:05.400Z');
const T = (s: number): number => Date.parse('2025-06-01T10:00:00Z') + s * 1000;

function pod(spec: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'u1', generation: 1 },
    spec: { containers: [{ name: 'web', image: 'nginx' }], ...spec },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2025-06-01T09:59:59Z' }] },
  };
}

function ctr(state: ContainerRecord['state'], extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id: 'c'.repeat(64),
    name: 'web',
    attempt: 0,
    state,
    createdAt: T(1),
    startedAt: state === 'created' ? 0 : T(2),
    finishedAt: state === 'exited' ? T(4) : 0,
    exitCode: 0,
    reason: state === 'exited' ? 'Completed' : '',
    message: '',
    image: 'docker.io/library/nginx:latest',
    imageRef: 'docker.io/library/nginx@sha256:abc',
    ...extra,
  };
}

const inputs = (over: Partial<StatusInputs>): StatusInputs => ({ pod: pod(), runtime: undefined, nodeIp: '172.18.0.2', now: NOW, reasons: new Map(), podIsTerminal: false, previous: undefined, ...over });
const running = podStatusOf('u1', [{ id: 's1', ready: true, attempt: 0, createdAt: T(0), ip: '10.244.0.7' }], [ctr('running')]);

describe('getPhase', () => {
  const cs = (state: ContainerStatus['state'], lastState: ContainerStatus['lastState'] = {}, name = 'web'): ContainerStatus => ({ name, state, lastState, ready: false, restartCount: 0, image: '', imageID: '' });
  const exit = (exitCode: number) => ({ terminated: { exitCode } });
  it.each([
    ['waiting to be created', 'Always', [cs({ waiting: { reason: 'ContainerCreating' } })], false, 'Pending'],
    ['running', 'Always', [cs({ running: {} })], false, 'Running'],
    ['crash-looping under Always is Running', 'Always', [cs({ waiting: { reason: 'CrashLoopBackOff' } }, exit(1))], false, 'Running'],
    ['exited 0 under Never', 'Never', [cs(exit(0))], false, 'Succeeded'],
    ['exited 1 under Never', 'Never', [cs(exit(1))], false, 'Failed'],
    ['exited 1 under OnFailure restarts', 'OnFailure', [cs(exit(1))], false, 'Running'],
    ['exited 0 under OnFailure', 'OnFailure', [cs(exit(0))], false, 'Succeeded'],
    ['exited 0 under Always, still restarting', 'Always', [cs(exit(0))], false, 'Running'],
    ['deleted (terminal), all 0', 'Always', [cs(exit(0))], true, 'Succeeded'],
    ['deleted (terminal), killed', 'Always', [cs(exit(137))], true, 'Failed'],
    ['unknown container', 'Always', [], false, 'Pending'],
  ] as const)('%s', (_why, restartPolicy, statuses, terminal, want) => {
    expect(getPhase(pod({ restartPolicy }), [], statuses, terminal)).toBe(want);
  });

  it('init containers: pending while running, Failed when one fails under Never', () => {
    const p = pod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'busybox' }] });
    expect(getPhase(p, [cs({ running: {} }, {}, 'init')], [cs({ waiting: { reason: 'PodInitializing' } })], false)).toBe('Pending');
    expect(getPhase(p, [cs(exit(2), {}, 'init')], [cs({ waiting: { reason: 'PodInitializing' } })], false)).toBe('Failed');
  });
});

describe('generatePodStatus', () => {
  it('a pod just seen: Pending, ContainerCreating, scheduled, not ready', () => {
    expect(generatePodStatus(inputs({}))).toEqual({
      observedGeneration: 1,
      phase: 'Pending',
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'False', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2025-06-01T10:00:05Z' },
        { type: 'Initialized', status: 'True', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2025-06-01T10:00:05Z' },
        { type: 'Ready', status: 'False', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2025-06-01T10:00:05Z', reason: 'ContainersNotReady', message: 'containers with unready status: [web]' },
        { type: 'ContainersReady', status: 'False', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2025-06-01T10:00:05Z', reason: 'ContainersNotReady', message: 'containers with unready status: [web]' },
        // The scheduler's transition time stays.
        { type: 'PodScheduled', status: 'True', observedGeneration: 1, lastProbeTime: null, lastTransitionTime: '2025-06-01T09:59:59Z' },
      ],
      hostIP: '172.18.0.2',
      hostIPs: [{ ip: '172.18.0.2' }],
      startTime: '2025-06-01T10:00:05Z',
      containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: 'nginx', imageID: '', started: false }],
      qosClass: 'BestEffort',
    });
  });

  it('running: IPs from the sandbox, container running and ready, transition times kept while status holds', () => {
    const first = generatePodStatus(inputs({}));
    const later = generatePodStatus(inputs({ runtime: running, previous: first, now: new Date('2025-06-01T10:00:09Z') }));
    expect(later.phase).toBe('Running');
    expect(later.podIP).toBe('10.244.0.7');
    expect(later.podIPs).toEqual([{ ip: '10.244.0.7' }]);
    expect(later.startTime).toBe('2025-06-01T10:00:05Z');
    expect(later.conditions?.map((c) => [c.type, c.status, c.lastTransitionTime])).toEqual([
      ['PodReadyToStartContainers', 'True', '2025-06-01T10:00:09Z'],
      ['Initialized', 'True', '2025-06-01T10:00:05Z'],
      ['Ready', 'True', '2025-06-01T10:00:09Z'],
      ['ContainersReady', 'True', '2025-06-01T10:00:09Z'],
      ['PodScheduled', 'True', '2025-06-01T09:59:59Z'],
    ]);
    expect(later.containerStatuses?.[0]).toEqual({
      name: 'web',
      state: { running: { startedAt: '2025-06-01T10:00:02Z' } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: 'docker.io/library/nginx:latest',
      imageID: 'docker.io/library/nginx@sha256:abc',
      containerID: `containerd://${'c'.repeat(64)}`,
      started: true,
    });
  });

  it('crash-looping: waiting CrashLoopBackOff, the last termination kept, restartCount from the attempt', () => {
    const rt = podStatusOf('u1', running.sandboxes, [ctr('exited', { attempt: 2, exitCode: 1, reason: 'Error', id: 'b'.repeat(64) }), ctr('exited', { attempt: 1, exitCode: 1, reason: 'Error', createdAt: T(0) })]);
    const reasons = new Map([['web', { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=web pod=web_default(u1)' }]]);
    const st = generatePodStatus(inputs({ runtime: rt, reasons }));
    expect(st.phase).toBe('Running');
    const cs = st.containerStatuses?.[0];
    expect(cs?.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=web pod=web_default(u1)' } });
    expect(cs?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error', containerID: `containerd://${'b'.repeat(64)}` });
    expect(cs?.restartCount).toBe(2);
  });

  it('completed under Never: Succeeded, PodCompleted conditions, terminated state; a terminal phase never changes back', () => {
    const rt = podStatusOf('u1', [{ ...running.sandboxes[0]!, ready: false, ip: '' }], [ctr('exited')]);
    const previous = generatePodStatus(inputs({ runtime: running }));
    const st = generatePodStatus(inputs({ pod: pod({ restartPolicy: 'Never' }), runtime: rt, previous }));
    expect(st.phase).toBe('Succeeded');
    expect(st.podIP).toBe('10.244.0.7');
    expect(st.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(st.containerStatuses?.[0]?.state.terminated).toEqual({
      exitCode: 0,
      reason: 'Completed',
      startedAt: '2025-06-01T10:00:02Z',
      finishedAt: '2025-06-01T10:00:04Z',
      containerID: `containerd://${'c'.repeat(64)}`,
    });
    expect(generatePodStatus(inputs({ pod: pod({ restartPolicy: 'Never' }), runtime: running, previous: st })).phase).toBe('Succeeded');
  });

  it.each([
    ['no resources', {}, 'BestEffort'],
    ['requests only', { requests: { cpu: '100m' } }, 'Burstable'],
    ['limits equal requests', { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1Gi' } }, 'Guaranteed'],
    ['limits only (requests default to them)', { limits: { cpu: '1', memory: '64Mi' } }, 'Guaranteed'],
    ['memory limit missing', { limits: { cpu: '1' } }, 'Burstable'],
  ])('QoS class with %s: %s', (_why, resources, want) => {
    expect(qosClass(pod({ containers: [{ name: 'web', image: 'nginx', resources }] }))).toBe(want);
  });
});
