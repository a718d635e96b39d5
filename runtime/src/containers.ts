import { CONTAINER_STATE_NAMES, ContainerState, type ContainerConfig, type ContainerFilter, type ContainerStateValue } from './cri-types.js';
import type { ProcessPlan } from './processes.js';
import { labelsMatch } from './sandboxes.js';

/**
 * A container in the runtime's store. Like containerd's containerstore.Status
 * the state is not stored but follows from the timestamps, so a transition
 * only ever sets times, codes and flags.
 */
export interface Container {
  readonly id: string;
  /** The reserved name: `<container>_<pod>_<namespace>_<uid>_<attempt>`. */
  readonly name: string;
  readonly sandboxId: string;
  readonly config: ContainerConfig;
  /** The image id (`sha256:…`): containerd's container.ImageRef. */
  readonly imageId: string;
  /** Sandbox log directory joined with the container log path; '' when either is missing. */
  readonly logPath: string;
  readonly createdAt: bigint;
  readonly startedAt: bigint;
  readonly finishedAt: bigint;
  readonly exitCode: number;
  /** Set only for start failures; the status call derives Completed/Error from the exit code otherwise. */
  readonly reason: string;
  readonly message: string;
  readonly pid: number;
  readonly starting: boolean;
  readonly removing: boolean;
  readonly plan: ProcessPlan;
  readonly stopSignal: string;
}

/** containerd's errorStartExitCode / errorStartReason. */
export const START_ERROR = { exitCode: 128, reason: 'StartError' } as const;
/** 128 + SIGKILL. */
export const KILLED_EXIT_CODE = 137;

export function containerState(c: Container): ContainerStateValue {
  if (c.finishedAt !== 0n) return ContainerState.EXITED;
  if (c.startedAt !== 0n) return ContainerState.RUNNING;
  if (c.createdAt !== 0n) return ContainerState.CREATED;
  return ContainerState.UNKNOWN;
}

/** toCRIContainerStatus: an exited container without a recorded reason is Completed on 0, Error otherwise. */
export function exitReason(c: Container): string {
  if (containerState(c) !== ContainerState.EXITED || c.reason !== '') return c.reason;
  return c.exitCode === 0 ? 'Completed' : 'Error';
}

/** setContainerStarting: the inner error text when the container cannot be started. */
export function beginStart(c: Container): Container | { error: string } {
  const state = containerState(c);
  if (state !== ContainerState.CREATED) return { error: `container is in ${CONTAINER_STATE_NAMES[state]} state` };
  if (c.removing) return { error: "container is in removing state, can't be started" };
  if (c.starting) return { error: 'container is already in starting state' };
  return { ...c, starting: true };
}

export function started(c: Container, pid: number, now: bigint): Container {
  return { ...c, starting: false, pid, startedAt: now };
}

/** A failed start leaves the container EXITED with 128/StartError and the error text as message. */
export function startFailed(c: Container, message: string, now: bigint): Container {
  return { ...c, starting: false, pid: 0, finishedAt: now, exitCode: START_ERROR.exitCode, reason: START_ERROR.reason, message };
}

/** The task exited. Only a running container can exit; a second exit event changes nothing. */
export function exited(c: Container, exitCode: number, now: bigint): Container {
  if (containerState(c) !== ContainerState.RUNNING) return c;
  return { ...c, pid: 0, finishedAt: now, exitCode };
}

/** setContainerRemoving. */
export function beginRemove(c: Container): Container | { error: string } {
  const state = containerState(c);
  if (state === ContainerState.RUNNING) return { error: 'container is still running, to stop first' };
  if (state === ContainerState.UNKNOWN) return { error: 'container state is unknown, to stop first' };
  if (c.starting) return { error: "container is in starting state, can't be removed" };
  if (c.removing) return { error: 'container is already in removing state' };
  return { ...c, removing: true };
}

/** filterCRIContainers; ids already widened from unique prefixes by the caller. */
export function filterContainers(
  containers: readonly Container[],
  filter: ContainerFilter | null,
  full: { id: string; podSandboxId: string },
): Container[] {
  if (!filter) return [...containers];
  return containers.filter(
    (c) =>
      (full.id === '' || c.id === full.id) &&
      (full.podSandboxId === '' || c.sandboxId === full.podSandboxId) &&
      (filter.state === null || filter.state.state === containerState(c)) &&
      labelsMatch(c.config.labels, filter.labelSelector),
  );
}
