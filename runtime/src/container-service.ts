import type { Span } from '@opentelemetry/api';
import { beginRemove, beginStart, containerState, filterContainers, KILLED_EXIT_CODE, startFailed, started, type Container } from './containers.js';
import { containerInfo, toCriContainer, toCriContainerStatus } from './cri-messages.js';
import { CONTAINER_STATE_NAMES, ContainerState, SandboxState, type ContainerFilter, type ContainerIdRequest, type CreateContainerRequest, type StopContainerRequest } from './cri-types.js';
import { ContainerdError, lookupError, notFound, plain, wrapped } from './errors.js';
import { goQuote as q, goSignalText } from './go-format.js';
import { resolveImage } from './images.js';
import { planProcess } from './processes.js';
import type { Runtime } from './runtime.js';
import { containerName } from './sandboxes.js';
import { ATTR, CRI_EVENTS, sandboxPidAttribute } from './spans.js';
import { stepDuration } from './timing.js';

/** The container half of containerd's criService (internal/cri/server/container_*.go, v2.1). */

const elapsed = (rt: Runtime, since: bigint): bigint => rt.now() - since;

export async function createContainer(rt: Runtime, span: Span, req: CreateContainerRequest): Promise<{ containerId: string }> {
  const found = rt.findSandbox(req.podSandboxId);
  if ('failure' in found) throw lookupError(`failed to find sandbox id ${q(req.podSandboxId)}`, found.failure);
  const sandbox = rt.sandboxes.get(found.id) as NonNullable<ReturnType<typeof rt.sandboxes.get>>;
  rt.cri(span).setAttributes({ [ATTR.sandboxId]: sandbox.id, [ATTR.sandboxPid]: sandboxPidAttribute(sandbox.pid) });
  const config = req.config;
  const id = rt.newId();
  if (!config?.metadata) throw plain('container config must include metadata');
  const name = containerName(config.metadata, req.sandboxConfig?.metadata ?? null);
  const holder = rt.containerNames.get(name);
  if (holder !== undefined) throw wrapped(`failed to reserve container name ${q(name)}`, `name ${q(name)} is reserved for ${q(holder)}`);
  rt.containerNames.set(name, id);
  rt.cri(span).setAttributes({ [ATTR.containerId]: id, [ATTR.containerName]: name });
  try {
    const imageName = config.image?.image ?? '';
    const image = resolveImage(rt.images, imageName);
    if (!image) {
      // A non-empty name is first checked for being a checkpoint image, which resolves it too.
      throw imageName === ''
        ? notFound(`failed to resolve image ${q(imageName)}`)
        : notFound(`failed to check if this is a checkpoint image: failed to resolve image ${q(imageName)}`);
    }
    rt.cri(span).setAttribute(ATTR.containerImageRef, image.references[0] ?? image.id);
    const createStart = rt.now();
    const logDir = req.sandboxConfig?.logDirectory ?? '';
    if (logDir === '' || config.logPath === '') {
      rt.log(span, {
        level: 'info',
        message: `Logging will be disabled due to empty log paths for sandbox (${q(logDir)}) or container (${q(config.logPath)})`,
      });
    }
    await rt.delay('containerCreate');
    const container: Container = {
      id,
      name,
      sandboxId: sandbox.id,
      config,
      imageId: image.id,
      logPath: logDir !== '' && config.logPath !== '' ? `${logDir.replace(/\/$/, '')}/${config.logPath}` : '',
      createdAt: rt.now(),
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      reason: '',
      message: '',
      pid: 0,
      starting: false,
      removing: false,
      plan: planProcess(config, image),
      stopSignal: image.stopSignal,
    };
    rt.containers.set(id, container);
    const ev = CRI_EVENTS.containerCreated(elapsed(rt, createStart));
    rt.cri(span).addEvent(ev.name, ev.attributes);
    return { containerId: id };
  } catch (err) {
    rt.containerNames.delete(name);
    throw err;
  }
}

export async function startContainer(rt: Runtime, span: Span, req: ContainerIdRequest): Promise<Record<string, never>> {
  const start = rt.now();
  const found = rt.findContainer(req.containerId);
  if ('failure' in found) throw lookupError(`an error occurred when try to find container ${q(req.containerId)}`, found.failure);
  const id = found.id;
  rt.cri(span).setAttribute(ATTR.containerId, id);
  const starting = beginStart(rt.containers.get(id) as Container);
  if ('error' in starting) throw wrapped(`failed to set starting state for container ${q(id)}`, starting.error);
  rt.containers.set(id, starting);
  // From here on a failure leaves the container EXITED with StartError, as containerd's deferred cleanup does.
  const fail = (err: ContainerdError): ContainerdError => {
    const c = rt.containers.get(id);
    if (c) rt.containers.set(id, startFailed(c, err.message, rt.now()));
    return err;
  };
  const sandbox = rt.sandboxes.get(starting.sandboxId);
  if (!sandbox) throw fail(notFound(`sandbox ${q(starting.sandboxId)} not found`));
  if (sandbox.state !== SandboxState.READY) throw fail(plain(`sandbox container ${q(sandbox.id)} is not running`));
  rt.cri(span).setAttribute(ATTR.sandboxId, sandbox.id);
  await rt.delay('containerStart');
  const current = rt.containers.get(id);
  if (!current) throw fail(notFound(`failed to create containerd task: container ${q(id)}`));
  rt.containers.set(id, started(current, rt.nextPid(), rt.now()));
  const life = current.plan.lifetime;
  if (life.kind === 'exits') {
    rt.scheduleExit(id, stepDuration(rt.timing, 'processRun', rt.jitter) + life.afterMs * rt.timing.processScale, life.exitCode);
  }
  const ev = CRI_EVENTS.containerStarted(elapsed(rt, start));
  rt.cri(span).addEvent(ev.name, ev.attributes);
  return {};
}

/**
 * criService.stopContainer: signal, wait out the grace period, then SIGKILL.
 * Only the SIGKILL path records "container stopped"; a container that obeyed
 * its stop signal returns quietly.
 */
export async function stopContainerById(rt: Runtime, span: Span, id: string, timeoutSeconds: number): Promise<void> {
  const start = rt.now();
  const c = rt.containers.get(id);
  if (!c) return;
  const state = containerState(c);
  if (state !== ContainerState.RUNNING && state !== ContainerState.UNKNOWN) {
    rt.log(span, {
      level: 'info',
      message: `Container to stop ${q(id)} must be in running or unknown state, current state ${q(CONTAINER_STATE_NAMES[state])}`,
    });
    return;
  }
  if (timeoutSeconds > 0) {
    rt.log(span, { level: 'info', message: `Stop container ${q(id)} with signal ${goSignalText(c.stopSignal)}` });
    if (c.plan.onStop.kind === 'exits') {
      rt.scheduleExit(id, stepDuration(rt.timing, 'containerShutdown', rt.jitter), c.plan.onStop.exitCode);
    }
    if (await rt.waitExit(id, timeoutSeconds * 1000 * rt.timing.processScale)) return;
  }
  rt.log(span, { level: 'info', message: `Kill container ${q(id)}` });
  rt.scheduleExit(id, stepDuration(rt.timing, 'containerKill', rt.jitter), KILLED_EXIT_CODE);
  await rt.waitExit(id, Infinity);
  const ev = CRI_EVENTS.containerStopped(id, elapsed(rt, start));
  rt.cri(span).addEvent(ev.name, ev.attributes);
}

export async function stopContainer(rt: Runtime, span: Span, req: StopContainerRequest): Promise<Record<string, never>> {
  const found = rt.findContainer(req.containerId);
  if ('failure' in found) {
    // StopContainer is idempotent: an unknown id is success.
    if (found.failure === 'not found') return {};
    throw lookupError(`an error occurred when try to find container ${q(req.containerId)}`, found.failure);
  }
  rt.cri(span).setAttribute(ATTR.containerId, found.id);
  const timeout = Number(req.timeout);
  await stopContainerById(rt, span, found.id, Number.isFinite(timeout) ? timeout : 0);
  return {};
}

/** criService.RemoveContainer after the lookup; RemovePodSandbox calls it for each of its containers. */
export async function removeContainerById(rt: Runtime, span: Span, id: string, log: (msg: string) => void): Promise<void> {
  const start = rt.now();
  rt.cri(span).setAttribute(ATTR.containerId, id);
  const c = rt.containers.get(id);
  if (!c) return;
  const state = containerState(c);
  if (state === ContainerState.RUNNING || state === ContainerState.UNKNOWN) {
    // Logged through log.L, the context-free logger: this line never becomes a span event.
    log(`Forcibly stopping container ${q(id)}`);
    await stopContainerById(rt, span, id, 0);
  }
  const removing = beginRemove(rt.containers.get(id) as Container);
  if ('error' in removing) throw wrapped(`failed to set removing state for container ${q(id)}`, removing.error);
  rt.containers.set(id, removing);
  await rt.delay('containerRemove');
  rt.containers.delete(id);
  if (rt.containerNames.get(removing.name) === id) rt.containerNames.delete(removing.name);
  const ev = CRI_EVENTS.containerRemoved(id, elapsed(rt, start));
  rt.cri(span).addEvent(ev.name, ev.attributes);
}

export async function removeContainer(rt: Runtime, span: Span, req: ContainerIdRequest, log: (msg: string) => void): Promise<Record<string, never>> {
  const found = rt.findContainer(req.containerId);
  if ('failure' in found) {
    if (found.failure === 'not found') return {};
    throw lookupError(`an error occurred when try to find container ${q(req.containerId)}`, found.failure);
  }
  await removeContainerById(rt, span, found.id, log);
  return {};
}

export async function containerStatus(rt: Runtime, req: ContainerIdRequest) {
  await rt.delay('containerStatus');
  const found = rt.findContainer(req.containerId);
  if ('failure' in found) throw lookupError(`an error occurred when try to find container ${q(req.containerId)}`, found.failure);
  const c = rt.containers.get(found.id) as Container;
  const image = rt.images.find((i) => i.id === c.imageId);
  return { status: toCriContainerStatus(c, image), info: req.verbose ? containerInfo(c) : {} };
}

export async function listContainers(rt: Runtime, filter: ContainerFilter | null) {
  await rt.delay('list');
  // normalizeContainerFilter: unique prefixes widen to full ids; anything else must match exactly.
  const widen = (prefix: string, r: ReturnType<Runtime['findContainer']>): string => ('id' in r ? r.id : prefix);
  const full = {
    id: filter?.id ? widen(filter.id, rt.findContainer(filter.id)) : '',
    podSandboxId: filter?.podSandboxId ? widen(filter.podSandboxId, rt.findSandbox(filter.podSandboxId)) : '',
  };
  return { containers: filterContainers([...rt.containers.values()], filter, full).map(toCriContainer) };
}
