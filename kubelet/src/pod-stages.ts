/**
 * A pod's life on a node as data (style P10): the pod worker's states
 * (pod_workers.go: syncing → terminating → terminated → finished), the
 * events that move it, and the work each move starts. `nextStep` is the
 * pure engine over this table; the pod worker applies what it returns and
 * never decides on its own.
 */

export type WorkerState = 'syncing' | 'terminating' | 'terminated' | 'finished';

export type WorkerEvent =
  /** The pod changed in the API, the PLEG saw its containers change, a resync or retry came due. */
  | 'update'
  /** deletionTimestamp appeared: a graceful deletion. */
  | 'deletion-requested'
  /** The pod is gone from the API (force deletion, or our final DELETE landed first). */
  | 'removed'
  /** SyncPod found every container done with none to restart (Succeeded/Failed). */
  | 'completed'
  /** syncTerminatingPod stopped every container and the sandbox. */
  | 'stopped'
  /** syncTerminatedPod finished; the status manager may now delete the pod. */
  | 'cleaned'
  /** The final DELETE succeeded (or was not needed). */
  | 'deleted';

export type Work =
  /** SyncPod: reconcile the runtime with the spec and report status. */
  | 'syncPod'
  /** SyncTerminatingPod: StopContainer with the grace period, StopPodSandbox, final status. */
  | 'syncTerminatingPod'
  /** SyncTerminatedPod: volumes and cgroups (nothing to do in the simulation) and the terminal status. */
  | 'syncTerminatedPod'
  /** The status manager's last PATCH, then DELETE with grace 0 and the uid precondition. */
  | 'deletePod'
  /** Garbage collection of what the runtime still holds: RemoveContainer, RemovePodSandbox. */
  | 'removeRuntimePod'
  | 'none';

export interface StageRow {
  readonly from: WorkerState | '*';
  readonly on: readonly WorkerEvent[];
  /** Only when the pod is (or is not) on its way out of the API. */
  readonly deleting?: boolean;
  readonly to: WorkerState;
  readonly work: Work;
  readonly why: string;
}

export const POD_STAGES: readonly StageRow[] = [
  { from: 'finished', on: ['update', 'deletion-requested', 'removed', 'completed', 'stopped', 'cleaned', 'deleted'], to: 'finished', work: 'none', why: 'the pod is forgotten; late watch events change nothing' },
  { from: 'syncing', on: ['update'], to: 'syncing', work: 'syncPod', why: 'the desired or observed state changed: reconcile' },
  { from: 'syncing', on: ['deletion-requested', 'removed'], to: 'terminating', work: 'syncTerminatingPod', why: 'deletion stops the containers within the grace period' },
  { from: 'syncing', on: ['completed'], to: 'terminating', work: 'syncTerminatingPod', why: 'nothing will run again: the sandbox goes, the phase is final' },
  { from: 'terminating', on: ['stopped'], to: 'terminated', work: 'syncTerminatedPod', why: 'everything stopped: release what the pod held' },
  { from: 'terminating', on: ['update', 'deletion-requested', 'removed', 'completed'], to: 'terminating', work: 'none', why: 'already stopping; the stop under way wins' },
  { from: 'terminated', on: ['cleaned'], deleting: true, to: 'terminated', work: 'deletePod', why: 'a deleted pod is finished off in the API once its resources are reclaimed' },
  { from: 'terminated', on: ['deletion-requested', 'removed'], to: 'terminated', work: 'deletePod', why: 'a completed pod being deleted needs no stop, only the final DELETE' },
  { from: 'terminated', on: ['deleted'], to: 'finished', work: 'removeRuntimePod', why: 'gone from the API: the container GC removes what is left in the runtime' },
  { from: 'terminated', on: ['update', 'cleaned', 'completed'], to: 'terminated', work: 'none', why: 'a completed pod keeps its final status until someone deletes it' },
];

/** The first row matching the state, event and deletion flag; no row means nothing happens. */
export function nextStep(state: WorkerState, event: WorkerEvent, deleting: boolean): { to: WorkerState; work: Work; why: string } {
  for (const row of POD_STAGES) {
    if (row.from !== '*' && row.from !== state) continue;
    if (!row.on.includes(event)) continue;
    if (row.deleting !== undefined && row.deleting !== deleting) continue;
    return { to: row.to, work: row.work, why: row.why };
  }
  return { to: state, work: 'none', why: 'no transition' };
}

/** What `kubectl get pods` shows for a worker state and reported phase (the STATUS column, simplified). */
export function displayStage(state: WorkerState, phase: string | undefined, deleting: boolean): string {
  if (deleting && state !== 'finished') return 'Terminating';
  if (state === 'finished') return 'Deleted';
  return phase === 'Succeeded' ? 'Completed' : (phase ?? 'Pending');
}
