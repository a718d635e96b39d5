import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { callError, containerConfig, criClient, eventually, sandboxConfig, type CriClient } from './cri-client.js';

// A pod's whole life, as kubelet drives it (protocols.md §3), against the real
// `k8s-trace-sim runtime` process over its unix socket.

const UID = '6f1e2d3c-0000-4000-8000-000000000001';
let dir: string;
let sock: string;
let proc: RunningProcess;
let cri: CriClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rt-life-'));
  sock = join(dir, 'run', 'containerd', 'containerd.sock');
  proc = startProcess(['runtime', '--address', sock, '--timing', 'fast', '--seed', '7']);
  await waitForListen({ path: sock });
  cri = criClient(sock);
});

afterAll(async () => {
  cri?.close();
  const code = await proc?.stop();
  expect(code).toBe(0);
  // The socket goes away with the process.
  expect(existsSync(sock)).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

describe('a pod from creation to removal', () => {
  const state: { sandbox?: string; nginx?: string; echo?: string; imageRef?: string } = {};

  it('reports containerd as the runtime, ready with its network', async () => {
    expect(await cri.runtime('Version', { version: 'v1' })).toEqual({
      version: '0.1.0',
      runtimeName: 'containerd',
      runtimeVersion: 'v2.1.4',
      runtimeApiVersion: 'v1',
    });
    const status = await cri.runtime('Status', {});
    const conditions = Object.fromEntries(status.status.conditions.map((c: { type: string; status: boolean }) => [c.type, c.status]));
    expect(conditions).toMatchObject({ RuntimeReady: true, NetworkReady: true });
    expect(status.runtimeHandlers.map((h: { name: string }) => h.name)).toEqual(['', 'runc']);
  });

  it('runs the sandbox with a pod IP', async () => {
    const res = await cri.runtime('RunPodSandbox', { config: sandboxConfig('nginx', UID) });
    expect(res.podSandboxId).toMatch(/^[0-9a-f]{64}$/);
    state.sandbox = res.podSandboxId;
    const { status } = await cri.runtime('PodSandboxStatus', { podSandboxId: state.sandbox });
    expect(status).toMatchObject({
      id: state.sandbox,
      metadata: { name: 'nginx', uid: UID, namespace: 'default', attempt: 0 },
      state: 0,
      network: { ip: '10.244.0.2' },
      labels: { app: 'nginx' },
    });
    expect(BigInt(status.createdAt)).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
  });

  it('finds the image missing, pulls it, then reports it', async () => {
    expect(await cri.image('ImageStatus', { image: { image: 'nginx' } })).toEqual({ image: null, info: {} });
    const pulled = await cri.image('PullImage', { image: { image: 'nginx' }, sandboxConfig: sandboxConfig('nginx', UID) });
    expect(pulled.imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    state.imageRef = pulled.imageRef;
    const { image } = await cri.image('ImageStatus', { image: { image: 'nginx:latest' } });
    expect(image).toMatchObject({
      id: pulled.imageRef,
      repoTags: ['docker.io/library/nginx:latest'],
      repoDigests: [expect.stringMatching(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/)],
      size: '72195292',
      pinned: false,
    });
  });

  it('creates and starts the container; it runs', async () => {
    const { containerId } = await cri.runtime('CreateContainer', {
      podSandboxId: state.sandbox,
      config: containerConfig('nginx', state.imageRef as string),
      sandboxConfig: sandboxConfig('nginx', UID),
    });
    state.nginx = containerId;
    expect((await cri.runtime('ContainerStatus', { containerId })).status.state).toBe(0);
    await cri.runtime('StartContainer', { containerId });
    const { status } = await cri.runtime('ContainerStatus', { containerId });
    expect(status).toMatchObject({
      id: containerId,
      metadata: { name: 'nginx', attempt: 0 },
      state: 1,
      exitCode: 0,
      finishedAt: '0',
      reason: '',
      image: { image: 'docker.io/library/nginx:latest' },
      imageRef: expect.stringMatching(/^docker\.io\/library\/nginx@sha256:/),
      logPath: `/var/log/pods/default_nginx_${UID}/nginx/0.log`,
    });
    expect(BigInt(status.startedAt)).toBeGreaterThanOrEqual(BigInt(status.createdAt));
  });

  it('runs a one-shot `echo hi` container to EXITED 0 / Completed', async () => {
    await cri.image('PullImage', { image: { image: 'busybox' } });
    const { containerId } = await cri.runtime('CreateContainer', {
      podSandboxId: state.sandbox,
      config: containerConfig('echo', 'busybox', { command: ['echo', 'hi'], labels: { role: 'job' } }),
      sandboxConfig: sandboxConfig('nginx', UID),
    });
    state.echo = containerId;
    await cri.runtime('StartContainer', { containerId });
    const status = await eventually(async () => {
      const s = (await cri.runtime('ContainerStatus', { containerId })).status;
      return s.state === 2 ? s : undefined;
    });
    expect(status).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(BigInt(status.finishedAt)).toBeGreaterThan(BigInt(status.startedAt));
  });

  it('lists sandboxes and containers with filters', async () => {
    const all = await cri.runtime('ListPodSandbox', {});
    expect(all.items.map((s: { id: string }) => s.id)).toEqual([state.sandbox]);
    const ready = await cri.runtime('ListPodSandbox', { filter: { state: { state: 0 }, labelSelector: { app: 'nginx' } } });
    expect(ready.items).toHaveLength(1);
    expect((await cri.runtime('ListPodSandbox', { filter: { state: { state: 1 } } })).items).toEqual([]);
    expect((await cri.runtime('ListPodSandbox', { filter: { id: (state.sandbox as string).slice(0, 12) } })).items).toHaveLength(1);

    const ids = async (filter: object) => (await cri.runtime('ListContainers', { filter })).containers.map((c: { id: string }) => c.id).sort();
    expect(await ids({})).toEqual([state.nginx, state.echo].sort());
    expect(await ids({ state: { state: 1 } })).toEqual([state.nginx]);
    expect(await ids({ state: { state: 2 } })).toEqual([state.echo]);
    expect(await ids({ labelSelector: { role: 'job' } })).toEqual([state.echo]);
    expect(await ids({ podSandboxId: (state.sandbox as string).slice(0, 8) })).toEqual([state.nginx, state.echo].sort());
    expect(await ids({ podSandboxId: 'f'.repeat(64) })).toEqual([]);
    const [nginx] = (await cri.runtime('ListContainers', { filter: { id: state.nginx } })).containers;
    expect(nginx).toMatchObject({ podSandboxId: state.sandbox, imageRef: state.imageRef, state: 1, image: { image: state.imageRef } });
  });

  it('reports the image filesystem and images', async () => {
    const images = (await cri.image('ListImages', {})).images.map((i: { repoTags: string[] }) => i.repoTags[0]).sort();
    expect(images).toEqual(['docker.io/library/busybox:latest', 'docker.io/library/nginx:latest', 'registry.k8s.io/pause:3.10']);
    const fs = await cri.image('ImageFsInfo', {});
    expect(fs.imageFilesystems).toHaveLength(1);
    expect(fs.imageFilesystems[0]).toMatchObject({ fsId: { mountpoint: '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs' } });
    expect(Number(fs.imageFilesystems[0].usedBytes.value)).toBeGreaterThan(190_000_000);
  });

  it('stops and removes the container, then the sandbox', async () => {
    await cri.runtime('StopContainer', { containerId: state.nginx, timeout: 30 });
    expect((await cri.runtime('ContainerStatus', { containerId: state.nginx })).status).toMatchObject({ state: 2, exitCode: 0, reason: 'Completed' });
    await cri.runtime('RemoveContainer', { containerId: state.nginx });
    expect((await callError(cri.runtime('ContainerStatus', { containerId: state.nginx }))).code).toBe(GrpcStatus.NOT_FOUND);
    await cri.runtime('StopPodSandbox', { podSandboxId: state.sandbox });
    const { status } = await cri.runtime('PodSandboxStatus', { podSandboxId: state.sandbox });
    expect(status).toMatchObject({ state: 1, network: { ip: '' } });
    await cri.runtime('RemovePodSandbox', { podSandboxId: state.sandbox });
    expect((await cri.runtime('ListPodSandbox', {})).items).toEqual([]);
    // RemovePodSandbox took the exited echo container with it.
    expect((await cri.runtime('ListContainers', {})).containers).toEqual([]);
  });
});

describe('errors, with containerd 2.1 codes and messages', () => {
  const unknown = 'deadbeef'.repeat(8);

  it.each([
    ['ContainerStatus', { containerId: unknown }, `an error occurred when try to find container "${unknown}": not found`],
    ['StartContainer', { containerId: unknown }, `an error occurred when try to find container "${unknown}": not found`],
    ['PodSandboxStatus', { podSandboxId: unknown }, 'an error occurred when try to find sandbox: not found'],
    ['CreateContainer', { podSandboxId: unknown, config: containerConfig('x', 'nginx') }, `failed to find sandbox id "${unknown}": not found`],
  ])('%s of an unknown id is NOT_FOUND', async (method, req, message) => {
    const err = await callError(cri.runtime(method, req));
    expect([err.code, err.details]).toEqual([GrpcStatus.NOT_FOUND, message]);
  });

  it('an empty id is not "not found" but an index error: UNKNOWN', async () => {
    const err = await callError(cri.runtime('ContainerStatus', { containerId: '' }));
    expect([err.code, err.details]).toEqual([GrpcStatus.UNKNOWN, `an error occurred when try to find container "": prefix can't be empty`]);
  });

  it('creating from an image that is not there is NOT_FOUND', async () => {
    const { podSandboxId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig('noimg', 'u-noimg') });
    const err = await callError(cri.runtime('CreateContainer', { podSandboxId, config: containerConfig('app', 'redis:7'), sandboxConfig: sandboxConfig('noimg', 'u-noimg') }));
    expect([err.code, err.details]).toEqual([
      GrpcStatus.NOT_FOUND,
      'failed to check if this is a checkpoint image: failed to resolve image "redis:7": not found',
    ]);
    await cri.runtime('RemovePodSandbox', { podSandboxId });
  });

  // containerd answers these with plain Go errors, which gRPC delivers as
  // UNKNOWN; it has no InvalidArgument/AlreadyExists/FailedPrecondition here.
  it('starting a container twice fails: UNKNOWN "container is in CONTAINER_RUNNING state"', async () => {
    const { podSandboxId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig('twice', 'u-twice') });
    await cri.image('PullImage', { image: { image: 'nginx' } });
    const { containerId } = await cri.runtime('CreateContainer', { podSandboxId, config: containerConfig('web', 'nginx'), sandboxConfig: sandboxConfig('twice', 'u-twice') });
    await cri.runtime('StartContainer', { containerId });
    const err = await callError(cri.runtime('StartContainer', { containerId }));
    expect([err.code, err.details]).toEqual([
      GrpcStatus.UNKNOWN,
      `failed to set starting state for container "${containerId}": container is in CONTAINER_RUNNING state`,
    ]);
    await cri.runtime('RemovePodSandbox', { podSandboxId });
  });

  it.each([
    ['no config', {}],
    ['a config without metadata', { config: { hostname: 'x' } }],
  ])('RunPodSandbox with %s: UNKNOWN "sandbox config must include metadata"', async (_n, req) => {
    const err = await callError(cri.runtime('RunPodSandbox', req));
    expect([err.code, err.details]).toEqual([GrpcStatus.UNKNOWN, 'sandbox config must include metadata']);
  });

  it('CreateContainer without metadata: UNKNOWN', async () => {
    const { podSandboxId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig('nometa', 'u-nometa') });
    const err = await callError(cri.runtime('CreateContainer', { podSandboxId, config: { image: { image: 'nginx' } } }));
    expect([err.code, err.details]).toEqual([GrpcStatus.UNKNOWN, 'container config must include metadata']);
    await cri.runtime('RemovePodSandbox', { podSandboxId });
  });

  it('a second sandbox with the same name and attempt is refused while the first exists: UNKNOWN', async () => {
    const { podSandboxId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig('dup', 'u-dup') });
    const err = await callError(cri.runtime('RunPodSandbox', { config: sandboxConfig('dup', 'u-dup') }));
    expect([err.code, err.details]).toEqual([
      GrpcStatus.UNKNOWN,
      `failed to reserve sandbox name "dup_default_u-dup_0": name "dup_default_u-dup_0" is reserved for "${podSandboxId}"`,
    ]);
    await cri.runtime('RemovePodSandbox', { podSandboxId });
  });

  it('a CRI method we do not serve is UNIMPLEMENTED, and undecodable bytes do not bring the process down', async () => {
    const raw = new grpc.Client(`unix:${sock}`, grpc.credentials.createInsecure());
    const call = (path: string, body: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        raw.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, (err) => resolve(err));
      });
    expect((await call('/runtime.v1.RuntimeService/ExecSync', Buffer.alloc(0)))?.code).toBe(GrpcStatus.UNIMPLEMENTED);
    expect((await call('/runtime.v1.RuntimeService/RunPodSandbox', Buffer.from([0x0a, 0xff, 0xff, 0xff])))?.code).toBe(GrpcStatus.INTERNAL);
    raw.close();
    expect((await cri.runtime('Version', {})).runtimeName).toBe('containerd');
  });
});
