import type { Context } from '@opentelemetry/api';
import { formatGoDuration, type Container } from '../../shared/src/index.js';
import { criErrorText } from './cri-client.js';
import { aggregate, endSpan, goQuote, remoteParent, startSpan, syncFailure, type NodeContext, type PodRecord, type SyncResult } from './node-context.js';
import { checksImageFirst, computePodActions, podDesc, pullDecision, pullPolicy, type StartAction } from './pod-actions.js';
import { containerConfig, sandboxConfig } from './pod-config.js';
import { generatePodStatus } from './pod-status.js';
import type { RuntimePodStatus } from './runtime-status.js';
import { syncPodParent, syncPodSpan, type UpdateType } from './spans.js';

/**
 * Kubelet.SyncPod with kubeGenericRuntimeManager.SyncPod beneath it: report
 * the status the pod has now, then make the runtime match the spec, every
 * CRI call a child of the `syncPod` span. Failures become the pod's waiting
 * reasons and the span's error; nothing here throws.
 */

const ref = (r: PodRecord) => ({ uid: r.uid, name: r.pod.metadata.name ?? '', namespace: r.pod.metadata.namespace ?? 'default' });

function fieldPath(c: StartAction): string {
  return `spec.${c.init ? 'initContainers' : 'containers'}{${c.name}}`;
}

interface ImageResult {
  readonly imageRef?: string;
  readonly failure?: { reason: string; message: string };
}

/** imageManager.EnsureImageExists, with its events. */
async function ensureImage(n: NodeContext, r: PodRecord, c: Container, start: StartAction, ctx: Context): Promise<ImageResult> {
  const t = n.tracing.cri;
  const policy = pullPolicy(c);
  const image = c.image ?? '';
  const spec = { image, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' };
  let present = false;
  let imageRef = '';
  if (checksImageFirst(n.cfg.profile, policy)) {
    try {
      const res = await n.cri.image<{ image: { id: string } | null }>('ImageStatus', { image: spec, verbose: false }, t, ctx);
      present = res.image !== null;
      imageRef = res.image?.id ?? '';
    } catch (err) {
      const message = `Failed to inspect image ${goQuote(image)}: ${criErrorText(err)}`;
      n.events.event(r.pod, { type: 'Warning', reason: 'InspectFailed', message, fieldPath: fieldPath(start) });
      return { failure: { reason: 'ImageInspectError', message } };
    }
  }
  const decision = pullDecision(policy, present);
  if (decision === 'never-pull') {
    const message = `Container image ${goQuote(image)} is not present with pull policy of Never`;
    n.events.event(r.pod, { type: 'Warning', reason: 'ErrImageNeverPull', message, fieldPath: fieldPath(start) });
    return { failure: { reason: 'ErrImageNeverPull', message } };
  }
  if (decision === 'present') {
    n.events.event(r.pod, { type: 'Normal', reason: 'Pulled', message: `Container image ${goQuote(image)} already present on machine`, fieldPath: fieldPath(start) });
    return { imageRef };
  }
  n.events.event(r.pod, { type: 'Normal', reason: 'Pulling', message: `Pulling image ${goQuote(image)}`, fieldPath: fieldPath(start) });
  const began = Date.now();
  try {
    const pulled = await n.cri.image<{ imageRef: string }>('PullImage', { image: spec, auth: null, sandboxConfig: r.sandboxConfig ?? null }, t, ctx);
    let size = 0;
    if (n.cfg.profile.imageStatusAfterPull) {
      // GetImageSize, best effort: its failure only leaves the size out.
      const st = await n.cri.image<{ image: { size: string } | null }>('ImageStatus', { image: spec, verbose: false }, t, ctx).catch(() => ({ image: null }));
      size = Number(st.image?.size ?? 0);
    }
    const took = formatGoDuration(Math.max(1, Date.now() - began));
    // The image size joined the message with the size lookup; 1.27 ends at the parenthesis.
    const sizeText = n.cfg.profile.imageStatusAfterPull ? `. Image size: ${size} bytes.` : '';
    n.events.event(r.pod, {
      type: 'Normal',
      reason: 'Pulled',
      message: `Successfully pulled image ${goQuote(image)} in ${took} (${took} including waiting)${sizeText}`,
      fieldPath: fieldPath(start),
    });
    return { imageRef: pulled.imageRef };
  } catch (err) {
    const message = `Failed to pull image ${goQuote(image)}: ${criErrorText(err)}`;
    n.events.event(r.pod, { type: 'Warning', reason: 'Failed', message, fieldPath: fieldPath(start) });
    return { failure: { reason: 'ErrImagePull', message: criErrorText(err) } };
  }
}

/** kubeGenericRuntimeManager.startContainer: image, CreateContainer, StartContainer. Returns the failure text, if any. */
async function startContainer(n: NodeContext, r: PodRecord, start: StartAction, sandboxId: string, ctx: Context): Promise<string | undefined> {
  const t = n.tracing.cri;
  const specs = start.init ? (r.pod.spec.initContainers ?? []) : r.pod.spec.containers;
  const c = specs.find((x) => x.name === start.name) as Container;
  const fail = (reason: string, message: string): string => {
    r.reasons.set(c.name, { reason, message });
    return syncFailure('StartContainer', c.name, reason, message);
  };
  const image = await ensureImage(n, r, c, start, ctx);
  if (image.failure) return fail(image.failure.reason, image.failure.message);
  let containerId: string;
  try {
    const res = await n.cri.runtime<{ containerId: string }>(
      'CreateContainer',
      { podSandboxId: sandboxId, config: containerConfig(r.pod, c, start.attempt, image.imageRef ?? '', n.facts), sandboxConfig: r.sandboxConfig },
      t,
      ctx,
    );
    containerId = res.containerId;
  } catch (err) {
    n.events.event(r.pod, { type: 'Warning', reason: 'Failed', message: `Error: ${criErrorText(err)}`, fieldPath: fieldPath(start) });
    return fail('CreateContainerError', criErrorText(err));
  }
  n.events.event(r.pod, { type: 'Normal', reason: 'Created', message: `Created container: ${c.name}`, fieldPath: fieldPath(start) });
  try {
    await n.cri.runtime('StartContainer', { containerId }, t, ctx);
  } catch (err) {
    const message = `failed to start container ${goQuote(containerId)}: ${criErrorText(err)}`;
    n.events.event(r.pod, { type: 'Warning', reason: 'Failed', message: `Error: ${message}`, fieldPath: fieldPath(start) });
    return fail('RunContainerError', message);
  }
  n.events.event(r.pod, { type: 'Normal', reason: 'Started', message: `Started container ${c.name}`, fieldPath: fieldPath(start) });
  r.reasons.delete(c.name);
  if (start.backoff) r.backoffs.set(c.name, start.backoff);
  return undefined;
}

/** Creates the sandbox and reads its IP; returns its id or the failure text. */
async function createSandbox(n: NodeContext, r: PodRecord, attempt: number, ctx: Context): Promise<{ id?: string; failure?: string }> {
  const t = n.tracing.cri;
  r.sandboxConfig = sandboxConfig(r.pod, n.facts, attempt, r.seen);
  try {
    const { podSandboxId } = await n.cri.runtime<{ podSandboxId: string }>('RunPodSandbox', { config: r.sandboxConfig, runtimeHandler: '' }, t, ctx);
    await n.cri.runtime('PodSandboxStatus', { podSandboxId, verbose: false }, t, ctx);
    return { id: podSandboxId };
  } catch (err) {
    const message = `Failed to create pod sandbox: ${criErrorText(err)}`;
    n.events.event(r.pod, { type: 'Warning', reason: 'FailedCreatePodSandBox', message });
    return {
      failure: syncFailure('CreatePodSandbox', podDesc(r.pod), 'CreatePodSandboxError', `Failed to create sandbox for pod ${goQuote(podDesc(r.pod))}: ${criErrorText(err)}`),
    };
  }
}

export async function syncPod(n: NodeContext, r: PodRecord, updateType: UpdateType, runtime: RuntimePodStatus | undefined): Promise<SyncResult> {
  const parent = remoteParent(syncPodParent(n.cfg.traceMode, updateType, r.pod.metadata.annotations));
  const { span, ctx } = startSpan(n, syncPodSpan(n.cfg.profile, ref(r), updateType), parent);
  const failures: string[] = [];
  let retryAt: number | undefined;
  let terminal = false;
  try {
    const now = new Date();
    const status = generatePodStatus({ pod: r.pod, runtime, nodeIp: n.spec.ip, now, reasons: r.reasons, podIsTerminal: false, previous: n.status.get(r.uid) });
    n.status.setPodStatus(r.pod, status);
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      terminal = true;
      return { terminal };
    }
    const actions = computePodActions(r.pod, runtime, { now: now.getTime(), backoffs: r.backoffs, policy: n.backoff });
    let sandboxId = actions.sandboxId;
    if (actions.createSandbox) {
      const sb = await createSandbox(n, r, actions.sandboxAttempt, ctx);
      if (sb.failure) failures.push(sb.failure);
      sandboxId = sb.id ?? '';
    } else if (!r.sandboxConfig && sandboxId) {
      // A kubelet that did not create the sandbox (a restart) rebuilds the config it would have sent.
      r.sandboxConfig = sandboxConfig(r.pod, n.facts, runtime?.sandboxes[0]?.attempt ?? 0, r.seen);
    }
    for (const w of actions.waiting) {
      r.reasons.set(w.name, { reason: 'CrashLoopBackOff', message: w.message });
      n.events.event(r.pod, { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${w.name} in pod ${podDesc(r.pod)}`, fieldPath: `spec.containers{${w.name}}` });
      retryAt = Math.min(retryAt ?? Infinity, w.retryAt);
    }
    if (sandboxId) {
      for (const start of actions.start) {
        const failure = await startContainer(n, r, start, sandboxId, ctx);
        if (failure) failures.push(failure);
        // Init containers run one at a time: a failed one stops the rest.
        if (failure && start.init) break;
      }
    }
  } catch (err) {
    failures.push(`failed to SyncPod: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    // Pods only waiting out a back-off are not a failed sync (Kubelet.SyncPod ignores ErrCrashLoopBackOff).
    endSpan(n, span, terminal ? undefined : aggregate(failures));
  }
  const error = aggregate(failures);
  return { terminal, ...(error ? { error } : {}), ...(retryAt !== undefined ? { retryAt } : {}) };
}
