import { SandboxState, type ContainerMetadata, type PodSandboxConfig, type PodSandboxFilter, type PodSandboxMetadata, type SandboxStateValue } from './cri-types.js';
import { isHostNetwork } from './network.js';

/** A pod sandbox in the runtime's store. Transitions are pure functions returning a new record. */
export interface Sandbox {
  readonly id: string;
  /** The reserved name: `<pod>_<namespace>_<uid>_<attempt>`. */
  readonly name: string;
  readonly config: PodSandboxConfig;
  readonly runtimeHandler: string;
  readonly state: SandboxStateValue;
  /** Unix nanoseconds. */
  readonly createdAt: bigint;
  /** The pod IP CNI gave it; '' on the node's network. */
  readonly ip: string;
  readonly hostNetwork: boolean;
  /** Set once StopPodSandbox tore the network namespace down; the IP is then released. */
  readonly netnsClosed: boolean;
  /** The pause process. */
  readonly pid: number;
}

const NAME_DELIMITER = '_';

/** makeSandboxName. */
export function sandboxName(m: PodSandboxMetadata): string {
  return [m.name, m.namespace, m.uid, String(m.attempt)].join(NAME_DELIMITER);
}

/** makeContainerName: the sandbox metadata comes from the CreateContainer request and may be missing. */
export function containerName(c: ContainerMetadata, s: PodSandboxMetadata | null): string {
  return [c.name, s?.name ?? '', s?.namespace ?? '', s?.uid ?? '', String(c.attempt)].join(NAME_DELIMITER);
}

export function newSandbox(p: {
  id: string;
  name: string;
  config: PodSandboxConfig;
  runtimeHandler: string;
  ip: string;
  pid: number;
  now: bigint;
}): Sandbox {
  return {
    id: p.id,
    name: p.name,
    config: p.config,
    runtimeHandler: p.runtimeHandler,
    state: SandboxState.READY,
    createdAt: p.now,
    ip: p.ip,
    hostNetwork: isHostNetwork(p.config),
    netnsClosed: false,
    pid: p.pid,
  };
}

/** After StopPodSandbox: the pause task is gone and the network namespace removed. Stopping twice changes nothing. */
export function stoppedSandbox(sb: Sandbox): Sandbox {
  return { ...sb, state: SandboxState.NOTREADY, netnsClosed: true, pid: 0 };
}

/** getIPs: no IP for node-network pods or once the namespace is closed. */
export function sandboxIp(sb: Sandbox): string {
  return sb.hostNetwork || sb.netnsClosed ? '' : sb.ip;
}

/** Every key of the selector present with the same value. */
export function labelsMatch(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>> | null | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

/**
 * filterCRISandboxes. `id` has already been widened from a unique prefix to
 * the full id by the caller (normalizePodSandboxFilter), else it must match
 * exactly.
 */
export function filterSandboxes(sandboxes: readonly Sandbox[], filter: PodSandboxFilter | null, fullId: string): Sandbox[] {
  if (!filter) return [...sandboxes];
  return sandboxes.filter(
    (s) =>
      (fullId === '' || s.id === fullId) &&
      (filter.state === null || filter.state.state === s.state) &&
      labelsMatch(s.config.labels, filter.labelSelector),
  );
}
