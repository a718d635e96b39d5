import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../shared/src/index.js';
import { startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { callError, containerConfig, criClient, sandboxConfig, type CriClient } from './cri-client.js';

// The spans the runtime process exports, as an OTLP receiver sees them: the
// otelgrpc SERVER span of containerd 2.1 per CRI call, child of the caller's
// traceparent, with containerd's CRI attributes and log-line events.

const UID = '0b4e6a52-1111-4222-8333-444455556666';
let dir: string;
let receiver: OtlpReceiver;
let proc: RunningProcess;
let cri: CriClient;

beforeAll(async () => {
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'rt-trace-'));
  const sock = join(dir, 'containerd.sock');
  proc = startProcess(['runtime', '--address', sock, '--timing', 'fast'], {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${receiver.endpoint}`,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_SERVICE_NAME: '',
      OTEL_RESOURCE_ATTRIBUTES: '',
      OTEL_SDK_DISABLED: '',
      OTEL_TRACES_SAMPLER: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_PROTOCOL: '',
    },
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

/** A caller span of our own: traceparent in the gRPC metadata, as kubelet's otelgrpc client sends it. */
function caller(): { traceId: string; spanId: string; md: Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const md = new Metadata();
  md.set('traceparent', `00-${traceId}-${spanId}-01`);
  return { traceId, spanId, md };
}

async function serverSpan(traceId: string, name: string): Promise<ReceivedSpan> {
  const spans = await receiver.waitForSpans((all) => all.some((s) => s.traceId === traceId && s.name === name), 10_000);
  const matching = spans.filter((s) => s.traceId === traceId);
  expect(matching).toHaveLength(1);
  return matching[0] as ReceivedSpan;
}

const RESOURCE = {
  'service.name': 'containerd',
  'telemetry.sdk.language': 'go',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': '1.35.0',
};
const SCOPE = { name: 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc', version: '0.60.0' };

function expectServerSpanOf(span: ReceivedSpan, parent: { traceId: string; spanId: string }, name: string): void {
  const [service, method] = name.split('/') as [string, string];
  expect(span.traceId).toBe(parent.traceId);
  expect(span.parentSpanId).toBe(parent.spanId);
  expect(span.name).toBe(name);
  expect(span.kind).toBe(2);
  expect(span.resource).toEqual(RESOURCE);
  expect(span.scope).toEqual(SCOPE);
  expect(span.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method });
  for (const key of Object.keys(span.attributes)) expect(key).not.toMatch(/^(net\.|server\.|client\.)/);
  expect(span.endTimeUnixNano).toBeGreaterThan(span.startTimeUnixNano);
}

describe('containerd server spans', () => {
  let sandboxId = '';
  let containerId = '';
  let imageId = '';

  it('RunPodSandbox', async () => {
    const c = caller();
    sandboxId = (await cri.runtime('RunPodSandbox', { config: sandboxConfig('nginx', UID) }, c.md)).podSandboxId;
    const span = await serverSpan(c.traceId, 'runtime.v1.RuntimeService/RunPodSandbox');
    expectServerSpanOf(span, c, 'runtime.v1.RuntimeService/RunPodSandbox');
    expect(span.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'runtime.v1.RuntimeService',
      'rpc.method': 'RunPodSandbox',
      'sandbox.id': sandboxId,
      'sandbox.name': `nginx_default_${UID}_0`,
      'rpc.grpc.status_code': 0,
    });
    const meta = `&PodSandboxMetadata{Name:nginx,Uid:${UID},Namespace:default,Attempt:0,}`;
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([
      [`RunPodSandbox for ${meta}`, { level: 'info' }],
      ['setup pod network', {}],
      [`RunPodSandbox for ${meta} returns sandbox id "${sandboxId}"`, { level: 'info' }],
    ]);
    expect(span.status).toEqual({ code: 0, message: '' });
  });

  it('PullImage', async () => {
    const c = caller();
    imageId = (await cri.image('PullImage', { image: { image: 'nginx' } }, c.md)).imageRef;
    const span = await serverSpan(c.traceId, 'runtime.v1.ImageService/PullImage');
    expectServerSpanOf(span, c, 'runtime.v1.ImageService/PullImage');
    expect(span.attributes).toMatchObject({
      'rpc.service': 'runtime.v1.ImageService',
      'rpc.method': 'PullImage',
      'image.ref': 'docker.io/library/nginx:latest',
      'snapshotter.name': 'overlayfs',
      'rpc.grpc.status_code': 0,
    });
    const names = span.events.map((e) => e.name);
    expect(names).toHaveLength(5);
    expect(names[0]).toBe('PullImage "nginx"');
    expect(names[1]).toBe('stop pulling image docker.io/library/nginx:latest: active requests=0, bytes read=72195292');
    expect(names[2]).toBe('Pull and unpack image complete');
    expect(names[3]).toMatch(
      new RegExp(
        `^Pulled image "nginx" with image id "${imageId}", repo tag "docker\\.io/library/nginx:latest", ` +
          `repo digest "docker\\.io/library/nginx@sha256:[0-9a-f]{64}", size "72195292" in [0-9.]+(ms|µs|s)$`,
      ),
    );
    expect(names[4]).toBe(`PullImage "nginx" returns image reference "${imageId}"`);
    expect(span.status.code).toBe(0);
  });

  it('CreateContainer', async () => {
    const c = caller();
    containerId = (
      await cri.runtime(
        'CreateContainer',
        { podSandboxId: sandboxId, config: containerConfig('nginx', imageId), sandboxConfig: sandboxConfig('nginx', UID) },
        c.md,
      )
    ).containerId;
    const span = await serverSpan(c.traceId, 'runtime.v1.RuntimeService/CreateContainer');
    expectServerSpanOf(span, c, 'runtime.v1.RuntimeService/CreateContainer');
    expect(span.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'runtime.v1.RuntimeService',
      'rpc.method': 'CreateContainer',
      'sandbox.id': sandboxId,
      'sandbox.pid': expect.stringMatching(/^\d+$/),
      'container.id': containerId,
      'container.name': `nginx_nginx_default_${UID}_0`,
      'container.image.ref': 'docker.io/library/nginx:latest',
      'rpc.grpc.status_code': 0,
    });
    const cm = '&ContainerMetadata{Name:nginx,Attempt:0,}';
    expect(span.events.map((e) => e.name)).toEqual([
      `CreateContainer within sandbox "${sandboxId}" for container ${cm}`,
      'container created',
      `CreateContainer within sandbox "${sandboxId}" for ${cm} returns container id "${containerId}"`,
    ]);
    expect(span.events[1]?.attributes['container.create.duration']).toMatch(/^\d+(\.\d+)?(ns|µs|ms|s)$/);
    expect(span.status.code).toBe(0);
  });

  it('StartContainer', async () => {
    const c = caller();
    await cri.runtime('StartContainer', { containerId }, c.md);
    const span = await serverSpan(c.traceId, 'runtime.v1.RuntimeService/StartContainer');
    expectServerSpanOf(span, c, 'runtime.v1.RuntimeService/StartContainer');
    expect(span.attributes).toEqual({
      'rpc.system': 'grpc',
      'rpc.service': 'runtime.v1.RuntimeService',
      'rpc.method': 'StartContainer',
      'container.id': containerId,
      'sandbox.id': sandboxId,
      'rpc.grpc.status_code': 0,
    });
    expect(span.events.map((e) => e.name)).toEqual([
      `StartContainer for "${containerId}"`,
      'container started',
      `StartContainer for "${containerId}" returns successfully`,
    ]);
    expect(span.events[1]?.attributes['container.start.duration']).toMatch(/^\d+(\.\d+)?(µs|ms|s)$/);
    // Events lie inside the span, in order.
    const times = span.events.map((e) => e.timeUnixNano);
    expect([...times].sort((a, b) => (a < b ? -1 : 1))).toEqual(times);
    expect(times[0]).toBeGreaterThanOrEqual(span.startTimeUnixNano);
    expect(times.at(-1)).toBeLessThanOrEqual(span.endTimeUnixNano);
  });

  it('an unknown container: NOT_FOUND leaves the status Unset, with exception and error-log events', async () => {
    const c = caller();
    const missing = '0123456789abcdef'.repeat(4);
    const err = await callError(cri.runtime('StartContainer', { containerId: missing }, c.md));
    expect(err.code).toBe(GrpcStatus.NOT_FOUND);
    const span = await serverSpan(c.traceId, 'runtime.v1.RuntimeService/StartContainer');
    expectServerSpanOf(span, c, 'runtime.v1.RuntimeService/StartContainer');
    expect(span.attributes['rpc.grpc.status_code']).toBe(5);
    expect(span.status).toEqual({ code: 0, message: '' });
    const text = `rpc error: code = NotFound desc = an error occurred when try to find container "${missing}": not found`;
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([
      [`StartContainer for "${missing}"`, { level: 'info' }],
      [`StartContainer for "${missing}" failed`, { error: '{}', level: 'error' }],
      ['exception', { 'exception.type': '*status.Error', 'exception.message': text }],
    ]);
  });

  it('a server-side fault (UNKNOWN) marks the span Error', async () => {
    const c = caller();
    await callError(cri.runtime('RunPodSandbox', {}, c.md));
    const span = await serverSpan(c.traceId, 'runtime.v1.RuntimeService/RunPodSandbox');
    expect(span.attributes['rpc.grpc.status_code']).toBe(2);
    expect(span.status).toEqual({ code: 2, message: 'sandbox config must include metadata' });
    expect(span.events.at(-1)).toMatchObject({
      name: 'exception',
      attributes: { 'exception.type': '*errors.errorString', 'exception.message': 'sandbox config must include metadata' },
    });
  });

  it('a call without traceparent is a root span (ParentBased(AlwaysOn) samples it)', async () => {
    receiver.clear();
    await cri.runtime('ListContainers', {});
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.name === 'runtime.v1.RuntimeService/ListContainers'), 10_000);
    const span = spans.find((s) => s.name === 'runtime.v1.RuntimeService/ListContainers') as ReceivedSpan;
    expect(span.parentSpanId).toBe('');
    // List calls log at trace level: no events at the default info level.
    expect(span.events).toEqual([]);
  });
});
