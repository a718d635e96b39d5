/**
 * What the kubelet knows about a pod from the runtime (kubecontainer.PodStatus),
 * built from CRI responses by pure functions, and the PLEG's comparison of
 * two relists. CRI messages arrive as the project's proto loader decodes
 * them: camelCase, int64 nanoseconds as strings, enums as numbers.
 */

export const LABEL = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
} as const;

export const ANNOTATION = {
  containerHash: 'io.kubernetes.container.hash',
  restartCount: 'io.kubernetes.container.restartCount',
  terminationMessagePath: 'io.kubernetes.container.terminationMessagePath',
  terminationMessagePolicy: 'io.kubernetes.container.terminationMessagePolicy',
  terminationGracePeriod: 'io.kubernetes.pod.terminationGracePeriod',
  containerPorts: 'io.kubernetes.container.ports',
} as const;

export interface CriSandbox {
  id: string;
  metadata: { name: string; uid: string; namespace: string; attempt: number } | null;
  state: number;
  createdAt: string;
  labels: Record<string, string>;
}

export interface CriSandboxStatus extends CriSandbox {
  network: { ip: string; additionalIps: Array<{ ip: string }> } | null;
}

export interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  state: number;
  createdAt: string;
  labels: Record<string, string>;
}

export interface CriContainerStatus {
  id: string;
  metadata: { name: string; attempt: number } | null;
  state: number;
  createdAt: string;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  image: { image: string } | null;
  imageRef: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export type ContainerRunState = 'created' | 'running' | 'exited' | 'unknown';
const STATES: readonly ContainerRunState[] = ['created', 'running', 'exited', 'unknown'];

export interface SandboxRecord {
  readonly id: string;
  readonly ready: boolean;
  readonly attempt: number;
  /** Unix milliseconds. */
  readonly createdAt: number;
  readonly ip: string;
}

export interface ContainerRecord {
  readonly id: string;
  readonly name: string;
  /** The restart count this container was created with. */
  readonly attempt: number;
  readonly state: ContainerRunState;
  readonly createdAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly exitCode: number;
  readonly reason: string;
  readonly message: string;
  readonly image: string;
  readonly imageRef: string;
}

export interface RuntimePodStatus {
  readonly uid: string;
  /** Newest first, as GetPodStatus orders them. */
  readonly sandboxes: readonly SandboxRecord[];
  /** Newest first. */
  readonly containers: readonly ContainerRecord[];
}

const ms = (ns: string | undefined): number => (ns ? Number(BigInt(ns) / 1_000_000n) : 0);

export function sandboxRecord(s: CriSandboxStatus): SandboxRecord {
  return { id: s.id, ready: s.state === 0, attempt: s.metadata?.attempt ?? 0, createdAt: ms(s.createdAt), ip: s.network?.ip ?? '' };
}

export function containerRecord(c: CriContainerStatus): ContainerRecord {
  const restart = Number(c.annotations?.[ANNOTATION.restartCount] ?? c.metadata?.attempt ?? 0);
  return {
    id: c.id,
    name: c.metadata?.name ?? c.labels?.[LABEL.containerName] ?? '',
    attempt: Number.isFinite(restart) ? restart : 0,
    state: STATES[c.state] ?? 'unknown',
    createdAt: ms(c.createdAt),
    startedAt: ms(c.startedAt),
    finishedAt: ms(c.finishedAt),
    exitCode: c.exitCode,
    reason: c.reason,
    message: c.message,
    image: c.image?.image ?? '',
    imageRef: c.imageRef,
  };
}

export function podStatusOf(uid: string, sandboxes: readonly SandboxRecord[], containers: readonly ContainerRecord[]): RuntimePodStatus {
  return {
    uid,
    sandboxes: [...sandboxes].sort((a, b) => b.createdAt - a.createdAt),
    containers: [...containers].sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt),
  };
}

/** The newest container of that name, and the one before it (the last termination), if any. */
export function latestContainers(status: RuntimePodStatus | undefined, name: string): { latest?: ContainerRecord; previous?: ContainerRecord } {
  const all = (status?.containers ?? []).filter((c) => c.name === name);
  return { ...(all[0] ? { latest: all[0] } : {}), ...(all[1] ? { previous: all[1] } : {}) };
}

/** The pod IP: the newest ready sandbox's. */
export function podIp(status: RuntimePodStatus | undefined): string {
  return status?.sandboxes.find((s) => s.ready)?.ip ?? '';
}

/** What one relist saw of each container and sandbox: its pod and its state. */
export interface RelistEntry {
  readonly uid: string;
  readonly state: ContainerRunState | 'sandbox-ready' | 'sandbox-notready';
}

export function relistEntries(sandboxes: readonly CriSandbox[], containers: readonly CriContainer[]): Map<string, RelistEntry> {
  const out = new Map<string, RelistEntry>();
  for (const s of sandboxes) {
    const uid = s.metadata?.uid ?? s.labels?.[LABEL.podUid];
    if (uid) out.set(s.id, { uid, state: s.state === 0 ? 'sandbox-ready' : 'sandbox-notready' });
  }
  for (const c of containers) {
    const uid = c.labels?.[LABEL.podUid];
    if (uid) out.set(c.id, { uid, state: STATES[c.state] ?? 'unknown' });
  }
  return out;
}

export type PlegEventType = 'ContainerStarted' | 'ContainerDied' | 'ContainerRemoved' | 'ContainerChanged';

export interface PlegEvent {
  readonly uid: string;
  readonly id: string;
  readonly type: PlegEventType;
}

/**
 * GenericPLEG.relist's generateEvents: what changed between two relists, per
 * container (sandboxes count as containers). Creation alone is no event; a
 * container that vanished without being seen exited dies and is removed.
 */
export function relistEvents(prev: ReadonlyMap<string, RelistEntry>, curr: ReadonlyMap<string, RelistEntry>): PlegEvent[] {
  const events: PlegEvent[] = [];
  const norm = (s: RelistEntry['state'] | undefined): string => (s === 'sandbox-ready' ? 'running' : s === 'sandbox-notready' ? 'exited' : (s ?? 'non-existent'));
  for (const id of new Set([...prev.keys(), ...curr.keys()])) {
    const before = norm(prev.get(id)?.state);
    const after = norm(curr.get(id)?.state);
    if (before === after) continue;
    const uid = (curr.get(id) ?? prev.get(id))?.uid as string;
    if (after === 'running') events.push({ uid, id, type: 'ContainerStarted' });
    else if (after === 'exited') events.push({ uid, id, type: 'ContainerDied' });
    else if (after === 'unknown') events.push({ uid, id, type: 'ContainerChanged' });
    else if (after === 'non-existent') {
      if (before !== 'exited') events.push({ uid, id, type: 'ContainerDied' });
      events.push({ uid, id, type: 'ContainerRemoved' });
    }
  }
  return events;
}
