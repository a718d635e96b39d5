import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { parentBasedAlwaysOn, startTracing, type Tracing } from '../../shared/src/index.js';
import { startRuntimeServer, type StartedRuntime } from '../src/server.js';
import { FAST } from '../src/timing.js';
import { callError, containerConfig, criClient, eventually, sandboxConfig, type CriClient } from './cri-client.js';

// In-process runtime on a TCP port with an in-memory exporter: the span
// events of the longer flows (stop with grace, forced removal) in detail.

let exporter: InMemorySpanExporter;
let tracing: Tracing;
let rt: StartedRuntime;
let cri: CriClient;

beforeEach(async () => {
  exporter = new InMemorySpanExporter();
  tracing = startTracing({ resource: {}, enabled: true, sampler: parentBasedAlwaysOn(), exporter, processor: 'simple' });
  rt = await startRuntimeServer({ address: '127.0.0.1:0', timing: FAST, seed: 11, tracing });
  cri = criClient(rt.address);
});

afterEach(async () => {
  cri.close();
  await rt.close();
  await tracing.shutdown();
});

const spansNamed = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);
const lastSpan = (name: string): ReadableSpan => {
  const s = spansNamed(name).at(-1);
  if (!s) throw new Error(`no span ${name}`);
  return s;
};
const eventNames = (s: ReadableSpan): string[] => s.events.map((e) => e.name);

async function runningContainer(name: string, image: string, extra: object = {}): Promise<{ sandbox: string; container: string }> {
  const { podSandboxId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig(name, `uid-${name}`) });
  await cri.image('PullImage', { image: { image } });
  const { containerId } = await cri.runtime('CreateContainer', {
    podSandboxId,
    config: containerConfig(name, image, extra),
    sandboxConfig: sandboxConfig(name, `uid-${name}`),
  });
  await cri.runtime('StartContainer', { containerId });
  return { sandbox: podSandboxId, container: containerId };
}

describe('stopping', () => {
  it('a container that obeys its stop signal exits 0 without a SIGKILL', async () => {
    const { container } = await runningContainer('web', 'nginx');
    await cri.runtime('StopContainer', { containerId: container, timeout: 30 });
    const span = lastSpan('runtime.v1.RuntimeService/StopContainer');
    expect(eventNames(span)).toEqual([
      `StopContainer for "${container}" with timeout 30 (s)`,
      `Stop container "${container}" with signal quit`,
      `StopContainer for "${container}" returns successfully`,
    ]);
    const { status } = await cri.runtime('ContainerStatus', { containerId: container });
    expect(status).toMatchObject({ state: 2, exitCode: 0, reason: 'Completed' });
  });

  it('a container that ignores SIGTERM is killed after the grace period: 137', async () => {
    const { container } = await runningContainer('sleeper', 'busybox', { command: ['sleep', '3600'] });
    await cri.runtime('StopContainer', { containerId: container, timeout: 2 });
    const span = lastSpan('runtime.v1.RuntimeService/StopContainer');
    expect(eventNames(span)).toEqual([
      `StopContainer for "${container}" with timeout 2 (s)`,
      `Stop container "${container}" with signal terminated`,
      `Kill container "${container}"`,
      'container stopped',
      `StopContainer for "${container}" returns successfully`,
    ]);
    expect(span.attributes['container.id']).toBe(container);
    const { status } = await cri.runtime('ContainerStatus', { containerId: container });
    expect(status).toMatchObject({ state: 2, exitCode: 137, reason: 'Error' });
  });

  it('stopping an exited container only logs its state', async () => {
    const { container } = await runningContainer('once', 'busybox', { command: ['true'] });
    await eventually(async () => ((await cri.runtime('ContainerStatus', { containerId: container })).status.state === 2 ? true : undefined));
    await cri.runtime('StopContainer', { containerId: container, timeout: 0 });
    expect(eventNames(lastSpan('runtime.v1.RuntimeService/StopContainer'))).toContain(
      `Container to stop "${container}" must be in running or unknown state, current state "CONTAINER_EXITED"`,
    );
  });

  it('removing a running container stops it first (containerd 2.x forces it)', async () => {
    const { container } = await runningContainer('forced', 'nginx');
    await cri.runtime('RemoveContainer', { containerId: container });
    const span = lastSpan('runtime.v1.RuntimeService/RemoveContainer');
    expect(eventNames(span)).toEqual([
      `RemoveContainer for "${container}"`,
      `Kill container "${container}"`,
      'container stopped',
      'container removed',
      `RemoveContainer for "${container}" returns successfully`,
    ]);
    expect((await cri.runtime('ListContainers', {})).containers).toEqual([]);
  });

  it('StopPodSandbox kills its containers, stops the pause task and tears the network down', async () => {
    const { sandbox, container } = await runningContainer('pod', 'nginx');
    await cri.runtime('StopPodSandbox', { podSandboxId: sandbox });
    const span = lastSpan('runtime.v1.RuntimeService/StopPodSandbox');
    expect(eventNames(span)).toEqual([
      `StopPodSandbox for "${sandbox}"`,
      'stopping containers in the sandbox',
      `Kill container "${container}"`,
      'container stopped',
      'sandbox container stopped',
      'start pod network teardown',
      'finished pod network teardown',
      `TearDown network for sandbox "${sandbox}" successfully`,
      `StopPodSandbox for "${sandbox}" returns successfully`,
    ]);
    const { status } = await cri.runtime('PodSandboxStatus', { podSandboxId: sandbox });
    expect(status).toMatchObject({ state: 1, network: { ip: '' } });
    // A container cannot start in a stopped sandbox; it is left EXITED with StartError.
    const { containerId } = await cri.runtime('CreateContainer', {
      podSandboxId: sandbox,
      config: containerConfig('late', 'nginx'),
      sandboxConfig: sandboxConfig('pod', 'uid-pod'),
    });
    const err = await callError(cri.runtime('StartContainer', { containerId }));
    expect([err.code, err.details]).toEqual([GrpcStatus.UNKNOWN, `sandbox container "${sandbox}" is not running`]);
    expect((await cri.runtime('ContainerStatus', { containerId })).status).toMatchObject({
      state: 2,
      exitCode: 128,
      reason: 'StartError',
      message: `sandbox container "${sandbox}" is not running`,
    });
  });

  it('RemovePodSandbox of a ready sandbox stops it and removes its containers; the name is free again', async () => {
    const { sandbox, container } = await runningContainer('gone', 'nginx');
    await cri.runtime('RemovePodSandbox', { podSandboxId: sandbox });
    const span = lastSpan('runtime.v1.RuntimeService/RemovePodSandbox');
    expect(eventNames(span)).toEqual([
      `RemovePodSandbox for "${sandbox}"`,
      `Forcibly stopping sandbox "${sandbox}"`,
      'stopping containers in the sandbox',
      `Kill container "${container}"`,
      'container stopped',
      'sandbox container stopped',
      'start pod network teardown',
      'finished pod network teardown',
      `TearDown network for sandbox "${sandbox}" successfully`,
      'container removed',
      'pod sandbox removed',
      `RemovePodSandbox "${sandbox}" returns successfully`,
    ]);
    // The nested RemoveContainer shares the span, so container.id lands on it too.
    expect(span.attributes).toMatchObject({ 'sandbox.id': sandbox, 'container.id': container });
    expect((await cri.runtime('ListPodSandbox', {})).items).toEqual([]);
    const again = await cri.runtime('RunPodSandbox', { config: sandboxConfig('gone', 'uid-gone') });
    expect(again.podSandboxId).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('concurrency and idempotency', () => {
  it('a second StartContainer while the first is in flight is refused', async () => {
    const { podSandboxId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig('race', 'uid-race') });
    await cri.image('PullImage', { image: { image: 'nginx' } });
    const { containerId } = await cri.runtime('CreateContainer', { podSandboxId, config: containerConfig('race', 'nginx'), sandboxConfig: sandboxConfig('race', 'uid-race') });
    const results = await Promise.allSettled([
      cri.runtime('StartContainer', { containerId }),
      cri.runtime('StartContainer', { containerId }),
    ]);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(rejected.map((r) => r.reason.details)).toEqual([
      `failed to set starting state for container "${containerId}": container is already in starting state`,
    ]);
  });

  it('stop and remove of unknown ids succeed, as the CRI contract asks', async () => {
    const id = 'f'.repeat(64);
    await expect(cri.runtime('StopContainer', { containerId: id, timeout: 10 })).resolves.toEqual({});
    await expect(cri.runtime('RemoveContainer', { containerId: id })).resolves.toEqual({});
    await expect(cri.runtime('StopPodSandbox', { podSandboxId: id })).resolves.toEqual({});
    await expect(cri.runtime('RemovePodSandbox', { podSandboxId: id })).resolves.toEqual({});
  });

  it('pod IPs are unique across concurrent sandboxes', async () => {
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => cri.runtime('RunPodSandbox', { config: sandboxConfig(`p${i}`, `u${i}`) })),
    );
    const ips = await Promise.all(ids.map(async (r) => (await cri.runtime('PodSandboxStatus', { podSandboxId: r.podSandboxId })).status.network.ip));
    expect(new Set(ips).size).toBe(20);
    for (const ip of ips) expect(ip).toMatch(/^10\.244\.\d+\.\d+$/);
  });

  it('a sandbox on the node network gets no IP and no CNI event', async () => {
    const hostNet = { linux: { securityContext: { namespaceOptions: { network: 2 } } } };
    const { podSandboxId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig('hostnet', 'u-h', hostNet) });
    expect(eventNames(lastSpan('runtime.v1.RuntimeService/RunPodSandbox'))).not.toContain('setup pod network');
    expect((await cri.runtime('PodSandboxStatus', { podSandboxId })).status.network.ip).toBe('');
  });
});

describe('images', () => {
  it('a second pull of a present image is cached: same id, manifest-sized read', async () => {
    const first = await cri.image('PullImage', { image: { image: 'busybox' } });
    const second = await cri.image('PullImage', { image: { image: 'docker.io/library/busybox:latest' } });
    expect(second.imageRef).toBe(first.imageRef);
    const stop = lastSpan('runtime.v1.ImageService/PullImage').events.find((e) => e.name.startsWith('stop pulling image'));
    expect(stop?.name).toMatch(/^stop pulling image docker\.io\/library\/busybox:latest: active requests=0, bytes read=\d{4,5}$/);
    expect((await cri.image('ListImages', {})).images.map((i: { repoTags: string[] }) => i.repoTags[0]).sort()).toEqual([
      'docker.io/library/busybox:latest',
      'registry.k8s.io/pause:3.10',
    ]);
  });

  it('an unparsable reference fails as containerd does: UNKNOWN', async () => {
    const err = await callError(cri.image('PullImage', { image: { image: 'Nginx' } }));
    expect([err.code, err.details]).toEqual([
      GrpcStatus.UNKNOWN,
      'failed to parse image reference "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase',
    ]);
    expect(lastSpan('runtime.v1.ImageService/PullImage').status.code).toBe(2);
  });
});
