import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from '../../shared/src/index.js';
import { qosClass } from './pod-config.js';
import { latestContainers, podIp, type ContainerRecord, type RuntimePodStatus } from './runtime-status.js';

/**
 * The pod status the kubelet reports (kubelet_pods.go generateAPIPodStatus,
 * getPhase, convertToAPIContainerStatuses; pkg/kubelet/status conditions),
 * as pure functions of the pod, the runtime's view and what the last sync
 * learnt.
 */

export type Phase = NonNullable<PodStatus['phase']>;

/** Why a container is not running, from the last sync (the kubelet's reasonCache). */
export interface WaitingReason {
  readonly reason: string;
  readonly message: string;
}

export interface StatusInputs {
  readonly pod: Pod;
  readonly runtime: RuntimePodStatus | undefined;
  readonly nodeIp: string;
  readonly now: Date;
  readonly reasons: ReadonlyMap<string, WaitingReason>;
  /** The pod worker has stopped everything (deletion or completion): the phase must be terminal. */
  readonly podIsTerminal: boolean;
  /** The status set last time, for transition times and the start time. */
  readonly previous: PodStatus | undefined;
}

/** metav1.Time: RFC 3339 in seconds. */
export function apiTime(ms: number | Date): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function terminated(c: ContainerRecord): ContainerState {
  return {
    terminated: {
      exitCode: c.exitCode,
      reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
      ...(c.message ? { message: c.message } : {}),
      startedAt: apiTime(c.startedAt || c.createdAt),
      finishedAt: apiTime(c.finishedAt),
      containerID: `containerd://${c.id}`,
    },
  };
}

function containerStatus(spec: Container, runtime: RuntimePodStatus | undefined, reasons: ReadonlyMap<string, WaitingReason>, defaultWaiting: string): ContainerStatus {
  const { latest, previous } = latestContainers(runtime, spec.name);
  const reason = reasons.get(spec.name);
  if (!latest) {
    return {
      name: spec.name,
      state: { waiting: { reason: reason?.reason ?? defaultWaiting, ...(reason?.message ? { message: reason.message } : {}) } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: spec.image ?? '',
      imageID: '',
      started: false,
    };
  }
  const running = latest.state === 'running';
  let state: ContainerState =
    running ? { running: { startedAt: apiTime(latest.startedAt) } } : latest.state === 'exited' ? terminated(latest) : { waiting: { reason: 'ContainerCreating' } };
  let lastState: ContainerState = previous?.state === 'exited' ? terminated(previous) : {};
  if (reason && !running) {
    if (state.terminated) lastState = state;
    state = { waiting: { reason: reason.reason, ...(reason.message ? { message: reason.message } : {}) } };
  }
  return {
    name: spec.name,
    state,
    lastState,
    ready: running,
    restartCount: latest.attempt,
    image: latest.image || (spec.image ?? ''),
    imageID: latest.imageRef,
    containerID: `containerd://${latest.id}`,
    started: running,
  };
}

/** getPhase, as of 1.27+ (a terminal pod is Succeeded or Failed whatever its restart policy). */
export function getPhase(pod: Pod, init: readonly ContainerStatus[], regular: readonly ContainerStatus[], podIsTerminal: boolean): Phase {
  const policy = pod.spec.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of pod.spec.initContainers ?? []) {
    const s = init.find((x) => x.name === c.name);
    if (!s || s.state.running) pendingInit++;
    else if (s.state.terminated) failedInit += s.state.terminated.exitCode !== 0 ? 1 : 0;
    else if (s.lastState?.terminated) failedInit += s.lastState.terminated.exitCode !== 0 ? 1 : 0;
    else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of pod.spec.containers ?? []) {
    const s = regular.find((x) => x.name === c.name);
    if (!s) unknown++;
    else if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return policy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

const list = (names: readonly string[]): string => `[${names.join(' ')}]`;

function readiness(type: 'Ready' | 'ContainersReady', pod: Pod, statuses: readonly ContainerStatus[], phase: Phase): Omit<PodCondition, 'lastTransitionTime'> {
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of pod.spec.containers ?? []) {
    const s = statuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type, status: 'False', reason: 'PodCompleted' };
  const msgs = [
    ...(unknown.length > 0 ? [`containers with unknown status: ${list(unknown)}`] : []),
    ...(unready.length > 0 ? [`containers with unready status: ${list(unready)}`] : []),
  ];
  if (msgs.length > 0) return { type, status: 'False', reason: 'ContainersNotReady', message: msgs.join(', ') };
  return { type, status: 'True' };
}

function initialized(pod: Pod, init: readonly ContainerStatus[], phase: Phase): Omit<PodCondition, 'lastTransitionTime'> {
  const specs = pod.spec.initContainers ?? [];
  if (specs.length === 0) return { type: 'Initialized', status: 'True' };
  const incomplete = specs.filter((c) => init.find((s) => s.name === c.name)?.state.terminated?.exitCode !== 0).map((c) => c.name);
  if (incomplete.length === 0) return { type: 'Initialized', status: 'True', ...(phase === 'Succeeded' ? { reason: 'PodCompleted' } : {}) };
  return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: ${list(incomplete)}` };
}

/** The status the kubelet sets for a pod; conditions keep their transition time while their status holds. */
export function generatePodStatus(i: StatusInputs): PodStatus {
  const { pod, runtime } = i;
  const initSpecs = pod.spec.initContainers ?? [];
  const initStatuses = initSpecs.map((c) => containerStatus(c, runtime, i.reasons, 'PodInitializing'));
  const initDone = initSpecs.every((c) => initStatuses.find((s) => s.name === c.name)?.state.terminated?.exitCode === 0);
  const statuses = (pod.spec.containers ?? []).map((c) => containerStatus(c, runtime, i.reasons, initDone ? 'ContainerCreating' : 'PodInitializing'));
  const oldPhase = i.previous?.phase ?? pod.status?.phase;
  // A terminal phase, once reported, never changes.
  const phase: Phase = oldPhase === 'Succeeded' || oldPhase === 'Failed' ? oldPhase : getPhase(pod, initStatuses, statuses, i.podIsTerminal);
  // A stopped sandbox has no IP any more; the pod keeps reporting the one it had.
  const ip = podIp(runtime) || (i.previous?.podIP ?? '');
  const sandboxReady = runtime?.sandboxes[0]?.ready === true;
  const generation = pod.metadata.generation;
  const stamp = (c: Omit<PodCondition, 'lastTransitionTime'>): PodCondition => {
    const old = (i.previous?.conditions ?? pod.status?.conditions)?.find((x) => x.type === c.type);
    const lastTransitionTime = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : apiTime(i.now);
    return { type: c.type, status: c.status, ...(generation !== undefined ? { observedGeneration: generation } : {}), lastProbeTime: null, lastTransitionTime, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) } as PodCondition;
  };
  const conditions = [
    stamp({ type: 'PodReadyToStartContainers', status: sandboxReady ? 'True' : 'False' }),
    stamp(initialized(pod, initStatuses, phase)),
    stamp(readiness('Ready', pod, statuses, phase)),
    stamp(readiness('ContainersReady', pod, statuses, phase)),
    stamp({ type: 'PodScheduled', status: 'True' }),
  ];
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase,
    conditions,
    hostIP: i.nodeIp,
    hostIPs: [{ ip: i.nodeIp }],
    ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
    startTime: i.previous?.startTime ?? pod.status?.startTime ?? apiTime(i.now),
    ...(initSpecs.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    qosClass: qosClass(pod),
  };
}
