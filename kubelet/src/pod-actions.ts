import { formatGoDuration, type Container, type Pod } from '../../shared/src/index.js';
import { latestContainers, type ContainerRecord, type RuntimePodStatus } from './runtime-status.js';
import type { KubeletProfile } from './spans.js';

/**
 * What SyncPod must do to a pod (kuberuntime_manager.go computePodActions,
 * with the restart back-off of doBackOff and the image manager's pull
 * decision), as pure functions of the pod spec and the runtime's view.
 */

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The apiserver's defaulting: `:latest` or no tag pulls Always, anything else IfNotPresent. */
export function pullPolicy(c: Container): PullPolicy {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const image = c.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Whether the image manager asks ImageStatus before deciding (imagePullPrecheck). */
export function checksImageFirst(p: KubeletProfile, policy: PullPolicy): boolean {
  return policy !== 'Always' || p.imageStatusBeforeAlwaysPull;
}

export type PullDecision = 'pull' | 'present' | 'never-pull';

export function pullDecision(policy: PullPolicy, present: boolean): PullDecision {
  if (policy === 'Always') return 'pull';
  if (present) return 'present';
  return policy === 'Never' ? 'never-pull' : 'pull';
}

/** flowcontrol.Backoff's entry for one container. */
export interface Backoff {
  readonly durationMs: number;
  readonly lastUpdate: number;
}

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The kubelet's crash-loop back-off: 10 s doubling to 5 min. */
export const CRASH_LOOP_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };

const expired = (b: Backoff, at: number, policy: BackoffPolicy): boolean => at - b.lastUpdate > 2 * policy.maxMs;

/** IsInBackOffSince(key, finishedAt). */
export function inBackoff(b: Backoff | undefined, finishedAt: number, now: number, policy: BackoffPolicy): boolean {
  if (!b || expired(b, finishedAt, policy)) return false;
  return now - finishedAt < b.durationMs;
}

/** Next(key, finishedAt): the first restart is immediate, then the wait doubles up to the cap. */
export function nextBackoff(b: Backoff | undefined, at: number, policy: BackoffPolicy): Backoff {
  if (!b || expired(b, at, policy)) return { durationMs: policy.initialMs, lastUpdate: at };
  return { durationMs: Math.min(b.durationMs * 2, policy.maxMs), lastUpdate: at };
}

/** format.Pod: `name_namespace(uid)`. */
export function podDesc(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid})`;
}

/** kubecontainer.ShouldContainerBeRestarted for the newest container of a name. */
export function shouldStart(pod: Pod, latest: ContainerRecord | undefined): boolean {
  if (!latest) return true;
  if (latest.state === 'running') return false;
  if (latest.state === 'created' || latest.state === 'unknown') return true;
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return latest.exitCode !== 0;
  return true;
}

export interface StartAction {
  readonly name: string;
  readonly init: boolean;
  /** The restart count the new container carries (attempt in its metadata). */
  readonly attempt: number;
  /** The container's back-off after this start, when it is a restart. */
  readonly backoff?: Backoff;
}

export interface BackoffWait {
  readonly name: string;
  /** The CrashLoopBackOff error text. */
  readonly message: string;
  readonly retryAt: number;
}

export interface PodActions {
  readonly createSandbox: boolean;
  readonly sandboxAttempt: number;
  /** The ready sandbox to start containers in, when one exists. */
  readonly sandboxId: string;
  readonly start: readonly StartAction[];
  readonly waiting: readonly BackoffWait[];
}

interface Ctx {
  readonly now: number;
  readonly backoffs: ReadonlyMap<string, Backoff>;
  readonly policy: BackoffPolicy;
}

function startOrWait(pod: Pod, name: string, init: boolean, latest: ContainerRecord | undefined, ctx: Ctx): { start?: StartAction; wait?: BackoffWait } {
  if (!latest) return { start: { name, init, attempt: 0 } };
  const attempt = latest.attempt + 1;
  if (latest.state !== 'exited') return { start: { name, init, attempt } };
  const b = ctx.backoffs.get(name);
  if (inBackoff(b, latest.finishedAt, ctx.now, ctx.policy)) {
    const d = (b as Backoff).durationMs;
    return {
      wait: { name, message: `back-off ${formatGoDuration(d)} restarting failed container=${name} pod=${podDesc(pod)}`, retryAt: latest.finishedAt + d },
    };
  }
  return { start: { name, init, attempt, backoff: nextBackoff(b, latest.finishedAt, ctx.policy) } };
}

export function computePodActions(pod: Pod, status: RuntimePodStatus | undefined, ctx: Ctx): PodActions {
  const newest = status?.sandboxes[0];
  const restartable = (pod.spec.restartPolicy ?? 'Always') !== 'Never';
  let createSandbox = !newest || !newest.ready;
  const sandboxAttempt = newest ? newest.attempt + (newest.ready ? 0 : 1) : 0;
  // A pod whose containers are all done and will not restart gets no new sandbox just to be torn down.
  if (createSandbox && newest && !restartable && (status?.containers.length ?? 0) > 0) {
    return { createSandbox: false, sandboxAttempt, sandboxId: '', start: [], waiting: [] };
  }
  // A new sandbox starts everything again, init containers first.
  const view = createSandbox ? undefined : status;
  const start: StartAction[] = [];
  const waiting: BackoffWait[] = [];
  for (const c of pod.spec.initContainers ?? []) {
    const { latest } = latestContainers(view, c.name);
    if (latest && latest.state === 'exited' && latest.exitCode === 0) continue;
    if (latest && latest.state === 'running') return { createSandbox, sandboxAttempt, sandboxId: newest?.id ?? '', start, waiting };
    if (latest && latest.state === 'exited' && !restartable) return { createSandbox, sandboxAttempt, sandboxId: newest?.id ?? '', start, waiting };
    const r = startOrWait(pod, c.name, true, latest, ctx);
    if (r.start) start.push(r.start);
    if (r.wait) waiting.push(r.wait);
    return { createSandbox, sandboxAttempt, sandboxId: createSandbox ? '' : (newest?.id ?? ''), start, waiting };
  }
  for (const c of pod.spec.containers ?? []) {
    const { latest } = latestContainers(view, c.name);
    if (!shouldStart(pod, latest)) continue;
    const r = startOrWait(pod, c.name, false, latest, ctx);
    if (r.start) start.push(r.start);
    if (r.wait) waiting.push(r.wait);
  }
  createSandbox = createSandbox && (start.length > 0 || waiting.length > 0 || !newest);
  return { createSandbox, sandboxAttempt, sandboxId: createSandbox ? '' : (newest?.id ?? ''), start, waiting };
}
