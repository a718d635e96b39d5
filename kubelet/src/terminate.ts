import { criErrorText, isCriNotFound } from './cri-client.js';
import { aggregate, endSpan, goQuote, startSpan, type NodeContext, type PodRecord } from './node-context.js';
import { generatePodStatus } from './pod-status.js';
import type { RuntimePodStatus } from './runtime-status.js';
import { terminationSpan } from './spans.js';

/**
 * The end of a pod on a node: SyncTerminatingPod (stop the containers within
 * the grace period, stop the sandbox, read the final state back),
 * SyncTerminatedPod (the terminal status), and the container GC's removal of
 * what the runtime still holds once the pod is gone from the API.
 */

const ref = (r: PodRecord) => ({ uid: r.uid, name: r.pod.metadata.name ?? '', namespace: r.pod.metadata.namespace ?? 'default' });

/** The kubelet never waits less than 2 s for a graceful stop (minimumGracePeriodInSeconds); a force deletion gets 1 s. */
export function gracePeriodSeconds(r: PodRecord): number {
  if (r.removed) return 1;
  const grace = r.pod.metadata.deletionGracePeriodSeconds ?? r.pod.spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(2, grace);
}

export async function syncTerminatingPod(n: NodeContext, r: PodRecord, runtime: RuntimePodStatus | undefined): Promise<void> {
  const t = n.tracing.cri;
  const { span, ctx } = startSpan(n, terminationSpan(n.cfg.profile, 'syncTerminatingPod', ref(r)));
  const failures: string[] = [];
  try {
    const previous = n.status.get(r.uid);
    n.status.setPodStatus(r.pod, generatePodStatus({ pod: r.pod, runtime, nodeIp: n.spec.ip, now: new Date(), reasons: r.reasons, podIsTerminal: false, previous }));
    const grace = gracePeriodSeconds(r);
    const running = (runtime?.containers ?? []).filter((c) => c.state === 'running' || c.state === 'created');
    // killContainersWithSyncResult stops every container at once.
    await Promise.all(
      running.map(async (c) => {
        n.events.event(r.pod, { type: 'Normal', reason: 'Killing', message: `Stopping container ${c.name}`, fieldPath: `spec.containers{${c.name}}` });
        try {
          await n.cri.runtime('StopContainer', { containerId: c.id, timeout: String(grace) }, t, ctx);
        } catch (err) {
          if (!isCriNotFound(err)) failures.push(`failed to "KillContainer" for ${goQuote(c.name)} with KillContainerError: ${goQuote(criErrorText(err))}`);
        }
      }),
    );
    for (const sb of runtime?.sandboxes ?? []) {
      if (!sb.ready) continue;
      try {
        await n.cri.runtime('StopPodSandbox', { podSandboxId: sb.id }, t, ctx);
      } catch (err) {
        if (!isCriNotFound(err)) failures.push(`failed to "KillPodSandbox" for ${goQuote(r.uid)} with KillPodSandboxError: ${goQuote(criErrorText(err))}`);
      }
    }
    // Read back what the runtime now says, so the final status has exit codes and finish times.
    const stopped = await n.pleg.podStatus(r.uid, ctx).catch((err: unknown) => {
      failures.push(`unable to read pod status prior to final pod termination: ${criErrorText(err)}`);
      return runtime;
    });
    if (stopped) n.pleg.set(r.uid, stopped);
    r.reasons.clear();
    n.status.setPodStatus(r.pod, generatePodStatus({ pod: r.pod, runtime: stopped, nodeIp: n.spec.ip, now: new Date(), reasons: r.reasons, podIsTerminal: true, previous: n.status.get(r.uid) }));
  } finally {
    endSpan(n, span, aggregate(failures));
  }
  if (failures.length > 0) throw new Error(failures.join('; '));
}

export function syncTerminatedPod(n: NodeContext, r: PodRecord): void {
  const { span } = startSpan(n, terminationSpan(n.cfg.profile, 'syncTerminatedPod', ref(r)));
  // Volumes, cgroups and user namespaces are released here in a real kubelet; the simulation holds none.
  const final = generatePodStatus({ pod: r.pod, runtime: n.pleg.get(r.uid), nodeIp: n.spec.ip, now: new Date(), reasons: r.reasons, podIsTerminal: true, previous: n.status.get(r.uid) });
  n.status.setPodStatus(r.pod, final);
  endSpan(n, span, undefined);
}

/** The containerDeletor and sandbox GC: RemoveContainer, then RemovePodSandbox, as background roots. */
export async function removeRuntimePod(n: NodeContext, r: PodRecord): Promise<void> {
  const t = n.tracing.cri;
  const status = n.pleg.get(r.uid) ?? (await n.pleg.podStatus(r.uid).catch(() => undefined));
  for (const c of status?.containers ?? []) {
    await n.cri.runtime('RemoveContainer', { containerId: c.id }, t).catch((err: unknown) => {
      n.log.error('kuberuntime_gc.go:150', 'Failed to remove container', { containerID: c.id, err: criErrorText(err) });
    });
  }
  for (const sb of status?.sandboxes ?? []) {
    await n.cri.runtime('RemovePodSandbox', { podSandboxId: sb.id }, t).catch((err: unknown) => {
      n.log.error('kuberuntime_gc.go:178', 'Failed to remove sandbox', { sandboxID: sb.id, err: criErrorText(err) });
    });
  }
  n.pleg.delete(r.uid);
}
