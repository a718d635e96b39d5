import { describe, expect, it } from 'vitest';
import { displayStage, nextStep, POD_STAGES, type WorkerEvent, type WorkerState } from '../src/pod-stages.js';

describe('pod stage table', () => {
  it.each([
    ['syncing', 'update', false, 'syncing', 'syncPod'],
    ['syncing', 'deletion-requested', true, 'terminating', 'syncTerminatingPod'],
    ['syncing', 'removed', true, 'terminating', 'syncTerminatingPod'],
    ['syncing', 'completed', false, 'terminating', 'syncTerminatingPod'],
    ['syncing', 'stopped', false, 'syncing', 'none'],
    ['terminating', 'update', true, 'terminating', 'none'],
    ['terminating', 'deletion-requested', true, 'terminating', 'none'],
    ['terminating', 'stopped', true, 'terminated', 'syncTerminatedPod'],
    ['terminated', 'cleaned', true, 'terminated', 'deletePod'],
    ['terminated', 'cleaned', false, 'terminated', 'none'],
    ['terminated', 'deletion-requested', true, 'terminated', 'deletePod'],
    ['terminated', 'removed', true, 'terminated', 'deletePod'],
    ['terminated', 'update', false, 'terminated', 'none'],
    ['terminated', 'deleted', true, 'finished', 'removeRuntimePod'],
    ['finished', 'update', false, 'finished', 'none'],
    ['finished', 'removed', true, 'finished', 'none'],
  ] as const)('%s + %s (deleting %s) → %s, %s', (from, on, deleting, to, work) => {
    expect(nextStep(from, on, deleting)).toMatchObject({ to, work });
  });

  it('every row says why', () => {
    for (const row of POD_STAGES) expect(row.why.length).toBeGreaterThan(10);
  });

  /** Drives the table through a life, as the pod worker does: each work item reports the event it ends with. */
  function life(events: Array<[WorkerEvent, boolean]>): Array<[WorkerState, string]> {
    let state: WorkerState = 'syncing';
    const out: Array<[WorkerState, string]> = [];
    for (const [e, deleting] of events) {
      const step = nextStep(state, e, deleting);
      state = step.to;
      out.push([state, step.work]);
    }
    return out;
  }

  it('a served pod deleted gracefully', () => {
    expect(
      life([
        ['update', false],
        ['update', false],
        ['deletion-requested', true],
        ['stopped', true],
        ['cleaned', true],
        ['deleted', true],
        ['removed', true],
      ]),
    ).toEqual([
      ['syncing', 'syncPod'],
      ['syncing', 'syncPod'],
      ['terminating', 'syncTerminatingPod'],
      ['terminated', 'syncTerminatedPod'],
      ['terminated', 'deletePod'],
      ['finished', 'removeRuntimePod'],
      ['finished', 'none'],
    ]);
  });

  it('a job that completes, then is deleted later', () => {
    expect(
      life([
        ['update', false],
        ['completed', false],
        ['stopped', false],
        ['cleaned', false],
        ['update', false],
        ['deletion-requested', true],
        ['deleted', true],
      ]).map(([, w]) => w),
    ).toEqual(['syncPod', 'syncTerminatingPod', 'syncTerminatedPod', 'none', 'none', 'deletePod', 'removeRuntimePod']);
  });

  it.each([
    ['syncing', 'Running', false, 'Running'],
    ['syncing', undefined, false, 'Pending'],
    ['terminated', 'Succeeded', false, 'Completed'],
    ['terminating', 'Running', true, 'Terminating'],
    ['finished', 'Succeeded', true, 'Deleted'],
  ] as const)('shown as: %s/%s/deleting %s → %s', (state, phase, deleting, want) => {
    expect(displayStage(state, phase, deleting)).toBe(want);
  });
});
