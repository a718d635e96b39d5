import type { Span } from '@opentelemetry/api';
import { removeContainerById, stopContainerById } from './container-service.js';
import { sandboxInfo, toCriPodSandbox, toCriSandboxStatus } from './cri-messages.js';
import { SandboxState, type PodSandboxFilter, type PodSandboxIdRequest, type RunPodSandboxRequest } from './cri-types.js';
import { lookupError, plain, wrapError, wrapped } from './errors.js';
import { goQuote as q } from './go-format.js';
import { intToIp, isHostNetwork } from './network.js';
import type { Runtime } from './runtime.js';
import { filterSandboxes, newSandbox, sandboxName, stoppedSandbox, type Sandbox } from './sandboxes.js';
import { ATTR, CRI_EVENTS } from './spans.js';

/** The sandbox half of containerd's criService (internal/cri/server/sandbox_*.go, v2.1; pkg/cri/server in 1.7). */

const KNOWN_RUNTIME_HANDLERS = new Set(['', 'runc']);

export async function runPodSandbox(rt: Runtime, span: Span, req: RunPodSandboxRequest): Promise<{ podSandboxId: string }> {
  const config = req.config;
  const id = rt.newId();
  const metadata = config?.metadata;
  if (!config || !metadata) throw plain('sandbox config must include metadata');
  const name = sandboxName(metadata);
  rt.cri(span).setAttributes({ [ATTR.sandboxId]: id, [ATTR.sandboxName]: name });
  const holder = rt.sandboxNames.get(name);
  if (holder !== undefined) throw wrapped(`failed to reserve sandbox name ${q(name)}`, `name ${q(name)} is reserved for ${q(holder)}`);
  rt.sandboxNames.set(name, id);
  let ip = '';
  try {
    await rt.delay('sandboxPrepare');
    if (!KNOWN_RUNTIME_HANDLERS.has(req.runtimeHandler)) {
      throw wrapped(`unable to get OCI runtime for sandbox ${q(id)}`, `no runtime for ${q(req.runtimeHandler)} is configured`);
    }
    if (!isHostNetwork(config)) {
      rt.cri(span).addEvent(CRI_EVENTS.setupPodNetwork().name);
      const allocated = rt.allocateIp();
      if (allocated === undefined) {
        const first = intToIp(rt.cidr.base + 1);
        const last = intToIp(rt.cidr.base + 2 ** (32 - rt.cidr.bits) - 2);
        throw wrapped(
          `failed to setup network for sandbox ${q(id)}`,
          `plugin type="host-local" failed (add): failed to allocate for range 0: no IP addresses available in range set: ${first}-${last}`,
        );
      }
      ip = allocated;
      await rt.delay('podNetwork');
    }
    await rt.delay('sandboxStart');
    rt.sandboxes.set(id, newSandbox({ id, name, config, runtimeHandler: req.runtimeHandler, ip, pid: rt.nextPid(), now: rt.now() }));
    return { podSandboxId: id };
  } catch (err) {
    rt.sandboxNames.delete(name);
    if (ip !== '') rt.releaseIp(ip);
    throw err;
  }
}

export async function podSandboxStatus(rt: Runtime, req: PodSandboxIdRequest) {
  await rt.delay('sandboxStatus');
  const found = rt.findSandbox(req.podSandboxId);
  // Upstream leaves the id out of this one message.
  if ('failure' in found) throw lookupError('an error occurred when try to find sandbox', found.failure);
  const sb = rt.sandboxes.get(found.id) as Sandbox;
  return { status: toCriSandboxStatus(sb), info: req.verbose ? sandboxInfo(sb) : {}, containersStatuses: [], timestamp: '0' };
}

export async function listPodSandbox(rt: Runtime, filter: PodSandboxFilter | null) {
  await rt.delay('list');
  const found = filter?.id ? rt.findSandbox(filter.id) : undefined;
  const fullId = found === undefined ? '' : 'id' in found ? found.id : (filter?.id ?? '');
  return { items: filterSandboxes([...rt.sandboxes.values()], filter, fullId).map(toCriPodSandbox) };
}

/**
 * criService.stopPodSandbox: kill every container of the pod, stop the pause
 * task, tear the network down. Stopping a stopped sandbox repeats the events
 * but not the work.
 */
async function stopSandboxById(rt: Runtime, span: Span, id: string): Promise<void> {
  rt.cri(span).addEvent(CRI_EVENTS.stoppingContainers().name);
  const stop = rt.now();
  for (const c of [...rt.containers.values()]) {
    if (c.sandboxId === id) await stopContainerById(rt, span, c.id, 0);
  }
  const sb = rt.sandboxes.get(id);
  if (!sb) return;
  if (sb.state === SandboxState.READY) await rt.delay('sandboxStop');
  const stopped = CRI_EVENTS.sandboxStopped(rt.now() - stop);
  rt.cri(span).addEvent(stopped.name, stopped.attributes);
  if (!sb.hostNetwork) {
    rt.cri(span).addEvent(CRI_EVENTS.networkTeardownStart().name);
    const netStop = rt.now();
    await rt.delay('networkTeardown');
    if (!sb.netnsClosed) rt.releaseIp(sb.ip);
    const done = CRI_EVENTS.networkTeardownDone(rt.now() - netStop);
    rt.cri(span).addEvent(done.name, done.attributes);
  }
  rt.log(span, { level: 'info', message: `TearDown network for sandbox ${q(id)} successfully` });
  const current = rt.sandboxes.get(id);
  if (current) rt.sandboxes.set(id, stoppedSandbox(current));
}

export async function stopPodSandbox(rt: Runtime, span: Span, req: PodSandboxIdRequest): Promise<Record<string, never>> {
  const found = rt.findSandbox(req.podSandboxId);
  if ('failure' in found) {
    // Idempotent: a sandbox that is already gone is success.
    if (found.failure === 'not found') return {};
    throw lookupError(`an error occurred when try to find sandbox ${q(req.podSandboxId)}`, found.failure);
  }
  rt.cri(span).setAttribute(ATTR.sandboxId, found.id);
  await stopSandboxById(rt, span, found.id);
  return {};
}

export async function removePodSandbox(
  rt: Runtime,
  span: Span,
  req: PodSandboxIdRequest,
  log: (msg: string) => void,
): Promise<Record<string, never>> {
  const start = rt.now();
  const found = rt.findSandbox(req.podSandboxId);
  if ('failure' in found) {
    if (found.failure === 'not found') return {};
    throw lookupError(`an error occurred when try to find sandbox ${q(req.podSandboxId)}`, found.failure);
  }
  const id = found.id;
  rt.cri(span).setAttribute(ATTR.sandboxId, id);
  const forcibly = `Forcibly stopping sandbox ${q(id)}`;
  if (rt.profile.forciblyStoppingSandboxEvent) rt.log(span, { level: 'info', message: forcibly });
  else log(forcibly);
  try {
    await stopSandboxById(rt, span, id);
  } catch (err) {
    throw wrapError(`failed to forcibly stop sandbox ${q(id)}`, err);
  }
  for (const c of [...rt.containers.values()]) {
    if (c.sandboxId !== id) continue;
    try {
      await removeContainerById(rt, span, c.id, log);
    } catch (err) {
      throw wrapError(`failed to remove container ${q(c.id)}`, err);
    }
  }
  await rt.delay('sandboxRemove');
  const sb = rt.sandboxes.get(id);
  rt.sandboxes.delete(id);
  if (sb && rt.sandboxNames.get(sb.name) === id) rt.sandboxNames.delete(sb.name);
  const ev = CRI_EVENTS.sandboxRemoved(rt.now() - start);
  rt.cri(span).addEvent(ev.name, ev.attributes);
  return {};
}
