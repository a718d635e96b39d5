import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { OTELGRPC_SCOPE, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../shared/src/index.js';
import { startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { callError, containerConfig, criClient, eventually, sandboxConfig, type CriClient } from './cri-client.js';

// The spans `runtime --containerd-version 1.7.1` exports, configured as the
// k3d tutorial configures containerd: the otlp and tracing plugin sections of
// config.toml. containerd 1.7.1 serves CRI through otelgrpc v0.40.0
// interceptors (message events with type and id, Error for any error code)
// and wraps only the image RPCs in INTERNAL pkg.cri.server.<Method> spans.

const UID = '7d1c2b3a-1111-4222-8333-444455556666';
const RESOURCE = { 'host.name': hostname(), 'service.name': 'containerd-k3d' };
const SCOPE = { name: OTELGRPC_SCOPE, version: 'semver:0.40.0' };

let dir: string;
let receiver: OtlpReceiver;
let proc: RunningProcess;
let cri: CriClient;

beforeAll(async () => {
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'rt-trace17-'));
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      '[plugins."io.containerd.tracing.processor.v1.otlp"]',
      `  endpoint = "${receiver.endpoint}"`,
      '  protocol = "grpc"',
      '  insecure = true',
      '[plugins."io.containerd.internal.v1.tracing"]',
      '  sampling_ratio = 1.0',
      '  service_name = "containerd-k3d"',
      '',
    ].join('\n'),
  );
  const sock = join(dir, 'containerd.sock');
  proc = startProcess(['runtime', '--containerd-version', '1.7.1', '--config', config, '--address', sock, '--timing', 'fast'], {
    // 1.7.1 reads none of these: they must change nothing.
    env: { OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: 'from-env', OTEL_TRACES_SAMPLER: 'always_off', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_RESOURCE_ATTRIBUTES: '' },
  });
  await waitForListen({ path: sock });
  cri = criClient(sock);
});

afterAll(async () => {
  cri?.close();
  await proc?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

function caller(flags = '01'): { traceId: string; spanId: string; md: Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const md = new Metadata();
  md.set('traceparent', `00-${traceId}-${spanId}-${flags}`);
  return { traceId, spanId, md };
}

async function spansOf(traceId: string, names: string[]): Promise<ReceivedSpan[]> {
  const all = await receiver.waitForSpans((s) => names.every((n) => s.some((x) => x.traceId === traceId && x.name === n)), 10_000);
  const mine = all.filter((s) => s.traceId === traceId);
  expect(mine.map((s) => s.name).sort()).toEqual([...names].sort());
  return mine;
}

const byName = (spans: ReceivedSpan[], name: string): ReceivedSpan => spans.find((s) => s.name === name) as ReceivedSpan;
const events = (s: ReceivedSpan): [string, unknown][] => s.events.map((e) => [e.name, e.attributes]);
const RECEIVED = ['message', { 'message.type': 'RECEIVED', 'message.id': 1 }] as const;
const SENT = ['message', { 'message.type': 'SENT', 'message.id': 1 }] as const;

function expectServerSpan(span: ReceivedSpan, parent: { traceId: string; spanId: string }, name: string, code = 0): void {
  const [service, method] = name.split('/') as [string, string];
  expect({ name: span.name, kind: span.kind, parent: span.parentSpanId, resource: span.resource, scope: span.scope, links: span.links }).toEqual({
    name,
    kind: 2,
    parent: parent.spanId,
    resource: RESOURCE,
    scope: SCOPE,
    links: [],
  });
  // Over a unix socket otelgrpc finds no host:port: no peer keys. No CRI attributes in 1.7.
  expect(span.attributes).toEqual({ 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method, 'rpc.grpc.status_code': code });
  expect(span.endTimeUnixNano).toBeGreaterThan(span.startTimeUnixNano);
}

function expectInternalSpan(span: ReceivedSpan, server: ReceivedSpan, method: string): void {
  expect({ name: span.name, kind: span.kind, traceId: span.traceId, parent: span.parentSpanId, resource: span.resource, scope: span.scope }).toEqual({
    name: `pkg.cri.server.${method}`,
    kind: 1,
    traceId: server.traceId,
    parent: server.spanId,
    resource: RESOURCE,
    // tracing.StartSpan uses otel.Tracer(""): no scope name, no version.
    scope: { name: '', version: '' },
  });
  expect(span.startTimeUnixNano).toBeGreaterThanOrEqual(server.startTimeUnixNano);
  expect(span.endTimeUnixNano).toBeLessThanOrEqual(server.endTimeUnixNano);
}

describe('containerd 1.7.1 spans', () => {
  let sandboxId = '';
  let containerId = '';
  let imageId = '';

  it('RunPodSandbox: the otelgrpc span only, with message events and log-line events, no sandbox attributes', async () => {
    const c = caller();
    sandboxId = (await cri.runtime('RunPodSandbox', { config: sandboxConfig('nginx', UID) }, c.md)).podSandboxId;
    const [span] = await spansOf(c.traceId, ['runtime.v1.RuntimeService/RunPodSandbox']);
    expectServerSpan(span as ReceivedSpan, c, 'runtime.v1.RuntimeService/RunPodSandbox');
    const meta = `&PodSandboxMetadata{Name:nginx,Uid:${UID},Namespace:default,Attempt:0,}`;
    expect(events(span as ReceivedSpan)).toEqual([
      RECEIVED,
      [`RunPodSandbox for ${meta}`, { level: 'info' }],
      [`RunPodSandbox for ${meta} returns sandbox id "${sandboxId}"`, { level: 'info' }],
      SENT,
    ]);
    expect(span?.status).toEqual({ code: 0, message: '' });
  });

  it('PullImage: a pkg.cri.server.PullImage child carries the image attributes, the log lines and status Ok', async () => {
    const c = caller();
    imageId = (await cri.image('PullImage', { image: { image: 'nginx' } }, c.md)).imageRef;
    const spans = await spansOf(c.traceId, ['runtime.v1.ImageService/PullImage', 'pkg.cri.server.PullImage']);
    const server = byName(spans, 'runtime.v1.ImageService/PullImage');
    const internal = byName(spans, 'pkg.cri.server.PullImage');
    expectServerSpan(server, c, 'runtime.v1.ImageService/PullImage');
    expect(events(server)).toEqual([RECEIVED, SENT]);
    expectInternalSpan(internal, server, 'PullImage');
    expect(internal.attributes).toEqual({ 'image.ref': 'docker.io/library/nginx:latest', 'snapshotter.name': 'overlayfs' });
    const names = internal.events.map((e) => e.name);
    expect(names[0]).toBe('PullImage "nginx"');
    expect(names[1]).toMatch(/^stop pulling image docker\.io\/library\/nginx:latest: active requests=0, bytes read=\d+$/);
    expect(names[2]).toBe('Pull and unpack image complete');
    expect(names[3]).toMatch(/^Pulled image "nginx" with image id "sha256:[0-9a-f]{64}", repo tag "docker\.io\/library\/nginx:latest", /);
    expect(names[4]).toBe(`PullImage "nginx" returns image reference "${imageId}"`);
    expect(names).toHaveLength(5);
    // The only span status containerd ever sets to Ok.
    expect(internal.status).toEqual({ code: 1, message: '' });
    expect(server.status).toEqual({ code: 0, message: '' });
  });

  it('ImageStatus: image.id when found, a "not found" event when not, on the internal span', async () => {
    const found = caller();
    await cri.image('ImageStatus', { image: { image: 'nginx' } }, found.md);
    const missing = caller();
    await cri.image('ImageStatus', { image: { image: 'busybox' } }, missing.md);
    const names = ['runtime.v1.ImageService/ImageStatus', 'pkg.cri.server.ImageStatus'];
    const a = await spansOf(found.traceId, names);
    const b = await spansOf(missing.traceId, names);
    expectInternalSpan(byName(a, names[1] as string), byName(a, names[0] as string), 'ImageStatus');
    expect([byName(a, names[1] as string).attributes, events(byName(a, names[1] as string))]).toEqual([{ 'image.id': imageId }, []]);
    expect([byName(b, names[1] as string).attributes, events(byName(b, names[1] as string))]).toEqual([{}, [['not found', {}]]]);
    expect(byName(b, names[1] as string).status.code).toBe(1);
  });

  it('ListImages and ImageFsInfo get internal spans too; ListContainers does not', async () => {
    const c = caller();
    await cri.image('ListImages', {}, c.md);
    await cri.image('ImageFsInfo', {}, c.md);
    await cri.runtime('ListContainers', {}, c.md);
    const spans = await spansOf(c.traceId, [
      'runtime.v1.ImageService/ListImages',
      'pkg.cri.server.ListImages',
      'runtime.v1.ImageService/ImageFsInfo',
      'pkg.cri.server.ImageFsInfo',
      'runtime.v1.RuntimeService/ListContainers',
    ]);
    expectInternalSpan(byName(spans, 'pkg.cri.server.ListImages'), byName(spans, 'runtime.v1.ImageService/ListImages'), 'ListImages');
    expectInternalSpan(byName(spans, 'pkg.cri.server.ImageFsInfo'), byName(spans, 'runtime.v1.ImageService/ImageFsInfo'), 'ImageFsInfo');
    expect(byName(spans, 'pkg.cri.server.ListImages').status.code).toBe(1);
  });

  it('CreateContainer and StartContainer: log lines only, no container attributes or duration events', async () => {
    const c = caller();
    containerId = (
      await cri.runtime('CreateContainer', { podSandboxId: sandboxId, config: containerConfig('nginx', imageId), sandboxConfig: sandboxConfig('nginx', UID) }, c.md)
    ).containerId;
    await cri.runtime('StartContainer', { containerId }, c.md);
    const spans = await spansOf(c.traceId, ['runtime.v1.RuntimeService/CreateContainer', 'runtime.v1.RuntimeService/StartContainer']);
    const create = byName(spans, 'runtime.v1.RuntimeService/CreateContainer');
    const start = byName(spans, 'runtime.v1.RuntimeService/StartContainer');
    expectServerSpan(create, c, 'runtime.v1.RuntimeService/CreateContainer');
    expectServerSpan(start, c, 'runtime.v1.RuntimeService/StartContainer');
    const cm = '&ContainerMetadata{Name:nginx,Attempt:0,}';
    expect(create.events.map((e) => e.name)).toEqual([
      'message',
      `CreateContainer within sandbox "${sandboxId}" for container ${cm}`,
      `CreateContainer within sandbox "${sandboxId}" for ${cm} returns container id "${containerId}"`,
      'message',
    ]);
    expect(start.events.map((e) => e.name)).toEqual(['message', `StartContainer for "${containerId}"`, `StartContainer for "${containerId}" returns successfully`, 'message']);
  });

  it('an unknown container: NOT_FOUND marks the server span Error, with no exception event', async () => {
    const c = caller();
    const missing = '0123456789abcdef'.repeat(4);
    const err = await callError(cri.runtime('StartContainer', { containerId: missing }, c.md));
    expect(err.code).toBe(GrpcStatus.NOT_FOUND);
    const [span] = await spansOf(c.traceId, ['runtime.v1.RuntimeService/StartContainer']);
    expectServerSpan(span as ReceivedSpan, c, 'runtime.v1.RuntimeService/StartContainer', 5);
    expect(span?.status).toEqual({ code: 2, message: `an error occurred when try to find container "${missing}": not found` });
    expect(events(span as ReceivedSpan).filter(([name]) => name !== 'message')).toEqual([
      [`StartContainer for "${missing}"`, { level: 'info' }],
      [`StartContainer for "${missing}" failed`, { error: '{}', level: 'error' }],
    ]);
    expect(span?.events[0]?.attributes).toEqual({ 'message.type': 'RECEIVED', 'message.id': 1 });
  });

  it('a failed pull: the internal span ends Error with the exception, the server span Error', async () => {
    const c = caller();
    const err = await callError(cri.image('PullImage', { image: { image: 'Not/A:Valid:Ref' } }, c.md));
    expect(err.code).toBe(GrpcStatus.UNKNOWN);
    const spans = await spansOf(c.traceId, ['runtime.v1.ImageService/PullImage', 'pkg.cri.server.PullImage']);
    const internal = byName(spans, 'pkg.cri.server.PullImage');
    expect(internal.status).toEqual({ code: 2, message: err.details });
    expect(events(internal).at(-1)).toEqual(['exception', { 'exception.type': '*fmt.wrapError', 'exception.message': err.details }]);
    expect(events(internal).map(([n]) => n)).toEqual(['PullImage "Not/A:Valid:Ref"', 'PullImage "Not/A:Valid:Ref" failed', 'exception']);
    expect(byName(spans, 'runtime.v1.ImageService/PullImage').status).toEqual({ code: 2, message: err.details });
  });

  it('RemovePodSandbox: "Forcibly stopping sandbox" goes to the log, not the span', async () => {
    const c = caller();
    await cri.runtime('RemovePodSandbox', { podSandboxId: sandboxId }, c.md);
    const [span] = await spansOf(c.traceId, ['runtime.v1.RuntimeService/RemovePodSandbox']);
    const names = (span as ReceivedSpan).events.map((e) => e.name);
    expect(names).toContain(`TearDown network for sandbox "${sandboxId}" successfully`);
    expect(names).not.toContain(`Forcibly stopping sandbox "${sandboxId}"`);
    // No 2.x CRI events either.
    expect(names.filter((n) => /stopping containers|container stopped|container removed|pod sandbox removed|network teardown/.test(n))).toEqual([]);
    await eventually(async () => (proc.output().includes(`msg="Forcibly stopping sandbox \\"${sandboxId}\\""`) ? true : undefined));
  });

  it('samples ParentBased(TraceIDRatioBased(1.0)): roots yes, unsampled parents no; OTEL_TRACES_SAMPLER is not read', async () => {
    receiver.clear();
    const unsampled = caller('00');
    await cri.runtime('Version', {}, unsampled.md);
    const version = await cri.runtime('Version', {});
    expect(version.runtimeVersion).toBe('v1.7.1');
    const all = await receiver.waitForSpans((s) => s.some((x) => x.name === 'runtime.v1.RuntimeService/Version'), 10_000);
    const root = all.find((s) => s.name === 'runtime.v1.RuntimeService/Version') as ReceivedSpan;
    expect(root.parentSpanId).toBe('');
    expect(receiver.trace(unsampled.traceId)).toEqual([]);
  });
});
